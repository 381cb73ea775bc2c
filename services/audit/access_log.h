// The access log: one sequencer that gives events their positions and makes them durable
// in groups, the Merkle tree over them, signed tree heads, proofs and verification.
//
// Group commit: events of concurrent callers queue while groups are being written; a
// caller that finds a writer's place free takes every event queued, numbers them, stores
// them in one transaction and answers them all (services/common/coalescer.h). A caller's
// events are durable when Append returns OK. When it returns an error, the read that
// wanted them fails (no entry, no data), and none of them is in the log, with one
// exception: a commit whose outcome the store could not learn (the connection broke while
// committing) may have landed, and then the log takes those events in before the next
// group. They name a read that released nothing.
//
// Up to two groups are written at once, as a pipeline: a group that queued behind another
// is numbered after it, encoded and inserted while that one commits (waiting for the
// disk), and commits only once the one before it has. If a group fails, every group
// numbered after it fails too (none of them commits), so the positions stay gap-free and
// in commit order.
//
// Each event enters the tree as its entry: the deterministic protobuf serialisation of the
// cdp.v1.AccessEvent with position, event id and time set and the explanation left out
// (explanations are rendered from entries, in the reader's language).
#ifndef CDP_SERVICES_AUDIT_ACCESS_LOG_H_
#define CDP_SERVICES_AUDIT_ACCESS_LOG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "cdp/v1/audit.pb.h"
#include "consent/receipt.h"
#include "services/audit/event_store.h"
#include "services/audit/merkle.h"
#include "services/common/coalescer.h"

namespace cdp::audit {

// The entry of an event (see the file comment).
std::string EntryOf(const v1::AccessEvent& event);
// InvalidArgument naming the first field name of `event` that its `fields` column cannot
// hold (entry_view.h, ValidFieldName), its path prefixed with `at` ("events[3]."); else OK.
absl::Status CheckFieldNames(const v1::AccessEvent& event, const std::string& at);
// The JSON a tree head's JWS signs: {"tree_size":N,"root_hash":"<hex>","timestamp":"<RFC 3339>"}.
std::string TreeHeadJson(int64_t tree_size, const Hash& root, absl::Time at);
// Whether `signature` (compact JWS) signs exactly the head of `tree_size` events with
// `root`, made at `at`, under the key in `public_key_pem`. What every checker of a head
// (the log's own verification, the portal, cdpctl) asks.
bool TreeHeadSigned(const std::string& signature, int64_t tree_size, const Hash& root, absl::Time at,
                    const std::string& public_key_pem);

class AccessLog {
 public:
  struct Options {
    absl::Duration sign_interval = absl::Seconds(1);  // a grown tree is signed this often
    size_t max_group = 5000;                          // events per transaction at most
    int groups_in_flight = 2;                         // 1: each group waits for the last
  };
  struct Appended {
    std::string event_id;
    int64_t position = 0;
    absl::Time time;
  };
  struct Verification {
    bool ok = true;
    int64_t events_checked = 0;
    int64_t first_bad_position = -1;  // -1: none
    std::string problem;              // what did not match, without any event's content
  };

  // `store` and `signer` must outlive the log.
  AccessLog(EventStore& store, const consent::ReceiptSigner& signer, Options options);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Builds the tree from the stored events and starts the writer and the signer.
  absl::Status Start();

  // Appends `events` (event id, position and time are the log's to set) and returns once
  // they are durable, in the order given. Unavailable if the store failed (none of them
  // is logged); InvalidArgument if an event lacks its caller, purpose or subject, or names
  // a field the fields column cannot hold (CheckFieldNames).
  absl::StatusOr<std::vector<Appended>> Append(std::vector<v1::AccessEvent> events);

  // The latest signed tree head (signing the current tree first if none is signed yet).
  absl::StatusOr<TreeHead> LatestTreeHead();
  absl::StatusOr<std::vector<Hash>> InclusionProof(int64_t position, int64_t tree_size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(int64_t first, int64_t second) const;
  // The entry's leaf hash at `position`.
  absl::StatusOr<Hash> LeafAt(int64_t position) const;
  int64_t size() const;
  // Whether, within `timeout`, `n` groups are numbered and not yet settled (committed and
  // in the tree, or failed). For tests that stage groups one after another.
  bool AwaitGroupsInFlight(int64_t n, absl::Duration timeout) const;

  // Reads every stored event back and checks it: positions without gaps, each entry's
  // hash, the copied columns against the entry, each leaf against the tree this process
  // built, and every signed tree head's root and signature against that tree (which is,
  // once every leaf matched, the tree of the stored events). Names the first event that
  // does not match. A log of 2 x kVerifyPartMin events or more is read in two parts on two
  // threads (and two database connections), streamed (EventStore::Scan). One check runs
  // at a time; a second caller waits for it (and then checks anew), so auditors asking at
  // once cannot take every database connection.
  static constexpr int64_t kVerifyPartMin = 10000;
  absl::StatusOr<Verification> Verify();

  // Signs the current tree if it grew since the last head (the signer thread calls this
  // every sign_interval). Exposed for tests.
  absl::Status SignNow();

 private:
  // Numbers, stamps and stores the events of a group of callers in one transaction and
  // adds them to the tree; called by the writer coalescer's senders (see the file
  // comment). A caller's events travel by pointer so that the writer numbers them in place.
  using Events = std::vector<v1::AccessEvent>*;
  absl::StatusOr<std::vector<std::vector<Appended>>> WriteGroup(const std::vector<const Events*>& group);
  void SignerLoop();
  // No group is in flight: every group numbered has settled.
  bool Quiet() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(order_mu_) { return settled_ == next_ticket_; }

  EventStore& store_;
  const consent::ReceiptSigner& signer_;
  const Options options_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  MerkleTree tree_ ABSL_GUARDED_BY(mu_);
  std::optional<TreeHead> latest_head_ ABSL_GUARDED_BY(mu_);

  // The groups being written, in the order of their positions (their tickets). Held
  // before mu_ when both are.
  mutable absl::Mutex order_mu_;
  int64_t next_position_ ABSL_GUARDED_BY(order_mu_) = 0;  // the first not given to a group
  int64_t next_ticket_ ABSL_GUARDED_BY(order_mu_) = 0;
  int64_t inserting_ ABSL_GUARDED_BY(order_mu_) = 0;  // the ticket whose turn it is to insert
  int64_t settled_ ABSL_GUARDED_BY(order_mu_) = 0;    // groups before this ticket are settled
  // A group failed: those after it fail too, and then the tree takes what the store holds
  // (a failed commit may have landed after all).
  bool broken_ ABSL_GUARDED_BY(order_mu_) = false;

  absl::Mutex sign_mu_;    // one signer at a time
  absl::Mutex verify_mu_;  // one verification at a time
  // Concurrent callers' events go into one group and one transaction (group commit); a
  // caller that finds a writer's place free writes the next group itself.
  Coalescer<Events, std::vector<Appended>> writer_;
  std::thread signer_thread_;
};

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_ACCESS_LOG_H_
