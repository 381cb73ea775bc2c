// A contact centre's day, compressed: reads by human agents (20 fields for customer care)
// and by a chatbot (two fields, on consent), a steady stream of source-record writes, and
// customers changing their consent, all at once; with the time a revocation takes to
// reach the reads measured under that load. Each beside the same measured with nothing
// else running, in the same run:
//
//   reads          GetProfile/s and p50/p99, agents and bot alternating, closed loop from
//                  --clients clients: mixed, beside the reads alone
//   revocation     a customer allows the chatbot their given name, then withdraws it; the
//                  time from UpdateConsent's answer until the chatbot's next read withholds
//                  it: under the mixed load, beside on an idle platform
//   writes         new versions of source records at --write_rate records/s, and consent
//                  changes at --consent_rate/s, during the mixed run (achieved rates)
//
// Usage: CDP_TEST_PG_DSN=... cdp-bench-mixed [--people=N --clients=N --seconds=S]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/bench_platform.h"
#include "bench/bench_util.h"
#include "cdp/v1/consent.grpc.pb.h"
#include "cdp/v1/profile.grpc.pb.h"
#include "services/common/flags.h"

ABSL_FLAG(int64_t, people, 2000, "generated customers loaded first");
ABSL_FLAG(int, clients, 16, "concurrent readers (half agents, half the chatbot)");
ABSL_FLAG(int, seconds, 5, "length of each timed run");
ABSL_FLAG(double, write_rate, 200, "source records written per second during the mixed run");
ABSL_FLAG(double, consent_rate, 20, "consent changes per second during the mixed run");
ABSL_FLAG(int, revocations, 40, "revocations timed on the idle platform (under load: as many as fit)");

namespace {

using cdp::bench::Emit;
using cdp::bench::PeakRssMb;
using cdp::bench::Percentile;
using cdp::bench::Phase;
using cdp::bench::Throughput;
using Clock = std::chrono::steady_clock;

constexpr const char* kAgentFields[] = {
    "customer_number", "given_name", "family_name_prefix", "family_name", "initials", "date_of_birth", "email",
    "phone_mobile", "phone_home", "postal_address", "delivery_address", "billing_address", "order_history",
    "invoice_history", "contact_history", "loyalty_tier", "channel_preferences", "language_preference",
    "payment_method_summary", "social_handles"};

cdp::v1::GetProfileRequest AgentRead(const std::string& profile) {
  cdp::v1::GetProfileRequest req;
  req.set_profile_id(profile);
  auto* ctx = req.mutable_context();
  ctx->set_purpose("customer-care-human");
  for (const char* f : kAgentFields) ctx->mutable_read_mask()->add_paths(f);
  ctx->mutable_acting_party()->set_kind(cdp::v1::ActingParty::HUMAN_AGENT);
  ctx->mutable_acting_party()->set_id("agent-7");
  ctx->mutable_justification()->set_code(cdp::v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference("ticket-1");
  return req;
}

cdp::v1::GetProfileRequest BotRead(const std::string& profile) {
  cdp::v1::GetProfileRequest req;
  req.set_profile_id(profile);
  auto* ctx = req.mutable_context();
  ctx->set_purpose("customer-care-bot");
  ctx->mutable_read_mask()->add_paths("customer_number");
  ctx->mutable_read_mask()->add_paths("given_name");
  ctx->mutable_acting_party()->set_kind(cdp::v1::ActingParty::BOT);
  ctx->mutable_acting_party()->set_id("chatbot-1");
  ctx->mutable_justification()->set_code(cdp::v1::Justification::CUSTOMER_REQUEST);
  ctx->mutable_justification()->set_reference("chat-1");
  return req;
}

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-mixed: a contact centre's mixed load, and revocation latency under it\n"
                        "Usage: CDP_TEST_PG_DSN='host=... user=postgres dbname=postgres' cdp-bench-mixed "
                        "[--people=N --clients=N --seconds=S --write_rate=R --consent_rate=R]");
  if (cdp::testing::ServerDsn().empty()) {
    std::fprintf(stderr, "cdp-bench-mixed: set CDP_TEST_PG_DSN to a PostgreSQL superuser DSN\n");
    return 2;
  }
  const int clients = absl::GetFlag(FLAGS_clients), seconds = absl::GetFlag(FLAGS_seconds);
  cdp::bench::Platform p({"service/support-desk", "service/chatbot", "service/portal"});
  const std::vector<std::string> profiles = p.Load(absl::GetFlag(FLAGS_people), 11, /*keep=*/true);
  if (profiles.size() < 10) return 1;

  auto agent = cdp::v1::ProfileService::NewStub(p.pki.Channel(p.profile.port, "service/support-desk"));
  auto bot = cdp::v1::ProfileService::NewStub(p.pki.Channel(p.profile.port, "service/chatbot"));
  auto consent = cdp::v1::ConsentService::NewStub(p.pki.Channel(p.consent.port, "service/portal"));
  auto read = [&](int c, int i) {
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    const std::string& id = profiles[static_cast<size_t>(c * 7919 + i) % profiles.size()];
    return (c % 2 == 0 ? agent->GetProfile(&ctx, AgentRead(id), &view)
                       : bot->GetProfile(&ctx, BotRead(id), &view)).ok();
  };
  for (const auto deadline = Clock::now() + std::chrono::seconds(60);;) {  // until consent knows them all
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    if (agent->GetProfile(&ctx, AgentRead(profiles.back()), &view).ok()) break;
    if (Clock::now() > deadline) return 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  std::atomic<int64_t> keys{0};
  auto set_choice = [&](const std::string& id, const std::string& field, const std::string& purpose, bool allow) {
    cdp::v1::UpdateConsentRequest r;
    r.set_customer_id(id);
    r.set_idempotency_key(absl::StrCat("bench-", keys++));
    r.set_channel(cdp::v1::PORTAL);
    r.mutable_acting_party()->set_kind(cdp::v1::ActingParty::DATA_SUBJECT);
    r.mutable_acting_party()->set_id("self");
    auto* c = r.add_choices();
    c->set_field(field);
    c->set_purpose(purpose);
    c->set_allow(allow);
    grpc::ClientContext ctx;
    cdp::v1::UpdateConsentResponse out;
    return consent->UpdateConsent(&ctx, r, &out).ok();
  };
  auto released = [&](const std::string& id) {
    grpc::ClientContext ctx;
    cdp::v1::ProfileView view;
    if (!bot->GetProfile(&ctx, BotRead(id), &view).ok()) std::exit(1);
    return view.fields().contains("given_name");
  };
  // One revocation: allow, wait until the bot sees it, withdraw; ms until the bot no longer does.
  auto revocation = [&](const std::string& id) {
    if (!set_choice(id, "given_name", "customer-care-bot", true)) std::exit(1);
    for (const auto deadline = Clock::now() + std::chrono::seconds(10); !released(id);) {
      if (Clock::now() > deadline) std::exit(1);
    }
    if (!set_choice(id, "given_name", "customer-care-bot", false)) std::exit(1);
    const auto answered = Clock::now();
    while (released(id)) {
      if (Clock::now() - answered > std::chrono::seconds(10)) std::exit(1);
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - answered).count();
  };

  // Warm (the profile cache, PostgreSQL's buffers), so that neither run below has it cold.
  Phase("warming up");
  Throughput(clients, 2, read, nullptr);
  // The same, each alone.
  Phase("reads alone");
  std::vector<double> alone_ms;
  double alone_rate = Throughput(clients, seconds, read, &alone_ms);
  Phase("revocations on the idle platform");
  std::vector<double> idle_revocation_ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_revocations); ++i) {
    idle_revocation_ms.push_back(revocation(profiles[static_cast<size_t>(i * 31) % profiles.size()]));
  }

  // All at once.
  Phase("the mixed load: reads, writes, consent changes, revocations");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> written{0}, changed{0};
  std::thread writer([&] {
    auto stub = cdp::v1::IngestService::NewStub(p.pki.Channel(p.ingest.port, "operator/cdpctl"));
    grpc::ClientContext ctx;
    auto stream = stub->WriteRecords(&ctx);
    constexpr int kPerBatch = 20;
    const auto interval = std::chrono::duration<double>(kPerBatch / absl::GetFlag(FLAGS_write_rate));
    auto due = Clock::now();
    for (int64_t n = 0; !stop; ++n) {
      std::this_thread::sleep_until(due);
      due += std::chrono::duration_cast<Clock::duration>(interval);
      cdp::v1::WriteRecordsRequest req;
      for (int k = 0; k < kPerBatch; ++k) {
        cdp::v1::SourceRecord r = p.records[static_cast<size_t>(n * kPerBatch + k) % p.records.size()];
        r.mutable_changed_at()->set_seconds(r.changed_at().seconds() + 3600 * (1 + n));  // a newer version
        *req.add_records() = std::move(r);
      }
      cdp::v1::WriteRecordsResponse resp;
      if (!stream->Write(req) || !stream->Read(&resp)) std::exit(1);
      for (const auto& a : resp.acks()) written += a.outcome() == cdp::v1::RecordAck::ACCEPTED;
    }
    stream->WritesDone();
    stream->Finish().IgnoreError();
  });
  std::thread changer([&] {
    const auto interval = std::chrono::duration<double>(1 / absl::GetFlag(FLAGS_consent_rate));
    auto due = Clock::now();
    for (int64_t n = 0; !stop; ++n) {
      std::this_thread::sleep_until(due);
      due += std::chrono::duration_cast<Clock::duration>(interval);
      if (!set_choice(profiles[static_cast<size_t>(n * 13 + 5) % profiles.size()], "email", "direct-marketing", n % 2 == 0)) {
        std::exit(1);
      }
      ++changed;
    }
  });
  std::vector<double> loaded_revocation_ms;
  std::thread revoker([&] {
    for (int i = 0; !stop; ++i) {
      loaded_revocation_ms.push_back(revocation(profiles[static_cast<size_t>(i * 37 + 3) % profiles.size()]));
    }
  });
  std::vector<double> mixed_ms;
  const auto mixed_start = Clock::now();
  const double mixed_rate = Throughput(clients, seconds, read, &mixed_ms);
  stop = true;
  writer.join();
  changer.join();
  revoker.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - mixed_start).count();
  // Alone once more, now that the mixed run has warmed everything the same way: the
  // baseline is this second run (the first is printed too, to show the spread).
  Phase("reads alone, again");
  const double first_alone_rate = alone_rate;
  alone_ms.clear();
  alone_rate = Throughput(clients, seconds, read, &alone_ms);

  std::printf("\nmixed load on loopback (mTLS), %zu customers, %d readers, %d s runs\n\n", profiles.size(), clients,
              seconds);
  std::printf("  %-46s %14s   %-30s %14s %7s\n", "figure", "mixed load", "baseline (same run)", "value", "ratio");
  std::printf("  %-46s %12.0f/s   %-30s %12.0f/s %7.3f\n", "GetProfile, agents and chatbot", mixed_rate,
              "the same reads alone", alone_rate, mixed_rate / alone_rate);
  std::printf("  %-46s %12s    %-30s %12.0f/s\n", "", "", "(alone before the mixed run)", first_alone_rate);
  std::printf("  %-46s %6.2f/%6.2f ms   %-30s %6.2f/%6.2f ms\n", "  p50/p99", Percentile(mixed_ms, 0.5),
              Percentile(mixed_ms, 0.99), "", Percentile(alone_ms, 0.5), Percentile(alone_ms, 0.99));
  std::printf("  %-46s %6.2f/%6.2f ms   %-30s %6.2f/%6.2f ms\n", "revocation to the next read, p50/p99",
              Percentile(loaded_revocation_ms, 0.5), Percentile(loaded_revocation_ms, 0.99), "on the idle platform",
              Percentile(idle_revocation_ms, 0.5), Percentile(idle_revocation_ms, 0.99));
  std::printf("  %-46s %12.0f/s   (asked %.0f/s)\n", "source records written", static_cast<double>(written) / elapsed,
              absl::GetFlag(FLAGS_write_rate));
  std::printf("  %-46s %12.1f/s   (asked %.1f/s; %zu revocations timed besides)\n\n", "consent changes",
              static_cast<double>(changed) / elapsed, absl::GetFlag(FLAGS_consent_rate), loaded_revocation_ms.size());
  Emit("mixed_reads_per_s", mixed_rate, "1/s");
  Emit("baseline_reads_alone_per_s", alone_rate, "1/s");
  Emit("reads_alone_before_mixed_per_s", first_alone_rate, "1/s");
  Emit("mixed_read_p50", Percentile(mixed_ms, 0.5), "ms");
  Emit("mixed_read_p99", Percentile(mixed_ms, 0.99), "ms");
  Emit("baseline_read_alone_p50", Percentile(alone_ms, 0.5), "ms");
  Emit("baseline_read_alone_p99", Percentile(alone_ms, 0.99), "ms");
  Emit("mixed_revocation_p50", Percentile(loaded_revocation_ms, 0.5), "ms");
  Emit("mixed_revocation_p99", Percentile(loaded_revocation_ms, 0.99), "ms");
  Emit("baseline_idle_revocation_p50", Percentile(idle_revocation_ms, 0.5), "ms");
  Emit("baseline_idle_revocation_p99", Percentile(idle_revocation_ms, 0.99), "ms");
  Emit("mixed_records_written_per_s", static_cast<double>(written) / elapsed, "1/s");
  Emit("mixed_consent_changes_per_s", static_cast<double>(changed) / elapsed, "1/s");
  for (const auto& [name, s] : std::vector<std::pair<std::string, cdp::testing::RunningService*>>{
           {"consent", &p.consent}, {"ingest", &p.ingest}, {"audit", &p.audit}, {"profile", &p.profile}}) {
    Emit(absl::StrCat("mixed_peak_rss_", name), PeakRssMb(s->process->pid()), "MB");
  }
  p.Stop();
  return 0;
}
