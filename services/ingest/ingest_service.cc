#include "services/ingest/ingest_service.h"

#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/caller.h"
#include "services/common/grpc_status.h"
#include "services/common/handler.h"

namespace cdp::ingest {

namespace {

using Batch = ArenaRequest;
using Acks = v1::WriteRecordsResponse;

// One WriteRecords stream. gRPC's threads only hand over what arrived and what went out;
// the batches are worked on two threads of the stream's own, in order, as a pipeline (see
// Run): a worker prepares and resolves (IngestApi::Prepare, Resolve), a storer stores
// (IngestApi::Store) and queues the acks, each batch's once it is stored. The stages run
// side by side when the client has sent ahead. Reads stay at most kReadAhead batches ahead
// of the work, and pause while kReadAhead batches' acks wait for a client slow to take them.
//
// Deleted when both gRPC (OnDone) and the worker are through with it.
class WriteRecordsCall : public grpc::ServerBidiReactor<v1::WriteRecordsRequest, Acks> {
 public:
  static constexpr size_t kReadAhead = 2;

  WriteRecordsCall(IngestApi& api, std::string caller) : api_(api), caller_(std::move(caller)) {
    StartReadIfRoom();
    std::thread([this] { Work(); }).detach();
  }

  void OnReadDone(bool ok) override {
    Batch next;  // for the next read: its arena is made outside the lock
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (ok) {
        arrived_.push_back(std::move(incoming_));
        incoming_ = std::move(next);
      } else {
        input_ended_ = true;  // the client closed its side, or the call is over
      }
    }
    if (ok) StartReadIfRoom();
  }
  void OnWriteDone(bool ok) override {
    Acks* more = nullptr;
    {
      absl::MutexLock lock(&mu_);
      outgoing_.pop_front();
      if (!ok) gone_ = true;
      if (!gone_ && !outgoing_.empty()) {
        more = &outgoing_.front();
      } else {
        writing_ = false;
      }
    }
    if (more != nullptr) StartWrite(more);
    StartReadIfRoom();  // reads may have paused for these acks
  }
  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    gone_ = true;
  }
  void OnDone() override { Unref(); }

 private:
  // A batch resolved and waiting for the storer. Its prepared batch lives as long as the
  // resolution that points into it.
  struct Resolved {
    std::shared_ptr<const IngestApi::PreparedBatch> batch;
    std::shared_ptr<IngestApi::ResolvedBatch> resolved;
  };

  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  // Starts the next read unless one is running, the input ended, the call is finished or
  // enough is waiting (batches to work on, or acks to go out). Called by the worker (before
  // it finishes the call) and by OnReadDone and OnWriteDone (reactions: gRPC keeps the
  // stream until they return, so a read started there just after Finish completes with
  // ok=false). Never under mu_: gRPC may run OnReadDone inline.
  void StartReadIfRoom() {
    {
      absl::MutexLock lock(&mu_);
      if (reading_ || input_ended_ || gone_ || finished_ || arrived_.size() >= kReadAhead ||
          outgoing_.size() >= kReadAhead) {
        return;
      }
      reading_ = true;
    }
    // incoming_ is replaced only in OnReadDone, under mu_ while reading_ is still true, so
    // it is the same batch here as when reading_ was set above.
    StartRead(incoming_.get());
  }

  // The next batch the client sent, waiting for it if `wait`; nullopt when there is none
  // (yet, or any more), or when the call is ending (Stopping).
  std::optional<Batch> Next(bool wait) {
    std::optional<Batch> batch;
    {
      absl::MutexLock lock(&mu_);
      if (wait) {
        // A failed store ends the wait too: a client that waits for its acks before it
        // sends more would otherwise never hear of it.
        mu_.Await(absl::Condition(
            +[](WriteRecordsCall* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
              return !c->arrived_.empty() || c->input_ended_ || c->StoppingLocked();
            },
            this));
      }
      if (arrived_.empty() || StoppingLocked()) return std::nullopt;
      batch = std::move(arrived_.front());
      arrived_.pop_front();
    }
    StartReadIfRoom();
    return batch;
  }

  // Queues one batch's acks behind those before it; they go out one write after the other
  // (OnWriteDone starts the next). Never waits for the client: the storer goes on with the
  // next batch, whose turn other streams' batches may be waiting for.
  void Send(Acks acks) {
    Acks* first = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (gone_) return;
      outgoing_.push_back(std::move(acks));  // a deque: the one being written stays put
      if (!writing_) {
        writing_ = true;
        first = &outgoing_.front();
      }
    }
    if (first != nullptr) StartWrite(first);
  }

  // The worker: batch N+1 is resolved (in memory) while batch N is stored, and batch N+2
  // prepared meanwhile when it has come in. One resolved batch waits for the storer at
  // most, so that a batch that resolves fast makes up for one that resolved slowly, and
  // the database is not left idle between two batches. Ends with the first error: batches
  // resolved before it are still stored and answered; a failed store ends the call with
  // its error instead.
  grpc::Status Run() {
    std::thread storer([this] { StoreInOrder(); });
    grpc::Status status = PrepareAndResolve();
    {
      absl::MutexLock lock(&mu_);
      resolving_ended_ = true;
    }
    storer.join();
    absl::MutexLock lock(&mu_);
    if (!store_status_.ok()) return store_status_;
    return status;
  }

  // The client went away or a store failed: nothing more is worked on.
  bool StoppingLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return gone_ || !store_status_.ok(); }
  bool Stopping() {
    absl::MutexLock lock(&mu_);
    return StoppingLocked();
  }

  grpc::Status PrepareAndResolve() {
    using Prepared = absl::StatusOr<IngestApi::PreparedBatch>;
    std::optional<Batch> first = Next(/*wait=*/true);
    if (!first) return Ended();
    Prepared current = api_.Prepare(caller_, *std::move(first));
    while (true) {
      if (!current.ok()) return rpc::ToGrpcStatus(current.status());
      if (Stopping()) return Ended();  // the store's error, if any, is what the call ends with
      std::future<Prepared> next;
      if (std::optional<Batch> ahead = Next(/*wait=*/false)) {
        next = std::async(std::launch::async,
                          [this, b = *std::move(ahead)]() mutable { return api_.Prepare(caller_, std::move(b)); });
      }
      auto batch = std::make_shared<IngestApi::PreparedBatch>(*std::move(current));
      absl::StatusOr<std::shared_ptr<IngestApi::ResolvedBatch>> resolved = api_.Resolve(*batch);
      if (!resolved.ok()) return rpc::ToGrpcStatus(resolved.status());
      if (!HandToStorer({batch, *std::move(resolved)})) return Ended();  // Run prefers a store's error
      if (next.valid()) {
        current = next.get();
        continue;
      }
      std::optional<Batch> more = Next(/*wait=*/true);
      if (!more) return Ended();
      current = api_.Prepare(caller_, *std::move(more));
    }
  }

  // Waits until the storer has taken the batch before; false (with the batch abandoned)
  // if the call is ending.
  bool HandToStorer(Resolved r) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WriteRecordsCall* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
            return !c->resolved_.has_value() || c->StoppingLocked();
          },
          this));
      if (!StoppingLocked()) {
        resolved_ = std::move(r);
        return true;
      }
    }
    api_.Abandon(std::move(r.resolved));  // every resolved batch is stored or abandoned
    return false;
  }

  // The storer: stores what the worker hands over, in order, and queues the acks. After a
  // failed store, or once the client is gone, what is handed over is abandoned.
  void StoreInOrder() {
    while (true) {
      Resolved r;
      bool failed = false;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](WriteRecordsCall* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) {
              return c->resolved_.has_value() || c->resolving_ended_;
            },
            this));
        if (!resolved_) return;
        r = *std::move(resolved_);
        resolved_.reset();
        failed = StoppingLocked();
      }
      if (failed) {
        api_.Abandon(std::move(r.resolved));
        continue;
      }
      absl::StatusOr<Acks> acks = api_.Store(std::move(r.resolved));
      if (!acks.ok()) {
        absl::MutexLock lock(&mu_);
        store_status_ = rpc::ToGrpcStatus(acks.status());
        continue;
      }
      Send(*std::move(acks));
    }
  }

  grpc::Status Ended() {
    absl::MutexLock lock(&mu_);
    return gone_ ? grpc::Status(grpc::StatusCode::CANCELLED, "the client went away") : grpc::Status::OK;
  }

  void Work() {
    grpc::Status status = Run();
    {
      absl::MutexLock lock(&mu_);  // the last acks out first
      mu_.Await(absl::Condition(
          +[](WriteRecordsCall* c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->mu_) { return !c->writing_; }, this));
      finished_ = true;
    }
    Finish(std::move(status));
    Unref();
  }

  IngestApi& api_;
  const std::string caller_;
  std::atomic<int> refs_{2};  // gRPC's and the worker's
  absl::Mutex mu_;
  Batch incoming_;  // the read in progress fills it
  std::deque<Batch> arrived_ ABSL_GUARDED_BY(mu_);
  std::optional<Resolved> resolved_ ABSL_GUARDED_BY(mu_);  // waiting for the storer
  bool resolving_ended_ ABSL_GUARDED_BY(mu_) = false;      // the worker hands over no more
  grpc::Status store_status_ ABSL_GUARDED_BY(mu_);         // the first failed store's
  std::deque<Acks> outgoing_ ABSL_GUARDED_BY(mu_);         // the front one is being written
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool input_ended_ ABSL_GUARDED_BY(mu_) = false;
  bool gone_ ABSL_GUARDED_BY(mu_) = false;  // cancelled, or a write failed
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// A call refused before it starts (no verified caller).
class RefusedCall : public grpc::ServerBidiReactor<v1::WriteRecordsRequest, Acks> {
 public:
  explicit RefusedCall(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::WriteRecordsRequest, v1::WriteRecordsResponse>* IngestService::WriteRecords(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return new RefusedCall(rpc::ToGrpcStatus(caller.status()));
  return new WriteRecordsCall(api_, caller->id);
}

grpc::Status IngestService::MergeProfiles(grpc::ServerContext* context,
                                          const v1::MergeProfilesRequest* request,
                                          v1::MergeProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.MergeProfiles(c, *request); });
}

grpc::Status IngestService::UnmergeProfile(grpc::ServerContext* context,
                                           const v1::UnmergeProfileRequest* request,
                                           v1::UnmergeProfileResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.UnmergeProfile(c, *request); });
}

grpc::Status IngestService::ListMatchCandidates(grpc::ServerContext* context,
                                                const v1::ListMatchCandidatesRequest* request,
                                                v1::ListMatchCandidatesResponse* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& c) { return api_.ListMatchCandidates(c, *request); });
}

grpc::Status IngestService::FindProfiles(grpc::ServerContext* context, const v1::FindProfilesRequest* request,
                                        v1::FindProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.FindProfiles(c, *request); });
}

grpc::Status IngestService::GetUnifiedProfile(grpc::ServerContext* context,
                                              const v1::GetUnifiedProfileRequest* request,
                                              v1::UnifiedProfile* response) {
  return rpc::ServeUnary(context, response,
               [&](const std::string& c) { return api_.GetUnifiedProfile(c, *request); });
}

grpc::Status IngestService::GetUnifiedProfiles(grpc::ServerContext* context,
                                               const v1::GetUnifiedProfilesRequest* request,
                                               v1::GetUnifiedProfilesResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.GetUnifiedProfiles(c, *request); });
}

grpc::Status IngestService::EraseProfile(grpc::ServerContext* context, const v1::EraseProfileRequest* request,
                                         v1::EraseProfileResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.EraseProfile(c, *request); });
}

grpc::Status IngestService::PurgeExpiredRetention(grpc::ServerContext* context,
                                                  const v1::PurgeExpiredRetentionRequest*,
                                                  v1::PurgeExpiredRetentionResponse* response) {
  return rpc::ServeUnary(context, response,
                         [&](const std::string& c) { return api_.PurgeExpiredRetention(c, absl::Now()); });
}

grpc::Status IngestService::ListInactiveProfiles(grpc::ServerContext* context,
                                                 const v1::ListInactiveProfilesRequest* request,
                                                 v1::ListInactiveProfilesResponse* response) {
  return rpc::ServeUnary(context, response, [&](const std::string& c) { return api_.ListInactiveProfiles(c, *request); });
}

grpc::Status IngestService::WatchProfileChanges(grpc::ServerContext* context,
                                               const v1::WatchProfileChangesRequest* request,
                                               grpc::ServerWriter<v1::ProfileChanges>* writer) {
  absl::StatusOr<rpc::Caller> caller = rpc::CallerOf(*context);
  if (!caller.ok()) return rpc::ToGrpcStatus(caller.status());
  int64_t seq = request->after_seq();
  for (bool first = true; !stopping_() && !context->IsCancelled(); first = false) {
    if (!first) absl::SleepFor(absl::Milliseconds(20));
    auto changes = api_.ProfileChangesSince(caller->id, seq);
    if (!changes.ok()) return rpc::ToGrpcStatus(changes.status());
    if (!writer->Write(*changes)) break;
    seq = changes->seq();
  }
  return grpc::Status::OK;
}

}  // namespace cdp::ingest
