// What the portal keeps: one-time sign-in links, sessions, auditor accounts and the
// console's record of log verifications. Tokens arrive here already hashed (auth.h):
// nothing stored here lets anyone sign in.
#ifndef CDP_SERVICES_PORTAL_PORTAL_STORE_H_
#define CDP_SERVICES_PORTAL_PORTAL_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cdp::portal {

struct Session {
  std::string id_sha256;
  std::string kind;      // "customer" or "auditor"
  std::string subject;   // profile id or auditor account name
  std::string csrf_token;
  absl::Time created_at;
  absl::Time expires_at;
};

struct Auditor {
  std::string name;
  std::string display_name;
  std::string password_argon2id;
  std::string totp_secret;   // empty: no second factor
  bool disabled = false;
};

struct Verification {
  std::string auditor;
  absl::Time verified_at;
  bool ok = false;
  int64_t events_checked = 0;
  int64_t first_bad_position = -1;
  std::string problem;
};

// Thread-safe implementations. Every method returns Unavailable when the database cannot
// be reached.
class PortalStore {
 public:
  virtual ~PortalStore() = default;

  virtual absl::Status AddSignInLink(const std::string& token_sha256, const std::string& customer_id,
                                     absl::Time now, absl::Time expires_at) = 0;
  // Marks the link used and returns its customer, if it exists, is unused and has not
  // expired at `now`; otherwise nullopt. Atomic: of two concurrent uses one wins.
  virtual absl::StatusOr<std::optional<std::string>> UseSignInLink(const std::string& token_sha256,
                                                                   absl::Time now) = 0;

  virtual absl::Status AddSession(const Session& session) = 0;
  // The session, unless unknown or expired at `now`.
  virtual absl::StatusOr<std::optional<Session>> FindSession(const std::string& id_sha256, absl::Time now) = 0;
  virtual absl::Status DeleteSession(const std::string& id_sha256) = 0;
  // Erasure: every session and sign-in link of the customer. Returns how many.
  virtual absl::StatusOr<int64_t> DeleteCustomer(const std::string& customer_id) = 0;
  // How far the erasure feed has been followed (RightsService.WatchErasures), and moving it on.
  virtual absl::StatusOr<int64_t> ErasureFeedPosition() = 0;
  virtual absl::Status SetErasureFeedPosition(int64_t position) = 0;
  // Removes links and sessions that expired before `now`; returns how many.
  virtual absl::StatusOr<int64_t> DeleteExpired(absl::Time now) = 0;

  // AlreadyExists when the name is taken.
  virtual absl::Status AddAuditor(const Auditor& auditor, absl::Time now) = 0;
  virtual absl::StatusOr<std::optional<Auditor>> FindAuditor(const std::string& name) = 0;
  // Records that the auditor signed in with the TOTP code of `step`; false (and nothing
  // recorded) if that step or a later one was used before. Atomic.
  virtual absl::StatusOr<bool> UseTotpStep(const std::string& name, int64_t step) = 0;

  virtual absl::Status AddVerification(const Verification& v) = 0;
  virtual absl::StatusOr<std::optional<Verification>> LatestVerification() = 0;
};

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_PORTAL_STORE_H_
