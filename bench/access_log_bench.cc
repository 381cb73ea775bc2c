// The access log at a given size (--events): appends through the sequencer, inclusion
// proofs and full verification, in process on a PostgreSQL database of its own, each
// beside what PostgreSQL itself does for the same work in the same run:
//
//   appends        events/s through AccessLog::Append (batched, many callers), beside
//                  plain multi-row INSERT + COMMIT of rows as wide, by as many callers
//   proofs         p50/p99 of InclusionProof at the full size, beside one primary-key SELECT
//   verification   events/s of Verify() (every leaf rehashed, every head checked), beside
//                  the store's own scan delivering the same rows in the same parts with
//                  nothing checked (the most any verifier reading them can reach), and a
//                  sequential scan inside the server (no rows leave it)
//   start-up       events/s of a second log's Start() over the same events (every leaf
//                  loaded, the tree rebuilt: while it runs, no read gets data), beside the
//                  same sequential scan
//   memory         the peak resident memory of this process (the log's tree lives in it)
//
// Usage: CDP_TEST_PG_DSN=... cdp-bench-access-log --events=1000000
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "consent/receipt.h"
#include "pqxx/pqxx"
#include "services/audit/access_log.h"
#include "services/audit/pg_event_store.h"
#include "services/common/flags.h"
#include "storage/migrate.h"
#include "storage/migrations.h"
#include "tests/testing/test_database.h"

ABSL_FLAG(int64_t, events, 100000, "events in the log when proofs and verification are measured");
ABSL_FLAG(int, callers, 32, "concurrent appenders");
ABSL_FLAG(int, batch, 20, "events per Append call (as the profile service coalesces them)");

namespace {

using cdp::bench::Emit;
using cdp::bench::PeakRssMb;
using cdp::bench::Percentile;
using cdp::bench::Phase;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// Appends until `total` rows exist, from `callers` threads, `batch` per call; rows per second.
template <typename Call>
double Fill(int64_t total, int callers, int batch, Call call) {
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      while (next.fetch_add(batch) < total) {
        if (!call(c)) {
          std::fprintf(stderr, "bench: an append failed; stopping\n");
          std::exit(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(total) / Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-access-log: the access log at a given size beside PostgreSQL doing the same work\n"
                        "Usage: CDP_TEST_PG_DSN='host=... user=postgres dbname=postgres' cdp-bench-access-log "
                        "[--events=N --callers=N --batch=N]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-access-log: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int64_t total = absl::GetFlag(FLAGS_events);
  const int callers = absl::GetFlag(FLAGS_callers), batch = absl::GetFlag(FLAGS_batch);
  if (total < 1000 || callers < 1 || batch < 1) {
    std::fprintf(stderr, "--events at least 1000, --callers and --batch at least 1\n");
    return 2;
  }
  cdp::testing::TestDatabase db;
  if (!cdp::storage::ApplyMigrations(db.AdminDsn(), cdp::storage::migrations::audit()).ok()) return 1;
  cdp::storage::Pool pool({.dsn = db.DsnAs("cdp_audit"), .size = 4, .statements = cdp::audit::PgEventStore::Statements()});
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
  // A read of the read-path bench's 20 fields, of which a few are withheld.
  for (const char* f : cdp::bench::kReadFields) {
    if (std::string_view(f).find("address") == std::string_view::npos && std::string_view(f) != "date_of_birth") {
      e.add_fields_released(f);
    } else {
      (*e.mutable_fields_withheld())[f] = "outside_purpose_scope";
    }
  }
  const std::vector<cdp::v1::AccessEvent> events(static_cast<size_t>(batch), e);

  Phase(absl::StrCat("appending ", total, " events"));
  const double append_rate = Fill(total, callers, batch, [&](int) { return log.Append(events).ok(); });
  if (!log.SignNow().ok()) return 1;

  // Baseline: the same number of rows, as wide, by plain INSERTs from as many callers.
  Phase("baseline: plain INSERTs");
  {
    pqxx::connection c(db.AdminDsn());
    pqxx::work tx(c);
    tx.exec0("CREATE TABLE bench_rows (id bigserial PRIMARY KEY, pseudonym text, caller text, purpose text, "
             "entry bytea, leaf bytea)");
    tx.commit();
  }
  const std::string entry(e.SerializeAsString());
  std::vector<std::unique_ptr<pqxx::connection>> conns;
  for (int c = 0; c < callers; ++c) conns.push_back(std::make_unique<pqxx::connection>(db.AdminDsn()));
  const double insert_rate = Fill(total, callers, batch, [&](int c) {
    pqxx::work tx(*conns[static_cast<size_t>(c)]);
    tx.exec_params0("INSERT INTO bench_rows (pseudonym, caller, purpose, entry, leaf) "
                    "SELECT 'sp-bench', $1, $2, $3, sha256($3) FROM generate_series(1, $4)",
                    e.caller(), e.purpose(), pqxx::binarystring(entry), batch);
    tx.commit();
    return true;
  });
  conns.clear();

  Phase("inclusion proofs at full size");
  auto head = log.LatestTreeHead();
  if (!head.ok()) return 1;
  std::vector<double> proof_ms, select_ms;
  pqxx::connection admin(db.AdminDsn());
  for (int i = 0; i < 2000; ++i) {
    const int64_t position = (static_cast<int64_t>(i) * 7919 * 104729) % head->tree_size;
    auto t0 = Clock::now();
    if (!log.InclusionProof(position, head->tree_size).ok()) return 1;
    proof_ms.push_back(Seconds(t0) * 1000);
    t0 = Clock::now();
    pqxx::nontransaction tx(admin);
    tx.exec_params1("SELECT leaf_hash FROM audit.events WHERE position = $1", position);
    select_ms.push_back(Seconds(t0) * 1000);
  }

  // The rows were just written: the first read of each page would set its hint bits and
  // race the checkpointer flushing the load, and autovacuum would soon visit both tables.
  // An auditor verifies a log that has settled, so verification and its baseline are
  // measured after VACUUM ANALYZE of the whole database and a CHECKPOINT.
  Phase("settling the tables (VACUUM ANALYZE, CHECKPOINT)");
  {
    pqxx::nontransaction tx(admin);
    tx.exec0("VACUUM ANALYZE");
    tx.exec0("CHECKPOINT");
  }
  Phase("verification of the whole log");
  auto v0 = Clock::now();
  auto verified = log.Verify();
  if (!verified.ok() || !verified->ok) {
    std::fprintf(stderr, "verification failed: %s\n",
                 verified.ok() ? absl::StrCat("event ", verified->first_bad_position, ": ", verified->problem).c_str()
                               : verified.status().ToString().c_str());
    return 1;
  }
  const double verify_rate = static_cast<double>(head->tree_size) / Seconds(v0);
  v0 = Clock::now();
  {
    pqxx::nontransaction tx(admin);
    tx.exec1("SELECT sum(length(entry)) FROM audit.events");
  }
  const double scan_rate = static_cast<double>(head->tree_size) / Seconds(v0);
  // What Verify reads, read as it does (in its parts, each on a thread and connection of
  // its own), with nothing done to the rows: the rest of Verify's time is its checking.
  v0 = Clock::now();
  {
    const int64_t n = head->tree_size;
    const int parts = n >= 2 * cdp::audit::AccessLog::kVerifyPartMin ? 2 : 1;
    std::vector<std::thread> readers;
    std::atomic<int64_t> read{0};
    std::atomic<bool> failed{false};
    for (int i = 0; i < parts; ++i) {
      readers.emplace_back([&, i] {
        int64_t rows = 0;
        const int64_t to = i + 1 == parts ? cdp::audit::EventStore::kEnd : n * (i + 1) / parts;
        absl::Status s = store.Scan(n * i / parts, to, [&](const cdp::audit::StoredEvent&) {
          ++rows;
          return absl::OkStatus();
        });
        if (!s.ok()) failed = true;
        read += rows;
      });
    }
    for (std::thread& t : readers) t.join();
    if (failed || read < n) {
      std::fprintf(stderr, "bench: the store's scan failed or fell short\n");
      return 1;
    }
  }
  const double delivery_rate = static_cast<double>(head->tree_size) / Seconds(v0);
  const double peak = PeakRssMb(getpid());

  // A restart: a second log over the same events loads every leaf and rebuilds its tree,
  // and the audit service answers nothing (so no read releases data) until it has.
  Phase("start-up of a second log over the same events");
  double start_rate = 0;
  {
    cdp::audit::AccessLog restarted(store, **signer, {});
    v0 = Clock::now();
    if (!restarted.Start().ok()) return 1;
    start_rate = static_cast<double>(head->tree_size) / Seconds(v0);
  }

  std::printf("\naccess log with %lld events (in process, PostgreSQL on the same machine)\n\n",
              static_cast<long long>(head->tree_size));
  std::printf("  %-42s %12s   %-40s %12s %7s\n", "figure", "value", "baseline (same run)", "value", "ratio");
  std::printf("  %-42s %10.0f/s   %-40s %10.0f/s %7.3f\n", "appends (Append, batched)", append_rate,
              "plain INSERT + COMMIT, same rows", insert_rate, append_rate / insert_rate);
  std::printf("  %-42s %5.3f/%5.3f ms   %-40s %5.3f/%5.3f ms\n", "inclusion proof p50/p99", Percentile(proof_ms, 0.5),
              Percentile(proof_ms, 0.99), "primary-key SELECT p50/p99", Percentile(select_ms, 0.5),
              Percentile(select_ms, 0.99));
  std::printf("  %-42s %10.0f/s   %-40s %10.0f/s %7.3f\n", "verification (every leaf and head)", verify_rate,
              "the same rows delivered, nothing checked", delivery_rate, verify_rate / delivery_rate);
  std::printf("  %-42s %12s   %-40s %10.0f/s %7.3f\n", "", "", "sequential scan of the entries", scan_rate,
              verify_rate / scan_rate);
  std::printf("  %-42s %10.0f/s   %-40s %10.0f/s %7.3f\n", "start-up (leaves loaded, tree rebuilt)", start_rate,
              "sequential scan of the entries", scan_rate, start_rate / scan_rate);
  std::printf("  %-42s %10.0f MB\n\n", "peak memory of the log's process", peak);
  Emit("access_log_events", static_cast<double>(head->tree_size), "events");
  Emit("access_log_append_per_s", append_rate, "1/s");
  Emit("baseline_plain_insert_per_s", insert_rate, "1/s");
  Emit("access_log_proof_p50", Percentile(proof_ms, 0.5), "ms");
  Emit("access_log_proof_p99", Percentile(proof_ms, 0.99), "ms");
  Emit("baseline_pk_select_p50", Percentile(select_ms, 0.5), "ms");
  Emit("baseline_pk_select_p99", Percentile(select_ms, 0.99), "ms");
  Emit("access_log_verify_per_s", verify_rate, "1/s");
  Emit("baseline_scan_rows_per_s", scan_rate, "1/s");
  Emit("baseline_delivered_rows_per_s", delivery_rate, "1/s");
  Emit("access_log_start_per_s", start_rate, "1/s");
  Emit("access_log_peak_rss", peak, "MB");
  return 0;
}
