// mTLS material and credentials. Every gRPC connection in the platform is mutual TLS with
// certificates from one CA; there is no insecure mode.
#ifndef CDP_SERVICES_COMMON_TLS_H_
#define CDP_SERVICES_COMMON_TLS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace cdp::rpc {

// Paths to PEM files: this party's certificate chain and key, and the CA that signs peers.
struct TlsPaths {
  std::string cert;
  std::string key;
  std::string ca;
};

// PEM contents read from TlsPaths.
struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
  std::string ca_pem;
};

// Reads and checks the three files: each must exist, be readable, parse as PEM of the
// right kind, and the key must match the certificate. Errors are InvalidArgument with a
// one-line message naming the file ("--tls_key /x/y.pem: cannot read: No such file").
absl::StatusOr<TlsMaterial> LoadTls(const TlsPaths& paths);

// Server credentials that require and verify a client certificate signed by the CA.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsMaterial& tls);

// A channel to `target` ("host:port") presenting this party's certificate. The server's
// certificate must be signed by the CA and name the host (DNS or IP SAN).
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, const TlsMaterial& tls);

// A channel for a long-lived client (a consent replica, a background sender, the profile
// service's neighbours) that is made anew after a call on it failed with UNAVAILABLE: with
// gRPC 1.51 a channel whose server was restarted on the same port sometimes kept failing
// its TLS handshakes for over 30 s, while a fresh channel connected at once.
// Thread-safe: concurrent calls share it, and a failure replaces only the channel the
// failed call used, so many calls failing at once make one new channel, not one each.
class RenewingChannel {
 public:
  explicit RenewingChannel(std::function<std::shared_ptr<grpc::Channel>()> make)
      : make_(std::move(make)), channel_(make_()) {}
  std::shared_ptr<grpc::Channel> get() const {
    absl::MutexLock lock(&mu_);
    return channel_;
  }
  // Call with every call's outcome and the channel it went over.
  void Observe(absl::StatusCode code, const std::shared_ptr<grpc::Channel>& used) {
    if (code != absl::StatusCode::kUnavailable) return;
    absl::MutexLock lock(&mu_);
    if (channel_ == used) channel_ = make_();
  }

 private:
  const std::function<std::shared_ptr<grpc::Channel>()> make_;
  mutable absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cdp::rpc

#endif  // CDP_SERVICES_COMMON_TLS_H_
