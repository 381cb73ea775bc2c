#include "services/audit/pg_event_store.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "pqxx/pqxx"
#include "services/common/status_macros.h"
#include "storage/binary_copy.h"
#include "storage/sql_array.h"

namespace cdp::audit {
namespace {

constexpr char kInsertEvents[] = "audit_insert_events";
constexpr char kInsertHead[] = "audit_insert_head";
constexpr char kLatestHead[] = "audit_latest_head";
constexpr char kHeads[] = "audit_heads";
constexpr char kNewSubjects[] = "audit_new_subjects";
constexpr char kSubjects[] = "audit_subjects";
constexpr char kFindSubject[] = "audit_find_subject";
constexpr char kForgetSubject[] = "audit_forget_subject";
constexpr char kEventsOf[] = "audit_events_of";
constexpr char kQuery[] = "audit_query";
constexpr char kActivity[] = "audit_activity";

constexpr char kEventColumns[] =
    "position, event_id, (extract(epoch FROM recorded_at) * 1000000)::bigint, subject_pseudonym, caller, "
    "acting_party_id, purpose, outcome, fields, entry, leaf_hash";


Hash HashFrom(const pqxx::field& f) {
  pqxx::binarystring b(f);
  return HashFromBytes(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

absl::Time TimeFrom(const pqxx::field& micros) { return absl::FromUnixMicros(micros.as<int64_t>()); }

StoredEvent EventFrom(const pqxx::row& r) {
  StoredEvent e;
  e.position = r[0].as<int64_t>();
  e.event_id = r[1].as<std::string>();
  e.recorded_at = TimeFrom(r[2]);
  e.subject_pseudonym = r[3].as<std::string>();
  e.caller = r[4].as<std::string>();
  e.acting_party_id = r[5].as<std::string>();
  e.purpose = r[6].as<std::string>();
  e.outcome = r[7].as<std::string>();
  e.fields = r[8].as<std::string>();
  pqxx::binarystring entry(r[9]);
  e.entry = entry.str();
  e.leaf_hash = HashFrom(r[10]);
  return e;
}

TreeHead HeadFrom(const pqxx::row& r) {
  TreeHead h;
  h.tree_size = r[0].as<int64_t>();
  h.root_hash = HashFrom(r[1]);
  h.signed_at = TimeFrom(r[2]);
  h.key_id = r[3].as<std::string>();
  h.signature = r[4].as<std::string>();
  return h;
}

}  // namespace

std::vector<storage::Statement> PgEventStore::Statements() {
  return {
      {kInsertEvents,
       "INSERT INTO audit.events (position, event_id, recorded_at, subject_pseudonym, caller, "
       "acting_party_id, purpose, outcome, fields, entry, leaf_hash) "
       "SELECT p, i, TIMESTAMPTZ 'epoch' + t * INTERVAL '1 microsecond', s, c, a, u, o, f, e, l "
       "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], "
       "$7::text[], $8::text[], $9::text[], $10::bytea[], $11::bytea[]) AS x(p, i, t, s, c, a, u, o, f, e, l)"},
      {kFindSubject, "SELECT pseudonym FROM audit.subjects WHERE customer_id = $1"},
      {kForgetSubject, "SELECT audit.forget_subject($1)"},
      {kEventsOf, absl::StrCat("SELECT ", kEventColumns, " FROM audit.events WHERE subject_pseudonym = $1 "
                               "AND position < $2 AND NOT (purpose = $4 AND acting_party_id = $5) "
                               "ORDER BY position DESC LIMIT $3")},
      {kInsertHead,
       "INSERT INTO audit.tree_heads (tree_size, root_hash, signed_at, key_id, signature) "
       "VALUES ($1, decode($2, 'hex'), TIMESTAMPTZ 'epoch' + $3 * INTERVAL '1 microsecond', $4, $5) ON CONFLICT (tree_size) DO NOTHING"},
      {kLatestHead,
       "SELECT tree_size, root_hash, (extract(epoch FROM signed_at) * 1000000)::bigint, key_id, signature "
       "FROM audit.tree_heads ORDER BY tree_size DESC LIMIT 1"},
      // One static statement for every combination of filters: an empty filter matches all.
      {kQuery, absl::StrCat("SELECT ", kEventColumns, " FROM audit.events WHERE ($1 = '' OR caller = $1) "
                            "AND ($2 = '' OR acting_party_id = $2) AND ($3 = '' OR purpose = $3) "
                            "AND ($4 = '' OR $4 = ANY(string_to_array(fields, ' '))) AND ($5 = '' OR outcome = $5) "
                            "AND ($6 = '' OR subject_pseudonym = $6) "
                            "AND recorded_at >= TIMESTAMPTZ 'epoch' + $7 * INTERVAL '1 microsecond' "
                            "AND recorded_at < TIMESTAMPTZ 'epoch' + $8 * INTERVAL '1 microsecond' "
                            "AND position < $9 ORDER BY position DESC LIMIT $10")},
      // $1 now and $2 the window, in microseconds since the epoch; $3 baseline windows; $4
      // the purpose of auditors' looks, which are not accesses to count.
      {kActivity,
       "WITH w AS (SELECT caller, floor(($1 - extract(epoch FROM recorded_at) * 1000000) / $2)::bigint AS back, "
       " count(DISTINCT subject_pseudonym) AS n FROM audit.events "
       " WHERE recorded_at >= TIMESTAMPTZ 'epoch' + ($1 - $2 * ($3 + 1)) * INTERVAL '1 microsecond' "
       " AND recorded_at < TIMESTAMPTZ 'epoch' + $1 * INTERVAL '1 microsecond' "
       " AND purpose <> $4 GROUP BY 1, 2) "
       "SELECT c.caller, c.n, coalesce((SELECT sum(n)::float8 FROM w b WHERE b.caller = c.caller AND b.back > 0), 0) / $3 "
       "FROM w c WHERE c.back = 0 ORDER BY c.n DESC"},
      {kNewSubjects,
       "INSERT INTO audit.subjects (customer_id, pseudonym) "
       "SELECT c, 'sp-' || replace(gen_random_uuid()::text, '-', '') FROM unnest($1::text[]) WITH ORDINALITY AS u(c, n) "
       "ORDER BY n ON CONFLICT (customer_id) DO NOTHING RETURNING customer_id, pseudonym"},
      {kSubjects, "SELECT customer_id, pseudonym FROM audit.subjects WHERE customer_id = ANY($1::text[])"},
      {kHeads,
       "SELECT tree_size, root_hash, (extract(epoch FROM signed_at) * 1000000)::bigint, key_id, signature "
       "FROM audit.tree_heads ORDER BY tree_size"},
  };
}

absl::Status PgEventStore::Append(const std::vector<StoredEvent>& events,
                                  const std::function<absl::Status()>& before_commit) {
  if (events.empty()) return absl::OkStatus();
  std::vector<std::string> positions, ids, times, subjects, callers, actors, purposes, outcomes, fields,
      entries, leaves;
  for (const StoredEvent& e : events) {
    positions.push_back(absl::StrCat(e.position));
    ids.push_back(e.event_id);
    times.push_back(absl::StrCat(absl::ToUnixMicros(e.recorded_at)));
    subjects.push_back(e.subject_pseudonym);
    callers.push_back(e.caller);
    actors.push_back(e.acting_party_id);
    purposes.push_back(e.purpose);
    outcomes.push_back(e.outcome);
    fields.push_back(e.fields);
    entries.push_back(e.entry);
    leaves.push_back(HashBytes(e.leaf_hash));
  }
  using storage::TextArray;
  auto insert = [&](pqxx::transaction_base& tx) {
    tx.exec_prepared(kInsertEvents, TextArray(positions), TextArray(ids), TextArray(times), TextArray(subjects),
                     TextArray(callers), TextArray(actors), TextArray(purposes), TextArray(outcomes),
                     TextArray(fields), storage::ByteaArray(entries), storage::ByteaArray(leaves));
  };
  // One statement, so one implicit transaction: all of them or none, in one round trip.
  if (!before_commit) {
    return pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
      insert(tx);
      return absl::OkStatus();
    });
  }
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    insert(tx);
    return before_commit();
  });
}

absl::Status PgEventStore::Scan(int64_t from, int64_t to,
                                const std::function<absl::Status(const StoredEvent&)>& visit) {
  // One binary COPY on a connection of its own: the server streams the rows while they
  // are checked (one snapshot, so the range is read as of one moment), entries and hashes
  // arrive as raw bytes. The bounds are numbers, the only thing spliced into the query.
  const std::string query = absl::StrCat(
      "SELECT position, event_id, recorded_at, subject_pseudonym, caller, acting_party_id, purpose, outcome, "
      "fields, entry, leaf_hash FROM audit.events WHERE position >= ", from, " AND position < ", to,
      " ORDER BY position");
  StoredEvent e;  // reused: its strings keep their capacity from row to row
  return storage::CopyOutBinary(pool_.dsn(), query, [&](const storage::BinaryRow& r) -> absl::Status {
    if (r.size() != 11) return absl::InternalError("audit scan: a row without its 11 columns");
    RETURN_IF_ERROR(r.Int64(0, &e.position));
    e.event_id.assign(r.bytes(1));
    RETURN_IF_ERROR(r.Timestamp(2, &e.recorded_at));
    e.subject_pseudonym.assign(r.bytes(3));
    e.caller.assign(r.bytes(4));
    e.acting_party_id.assign(r.bytes(5));
    e.purpose.assign(r.bytes(6));
    e.outcome.assign(r.bytes(7));
    e.fields.assign(r.bytes(8));
    e.entry.assign(r.bytes(9));
    e.leaf_hash = HashFromBytes(r.bytes(10));
    return visit(e);
  });
}

absl::StatusOr<std::vector<Hash>> PgEventStore::LeafHashes(int64_t from) {
  // One binary COPY, as in Scan: at start-up every leaf of the log is read, and the
  // service answers nothing (no log, no data) until it has them.
  std::vector<Hash> out;
  RETURN_IF_ERROR(storage::CopyOutBinary(
      pool_.dsn(),
      absl::StrCat("SELECT position, leaf_hash FROM audit.events WHERE position >= ", from, " ORDER BY position"),
      [&](const storage::BinaryRow& r) -> absl::Status {
        if (r.size() != 2) return absl::InternalError("audit leaves: a row without its 2 columns");
        int64_t position = -1;
        RETURN_IF_ERROR(r.Int64(0, &position));
        const int64_t expected = from + static_cast<int64_t>(out.size());
        if (position != expected) {
          return absl::DataLossError(absl::StrCat("audit.events: position ", expected, " is missing"));
        }
        out.push_back(HashFromBytes(r.bytes(1)));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<std::string>> PgEventStore::Pseudonyms(const std::vector<std::string>& customer_ids) {
  std::map<std::string, std::string> known;
  // Each id once, in one order for every caller: concurrent calls with the same new
  // customers then wait on each other's inserts in the same order instead of deadlocking.
  std::vector<std::string> sorted = customer_ids;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  // The insert answers for the customers it made, which are usually all of them (the
  // caller asks only for those it has not seen): one statement, its own transaction. The
  // rest already had a pseudonym, or another call made theirs meanwhile; a second
  // statement, which sees every insert committed before it, reads those.
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    known.clear();
    for (const pqxx::row& r : tx.exec_prepared(kNewSubjects, storage::TextArray(sorted))) {
      known[r[0].as<std::string>()] = r[1].as<std::string>();
    }
    std::vector<std::string> rest;
    for (const std::string& id : sorted) {
      if (known.count(id) == 0) rest.push_back(id);
    }
    if (rest.empty()) return absl::OkStatus();
    for (const pqxx::row& r : tx.exec_prepared(kSubjects, storage::TextArray(rest))) {
      known[r[0].as<std::string>()] = r[1].as<std::string>();
    }
    return absl::OkStatus();
  }));
  std::vector<std::string> out;
  for (const std::string& id : customer_ids) {
    auto it = known.find(id);
    if (it == known.end()) return absl::InternalError("customer without a pseudonym after insert");
    out.push_back(it->second);
  }
  return out;
}

absl::StatusOr<std::optional<std::string>> PgEventStore::FindPseudonym(const std::string& customer_id) {
  std::optional<std::string> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kFindSubject, customer_id);
    if (!r.empty()) out = r[0][0].as<std::string>();
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<bool> PgEventStore::ForgetSubject(const std::string& customer_id) {
  bool forgotten = false;
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    forgotten = tx.exec_prepared1(kForgetSubject, customer_id)[0].as<bool>();
    return absl::OkStatus();
  }));
  return forgotten;
}

absl::StatusOr<std::vector<StoredEvent>> PgEventStore::EventsOf(const std::string& pseudonym, int64_t before_position,
                                                                int limit, const std::string& skip_purpose,
                                                                const std::string& skip_actor) {
  std::vector<StoredEvent> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    // An empty purpose matches no event, so nothing is skipped.
    for (const pqxx::row& r : tx.exec_prepared(kEventsOf, pseudonym, before_position, limit, skip_purpose, skip_actor)) {
      out.push_back(EventFrom(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<StoredEvent>> PgEventStore::Query(const Filter& f, int64_t before_position, int limit) {
  // Times as microseconds since the epoch, the infinite ones clamped to the years 0 and 9999.
  auto micros = [](absl::Time t, int64_t fallback) {
    return t == absl::InfinitePast() || t == absl::InfiniteFuture() ? fallback : absl::ToUnixMicros(t);
  };
  const int64_t from = micros(f.from, -62135596800000000), to = micros(f.to, 253402300799000000);
  std::vector<StoredEvent> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r : tx.exec_prepared(kQuery, f.caller, f.acting_party_id, f.purpose, f.field, f.outcome,
                                               f.subject_pseudonym, from, to, before_position, limit)) {
      out.push_back(EventFrom(r));
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<EventStore::CallerActivity>> PgEventStore::ActivityByCaller(absl::Time now,
                                                                                       absl::Duration window,
                                                                                       int baseline) {
  std::vector<CallerActivity> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r : tx.exec_prepared(kActivity, absl::ToUnixMicros(now),
                                               absl::ToInt64Microseconds(window), baseline, kAccessLogReview)) {
      out.push_back({r[0].as<std::string>(), r[1].as<int64_t>(), r[2].as<double>()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::Status PgEventStore::SaveTreeHead(const TreeHead& head) {
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    tx.exec_prepared(kInsertHead, head.tree_size, HashHex(head.root_hash), absl::ToUnixMicros(head.signed_at),
                     head.key_id, head.signature);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::optional<TreeHead>> PgEventStore::LatestTreeHead() {
  std::optional<TreeHead> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kLatestHead);
    if (!r.empty()) out = HeadFrom(r[0]);
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<TreeHead>> PgEventStore::TreeHeads() {
  std::vector<TreeHead> out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    out.clear();
    for (const pqxx::row& r : tx.exec_prepared(kHeads)) out.push_back(HeadFrom(r));
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace cdp::audit
