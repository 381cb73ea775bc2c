// Encryption of personal data at rest: per-customer data keys, wrapped by a key-encryption
// key, and keyed hashes for lookups.
//
//   master key file  one line "cdp-master-key-v1:<base64 of 32 random bytes>"; the
//                    key-encryption key and the lookup key are derived from it (HMAC-SHA256
//                    with distinct labels), so one secret is kept and neither derived key
//                    can be turned into the other.
//   data key         32 random bytes per customer; stored only wrapped (AES-256-GCM under
//                    the key-encryption key, bound to the customer id). Destroying the
//                    wrapped key makes every copy of that customer's data unreadable,
//                    backups included (crypto-shredding).
//   ciphertext       version byte 1 | 12-byte random nonce | AES-256-GCM ciphertext | 16-byte
//                    tag, with associated data naming what it is (customer and field), so a
//                    value cannot be moved to another customer or field unnoticed.
//   lookup hash      HMAC-SHA256(lookup key, kind || 0 || normalised value): equal values
//                    give equal hashes, without the database holding the value.
//
// All classes are immutable after construction and thread-safe.
#ifndef CDP_STORAGE_CRYPTO_H_
#define CDP_STORAGE_CRYPTO_H_

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cdp::storage {

using Key256 = std::array<unsigned char, 32>;

// Random bytes that are stored in the clear (nonces, ids), never keys: OpenSSL's generator's,
// drawn 4 KB at a time per thread. Each RAND_bytes call re-keys the generator's AES context
// and asks the kernel for the process id; a call for each 12-byte nonce was 6.5% of
// cdp-ingest's CPU. A child process made by fork() draws afresh, never its parent's bytes.
void PublicRandomBytes(unsigned char* out, size_t n);

// AES-256-GCM with a random nonce; see the file comment for the format.
std::string Seal(const Key256& key, std::string_view plaintext, std::string_view aad);
// DataLoss if the ciphertext is malformed, was made under another key or associated data,
// or was altered.
absl::StatusOr<std::string> Open(const Key256& key, std::string_view ciphertext,
                                 std::string_view aad);

class MasterKey {
 public:
  // Reads a master key file. InvalidArgument naming the file if it cannot be read or is not
  // in the format above; FailedPrecondition if others than the owner (and its group) may
  // read it.
  static absl::StatusOr<MasterKey> FromFile(const std::string& path);
  static absl::StatusOr<MasterKey> FromText(std::string_view text);
  // A new key file's contents.
  static std::string GenerateText();

  // A fresh random data key, wrapped for `customer_id`, ready to store.
  std::string NewWrappedDataKey(std::string_view customer_id) const;
  // DataLoss if the wrapped key was made for another customer or under another master key.
  absl::StatusOr<Key256> UnwrapDataKey(std::string_view wrapped, std::string_view customer_id) const;

  // The keyed hash of a normalised value of a kind ("email", "phone", "customer_number").
  std::string LookupHash(std::string_view kind, std::string_view normalised_value) const;

 private:
  MasterKey() = default;
  Key256 kek_{};
  Key256 lookup_{};
};

}  // namespace cdp::storage

#endif  // CDP_STORAGE_CRYPTO_H_
