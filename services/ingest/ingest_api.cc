#include "services/ingest/ingest_api.h"

#include <algorithm>
#include <map>
#include <set>
#include <functional>
#include <future>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cdp/v1/stored.pb.h"
#include "pqxx/pqxx"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"
#include "services/ingest/normalize.h"
#include "services/ingest/record.h"
#include "storage/crypto.h"
#include "storage/sql_array.h"

namespace cdp::ingest {
namespace {

// Named statements; every one names the schema.
constexpr char kLock[] = "ingest_lock";
constexpr char kProfileState[] = "ingest_profile_state";
constexpr char kInsertCandidates[] = "ingest_insert_candidates";
constexpr char kSetMergedInto[] = "ingest_set_merged_into";
constexpr char kInsertMerge[] = "ingest_insert_merge";
constexpr char kGetMerge[] = "ingest_get_merge";
constexpr char kUnmergeOne[] = "ingest_unmerge_one";
constexpr char kMarkUnmerged[] = "ingest_mark_unmerged";
constexpr char kDropCandidates[] = "ingest_drop_candidates";
constexpr char kListCandidates[] = "ingest_list_candidates";
constexpr char kNextSeq[] = "ingest_next_seq";
constexpr char kLockNextSeq[] = "ingest_lock_next_seq";
constexpr char kChangedSince[] = "ingest_changed_since";
constexpr char kSeqNow[] = "ingest_seq_now";
constexpr char kRecordsSince[] = "ingest_records_since";
constexpr char kProfilesSince[] = "ingest_profiles_since";
constexpr char kErasedAmong[] = "ingest_erased_among";
constexpr char kKeysToMove[] = "ingest_keys_to_move";
constexpr char kKeysMoved[] = "ingest_keys_moved";
constexpr char kErasedIds[] = "ingest_erased_ids";
constexpr char kErasure[] = "ingest_erasure";
constexpr char kEraseProfiles[] = "ingest_erase_profiles";
constexpr char kEraseRecords[] = "ingest_erase_records";
constexpr char kEraseCandidates[] = "ingest_erase_candidates";
constexpr char kInsertErasure[] = "ingest_insert_erasure";
constexpr char kInsertRetained[] = "ingest_insert_retained";
constexpr char kExpiredRetained[] = "ingest_expired_retained";
constexpr char kDeleteRetained[] = "ingest_delete_retained";
constexpr char kInactive[] = "ingest_inactive";
constexpr char kInsertProfiles[] = "ingest_insert_profiles";
constexpr char kInsertRecords[] = "ingest_insert_records";
constexpr char kFindByKey[] = "ingest_find_by_key";
constexpr char kWholeProfiles[] = "ingest_whole_profiles";

using storage::TextArray;

std::string RandomHex(size_t bytes) {
  unsigned char b[16];
  if (bytes > sizeof(b)) std::abort();
  storage::PublicRandomBytes(b, bytes);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(b), bytes));
}

std::string NewId(const char* prefix) { return absl::StrCat(prefix, RandomHex(10)); }

// A new profile's id: "p-", the time in milliseconds (11 hex digits), 48 random bits. Ids
// made close in time sort together, so the indexes and tables keyed by profile (profiles,
// records by profile, the key store) take a batch's new profiles on their newest pages
// instead of one random page each: at a million profiles that is the
// difference between a few pages and hundreds per batch. The id tells when the profile
// was made, to the millisecond, and nothing else.
std::string NewProfileId(absl::Time now) {
  return absl::StrCat("p-", absl::Hex(absl::ToUnixMillis(now), absl::kZeroPad11), RandomHex(6));
}

std::string RecordContext(const std::string& profile, const std::string& source,
                          const std::string& id, int64_t micros) {
  return absl::StrCat("record|", profile, "|", source, "|", id, "|", micros);
}

// One record of a batch on its way through resolution and storage.
struct BatchEntry {
  int index;
  const NormalizedRecord* n;
  int64_t micros;
  const std::vector<std::string>* keys;  // blocking keys (the PreparedBatch's)
  std::string profile;                   // where it goes (the profile that seals it)
};

// What a batch writes, made ready before its transaction: new profiles' data keys
// (wrapped), and its records (sealed) as the arrays the statement takes, built in place.
struct SealedRows {
  bool ready = false;
  std::vector<std::pair<std::string, std::string>> wrapped;  // profile id, wrapped data key
  size_t records = 0;
  std::string sources, ids, micros, profiles;  // TextArray literals
  pqxx::binarystring sealed{""};               // ByteaArray
  std::string lookups;                         // of per record lookup hashes (ByteaArrayText)
};

// A doubtful pair for the review queue.
struct ReviewRow {
  std::string left, right;
  double bits;
  std::string reason;
};

// A record of a profile (its latest version), opened.
struct Member {
  std::string profile;   // the profile that seals it
  std::string source;
  std::string id;
  int64_t micros = 0;
  v1::StoredRecord stored;
};

// A record of a profile as matching sees it, with its "source/record_id".
struct MemberView {
  std::string ref;
  const resolution::PersonRecord* person;  // in the index, or in the batch being resolved
};

// What a batch needs from the database, with the data keys it has unwrapped.
class Tx {
 public:
  Tx(pqxx::transaction_base& tx, const storage::MasterKey& key, storage::KeyStore& store)
      : tx_(tx), key_(key), store_(store) {}
  pqxx::transaction_base& tx() { return tx_; }

  absl::StatusOr<storage::Key256> DataKey(const std::string& profile) {
    if (auto it = keys_.find(profile); it != keys_.end()) return it->second;
    pqxx::result r = tx_.exec_prepared(kProfileState, profile);
    if (r.empty()) return absl::NotFoundError("profile_id: no such profile");
    if (r[0][1].as<bool>()) {
      erased_.insert(profile);
      return absl::NotFoundError("profile_id: the profile was erased");
    }
    RETURN_IF_ERROR(FetchKeys({profile}));
    if (erased_.count(profile)) return absl::NotFoundError("profile_id: the profile was erased");
    return keys_.at(profile);
  }
  // A data key this transaction made or read (wrapped as stored); unwrapped once.
  absl::Status Remember(const std::string& profile, const std::string& wrapped) {
    if (keys_.contains(profile)) return absl::OkStatus();
    auto key = key_.UnwrapDataKey(wrapped, profile);
    if (!key.ok()) return key.status();
    keys_[profile] = *key;
    return absl::OkStatus();
  }
  // Unwraps the data keys of `profiles` in two queries, one of this database (which are
  // erased: those are left out) and one of the key store.
  absl::Status LoadKeys(const std::set<std::string>& profiles) {
    std::vector<std::string> missing;
    for (const auto& p : profiles) {
      if (!keys_.count(p) && !erased_.count(p)) missing.push_back(p);
    }
    if (missing.empty()) return absl::OkStatus();
    for (const pqxx::row& r : tx_.exec_prepared(kErasedAmong, TextArray(missing))) {
      erased_.insert(r[0].as<std::string>());
    }
    std::vector<std::string> live;
    for (const std::string& p : missing) {
      if (!erased_.count(p)) live.push_back(p);
    }
    return FetchKeys(live);
  }
  // Reads and unwraps the keys of profiles known not to be erased. One the key store lacks
  // counts as erased (keyless()); a key that does not unwrap is DataLoss.
  absl::Status FetchKeys(const std::vector<std::string>& profiles) {
    if (profiles.empty()) return absl::OkStatus();
    ASSIGN_OR_RETURN(auto wrapped, store_.Get(profiles));
    for (const std::string& profile : profiles) {
      auto w = wrapped.find(profile);
      if (w == wrapped.end()) {
        // Shredded after this database was backed up (or the key store is not this
        // database's): its records open with nothing, as after an erasure.
        erased_.insert(profile);
        ++keyless_;
        continue;
      }
      ASSIGN_OR_RETURN(keys_[profile], key_.UnwrapDataKey(w->second, profile));
    }
    return absl::OkStatus();
  }
  // Profiles not erased here whose key the key store lacks.
  int keyless() const { return keyless_; }
  // Marks `profile` erased as a query of this database found it.
  void SetErased(const std::string& profile) { erased_.insert(profile); }
  // Whether `profile` was found erased (its data key destroyed) by this transaction.
  bool Erased(const std::string& profile) const { return erased_.count(profile) > 0; }
  absl::StatusOr<v1::StoredRecord> Open(const std::string& profile, const std::string& source,
                                        const std::string& id, int64_t micros,
                                        const pqxx::field& sealed) {
    ASSIGN_OR_RETURN(storage::Key256 key, DataKey(profile));
    pqxx::binarystring bytes(sealed);
    auto plain = storage::Open(key, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                               RecordContext(profile, source, id, micros));
    if (!plain.ok()) return plain.status();
    v1::StoredRecord stored;
    if (!stored.ParseFromString(*plain)) return absl::DataLossError("stored record does not parse");
    return stored;
  }

 private:
  pqxx::transaction_base& tx_;
  const storage::MasterKey& key_;
  storage::KeyStore& store_;
  absl::flat_hash_map<std::string, storage::Key256> keys_;
  std::set<std::string> erased_;
  int keyless_ = 0;
};

// The golden record of `root` from its members' records: per field, the most trusted
// source that has it, then the most recent, with the lineage of the value chosen.
v1::UnifiedProfile Golden(const std::string& root, const std::set<std::string>& merged,
                          const std::vector<Member>& members, const std::vector<std::string>& source_trust) {
  v1::UnifiedProfile out;
  out.set_profile_id(root);
  for (const std::string& m : merged) out.add_merged_profile_ids(m);
  out.set_source_records(static_cast<int32_t>(members.size()));

  // Survivorship: per field, the most trusted source that has it, then the most recent.
  auto trust = [&](const std::string& source) {
    auto it = std::find(source_trust.begin(), source_trust.end(), source);
    return static_cast<int>(it - source_trust.begin());
  };
  auto value_of = [](const Member& m, const std::string& field) -> std::string {
    auto v = m.stored.values().find(field);
    if (v != m.stored.values().end()) return v->second;
    auto n = m.stored.normal().find(field);
    return n == m.stored.normal().end() ? std::string() : n->second;
  };
  auto choose = [&](const std::string& field, const std::function<std::string(const Member&)>& get) {
    const Member* best = nullptr;
    int candidates = 0;
    for (const Member& m : members) {
      if (get(m).empty()) continue;
      ++candidates;
      if (best == nullptr || trust(m.source) < trust(best->source) ||
          (trust(m.source) == trust(best->source) && m.micros > best->micros)) {
        best = &m;
      }
    }
    if (best == nullptr) return;
    // The rule that decided: the only source that has it; a more trusted source than
    // every other; or, among equally trusted ones, the most recent.
    bool tie = false;
    for (const Member& m : members) {
      if (&m != best && !get(m).empty() && trust(m.source) == trust(best->source)) tie = true;
    }
    const char* rule = candidates == 1 ? "only_source" : tie ? "recency" : "source_trust";
    v1::FieldValue* f = out.add_fields();
    f->set_field(field);
    f->set_value(get(*best));
    f->mutable_lineage()->set_source_system(best->source);
    f->mutable_lineage()->set_record_id(best->id);
    f->mutable_lineage()->set_rule(rule);
    *f->mutable_lineage()->mutable_changed_at() = ToProtoTime(absl::FromUnixMicros(best->micros));
  };
  // Names as written where a source wrote them apart; normalised otherwise.
  for (const char* field : {"customer_number", "given_name", "family_name_prefix", "family_name"}) {
    choose(field, [&](const Member& m) { return value_of(m, field); });
  }
  // Normalised forms for what has one canonical writing.
  for (const char* field : {"date_of_birth", "email", "phone_mobile", "phone_home"}) {
    choose(field, [&](const Member& m) {
      auto n = m.stored.normal().find(field);
      return n == m.stored.normal().end() ? std::string() : n->second;
    });
  }
  choose("postal_address", [&](const Member& m) {
    const std::string street = value_of(m, "street"), house = value_of(m, "house_number");
    const std::string postcode = value_of(m, "postcode"), city = value_of(m, "city");
    if (street.empty() && postcode.empty()) return std::string();
    return absl::StrCat(street, street.empty() ? "" : " ", house, ", ",
                        m.stored.normal().count("postcode") ? m.stored.normal().at("postcode") : postcode,
                        city.empty() ? "" : " ", city);
  });
  for (const char* field : {"loyalty_tier", "language_preference", "channel_preferences",
                            "social_handles", "payment_method_summary"}) {
    choose(field, [&](const Member& m) { return value_of(m, field); });
  }
  return out;
}

// Runs fn(0) ... fn(n - 1), on two threads when n is large enough to be worth one more.
// Each call must touch only its own slots.
void ForEachOnTwoThreads(int n, const std::function<void(int)>& fn) {
  if (n < 64) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  std::thread second([&] {
    for (int i = n / 2; i < n; ++i) fn(i);
  });
  for (int i = 0; i < n / 2; ++i) fn(i);
  second.join();
}

// The keyed hash a lookup key is stored and searched under (ingest.records.lookup_hashes):
// the first 16 bytes of its HMAC-SHA256. Two of a billion keys share one with odds of about
// 1 in 10^21; whole hashes would make the index larger (migration 0006).
constexpr size_t kLookupHashBytes = 16;
std::string StoredLookupHash(const storage::MasterKey& key, const std::string& lookup_key) {
  std::string hash = key.LookupHash("lookup", lookup_key);
  hash.resize(kLookupHashBytes);
  return hash;
}

// The blocking keys that searches go through (e-mail, phone, customer number; see
// resolution::BlockingKeys for the letters): stored as keyed hashes, never in plaintext.
std::vector<std::string> LookupKeys(const std::vector<std::string>& blocking_keys) {
  std::vector<std::string> out;
  for (const std::string& k : blocking_keys) {
    if (!k.empty() && (k[0] == 'e' || k[0] == 'p' || k[0] == 's')) out.push_back(k);
  }
  return out;
}

// Lower case letters, digits and dashes, starting with a letter or digit, at most 32.
bool ValidSource(const std::string& s) {
  if (s.empty() || s.size() > kMaxSourceSystemBytes || s[0] == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

// A batch between Resolve and Store: how it was resolved, and what of it went into the
// index provisionally.
struct IngestApi::ResolvedBatch {
  const PreparedBatch* batch = nullptr;  // the caller's; outlives this
  uint64_t ticket = 0;                   // Store's order
  uint64_t epoch = 0;                    // the index's epoch it was resolved in
  uint64_t provisional_end = 0;          // its provisional versions end here in the index
  bool serially = false;                 // resolved again when stored
  v1::WriteRecordsResponse result;
  std::vector<BatchEntry> entries;
  std::vector<std::string> new_profile_ids;
  absl::flat_hash_set<std::string> batch_new;  // profiles this batch makes
  std::vector<ReviewRow> review_rows;
  int new_profiles = 0, joined = 0, reviews = 0;
  int64_t candidates = 0;  // stored records scored against
  SealedRows rows;         // what it writes, ready before its transaction
  // Where its time went, for the log.
  absl::Time started, read_done, scored_done, resolve_done, seal_started, keys_done, sealed, write_started,
      stored;
};

IngestApi::IngestApi(std::shared_ptr<const consent::Catalog> catalog, storage::Pool& pool,
                     const storage::MasterKey& key, storage::KeyStore& keys, Options options)
    : catalog_(std::move(catalog)), pool_(pool), key_(key), keys_(keys), options_(std::move(options)) {}

std::vector<storage::Statement> IngestApi::Statements() {
  return {
      {kLock, "SELECT pg_advisory_xact_lock(7261601)"},
      {kProfileState, "SELECT merged_into, erased_at IS NOT NULL FROM ingest.profiles WHERE profile_id = $1"},
      {kInsertCandidates,
       "INSERT INTO ingest.match_candidates (left_profile, right_profile, score, reason) "
       "SELECT l, r, max(b), min(w) FROM unnest($1::text[], $2::text[], $3::float8[], $4::text[]) "
       "AS t(l, r, b, w) GROUP BY l, r ON CONFLICT (left_profile, right_profile) DO UPDATE "
       "SET score = GREATEST(ingest.match_candidates.score, EXCLUDED.score)"},
      {kSetMergedInto, "UPDATE ingest.profiles SET merged_into = $2, changed_seq = $3 WHERE profile_id = $1"},
      {kInsertMerge,
       "INSERT INTO ingest.merges (merge_id, into_profile, from_profiles, reason, actor_kind, "
       "actor_id, caller) VALUES ($1, $2, string_to_array($3, ','), $4, $5, $6, $7)"},
      {kGetMerge,
       "SELECT into_profile, array_to_string(from_profiles, ','), unmerged_at IS NOT NULL "
       "FROM ingest.merges WHERE merge_id = $1 FOR UPDATE"},
      {kUnmergeOne,
       "UPDATE ingest.profiles SET merged_into = NULL, changed_seq = $3 "
       "WHERE profile_id = $1 AND merged_into = $2"},
      {kMarkUnmerged,
       "UPDATE ingest.merges SET unmerged_at = now(), unmerge_reason = $2, unmerge_actor_kind = $3, "
       "unmerge_actor_id = $4, unmerge_caller = $5 WHERE merge_id = $1"},
      {kDropCandidates,
       "DELETE FROM ingest.match_candidates WHERE (left_profile = $1 AND right_profile = $2) "
       "OR (left_profile = $2 AND right_profile = $1)"},
      {kNextSeq, "UPDATE ingest.sequence SET value = value + 1 RETURNING value"},
      // kLock and kNextSeq in one round trip, for a batch's write (StoreInTurn): the lock is
      // taken in the filter, so before the row's (in the order every writer takes them).
      // The value returned is the latest committed one's successor: a writer that held the
      // lock updated the row, and PostgreSQL updates the row's newest version once that
      // writer has committed (AWriterThatCommitsWhileABatchWaitsForTheLockMakesItResolveAgain).
      {kLockNextSeq,
       "UPDATE ingest.sequence SET value = value + 1 WHERE pg_advisory_xact_lock(7261601) IS NOT NULL "
       "RETURNING value"},
      {kSeqNow, "SELECT value FROM ingest.sequence"},
      // Profiles whose golden record may differ after (from, to]: those changed (merged,
      // unmerged, erased), the ones they were merged into, and those with new records.
      {kChangedSince,
       "SELECT profile_id FROM ingest.profiles WHERE changed_seq > $1 AND changed_seq <= $2 "
       "UNION SELECT merged_into FROM ingest.profiles WHERE changed_seq > $1 AND changed_seq <= $2 "
       "AND merged_into IS NOT NULL "
       "UNION SELECT profile_id FROM ingest.records WHERE seq > $1 AND seq <= $2"},
      {kRecordsSince,
       "SELECT source_system, record_id, changed_at_us, profile_id, sealed FROM ingest.records "
       "WHERE seq > $1 AND seq <= $2 ORDER BY seq"},
      {kProfilesSince,
       "SELECT profile_id, merged_into, erased_at IS NOT NULL FROM ingest.profiles "
       "WHERE changed_seq > $1 AND changed_seq <= $2 "
       "AND ($1 > 0 OR merged_into IS NOT NULL OR erased_at IS NOT NULL)"},
      // Migration ingest/0012 says why a function.
      {kErasedAmong, "SELECT id FROM ingest.erased_among($1::text[]) AS t(id)"},
      {kInsertProfiles,
       "INSERT INTO ingest.profiles (profile_id, changed_seq) SELECT unnest($1::text[]), $2"},
      // Keys from before the key store, moved at start-up.
      {kKeysToMove, "SELECT profile_id, wrapped_key FROM ingest.profiles WHERE wrapped_key IS NOT NULL LIMIT 1000"},
      {kKeysMoved, "UPDATE ingest.profiles SET wrapped_key = NULL WHERE profile_id = ANY($1::text[])"},
      {kErasedIds, "SELECT profile_id FROM ingest.profiles WHERE erased_at IS NOT NULL"},
      {kErasure, "SELECT answer FROM ingest.erasures WHERE $1 = ANY(erased_profile_ids)"},
      {kEraseProfiles,
       "UPDATE ingest.profiles SET erased_at = now(), changed_seq = $2 WHERE profile_id = ANY($1::text[])"},
      {kEraseRecords,
       "UPDATE ingest.records SET sealed = ''::bytea, lookup_hashes = '{}' WHERE profile_id = ANY($1::text[]) "
       "RETURNING source_system, record_id"},
      {kEraseCandidates,
       "DELETE FROM ingest.match_candidates WHERE left_profile = ANY($1::text[]) OR right_profile = ANY($1::text[])"},
      {kInsertErasure,
       "INSERT INTO ingest.erasures (profile_id, erased_profile_ids, source_records, answer, erased_at) "
       "VALUES ($1, $2::text[], $3::text[], $4, now())"},
      {kInsertRetained,
       "INSERT INTO ingest.retained (profile_id, sealed, keep_until) "
       "VALUES ($1, $2, TIMESTAMPTZ 'epoch' + $3 * INTERVAL '1 microsecond')"},
      {kExpiredRetained,
       "SELECT profile_id FROM ingest.retained WHERE keep_until <= TIMESTAMPTZ 'epoch' + $1 * INTERVAL '1 microsecond' "
       "ORDER BY keep_until LIMIT 1000"},
      {kDeleteRetained, "DELETE FROM ingest.retained WHERE profile_id = ANY($1::text[])"},
      // Per customer (a root and everything merged into it) the latest change of any of
      // its records; those whose latest is before $1.
      {kInactive,
       "WITH RECURSIVE tree(root, id, depth) AS ("
       " SELECT profile_id, profile_id, 0 FROM ingest.profiles WHERE merged_into IS NULL AND erased_at IS NULL"
       " UNION ALL SELECT t.root, p.profile_id, t.depth + 1 FROM ingest.profiles p JOIN tree t ON p.merged_into = t.id"
       " WHERE t.depth < 100)"
       " SELECT t.root FROM tree t LEFT JOIN ingest.records r ON r.profile_id = t.id"
       " GROUP BY t.root HAVING coalesce(max(r.changed_at_us), 0) < $1 ORDER BY t.root LIMIT $2"},
      {kInsertRecords,
       "INSERT INTO ingest.records (source_system, record_id, changed_at_us, profile_id, sealed, lookup_hashes, seq) "
       "SELECT s, i, a, p, x, h::bytea[], $7 FROM unnest($1::text[], $2::text[], $3::bigint[], "
       "$4::text[], $5::bytea[], $6::text[]) AS t(s, i, a, p, x, h)"},
      // Everything the golden records of many ids need in one round trip (see migration
      // ingest/0008 for what and why a function): per requested id, the root it lives
      // under, every profile merged into it, and the latest version of their records.
      {kWholeProfiles,
       "SELECT start, root, id, erased, source_system, record_id, changed_at_us, sealed "
       "FROM ingest.whole_profiles($1::text[])"},
      // Migration ingest/0010 says why a function.
      {kFindByKey, "SELECT id FROM ingest.find_by_lookup(decode($1, 'hex')) AS t(id)"},
      {kListCandidates,
       "SELECT c.left_profile, c.right_profile, c.score, c.reason, "
       "(extract(epoch FROM c.created_at) * 1000000)::bigint FROM ingest.match_candidates c "
       // Merged profiles are few (a partial index holds them): leaving out pairs with one
       // is an anti-join against those, while the candidates are read in key order.
       "WHERE NOT EXISTS (SELECT 1 FROM ingest.profiles p WHERE p.merged_into IS NOT NULL "
       "AND p.profile_id IN (c.left_profile, c.right_profile)) "
       "AND (c.left_profile, c.right_profile) > ($1, $2) "
       "ORDER BY c.left_profile, c.right_profile LIMIT $3"},
  };
}

absl::Status IngestApi::Authorize(const std::string& caller, v1::Permission permission) const {
  return catalog_->Authorize(caller, permission).status();
}

namespace {

google::protobuf::ArenaOptions BatchArenaOptions() {
  google::protobuf::ArenaOptions o;
  // A batch of 500 records takes about a megabyte: blocks of up to 32 KiB, few of them,
  // and small enough that freeing one does not make glibc sweep its small free chunks.
  o.start_block_size = 4096;
  o.max_block_size = 32768;
  return o;
}

}  // namespace

ArenaRequest::ArenaRequest()
    : arena_(std::make_unique<google::protobuf::Arena>(BatchArenaOptions())),
      request_(google::protobuf::Arena::CreateMessage<v1::WriteRecordsRequest>(arena_.get())) {}

ArenaRequest::ArenaRequest(const v1::WriteRecordsRequest& request) : ArenaRequest() { *request_ = request; }

ArenaRequest::ArenaRequest(ArenaRequest&& other) noexcept
    : arena_(std::move(other.arena_)), request_(std::exchange(other.request_, nullptr)) {}

ArenaRequest& ArenaRequest::operator=(ArenaRequest&& other) noexcept {
  if (this != &other) {
    arena_ = std::move(other.arena_);
    request_ = std::exchange(other.request_, nullptr);
  }
  return *this;
}

ArenaRequest::~ArenaRequest() = default;

absl::StatusOr<IngestApi::PreparedBatch> IngestApi::Prepare(const std::string& caller,
                                                            ArenaRequest request) const {
  RETURN_IF_ERROR(Authorize(caller, v1::WRITE_RECORDS));
  if (request->records_size() > options_.max_batch) {
    return absl::InvalidArgumentError(
        absl::StrCat("records: at most ", options_.max_batch, " per batch"));
  }
  // Checks that need no database; the rest in one transaction (Write).
  const absl::Time received = absl::Now();
  PreparedBatch b{.caller = caller, .request = std::move(request)};
  const int n = b.request->records_size();
  b.normalized.resize(static_cast<size_t>(n));
  b.blocking_keys.resize(static_cast<size_t>(n));
  b.plaintext.resize(static_cast<size_t>(n));
  b.lookups.resize(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) b.response.add_acks();
  auto check = [&](int i) {
    const v1::SourceRecord& r = b.request->records(i);
    v1::RecordAck* ack = b.response.mutable_acks(i);
    ack->set_source_system(r.source_system());
    ack->set_record_id(r.record_id());
    ack->set_outcome(v1::RecordAck::REJECTED);
    if (!ValidSource(r.source_system())) {
      ack->set_reason(
          absl::StrCat("source_system: lower case letters, digits and dashes, at most ", kMaxSourceSystemBytes));
      return;
    }
    if (r.record_id().empty() || r.record_id().size() > kMaxRecordIdBytes ||
        std::any_of(r.record_id().begin(), r.record_id().end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
      ack->set_reason(
          absl::StrCat("record_id: required, at most ", kMaxRecordIdBytes, " bytes, no control characters"));
      return;
    }
    if (!r.has_changed_at()) {
      ack->set_reason("changed_at: required");
      return;
    }
    auto normal = NormalizeAttributes(r.attributes(), options_.normalize);
    if (!normal.ok()) {
      ack->set_reason(std::string(normal.status().message()));
      return;
    }
    ack->set_outcome(v1::RecordAck::OUTCOME_UNSPECIFIED);
    const size_t k = static_cast<size_t>(i);
    NormalizedRecord& rec = b.normalized[k].emplace(*std::move(normal));
    // What does not depend on the profile the record will join: its blocking keys, the
    // keyed hashes of its lookup keys, and the bytes to be sealed (with the profile's key).
    b.blocking_keys[k] = resolution::BlockingKeys(rec.person);
    std::vector<std::string> hashes;
    for (const std::string& key : LookupKeys(b.blocking_keys[k])) hashes.push_back(StoredLookupHash(key_, key));
    b.lookups[k] = storage::ByteaArrayText(hashes);
    // Built in an arena on the stack: its copies of the values cost no allocation each.
    alignas(8) char scratch[4096];
    google::protobuf::ArenaOptions scratch_options;
    scratch_options.initial_block = scratch;
    scratch_options.initial_block_size = sizeof(scratch);
    google::protobuf::Arena arena(scratch_options);
    auto* stored = google::protobuf::Arena::CreateMessage<v1::StoredRecord>(&arena);
    stored->mutable_values()->insert(rec.values.begin(), rec.values.end());
    stored->mutable_normal()->insert(rec.normal.begin(), rec.normal.end());
    b.plaintext[k] = stored->SerializeAsString();
    // Only the sealed bytes need them from here on: freed by the thread that made them,
    // while they are in its cache, not entry by entry when the batch is done.
    rec.values.clear();
    rec.normal.clear();
  };
  // Normalising (phone numbers, Unicode folding) is the batch's largest piece of work
  // outside the database: a large batch shares it with a second thread. Each record has its
  // own slots, and nothing here touches shared state.
  ForEachOnTwoThreads(n, check);
  b.prepare_time = absl::Now() - received;
  return b;
}

absl::StatusOr<v1::WriteRecordsResponse> IngestApi::WriteBatch(const std::string& caller,
                                                                const v1::WriteRecordsRequest& request) {
  ASSIGN_OR_RETURN(PreparedBatch batch, Prepare(caller, ArenaRequest(request)));
  return Write(batch);
}

absl::StatusOr<v1::WriteRecordsResponse> IngestApi::Write(PreparedBatch& batch) {
  ASSIGN_OR_RETURN(std::shared_ptr<ResolvedBatch> resolved, Resolve(batch));
  return Store(std::move(resolved));
}

void IngestApi::ResolveLocked(ResolvedBatch& rb) {
  const PreparedBatch& batch = *rb.batch;
  const v1::WriteRecordsRequest& request = *batch.request;
  const std::vector<std::optional<NormalizedRecord>>& normalized = batch.normalized;
  rb.entries.clear();
  rb.new_profile_ids.clear();
  rb.batch_new.clear();
  rb.review_rows.clear();
  rb.new_profiles = rb.joined = rb.reviews = 0;
  rb.started = absl::Now();
  rb.scored_done = rb.resolve_done = rb.started;
  v1::WriteRecordsResponse& result = rb.result;
  std::vector<BatchEntry>& entries = rb.entries;
  std::vector<std::string>& new_profile_ids = rb.new_profile_ids;
  absl::flat_hash_set<std::string>& batch_new = rb.batch_new;
  std::vector<ReviewRow>& review_rows = rb.review_rows;
  int& new_profiles = rb.new_profiles;
  int& joined = rb.joined;
  int& reviews = rb.reviews;
  for (int i = 0; i < request.records_size(); ++i) {
    if (!normalized[static_cast<size_t>(i)]) continue;
    const v1::SourceRecord& r = request.records(i);
    const NormalizedRecord* n = &*normalized[static_cast<size_t>(i)];
    entries.push_back({i, n, absl::ToUnixMicros(FromProtoTime(r.changed_at())),
                       &batch.blocking_keys[static_cast<size_t>(i)], {}});
  }
  if (entries.empty()) return;

  // Scoring a new record against the stored records it shares a blocking key with is
  // most of resolution's work, and reads the index only: done first, on two threads, for
  // every record the index does not know. The pass below adds this batch's own records
  // as candidates and decides in order.
  std::vector<std::vector<std::pair<const MatchIndex::Entry*, double>>> scored(entries.size());
  ForEachOnTwoThreads(static_cast<int>(entries.size()), [&](int i) {
    const BatchEntry& e = entries[static_cast<size_t>(i)];
    const v1::SourceRecord& r = request.records(e.index);
    if (index_.Find(r.source_system(), r.record_id()) != nullptr) return;
    for (const MatchIndex::Entry* c : index_.Candidates(*e.keys, options_.blocks)) {
      scored[static_cast<size_t>(i)].emplace_back(
          c, options_.model.BayesFactorBits(resolution::Compare(e.n->person, c->person)));
    }
  });
  rb.scored_done = absl::Now();
  rb.candidates = 0;
  for (const auto& list : scored) rb.candidates += static_cast<int64_t>(list.size());

  // Profiles this batch makes live under themselves (the index does not know them); the
  // index knows where the others live.
  auto root = [&](const std::string& p) -> const std::string& { return index_.Root(p); };
  // A profile's records as matching sees them: stored ones, then this batch's.
  std::map<std::string, std::vector<MemberView>> members;
  auto members_of = [&](const std::string& r_root) -> std::vector<MemberView>& {
    auto [it, added] = members.try_emplace(r_root);
    if (added && !batch_new.count(r_root)) {
      for (const MatchIndex::Entry* m : index_.Members(r_root)) {
        it->second.push_back({m->source + "/" + m->id, &m->person});
      }
    }
    return it->second;
  };

  // In memory, in order; the batch's own records count as candidates too (with the
  // profile each went to, as held by its Entry). Keyed by views of the request's strings
  // and the batch's blocking keys, which outlive this pass: no copies of them.
  absl::flat_hash_map<absl::string_view, std::vector<std::pair<const std::string*, const resolution::PersonRecord*>>>
      batch_index;
  using RecordRef = std::pair<absl::string_view, absl::string_view>;  // source, record id
  absl::flat_hash_map<RecordRef, const std::string*> batch_profile;    // -> its Entry's profile
  absl::flat_hash_set<std::tuple<absl::string_view, absl::string_view, int64_t>> batch_versions;
  for (BatchEntry& e : entries) {
    const v1::SourceRecord& r = request.records(e.index);
    v1::RecordAck* ack = result.mutable_acks(e.index);
    // As Prepare left it (names only): the batch may be resolved a second time
    // (WriteSerially), in the acks of the first.
    ack->set_outcome(v1::RecordAck::OUTCOME_UNSPECIFIED);
    ack->clear_reason();
    ack->clear_profile_id();
    ack->clear_new_profile();
    ack->clear_review();
    const RecordRef id{r.source_system(), r.record_id()};
    const MatchIndex::Entry* known = index_.Find(r.source_system(), r.record_id());
    if (known != nullptr && index_.Erased(known->owner)) {
      ack->set_outcome(v1::RecordAck::REJECTED);
      ack->set_reason("the profile of this record was erased; a new record id starts anew");
      continue;
    }
    if ((known != nullptr && std::count(known->versions.begin(), known->versions.end(), e.micros)) ||
        batch_versions.count({id.first, id.second, e.micros})) {
      ack->set_outcome(v1::RecordAck::DUPLICATE);
      // A version earlier in this batch: batch_profile holds every record batch_versions does.
      ack->set_profile_id(root(known != nullptr ? known->owner : *batch_profile.at(id)));
      continue;
    }
    if (known != nullptr) {
      // Another version stays with its profile, unless it now contradicts the profile's
      // other records (a source that reused a record id for someone else).
      const std::string ref = absl::StrCat(id.first, "/", id.second);
      bool vetoed = false;
      for (const MemberView& m : members_of(root(known->owner))) {
        if (m.ref != ref && resolution::ClearlyTwoPeople(resolution::VetoOf(
                                e.n->person, *m.person, resolution::Compare(e.n->person, *m.person)))) {
          vetoed = true;
          break;
        }
      }
      if (vetoed) {
        ack->set_outcome(v1::RecordAck::REJECTED);
        ack->set_reason(
            "this version contradicts the other records of its profile (date of birth, given "
            "name or customer number); was the record id reused? A person must look");
        continue;
      }
      e.profile = known->owner;
    } else if (auto earlier = batch_profile.find(id); earlier != batch_profile.end()) {
      e.profile = *earlier->second;  // another version earlier in this batch
    } else {
      // Per profile (as it stands, merges included) the best record and the profile that
      // owns it: a joining record goes to that owner, so that undoing a merge later
      // takes it along with the record it matched.
      struct Best {
        double bits;
        const resolution::PersonRecord* record;
        const std::string* owner;
      };
      // By profile id, held by the index or an Entry. absl::string_view, not std::: this
      // abseil hashes the latter through std::hash, which cost 5% of the service's CPU here.
      absl::flat_hash_map<absl::string_view, Best> best_of;
      // Evidence below both thresholds decides nothing, and most candidates are other
      // people: only the rest are looked up by profile (hashing every candidate's profile
      // id took 15% of the service's CPU, on the thread that decides in order).
      const double decides_from = std::min(options_.link_bits, options_.review_bits);
      auto consider = [&](const std::string& owner, const resolution::PersonRecord& other, double bits) {
        if (bits < decides_from) return;
        auto [it, added] = best_of.try_emplace(root(owner), Best{bits, &other, &owner});
        if (!added && bits > it->second.bits) it->second = Best{bits, &other, &owner};
      };
      // Contacts the candidates show to be a household's do not count as personal.
      std::vector<const resolution::PersonRecord*> around = {&e.n->person};
      for (const auto& [c, bits] : scored[static_cast<size_t>(&e - entries.data())]) {
        consider(c->owner, c->person, bits);
        around.push_back(&c->person);
      }
      for (const std::string& k : *e.keys) {
        auto block = batch_index.find(k);
        if (block == batch_index.end()) continue;
        for (const auto& [owner, person] : block->second) {
          consider(*owner, *person, options_.model.BayesFactorBits(resolution::Compare(e.n->person, *person)));
          around.push_back(person);
        }
      }
      // The profile of the best evidence; on a tie the smaller id, so that the answer
      // does not depend on the order candidates came in.
      absl::string_view best;
      Best top{};
      for (const auto& [r_root, b] : best_of) {
        if (best.empty() || b.bits > top.bits || (b.bits == top.bits && r_root < best)) {
          best = r_root;
          top = b;
        }
      }
      std::string review_reason;
      if (!best.empty() && top.bits >= options_.link_bits) {
        // As in bulk resolution: the record it matched must raise no doubt at all, and no
        // record of the profile may be clearly someone else.
        const auto& group = members_of(std::string(best));
        const resolution::Comparison with_best = resolution::Compare(e.n->person, *top.record);
        bool vetoed = resolution::Vetoed(e.n->person, *top.record, with_best);
        if (!vetoed) {
          std::vector<const resolution::PersonRecord*> members;
          members.reserve(group.size());
          for (const MemberView& m : group) members.push_back(m.person);
          vetoed = resolution::GroupsClash(e.n->person, *top.record, {&e.n->person}, members);
        }
        // A contact counts only if no one else around uses it. Finding out takes a pass
        // over the candidates, so only when the answer depends on it (a shared contact
        // can only take evidence away).
        bool personal = resolution::PersonalEvidence(e.n->person, *top.record, with_best);
        if (personal) {
          personal = resolution::PersonalEvidence(e.n->person, *top.record, with_best,
                                                  resolution::SharedContacts(around, &e.n->person));
        }
        size_t fitting = 0;
        for (const auto& [r_root, b] : best_of) fitting += b.bits >= options_.link_bits;
        if (vetoed) {
          review_reason = "a record of the profile disagrees on date of birth, given name or customer number";
        } else if (!personal && !resolution::HouseholdEvidenceSuffices(e.n->person, *top.record, fitting)) {
          review_reason = "agrees only on what a household shares";
        } else if (static_cast<int>(group.size()) >= options_.max_cluster_size) {
          review_reason = "the profile has reached the size limit for automatic joins";
        } else {
          e.profile = *top.owner;
          ++joined;
        }
      } else if (!best.empty() && top.bits >= options_.review_bits) {
        review_reason = "between the thresholds";
      }
      if (e.profile.empty()) {
        e.profile = NewProfileId(rb.started);
        new_profile_ids.push_back(e.profile);
        batch_new.insert(e.profile);
        ack->set_new_profile(true);
        ++new_profiles;
        if (!review_reason.empty()) {
          review_rows.push_back({std::string(best), e.profile, top.bits, review_reason});
          ack->set_review(true);
          ack->set_reason(absl::StrCat("review: ", review_reason));
          ++reviews;
        }
      }
      members_of(root(e.profile)).push_back({absl::StrCat(id.first, "/", id.second), &e.n->person});
      for (const std::string& k : *e.keys) batch_index[k].emplace_back(&e.profile, &e.n->person);
    }
    batch_profile[id] = &e.profile;
    batch_versions.insert({id.first, id.second, e.micros});
    ack->set_outcome(v1::RecordAck::ACCEPTED);
    ack->set_profile_id(root(e.profile));
  }

  rb.resolve_done = absl::Now();
}

absl::Status IngestApi::SealRows(pqxx::transaction_base& tx, ResolvedBatch& rb, bool ahead) {
  const PreparedBatch& batch = *rb.batch;
  const v1::WriteRecordsRequest& request = *batch.request;
  SealedRows& out = rb.rows;
  out = SealedRows();
  rb.seal_started = absl::Now();
  Tx t(tx, key_, keys_);
  // New profiles' data keys, unwrapped once for sealing.
  for (const std::string& id : rb.new_profile_ids) {
    out.wrapped.emplace_back(id, key_.NewWrappedDataKey(id));
    RETURN_IF_ERROR(t.Remember(id, out.wrapped.back().second));
  }
  // The data keys of the profiles records join: those of profiles that batches still on
  // their way to the database make are in memory, the others come in one query.
  std::set<std::string> owners;
  {
    absl::MutexLock lock(&pending_mu_);
    if (ahead) {
      for (const auto& [id, wrapped] : out.wrapped) pending_keys_[id] = wrapped;
    }
    for (const BatchEntry& e : rb.entries) {
      if (e.profile.empty() || rb.batch_new.count(e.profile)) continue;
      if (auto pending = pending_keys_.find(e.profile); pending != pending_keys_.end()) {
        RETURN_IF_ERROR(t.Remember(e.profile, pending->second));
      } else {
        owners.insert(e.profile);
      }
    }
  }
  RETURN_IF_ERROR(t.LoadKeys(owners));
  rb.keys_done = absl::Now();
  // Sealing with the profiles' data keys, on two threads: each row its own slot, the
  // keys looked up before (a lookup may query the database).
  struct Row {
    const BatchEntry* e;
    storage::Key256 key;
    std::string sealed;
  };
  std::vector<Row> rows;
  for (const BatchEntry& e : rb.entries) {
    if (e.profile.empty()) continue;  // duplicate or rejected
    ASSIGN_OR_RETURN(storage::Key256 key, t.DataKey(e.profile));
    rows.push_back({&e, key, {}});
  }
  ForEachOnTwoThreads(static_cast<int>(rows.size()), [&](int i) {
    Row& row = rows[static_cast<size_t>(i)];
    const v1::SourceRecord& r = request.records(row.e->index);
    row.sealed = storage::Seal(row.key, batch.plaintext[static_cast<size_t>(row.e->index)],
                               RecordContext(row.e->profile, r.source_system(), r.record_id(), row.e->micros));
  });
  // The statement's arrays, each row appended where it goes: no string of each value.
  storage::TextArrayBuilder sources, ids, micros, profiles, lookups;
  storage::ByteaArrayBuilder sealed;
  size_t sealed_bytes = 0;
  for (const Row& row : rows) sealed_bytes += row.sealed.size();
  sealed.Reserve(rows.size(), sealed_bytes);
  for (Row& row : rows) {
    const BatchEntry& e = *row.e;
    const v1::SourceRecord& r = request.records(e.index);
    sources.Add(r.source_system());
    ids.Add(r.record_id());
    const absl::AlphaNum micros_text(e.micros);
    micros.Add(std::string_view(micros_text.data(), micros_text.size()));
    profiles.Add(e.profile);
    sealed.Add(row.sealed);
    lookups.Add(batch.lookups[static_cast<size_t>(e.index)]);
  }
  out.records = rows.size();
  out.sources = sources.Take();
  out.ids = ids.Take();
  out.micros = micros.Take();
  out.profiles = profiles.Take();
  out.sealed = sealed.Take();
  out.lookups = lookups.Take();
  rb.sealed = absl::Now();
  out.ready = true;
  return absl::OkStatus();
}

absl::Status IngestApi::InsertRows(pqxx::work& work, ResolvedBatch& rb, int64_t batch_seq) {
  const SealedRows& rows = rb.rows;
  // Writes, set-based, stamped with the batch's sequence number: new profiles (with data
  // keys), records (with their lookup keys' hashes), review candidates.
  const std::string seq_text = absl::StrCat(batch_seq);
  // New profiles' data keys are committed in the key store before this transaction
  // commits: a profile never exists without its key. The key store commits on its own
  // connection while this transaction inserts; the wait for it is at the end. (Should
  // this transaction fail, the keys stay behind, opening nothing.)
  std::future<absl::Status> keys_stored;
  if (!rows.wrapped.empty()) {
    keys_stored = std::async(std::launch::async, [&] { return keys_.Put(rows.wrapped); });
    work.exec_prepared(kInsertProfiles, TextArray(rb.new_profile_ids), seq_text);
  }
  if (rows.records > 0) {
    work.exec_prepared(kInsertRecords, rows.sources, rows.ids, rows.micros, rows.profiles, rows.sealed, rows.lookups,
                       seq_text);
  }
  if (!rb.review_rows.empty()) {
    std::vector<std::string> lefts, rights, bits, reasons;
    for (const ReviewRow& row : rb.review_rows) {
      lefts.push_back(row.left);
      rights.push_back(row.right);
      bits.push_back(absl::StrCat(row.bits));
      reasons.push_back(row.reason);
    }
    work.exec_prepared(kInsertCandidates, TextArray(lefts), TextArray(rights), TextArray(bits),
                       TextArray(reasons));
  }
  if (keys_stored.valid()) RETURN_IF_ERROR(keys_stored.get());
  rb.stored = absl::Now();
  return absl::OkStatus();
}

void IngestApi::AddToIndex(const ResolvedBatch& rb, bool provisional) {
  for (const BatchEntry& e : rb.entries) {
    if (e.profile.empty()) continue;  // duplicate or rejected
    const v1::SourceRecord& r = rb.batch->request->records(e.index);
    index_.AddVersion(r.source_system(), r.record_id(), e.micros, e.profile, e.n->person, provisional, e.keys);
  }
}

void IngestApi::ApplyStored() {
  absl::MutexLock lock(&stored_mu_);
  if (!stored_) return;
  index_.Settle(stored_->provisional_end);
  index_.set_seq(stored_->seq);
  stored_.reset();
}

void IngestApi::DropProvisional() {
  ApplyStored();  // what is stored stays
  index_.RollBack();
  ++epoch_;
  absl::MutexLock lock(&pending_mu_);
  pending_keys_.clear();  // their profiles will not be made
}

absl::StatusOr<std::shared_ptr<IngestApi::ResolvedBatch>> IngestApi::Resolve(PreparedBatch& batch) {
  auto rb = std::make_shared<ResolvedBatch>();
  rb->batch = &batch;
  rb->result.Swap(&batch.response);  // ResolveLocked fills them in
  {
    absl::MutexLock index_lock(&index_mu_);
    ApplyStored();
    ResolveLocked(*rb);
    rb->read_done = rb->started;  // nothing read: the database is checked when it is stored
    if (!batch.request->dry_run()) {
      AddToIndex(*rb, /*provisional=*/true);
      rb->provisional_end = index_.provisional_end();
    }
    rb->epoch = epoch_.load();
    rb->ticket = next_ticket_++;
  }
  // Data keys and sealing need no lock: done here, beside the batch before being stored.
  // Should anything stop them, Store does it all again in its transaction.
  if (!batch.request->dry_run()) {
    if (absl::Status sealed = pool_.Autocommit([&](pqxx::transaction_base& tx) { return SealRows(tx, *rb, /*ahead=*/true); });
        !sealed.ok()) {
      rb->rows = SealedRows();
      log::Warning("batch_not_sealed_ahead", {{"code", absl::StatusCodeToString(sealed.code())}});
    }
  }
  return rb;
}

const v1::WriteRecordsResponse& IngestApi::ResolvedAcks(const ResolvedBatch& resolved) { return resolved.result; }

void IngestApi::WaitForTurn(uint64_t ticket) {
  struct Waiting {
    IngestApi* api;
    uint64_t ticket;
  } waiting{this, ticket};
  absl::MutexLock lock(&turn_mu_);
  turn_mu_.Await(absl::Condition(
      +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS { return w->api->turn_ == w->ticket; }, &waiting));
}

void IngestApi::EndTurn() {
  absl::MutexLock lock(&turn_mu_);
  ++turn_;
}

absl::StatusOr<v1::WriteRecordsResponse> IngestApi::Store(std::shared_ptr<ResolvedBatch> rb) {
  WaitForTurn(rb->ticket);
  absl::StatusOr<v1::WriteRecordsResponse> result = StoreInTurn(*rb);
  EndTurn();
  return result;
}

void IngestApi::Abandon(std::shared_ptr<ResolvedBatch> rb) {
  WaitForTurn(rb->ticket);
  {
    absl::MutexLock index_lock(&index_mu_);
    // Its records, and those of batches resolved after it, leave the index; those are
    // resolved again when their turn comes.
    if (rb->epoch == epoch_.load()) DropProvisional();
  }
  EndTurn();
}

absl::StatusOr<v1::WriteRecordsResponse> IngestApi::StoreInTurn(ResolvedBatch& rb) {
  // Neither the index lock nor its wait: resolution may hold it for the next batch. The
  // epoch and the sequence number change only in Store's turns (and at start-up), so they
  // stay as read here.
  const bool stale = rb.epoch != epoch_.load();
  const int64_t expected = known_seq_.load();
  if (stale || (!rb.batch->request->dry_run() && !rb.rows.ready)) return WriteSerially(rb);
  if (rb.batch->request->dry_run()) return Finished(rb);
  // The batch was resolved against the index as this process left the database at
  // `expected`. If someone else wrote since (another instance, a merge, an erasure), the
  // resolution may be stale: it is done again, one batch at a time, after catching up.
  bool raced = false;
  int64_t batch_seq = 0;
  absl::Status status = pool_.Transact([&](pqxx::work& work) -> absl::Status {
    rb.write_started = absl::Now();
    batch_seq = work.exec_prepared1(kLockNextSeq)[0].as<int64_t>();
    if (batch_seq - 1 != expected) {
      raced = true;
      return absl::AbortedError("another writer came first");  // rolled back, the number too
    }
    return InsertRows(work, rb, batch_seq);
  });
  if (raced) return WriteSerially(rb);
  if (!status.ok()) {
    absl::MutexLock index_lock(&index_mu_);
    DropProvisional();  // nothing of it is stored: its records, and later ones, leave the index
    return status;
  }
  // Its provisional records are permanent and the index is as current as the database at
  // `batch_seq`: told to whoever takes the index lock next (ApplyStored).
  {
    absl::MutexLock lock(&stored_mu_);
    stored_ = Stored{batch_seq, rb.provisional_end};
  }
  known_seq_.store(batch_seq);
  {
    absl::MutexLock lock(&pending_mu_);
    for (const std::string& id : rb.new_profile_ids) pending_keys_.erase(id);  // in the key store now
  }
  return Finished(rb);
}

absl::StatusOr<v1::WriteRecordsResponse> IngestApi::WriteSerially(ResolvedBatch& rb) {
  resolved_again_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock index_lock(&index_mu_);
  // Whatever is provisional in the index was resolved before this batch is stored: it
  // leaves (and is resolved again in its turn), so that the index holds only what the
  // database does while this batch is resolved against it.
  DropProvisional();
  const absl::Status dry_run_done = absl::CancelledError("dry run");
  int64_t batch_seq = 0;
  absl::Status status = pool_.Transact([&](pqxx::work& work) -> absl::Status {
    const absl::Time started = absl::Now();
    work.exec_prepared(kLock);
    RETURN_IF_ERROR(CatchUp(work));
    const absl::Time caught_up = absl::Now();
    ResolveLocked(rb);
    rb.started = started;
    rb.read_done = caught_up;
    if (rb.batch->request->dry_run()) return dry_run_done;
    RETURN_IF_ERROR(SealRows(work, rb, /*ahead=*/false));
    rb.write_started = absl::Now();
    batch_seq = work.exec_prepared1(kNextSeq)[0].as<int64_t>();
    return InsertRows(work, rb, batch_seq);
  });
  if (status.ok() && batch_seq > 0) {
    // Committed: the index takes the batch, and is then as current as the database.
    AddToIndex(rb, /*provisional=*/false);
    if (index_.seq() == batch_seq - 1) {
      index_.set_seq(batch_seq);
      known_seq_.store(batch_seq);
    }
  }
  if (!status.ok() && !(rb.batch->request->dry_run() && status == dry_run_done)) return status;
  rb.serially = true;
  return Finished(rb);
}

v1::WriteRecordsResponse IngestApi::Finished(ResolvedBatch& rb) {
  int rejected = 0;
  for (const auto& ack : rb.result.acks()) rejected += ack.outcome() == v1::RecordAck::REJECTED;
  const absl::Time finished = absl::Now();
  auto ms = [](absl::Duration d) { return absl::ToDoubleMilliseconds(std::max(d, absl::ZeroDuration())); };
  log::Info("records_written", {{"records", rb.batch->request->records_size()},
                                {"normalize_ms", ms(rb.batch->prepare_time)},
                                {"read_ms", ms(rb.read_done - rb.started)},
                                {"resolve_ms", ms(rb.resolve_done - rb.read_done)},
                                {"score_ms", ms(rb.scored_done - rb.read_done)},
                                {"keys_ms", ms(rb.keys_done - rb.seal_started)},
                                {"seal_ms", ms(rb.sealed - rb.keys_done)},
                                {"write_ms", ms(finished - rb.write_started)},
                                {"store_ms", ms(rb.stored - rb.write_started)},
                                {"commit_ms", ms(finished - rb.stored)},
                                {"rejected", rejected},
                                {"new_profiles", rb.new_profiles},
                                {"joined", rb.joined},
                                {"review", rb.reviews},
                                {"candidates", rb.candidates},
                                {"dry_run", rb.batch->request->dry_run()},
                                {"resolved_again", rb.serially},
                                {"caller", rb.batch->caller}});
  return std::move(rb.result);
}

absl::Status IngestApi::LoadIndex() {
  absl::MutexLock lock(&index_mu_);
  DropProvisional();  // catching up needs an index with nothing provisional (none at start-up)
  const absl::Time started = absl::Now();
  // No lock needed: a writer stamps its rows and takes its number in one commit, so rows
  // up to the number read are all there, and later ones are left to the next catch-up.
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) { return CatchUp(work); }));
  log::Info("match_index_loaded", {{"records", static_cast<int64_t>(index_.records())},
                                   {"seq", index_.seq()},
                                   {"ms", absl::ToDoubleMilliseconds(absl::Now() - started)}});
  return absl::OkStatus();
}

absl::Status IngestApi::CatchUp(pqxx::work& work) {
  const int64_t head = work.exec_prepared1(kSeqNow)[0].as<int64_t>();
  if (head == index_.seq()) return absl::OkStatus();
  if (head < index_.seq()) {
    // The database went back (restored from a backup): start over.
    log::Warning("match_index_reset", {{"seq", index_.seq()}, {"database_seq", head}});
    index_ = MatchIndex();
  }
  const int64_t from = index_.seq();
  // Profiles first, so that records of erased ones are known as such. From nothing, only
  // merged and erased profiles say anything the records do not.
  for (const pqxx::row& r : work.exec_prepared(kProfilesSince, from, head)) {
    index_.SetProfile(r[0].as<std::string>(), r[1].is_null() ? "" : r[1].as<std::string>(),
                      r[2].as<bool>());
  }
  // Records in the order they were stamped, a range of numbers at a time: a number stamps
  // at most one batch, so the range widens while pages are small and narrows when large.
  Tx t(work, key_, keys_);
  int64_t step = 64;
  for (int64_t lo = from; lo < head;) {
    const int64_t hi = std::min(head, lo + step);
    pqxx::result rows = work.exec_prepared(kRecordsSince, lo, hi);
    std::set<std::string> owners;
    for (const pqxx::row& r : rows) owners.insert(r[3].as<std::string>());
    RETURN_IF_ERROR(t.LoadKeys(owners));
    for (const pqxx::row& r : rows) {
      const std::string source = r[0].as<std::string>(), id = r[1].as<std::string>();
      const std::string owner = r[3].as<std::string>();
      const int64_t micros = r[2].as<int64_t>();
      if (t.Erased(owner) || index_.Erased(owner)) {
        // Shredded: nothing to match, but the version is known, so that a source sending it
        // again is told the profile was erased instead of starting it anew.
        index_.MarkErased(owner);
        index_.AddVersion(source, id, micros, owner, {});
        continue;
      }
      // Anything else unreadable must stop, or a veto it would have raised goes missing.
      ASSIGN_OR_RETURN(v1::StoredRecord stored, t.Open(owner, source, id, micros, r[4]));
      index_.AddVersion(source, id, micros, owner,
                        PersonFromNormal({stored.normal().begin(), stored.normal().end()}));
    }
    lo = hi;
    if (rows.size() < 5000) {
      step *= 2;
    } else if (rows.size() > 20000) {
      step = std::max<int64_t>(1, step / 2);
    }
  }
  index_.set_seq(head);
  known_seq_.store(head);
  if (t.keyless() > 0) {
    log::Warning("profiles_without_data_key", {{"profiles", t.keyless()},
                                               {"hint", "erased after this database's backup, or the wrong key store"}});
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::UnifiedProfile> IngestApi::GetUnifiedProfile(
    const std::string& caller, const v1::GetUnifiedProfileRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_UNIFIED_PROFILES));
  if (request.profile_id().empty() || request.profile_id().size() > 64) {
    return absl::InvalidArgumentError("profile_id: required");
  }
  ASSIGN_OR_RETURN(auto answers, ReadProfiles({request.profile_id()}));
  return std::move(answers[0]);
}

absl::StatusOr<v1::GetUnifiedProfilesResponse> IngestApi::GetUnifiedProfiles(
    const std::string& caller, const v1::GetUnifiedProfilesRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_UNIFIED_PROFILES));
  if (request.profile_ids_size() == 0 || request.profile_ids_size() > kMaxProfilesPerRead) {
    return absl::InvalidArgumentError(absl::StrCat("profile_ids: 1 to ", kMaxProfilesPerRead));
  }
  for (int i = 0; i < request.profile_ids_size(); ++i) {
    if (request.profile_ids(i).empty() || request.profile_ids(i).size() > 64) {
      return absl::InvalidArgumentError(absl::StrCat("profile_ids[", i, "]: required, at most 64 bytes"));
    }
  }
  ASSIGN_OR_RETURN(auto answers,
                   ReadProfiles({request.profile_ids().begin(), request.profile_ids().end()}));
  v1::GetUnifiedProfilesResponse out;
  for (auto& answer : answers) {
    if (absl::IsNotFound(answer.status())) {
      out.add_answers()->set_not_found(std::string(absl::StripPrefix(answer.status().message(), "profile_id: ")));
    } else if (!answer.ok()) {
      return answer.status();
    } else {
      *out.add_answers()->mutable_profile() = *std::move(answer);
    }
  }
  return out;
}

absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> IngestApi::ReadProfiles(
    const std::vector<std::string>& ids) {
  std::vector<absl::StatusOr<v1::UnifiedProfile>> out;
  // One statement answers them all, so no transaction around it: one round trip.
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& work) -> absl::Status {
    out.assign(ids.size(), absl::NotFoundError("profile_id: no such profile"));
    Tx t(work, key_, keys_);
    const pqxx::result rows = work.exec_prepared(kWholeProfiles, TextArray(ids));
    absl::flat_hash_map<std::string, std::vector<pqxx::result::size_type>> rows_of;  // by requested id
    std::set<std::string> live;  // profiles with records to open: their keys in one query
    for (pqxx::result::size_type i = 0; i < rows.size(); ++i) {
      rows_of[rows[i][0].as<std::string>()].push_back(i);
      if (rows[i][3].as<bool>()) {
        t.SetErased(rows[i][2].as<std::string>());
      } else if (!rows[i][4].is_null()) {
        live.insert(rows[i][2].as<std::string>());
      }
    }
    RETURN_IF_ERROR(t.FetchKeys({live.begin(), live.end()}));
    absl::flat_hash_map<std::string, size_t> first_asked;  // an id asked twice is built once
    for (size_t n = 0; n < ids.size(); ++n) {
      if (auto [first, added] = first_asked.emplace(ids[n], n); !added) {
        out[n] = out[first->second];
        continue;
      }
      auto group = rows_of.find(ids[n]);
      if (group == rows_of.end()) continue;  // no such profile
      auto golden = [&]() -> absl::StatusOr<v1::UnifiedProfile> {
        const std::string root = rows[group->second[0]][1].as<std::string>();
        std::set<std::string> merged, erased;
        for (auto i : group->second) {
          const pqxx::row r = rows[i];
          const std::string profile = r[2].as<std::string>();
          if (profile != root) merged.insert(profile);
          if (r[3].as<bool>()) erased.insert(profile);
        }
        if (erased.count(root) || t.Erased(root)) return absl::NotFoundError("profile_id: the profile was erased");
        std::vector<Member> members;
        for (auto i : group->second) {
          const pqxx::row r = rows[i];
          const std::string profile = r[2].as<std::string>();
          if (r[4].is_null() || erased.count(profile) || t.Erased(profile)) continue;  // no records, or shredded
          Member m{profile, r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<int64_t>(), {}};
          ASSIGN_OR_RETURN(m.stored, t.Open(m.profile, m.source, m.id, m.micros, r[7]));
          members.push_back(std::move(m));
        }
        return Golden(root, merged, members, options_.source_trust);
      };
      out[n] = golden();
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::ProfileChanges> IngestApi::ProfileChangesSince(const std::string& caller, int64_t after_seq) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_UNIFIED_PROFILES));
  if (after_seq < 0) return absl::InvalidArgumentError("after_seq: must not be negative");
  v1::ProfileChanges out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    out.Clear();
    // Sequence numbers are taken under the sequence row's lock and held to commit, so
    // every change up to the position read here is visible to the query after it.
    const int64_t now = work.exec_prepared1(kSeqNow)[0].as<int64_t>();
    out.set_seq(std::max(now, after_seq));
    if (after_seq == 0 || now <= after_seq) return absl::OkStatus();
    for (const pqxx::row& r : work.exec_prepared(kChangedSince, after_seq, now)) {
      out.add_profile_ids(r[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::MergeProfilesResponse> IngestApi::MergeProfiles(
    const std::string& caller, const v1::MergeProfilesRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::MANAGE_IDENTITIES));
  if (request.profile_ids_size() < 2) {
    return absl::InvalidArgumentError("profile_ids: two or more");
  }
  if (request.reason().empty()) return absl::InvalidArgumentError("reason: required");
  if (request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required");
  }
  std::set<std::string> distinct(request.profile_ids().begin(), request.profile_ids().end());
  if (distinct.size() != static_cast<size_t>(request.profile_ids_size())) {
    return absl::InvalidArgumentError("profile_ids: listed twice");
  }
  v1::MergeProfilesResponse response;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    work.exec_prepared(kLock);
    for (int i = 0; i < request.profile_ids_size(); ++i) {
      pqxx::result r = work.exec_prepared(kProfileState, request.profile_ids(i));
      if (r.empty()) {
        return absl::NotFoundError(absl::StrCat("profile_ids[", i, "]: no such profile"));
      }
      if (!r[0][0].is_null()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "profile_ids[", i, "]: already merged into ", r[0][0].as<std::string>()));
      }
      if (r[0][1].as<bool>()) {
        return absl::FailedPreconditionError(absl::StrCat("profile_ids[", i, "]: erased"));
      }
    }
    const std::string into = request.profile_ids(0);
    std::vector<std::string> from(request.profile_ids().begin() + 1, request.profile_ids().end());
    // A change matching indexes catch up with (match_index.h).
    const int64_t seq = work.exec_prepared1(kNextSeq)[0].as<int64_t>();
    for (const std::string& p : from) {
      work.exec_prepared(kSetMergedInto, p, into, seq);
      work.exec_prepared(kDropCandidates, into, p);
    }
    response.set_profile_id(into);
    response.set_merge_id(NewId("m-"));
    work.exec_prepared(kInsertMerge, response.merge_id(), into, absl::StrJoin(from, ","),
                       request.reason(), static_cast<int>(request.acting_party().kind()),
                       request.acting_party().id(), caller);
    return absl::OkStatus();
  }));
  log::Info("profiles_merged", {{"merge_id", response.merge_id()},
                                {"profiles", request.profile_ids_size()},
                                {"caller", caller}});
  return response;
}

absl::StatusOr<v1::UnmergeProfileResponse> IngestApi::UnmergeProfile(
    const std::string& caller, const v1::UnmergeProfileRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::MANAGE_IDENTITIES));
  if (request.merge_id().empty()) return absl::InvalidArgumentError("merge_id: required");
  if (request.reason().empty()) return absl::InvalidArgumentError("reason: required");
  if (request.acting_party().kind() == v1::ActingParty::KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError("acting_party.kind: required");
  }
  v1::UnmergeProfileResponse response;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    work.exec_prepared(kLock);
    pqxx::result m = work.exec_prepared(kGetMerge, request.merge_id());
    if (m.empty()) return absl::NotFoundError("merge_id: no such merge");
    if (m[0][2].as<bool>()) return absl::FailedPreconditionError("merge_id: already undone");
    const std::string into = m[0][0].as<std::string>();
    response.add_profile_ids(into);
    const int64_t seq = work.exec_prepared1(kNextSeq)[0].as<int64_t>();
    for (absl::string_view p : absl::StrSplit(m[0][1].as<std::string>(), ',')) {
      work.exec_prepared(kUnmergeOne, std::string(p), into, seq);
      response.add_profile_ids(std::string(p));
    }
    work.exec_prepared(kMarkUnmerged, request.merge_id(), request.reason(),
                       static_cast<int>(request.acting_party().kind()), request.acting_party().id(),
                       caller);
    return absl::OkStatus();
  }));
  log::Info("profiles_unmerged", {{"merge_id", request.merge_id()}, {"caller", caller}});
  return response;
}

absl::StatusOr<v1::FindProfilesResponse> IngestApi::FindProfiles(const std::string& caller,
                                                                  const v1::FindProfilesRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::READ_UNIFIED_PROFILES));
  // The key made exactly as records' keys are on the way in: the value normalised as that
  // attribute of a record, then its lookup key (LookupKeys of BlockingKeys).
  std::string field, attribute, value;
  switch (request.key_case()) {
    case v1::FindProfilesRequest::kEmail: field = attribute = "email", value = request.email(); break;
    case v1::FindProfilesRequest::kPhone: field = "phone", attribute = "phone_mobile", value = request.phone(); break;
    case v1::FindProfilesRequest::kCustomerNumber:
      field = attribute = "customer_number", value = request.customer_number();
      break;
    default:
      return absl::InvalidArgumentError("key: one of email, phone or customer_number");
  }
  auto normalized = NormalizeAttributes({{attribute, value}}, options_.normalize);
  if (!normalized.ok()) {
    // "attributes.phone_mobile: not a phone number" -> "phone: not a phone number"
    const absl::string_view message = normalized.status().message();
    const size_t colon = message.find(": ");
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", colon == absl::string_view::npos ? message : message.substr(colon + 2)));
  }
  const std::vector<std::string> keys = LookupKeys(resolution::BlockingKeys(normalized->person));
  if (keys.size() != 1) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  const std::string& key = keys[0];
  const std::string hash = absl::BytesToHexString(StoredLookupHash(key_, key));
  v1::FindProfilesResponse out;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    out.Clear();
    for (const pqxx::row& r : work.exec_prepared(kFindByKey, hash)) out.add_profile_ids(r[0].as<std::string>());
    return absl::OkStatus();
  }));
  return out;
}

absl::Status IngestApi::ReconcileKeyStore() {
  // Keys still in this database (from before the key store) move there, a page at a time.
  int64_t moved = 0;
  for (bool more = true; more;) {
    std::vector<std::pair<std::string, std::string>> page;
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      page.clear();
      for (const pqxx::row& r : tx.exec_prepared(kKeysToMove)) {
        page.emplace_back(r[0].as<std::string>(), pqxx::binarystring(r[1]).str());
      }
      return absl::OkStatus();
    }));
    more = !page.empty();
    if (!more) break;
    RETURN_IF_ERROR(keys_.Put(page));
    std::vector<std::string> ids;
    for (const auto& [id, key] : page) ids.push_back(id);
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kKeysMoved, TextArray(ids));
      return absl::OkStatus();
    }));
    moved += static_cast<int64_t>(ids.size());
  }
  // A key store restored from a backup holds keys that erasures destroyed since: destroy
  // them again.
  std::vector<std::string> erased;
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    for (const pqxx::row& r : tx.exec_prepared(kErasedIds)) erased.push_back(r[0].as<std::string>());
    return absl::OkStatus();
  }));
  ASSIGN_OR_RETURN(int64_t destroyed, keys_.Destroy(erased));
  log::Info("key_store_reconciled", {{"keys_moved", moved}, {"erased_profiles", static_cast<int64_t>(erased.size())},
                                     {"keys_destroyed_again", destroyed}});
  return absl::OkStatus();
}

namespace {

std::string RetainedKeyId(const std::string& profile) { return absl::StrCat("retained:", profile); }

absl::Status ValidateErase(const v1::EraseProfileRequest& request) {
  if (request.profile_id().empty() || request.profile_id().size() > 64) {
    return absl::InvalidArgumentError("profile_id: required, at most 64 characters");
  }
  for (int i = 0; i < request.retain_size(); ++i) {
    const v1::RetentionRule& r = request.retain(i);
    if (r.purpose().empty()) return absl::InvalidArgumentError(absl::StrCat("retain[", i, "].purpose: required"));
    if (r.retention_days() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("retain[", i, "].retention_days: must be positive"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::EraseProfileResponse> IngestApi::EraseProfile(const std::string& caller,
                                                                 const v1::EraseProfileRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::ERASE_CUSTOMERS));
  RETURN_IF_ERROR(ValidateErase(request));
  v1::EraseProfileResponse answer;
  std::vector<std::string> destroy;
  bool again = false;
  // As a batch does: no record joins the profile while it goes.
  absl::MutexLock index_lock(&index_mu_);
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    answer.Clear();
    destroy.clear();
    work.exec_prepared(kLock);
    if (pqxx::result done = work.exec_prepared(kErasure, request.profile_id()); !done.empty()) {
      if (!answer.ParseFromString(pqxx::binarystring(done[0][0]).str())) {
        return absl::DataLossError("stored erasure answer does not parse");
      }
      again = true;
      destroy.assign(answer.erased_profile_ids().begin(), answer.erased_profile_ids().end());
      return absl::OkStatus();
    }
    const pqxx::result rows = work.exec_prepared(kWholeProfiles, TextArray(std::vector<std::string>{request.profile_id()}));
    if (rows.empty()) return absl::NotFoundError("profile_id: no such profile");
    const std::string root = rows[0][1].as<std::string>();
    std::set<std::string> profiles, merged, live;
    for (const pqxx::row& r : rows) {
      const std::string profile = r[2].as<std::string>();
      profiles.insert(profile);
      if (profile != root) merged.insert(profile);
      if (!r[3].as<bool>() && !r[4].is_null()) live.insert(profile);
    }
    Tx t(work, key_, keys_);
    RETURN_IF_ERROR(t.FetchKeys({live.begin(), live.end()}));
    std::vector<Member> members;
    for (const pqxx::row& r : rows) {
      const std::string profile = r[2].as<std::string>();
      if (!live.count(profile) || r[4].is_null()) continue;
      Member m{profile, r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<int64_t>(), {}};
      ASSIGN_OR_RETURN(m.stored, t.Open(m.profile, m.source, m.id, m.micros, r[7]));
      members.push_back(std::move(m));
    }
    const absl::Time now = absl::Now();

    // What legal obligations keep: per rule, the fields with a value, until the period
    // that runs from the customer's latest record of the rule's sources ends.
    const v1::UnifiedProfile golden = Golden(root, merged, members, options_.source_trust);
    v1::UnifiedProfile kept;
    kept.set_profile_id(root);
    absl::Time keep_until = absl::InfinitePast();
    for (const v1::RetentionRule& rule : request.retain()) {
      int64_t latest = -1;
      for (const Member& m : members) {
        if (std::count(rule.sources().begin(), rule.sources().end(), m.source)) latest = std::max(latest, m.micros);
      }
      if (latest < 0) continue;
      const absl::Time until = absl::FromUnixMicros(latest) + absl::Hours(24) * rule.retention_days();
      if (until <= now) continue;
      v1::RetainedFields* r = nullptr;
      for (const v1::FieldValue& f : golden.fields()) {
        if (!std::count(rule.fields().begin(), rule.fields().end(), f.field())) continue;
        if (r == nullptr) {
          r = answer.add_retained();
          r->set_purpose(rule.purpose());
          *r->mutable_keep_until() = ToProtoTime(until);
        }
        r->add_fields(f.field());
        bool have = false;
        for (const v1::FieldValue& k : kept.fields()) have = have || k.field() == f.field();
        if (!have) *kept.add_fields() = f;
      }
      if (r != nullptr) keep_until = std::max(keep_until, until);
    }
    if (kept.fields_size() > 0) {
      // Sealed anew under a key of its own: the profile's key, which every older copy of
      // the records needs, goes all the same.
      const std::string key_id = RetainedKeyId(root);
      const std::string wrapped = key_.NewWrappedDataKey(key_id);
      RETURN_IF_ERROR(keys_.Put({{key_id, wrapped}}));
      ASSIGN_OR_RETURN(auto stored, keys_.Get({key_id}));  // the one stored, should a retry have put one
      ASSIGN_OR_RETURN(storage::Key256 key, key_.UnwrapDataKey(stored.at(key_id), key_id));
      work.exec_prepared(kInsertRetained, root,
                         pqxx::binarystring(storage::Seal(key, kept.SerializeAsString(), absl::StrCat("retained|", root))),
                         absl::ToUnixMicros(keep_until));
    }

    const std::vector<std::string> ids(profiles.begin(), profiles.end());
    const int64_t seq = work.exec_prepared1(kNextSeq)[0].as<int64_t>();
    std::set<std::pair<std::string, std::string>> refs;
    for (const pqxx::row& r : work.exec_prepared(kEraseRecords, TextArray(ids))) {
      refs.emplace(r[0].as<std::string>(), r[1].as<std::string>());
    }
    work.exec_prepared(kEraseCandidates, TextArray(ids));
    work.exec_prepared(kEraseProfiles, TextArray(ids), seq);

    answer.set_profile_id(root);
    for (const std::string& id : ids) answer.add_erased_profile_ids(id);
    std::vector<std::string> ref_texts;
    for (const auto& [source, id] : refs) {
      v1::SourceRecordRef* ref = answer.add_source_records();
      ref->set_source_system(source);
      ref->set_record_id(id);
      ref_texts.push_back(absl::StrCat(source, "\t", id));
    }
    *answer.mutable_erased_at() = ToProtoTime(now);
    answer.set_destroyed_keys(static_cast<int64_t>(ids.size()));
    work.exec_prepared(kInsertErasure, root, TextArray(ids), TextArray(ref_texts),
                       pqxx::binarystring(answer.SerializeAsString()));
    destroy = ids;
    return absl::OkStatus();
  }));
  // Committed: the keys go now (again, for a repeat: a crash may have come between).
  ASSIGN_OR_RETURN(int64_t destroyed, keys_.Destroy(destroy));
  for (const std::string& id : destroy) index_.MarkErased(id);
  log::Info("profile_erased", {{"profile_id", answer.profile_id()},
                               {"profiles", answer.erased_profile_ids_size()},
                               {"source_records", answer.source_records_size()},
                               {"retained_purposes", answer.retained_size()},
                               {"keys_destroyed_now", destroyed},
                               {"again", again},
                               {"caller", caller}});
  return answer;
}

absl::StatusOr<v1::ListInactiveProfilesResponse> IngestApi::ListInactiveProfiles(
    const std::string& caller, const v1::ListInactiveProfilesRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::ERASE_CUSTOMERS));
  if (!request.has_before()) return absl::InvalidArgumentError("before: required");
  if (request.limit() < 1 || request.limit() > 1000) return absl::InvalidArgumentError("limit: 1 to 1000");
  v1::ListInactiveProfilesResponse out;
  RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
    out.Clear();
    for (const pqxx::row& r :
         tx.exec_prepared(kInactive, absl::ToUnixMicros(FromProtoTime(request.before())), request.limit())) {
      out.add_profile_ids(r[0].as<std::string>());
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<v1::PurgeExpiredRetentionResponse> IngestApi::PurgeExpiredRetention(const std::string& caller,
                                                                                   absl::Time now) {
  RETURN_IF_ERROR(Authorize(caller, v1::ERASE_CUSTOMERS));
  v1::PurgeExpiredRetentionResponse response;
  for (bool more = true; more;) {
    std::vector<std::string> ids;
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      ids.clear();
      for (const pqxx::row& r : tx.exec_prepared(kExpiredRetained, absl::ToUnixMicros(now))) {
        ids.push_back(r[0].as<std::string>());
      }
      return absl::OkStatus();
    }));
    more = ids.size() == 1000;
    if (ids.empty()) break;
    // The key first: once it is gone the sealed row opens nothing, wherever copies of it are.
    std::vector<std::string> key_ids;
    for (const std::string& id : ids) key_ids.push_back(RetainedKeyId(id));
    RETURN_IF_ERROR(keys_.Destroy(key_ids).status());
    RETURN_IF_ERROR(pool_.Autocommit([&](pqxx::transaction_base& tx) {
      tx.exec_prepared(kDeleteRetained, TextArray(ids));
      return absl::OkStatus();
    }));
    for (const std::string& id : ids) response.add_profile_ids(id);
  }
  log::Info("retention_purged", {{"profiles", response.profile_ids_size()}, {"caller", caller}});
  return response;
}

absl::StatusOr<v1::ListMatchCandidatesResponse> IngestApi::ListMatchCandidates(
    const std::string& caller, const v1::ListMatchCandidatesRequest& request) {
  RETURN_IF_ERROR(Authorize(caller, v1::MANAGE_IDENTITIES));
  int size = request.page().page_size();
  if (size < 0 || size > 1000) return absl::InvalidArgumentError("page.page_size: 0 (50) to 1000");
  if (size == 0) size = 50;
  std::string after_left, after_right;
  if (!request.page().page_token().empty()) {
    std::string raw;
    std::vector<std::string> parts;
    if (absl::WebSafeBase64Unescape(request.page().page_token(), &raw)) parts = absl::StrSplit(raw, '\n');
    if (parts.size() != 2) return absl::InvalidArgumentError("page.page_token: not a token from this listing");
    after_left = parts[0];
    after_right = parts[1];
  }
  v1::ListMatchCandidatesResponse response;
  RETURN_IF_ERROR(pool_.Transact([&](pqxx::work& work) -> absl::Status {
    response.Clear();
    pqxx::result rows = work.exec_prepared(kListCandidates, after_left, after_right, size + 1);
    for (int i = 0; i < static_cast<int>(rows.size()) && i < size; ++i) {
      v1::MatchCandidate* c = response.add_candidates();
      c->set_left_profile_id(rows[i][0].as<std::string>());
      c->set_right_profile_id(rows[i][1].as<std::string>());
      c->set_score(rows[i][2].as<double>());
      c->set_reason(rows[i][3].as<std::string>());
      *c->mutable_created_at() = ToProtoTime(absl::FromUnixMicros(rows[i][4].as<int64_t>()));
    }
    if (static_cast<int>(rows.size()) > size) {
      const auto& last = response.candidates(size - 1);
      absl::WebSafeBase64Escape(absl::StrCat(last.left_profile_id(), "\n", last.right_profile_id()),
                                response.mutable_next_page_token());
    }
    return absl::OkStatus();
  }));
  return response;
}

}  // namespace cdp::ingest
