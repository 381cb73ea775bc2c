// Announces new profiles to the consent service, so that every profile gets a consent
// record, also across crashes. It follows the sequence numbers that stamp profiles
// (ingest.sequence, ingest.profiles.changed_seq): ingest.consent_announced keeps the
// number up to which every profile was announced, and it moves on only after
// RegisterCustomers succeeded for all of them (storage/migrations/ingest/0009).
// Announcing a profile twice is harmless, so several instances may run.
#ifndef CDP_SERVICES_INGEST_CONSENT_REGISTRAR_H_
#define CDP_SERVICES_INGEST_CONSENT_REGISTRAR_H_

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "storage/pool.h"

namespace cdp::ingest {

class ConsentRegistrar {
 public:
  static std::vector<storage::Statement> Statements();
  // Starts sending at once, every `interval` (and again at once while there is more).
  // `connect` makes a channel to the consent service (again after it became unavailable).
  ConsentRegistrar(storage::Pool& pool, std::function<std::shared_ptr<grpc::Channel>()> connect,
                   absl::Duration interval = absl::Milliseconds(200));
  ~ConsentRegistrar();  // stops and joins

 private:
  void Run();
  storage::Pool& pool_;
  std::function<std::shared_ptr<grpc::Channel>()> connect_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_CONSENT_REGISTRAR_H_
