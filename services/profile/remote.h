// The profile service's neighbours over mTLS: golden records from the ingest service,
// access events to the audit service. Each call has a deadline; a channel that fails with
// UNAVAILABLE is replaced (rpc::RenewingChannel), so a restarted neighbour is found again.
#ifndef CDP_SERVICES_PROFILE_REMOTE_H_
#define CDP_SERVICES_PROFILE_REMOTE_H_

#include <functional>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "services/common/tls.h"
#include "services/profile/profile_api.h"

namespace cdp::profile {

// A RenewingChannel shared by concurrent calls.
class SharedChannel {
 public:
  explicit SharedChannel(std::function<std::shared_ptr<grpc::Channel>()> make) : channel_(std::move(make)) {}
  std::shared_ptr<grpc::Channel> get() {
    absl::MutexLock lock(&mu_);
    return channel_.get();
  }
  void Observe(absl::StatusCode code) {
    absl::MutexLock lock(&mu_);
    channel_.Observe(code);
  }

 private:
  absl::Mutex mu_;
  rpc::RenewingChannel channel_ ABSL_GUARDED_BY(mu_);
};

class RemoteProfileSource : public ProfileSource {
 public:
  RemoteProfileSource(SharedChannel& channel, absl::Duration deadline) : channel_(channel), deadline_(deadline) {}
  absl::StatusOr<v1::UnifiedProfile> Get(const std::string& profile_id) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override;

 private:
  SharedChannel& channel_;
  const absl::Duration deadline_;
};

class RemoteAccessLog : public AccessLogWriter {
 public:
  RemoteAccessLog(SharedChannel& channel, absl::Duration deadline) : channel_(channel), deadline_(deadline) {}
  absl::StatusOr<v1::AppendEventsResponse> Append(const v1::AppendEventsRequest& request) override;

 private:
  SharedChannel& channel_;
  const absl::Duration deadline_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_REMOTE_H_
