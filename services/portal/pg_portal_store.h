// PortalStore in PostgreSQL (schema "portal", migrations in storage/migrations/portal/).
#ifndef CDP_SERVICES_PORTAL_PG_PORTAL_STORE_H_
#define CDP_SERVICES_PORTAL_PG_PORTAL_STORE_H_

#include <vector>

#include "services/portal/portal_store.h"
#include "storage/pool.h"

namespace cdp::portal {

class PgPortalStore : public PortalStore {
 public:
  // The statements to prepare on the pool's connections.
  static std::vector<storage::Statement> Statements();
  explicit PgPortalStore(storage::Pool& pool) : pool_(pool) {}

  absl::Status AddSignInLink(const std::string& token_sha256, const std::string& customer_id, absl::Time now,
                             absl::Time expires_at) override;
  absl::StatusOr<std::optional<std::string>> UseSignInLink(const std::string& token_sha256,
                                                           absl::Time now) override;
  absl::Status AddSession(const Session& session) override;
  absl::StatusOr<std::optional<Session>> FindSession(const std::string& id_sha256, absl::Time now) override;
  absl::Status DeleteSession(const std::string& id_sha256) override;
  absl::StatusOr<int64_t> DeleteCustomer(const std::string& customer_id) override;
  absl::StatusOr<int64_t> ErasureFeedPosition() override;
  absl::Status SetErasureFeedPosition(int64_t position) override;
  absl::StatusOr<int64_t> DeleteExpired(absl::Time now) override;
  absl::Status AddAuditor(const Auditor& auditor, absl::Time now) override;
  absl::StatusOr<std::optional<Auditor>> FindAuditor(const std::string& name) override;
  absl::StatusOr<bool> UseTotpStep(const std::string& name, int64_t step) override;
  absl::Status AddVerification(const Verification& v) override;
  absl::StatusOr<std::optional<Verification>> LatestVerification() override;

 private:
  storage::Pool& pool_;
};

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_PG_PORTAL_STORE_H_
