#include "services/common/grpc_status.h"

#include "absl/strings/str_cat.h"

namespace cdp::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numbering (both follow
  // google.rpc.Code), so the cast is exact.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

absl::Status InvalidField(const std::string& field, const std::string& description) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
}

}  // namespace cdp::rpc
