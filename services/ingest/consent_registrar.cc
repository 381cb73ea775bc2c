#include "services/ingest/consent_registrar.h"

#include <algorithm>

#include "cdp/v1/consent.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/common/log.h"
#include "services/common/tls.h"

namespace cdp::ingest {
namespace {

constexpr char kRange[] = "ingest_announce_range";
constexpr char kMade[] = "ingest_announce_made";
constexpr char kDone[] = "ingest_announce_done";
// Sequence numbers announced in one round: a number stamps one batch (up to 1000 new
// profiles), a merge or an erasure.
constexpr int64_t kNumbersPerRound = 50;
// RegisterCustomersRequest takes at most 1000 ids (proto/cdp/v1/consent.proto): the wire
// contract, which the consent service enforces.
constexpr size_t kIdsPerCall = 1000;

}  // namespace

std::vector<storage::Statement> ConsentRegistrar::Statements() {
  // The sequence's committed value: every profile stamped up to it is committed too,
  // because each writer takes its number and stamps its rows in one transaction, one
  // writer after the other (the sequence's row is locked until commit).
  return {{kRange, "SELECT a.through_seq, s.value FROM ingest.consent_announced a, ingest.sequence s"},
          {kMade,
           "SELECT profile_id FROM ingest.profiles WHERE changed_seq > $1 AND changed_seq <= $2 "
           "AND erased_at IS NULL"},
          {kDone, "UPDATE ingest.consent_announced SET through_seq = $2 WHERE through_seq = $1"}};
}

ConsentRegistrar::ConsentRegistrar(storage::Pool& pool,
                                   std::function<std::shared_ptr<grpc::Channel>()> connect,
                                   absl::Duration interval)
    : pool_(pool), connect_(std::move(connect)), interval_(interval), thread_([this] { Run(); }) {}

ConsentRegistrar::~ConsentRegistrar() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void ConsentRegistrar::Run() {
  rpc::RenewingChannel channel(connect_);
  bool failing = false;
  bool more = false;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
      if (!more) mu_.AwaitWithTimeout(absl::Condition(&stopping), interval_);
      if (stop_) return;
    }
    more = false;
    int64_t through = 0, now = 0, upto = 0;
    std::vector<std::string> ids;
    absl::Status read = pool_.Transact([&](pqxx::work& tx) {
      ids.clear();
      const pqxx::row range = tx.exec_prepared1(kRange);
      through = range[0].as<int64_t>();
      now = range[1].as<int64_t>();
      upto = std::min(now, through + kNumbersPerRound);
      if (upto <= through) return absl::OkStatus();
      for (const pqxx::row& r : tx.exec_prepared(kMade, through, upto)) ids.push_back(r[0].as<std::string>());
      return absl::OkStatus();
    });
    if (!read.ok() || upto <= through) continue;
    grpc::Status s = grpc::Status::OK;
    for (size_t from = 0; from < ids.size() && s.ok(); from += kIdsPerCall) {
      v1::RegisterCustomersRequest request;
      for (size_t i = from; i < std::min(ids.size(), from + kIdsPerCall); ++i) request.add_customer_ids(ids[i]);
      v1::RegisterCustomersResponse response;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const auto used = channel.get();
      s = v1::ConsentService::NewStub(used)->RegisterCustomers(&ctx, request, &response);
      channel.Observe(static_cast<absl::StatusCode>(s.error_code()), used);
    }
    if (!s.ok()) {
      if (!failing) {
        log::Warning("consent_registration_failed",
                     {{"code", static_cast<int>(s.error_code())}, {"pending", static_cast<int64_t>(ids.size())}});
      }
      failing = true;
      continue;
    }
    if (failing) log::Info("consent_registration_recovered");
    failing = false;
    absl::Status done = pool_.Transact([&](pqxx::work& tx) {
      tx.exec_prepared(kDone, through, upto);  // unless another instance moved it meanwhile
      return absl::OkStatus();
    });
    if (done.ok()) {
      if (!ids.empty()) {
        log::Info("profiles_announced_to_consent", {{"profiles", static_cast<int64_t>(ids.size())}, {"through_seq", upto}});
      }
      more = upto < now;
    }
  }
}

}  // namespace cdp::ingest
