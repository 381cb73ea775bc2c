#include "services/profile/batching_log.h"

namespace cdp::profile {

BatchingAccessLog::BatchingAccessLog(AccessLogWriter& next, int max_events)
    : next_(next), max_events_(max_events), sender_([this] { SenderLoop(); }) {}

BatchingAccessLog::~BatchingAccessLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  sender_.join();
  absl::MutexLock lock(&mu_);
  for (Pending* p : queue_) {
    p->result = absl::UnavailableError("shutting down; nothing was logged");
    p->done.Notify();
  }
  queue_.clear();
}

absl::StatusOr<v1::AppendEventsResponse> BatchingAccessLog::Append(const v1::AppendEventsRequest& request) {
  if (request.events_size() == 0) return absl::InvalidArgumentError("events: at least one");
  Pending pending{&request};
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::UnavailableError("shutting down; nothing was logged");
    queue_.push_back(&pending);
  }
  pending.done.WaitForNotification();
  return std::move(pending.result);
}

void BatchingAccessLog::SenderLoop() {
  for (;;) {
    std::vector<Pending*> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](BatchingAccessLog* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (stopping_) return;
      // Whole reads only, up to the limit (and at least one read).
      int events = 0;
      size_t take = 0;
      while (take < queue_.size() &&
             (take == 0 || events + queue_[take]->request->events_size() <= max_events_)) {
        events += queue_[take]->request->events_size();
        ++take;
      }
      group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    }
    v1::AppendEventsRequest combined;
    for (Pending* p : group) {
      for (const auto& item : p->request->events()) *combined.add_events() = item;
    }
    absl::StatusOr<v1::AppendEventsResponse> sent = next_.Append(combined);
    if (sent.ok() && sent->events_size() != combined.events_size()) {
      sent = absl::InternalError("the log answered for a different number of events");
    }
    int at = 0;
    for (Pending* p : group) {
      if (!sent.ok()) {
        p->result = sent.status();
      } else {
        v1::AppendEventsResponse mine;
        for (int i = 0; i < p->request->events_size(); ++i) *mine.add_events() = sent->events(at++);
        p->result = std::move(mine);
      }
      p->done.Notify();
    }
  }
}

}  // namespace cdp::profile
