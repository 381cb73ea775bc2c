// The read path end to end: GetProfile with 20 requested fields, consent checks and a
// durable access event, beside the transport's own limit measured in the same run.
//
// Starts cdp-consent, cdp-ingest, cdp-audit and cdp-profile over mTLS on loopback with a
// fresh database on the PostgreSQL server named by CDP_TEST_PG_DSN (dropped afterwards),
// loads --people generated customers, and measures:
//   1. baseline: grpc.health.v1.Health/Check on cdp-profile itself (same server, same
//      mTLS, no work): the transport's limit here;
//   2. GetProfile over a hot set of 1000 profiles the profile cache holds, and spread
//      over the other customers (with the share of reads that were the first of their
//      profile, which the cache cannot answer). Each call's maximum rate is the best of
//      closed loops from each count of --max_clients clients: a read waits for its access
//      event's commit, so it takes more reads in flight than health checks to keep the
//      CPUs busy, and one count would measure one of them short of its maximum. Then,
//      for each --loads fraction, GetProfile and Health/Check open loop from --clients
//      threads at that fraction of their maxima (latency without queueing: each call
//      timed from when it was due), beside one-row INSERT + COMMITs at GetProfile's rate
//      from as many clients (each read waits for a commit: the disk's own tail, same run);
//   3. log appends: AppendEvents on cdp-audit, one event per call and 20 per call, from
//      64 clients; and the sequencer alone (AccessLog on PostgreSQL in this
//      process, a database of its own), one event per call from 64 threads: what group
//      commit does without gRPC in front of it;
//   4. GetInclusionProof latency, and VerifyLog over everything logged: events per second.
// Prints a table and JSON lines {"name","value","unit"}.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>
#include <numeric>
#include <mutex>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_platform.h"
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

ABSL_FLAG(std::vector<std::string>, max_clients, std::vector<std::string>({"16", "64", "128"}),
          "closed-loop client counts; each call's maximum rate is the best of them");
ABSL_FLAG(int, clients, 64,
          "client threads of the open-loop figures, and the commit baseline's connections (the server's "
          "max_connections must allow them beside the services' pools): enough that calls due are seldom held "
          "back by a client still waiting");
ABSL_FLAG(int, seconds, 5, "length of each run");
ABSL_FLAG(int64_t, people, 2000, "generated customers loaded before reading");
ABSL_FLAG(std::vector<std::string>, loads, std::vector<std::string>({"0.5"}),
          "open-loop runs at these fractions of each call's maximum rate (GetProfile and, as the "
          "baseline, Health/Check), for latency against load");

namespace {

using cdp::bench::Emit;
using cdp::bench::OpenLoop;
using cdp::bench::PeakRssMb;
using cdp::bench::Percentile;
using cdp::bench::Phase;
using cdp::bench::Throughput;
using Clock = std::chrono::steady_clock;

cdp::v1::GetProfileRequest Read(const std::string& profile) {
  cdp::v1::GetProfileRequest req;
  req.set_profile_id(profile);
  auto* ctx = req.mutable_context();
  ctx->set_purpose("customer-care-human");
  for (const char* f : cdp::bench::kReadFields) ctx->mutable_read_mask()->add_paths(f);
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
                        "cdp-bench-read-path [--max_clients=16,64,128 --clients=N --seconds=S --people=N]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-read-path: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int clients = absl::GetFlag(FLAGS_clients), seconds = absl::GetFlag(FLAGS_seconds);
  std::vector<int> max_clients;
  for (const std::string& text : absl::GetFlag(FLAGS_max_clients)) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1 || n > 1000) {
      std::fprintf(stderr, "--max_clients: client counts from 1 to 1000 (got %s)\n", text.c_str());
      return 2;
    }
    max_clients.push_back(n);
  }
  if (max_clients.empty()) {
    std::fprintf(stderr, "--max_clients: at least one client count\n");
    return 2;
  }
  cdp::bench::Platform platform({"service/support-desk"});
  auto& pki = platform.pki;
  auto& consent = platform.consent;
  auto& audit = platform.audit;
  auto& ingest = platform.ingest;
  auto& profile = platform.profile;
  // Customers: generated records through WriteRecords; their profile ids from the acks.
  const std::vector<std::string> profiles = platform.Load(absl::GetFlag(FLAGS_people), 5);
  auto reader = cdp::v1::ProfileService::NewStub(pki.Channel(profile.port, "service/support-desk"));
  // A failed read stops the run; the first one says why.
  std::once_flag told;
  auto read = [&](const std::string& p) {
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    const grpc::Status s = reader->GetProfile(&ctx, Read(p), &view);
    if (!s.ok()) {
      std::call_once(told, [&] {
        std::fprintf(stderr, "GetProfile failed: code %d: %s\n", static_cast<int>(s.error_code()),
                     s.error_message().c_str());
      });
    }
    return s.ok();
  };
  // A hot set the profile cache holds (read once, below): what a read costs when its
  // golden record needs no call to cdp-ingest.
  const size_t hot = std::min<size_t>(1000, profiles.size());
  auto get_hot = [&](int c, int i) { return read(profiles[static_cast<size_t>(c * 7919 + i) % hot]); };
  // Reads spread over the other customers in a scattered order (a step coprime with their
  // number visits each once per round), each run going on where the last one stopped: until
  // all have been read once, each read is the first of its profile, and the cache cannot
  // answer it. How many were is counted (FirstReads).
  const size_t cold_begin = profiles.size() > hot ? hot : 0, cold = profiles.size() - cold_begin;
  uint64_t step = 7919;
  while (std::gcd(step, static_cast<uint64_t>(cold)) != 1) ++step;
  std::atomic<uint64_t> spread{0};
  auto get = [&](int, int) {
    const uint64_t k = spread.fetch_add(1, std::memory_order_relaxed) % cold;
    return read(profiles[cold_begin + static_cast<size_t>(k * step % cold)]);
  };
  // The share of spread reads from `before` to `after` (spread's values) that were the
  // first of their profile.
  auto first_reads = [cold](uint64_t before, uint64_t after) {
    if (after <= before) return 0.0;
    return static_cast<double>(std::min<uint64_t>(after, cold) - std::min<uint64_t>(before, cold)) /
           static_cast<double>(after - before);
  };
  // Until every profile is known to the consent replica (the ingest service announces them).
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

  // 1 and 2. Each call's maximum rate: closed loop at every count of --max_clients, the
  // best count kept. Health/Check is CPU-bound at a few clients; a read waits for its
  // access event's commit, so it needs more of them in flight before the CPUs are busy.
  auto health = grpc::health::v1::Health::NewStub(pki.Channel(profile.port, "service/support-desk"));
  auto check = [&](int, int) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    return health->Check(&ctx, req, &resp).ok();
  };
  for (size_t i = 0; i < hot; ++i) {
    if (!get_hot(0, static_cast<int>(i))) {
      std::fprintf(stderr, "a read of the hot set failed\n");
      return 1;
    }
  }
  struct Closed {
    int clients = 0;
    double rate = 0;
    double first_reads = 0;  // of spread reads
    std::vector<double> ms;
    std::string cpu;  // CPU per call, by process
  };
  struct Row {
    Closed health, read, hot;  // summaries
  };
  std::vector<Row> rows;  // one per client count
  Closed health_best, read_best, hot_best;
  // One closed loop of `n` clients; kept in `best` if faster. Its summary, without latencies.
  auto run = [&](int n, const std::function<bool(int, int)>& body, Closed* best) {
    Closed now{.clients = n};
    const auto cpu0 = platform.CpuNow();
    const uint64_t spread0 = spread.load();
    now.rate = Throughput(n, seconds, body, &now.ms);
    now.cpu = cdp::bench::DescribeCpu(cdp::bench::CpuPerCallUs(cpu0, platform.CpuNow(), now.ms.size()));
    now.first_reads = first_reads(spread0, spread.load());
    Closed summary{.clients = n, .rate = now.rate, .first_reads = now.first_reads};
    if (now.rate > best->rate) *best = std::move(now);
    return summary;
  };
  for (const int n : max_clients) {
    Phase(absl::StrCat("closed loop, ", n, " clients: Health/Check, GetProfile, GetProfile over a hot set"));
    rows.push_back({run(n, check, &health_best), run(n, get, &read_best), run(n, get_hot, &hot_best)});
  }
  const double health_rate = health_best.rate, read_rate = read_best.rate, hot_rate = hot_best.rate;
  const std::vector<double>&health_ms = health_best.ms, &max_ms = read_best.ms, &hot_ms = hot_best.ms;
  // Open loop at fractions of each one's maximum: latency against load, beside the
  // transport's at the same fractions of its own maximum.
  std::vector<double> half_ms, half_commit_ms;
  std::vector<std::pair<double, std::vector<double>>> load_curve;
  // Each read waits for its access event's commit: the disk's own tail, at the same rate.
  cdp::bench::DurableCommits commits(platform.db.AdminDsn(), clients);
  for (const std::string& text : absl::GetFlag(FLAGS_loads)) {
    double load = 0;
    if (!absl::SimpleAtod(text, &load) || load <= 0 || load > 1.5) {
      std::fprintf(stderr, "--loads: fractions like 0.5 (got %s)\n", text.c_str());
      return 2;
    }
    Phase(absl::StrCat("GetProfile and Health/Check open loop at ", text, " of their maximum rate"));
    std::vector<double> reads = OpenLoop(read_rate * load, clients, seconds, get);
    std::vector<double> checks = OpenLoop(health_rate * load, clients, seconds, check);
    std::vector<double> committed =
        OpenLoop(read_rate * load, clients, seconds, [&](int c, int i) { return commits(c, i); });
    const std::string at = absl::StrFormat("%.2f", load);
    Emit(absl::StrCat("read_path_open_loop@", at, "_rate"), read_rate * load, "1/s");
    Emit(absl::StrCat("read_path_open_loop@", at, "_p50"), Percentile(reads, 0.5), "ms");
    Emit(absl::StrCat("read_path_open_loop@", at, "_p99"), Percentile(reads, 0.99), "ms");
    Emit(absl::StrCat("read_path_open_loop@", at, "_p999"), Percentile(reads, 0.999), "ms");
    Emit(absl::StrCat("baseline_health_open_loop@", at, "_p50"), Percentile(checks, 0.5), "ms");
    Emit(absl::StrCat("baseline_health_open_loop@", at, "_p99"), Percentile(checks, 0.99), "ms");
    Emit(absl::StrCat("baseline_health_open_loop@", at, "_p999"), Percentile(checks, 0.999), "ms");
    Emit(absl::StrCat("baseline_commit_open_loop@", at, "_p50"), Percentile(committed, 0.5), "ms");
    Emit(absl::StrCat("baseline_commit_open_loop@", at, "_p99"), Percentile(committed, 0.99), "ms");
    Emit(absl::StrCat("baseline_commit_open_loop@", at, "_p999"), Percentile(committed, 0.999), "ms");
    if (text == "0.5") {
      half_ms = reads;
      half_commit_ms = std::move(committed);
    }
    load_curve.emplace_back(load, std::move(reads));
  }
  if (half_ms.empty()) {
    half_ms = OpenLoop(read_rate / 2, clients, seconds, get);
    half_commit_ms = OpenLoop(read_rate / 2, clients, seconds, [&](int c, int i) { return commits(c, i); });
  }

  // 3. Log appends through the audit service, from 64 clients.
  Phase("AppendEvents");
  auto appender = cdp::v1::AuditService::NewStub(pki.Channel(audit.port, "service/profile"));
  // One event per call (gRPC-bound), and 20 per call as the profile service coalesces
  // them under load (what the log itself takes through the service).
  auto appends = [&](int per_call) {
    const double calls = Throughput(64, seconds, [&](int c, int i) {
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

  std::printf("\nread path on loopback (mTLS), %zu customers, %d s runs\n\n", profiles.size(), seconds);
  std::printf("  closed loop: calls/s by client count (each call's maximum is its best)\n");
  std::printf("  %8s %14s %14s %12s %22s\n", "clients", "Health/Check", "GetProfile", "first reads",
              "GetProfile, hot set");
  for (const Row& row : rows) {
    const int n = row.health.clients;
    std::printf("  %8d %12.0f/s %12.0f/s %11.0f%% %20.0f/s\n", n, row.health.rate, row.read.rate,
                100 * row.read.first_reads, row.hot.rate);
    Emit(absl::StrCat("baseline_health_check_per_s@", n, "_clients"), row.health.rate, "1/s");
    Emit(absl::StrCat("read_path_get_profile_per_s@", n, "_clients"), row.read.rate, "1/s");
    Emit(absl::StrCat("read_path_first_reads@", n, "_clients"), row.read.first_reads, "ratio");
    Emit(absl::StrCat("read_path_cached_get_profile_per_s@", n, "_clients"), row.hot.rate, "1/s");
  }
  std::printf("  (first reads: the share of GetProfile's reads that were the first of their profile, which the\n"
              "   profile cache cannot answer; %zu customers outside the hot set)\n\n", cold);
  std::printf("  %-60s %12s   %-40s %10s %7s\n", "figure", "value", "baseline (same run)", "value", "ratio");
  std::printf("  %-60s %10.0f/s   %-40s %8.0f/s %7.3f\n",
              absl::StrFormat("GetProfile, 20 fields, consent + durable event, %d clients", read_best.clients).c_str(),
              read_rate, absl::StrFormat("Health/Check, same server, %d clients", health_best.clients).c_str(),
              health_rate, read_rate / health_rate);
  std::printf("  %-60s %10.0f%%\n", "  of which first reads of a profile", 100 * read_best.first_reads);
  std::printf("  %-60s %5.2f/%5.2f ms   %-40s %4.2f/%4.2f ms\n", "  p50/p99 at its maximum rate",
              Percentile(max_ms, 0.5), Percentile(max_ms, 0.99), "Health/Check p50/p99",
              Percentile(health_ms, 0.5), Percentile(health_ms, 0.99));
  std::printf("  %-60s %5.2f/%5.2f ms   %-40s %4.2f/%4.2f ms\n",
              absl::StrFormat("  p50/p99 at half its maximum rate, open loop, %d clients", clients).c_str(),
              Percentile(half_ms, 0.5), Percentile(half_ms, 0.99), "INSERT+COMMIT p50/p99, same rate",
              Percentile(half_commit_ms, 0.5), Percentile(half_commit_ms, 0.99));
  std::printf("  %-60s %s\n", "  CPU per GetProfile", read_best.cpu.c_str());
  std::printf("  %-60s %10.0f/s   %-40s %8.0f/s %7.3f\n",
              absl::StrFormat("GetProfile over %zu cached profiles, %d clients", hot, hot_best.clients).c_str(),
              hot_rate, absl::StrFormat("Health/Check, same server, %d clients", health_best.clients).c_str(),
              health_rate, hot_rate / health_rate);
  std::printf("  %-60s %5.2f/%5.2f ms\n", "  p50/p99", Percentile(hot_ms, 0.5), Percentile(hot_ms, 0.99));
  std::printf("  %-60s %s\n", "  CPU per cached GetProfile", hot_best.cpu.c_str());
  std::printf("  %-60s %s\n", "  CPU per Health/Check (the baseline)", health_best.cpu.c_str());
  std::printf("  %-60s %10.0f/s\n", "access-log appends (AppendEvents, 1 event/call)", append_rate);
  std::printf("  %-60s %10.0f/s\n", "  AppendEvents, 20 events/call", append_batched_rate);
  std::printf("  %-60s %10.0f/s\n", "  the sequencer alone (in process, 64 callers)", sequencer_rate);
  std::printf("  %-60s %5.3f/%5.3f ms\n", "inclusion proof p50/p99 (GetInclusionProof)", Percentile(proof_ms, 0.5),
              Percentile(proof_ms, 0.99));
  std::printf("  %-60s %10.0f/s   (%lld events)\n\n", "VerifyLog", verify_rate,
              static_cast<long long>(verified.events_checked()));
  Emit("read_path_get_profile_per_s", read_rate, "1/s");
  Emit("baseline_health_check_per_s", health_rate, "1/s");
  Emit("read_path_ratio_to_transport", read_rate / health_rate, "ratio");
  Emit("read_path_p99_at_max", Percentile(max_ms, 0.99), "ms");
  Emit("read_path_cached_get_profile_per_s", hot_rate, "1/s");
  Emit("read_path_cached_ratio_to_transport", hot_rate / health_rate, "ratio");
  Emit("read_path_cached_p99", Percentile(hot_ms, 0.99), "ms");
  Emit("read_path_p50_at_half_rate", Percentile(half_ms, 0.5), "ms");
  Emit("read_path_p99_at_half_rate", Percentile(half_ms, 0.99), "ms");
  Emit("baseline_commit_p99_at_half_rate", Percentile(half_commit_ms, 0.99), "ms");
  Emit("access_log_appends_per_s", append_rate, "1/s");
  Emit("access_log_appends_20_per_call_per_s", append_batched_rate, "1/s");
  Emit("access_log_sequencer_appends_per_s", sequencer_rate, "1/s");
  Emit("inclusion_proof_p50", Percentile(proof_ms, 0.5), "ms");
  Emit("inclusion_proof_p99", Percentile(proof_ms, 0.99), "ms");
  Emit("verify_log_events_per_s", verify_rate, "1/s");
  Emit("read_path_customers", static_cast<double>(profiles.size()), "customers");
  Emit("read_path_max_rate_clients", read_best.clients, "clients");
  Emit("baseline_health_max_rate_clients", health_best.clients, "clients");
  Emit("read_path_cached_max_rate_clients", hot_best.clients, "clients");
  Emit("read_path_first_reads_at_max", read_best.first_reads, "ratio");
  Emit("read_path_p999_at_max", Percentile(max_ms, 0.999), "ms");
  Emit("baseline_health_p999_at_max", Percentile(health_ms, 0.999), "ms");
  // Peak memory of each service over the whole run, at this data size.
  std::vector<std::pair<std::string, double>> peaks;
  std::string peak_line = "  peak memory:";
  for (const auto& [name, s] : std::vector<std::pair<std::string, cdp::testing::RunningService*>>{
           {"consent", &consent}, {"ingest", &ingest}, {"audit", &audit}, {"profile", &profile}}) {
    peaks.emplace_back(name, PeakRssMb(s->process->pid()));
    absl::StrAppend(&peak_line, " cdp-", name, " ", absl::StrFormat("%.0f", peaks.back().second), " MB");
  }
  std::printf("%s\n", peak_line.c_str());
  for (const auto& [name, mb] : peaks) Emit(absl::StrCat("peak_rss_", name), mb, "MB");
  platform.Stop();
  return 0;
}
