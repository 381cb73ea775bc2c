// Ingestion through the real cdp-ingest: records per second resolved and stored, latency of
// a search by e-mail address, of one new record and of an erasure against the loaded
// profiles, and resolution quality against the truth, each beside a baseline measured in
// the same run.
//
// Starts its own cdp-ingest over mTLS with a fresh database on the PostgreSQL server named
// by CDP_TEST_PG_DSN (dropped afterwards). Generates --people Dutch customers over four
// source systems (tools/datagen), streams all but the last --one_by_one people's records
// in batches, then sends those one record at a time.
//   baseline (throughput): the same number of rows of the same size inserted by one
//   client in transactions of one batch each, no resolution, no encryption;
//   baseline (latency): a unary gRPC round trip to the same server over the same channel
//   (grpc.health.v1.Health/Check: no database, so its time is the transport's alone; a
//   ListMatchCandidates page, used before, varied with PostgreSQL's plan from 0.5 to 12 ms);
//   and as many one-row INSERT + COMMITs at the same pace (each record waits for a commit:
//   what the disk's fsync adds to the tail, same run).
// Prints a table and JSON lines {"name","value","unit"}.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <csignal>
#include <cstdio>
#include <map>
#include <thread>
#include <set>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "bench/bench_platform.h"
#include "bench/bench_util.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "health.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/common/client.h"
#include "services/common/flags.h"
#include "services/common/proto_time.h"
#include "tests/testing/platform.h"
#include "tools/datagen/generator.h"

ABSL_FLAG(int64_t, people, 5000, "generated customers to load");
ABSL_FLAG(int, batch, 500, "records per batch");
ABSL_FLAG(int, streams, 1, "WriteRecords streams sending batches at once");
ABSL_FLAG(std::string, service_log_level, "warning",
          "log level of the cdp-ingest it starts (info shows each batch's read/resolve/write time)");
ABSL_FLAG(int64_t, one_by_one, 400,
          "people (at most a tenth) whose records are held back and sent one at a time after the load: "
          "about 2.5 records each, so that the p99 is not just the slowest one or two");
ABSL_FLAG(int, explain, 0, "print this many profiles that hold more than one person, with their records");

namespace {

using cdp::bench::Emit;
using cdp::bench::PeakRssMb;
using cdp::bench::Percentile;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double S(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-ingest: ingestion and resolution through cdp-ingest\n"
                        "Usage: CDP_TEST_PG_DSN='host=... user=postgres dbname=postgres' "
                        "cdp-bench-ingest [--people=N]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-ingest: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int64_t people = absl::GetFlag(FLAGS_people);
  const int batch_size = absl::GetFlag(FLAGS_batch);
  cdp::testing::TestPki pki({"service/ingest", "operator/cdpctl", "service/rights", "service/profile"});
  cdp::testing::TestDatabase db;
  auto ingest = cdp::testing::StartService("ingest", pki, db, {"--log_level=" + absl::GetFlag(FLAGS_service_log_level)});
  if (!ingest.ok()) return 1;
  auto channel = pki.Channel(ingest->port, "operator/cdpctl");
  if (!cdp::rpc::WaitUntilServing(*channel, "", absl::Seconds(60)).ok()) {
    std::fprintf(stderr, "cdp-ingest did not start:\n%s\n", ingest->process->Output().c_str());
    return 1;
  }
  auto stub = cdp::v1::IngestService::NewStub(channel);

  // The data: bulk part and the last --one_by_one people, held back for the one-at-a-time run.
  std::vector<cdp::v1::SourceRecord> bulk, late;
  std::map<std::string, std::string> shown;  // "source/id" -> attributes, for --explain
  std::map<std::string, std::string> truth;
  const int64_t held_back_from =
      people - std::min<int64_t>(std::max<int64_t>(absl::GetFlag(FLAGS_one_by_one), 0), people / 10);
  cdp::datagen::Generate({.people = people, .seed = 11}, [&](const cdp::datagen::GeneratedRecord& g) {
    cdp::v1::SourceRecord r;
    r.set_source_system(g.source);
    r.set_record_id(g.record_id);
    *r.mutable_changed_at() = cdp::ToProtoTime(absl::FromUnixSeconds(g.changed_at));
    for (const auto& [k, v] : g.attributes) (*r.mutable_attributes())[k] = v;
    truth[g.source + "/" + g.record_id] = g.person_id;
    if (absl::GetFlag(FLAGS_explain) > 0) {
      std::string text = absl::StrCat(g.person_id, " ", g.household_id, ":");
      for (const auto& [k, v] : g.attributes) absl::StrAppend(&text, " ", k, "=", v);
      shown[g.source + "/" + g.record_id] = text;
    }
    int64_t n = 0;
    absl::SimpleAtoi(g.person_id.substr(1), &n);
    (n > held_back_from ? late : bulk).push_back(std::move(r));
  });

  std::map<std::string, std::set<std::string>> people_of_profile, profiles_of_person;
  std::map<std::string, std::vector<std::string>> records_of_profile;
  auto note = [&](const cdp::v1::WriteRecordsResponse& resp) {
    for (const auto& a : resp.acks()) {
      if (a.outcome() != cdp::v1::RecordAck::ACCEPTED) continue;
      const std::string person = truth[a.source_system() + "/" + a.record_id()];
      records_of_profile[a.profile_id()].push_back(a.source_system() + "/" + a.record_id());
      people_of_profile[a.profile_id()].insert(person);
      profiles_of_person[person].insert(a.profile_id());
    }
  };

  // 1. Bulk: batches over --streams streams at once, each sending its share in order with
  // at most four batches unanswered (as cdpctl import does). The batches are made before
  // and the answers looked at after, so that the two cores go to the service and the
  // database, not to this load generator.
  const int streams = std::max(1, absl::GetFlag(FLAGS_streams));
  const size_t bulk_records = bulk.size();
  std::vector<cdp::v1::WriteRecordsRequest> batches;
  for (size_t i = 0; i < bulk.size(); i += static_cast<size_t>(batch_size)) {
    cdp::v1::WriteRecordsRequest& req = batches.emplace_back();
    for (size_t j = i; j < std::min(bulk.size(), i + static_cast<size_t>(batch_size)); ++j) {
      *req.add_records() = std::move(bulk[j]);
    }
  }
  bulk.clear();
  std::vector<cdp::v1::WriteRecordsResponse> answers(batches.size());
  // CPU time per record beside the rate: the service, the PostgreSQL server (every process
  // named postgres on this machine) and this client. Two cores give 2 s of CPU a second.
  const std::map<std::string, pid_t> measured = {{"service", ingest->process->pid()}};
  const auto cpu0 = cdp::bench::CpuNow(measured);
  const auto bulk_start = Clock::now();
  {
    std::vector<grpc::Status> results(static_cast<size_t>(streams));
    std::vector<std::thread> senders;
    for (int t = 0; t < streams; ++t) {
      senders.emplace_back([&, t] {
        grpc::ClientContext ctx;
        auto stream = stub->WriteRecords(&ctx);
        // This stream's batches: t, t + streams, ...; answers come back in the same order.
        std::deque<size_t> unanswered;
        auto receive = [&] {
          if (!stream->Read(&answers[unanswered.front()])) return false;
          unanswered.pop_front();
          return true;
        };
        for (size_t b = static_cast<size_t>(t); b < batches.size(); b += static_cast<size_t>(streams)) {
          if (!stream->Write(batches[b])) break;
          unanswered.push_back(b);
          if (unanswered.size() >= 4 && !receive()) break;
        }
        stream->WritesDone();
        while (!unanswered.empty() && receive()) {
        }
        results[static_cast<size_t>(t)] = stream->Finish();
      });
    }
    for (auto& s : senders) s.join();
    for (const grpc::Status& s : results) {
      if (!s.ok()) {
        std::fprintf(stderr, "WriteRecords: %s\n", s.error_message().c_str());
        return 1;
      }
    }
  }
  const double bulk_rate = static_cast<double>(bulk_records) / S(Clock::now() - bulk_start);
  std::map<std::string, double> cpu_us = cdp::bench::CpuPerCallUs(cpu0, cdp::bench::CpuNow(measured), bulk_records);
  const double service_cpu_us = cpu_us["service"], pg_cpu_us = cpu_us["postgres"], self_cpu_us = cpu_us["client"];
  for (const cdp::v1::WriteRecordsResponse& resp : answers) note(resp);
  answers.clear();

  // 2. Finding customers by e-mail address (FindProfiles, as the profile service's search
  // does), 200 spread over the loaded records, right after the load: the lookup index
  // as ingestion leaves it, with whatever its pending list holds (migration ingest/0010).
  std::vector<double> find_ms;
  int not_found = 0;
  {
    auto searcher = cdp::v1::IngestService::NewStub(pki.Channel(ingest->port, "service/profile"));
    std::vector<const std::string*> emails;  // the batches' own, not copies of two million
    for (const cdp::v1::WriteRecordsRequest& batch : batches) {
      for (const cdp::v1::SourceRecord& r : batch.records()) {
        if (auto e = r.attributes().find("email"); e != r.attributes().end()) emails.push_back(&e->second);
      }
    }
    const size_t step = std::max<size_t>(1, emails.size() / 200);
    for (size_t i = 0; i < emails.size() && find_ms.size() < 200; i += step) {
      grpc::ClientContext ctx;
      cdp::v1::FindProfilesRequest req;
      req.set_email(*emails[i]);
      cdp::v1::FindProfilesResponse resp;
      const auto t0 = Clock::now();
      const grpc::Status s = searcher->FindProfiles(&ctx, req, &resp);
      if (!s.ok()) {
        // A generated address the service refuses as an e-mail address: not a search.
        if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) continue;
        std::fprintf(stderr, "FindProfiles: %s\n", s.error_message().c_str());
        return 1;
      }
      find_ms.push_back(Ms(Clock::now() - t0));
      not_found += resp.profile_ids_size() == 0;
    }
  }

  // 3. One new record at a time against the loaded profiles, once the load has settled:
  // what a record arriving in steady state costs, not beside the vacuum and checkpoint
  // that the bulk load sets off.
  cdp::bench::SettleDatabases(db);
  std::vector<double> one_ms;
  const size_t log_before_one_by_one = ingest->process->Output().size();  // the service's log
  const auto one_start = Clock::now();
  {
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    for (const auto& r : late) {
      cdp::v1::WriteRecordsRequest req;
      *req.add_records() = r;
      cdp::v1::WriteRecordsResponse resp;
      const auto t0 = Clock::now();
      if (!stream->Write(req) || !stream->Read(&resp)) break;
      one_ms.push_back(Ms(Clock::now() - t0));
      note(resp);
    }
    stream->WritesDone();
    stream->Finish();
  }
  const auto one_took = Clock::now() - one_start;
  // Each record waits for its commit: as many one-row commits at the same pace show how
  // much of the p99 is the disk's.
  std::vector<double> commit_ms;
  {
    cdp::bench::DurableCommits commits(db.AdminDsn(), 1);
    const auto every = one_took / std::max<size_t>(1, one_ms.size());
    const auto start = Clock::now();
    for (size_t i = 0; i < one_ms.size(); ++i) {
      std::this_thread::sleep_until(start + every * i);
      const auto t0 = Clock::now();
      if (!commits(0, static_cast<int>(i))) return 1;
      commit_ms.push_back(Ms(Clock::now() - t0));
    }
  }
  std::vector<double> rpc_ms;
  auto health = grpc::health::v1::Health::NewStub(channel);
  for (int i = 0; i < 200; ++i) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    const auto t0 = Clock::now();
    health->Check(&ctx, req, &resp);
    rpc_ms.push_back(Ms(Clock::now() - t0));
  }

  // 4. Erasing one customer at a time, 20 spread over the loaded profiles. An erasure holds
  // the ingest lock throughout: this is also how long ingestion stands still for one.
  std::vector<double> erase_ms;
  {
    auto rights = cdp::v1::IngestService::NewStub(pki.Channel(ingest->port, "service/rights"));
    const size_t step = std::max<size_t>(1, records_of_profile.size() / 20);
    size_t i = 0;
    for (const auto& [profile, refs] : records_of_profile) {
      if (i++ % step != 0 || erase_ms.size() >= 20) continue;
      grpc::ClientContext ctx;
      cdp::v1::EraseProfileRequest req;
      req.set_profile_id(profile);
      cdp::v1::EraseProfileResponse resp;
      const auto t0 = Clock::now();
      const grpc::Status s = rights->EraseProfile(&ctx, req, &resp);
      if (!s.ok()) {
        std::fprintf(stderr, "EraseProfile: %s\n", s.error_message().c_str());
        return 1;
      }
      erase_ms.push_back(Ms(Clock::now() - t0));
    }
  }

  // 5. Baseline: plain rows, same count and size, one transaction per batch.
  double baseline_rate = 0;
  {
    pqxx::connection c(db.AdminDsn());
    {
      pqxx::work tx(c);
      tx.exec0("CREATE TABLE bench_rows (source text, id text, at bigint, payload bytea, PRIMARY KEY (source, id, at))");
      tx.commit();
    }
    c.prepare("ins", "INSERT INTO bench_rows VALUES ($1, $2, $3, $4)");
    const pqxx::binarystring payload(std::string(400, 'x'));
    const auto t0 = Clock::now();
    int64_t n = 0;
    for (const cdp::v1::WriteRecordsRequest& batch : batches) {
      pqxx::work tx(c);
      for (const cdp::v1::SourceRecord& r : batch.records()) {
        tx.exec_prepared("ins", r.source_system(), r.record_id(), n++, payload);
      }
      tx.commit();
    }
    baseline_rate = static_cast<double>(bulk_records) / S(Clock::now() - t0);
  }

  // Quality: no profile may hold two people; how many people ended in one profile.
  int mixed = 0;
  for (const auto& [profile, ps] : people_of_profile) {
    if (ps.size() <= 1) continue;
    if (mixed++ < absl::GetFlag(FLAGS_explain)) {
      std::printf("profile %s:\n", profile.c_str());
      for (const auto& r : records_of_profile[profile]) std::printf("  %s %s\n", r.c_str(), shown[r].c_str());
    }
  }
  int whole = 0;
  for (const auto& [person, ps] : profiles_of_person) whole += ps.size() == 1;

  std::printf("\ncdp-ingest on loopback (mTLS), %lld generated people, %zu + %zu records, batches of %d\n\n",
              static_cast<long long>(people), bulk_records, late.size(), batch_size);
  std::printf("  %-46s %14s   %-40s %12s %7s\n", "figure", "value", "baseline (same run)", "value", "ratio");
  std::printf("  %-46s %12.0f/s   %-40s %10.0f/s %7.3f\n", "records resolved, sealed and stored (bulk)",
              bulk_rate, "plain INSERTs, same rows, same batches", baseline_rate, bulk_rate / baseline_rate);
  std::printf("  %-46s %6.2f/%6.2f ms   %-40s %4.2f/%4.2f ms\n", "one new record, p50/p99",
              Percentile(one_ms, 0.5), Percentile(one_ms, 0.99), "Health/Check round trip, p50/p99",
              Percentile(rpc_ms, 0.5), Percentile(rpc_ms, 0.99));
  std::printf("  %-46s %6s %6s      %-40s %4.2f/%4.2f ms\n", "", "", "", "one-row INSERT + COMMIT, same pace",
              Percentile(commit_ms, 0.5), Percentile(commit_ms, 0.99));
  std::printf("  %-46s %6.2f/%6.2f ms   %-40s %4.2f/%4.2f ms\n", "find by e-mail (after the load), p50/p99",
              Percentile(find_ms, 0.5), Percentile(find_ms, 0.99), "Health/Check round trip, p50/p99",
              Percentile(rpc_ms, 0.5), Percentile(rpc_ms, 0.99));
  if (not_found > 0) std::printf("  %d of %zu searches found no profile\n", not_found, find_ms.size());
  std::printf("  %-46s %6.2f/%6.2f ms   %-40s %4.2f/%4.2f ms\n", "erase one customer, p50/p99",
              Percentile(erase_ms, 0.5), Percentile(erase_ms, 0.99), "one new record, p50/p99 (above)",
              Percentile(one_ms, 0.5), Percentile(one_ms, 0.99));
  std::printf("  %-46s %6.1f µs (service %.1f, PostgreSQL %.1f, this client %.1f; wall %.1f µs on 2 cores)\n",
              "CPU per record (bulk)", service_cpu_us + pg_cpu_us + self_cpu_us, service_cpu_us, pg_cpu_us,
              self_cpu_us, 1e6 / bulk_rate);
  std::printf("  %-46s %14d\n", "profiles holding more than one person", mixed);
  std::printf("  %-46s %10d of %zu\n\n", "people whose records all share one profile", whole,
              profiles_of_person.size());
  Emit("ingest_bulk_records_per_s", bulk_rate, "1/s");
  Emit("baseline_plain_insert_rows_per_s", baseline_rate, "1/s");
  Emit("ingest_cpu_per_record_service", service_cpu_us, "us");
  Emit("ingest_cpu_per_record_postgres", pg_cpu_us, "us");
  Emit("ingest_cpu_per_record_client", self_cpu_us, "us");
  Emit("ingest_one_record_p50", Percentile(one_ms, 0.5), "ms");
  Emit("ingest_one_record_p99", Percentile(one_ms, 0.99), "ms");
  Emit("ingest_find_by_email_p50", Percentile(find_ms, 0.5), "ms");
  Emit("ingest_find_by_email_p99", Percentile(find_ms, 0.99), "ms");
  Emit("ingest_find_by_email_not_found", not_found, "searches");
  Emit("ingest_erase_one_p50", Percentile(erase_ms, 0.5), "ms");
  Emit("ingest_erase_one_p99", Percentile(erase_ms, 0.99), "ms");
  Emit("baseline_health_check_p50", Percentile(rpc_ms, 0.5), "ms");
  Emit("baseline_health_check_p99", Percentile(rpc_ms, 0.99), "ms");
  Emit("baseline_commit_p50", Percentile(commit_ms, 0.5), "ms");
  Emit("baseline_commit_p99", Percentile(commit_ms, 0.99), "ms");
  Emit("ingest_profiles_mixing_people", mixed, "profiles");
  Emit("ingest_people_in_one_profile_share",
       profiles_of_person.empty() ? 0 : static_cast<double>(whole) / static_cast<double>(profiles_of_person.size()),
       "ratio");
  if (absl::GetFlag(FLAGS_service_log_level) == "info" || absl::GetFlag(FLAGS_service_log_level) == "debug") {
    // The service's own account of its batches (records_written), per phase: for full
    // batches the mean in the first and the last fifth of the load (does the cost per batch
    // grow with the data?); for the records sent one at a time, the p50 and p99 (where
    // does the tail come from?).
    std::vector<std::array<double, 10>> phases;
    std::vector<std::array<double, 10>> singles;
    const std::string log = ingest->process->Output();
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      if (!absl::StrContains(line, "records_written")) continue;
      // The load's full batches, and the one-at-a-time run's records (its lines come after
      // the log's length when it began; a bulk batch of one, or --batch=1, is not mistaken).
      const bool single = static_cast<size_t>(line.data() - log.data()) >= log_before_one_by_one;
      if (!absl::StrContains(line, absl::StrCat("\"records\":", single ? 1 : batch_size, ","))) continue;
      std::array<double, 10> p{};
      int i = 0;
      for (const char* key : {"\"normalize_ms\":", "\"read_ms\":", "\"resolve_ms\":", "\"score_ms\":", "\"keys_ms\":",
                              "\"seal_ms\":", "\"write_ms\":", "\"store_ms\":", "\"commit_ms\":",
                              "\"candidates\":"}) {
        const size_t at = line.find(key);
        if (at != absl::string_view::npos) {
          absl::string_view rest = line.substr(at + std::strlen(key));
          absl::SimpleAtod(rest.substr(0, rest.find(',')), &p[static_cast<size_t>(i)]);
        }
        ++i;
      }
      (single ? singles : phases).push_back(p);
    }
    // (A batch resolved again after another writer waits for the lock while it catches up.)
    const char* names[] = {"prepare: check and normalise", "catch up (after another writer)",
                           "resolve in memory", "  of it: score against the index",
                           "data keys", "seal rows", "write (one transaction)",
                           "  of it: lock, insert rows", "  of it: commit"};
    const size_t fifth = phases.size() / 5;
    if (fifth > 0) {
      auto mean = [&](size_t from, int k) {
        double sum = 0;
        for (size_t j = from; j < from + fifth; ++j) sum += phases[j][static_cast<size_t>(k)];
        return sum / static_cast<double>(fifth);
      };
      std::printf("  per batch of %d (service log)        first fifth   last fifth\n", batch_size);
      // A stream runs three stages side by side (prepare, resolve then seal, write): each
      // stage's time, not their sum, bounds the rate.
      for (int k = 0; k < 9; ++k) {
        std::printf("  %-36s %8.1f ms  %8.1f ms\n", names[k], mean(0, k), mean(phases.size() - fifth, k));
      }
      // Scoring's work grows with the blocks a new record meets, which grow with the data.
      std::printf("  %-36s %11.1f  %11.1f\n", "stored records scored, per record", mean(0, 9) / batch_size,
                  mean(phases.size() - fifth, 9) / batch_size);
      std::printf("\n");
    }
    if (!singles.empty()) {
      // The rest of a record's time is the transport's and the hand-overs between the
      // stream's threads (services/ingest/ingest_service.cc).
      std::printf("  %-36s %11s  %11s\n", absl::StrCat("one new record (service log, ", singles.size(), ")").c_str(),
                  "p50", "p99");
      for (int k = 0; k < 9; ++k) {
        if (k == 1 || k == 3) continue;  // nothing to catch up one at a time; scoring is in resolve
        std::vector<double> of_phase;
        for (const auto& p : singles) of_phase.push_back(p[static_cast<size_t>(k)]);
        std::printf("  %-36s %8.2f ms  %8.2f ms\n", names[k], Percentile(of_phase, 0.5), Percentile(of_phase, 0.99));
      }
      std::printf("\n");
    }
  }
  // Peak memory of the service (its matching index lives in it), beside the bench's own.
  const double service_peak_mb = PeakRssMb(ingest->process->pid());
  std::printf("  peak memory of cdp-ingest: %.0f MB\n\n", service_peak_mb);
  Emit("ingest_service_peak_rss", service_peak_mb, "MB");
  ingest->process->Signal(SIGTERM);
  ingest->process->WaitForExit(absl::Seconds(20)).IgnoreError();
  return 0;
}
