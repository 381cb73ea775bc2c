// EventStore on PostgreSQL (schema "audit", storage/migrations/audit/).
#ifndef CDP_SERVICES_AUDIT_PG_EVENT_STORE_H_
#define CDP_SERVICES_AUDIT_PG_EVENT_STORE_H_

#include <vector>

#include "services/audit/event_store.h"
#include "storage/pool.h"

namespace cdp::audit {

class PgEventStore final : public EventStore {
 public:
  // The named statements this store runs; the pool must prepare them.
  static std::vector<storage::Statement> Statements();

  // `pool` must outlive the store and connect as cdp_audit (insert and select only).
  explicit PgEventStore(storage::Pool& pool) : pool_(pool) {}

  absl::Status Append(const std::vector<StoredEvent>& events,
                      const std::function<absl::Status()>& before_commit) override;
  absl::Status Scan(int64_t from, int64_t to, const std::function<absl::Status(const StoredEvent&)>& visit) override;
  absl::StatusOr<std::vector<Hash>> LeafHashes(int64_t from) override;
  absl::StatusOr<std::vector<std::string>> Pseudonyms(const std::vector<std::string>& customer_ids) override;
  absl::StatusOr<std::optional<std::string>> FindPseudonym(const std::string& customer_id) override;
  absl::StatusOr<bool> ForgetSubject(const std::string& customer_id) override;
  absl::StatusOr<std::vector<StoredEvent>> EventsOf(const std::string& pseudonym, int64_t before_position,
                                                    int limit, const std::string& skip_purpose,
                                                    const std::string& skip_actor) override;
  absl::StatusOr<std::vector<StoredEvent>> Query(const Filter& filter, int64_t before_position,
                                                 int limit) override;
  absl::StatusOr<std::vector<CallerActivity>> ActivityByCaller(absl::Time now, absl::Duration window,
                                                               int baseline) override;
  absl::Status SaveTreeHead(const TreeHead& head) override;
  absl::StatusOr<std::optional<TreeHead>> LatestTreeHead() override;
  absl::StatusOr<std::vector<TreeHead>> TreeHeads() override;

 private:
  storage::Pool& pool_;
};

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_PG_EVENT_STORE_H_
