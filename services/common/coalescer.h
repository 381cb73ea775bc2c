// Coalesces concurrent calls to a neighbour into combined calls.
//
// A caller's request joins a queue. If fewer than `senders` combined calls are in flight,
// the caller becomes a sender itself: it takes what has queued (whole requests only, up
// to `max_weight`), sends it as one call on its own thread and hands every request of it
// its answer (or the call's error). Otherwise it waits until its request has been
// answered or a sender's place is free. While calls are in flight, requests pile up for
// the next one, so a combined call grows with the load, and a request that finds no call
// in flight goes at once, with no thread hand-over on the way.
//
// AsyncCoalescer is the same for callers that must not block (a callback handler): the
// call returns at once and the answer comes to a Done (services/common/async.h).
//
// Used where a round trip costs far more than an item: the read path's access events
// (services/profile/batching_log.h), its golden-record reads (services/profile/remote.h)
// and the audit service's group commit (services/audit/access_log.h).
#ifndef CDP_SERVICES_COMMON_COALESCER_H_
#define CDP_SERVICES_COMMON_COALESCER_H_

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/async.h"

namespace cdp {

template <typename Request>
struct CoalescerOptions {
  int senders = 1;                                  // combined calls in flight at most
  int max_weight = 1000;                            // per combined call (one request may exceed it)
  std::function<int(const Request&)> weight = [](const Request&) { return 1; };
};

namespace internal {

// How many requests from the front of `queue` go in the next combined call: whole
// requests up to the weight, and at least one.
template <typename Request, typename Queue, typename RequestOf>
size_t TakeCount(const Queue& queue, const CoalescerOptions<Request>& options, RequestOf request_of) {
  int weight = 0;
  size_t take = 0;
  while (take < queue.size()) {
    const int w = options.weight(request_of(queue[take]));
    if (take > 0 && weight + w > options.max_weight) break;
    weight += w;
    ++take;
  }
  return take;
}

}  // namespace internal

template <typename Request, typename Response>
class Coalescer {
 public:
  // Sends a combined call: one response per request, in order, or one error for all.
  using Send = std::function<absl::StatusOr<std::vector<Response>>(const std::vector<const Request*>&)>;
  using Options = CoalescerOptions<Request>;

  Coalescer(Send send, Options options) : send_(std::move(send)), options_(std::move(options)) {}
  Coalescer(const Coalescer&) = delete;
  Coalescer& operator=(const Coalescer&) = delete;

  absl::StatusOr<Response> Call(const Request& request) ABSL_LOCKS_EXCLUDED(mu_) {
    Pending mine{&request};
    absl::MutexLock lock(&mu_);
    queue_.push_back(&mine);
    // Until answered, or there is something to send and a sender's place is free.
    std::pair<Coalescer*, Pending*> wait_for(this, &mine);
    for (;;) {
      mu_.Await(absl::Condition(
          +[](std::pair<Coalescer*, Pending*>* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->second->done || (!w->first->queue_.empty() &&
                                       w->first->in_flight_ < std::max(1, w->first->options_.senders));
          },
          &wait_for));
      if (mine.done) return std::move(mine.result);
      SendOne();
    }
  }

 private:
  struct Pending {
    const Request* request;
    absl::StatusOr<Response> result = absl::UnknownError("not sent");
    bool done = false;
  };

  // Takes the front of the queue, sends it without the lock, and answers it.
  void SendOne() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<Pending*> group;
    const size_t take =
        internal::TakeCount(queue_, options_, [](const Pending* p) -> const Request& { return *p->request; });
    group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    ++in_flight_;
    std::vector<const Request*> requests;
    requests.reserve(group.size());
    for (Pending* p : group) requests.push_back(p->request);
    mu_.Unlock();
    absl::StatusOr<std::vector<Response>> sent = send_(requests);
    if (sent.ok() && sent->size() != group.size()) {
      sent = absl::InternalError(absl::StrCat("a combined call answered ", sent->size(), " of ", group.size()));
    }
    mu_.Lock();
    --in_flight_;
    for (size_t i = 0; i < group.size(); ++i) {
      if (sent.ok()) {
        group[i]->result = std::move((*sent)[i]);
      } else {
        group[i]->result = sent.status();
      }
      group[i]->done = true;
    }
  }

  const Send send_;
  const Options options_;
  absl::Mutex mu_;
  std::vector<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

template <typename Request, typename Response>
class AsyncCoalescer {
 public:
  // Starts a combined call without blocking, and calls `answer` once with one response
  // per request, in order, or one error for all.
  using Answer = Done<std::vector<Response>>;
  using Send = std::function<void(std::vector<Request>, Answer)>;
  using Options = CoalescerOptions<Request>;

  AsyncCoalescer(Send send, Options options) : send_(std::move(send)), options_(std::move(options)) {}
  // Waits until no combined call is in flight and every answer is handed out: the callers
  // a thread is still finishing may be all a server waits for, and they may use what owns
  // this coalescer.
  ~AsyncCoalescer() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](AsyncCoalescer* c) ABSL_NO_THREAD_SAFETY_ANALYSIS { return c->in_flight_ == 0 && c->answering_ == 0; },
        this));
  }
  AsyncCoalescer(const AsyncCoalescer&) = delete;
  AsyncCoalescer& operator=(const AsyncCoalescer&) = delete;

  // Returns at once; `done` gets the answer, on the thread that received the combined
  // call's answer (or on this one, if the send answers before it returns).
  void Call(Request request, Done<Response> done) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      queue_.push_back({std::move(request), std::move(done)});
      if (in_flight_ >= std::max(1, options_.senders)) return;  // goes with the next answered call
      ++in_flight_;
    }
    Pump();
  }

 private:
  struct Pending {
    Request request;
    Done<Response> done;
  };

  // Holds one sender's place: sends what has queued, until nothing has (then gives the
  // place back) or a combined call is left to be answered later (its answer goes on from
  // this place). A loop, not a recursion, for a send that answers before it returns.
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      std::vector<Request> requests;
      std::vector<Done<Response>> dones;
      {
        absl::MutexLock lock(&mu_);
        if (queue_.empty()) {
          --in_flight_;
          return;
        }
        const size_t take =
            internal::TakeCount(queue_, options_, [](const Pending& p) -> const Request& { return p.request; });
        for (size_t i = 0; i < take; ++i) {
          requests.push_back(std::move(queue_[i].request));
          dones.push_back(std::move(queue_[i].done));
        }
        queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      }
      // Who goes on from this place: the answer, if it comes after send_ returned, else
      // this loop. Of the two exchanges, exactly one sees the other's mark.
      auto turn = std::make_shared<std::atomic<int>>(kSending);
      send_(std::move(requests),
            Answer([this, turn, dones = std::move(dones)](absl::StatusOr<std::vector<Response>> sent) mutable {
              if (sent.ok() && sent->size() != dones.size()) {
                sent = absl::InternalError(
                    absl::StrCat("a combined call answered ", sent->size(), " of ", dones.size()));
              }
              {
                absl::MutexLock lock(&mu_);
                ++answering_;
              }
              // What queued meanwhile goes first: the next combined call is on its way
              // while these answers are handed out.
              if (turn->exchange(kAnswered) == kReturned) Pump();
              for (size_t i = 0; i < dones.size(); ++i) {
                if (sent.ok()) {
                  std::move(dones[i])(std::move((*sent)[i]));
                } else {
                  std::move(dones[i])(sent.status());
                }
              }
              absl::MutexLock lock(&mu_);
              --answering_;
            }));
      if (turn->exchange(kReturned) == kSending) return;  // the answer goes on from here
    }
  }
  enum Turn : int { kSending, kAnswered, kReturned };

  const Send send_;
  const Options options_;
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);  // deep under load: erased from the front
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // sender places taken
  int answering_ ABSL_GUARDED_BY(mu_) = 0;  // answers of combined calls being handed out
};

}  // namespace cdp

#endif  // CDP_SERVICES_COMMON_COALESCER_H_
