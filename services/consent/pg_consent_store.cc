#include "services/consent/pg_consent_store.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "consent/state.h"
#include "pqxx/pqxx"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"
#include "storage/sql_array.h"

namespace cdp::consent {
namespace {

// Every statement names the schema, so the store does not depend on the search path.
constexpr char kLockCustomer[] = "consent_lock_customer";
constexpr char kStateAndEarlier[] = "consent_state_and_earlier";
constexpr char kAppendChange[] = "consent_append_change";
constexpr char kInsertRegistration[] = "consent_insert_registration";
constexpr char kLockFeed[] = "consent_lock_feed";
constexpr char kSetFeed[] = "consent_set_feed";
constexpr char kRegister[] = "consent_register";
constexpr char kCurrent[] = "consent_current";
constexpr char kKnown[] = "consent_known";
constexpr char kHistory[] = "consent_history";
constexpr char kFeed[] = "consent_feed";
constexpr char kHead[] = "consent_head";
constexpr char kSnapshotPage[] = "consent_snapshot_page";
constexpr char kAppendErasure[] = "consent_append_erasure";
constexpr char kScrubErased[] = "consent_scrub_erased";

// Times are stored as timestamptz and moved as whole microseconds since the epoch.
constexpr char kFromMicros[] = "(timestamptz 'epoch' + $%d * interval '1 microsecond')";

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

pqxx::binarystring Bytes(const google::protobuf::MessageLite& m) {
  return pqxx::binarystring(m.SerializeAsString());
}

template <typename Message>
absl::Status ParseColumn(const pqxx::field& f, Message* out) {
  pqxx::binarystring b(f);
  if (!out->ParseFromArray(b.data(), static_cast<int>(b.size()))) {
    return absl::DataLossError(absl::StrCat("consent: column ", f.name(), " does not parse"));
  }
  return absl::OkStatus();
}

// The registration entry of a customer: version 0, no choices.
v1::CustomerConsent EmptyState(const std::string& customer_id) {
  v1::CustomerConsent state;
  state.set_customer_id(customer_id);
  return state;
}

}  // namespace

std::vector<storage::Statement> PgConsentStore::Statements() {
  return {
      // The customer's row lock serialises updates of one customer until commit. (Reading
      // the state in the same statement would join against the row version from before a
      // concurrent update we waited for, and find nothing.)
      {kLockCustomer,
       "SELECT version, head_position FROM consent.customers WHERE customer_id = $1 FOR UPDATE"},
      // The current state and any earlier use of the idempotency key, in one round trip.
      {kStateAndEarlier,
       "SELECT cur.state, prev.request_sha256, prev.version, prev.position, prev.receipt "
       "FROM consent.changes cur LEFT JOIN consent.changes prev "
       "ON prev.customer_id = $1 AND prev.idempotency_key = $3 WHERE cur.position = $2"},
      // Takes the feed's next position, appends the change and points the customer at it,
      // in one round trip: the feed's row lock is held from here until commit, so this is
      // the last statement of the transaction.
      {kAppendChange,
       absl::StrCat("WITH pos AS (UPDATE consent.feed_head SET position = position + 1 "
                    "RETURNING position), "
                    "ins AS (INSERT INTO consent.changes (position, customer_id, version, "
                    "changed_at, channel, actor_kind, actor_id, caller, catalog_version, "
                    "idempotency_key, request_sha256, delta, state, receipt) "
                    "SELECT pos.position, $1, $2, ",
                    absl::StrFormat(kFromMicros, 3),
                    ", $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM pos RETURNING position) "
                    "UPDATE consent.customers SET version = $2, "
                    "head_position = (SELECT position FROM ins) WHERE customer_id = $1 "
                    "RETURNING head_position")},
      // The erasure change: as kAppendChange, without idempotency key or receipt.
      {kAppendErasure,
       absl::StrCat("WITH pos AS (UPDATE consent.feed_head SET position = position + 1 "
                    "RETURNING position), "
                    "ins AS (INSERT INTO consent.changes (position, customer_id, version, "
                    "changed_at, channel, actor_kind, actor_id, caller, catalog_version, "
                    "delta, state, erased) SELECT pos.position, $1, $2, ",
                    absl::StrFormat(kFromMicros, 3),
                    ", $4, $5, $6, $7, $8, $9, $9, true FROM pos RETURNING position) "
                    "UPDATE consent.customers SET version = $2, "
                    "head_position = (SELECT position FROM ins) WHERE customer_id = $1 "
                    "RETURNING head_position")},
      {kScrubErased, "SELECT consent.scrub_erased($1)"},
      // A batch's registration entries, at positions $1 + 1, $1 + 2, ... in the order of
      // the ids ($2), each with its state ($9).
      {kInsertRegistration,
       absl::StrCat("INSERT INTO consent.changes (position, customer_id, version, changed_at, "
                    "channel, actor_kind, actor_id, caller, catalog_version, delta, state) "
                    "SELECT $1 + u.n, u.c, 0, ",
                    absl::StrFormat(kFromMicros, 3),
                    ", $4, $5, $6, $7, $8, u.s, u.s FROM unnest($2::text[], $9::bytea[]) WITH ORDINALITY "
                    "AS u(c, s, n)")},
      {kLockFeed, "SELECT position FROM consent.feed_head FOR UPDATE"},
      {kSetFeed, "UPDATE consent.feed_head SET position = $1"},
      // Of the ids $1 (in order, each once), those not registered yet, at positions $2 + 1,
      // $2 + 2, ... (the caller holds the feed's lock: no one else numbers meanwhile).
      {kRegister,
       "WITH fresh AS (SELECT u.c, row_number() OVER (ORDER BY u.n) AS k FROM unnest($1::text[]) "
       "WITH ORDINALITY AS u(c, n) WHERE NOT EXISTS (SELECT 1 FROM consent.customers x WHERE x.customer_id = u.c)) "
       "INSERT INTO consent.customers (customer_id, version, head_position) "
       "SELECT c, 0, $2 + k FROM fresh ORDER BY k RETURNING customer_id, head_position"},
      {kCurrent,
       "SELECT c.head_position, c.version, ch.state FROM consent.customers c "
       "JOIN consent.changes ch ON ch.position = c.head_position WHERE c.customer_id = $1"},
      // Known and not erased.
      {kKnown,
       "SELECT 1 FROM consent.customers c JOIN consent.changes ch ON ch.position = c.head_position "
       "WHERE c.customer_id = $1 AND NOT ch.erased"},
      {kHistory,
       "SELECT position, version, (extract(epoch FROM changed_at) * 1000000)::bigint, channel, "
       "actor_kind, actor_id, caller, catalog_version, delta, receipt FROM consent.changes "
       "WHERE customer_id = $1 AND version < $2 ORDER BY version DESC LIMIT $3"},
      {kFeed,
       "SELECT state, position FROM consent.changes WHERE position > $1 "
       "ORDER BY position LIMIT $2"},
      {kHead, "SELECT position FROM consent.feed_head"},
      // Each customer's state as of feed position $1: the latest change at or before it.
      // Paged by customer id in short transactions; the result is the same as one
      // snapshot taken at $1, without holding a connection while a slow client reads.
      {kSnapshotPage,
       "SELECT DISTINCT ON (customer_id) state, position FROM consent.changes "
       "WHERE position <= $1 AND customer_id > $2 ORDER BY customer_id, position DESC LIMIT $3"},
  };
}

absl::StatusOr<int> PgConsentStore::RegisterCustomers(const std::vector<std::string>& customer_ids,
                                                      const ChangeMeta& meta) {
  int added = 0;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    added = 0;
    // Taking the feed's lock first keeps the positions of this batch together and in order.
    const int64_t head = tx.exec_prepared1(kLockFeed)[0].as<int64_t>();
    // Three statements for the whole batch, not two per customer.
    std::vector<std::string> distinct;
    absl::flat_hash_set<std::string> seen;
    for (const std::string& id : customer_ids) {
      if (seen.insert(id).second) distinct.push_back(id);
    }
    std::vector<std::pair<int64_t, std::string>> fresh;  // position, customer
    for (const pqxx::row& r : tx.exec_prepared(kRegister, storage::TextArray(distinct), head)) {
      fresh.emplace_back(r[1].as<int64_t>(), r[0].as<std::string>());
    }
    if (fresh.empty()) return absl::OkStatus();
    std::sort(fresh.begin(), fresh.end());
    std::vector<std::string> ids, states;
    for (auto& [position, id] : fresh) {
      if (position != head + 1 + static_cast<int64_t>(ids.size())) {
        return absl::InternalError("consent: registration positions are not consecutive");
      }
      states.push_back(EmptyState(id).SerializeAsString());
      ids.push_back(std::move(id));
    }
    tx.exec_prepared(kInsertRegistration, head, storage::TextArray(ids), Micros(meta.at),
                     static_cast<int>(meta.channel), static_cast<int>(meta.acting_party.kind()),
                     meta.acting_party.id(), meta.caller, meta.catalog_version, storage::ByteaArray(states));
    added = static_cast<int>(ids.size());
    tx.exec_prepared(kSetFeed, head + added);
    return absl::OkStatus();
  }));
  return added;
}

absl::StatusOr<v1::CustomerConsent> PgConsentStore::Current(const std::string& customer_id) {
  v1::CustomerConsent state;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kCurrent, customer_id);
    if (r.empty()) return absl::NotFoundError("customer_id: no such customer");
    RETURN_IF_ERROR(ParseColumn(r[0][2], &state));
    if (state.erased()) return absl::NotFoundError("customer_id: the customer was erased");
    state.set_position(r[0][0].as<int64_t>());
    state.set_version(r[0][1].as<int64_t>());
    state.set_customer_id(customer_id);
    return absl::OkStatus();
  }));
  return state;
}

absl::StatusOr<UpdateResult> PgConsentStore::Update(const UpdateRequest& request,
                                                    const ReceiptMaker& make_receipt) {
  UpdateResult result;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    result = UpdateResult{};
    pqxx::result locked = tx.exec_prepared(kLockCustomer, request.customer_id);
    if (locked.empty()) return absl::NotFoundError("customer_id: no such customer");
    const int64_t version = locked[0][0].as<int64_t>();
    const pqxx::row row = tx.exec_prepared1(kStateAndEarlier, request.customer_id,
                                            locked[0][1].as<int64_t>(), request.idempotency_key);

    // A retry of a request that was applied answers as it did the first time, whatever
    // happened since; checked before the version, which that request itself moved on.
    if (!row[1].is_null()) {
      if (pqxx::binarystring(row[1]).str() != request.request_sha256) {
        return absl::FailedPreconditionError(
            "idempotency_key: already used for a different request");
      }
      result.version = row[2].as<int64_t>();
      result.position = row[3].as<int64_t>();
      RETURN_IF_ERROR(ParseColumn(row[4], &result.receipt));
      result.replayed = true;
      return absl::OkStatus();
    }
    if (request.expected_version != 0 && request.expected_version != version) {
      return absl::AbortedError(absl::StrCat("expected_version: consent version is ", version,
                                             ", not ", request.expected_version));
    }

    v1::CustomerConsent current;
    RETURN_IF_ERROR(ParseColumn(row[0], &current));
    if (current.erased()) return absl::NotFoundError("customer_id: the customer was erased");
    v1::CustomerConsent delta;
    delta.set_customer_id(request.customer_id);
    for (const v1::ConsentChoice& c : request.choices) *delta.add_choices() = c;
    v1::CustomerConsent next;
    next.set_customer_id(request.customer_id);
    next.set_version(version + 1);
    for (v1::ConsentChoice& c : MergeChoices(current.choices(), request.choices)) {
      *next.add_choices() = std::move(c);
    }
    if (request.restriction) {
      ASSIGN_OR_RETURN(*next.mutable_restriction(), MergeRestriction(current.restriction(), *request.restriction));
      *delta.mutable_restriction() = next.restriction();
    } else {
      *next.mutable_restriction() = current.restriction();
    }
    result.version = version + 1;
    result.receipt = make_receipt(result.version);

    // Positions live in their column; the stored states leave theirs unset.
    delta.set_version(result.version);
    result.position =
        tx.exec_prepared1(kAppendChange, request.customer_id, result.version,
                          Micros(request.meta.at), static_cast<int>(request.meta.channel),
                          static_cast<int>(request.meta.acting_party.kind()),
                          request.meta.acting_party.id(), request.meta.caller,
                          request.meta.catalog_version, request.idempotency_key,
                          pqxx::binarystring(request.request_sha256), Bytes(delta), Bytes(next),
                          Bytes(result.receipt))[0]
            .as<int64_t>();
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ConsentStore::EraseResult> PgConsentStore::Erase(const std::string& customer_id,
                                                                const ChangeMeta& meta) {
  EraseResult result;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    result = EraseResult{};
    pqxx::result locked = tx.exec_prepared(kLockCustomer, customer_id);
    if (locked.empty()) return absl::NotFoundError("customer_id: no such customer");
    const int64_t version = locked[0][0].as<int64_t>();
    pqxx::result r = tx.exec_prepared(kCurrent, customer_id);
    if (r.empty()) return absl::InternalError("customer without a current state");
    v1::CustomerConsent current;
    RETURN_IF_ERROR(ParseColumn(r[0][2], &current));
    if (current.erased()) {
      result.already = true;
      result.position = r[0][0].as<int64_t>();
    } else {
      v1::CustomerConsent erased;
      erased.set_customer_id(customer_id);
      erased.set_version(version + 1);
      erased.set_erased(true);
      result.position = tx.exec_prepared1(kAppendErasure, customer_id, version + 1, Micros(meta.at),
                                          static_cast<int>(meta.channel),
                                          static_cast<int>(meta.acting_party.kind()), meta.acting_party.id(),
                                          meta.caller, meta.catalog_version, Bytes(erased))[0]
                            .as<int64_t>();
    }
    result.changes_emptied = tx.exec_prepared1(kScrubErased, customer_id)[0].as<int>();
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<std::vector<v1::ConsentChange>> PgConsentStore::History(
    const std::string& customer_id, int64_t before_version, int limit) {
  std::vector<v1::ConsentChange> changes;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    changes.clear();
    if (tx.exec_prepared(kKnown, customer_id).empty()) {
      return absl::NotFoundError("customer_id: no such customer (or erased)");
    }
    const int64_t before = before_version > 0 ? before_version : INT64_MAX;
    for (const pqxx::row& row : tx.exec_prepared(kHistory, customer_id, before, limit)) {
      v1::ConsentChange c;
      c.set_position(row[0].as<int64_t>());
      c.set_customer_id(customer_id);
      c.set_version(row[1].as<int64_t>());
      *c.mutable_changed_at() = ToProtoTime(absl::FromUnixMicros(row[2].as<int64_t>()));
      c.set_channel(static_cast<v1::Channel>(row[3].as<int>()));
      c.mutable_acting_party()->set_kind(static_cast<v1::ActingParty::Kind>(row[4].as<int>()));
      c.mutable_acting_party()->set_id(row[5].as<std::string>());
      c.set_caller(row[6].as<std::string>());
      c.set_catalog_version(row[7].as<std::string>());
      v1::CustomerConsent delta;
      RETURN_IF_ERROR(ParseColumn(row[8], &delta));
      *c.mutable_choices() = delta.choices();
      if (!row[9].is_null()) RETURN_IF_ERROR(ParseColumn(row[9], c.mutable_receipt()));
      changes.push_back(std::move(c));
    }
    return absl::OkStatus();
  }));
  return changes;
}

absl::StatusOr<std::vector<v1::CustomerConsent>> PgConsentStore::Feed(int64_t after_position,
                                                                      int limit) {
  std::vector<v1::CustomerConsent> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& row : tx.exec_prepared(kFeed, after_position, limit)) {
      v1::CustomerConsent state;
      RETURN_IF_ERROR(ParseColumn(row[0], &state));
      state.set_position(row[1].as<int64_t>());
      out.push_back(std::move(state));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<int64_t> PgConsentStore::Head() {
  int64_t head = 0;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    head = tx.exec_prepared1(kHead)[0].as<int64_t>();
    return absl::OkStatus();
  }));
  return head;
}

absl::Status PgConsentStore::Snapshot(
    const std::function<absl::Status(int64_t head)>& begin,
    const std::function<absl::Status(const v1::CustomerConsent&)>& each) {
  constexpr int kPage = 1000;
  ASSIGN_OR_RETURN(int64_t head, Head());
  RETURN_IF_ERROR(begin(head));
  std::string after;
  while (true) {
    std::vector<v1::CustomerConsent> page;
    RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
      page.clear();
      for (const pqxx::row& row : tx.exec_prepared(kSnapshotPage, head, after, kPage)) {
        v1::CustomerConsent state;
        RETURN_IF_ERROR(ParseColumn(row[0], &state));
        state.set_position(row[1].as<int64_t>());
        page.push_back(std::move(state));
      }
      return absl::OkStatus();
    }));
    // Sent outside the transaction: a slow reader holds no database connection.
    for (const v1::CustomerConsent& state : page) {
      after = state.customer_id();
      RETURN_IF_ERROR(each(state));
    }
    if (page.size() < static_cast<size_t>(kPage)) return absl::OkStatus();
  }
}

}  // namespace cdp::consent
