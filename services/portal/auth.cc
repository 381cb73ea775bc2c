#include "services/portal/auth.h"

#include <argon2.h>

#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "openssl/crypto.h"
#include "openssl/hmac.h"
#include "openssl/rand.h"
#include "openssl/sha.h"

namespace cdp::portal {
namespace {

constexpr uint32_t kArgonPasses = 2;
constexpr uint32_t kArgonMemoryKib = 19 * 1024;
constexpr uint32_t kArgonLanes = 1;
constexpr size_t kArgonSaltBytes = 16;
constexpr size_t kArgonHashBytes = 32;
constexpr int64_t kTotpStepSeconds = 30;

}  // namespace

std::string RandomToken(int bytes) {
  std::string raw(static_cast<size_t>(bytes), '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes) != 1) std::abort();
  std::string out;
  absl::WebSafeBase64Escape(raw, &out);
  return out;
}

std::string Sha256(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::StatusOr<std::string> HashPassword(std::string_view password) {
  if (password.empty() || password.size() > 1024) {
    return absl::InvalidArgumentError("password: between 1 and 1024 bytes");
  }
  unsigned char salt[kArgonSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) std::abort();
  size_t len = argon2_encodedlen(kArgonPasses, kArgonMemoryKib, kArgonLanes, sizeof salt, kArgonHashBytes,
                                 Argon2_id);
  std::vector<char> encoded(len);
  int rc = argon2id_hash_encoded(kArgonPasses, kArgonMemoryKib, kArgonLanes, password.data(), password.size(),
                                 salt, sizeof salt, kArgonHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return absl::InternalError(absl::StrFormat("argon2id: %s", argon2_error_message(rc)));
  return std::string(encoded.data());
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

std::string TotpCode(std::string_view secret, absl::Time at) {
  uint64_t counter = static_cast<uint64_t>(absl::ToUnixSeconds(at) / kTotpStepSeconds);
  unsigned char msg[8];
  for (int i = 7; i >= 0; --i) {
    msg[i] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), msg, sizeof msg, mac, &mac_len);
  int offset = mac[mac_len - 1] & 0x0f;
  uint32_t bin = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) | (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                 (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  return absl::StrFormat("%06u", bin % 1000000);
}

std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code, absl::Time now) {
  std::optional<int64_t> found;
  for (int step = -1; step <= 1; ++step) {
    const absl::Time at = now + absl::Seconds(step * kTotpStepSeconds);
    if (ConstantTimeEquals(TotpCode(secret, at), code)) found = absl::ToUnixSeconds(at) / kTotpStepSeconds;
  }
  return found;
}

bool VerifyTotp(std::string_view secret, std::string_view code, absl::Time now) {
  return MatchTotp(secret, code, now).has_value();
}

std::string Base32(std::string_view bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

}  // namespace cdp::portal
