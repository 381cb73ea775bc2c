// The Merkle tree against a naive implementation written straight from RFC 6962's
// definitions (recursion over the leaf list, nothing kept), and the verifiers against
// proofs that were tampered with.
#include "services/audit/merkle.h"

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cdp::audit {
namespace {

// RFC 6962 2.1: MTH, PATH and PROOF as written there.
struct Naive {
  std::vector<Hash> leaves;

  static int64_t K(int64_t n) {
    int64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }
  Hash Mth(int64_t lo, int64_t hi) const {
    if (hi - lo == 0) return EmptyRoot();
    if (hi - lo == 1) return leaves[static_cast<size_t>(lo)];
    const int64_t k = K(hi - lo);
    return NodeHash(Mth(lo, lo + k), Mth(lo + k, hi));
  }
  std::vector<Hash> PathOf(int64_t m, int64_t lo, int64_t hi) const {
    if (hi - lo <= 1) return {};
    const int64_t k = K(hi - lo);
    std::vector<Hash> out;
    if (m < k) {
      out = PathOf(m, lo, lo + k);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = PathOf(m - k, lo + k, hi);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }
  std::vector<Hash> SubProof(int64_t m, int64_t lo, int64_t hi, bool b) const {
    const int64_t n = hi - lo;
    if (m == n) return b ? std::vector<Hash>{} : std::vector<Hash>{Mth(lo, hi)};
    const int64_t k = K(n);
    std::vector<Hash> out;
    if (m <= k) {
      out = SubProof(m, lo, lo + k, b);
      out.push_back(Mth(lo + k, hi));
    } else {
      out = SubProof(m - k, lo + k, hi, false);
      out.push_back(Mth(lo, lo + k));
    }
    return out;
  }
};

struct Built {
  MerkleTree tree;
  Naive naive;
};

Built Build(int64_t n) {
  Built b;
  for (int64_t i = 0; i < n; ++i) {
    const Hash leaf = LeafHash(absl::StrCat("event ", i));
    b.tree.Append(leaf);
    b.naive.leaves.push_back(leaf);
  }
  return b;
}

Hash Flip(Hash h, int byte) {
  h[static_cast<size_t>(byte) % h.size()] ^= 0x01;
  return h;
}

TEST(MerkleTreeTest, KnownHashesOfRfc6962) {
  // SHA-256 of nothing, and of a lone 0x00 byte (the empty entry's leaf).
  EXPECT_EQ(HashHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashHex(LeafHash("")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  MerkleTree empty;
  EXPECT_EQ(*empty.Root(0), EmptyRoot());
}

TEST(MerkleTreeTest, RootsAndProofsEqualTheNaiveDefinitionsForEverySmallTree) {
  const Built b = Build(70);
  for (int64_t n = 0; n <= 70; ++n) {
    ASSERT_EQ(*b.tree.Root(n), b.naive.Mth(0, n)) << n;
    for (int64_t m = 0; m < n; ++m) {
      auto proof = b.tree.InclusionProof(m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, b.naive.PathOf(m, 0, n)) << m << " in " << n;
      ASSERT_TRUE(VerifyInclusion(b.naive.leaves[static_cast<size_t>(m)], m, n, *proof, b.naive.Mth(0, n)))
          << m << " in " << n;
    }
    for (int64_t m = 1; m <= n; ++m) {
      auto proof = b.tree.ConsistencyProof(m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, m == n ? std::vector<Hash>{} : b.naive.SubProof(m, 0, n, true)) << m << " to " << n;
      ASSERT_TRUE(VerifyConsistency(m, n, b.naive.Mth(0, m), b.naive.Mth(0, n), *proof)) << m << " to " << n;
    }
  }
}

TEST(MerkleTreeTest, LargerTreesAgreeAtRandomPoints) {
  const Built b = Build(5000);
  std::mt19937_64 rng(20261123);
  for (int i = 0; i < 300; ++i) {
    const int64_t n = std::uniform_int_distribution<int64_t>(1, 5000)(rng);
    const int64_t m = std::uniform_int_distribution<int64_t>(0, n - 1)(rng);
    const Hash root = b.naive.Mth(0, n);
    ASSERT_EQ(*b.tree.Root(n), root);
    ASSERT_EQ(*b.tree.InclusionProof(m, n), b.naive.PathOf(m, 0, n));
    const int64_t first = m + 1;
    ASSERT_EQ(*b.tree.ConsistencyProof(first, n),
              first == n ? std::vector<Hash>{} : b.naive.SubProof(first, 0, n, true));
    ASSERT_TRUE(VerifyConsistency(first, n, b.naive.Mth(0, first), root, *b.tree.ConsistencyProof(first, n)));
  }
}

TEST(MerkleTreeTest, TamperedInclusionProofsFail) {
  const Built b = Build(37);
  for (int64_t n : {1, 2, 5, 16, 37}) {
    const Hash root = *b.tree.Root(n);
    for (int64_t m = 0; m < n; ++m) {
      const Hash leaf = b.tree.leaf(m);
      const std::vector<Hash> proof = *b.tree.InclusionProof(m, n);
      ASSERT_TRUE(VerifyInclusion(leaf, m, n, proof, root));
      EXPECT_FALSE(VerifyInclusion(Flip(leaf, 3), m, n, proof, root));  // another entry
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, proof, Flip(root, 7)));   // another root
      for (size_t i = 0; i < proof.size(); ++i) {
        std::vector<Hash> bad = proof;
        bad[i] = Flip(bad[i], static_cast<int>(i));
        EXPECT_FALSE(VerifyInclusion(leaf, m, n, bad, root)) << m << " in " << n << " hash " << i;
      }
      if (!proof.empty()) {
        std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(VerifyInclusion(leaf, m, n, shorter, root));
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(leaf, m, n, longer, root));
      // The same proof claimed for another position or another size.
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, (m + 1) % n, n, proof, root)) << m << " in " << n;
      }
      // Against the next signed head (its size and its root) the old path fails. (The size
      // alone is not what a proof commits to: the signed head binds size and root.)
      if (n < 37) {
        EXPECT_FALSE(VerifyInclusion(leaf, m, n + 1, proof, *b.tree.Root(n + 1)));
      }
      EXPECT_FALSE(VerifyInclusion(leaf, n, n, proof, root));
      EXPECT_FALSE(VerifyInclusion(leaf, -1, n, proof, root));
    }
  }
}

TEST(MerkleTreeTest, TamperedConsistencyProofsFail) {
  const Built b = Build(40);
  for (int64_t second : {2, 7, 8, 9, 31, 40}) {
    for (int64_t first = 1; first < second; ++first) {
      const Hash r1 = *b.tree.Root(first), r2 = *b.tree.Root(second);
      const std::vector<Hash> proof = *b.tree.ConsistencyProof(first, second);
      ASSERT_TRUE(VerifyConsistency(first, second, r1, r2, proof));
      EXPECT_FALSE(VerifyConsistency(first, second, r2, r1, proof));  // swapped roots
      EXPECT_FALSE(VerifyConsistency(first, second, Flip(r1, 1), r2, proof));
      EXPECT_FALSE(VerifyConsistency(first, second, r1, Flip(r2, 2), proof));
      for (size_t i = 0; i < proof.size(); ++i) {
        std::vector<Hash> bad = proof;
        bad[i] = Flip(bad[i], static_cast<int>(i) + 5);
        EXPECT_FALSE(VerifyConsistency(first, second, r1, r2, bad)) << first << " to " << second << " hash " << i;
      }
      EXPECT_FALSE(VerifyConsistency(first, second, r1, r2, {}));
      std::vector<Hash> longer = proof;
      longer.push_back(r2);
      EXPECT_FALSE(VerifyConsistency(first, second, r1, r2, longer));
      // The right proof with a wrong size.
      if (second < 40) {
        EXPECT_FALSE(VerifyConsistency(first, second + 1, r1, *b.tree.Root(second + 1), proof));
      }
    }
  }
  // A log that rewrote an entry is not consistent with what it signed before.
  Built rewritten = Build(40);
  MerkleTree other;
  for (int64_t i = 0; i < 40; ++i) other.Append(i == 3 ? LeafHash("rewritten") : rewritten.tree.leaf(i));
  EXPECT_FALSE(VerifyConsistency(10, 40, *rewritten.tree.Root(10), *other.Root(40),
                                 *other.ConsistencyProof(10, 40)));
}

TEST(MerkleTreeTest, ProofsOutsideTheTreeAreRefusedByName) {
  const Built b = Build(10);
  EXPECT_EQ(b.tree.InclusionProof(10, 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.tree.InclusionProof(0, 11).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.tree.ConsistencyProof(0, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.tree.ConsistencyProof(6, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(b.tree.Root(11).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(b.tree.InclusionProof(10, 10).status().message().find("position"), std::string::npos);
}

}  // namespace
}  // namespace cdp::audit
