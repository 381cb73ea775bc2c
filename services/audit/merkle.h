// The access log's Merkle tree, as Certificate Transparency defines it (RFC 6962 section 2.1,
// verification as RFC 9162 section 2.1.3.2 and 2.1.4.2 spell it out): a leaf's hash is
// SHA-256(0x00 || entry), an inner node's SHA-256(0x01 || left || right), and a tree of n
// leaves splits at the largest power of two below n. Inclusion proofs show that an entry is
// in the tree a signed root stands for; consistency proofs that a later tree extends an
// earlier one, i.e. that nothing logged was changed or removed.
//
// The verifiers need nothing but the proof, the sizes and the roots: they are what a
// customer's browser, an auditor's tool or cdpctl run.
#ifndef CDP_SERVICES_AUDIT_MERKLE_H_
#define CDP_SERVICES_AUDIT_MERKLE_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdp::audit {

using Hash = std::array<uint8_t, 32>;

Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of nothing.
Hash EmptyRoot();
std::string HashHex(const Hash& h);
// A hash as its 32 raw bytes (as proofs and tree heads carry it), and back. A string of
// another length gives the all-zero hash, which no proof verifies.
std::string HashBytes(const Hash& h);
Hash HashFromBytes(std::string_view bytes);

// The tree over leaf hashes appended in order. Keeps every complete subtree's hash (about
// two hashes a leaf), so roots and proofs for any earlier size take O(log n) hashes.
// Not thread-safe; copyable.
class MerkleTree {
 public:
  void Append(const Hash& leaf_hash);
  int64_t size() const { return levels_.empty() ? 0 : static_cast<int64_t>(levels_[0].size()); }
  const Hash& leaf(int64_t index) const { return levels_[0][static_cast<size_t>(index)]; }

  // The root of the first `tree_size` leaves; InvalidArgument beyond size().
  absl::StatusOr<Hash> Root(int64_t tree_size) const;
  // The audit path of leaf `index` in the tree of the first `tree_size` leaves, from the
  // leaf upwards. InvalidArgument unless index < tree_size <= size().
  absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t index, int64_t tree_size) const;
  // The proof that the tree of `second` leaves extends the tree of `first`. Empty when
  // first == second. InvalidArgument unless 0 < first <= second <= size().
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t first, int64_t second) const;

 private:
  // MTH of leaves [lo, hi), hi > lo, hi <= size().
  Hash Subtree(int64_t lo, int64_t hi) const;
  void Path(int64_t index, int64_t lo, int64_t hi, std::vector<Hash>& out) const;
  void SubProof(int64_t m, int64_t lo, int64_t hi, bool whole, std::vector<Hash>& out) const;

  // levels_[k][i]: the hash of the complete subtree over leaves [i * 2^k, (i + 1) * 2^k).
  std::vector<std::vector<Hash>> levels_;
};

// Whether `proof` shows the leaf with hash `leaf_hash` at `index` in the tree of
// `tree_size` leaves whose root is `root`.
bool VerifyInclusion(const Hash& leaf_hash, int64_t index, int64_t tree_size,
                     const std::vector<Hash>& proof, const Hash& root);
// Whether `proof` shows that the tree of `second` leaves with root `second_root` extends
// the tree of `first` leaves with root `first_root`.
bool VerifyConsistency(int64_t first, int64_t second, const Hash& first_root, const Hash& second_root,
                       const std::vector<Hash>& proof);

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_MERKLE_H_
