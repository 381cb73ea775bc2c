// The ingest service's behaviour apart from gRPC: source records in, identities resolved
// on arrival, profiles merged and unmerged, golden records with lineage out.
//
// Storage (schema "ingest", storage/migrations/ingest/): every record version is sealed
// with the data key of the profile it joined; lookups (e-mail, phone, customer number) go
// through keyed hashes. Resolution reads a matching index in memory (match_index.h); a
// batch is stored in one transaction under an advisory lock, and only if nobody wrote since
// the index was last as current as the database (otherwise it catches up and resolves the
// batch again in that transaction), so two writers never create two profiles for one
// person at once. A batch is resolved while the one before it is stored (Resolve, Store).
#ifndef CDP_SERVICES_INGEST_INGEST_API_H_
#define CDP_SERVICES_INGEST_INGEST_API_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "pqxx/pqxx"
#include "cdp/v1/ingest.pb.h"
#include "consent/catalog.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/arena.h"
#include "services/ingest/match_index.h"
#include "services/ingest/record.h"
#include "services/ingest/resolution/resolver.h"
#include "storage/crypto.h"
#include "storage/key_store.h"
#include "storage/pool.h"

namespace cdp::ingest {

// A WriteRecordsRequest in an arena of its own. A batch's records carry thousands of small
// strings (each attribute a map entry, a name and a value): in the arena, reading them
// costs no allocation each, and they are freed in one go when the batch is done. (Late in
// a load of a million people, the service spent about a twentieth of its time freeing
// them one by one, and more in malloc making them.) Read a batch into get(); move it, it
// does not copy. A moved-from ArenaRequest holds nothing until assigned again.
class ArenaRequest {
 public:
  ArenaRequest();
  // A copy of `request` in a new arena.
  explicit ArenaRequest(const v1::WriteRecordsRequest& request);
  ArenaRequest(ArenaRequest&& other) noexcept;
  ArenaRequest& operator=(ArenaRequest&& other) noexcept;
  ArenaRequest(const ArenaRequest&) = delete;
  ArenaRequest& operator=(const ArenaRequest&) = delete;
  ~ArenaRequest();

  v1::WriteRecordsRequest* get() { return request_; }
  const v1::WriteRecordsRequest& operator*() const { return *request_; }
  const v1::WriteRecordsRequest* operator->() const { return request_; }

 private:
  std::unique_ptr<google::protobuf::Arena> arena_;
  v1::WriteRecordsRequest* request_;  // in arena_
};

class IngestApi {
 public:
  struct Options {
    resolution::Model model = resolution::Model::Default();
    // Thresholds on the evidence (log2 Bayes factor) between a new record and the best
    // record of a profile: at or above `link_bits` the record joins the profile; from
    // `review_bits` it starts its own profile and the pair goes on the review queue.
    double link_bits = 21.0;
    double review_bits = 17.7;
    int max_cluster_size = 10;       // records a profile may gather by resolution
    int max_batch = 1000;
    resolution::BlockLimits blocks;  // larger blocks are skipped: a name thousands share says nothing
    // Survivorship: sources in order of trust, most trusted first; others after them.
    std::vector<std::string> source_trust = {"crm", "billing", "webshop", "contact-centre"};
    NormalizeOptions normalize;  // e.g. the region of phone numbers without a country code
  };

  // Everything must outlive the API. Thread-safe. Data keys live in `keys`, a database of
  // their own (storage/key_store.h); `key` wraps them.
  IngestApi(std::shared_ptr<const consent::Catalog> catalog, storage::Pool& pool,
            const storage::MasterKey& key, storage::KeyStore& keys, Options options);
  static std::vector<storage::Statement> Statements();

  // Loads the matching index from the database (otherwise the first batch does), logging
  // how many records and how long.
  absl::Status LoadIndex();

  // One batch: per record ACCEPTED (with its profile), DUPLICATE or REJECTED (with the
  // attribute named). InvalidArgument for a batch over the limit; Unavailable or Aborted
  // when the database fails, and then nothing of the batch is stored. Prepare, then Write.
  absl::StatusOr<v1::WriteRecordsResponse> WriteBatch(const std::string& caller,
                                                      const v1::WriteRecordsRequest& request);

  // A batch checked and normalised, with all of each record's work that does not depend on
  // the profile it will join, ready for Write.
  struct PreparedBatch {
    std::string caller;
    ArenaRequest request;
    // Per record REJECTED with the reason, or still open; Resolve takes them.
    v1::WriteRecordsResponse response;
    // Per record (empty for a rejected one): normalised (its person for matching; its
    // values are in the StoredRecord), its blocking keys, the keyed hashes of its lookup
    // keys (as a bytea[] in text, storage::ByteaArrayText), and its StoredRecord
    // serialised, to be sealed.
    std::vector<std::optional<NormalizedRecord>> normalized;
    std::vector<std::vector<std::string>> blocking_keys;
    std::vector<std::string> lookups;
    std::vector<std::string> plaintext;
    absl::Duration prepare_time;
  };
  // The first half of WriteBatch: no lock, no database, so a stream's next batch is
  // prepared while the one before it is written. PermissionDenied, or InvalidArgument for
  // a batch over the limit.
  absl::StatusOr<PreparedBatch> Prepare(const std::string& caller, ArenaRequest request) const;
  // The second half, resolution and storage: Resolve, then Store.
  absl::StatusOr<v1::WriteRecordsResponse> Write(PreparedBatch& batch);

  // Resolution and storage as two steps, so that a batch is resolved while the one before
  // it is stored. Resolve works in memory only: it resolves the batch against the matching
  // index, whose records the batches resolved before it and not yet stored already joined
  // provisionally, and then its own join them too. Store writes the batch in one
  // transaction, the batches in the order Resolve handed them out (a Store waits for the
  // earlier ones). Every batch from Resolve must go to Store or Abandon exactly once, from
  // any thread, and `batch` must outlive that. Resolve takes the batch's acks (its
  // `response` is left empty): they become the answer, not a copy of them.
  //
  // When another writer (another instance, a merge, an erasure) wrote in between, or an
  // earlier batch failed or was abandoned, a batch's resolution may be stale: Store then
  // takes the provisional records out of the index, catches up with the database and
  // resolves the batch again under the ingest lock, as one transaction. Store's errors are
  // WriteBatch's; after one, nothing of the batch is stored.
  struct ResolvedBatch;
  absl::StatusOr<std::shared_ptr<ResolvedBatch>> Resolve(PreparedBatch& batch);
  absl::StatusOr<v1::WriteRecordsResponse> Store(std::shared_ptr<ResolvedBatch> resolved);
  // How many batches Store had to resolve again so far (see above): a stream's pipeline
  // runs without, unless other writers interleave.
  int64_t batches_resolved_again() const { return resolved_again_.load(std::memory_order_relaxed); }
  // The acks as resolved: what Store answers, unless it has to resolve the batch again.
  // Until Store, which moves them out.
  static const v1::WriteRecordsResponse& ResolvedAcks(const ResolvedBatch& resolved);
  // Drops a resolved batch unstored: its records (and those of batches resolved after it,
  // which Store resolves again) leave the index when its turn comes.
  void Abandon(std::shared_ptr<ResolvedBatch> resolved);

  // NOT_FOUND for an unknown or erased profile; a merged-away id answers with the profile
  // it lives under.
  absl::StatusOr<v1::UnifiedProfile> GetUnifiedProfile(const std::string& caller,
                                                       const v1::GetUnifiedProfileRequest& request);
  // The same for up to kMaxProfilesPerRead ids in one database round trip: one answer per
  // id, in order (not_found with the reason for an unknown or erased one).
  static constexpr int kMaxProfilesPerRead = 1000;
  absl::StatusOr<v1::GetUnifiedProfilesResponse> GetUnifiedProfiles(const std::string& caller,
                                                                    const v1::GetUnifiedProfilesRequest& request);
  absl::StatusOr<v1::MergeProfilesResponse> MergeProfiles(const std::string& caller,
                                                          const v1::MergeProfilesRequest& request);
  absl::StatusOr<v1::UnmergeProfileResponse> UnmergeProfile(
      const std::string& caller, const v1::UnmergeProfileRequest& request);
  // INVALID_ARGUMENT naming the key when it does not parse (email, phone) or none is given.
  absl::StatusOr<v1::FindProfilesResponse> FindProfiles(const std::string& caller,
                                                        const v1::FindProfilesRequest& request);
  // One step of WatchProfileChanges: the database's position now and the profiles changed
  // after `after_seq` up to it (a merged profile with the one it joined). `after_seq` 0
  // gives the position only. PERMISSION_DENIED without READ_UNIFIED_PROFILES.
  absl::StatusOr<v1::ProfileChanges> ProfileChangesSince(const std::string& caller, int64_t after_seq);
  // At start-up: moves data keys still in this database (from before the key store) to
  // the key store, and destroys again the keys of profiles this database says were erased
  // (a key store restored from an older backup has them back).
  absl::Status ReconcileKeyStore();
  // Erases the profile and everything merged into it (see IngestService.EraseProfile):
  // PERMISSION_DENIED without ERASE_CUSTOMERS; NOT_FOUND for an unknown profile; a repeat
  // answers as the first time (and destroys the keys again, should a crash have come
  // between the commit and that).
  absl::StatusOr<v1::EraseProfileResponse> EraseProfile(const std::string& caller,
                                                        const v1::EraseProfileRequest& request);
  // Customers with no record changed at or after request.before (the retention job).
  absl::StatusOr<v1::ListInactiveProfilesResponse> ListInactiveProfiles(const std::string& caller,
                                                                        const v1::ListInactiveProfilesRequest& request);
  // Destroys the keys and rows of what erasures kept until a time at or before `now`.
  absl::StatusOr<v1::PurgeExpiredRetentionResponse> PurgeExpiredRetention(const std::string& caller,
                                                                          absl::Time now);
  absl::StatusOr<v1::ListMatchCandidatesResponse> ListMatchCandidates(
      const std::string& caller, const v1::ListMatchCandidatesRequest& request);

 private:
  absl::Status Authorize(const std::string& caller, v1::Permission permission) const;
  // The golden records of `ids`: per id, the profile or NotFound (unknown or erased).
  absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> ReadProfiles(const std::vector<std::string>& ids);
  // Brings the index up to the database's sequence number, in `work`. The index must hold
  // nothing provisional.
  absl::Status CatchUp(pqxx::work& work) ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  // Resolves rb.batch against the index as it stands.
  void ResolveLocked(ResolvedBatch& rb) ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  // Makes rb.rows: unwraps or makes the data keys its records need and seals them. `ahead`:
  // before its turn to be stored, so its new profiles' keys go to pending_keys_ meanwhile.
  absl::Status SealRows(pqxx::transaction_base& tx, ResolvedBatch& rb, bool ahead);
  // Writes rb.rows in `work`, which holds the ingest lock and took `batch_seq` for them.
  absl::Status InsertRows(pqxx::work& work, ResolvedBatch& rb, int64_t batch_seq);
  // The batch's records into the index (provisionally: until Settle or RollBack).
  void AddToIndex(const ResolvedBatch& rb, bool provisional) ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  // Makes the index take what Store last stored: its provisional records become
  // permanent, its sequence number the database's.
  void ApplyStored() ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  // Takes every provisional record out of the index; batches resolved before are stale.
  void DropProvisional() ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  void WaitForTurn(uint64_t ticket);
  void EndTurn();
  absl::StatusOr<v1::WriteRecordsResponse> StoreInTurn(ResolvedBatch& rb);
  // Catches up, resolves again and stores, all under the ingest lock in one transaction.
  absl::StatusOr<v1::WriteRecordsResponse> WriteSerially(ResolvedBatch& rb);
  // Logs where the batch's time went and hands out its acks (moved: 500 acks copied cost
  // about 1.5% of the service's CPU while ingesting).
  v1::WriteRecordsResponse Finished(ResolvedBatch& rb);

  std::shared_ptr<const consent::Catalog> catalog_;
  storage::Pool& pool_;
  const storage::MasterKey& key_;
  storage::KeyStore& keys_;
  const Options options_;
  absl::Mutex index_mu_;
  MatchIndex index_ ABSL_GUARDED_BY(index_mu_);
  // Grows whenever the index's provisional records are taken out: a batch resolved in an
  // earlier epoch is resolved again. Changed under index_mu_, in Store's turns only.
  std::atomic<uint64_t> epoch_{0};
  // The database's sequence number as this process last left it (the index reaches it
  // at the next ApplyStored).
  std::atomic<int64_t> known_seq_{0};
  struct Stored {
    int64_t seq;
    uint64_t provisional_end;
  };
  absl::Mutex stored_mu_;
  std::optional<Stored> stored_ ABSL_GUARDED_BY(stored_mu_);  // not yet applied to the index
  uint64_t next_ticket_ ABSL_GUARDED_BY(index_mu_) = 0;
  absl::Mutex turn_mu_;
  uint64_t turn_ ABSL_GUARDED_BY(turn_mu_) = 0;  // the ticket whose Store may run
  std::atomic<int64_t> resolved_again_{0};
  // Wrapped data keys of profiles that resolved batches make and that are not stored yet:
  // a later batch joining one seals with it before it reaches the key store.
  absl::Mutex pending_mu_;
  absl::flat_hash_map<std::string, std::string> pending_keys_ ABSL_GUARDED_BY(pending_mu_);
};

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_INGEST_API_H_
