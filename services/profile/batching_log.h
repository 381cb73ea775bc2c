// Coalesces the access events of concurrent reads into one AppendEvents call: while one
// call is in flight, the events of every read that arrives wait for the next one. The
// audit service commits a call's events together, so each read still learns that its own
// events are durable before it releases anything; an error fails every read of that call.
#ifndef CDP_SERVICES_PROFILE_BATCHING_LOG_H_
#define CDP_SERVICES_PROFILE_BATCHING_LOG_H_

#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

class BatchingAccessLog : public AccessLogWriter {
 public:
  // `next` must outlive this. At most `max_events` events go in one call.
  explicit BatchingAccessLog(AccessLogWriter& next, int max_events = 1000);
  ~BatchingAccessLog() override;

  absl::StatusOr<v1::AppendEventsResponse> Append(const v1::AppendEventsRequest& request) override;

 private:
  struct Pending {
    const v1::AppendEventsRequest* request;
    absl::StatusOr<v1::AppendEventsResponse> result = absl::UnknownError("not sent");
    absl::Notification done;
  };
  void SenderLoop();

  AccessLogWriter& next_;
  const int max_events_;
  absl::Mutex mu_;
  std::vector<Pending*> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread sender_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_BATCHING_LOG_H_
