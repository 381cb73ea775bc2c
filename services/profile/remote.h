// The profile service's neighbours over mTLS: golden records from the ingest service,
// access events to the audit service. Each call has a deadline; a channel that fails with
// UNAVAILABLE is replaced (rpc::RenewingChannel), so a restarted neighbour is found again.
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
  absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> GetMany(
      const std::vector<std::string>& profile_ids) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override;

 private:
  rpc::RenewingChannel& channel_;
  const absl::Duration deadline_;
};

// Coalesces the golden-record reads of concurrent requests into combined GetMany calls
// (services/common/coalescer.h), two in flight at most: one round trip to the ingest
// service and its database serves many reads.
class CoalescingProfileSource : public ProfileSource {
 public:
  // `next` must outlive this.
  explicit CoalescingProfileSource(ProfileSource& next);
  absl::StatusOr<std::vector<absl::StatusOr<v1::UnifiedProfile>>> GetMany(
      const std::vector<std::string>& profile_ids) override;
  absl::StatusOr<v1::FindProfilesResponse> Find(const v1::FindProfilesRequest& request) override {
    return next_.Find(request);
  }

 private:
  using Answers = std::vector<absl::StatusOr<v1::UnifiedProfile>>;
  ProfileSource& next_;
  Coalescer<std::vector<std::string>, Answers> coalescer_;
};

class RemoteAccessLog : public AccessLogWriter {
 public:
  RemoteAccessLog(rpc::RenewingChannel& channel, absl::Duration deadline) : channel_(channel), deadline_(deadline) {}
  absl::StatusOr<v1::AppendEventsResponse> Append(const v1::AppendEventsRequest& request) override;

 private:
  rpc::RenewingChannel& channel_;
  const absl::Duration deadline_;
};

}  // namespace cdp::profile

#endif  // CDP_SERVICES_PROFILE_REMOTE_H_
