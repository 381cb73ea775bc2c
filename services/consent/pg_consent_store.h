// ConsentStore on PostgreSQL (schema "consent", storage/migrations/consent/).
#ifndef CDP_SERVICES_CONSENT_PG_CONSENT_STORE_H_
#define CDP_SERVICES_CONSENT_PG_CONSENT_STORE_H_

#include <vector>

#include "services/consent/consent_store.h"
#include "storage/pool.h"

namespace cdp::consent {

class PgConsentStore final : public ConsentStore {
 public:
  // The named statements this store runs; the pool must prepare them.
  static std::vector<storage::Statement> Statements();

  // `pool` must outlive the store and connect as a role with the consent schema first in
  // its search path (cdp_consent).
  explicit PgConsentStore(storage::Pool& pool) : pool_(pool) {}

  absl::StatusOr<int> RegisterCustomers(const std::vector<std::string>& customer_ids,
                                        const ChangeMeta& meta) override;
  absl::StatusOr<v1::CustomerConsent> Current(const std::string& customer_id) override;
  absl::StatusOr<UpdateResult> Update(const UpdateRequest& request,
                                      const ReceiptMaker& make_receipt) override;
  absl::StatusOr<EraseResult> Erase(const std::string& customer_id, const ChangeMeta& meta) override;
  absl::StatusOr<std::vector<v1::ConsentChange>> History(const std::string& customer_id,
                                                         int64_t before_version,
                                                         int limit) override;
  absl::StatusOr<std::vector<v1::CustomerConsent>> Feed(int64_t after_position,
                                                        int limit) override;
  absl::StatusOr<int64_t> Head() override;
  absl::Status Snapshot(const std::function<absl::Status(int64_t head)>& begin,
                        const std::function<absl::Status(const v1::CustomerConsent&)>& each) override;

 private:
  storage::Pool& pool_;
};

}  // namespace cdp::consent

#endif  // CDP_SERVICES_CONSENT_PG_CONSENT_STORE_H_
