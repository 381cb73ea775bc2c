// Coalesces the access events of concurrent reads into one AppendEvents call: while one
// call is in flight, the events of every read that arrives wait for the next one. The
// audit service commits a call's events together, so each read still learns that its own
// events are durable before it releases anything; an error fails every read of that call.
#ifndef CDP_SERVICES_PROFILE_BATCHING_LOG_H_
#define CDP_SERVICES_PROFILE_BATCHING_LOG_H_

#include "services/common/coalescer.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

class BatchingAccessLog : public AccessLogWriter {
 public:
  // `next` must outlive this. At most `max_events` events go in one call (a single read
  // with more goes alone).
  explicit BatchingAccessLog(AccessLogWriter& next, int max_events = 1000);

  absl::StatusOr<v1::AppendEventsResponse> Append(const v1::AppendEventsRequest& request) override;

 private:
  absl::StatusOr<std::vector<v1::AppendEventsResponse>> Send(
      const std::vector<const v1::AppendEventsRequest*>& requests);

  AccessLogWriter& next_;
  Coalescer<v1::AppendEventsRequest, v1::AppendEventsResponse> coalescer_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_BATCHING_LOG_H_
