// Coalesces the access events of concurrent reads into one AppendEvents call: while one
// call is in flight, the events of every read that arrives wait for the next one (no
// thread waits: services/common/coalescer.h, AsyncCoalescer). The
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

  void AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) override;

 private:
  using Events = AsyncCoalescer<v1::AppendEventsRequest, v1::AppendEventsResponse>;
  void Send(std::vector<v1::AppendEventsRequest> requests, Events::Answer answer);

  AccessLogWriter& next_;
  Events coalescer_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_BATCHING_LOG_H_
