#include "services/audit/merkle.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cdp::audit {
namespace {

// The largest power of two below n (n > 1).
int64_t SplitPoint(int64_t n) {
  int64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

bool PowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

int Log2(int64_t n) {
  int k = 0;
  while ((int64_t{1} << k) < n) ++k;
  return k;
}

// SHA-256 over the concatenation of `parts`. The digest is fetched from OpenSSL's provider
// once and each thread keeps its context: OpenSSL's one-shot SHA256() fetches it anew on
// every call, under a lock, which cost more than the hashing itself when a log is verified.
template <size_t N>
Hash Sha256(const std::array<std::string_view, N>& parts) {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  Hash out;
  unsigned int size = 0;
  bool ok = md != nullptr && ctx != nullptr && EVP_DigestInit_ex(ctx.get(), md, nullptr) == 1;
  for (std::string_view p : parts) ok = ok && EVP_DigestUpdate(ctx.get(), p.data(), p.size()) == 1;
  ok = ok && EVP_DigestFinal_ex(ctx.get(), out.data(), &size) == 1 && size == out.size();
  // Without SHA-256 no hash in the log can be trusted or made: stop rather than go on.
  if (!ok) {
    std::fprintf(stderr, "fatal: OpenSSL's SHA-256 failed\n");
    std::abort();
  }
  return out;
}

std::string_view View(const Hash& h) { return {reinterpret_cast<const char*>(h.data()), h.size()}; }

}  // namespace

Hash LeafHash(std::string_view entry) {
  static constexpr char kLeaf[1] = {'\x00'};
  return Sha256<2>({std::string_view(kLeaf, 1), entry});
}

Hash NodeHash(const Hash& left, const Hash& right) {
  static constexpr char kNode[1] = {'\x01'};
  return Sha256<3>({std::string_view(kNode, 1), View(left), View(right)});
}

Hash EmptyRoot() { return Sha256<0>({}); }

std::string HashHex(const Hash& h) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

std::string HashBytes(const Hash& h) { return std::string(reinterpret_cast<const char*>(h.data()), h.size()); }

Hash HashFromBytes(std::string_view bytes) {
  Hash h{};
  if (bytes.size() == h.size()) std::copy(bytes.begin(), bytes.end(), h.begin());
  return h;
}

void MerkleTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Every subtree the new leaf completes.
  for (size_t k = 0; levels_[k].size() % 2 == 0; ++k) {
    if (levels_.size() == k + 1) levels_.emplace_back();
    const size_t n = levels_[k].size();
    levels_[k + 1].push_back(NodeHash(levels_[k][n - 2], levels_[k][n - 1]));
  }
}

Hash MerkleTree::Subtree(int64_t lo, int64_t hi) const {
  const int64_t n = hi - lo;
  if (PowerOfTwo(n) && lo % n == 0) return levels_[static_cast<size_t>(Log2(n))][static_cast<size_t>(lo / n)];
  const int64_t k = SplitPoint(n);
  return NodeHash(Subtree(lo, lo + k), Subtree(lo + k, hi));
}

absl::StatusOr<Hash> MerkleTree::Root(int64_t tree_size) const {
  if (tree_size < 0 || tree_size > size()) {
    return absl::InvalidArgumentError(absl::StrCat("tree_size: ", tree_size, " is not in 0..", size()));
  }
  return tree_size == 0 ? EmptyRoot() : Subtree(0, tree_size);
}

// RFC 6962 PATH(m, D[lo:hi]).
void MerkleTree::Path(int64_t index, int64_t lo, int64_t hi, std::vector<Hash>& out) const {
  const int64_t n = hi - lo;
  if (n == 1) return;
  const int64_t k = SplitPoint(n);
  if (index < k) {
    Path(index, lo, lo + k, out);
    out.push_back(Subtree(lo + k, hi));
  } else {
    Path(index - k, lo + k, hi, out);
    out.push_back(Subtree(lo, lo + k));
  }
}

absl::StatusOr<std::vector<Hash>> MerkleTree::InclusionProof(int64_t index, int64_t tree_size) const {
  if (tree_size <= 0 || tree_size > size()) {
    return absl::InvalidArgumentError(absl::StrCat("tree_size: ", tree_size, " is not in 1..", size()));
  }
  if (index < 0 || index >= tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("position: ", index, " is not in 0..", tree_size - 1));
  }
  std::vector<Hash> out;
  Path(index, 0, tree_size, out);
  return out;
}

// RFC 6962 SUBPROOF(m, D[lo:hi], b).
void MerkleTree::SubProof(int64_t m, int64_t lo, int64_t hi, bool whole, std::vector<Hash>& out) const {
  const int64_t n = hi - lo;
  if (m == n) {
    if (!whole) out.push_back(Subtree(lo, hi));
    return;
  }
  const int64_t k = SplitPoint(n);
  if (m <= k) {
    SubProof(m, lo, lo + k, whole, out);
    out.push_back(Subtree(lo + k, hi));
  } else {
    SubProof(m - k, lo + k, hi, false, out);
    out.push_back(Subtree(lo, lo + k));
  }
}

absl::StatusOr<std::vector<Hash>> MerkleTree::ConsistencyProof(int64_t first, int64_t second) const {
  if (second <= 0 || second > size()) {
    return absl::InvalidArgumentError(absl::StrCat("second_size: ", second, " is not in 1..", size()));
  }
  if (first <= 0 || first > second) {
    return absl::InvalidArgumentError(absl::StrCat("first_size: ", first, " is not in 1..", second));
  }
  std::vector<Hash> out;
  if (first < second) SubProof(first, 0, second, true, out);
  return out;
}

bool VerifyInclusion(const Hash& leaf_hash, int64_t index, int64_t tree_size,
                     const std::vector<Hash>& proof, const Hash& root) {
  if (index < 0 || index >= tree_size) return false;
  int64_t fn = index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(int64_t first, int64_t second, const Hash& first_root, const Hash& second_root,
                       const std::vector<Hash>& proof) {
  if (first <= 0 || first > second) return false;
  if (first == second) return proof.empty() && first_root == second_root;
  if (proof.empty()) return false;
  std::vector<Hash> path = proof;
  // A first tree that is a complete subtree is its own first node.
  if (PowerOfTwo(first)) path.insert(path.begin(), first_root);
  int64_t fn = first - 1, sn = second - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

}  // namespace cdp::audit
