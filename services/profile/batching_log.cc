#include "services/profile/batching_log.h"

namespace cdp::profile {

BatchingAccessLog::BatchingAccessLog(AccessLogWriter& next, int max_events)
    : next_(next),
      coalescer_([this](const auto& requests) { return Send(requests); },
                 {.senders = 1,
                  .max_weight = max_events,
                  .weight = [](const v1::AppendEventsRequest& r) { return r.events_size(); }}) {}

absl::StatusOr<v1::AppendEventsResponse> BatchingAccessLog::Append(const v1::AppendEventsRequest& request) {
  if (request.events_size() == 0) return absl::InvalidArgumentError("events: at least one");
  return coalescer_.Call(request);
}

absl::StatusOr<std::vector<v1::AppendEventsResponse>> BatchingAccessLog::Send(
    const std::vector<const v1::AppendEventsRequest*>& requests) {
  v1::AppendEventsRequest combined;
  for (const v1::AppendEventsRequest* r : requests) {
    for (const auto& item : r->events()) *combined.add_events() = item;
  }
  absl::StatusOr<v1::AppendEventsResponse> sent = next_.Append(combined);
  if (!sent.ok()) return sent.status();
  if (sent->events_size() != combined.events_size()) {
    return absl::InternalError("the log answered for a different number of events");
  }
  std::vector<v1::AppendEventsResponse> out(requests.size());
  int at = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    for (int e = 0; e < requests[i]->events_size(); ++e) *out[i].add_events() = sent->events(at++);
  }
  return out;
}

}  // namespace cdp::profile
