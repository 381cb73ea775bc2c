// The platform as the end-to-end benchmarks run it: cdp-consent, cdp-audit, cdp-ingest and
// cdp-profile over mTLS on loopback, on a fresh database of the PostgreSQL server named by
// CDP_TEST_PG_DSN, loaded with generated customers.
#ifndef CDP_BENCH_BENCH_PLATFORM_H_
#define CDP_BENCH_BENCH_PLATFORM_H_

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/durable_commits.h"
#include "cdp/v1/ingest.grpc.pb.h"
#include "pqxx/pqxx"
#include "services/common/client.h"
#include "services/common/proto_time.h"
#include "tests/testing/platform.h"
#include "tools/datagen/generator.h"

namespace cdp::bench {

// Settles a bench's databases (the data keys' too) after a bulk load, before anything is
// measured: the loaded tables vacuumed and analysed now, not by autovacuum in the middle
// of a measurement (at 200k customers it took the records and their lookup keys during the
// reads), and the dirty pages written out now, not by a checkpoint.
inline void SettleDatabases(const testing::TestDatabase& db) {
  for (const std::string& dsn : {db.AdminDsn(), db.Keys().AdminDsn()}) {
    pqxx::connection c(dsn);
    pqxx::nontransaction(c).exec0("VACUUM (ANALYZE)");
  }
  pqxx::connection c(db.AdminDsn());
  pqxx::nontransaction(c).exec0("CHECKPOINT");
}

struct Platform {
  // `identities` adds callers' certificates to the services' own and the operator's.
  explicit Platform(const std::vector<std::string>& identities)
      : pki([&] {
          std::vector<std::string> all = {"service/consent", "service/ingest", "service/audit", "service/profile",
                                          "operator/cdpctl"};
          all.insert(all.end(), identities.begin(), identities.end());
          return all;
        }()) {
    Phase("starting cdp-consent, cdp-audit, cdp-ingest, cdp-profile");
    consent = Start("consent", {});
    audit = Start("audit", {});
    ingest = Start("ingest", {absl::StrCat("--consent_target=127.0.0.1:", consent.port)});
    profile = Start("profile", {absl::StrCat("--consent_target=127.0.0.1:", consent.port),
                                absl::StrCat("--ingest_target=127.0.0.1:", ingest.port),
                                absl::StrCat("--audit_target=127.0.0.1:", audit.port)});
  }

  // CPU seconds so far of each service, PostgreSQL and this process (bench_util.h CpuNow).
  std::map<std::string, double> CpuNow() const {
    return bench::CpuNow({{"profile", profile.process->pid()},
                          {"audit", audit.process->pid()},
                          {"consent", consent.process->pid()},
                          {"ingest", ingest.process->pid()}});
  }

  testing::RunningService Start(const std::string& name, std::vector<std::string> extra) {
    auto r = testing::StartService(name, pki, db, extra);
    if (!r.ok() || !rpc::WaitUntilServing(*pki.Channel(r->port, "operator/cdpctl"), "", absl::Seconds(120)).ok()) {
      std::fprintf(stderr, "cdp-%s did not start%s\n", name.c_str(), r.ok() ? r->process->Output().c_str() : "");
      std::exit(1);
    }
    return *std::move(r);
  }

  // Writes `people` generated customers through WriteRecords; the new profiles' ids. With
  // `keep`, every record written stays in `records` (for later versions of them).
  std::vector<std::string> Load(int64_t people, uint64_t seed, bool keep = false) {
    Phase(absl::StrCat("loading ", people, " generated customers"));
    std::vector<std::string> profiles;
    auto stub = v1::IngestService::NewStub(pki.Channel(ingest.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    v1::WriteRecordsRequest req;
    auto flush = [&] {
      v1::WriteRecordsResponse resp;
      if (req.records_size() == 0) return;
      if (!stream->Write(req) || !stream->Read(&resp)) std::exit(1);
      for (const auto& a : resp.acks()) {
        if (a.new_profile()) profiles.push_back(a.profile_id());
      }
      req.Clear();
    };
    datagen::Generate({.people = people, .seed = seed}, [&](const datagen::GeneratedRecord& g) {
      auto* r = req.add_records();
      r->set_source_system(g.source);
      r->set_record_id(g.record_id);
      *r->mutable_changed_at() = ToProtoTime(absl::FromUnixSeconds(g.changed_at));
      for (const auto& [k, v] : g.attributes) (*r->mutable_attributes())[k] = v;
      if (keep) records.push_back(*r);
      if (req.records_size() == 500) flush();
    });
    flush();
    stream->WritesDone();
    if (!stream->Finish().ok()) std::exit(1);
    SettleDatabases(db);
    return profiles;
  }

  void Stop() {
    for (auto* s : {&profile, &ingest, &audit, &consent}) {
      s->process->Signal(SIGTERM);
      s->process->WaitForExit(absl::Seconds(20)).IgnoreError();
    }
  }

  testing::TestPki pki;
  testing::TestDatabase db;
  testing::RunningService consent, audit, ingest, profile;
  std::vector<v1::SourceRecord> records;
};

}  // namespace cdp::bench

#endif  // CDP_BENCH_BENCH_PLATFORM_H_
