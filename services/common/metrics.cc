#include "services/common/metrics.h"

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "services/common/caller.h"
#include "services/common/log.h"

namespace cdp::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, RpcMetrics* metrics)
      : info_(info), metrics_(metrics), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      std::string method = info_->method() != nullptr ? info_->method() : "unknown";
      std::string caller = "unauthenticated";
      if (info_->server_context() != nullptr) {
        if (auto c = rpc::CallerOf(*info_->server_context()); c.ok()) caller = c->id;
      }
      const char* code = CodeName(methods->GetSendStatus().error_code());
      metrics_->Record(method, code, caller, seconds);
      log::Write(log::Level::kDebug, "rpc",
                 {{"method", method}, {"code", code}, {"caller", caller},
                  {"ms", seconds * 1000.0}});
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  RpcMetrics* metrics_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsFactory(RpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_);
  }

 private:
  RpcMetrics* metrics_;
};

}  // namespace

RpcMetrics::RpcMetrics(prometheus::Registry& registry)
    : handled_(prometheus::BuildCounter()
                   .Name("cdp_grpc_server_handled_total")
                   .Help("RPCs completed, by method, status code and calling service.")
                   .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("cdp_grpc_server_handling_seconds")
                   .Help("Time from the start of an RPC to its status, by method.")
                   .Register(registry)) {}

void RpcMetrics::Record(const std::string& method, const std::string& code,
                        const std::string& caller, double seconds) {
  handled_.Add({{"method", method}, {"code", code}, {"caller", caller}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  latency_.Add({{"method", method}}, kBuckets).Observe(seconds);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MetricsInterceptorFactory(
    RpcMetrics* metrics) {
  return std::make_unique<MetricsFactory>(metrics);
}

absl::StatusOr<std::unique_ptr<prometheus::Exposer>> ServeMetrics(
    const std::string& listen, std::shared_ptr<prometheus::Registry> registry) {
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(listen, 1);
    exposer->RegisterCollectable(registry);
    return exposer;
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("--metrics_listen ", listen, ": cannot listen on this address"));
  }
}

}  // namespace cdp::server
