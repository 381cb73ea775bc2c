#include "services/audit/access_log.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/audit/entry_view.h"
#include "services/common/log.h"
#include "services/common/proto_time.h"
#include "services/common/status_macros.h"

namespace cdp::audit {
namespace {

std::string_view OutcomeOf(const v1::AccessEvent& e) {
  return OutcomeFor(static_cast<size_t>(e.fields_released_size()), e.fields_withheld().size());
}

// The `fields` column of an event (FieldsColumn); the verifier reads the same names from
// its entry with ReadEntry.
std::string FieldsOf(const v1::AccessEvent& e) {
  std::vector<std::string_view> names(e.fields_released().begin(), e.fields_released().end());
  for (const auto& [field, reason] : e.fields_withheld()) names.push_back(field);
  SortFieldNames(&names);
  return FieldsColumn(names);
}

// What a caller of Append hears when its events did not become part of the log.
absl::Status StoreFailed() {
  return absl::UnavailableError("the access log could not store the event; nothing was released");
}

// Why a group does not commit: one numbered before it failed (so it must fail too, or
// the positions would have a gap).
absl::Status PredecessorFailed() { return absl::UnavailableError("a group before this one failed"); }

}  // namespace

std::string EntryOf(const v1::AccessEvent& event) {
  // The explanation is rendered for each reader and never part of the entry. An event as
  // appended has none and is encoded as it is: copying each one cost the audit service
  // 5% of its CPU.
  if (!event.explanation().empty()) {
    v1::AccessEvent e = event;
    e.clear_explanation();
    return EntryOf(e);
  }
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  return out;
}

std::string TreeHeadJson(int64_t tree_size, const Hash& root, absl::Time at) {
  return absl::StrFormat(R"({"tree_size":%d,"root_hash":"%s","timestamp":"%s"})", tree_size, HashHex(root),
                         absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", at, absl::UTCTimeZone()));
}

bool TreeHeadSigned(const std::string& signature, int64_t tree_size, const Hash& root, absl::Time at,
                    const std::string& public_key_pem) {
  auto payload = consent::VerifyJws(signature, public_key_pem);
  return payload.ok() && *payload == TreeHeadJson(tree_size, root, at);
}

AccessLog::AccessLog(EventStore& store, const consent::ReceiptSigner& signer, Options options)
    : store_(store),
      signer_(signer),
      options_(std::move(options)),
      writer_([this](const auto& group) { return WriteGroup(group); },
              {.senders = std::max(1, options_.groups_in_flight),
               .max_weight = static_cast<int>(options_.max_group),
               .weight = [](const Events& e) { return static_cast<int>(e->size()); }}) {}

AccessLog::~AccessLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (signer_thread_.joinable()) signer_thread_.join();
  // Groups still being written use this log until they settle.
  absl::MutexLock order(&order_mu_);
  order_mu_.Await(absl::Condition(this, &AccessLog::Quiet));
}

absl::Status AccessLog::Start() {
  MerkleTree tree;
  ASSIGN_OR_RETURN(std::vector<Hash> leaves, store_.LeafHashes(0));
  for (const Hash& h : leaves) tree.Append(h);
  ASSIGN_OR_RETURN(std::optional<TreeHead> head, store_.LatestTreeHead());
  const int64_t loaded = tree.size();
  {
    absl::MutexLock order(&order_mu_);
    next_position_ = loaded;
    absl::MutexLock lock(&mu_);
    tree_ = std::move(tree);
    latest_head_ = head;
  }
  log::Info("access_log_loaded", {{"events", loaded}});
  {
    absl::MutexLock lock(&mu_);
    started_ = true;
  }
  signer_thread_ = std::thread([this] { SignerLoop(); });
  return absl::OkStatus();
}

absl::Status CheckFieldNames(const v1::AccessEvent& event, const std::string& at) {
  for (int k = 0; k < event.fields_released_size(); ++k) {
    if (!ValidFieldName(event.fields_released(k))) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "fields_released[", k, "]: not a field name (empty, or with a space)"));
    }
  }
  for (const auto& [field, reason] : event.fields_withheld()) {
    if (!ValidFieldName(field)) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, "fields_withheld: a key that is not a field name (empty, or with a space)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<AccessLog::Appended>> AccessLog::Append(std::vector<v1::AccessEvent> events) {
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::AccessEvent& e = events[i];
    if (e.caller().empty()) return absl::InvalidArgumentError(absl::StrCat("events[", i, "].caller: required"));
    if (e.purpose().empty()) return absl::InvalidArgumentError(absl::StrCat("events[", i, "].purpose: required"));
    if (e.subject_pseudonym().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("events[", i, "].subject_pseudonym: required"));
    }
    RETURN_IF_ERROR(CheckFieldNames(e, absl::StrCat("events[", i, "].")));
  }
  if (events.empty()) return std::vector<Appended>{};
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("the access log is shutting down");
    if (!started_) return absl::UnavailableError("the access log is not loaded yet");
  }
  return writer_.Call(&events);
}

absl::StatusOr<std::vector<std::vector<AccessLog::Appended>>> AccessLog::WriteGroup(
    const std::vector<const Events*>& group) {
  size_t count = 0;
  for (const Events* events : group) count += (*events)->size();
  // The group's place: its ticket, its positions and its time (stamped to the microsecond,
  // as the database keeps time; taken here, so that time never goes back along the log).
  int64_t ticket = 0, next = 0;
  absl::Time now;
  bool behind = false;  // a group before this one was still being written
  {
    absl::MutexLock order(&order_mu_);
    if (broken_) {
      // Every group numbered after the failed one fails too; once they have, the tree takes
      // whatever the store holds beyond it (positions below never change, so only the tail
      // is read), and numbering goes on from there.
      order_mu_.Await(absl::Condition(this, &AccessLog::Quiet));
      if (broken_) {
        int64_t size = 0;
        {
          absl::MutexLock lock(&mu_);
          size = tree_.size();
        }
        absl::StatusOr<std::vector<Hash>> tail = store_.LeafHashes(size);
        if (!tail.ok()) {
          log::Error("access_log_reload_failed", {{"code", absl::StatusCodeToString(tail.status().code())}});
          return StoreFailed();
        }
        absl::MutexLock lock(&mu_);
        for (const Hash& h : *tail) tree_.Append(h);
        next_position_ = tree_.size();
        broken_ = false;
      }
    }
    ticket = next_ticket_++;
    behind = settled_ != ticket;
    next = next_position_;
    next_position_ += static_cast<int64_t>(count);
    now = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  }
  // Groups take their database connections in ticket order (a group holds its connection
  // while it waits for the one before it to settle, and that one has its connection
  // already), insert, and commit only once every group before them has settled.
  //
  // A group that found the log idle (as under a light load, or one caller's calls one at a
  // time) inserts and commits in one statement, and the next group inserts after it; one
  // that queued behind another lets the next insert while it commits. So the pipeline
  // costs round trips (BEGIN, COMMIT) only when groups follow each other closely.
  auto turn_to_insert = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(order_mu_) { return inserting_ == ticket; };
  auto turn_to_settle = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(order_mu_) { return settled_ == ticket; };
  std::vector<StoredEvent> rows;
  std::vector<std::vector<Appended>> results;
  absl::Status stored;
  // Whatever happens from here on, the group settles (below): every group after it waits
  // for that.
  try {
    // Number, stamp and encode, while the group before this one may still be committing.
    rows.reserve(count);
    results.resize(group.size());
    for (size_t g = 0; g < group.size(); ++g) {
      for (v1::AccessEvent& e : **group[g]) {
        e.set_position(next++);
        e.set_event_id(consent::NewUuid());
        *e.mutable_time() = ToProtoTime(now);
        StoredEvent row{e.position(), e.event_id(), now, e.subject_pseudonym(), e.caller(),
                        e.acting_party().id(), e.purpose(), std::string(OutcomeOf(e)), FieldsOf(e), EntryOf(e), {}};
        row.leaf_hash = LeafHash(row.entry);
        rows.push_back(std::move(row));
        results[g].push_back({e.event_id(), e.position(), now});
      }
    }
    {
      absl::MutexLock order(&order_mu_);
      order_mu_.Await(absl::Condition(&turn_to_insert));
      if (broken_) stored = PredecessorFailed();
    }
    if (stored.ok()) {
      stored = behind ? store_.Append(rows,
                                      [&]() -> absl::Status {
                                        absl::MutexLock order(&order_mu_);
                                        inserting_ = ticket + 1;
                                        order_mu_.Await(absl::Condition(&turn_to_settle));
                                        if (broken_) return PredecessorFailed();
                                        return absl::OkStatus();
                                      })
                      : store_.Append(rows, nullptr);
    }
  } catch (const std::exception&) {
    stored = absl::InternalError("the group could not be encoded or stored");
  }
  {
    absl::MutexLock order(&order_mu_);
    order_mu_.Await(absl::Condition(&turn_to_settle));
    // A group that committed in one statement, or failed before its hook, lets the next
    // insert only now.
    inserting_ = std::max(inserting_, ticket + 1);
    if (stored.ok()) {
      absl::MutexLock lock(&mu_);
      for (const StoredEvent& row : rows) tree_.Append(row.leaf_hash);
    } else {
      broken_ = true;
    }
    settled_ = ticket + 1;
  }
  if (!stored.ok()) {
    log::Error("access_log_append_failed",
               {{"events", static_cast<int64_t>(rows.size())}, {"code", absl::StatusCodeToString(stored.code())}});
    return StoreFailed();
  }
  return results;
}

void AccessLog::SignerLoop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.sign_interval)) return;
    }
    absl::Status s = SignNow();
    if (!s.ok()) log::Warning("tree_head_not_signed", {{"code", absl::StatusCodeToString(s.code())}});
  }
}

absl::Status AccessLog::SignNow() {
  absl::MutexLock sign_lock(&sign_mu_);
  TreeHead head;
  {
    absl::MutexLock lock(&mu_);
    if (latest_head_ && latest_head_->tree_size == tree_.size()) return absl::OkStatus();
    head.tree_size = tree_.size();
    ASSIGN_OR_RETURN(head.root_hash, tree_.Root(head.tree_size));
  }
  head.signed_at = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  head.key_id = signer_.key_id();
  head.signature = signer_.Sign(TreeHeadJson(head.tree_size, head.root_hash, head.signed_at));
  RETURN_IF_ERROR(store_.SaveTreeHead(head));
  absl::MutexLock lock(&mu_);
  if (!latest_head_ || latest_head_->tree_size < head.tree_size) latest_head_ = head;
  return absl::OkStatus();
}

absl::StatusOr<TreeHead> AccessLog::LatestTreeHead() {
  {
    absl::MutexLock lock(&mu_);
    if (latest_head_) return *latest_head_;
  }
  RETURN_IF_ERROR(SignNow());
  absl::MutexLock lock(&mu_);
  if (!latest_head_) return absl::UnavailableError("no tree head signed yet");
  return *latest_head_;
}

absl::StatusOr<std::vector<Hash>> AccessLog::InclusionProof(int64_t position, int64_t tree_size) const {
  absl::MutexLock lock(&mu_);
  return tree_.InclusionProof(position, tree_size);
}

absl::StatusOr<std::vector<Hash>> AccessLog::ConsistencyProof(int64_t first, int64_t second) const {
  absl::MutexLock lock(&mu_);
  return tree_.ConsistencyProof(first, second);
}

absl::StatusOr<Hash> AccessLog::LeafAt(int64_t position) const {
  absl::MutexLock lock(&mu_);
  if (position < 0 || position >= tree_.size()) {
    return absl::NotFoundError(absl::StrCat("position: no event ", position));
  }
  return tree_.leaf(position);
}

int64_t AccessLog::size() const {
  absl::MutexLock lock(&mu_);
  return tree_.size();
}

bool AccessLog::AwaitGroupsInFlight(int64_t n, absl::Duration timeout) const {
  absl::MutexLock order(&order_mu_);
  auto in_flight = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(order_mu_) { return next_ticket_ - settled_ == n; };
  return order_mu_.AwaitWithTimeout(absl::Condition(&in_flight), timeout);
}

absl::StatusOr<AccessLog::Verification> AccessLog::Verify() {
  absl::MutexLock one_at_a_time(&verify_mu_);
  Verification v;
  // The heads first: each is saved only after its events are committed, so every head read
  // now is covered by the scan below (read after it, a head signed meanwhile would not be).
  ASSIGN_OR_RETURN(std::vector<TreeHead> heads, store_.TreeHeads());
  int64_t logged = 0;  // events this log had appended when the check began
  {
    absl::MutexLock lock(&mu_);
    logged = tree_.size();
  }
  // The events are checked in parts, each on its own thread and database connection (the
  // last part open-ended, so events appended meanwhile are checked too). Each stored event
  // is checked against itself (its entry's hash, its columns) and against the leaf this
  // log appended for it. Once every leaf matches, the stored events' tree is this log's
  // tree, so the signed roots are checked against that one, with no second tree built.
  struct Part {
    int64_t from = 0, to = 0;
    int64_t checked = 0;
    int64_t bad_position = -1;
    std::string problem;
    absl::Status status;
  };
  const int parts = logged >= 2 * kVerifyPartMin ? 2 : 1;
  std::vector<Part> part(static_cast<size_t>(parts));
  for (int i = 0; i < parts; ++i) {
    part[static_cast<size_t>(i)].from = logged * i / parts;
    part[static_cast<size_t>(i)].to = i + 1 == parts ? EventStore::kEnd : logged * (i + 1) / parts;
  }
  auto check = [&](Part& p) {
    auto bad = [&](int64_t position, std::string problem) {
      p.bad_position = position;
      p.problem = std::move(problem);
      return absl::CancelledError("stop");  // ends the scan at the part's first bad event
    };
    // Leaves are held against the log's tree a few thousand at a time under the lock
    // (appends go on in between). A leaf the tree does not have yet belongs to an event
    // committed while its group was still being added, or by a commit that reported a
    // failure and landed, not yet taken in (see the file comment): no head read above
    // covers it.
    constexpr size_t kChunk = 4096;
    std::vector<Hash> leaves;
    leaves.reserve(kChunk);
    auto compare = [&]() -> absl::Status {
      absl::MutexLock lock(&mu_);
      const int64_t first = p.from + p.checked;
      for (size_t k = 0; k < leaves.size(); ++k) {
        const int64_t at = first + static_cast<int64_t>(k);
        if (at >= tree_.size() || tree_.leaf(at) == leaves[k]) continue;
        p.checked += static_cast<int64_t>(k);
        return bad(at, "the event differs from the one this log appended");
      }
      p.checked += static_cast<int64_t>(leaves.size());
      leaves.clear();
      return absl::OkStatus();
    };
    // An event found bad by itself is named only once the leaves before it have matched:
    // an earlier changed event is the one to name.
    auto bad_here = [&](int64_t position, std::string problem) -> absl::Status {
      RETURN_IF_ERROR(compare());
      return bad(position, std::move(problem));
    };
    EntryView entry;
    absl::Status scanned = store_.Scan(p.from, p.to, [&](const StoredEvent& e) -> absl::Status {
      const int64_t at = p.from + p.checked + static_cast<int64_t>(leaves.size());
      if (e.position != at) return bad_here(at, absl::StrCat("event ", at, " is missing"));
      if (LeafHash(e.entry) != e.leaf_hash) return bad_here(at, "the entry does not hash to its stored leaf hash");
      if (!ReadEntry(e.entry, &entry)) return bad_here(at, "the entry does not parse");
      if (entry.position != e.position || entry.event_id != e.event_id || entry.caller != e.caller ||
          entry.purpose != e.purpose || entry.subject_pseudonym != e.subject_pseudonym ||
          entry.acting_party_id != e.acting_party_id || OutcomeFor(entry.released, entry.withheld) != e.outcome ||
          !IsFieldsColumn(e.fields, entry.fields) ||
          entry.time != e.recorded_at) {
        return bad_here(at, "a column differs from the entry that was logged");
      }
      leaves.push_back(e.leaf_hash);
      return leaves.size() == kChunk ? compare() : absl::OkStatus();
    });
    if (p.bad_position < 0) {
      // A stored event whose columns cannot even be read (a NULL in its fields, an array
      // of arrays): the store says DataLoss, and it is named like any other changed event.
      if (absl::IsDataLoss(scanned)) {
        const int64_t at = p.from + p.checked + static_cast<int64_t>(leaves.size());
        scanned = bad_here(at, absl::StrCat("a stored column cannot be read (", scanned.message(), ")"));
      } else {
        scanned.Update(compare());
      }
    }
    if (!scanned.ok() && !absl::IsCancelled(scanned)) p.status = scanned;
  };
  {
    std::vector<std::thread> helpers;
    for (size_t i = 1; i < part.size(); ++i) helpers.emplace_back([&, i] { check(part[i]); });
    check(part[0]);
    for (std::thread& t : helpers) t.join();
  }
  int64_t stored = 0;  // events stored without a gap from position 0
  for (Part& p : part) {
    RETURN_IF_ERROR(p.status);
    // The part's last events are gone: those this log had appended when the check began
    // (the last part is open-ended, so its bound is what was logged).
    const int64_t until = p.to != EventStore::kEnd ? p.to : logged;
    if (p.bad_position < 0 && p.from + p.checked < until) {
      p.bad_position = p.from + p.checked;
      p.problem = absl::StrCat("event ", p.bad_position, " is missing");
    }
    v.events_checked += p.checked + (p.bad_position >= 0 ? 1 : 0);
    if (p.bad_position >= 0) {
      v.ok = false;
      v.first_bad_position = p.bad_position;
      v.problem = p.problem;
      return v;
    }
    stored = p.from + p.checked;
  }
  // Every signed root must be the root of the events as they are now.
  int64_t good_size = 0;
  for (const TreeHead& head : heads) {
    absl::StatusOr<Hash> root = absl::InvalidArgumentError("beyond the log");
    if (head.tree_size <= stored) {
      absl::MutexLock lock(&mu_);
      root = tree_.Root(head.tree_size);
    }
    if (!root.ok()) {
      v.ok = false;
      v.first_bad_position = stored;
      v.problem = absl::StrCat("a signed tree head covers ", head.tree_size, " events; only ", stored, " are stored");
      return v;
    }
    if (!TreeHeadSigned(head.signature, head.tree_size, head.root_hash, head.signed_at, signer_.public_key_pem())) {
      v.ok = false;
      v.first_bad_position = good_size;
      v.problem = absl::StrCat("the signature of the tree head of size ", head.tree_size, " does not verify");
      return v;
    }
    if (*root != head.root_hash) {
      v.ok = false;
      v.first_bad_position = good_size;
      v.problem = absl::StrCat("the events differ from those signed at size ", head.tree_size,
                               "; the first changed one is at or after position ", good_size);
      return v;
    }
    good_size = std::max(good_size, head.tree_size);
  }
  return v;
}

}  // namespace cdp::audit
