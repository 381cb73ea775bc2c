#include "services/ingest/consent_registrar.h"

#include "cdp/v1/consent.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/common/log.h"
#include "services/common/tls.h"
#include "storage/sql_array.h"

namespace cdp::ingest {
namespace {

constexpr char kPending[] = "ingest_outbox_pending";
constexpr char kDone[] = "ingest_outbox_done";
constexpr int kBatch = 1000;

}  // namespace

std::vector<storage::Statement> ConsentRegistrar::Statements() {
  // Oldest first by profile id, which begins with the time the profile was made: its
  // primary key answers at once, where ORDER BY created_at read the whole table (and the
  // rows a large import had left dead) every poll: 2.6 ms a poll after 200k profiles.
  return {{kPending, "SELECT profile_id FROM ingest.consent_outbox ORDER BY profile_id LIMIT $1"},
          {kDone, "DELETE FROM ingest.consent_outbox WHERE profile_id = ANY($1::text[])"}};
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
    std::vector<std::string> ids;
    absl::Status read = pool_.Transact([&](pqxx::work& tx) {
      ids.clear();
      for (const pqxx::row& r : tx.exec_prepared(kPending, kBatch)) ids.push_back(r[0].as<std::string>());
      return absl::OkStatus();
    });
    more = false;
    if (!read.ok() || ids.empty()) continue;
    v1::RegisterCustomersRequest request;
    for (const auto& id : ids) request.add_customer_ids(id);
    v1::RegisterCustomersResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    const auto used = channel.get();
    grpc::Status s = v1::ConsentService::NewStub(used)->RegisterCustomers(&ctx, request, &response);
    channel.Observe(static_cast<absl::StatusCode>(s.error_code()), used);
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
      tx.exec_prepared(kDone, storage::TextArray(ids));  // one statement, not one per profile
      return absl::OkStatus();
    });
    if (done.ok()) {
      log::Info("profiles_announced_to_consent", {{"profiles", static_cast<int64_t>(ids.size())}});
      more = static_cast<int>(ids.size()) == kBatch;
    }
  }
}

}  // namespace cdp::ingest
