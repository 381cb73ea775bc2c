#include "services/profile/batching_log.h"

namespace cdp::profile {

BatchingAccessLog::BatchingAccessLog(AccessLogWriter& next, int max_events)
    : next_(next),
      coalescer_([this](std::vector<v1::AppendEventsRequest> requests, Events::Answer answer) {
                   Send(std::move(requests), std::move(answer));
                 },
                 {.senders = 1,
                  .max_weight = max_events,
                  .weight = [](const v1::AppendEventsRequest& r) { return r.events_size(); }}) {}

void BatchingAccessLog::AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) {
  if (request.events_size() == 0) return std::move(done)(absl::InvalidArgumentError("events: at least one"));
  coalescer_.Call(std::move(request), std::move(done));
}

void BatchingAccessLog::Send(std::vector<v1::AppendEventsRequest> requests, Events::Answer answer) {
  v1::AppendEventsRequest combined;
  std::vector<int> sizes;
  sizes.reserve(requests.size());
  for (v1::AppendEventsRequest& r : requests) {
    sizes.push_back(r.events_size());
    for (auto& item : *r.mutable_events()) *combined.add_events() = std::move(item);
  }
  const int total = combined.events_size();
  next_.AppendAsync(std::move(combined), [total, sizes = std::move(sizes), answer = std::move(answer)](
                                             absl::StatusOr<v1::AppendEventsResponse> sent) mutable {
    if (!sent.ok()) return std::move(answer)(sent.status());
    if (sent->events_size() != total) {
      return std::move(answer)(absl::InternalError("the log answered for a different number of events"));
    }
    std::vector<v1::AppendEventsResponse> out(sizes.size());
    int at = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      for (int e = 0; e < sizes[i]; ++e) *out[i].add_events() = std::move(*sent->mutable_events(at++));
    }
    std::move(answer)(std::move(out));
  });
}

}  // namespace cdp::profile
