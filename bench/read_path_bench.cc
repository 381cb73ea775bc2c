// The read path end to end: GetProfile with 20 requested fields, consent checks and a
// durable access event, beside the transport's own limit measured in the same run.
//
// Starts cdp-consent, cdp-ingest, cdp-audit and cdp-profile over mTLS on loopback with a
// fresh database on the PostgreSQL server named by CDP_TEST_PG_DSN (dropped afterwards),
// loads --people generated customers, and measures:
//   1. baseline: grpc.health.v1.Health/Check on cdp-profile itself (same server, same
//      mTLS, no work): the transport's limit here, closed loop from --clients clients;
//   2. GetProfile, closed loop from --clients clients (maximum rate), then open loop at
//      half that rate (latency without queueing: each call timed from when it was due);
//   3. log appends: AppendEvents on cdp-audit, one event per call and 20 per call, from
//      4 x --clients clients; and the sequencer alone (AccessLog on PostgreSQL in this
//      process, a database of its own), one event per call from 64 threads: what group
//      commit does without gRPC in front of it;
//   4. GetInclusionProof latency, and VerifyLog over everything logged: events per second.
// Prints a table and JSON lines {"name","value","unit"}.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "cdp/v1/audit.grpc.pb.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/common/client.h"
#include "services/common/flags.h"
#include "services/common/proto_time.h"
#include "health.grpc.pb.h"
#include "tests/testing/platform.h"
#include "services/audit/access_log.h"
#include "services/audit/pg_event_store.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tools/datagen/generator.h"

ABSL_FLAG(int, clients, 16, "concurrent clients for the closed-loop figures");
ABSL_FLAG(int, seconds, 5, "length of each run");
ABSL_FLAG(int64_t, people, 2000, "generated customers loaded before reading");

namespace {

using cdp::bench::Emit;
using cdp::bench::Percentile;
using cdp::bench::Phase;
using cdp::bench::Throughput;
using Clock = std::chrono::steady_clock;

const char* kFields[] = {"customer_number", "given_name", "family_name_prefix", "family_name", "initials",
                         "date_of_birth", "email", "phone_mobile", "phone_home", "postal_address",
                         "delivery_address", "billing_address", "order_history", "payment_method_summary",
                         "invoice_history", "contact_history", "loyalty_tier", "social_handles",
                         "channel_preferences", "language_preference"};

cdp::v1::GetProfileRequest Read(const std::string& profile) {
  cdp::v1::GetProfileRequest req;
  req.set_profile_id(profile);
  auto* ctx = req.mutable_context();
  ctx->set_purpose("customer-care-human");
  for (const char* f : kFields) ctx->mutable_read_mask()->add_paths(f);
  ctx->mutable_acting_party()->set_kind(cdp::v1::ActingParty::HUMAN_AGENT);
  ctx->mutable_acting_party()->set_id("agent-7");
  ctx->mutable_justification()->set_code(cdp::v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference("ticket-1");
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-read-path: GetProfile with consent and durable logging against the "
                        "transport's limit\nUsage: CDP_TEST_PG_DSN='host=... user=postgres dbname=postgres' "
                        "cdp-bench-read-path [--clients=N --seconds=S --people=N]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-read-path: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int clients = absl::GetFlag(FLAGS_clients), seconds = absl::GetFlag(FLAGS_seconds);
  cdp::testing::TestPki pki({"service/consent", "service/ingest", "service/audit", "service/profile",
                             "service/support-desk", "operator/cdpctl"});
  cdp::testing::TestDatabase db;
  auto start = [&](const std::string& name, std::vector<std::string> extra) {
    auto r = cdp::testing::StartService(name, pki, db, extra);
    if (!r.ok() || !cdp::rpc::WaitUntilServing(*pki.Channel(r->port, "operator/cdpctl"), "", absl::Seconds(120)).ok()) {
      std::fprintf(stderr, "cdp-%s did not start%s\n", name.c_str(), r.ok() ? r->process->Output().c_str() : "");
      std::exit(1);
    }
    return *std::move(r);
  };
  Phase("starting cdp-consent, cdp-audit, cdp-ingest, cdp-profile");
  auto consent = start("consent", {});
  auto audit = start("audit", {});
  auto ingest = start("ingest", {absl::StrCat("--consent_target=127.0.0.1:", consent.port)});
  auto profile = start("profile", {absl::StrCat("--consent_target=127.0.0.1:", consent.port),
                                   absl::StrCat("--ingest_target=127.0.0.1:", ingest.port),
                                   absl::StrCat("--audit_target=127.0.0.1:", audit.port)});

  // Customers: generated records through WriteRecords; their profile ids from the acks.
  Phase(absl::StrCat("loading ", absl::GetFlag(FLAGS_people), " generated customers"));
  std::vector<std::string> profiles;
  {
    auto stub = cdp::v1::IngestService::NewStub(pki.Channel(ingest.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    cdp::v1::WriteRecordsRequest req;
    auto flush = [&] {
      cdp::v1::WriteRecordsResponse resp;
      if (req.records_size() == 0) return;
      if (!stream->Write(req) || !stream->Read(&resp)) std::exit(1);
      for (const auto& a : resp.acks()) {
        if (a.new_profile()) profiles.push_back(a.profile_id());
      }
      req.Clear();
    };
    cdp::datagen::Generate({.people = absl::GetFlag(FLAGS_people), .seed = 5}, [&](const cdp::datagen::GeneratedRecord& g) {
      auto* r = req.add_records();
      r->set_source_system(g.source);
      r->set_record_id(g.record_id);
      *r->mutable_changed_at() = cdp::ToProtoTime(absl::FromUnixSeconds(g.changed_at));
      for (const auto& [k, v] : g.attributes) (*r->mutable_attributes())[k] = v;
      if (req.records_size() == 500) flush();
    });
    flush();
    stream->WritesDone();
    if (!stream->Finish().ok()) return 1;
  }
  auto reader = cdp::v1::ProfileService::NewStub(pki.Channel(profile.port, "service/support-desk"));
  auto get = [&](int c, int i) {
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    const std::string& p = profiles[static_cast<size_t>(c * 7919 + i) % profiles.size()];
    return reader->GetProfile(&ctx, Read(p), &view).ok();
  };
  // Until every profile is known to the consent replica (the outbox announces them).
  for (const auto deadline = Clock::now() + std::chrono::seconds(60);;) {
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    if (reader->GetProfile(&ctx, Read(profiles.back()), &view).ok()) break;
    if (Clock::now() > deadline) {
      std::fprintf(stderr, "profiles never became readable\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // 1. The transport's limit: health checks on the same server.
  Phase("baseline: Health/Check");
  auto health = grpc::health::v1::Health::NewStub(pki.Channel(profile.port, "service/support-desk"));
  std::vector<double> health_ms;
  const double health_rate = Throughput(clients, seconds, [&](int, int) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    return health->Check(&ctx, req, &resp).ok();
  }, &health_ms);

  // 2. GetProfile: maximum rate, then half of it, open loop.
  Phase("GetProfile at its maximum rate");
  std::vector<double> max_ms;
  const double read_rate = Throughput(clients, seconds, get, &max_ms);
  std::vector<double> half_ms;
  {
    Phase("GetProfile at half its maximum rate");
    const double rate = read_rate / 2;
    const int threads = clients;
    const auto interval = std::chrono::duration<double>(threads / rate);
    std::mutex mu;
    std::vector<std::thread> pool;
    const auto begin = Clock::now() + std::chrono::milliseconds(50);
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        std::vector<double> mine;
        auto due = begin + std::chrono::duration_cast<Clock::duration>(interval * (static_cast<double>(t) / threads));
        for (int i = 0; due < begin + std::chrono::seconds(seconds); ++i) {
          std::this_thread::sleep_until(due);
          if (!get(t, i)) std::exit(1);
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
          due += std::chrono::duration_cast<Clock::duration>(interval);
        }
        std::lock_guard<std::mutex> l(mu);
        half_ms.insert(half_ms.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : pool) t.join();
  }

  // 3. Log appends through the audit service.
  Phase("AppendEvents");
  auto appender = cdp::v1::AuditService::NewStub(pki.Channel(audit.port, "service/profile"));
  // One event per call (gRPC-bound), and 20 per call as the profile service coalesces
  // them under load (what the log itself takes through the service).
  auto appends = [&](int per_call) {
    const double calls = Throughput(clients * 4, seconds, [&](int c, int i) {
      cdp::v1::AppendEventsRequest req;
      for (int k = 0; k < per_call; ++k) {
        auto* item = req.add_events();
        item->set_customer_id(profiles[static_cast<size_t>(c + i + k) % profiles.size()]);
        auto* e = item->mutable_event();
        e->set_caller("spiffe://cdp.local/service/support-desk");
        e->set_purpose("customer-care-human");
        e->mutable_acting_party()->set_kind(cdp::v1::ActingParty::HUMAN_AGENT);
        e->mutable_acting_party()->set_id("agent-7");
        e->mutable_justification()->set_code(cdp::v1::Justification::CUSTOMER_REQUEST);
        e->add_fields_released("email");
      }
      grpc::ClientContext ctx;
      cdp::v1::AppendEventsResponse resp;
      return appender->AppendEvents(&ctx, req, &resp).ok();
    }, nullptr);
    return calls * per_call;
  };
  const double append_rate = appends(1);
  const double append_batched_rate = appends(20);

  // The sequencer alone, in this process, on a database of its own.
  double sequencer_rate = 0;
  {
    Phase("the sequencer alone");
    cdp::testing::TestDatabase own;
    if (!cdp::storage::ApplyMigrations(own.AdminDsn(), cdp::storage::migrations::audit()).ok()) return 1;
    cdp::storage::Pool pool({.dsn = own.DsnAs("cdp_audit"), .size = 2, .statements = cdp::audit::PgEventStore::Statements()});
    if (!pool.Connect().ok()) return 1;
    cdp::audit::PgEventStore store(pool);
    auto signer = cdp::consent::ReceiptSigner::FromPem(cdp::consent::NewEd25519PrivateKeyPem());
    cdp::audit::AccessLog log(store, **signer, {});
    if (!log.Start().ok()) return 1;
    cdp::v1::AccessEvent e;
    e.set_caller("spiffe://cdp.local/service/support-desk");
    e.set_purpose("customer-care-human");
    e.set_subject_pseudonym("sp-bench");
    e.mutable_acting_party()->set_kind(cdp::v1::ActingParty::HUMAN_AGENT);
    e.mutable_acting_party()->set_id("agent-7");
    e.mutable_justification()->set_code(cdp::v1::Justification::CUSTOMER_REQUEST);
    e.add_fields_released("email");
    (*e.mutable_fields_withheld())["date_of_birth"] = "outside_purpose_scope";
    sequencer_rate = Throughput(64, seconds, [&](int, int) { return log.Append({e}).ok(); }, nullptr);
  }

  // 4. Proofs and verification over everything logged.
  Phase("inclusion proofs, VerifyLog");
  auto op = cdp::v1::AuditService::NewStub(pki.Channel(audit.port, "operator/cdpctl"));
  cdp::v1::SignedTreeHead head;
  for (const auto deadline = Clock::now() + std::chrono::seconds(5); Clock::now() < deadline;) {
    grpc::ClientContext ctx;
    op->GetSignedTreeHead(&ctx, cdp::v1::GetSignedTreeHeadRequest(), &head);
    if (head.tree_size() > 1000) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::vector<double> proof_ms;
  for (int i = 0; i < 2000 && head.tree_size() > 0; ++i) {
    grpc::ClientContext ctx;
    cdp::v1::GetInclusionProofRequest req;
    req.set_position((static_cast<int64_t>(i) * 7919) % head.tree_size());
    req.set_tree_size(head.tree_size());
    cdp::v1::InclusionProof proof;
    const auto t0 = Clock::now();
    if (!op->GetInclusionProof(&ctx, req, &proof).ok()) return 1;
    proof_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  cdp::v1::VerifyLogResponse verified;
  const auto v0 = Clock::now();
  {
    grpc::ClientContext ctx;
    if (!op->VerifyLog(&ctx, cdp::v1::VerifyLogRequest(), &verified).ok() || !verified.ok()) {
      std::fprintf(stderr, "VerifyLog failed: %s\n", verified.problem().c_str());
      return 1;
    }
  }
  const double verify_rate =
      static_cast<double>(verified.events_checked()) / std::chrono::duration<double>(Clock::now() - v0).count();

  std::printf("\nread path on loopback (mTLS), %zu customers, %d clients, %d s runs\n\n", profiles.size(), clients,
              seconds);
  std::printf("  %-48s %12s   %-36s %10s %7s\n", "figure", "value", "baseline (same run)", "value", "ratio");
  std::printf("  %-48s %10.0f/s   %-36s %8.0f/s %7.3f\n", "GetProfile, 20 fields, consent + durable event",
              read_rate, "Health/Check on the same server", health_rate, read_rate / health_rate);
  std::printf("  %-48s %5.2f/%5.2f ms   %-36s %4.2f/%4.2f ms\n", "  p50/p99 at its maximum rate",
              Percentile(max_ms, 0.5), Percentile(max_ms, 0.99), "Health/Check p50/p99",
              Percentile(health_ms, 0.5), Percentile(health_ms, 0.99));
  std::printf("  %-48s %5.2f/%5.2f ms\n", "  p50/p99 at half its maximum rate (open loop)", Percentile(half_ms, 0.5),
              Percentile(half_ms, 0.99));
  std::printf("  %-48s %10.0f/s\n", "access-log appends (AppendEvents, 1 event/call)", append_rate);
  std::printf("  %-48s %10.0f/s\n", "  AppendEvents, 20 events/call", append_batched_rate);
  std::printf("  %-48s %10.0f/s\n", "  the sequencer alone (in process, 64 callers)", sequencer_rate);
  std::printf("  %-48s %5.3f/%5.3f ms\n", "inclusion proof p50/p99 (GetInclusionProof)", Percentile(proof_ms, 0.5),
              Percentile(proof_ms, 0.99));
  std::printf("  %-48s %10.0f/s   (%lld events)\n\n", "VerifyLog", verify_rate,
              static_cast<long long>(verified.events_checked()));
  Emit("read_path_get_profile_per_s", read_rate, "1/s");
  Emit("baseline_health_check_per_s", health_rate, "1/s");
  Emit("read_path_ratio_to_transport", read_rate / health_rate, "ratio");
  Emit("read_path_p99_at_max", Percentile(max_ms, 0.99), "ms");
  Emit("read_path_p50_at_half_rate", Percentile(half_ms, 0.5), "ms");
  Emit("read_path_p99_at_half_rate", Percentile(half_ms, 0.99), "ms");
  Emit("access_log_appends_per_s", append_rate, "1/s");
  Emit("access_log_appends_20_per_call_per_s", append_batched_rate, "1/s");
  Emit("access_log_sequencer_appends_per_s", sequencer_rate, "1/s");
  Emit("inclusion_proof_p50", Percentile(proof_ms, 0.5), "ms");
  Emit("inclusion_proof_p99", Percentile(proof_ms, 0.99), "ms");
  Emit("verify_log_events_per_s", verify_rate, "1/s");
  for (auto* s : {&profile, &ingest, &audit, &consent}) {
    s->process->Signal(SIGTERM);
    s->process->WaitForExit(absl::Seconds(20)).IgnoreError();
  }
  return 0;
}
