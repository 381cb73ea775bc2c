// The profile service's neighbours over mTLS: golden records from the ingest service,
// access events to the audit service. Each call has a deadline; a channel that fails with
// UNAVAILABLE is replaced (rpc::RenewingChannel), so a restarted neighbour is found again.
// Golden-record reads and appends are asynchronous gRPC calls: no thread waits on them.
#ifndef CDP_SERVICES_PROFILE_REMOTE_H_
#define CDP_SERVICES_PROFILE_REMOTE_H_

#include <functional>
#include <memory>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/common/coalescer.h"
#include "services/common/tls.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

class RemoteProfileSource : public ProfileSource {
 public:
  RemoteProfileSource(rpc::RenewingChannel& channel, absl::Duration deadline) : channel_(channel), deadline_(deadline) {}
  void GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override;

 private:
  rpc::RenewingChannel& channel_;
  const absl::Duration deadline_;
};

// Coalesces the golden-record reads of concurrent requests into combined calls
// (services/common/coalescer.h), one in flight at a time: one round trip to the ingest
// service and its database serves many reads.
class CoalescingProfileSource : public ProfileSource {
 public:
  // `next` must outlive this.
  explicit CoalescingProfileSource(ProfileSource& next);
  void GetManyAsync(std::vector<std::string> profile_ids, Done<ProfileAnswers> done) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override {
    return next_.Find(request);
  }

 private:
  ProfileSource& next_;
  AsyncCoalescer<std::vector<std::string>, ProfileAnswers> coalescer_;
};

class RemoteAccessLog : public AccessLogWriter {
 public:
  RemoteAccessLog(rpc::RenewingChannel& channel, absl::Duration deadline) : channel_(channel), deadline_(deadline) {}
  void AppendAsync(v1::AppendEventsRequest request, Done<v1::AppendEventsResponse> done) override;

 private:
  rpc::RenewingChannel& channel_;
  const absl::Duration deadline_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_REMOTE_H_
