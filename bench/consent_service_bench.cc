// The consent service end to end: UpdateConsent throughput and latency, and how fast a
// revocation reaches three replicas, each beside a baseline measured in the same run.
//
// Starts its own cdp-consent (the built binary) over mTLS on loopback, with a fresh
// database on the PostgreSQL server named by CDP_TEST_PG_DSN (a superuser DSN, as
// tests/run.sh sets it; the database is dropped afterwards), and:
//   1. baseline: unary gRPC round trips (GetReceiptKey: mTLS, auth, no database) with the
//      same number of clients, and single-client latency;
//   2. baseline: bare PostgreSQL transactions on the same server, one small INSERT and a
//      COMMIT each, with the same number of clients;
//   3. UpdateConsent from --clients clients for --seconds, each update a different customer
//      or a new choice, with its idempotency key and receipt;
//   4. --revocations changes, one at a time, while three ConsentReplica instances follow
//      the service: the time from the acknowledgement (and from sending) until each
//      replica has applied the change.
// Prints a table and JSON lines {"name","value","unit"}.
#include <atomic>
#include <csignal>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_util.h"
#include "bench/durable_commits.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "consent/replica.h"
#include "pqxx/pqxx"
#include "services/common/client.h"
#include "services/common/flags.h"
#include "tests/testing/platform.h"

ABSL_FLAG(int, clients, 8, "concurrent clients for the throughput figures");
ABSL_FLAG(int, seconds, 5, "length of each throughput run");
ABSL_FLAG(int, customers, 2000, "customers registered for the run");
ABSL_FLAG(int, revocations, 300, "changes timed on their way to the replicas");

namespace {

using cdp::bench::Emit;
using cdp::bench::Percentile;
using cdp::bench::Throughput;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

cdp::v1::UpdateConsentRequest Change(const std::string& customer, const std::string& key,
                                     const std::string& field, bool allow) {
  cdp::v1::UpdateConsentRequest r;
  r.set_customer_id(customer);
  r.set_idempotency_key(key);
  r.set_channel(cdp::v1::PORTAL);
  r.mutable_acting_party()->set_kind(cdp::v1::ActingParty::DATA_SUBJECT);
  auto* c = r.add_choices();
  c->set_field(field);
  c->set_purpose("direct-marketing");
  c->set_allow(allow);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-consent-service: UpdateConsent rate and revocation "
                        "propagation to replicas\nUsage: CDP_TEST_PG_DSN='host=... user=postgres "
                        "dbname=postgres' cdp-bench-consent-service [flags]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-consent-service: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int clients = absl::GetFlag(FLAGS_clients);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int customers = absl::GetFlag(FLAGS_customers);
  const int revocations = absl::GetFlag(FLAGS_revocations);

  cdp::testing::TestPki pki({"service/consent", "service/profile", "service/portal", "operator/cdpctl"});
  cdp::testing::TestDatabase db;
  auto consent = cdp::testing::StartService("consent", pki, db, {"--log_level=warning", "--db_pool_size=16"});
  if (!consent.ok()) return 1;
  auto portal_channel = pki.Channel(consent->port, "service/portal");
  if (!cdp::rpc::WaitUntilServing(*portal_channel, "", absl::Seconds(60)).ok()) {
    std::fprintf(stderr, "consent service did not start:\n%s\n", consent->process->Output().c_str());
    return 1;
  }
  auto op = cdp::v1::ConsentService::NewStub(pki.Channel(consent->port, "operator/cdpctl"));
  for (int i = 0; i < customers; i += 1000) {
    cdp::v1::RegisterCustomersRequest reg;
    for (int j = i; j < std::min(customers, i + 1000); ++j) reg.add_customer_ids(absl::StrCat("b-", j));
    cdp::v1::RegisterCustomersResponse done;
    grpc::ClientContext ctx;
    if (!op->RegisterCustomers(&ctx, reg, &done).ok()) return 1;
  }
  // A stub per client (gRPC may share one HTTP/2 connection between them), each connected
  // before anything is timed: a TLS handshake is no part of a call's cost, and a first
  // call on a channel whose connection failed to come up in time (a handshake past the
  // connect limit on a loaded machine) fails at once and would stop the run.
  std::vector<std::unique_ptr<cdp::v1::ConsentService::Stub>> stubs;
  for (int c = 0; c < clients; ++c) {
    auto channel = pki.Channel(consent->port, "service/portal");
    if (absl::Status up = cdp::rpc::WaitUntilServing(*channel, "", absl::Seconds(60)); !up.ok()) {
      std::fprintf(stderr, "client %d cannot reach the consent service: %s\n", c, up.ToString().c_str());
      return 1;
    }
    stubs.push_back(cdp::v1::ConsentService::NewStub(channel));
  }

  // 1. gRPC baseline. A failed call stops the run; the first one says why.
  std::vector<double> rpc_lat;
  std::once_flag told;
  auto unary = [&](int c, int) {
    grpc::ClientContext ctx;
    cdp::v1::ReceiptKey key;
    const grpc::Status s = stubs[static_cast<size_t>(c)]->GetReceiptKey(&ctx, cdp::v1::GetReceiptKeyRequest(), &key);
    if (!s.ok()) {
      std::call_once(told, [&] {
        std::fprintf(stderr, "GetReceiptKey failed: code %d: %s\n", static_cast<int>(s.error_code()),
                     s.error_message().c_str());
      });
    }
    return s.ok();
  };
  const double rpc_rate = Throughput(clients, seconds, unary, nullptr);
  Throughput(1, 1, unary, &rpc_lat);

  // 2. PostgreSQL baseline: one small INSERT + COMMIT per transaction.
  double pg_rate = 0;
  {
    cdp::bench::DurableCommits commits(db.AdminDsn(), clients, 600);
    pg_rate = Throughput(clients, seconds, [&](int c, int i) { return commits(c, i); }, nullptr);
  }

  // 3. UpdateConsent: each client updates its own slice of customers.
  const std::vector<std::string> fields = {"email", "phone_mobile", "phone_home", "given_name"};
  std::vector<double> update_lat;
  const double update_rate = Throughput(clients, seconds, [&](int c, int i) {
    const int customer = (c + i * clients) % customers;
    auto r = Change(absl::StrCat("b-", customer), absl::StrCat("u-", c, "-", i),
                    fields[static_cast<size_t>(i) % fields.size()], i % 2 == 0);
    grpc::ClientContext ctx;
    cdp::v1::UpdateConsentResponse response;
    grpc::Status s = stubs[static_cast<size_t>(c)]->UpdateConsent(&ctx, r, &response);
    if (!s.ok()) std::fprintf(stderr, "UpdateConsent: %s\n", s.error_message().c_str());
    return s.ok();
  }, &update_lat);

  // 4. Propagation to three replicas.
  std::mutex mu;
  std::condition_variable cv;
  absl::flat_hash_map<std::string, int64_t> want;  // customer -> version awaited
  std::vector<Clock::time_point> applied(3);
  std::vector<bool> done(3);
  std::vector<std::unique_ptr<cdp::consent::ConsentReplica>> replicas;
  for (int r = 0; r < 3; ++r) {
    replicas.push_back(std::make_unique<cdp::consent::ConsentReplica>(cdp::consent::ConsentReplica::Options{
        .connect = [&] { return pki.Channel(consent->port, "service/profile"); },
        .on_applied = [&, r](const std::string& customer, int64_t version) {
          auto now = Clock::now();
          std::lock_guard<std::mutex> lock(mu);
          auto it = want.find(customer);
          if (it != want.end() && version >= it->second && !done[static_cast<size_t>(r)]) {
            applied[static_cast<size_t>(r)] = now;
            done[static_cast<size_t>(r)] = true;
            cv.notify_all();
          }
        }}));
  }
  for (auto& r : replicas) {
    if (!r->WaitUntilCurrent(absl::Seconds(60)).ok()) return 1;
  }
  std::vector<double> from_ack, from_send;
  auto stub = cdp::v1::ConsentService::NewStub(portal_channel);
  for (int i = 0; i < revocations; ++i) {
    const std::string customer = absl::StrCat("b-", i % customers);
    grpc::ClientContext ctx;
    cdp::v1::UpdateConsentResponse response;
    // Expected version: whatever the replicas will have after this change.
    auto current = replicas[0]->Lookup(customer);
    if (!current.ok()) return 1;
    {
      std::lock_guard<std::mutex> lock(mu);
      want.clear();
      want[customer] = current->version() + 1;
      std::fill(done.begin(), done.end(), false);
    }
    auto r = Change(customer, absl::StrCat("p-", i), "email", i % 2 == 1);
    r.set_expected_version(current->version());
    const auto sent = Clock::now();
    grpc::Status s = stub->UpdateConsent(&ctx, r, &response);
    const auto acked = Clock::now();
    if (!s.ok()) {
      std::fprintf(stderr, "UpdateConsent: %s\n", s.error_message().c_str());
      return 1;
    }
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return done[0] && done[1] && done[2]; })) {
      std::fprintf(stderr, "a replica did not receive change %d within 10 s\n", i);
      return 1;
    }
    for (const auto& t : applied) {
      from_ack.push_back(std::max(0.0, Ms(t - acked)));
      from_send.push_back(Ms(t - sent));
    }
  }

  std::printf("\nconsent service on loopback (mTLS), %d clients, %d s per run, %d customers, "
              "%d timed revocations x 3 replicas\n\n", clients, seconds, customers, revocations);
  std::printf("  %-44s %14s   %-34s %14s %8s\n", "figure", "value", "baseline (same run)", "value", "ratio");
  std::printf("  %-44s %12.0f/s   %-34s %12.0f/s %8.2f\n", "UpdateConsent (batch of 1, signed receipt)",
              update_rate, "PostgreSQL INSERT+COMMIT", pg_rate, update_rate / pg_rate);
  std::printf("  %-44s %14s   %-34s %12.0f/s %8.2f\n", "", "", "gRPC unary call (GetReceiptKey)",
              rpc_rate, update_rate / rpc_rate);
  std::printf("  %-44s %6.2f/%6.2f ms   %-34s %6.2f/%6.2f ms\n", "UpdateConsent latency p50/p99",
              Percentile(update_lat, 0.5), Percentile(update_lat, 0.99),
              "gRPC unary, 1 client, p50/p99", Percentile(rpc_lat, 0.5), Percentile(rpc_lat, 0.99));
  std::printf("  %-44s %6.2f/%6.2f ms   %-34s %6.2f/%6.2f ms\n",
              "revocation ack -> replica p50/p99", Percentile(from_ack, 0.5),
              Percentile(from_ack, 0.99), "gRPC unary, 1 client, p50/p99", Percentile(rpc_lat, 0.5),
              Percentile(rpc_lat, 0.99));
  std::printf("  %-44s %6.2f/%6.2f ms   (goal: p99 under 100 ms)\n\n",
              "revocation sent -> replica p50/p99", Percentile(from_send, 0.5),
              Percentile(from_send, 0.99));

  Emit("consent_update_per_s", update_rate, "1/s");
  Emit("baseline_pg_insert_commit_per_s", pg_rate, "1/s");
  Emit("baseline_grpc_unary_per_s", rpc_rate, "1/s");
  Emit("consent_update_latency_p50", Percentile(update_lat, 0.5), "ms");
  Emit("consent_update_latency_p99", Percentile(update_lat, 0.99), "ms");
  Emit("baseline_grpc_unary_latency_p50", Percentile(rpc_lat, 0.5), "ms");
  Emit("baseline_grpc_unary_latency_p99", Percentile(rpc_lat, 0.99), "ms");
  Emit("consent_propagation_from_ack_p50", Percentile(from_ack, 0.5), "ms");
  Emit("consent_propagation_from_ack_p99", Percentile(from_ack, 0.99), "ms");
  Emit("consent_propagation_from_send_p50", Percentile(from_send, 0.5), "ms");
  Emit("consent_propagation_from_send_p99", Percentile(from_send, 0.99), "ms");
  replicas.clear();
  consent->process->Signal(SIGTERM);
  consent->process->WaitForExit(absl::Seconds(20)).IgnoreError();
  return 0;
}
