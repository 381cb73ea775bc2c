// Secrets of the portal's sign-in: random tokens, their digests, auditor passwords
// (Argon2id) and one-time codes (TOTP, RFC 6238). Thread-safe.
#ifndef CDP_SERVICES_PORTAL_AUTH_H_
#define CDP_SERVICES_PORTAL_AUTH_H_

#include <string>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cdp::portal {

// `bytes` random bytes from OpenSSL's CSPRNG, base64url without padding (32 bytes: 43
// characters). Aborts if the generator fails: nothing issued without randomness is safe.
std::string RandomToken(int bytes = 32);

// SHA-256 of `data`, 32 raw bytes: how sign-in links and session ids are stored.
std::string Sha256(std::string_view data);

// Compares in time that does not depend on where the strings differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// An Argon2id hash of `password` in the PHC string format ("$argon2id$v=19$m=...").
// Parameters follow OWASP's minimum (19 MiB, 2 passes, 1 lane). InvalidArgument for an
// empty password or one over 1024 bytes.
absl::StatusOr<std::string> HashPassword(std::string_view password);
// Whether `password` matches `encoded` (from HashPassword).
bool VerifyPassword(const std::string& encoded, std::string_view password);

// TOTP (RFC 6238, HMAC-SHA1, 30-second steps, 6 digits).
std::string TotpCode(std::string_view secret, absl::Time at);
// Whether `code` is the code for `now` or one step either side (clock drift).
bool VerifyTotp(std::string_view secret, std::string_view code, absl::Time now);
// The time step (Unix seconds / 30) whose code `code` is, within one step of `now`.
std::optional<int64_t> MatchTotp(std::string_view secret, std::string_view code, absl::Time now);
// RFC 4648 base32 without padding, as authenticator apps take secrets.
std::string Base32(std::string_view bytes);

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_AUTH_H_
