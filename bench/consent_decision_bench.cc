// Consent decision throughput on one core, beside a baseline measured in the same run.
//
// Workload: the default catalog, 10,000 customers with 0-8 random choices each (field and
// category choices, some expired), and 1,000,000 random (customer, purpose, field) queries
// by id, as an enforcement point issues them. Baseline: the same queries answered from a
// hash map of precomputed answers keyed by (customer, purpose, field), the simplest
// possible lookup structure. Prints a table and JSON lines {"name","value","unit"}.
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bench/bench_util.h"
#include "consent/decision.h"

namespace {

using cdp::consent::Catalog;
using cdp::consent::CompiledChoices;
using cdp::consent::CustomerChoices;

struct Query {
  int32_t customer;
  int32_t purpose;
  int32_t field;
};

template <typename F>
double PerSecond(size_t n, F&& body) {
  // Repeat whole passes until at least 1 s has passed; report the best pass rate.
  double best = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  do {
    auto start = std::chrono::steady_clock::now();
    body();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(n) / s);
  } while (std::chrono::steady_clock::now() < deadline);
  return best;
}

using cdp::bench::Emit;

}  // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : std::string(CDP_SOURCE_DIR) +
                                              "/consent/catalog/default.textproto";
  auto loaded = Catalog::FromFile(path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", std::string(loaded.status().message()).c_str());
    return 2;
  }
  const Catalog& catalog = **loaded;
  const absl::Time now = absl::Now();
  std::mt19937 rng(7);

  constexpr int kCustomers = 10000;
  std::vector<CompiledChoices> customers;
  customers.reserve(kCustomers);
  for (int c = 0; c < kCustomers; ++c) {
    CustomerChoices choices{c + 1, {}};
    int n = static_cast<int>(rng() % 9);
    for (int i = 0; i < n; ++i) {
      cdp::consent::Choice ch;
      if (rng() % 2) {
        ch.field = catalog.field(static_cast<int>(rng() % catalog.field_count())).name();
      } else {
        ch.category = static_cast<cdp::v1::Category>(1 + rng() % 8);
      }
      ch.purpose = catalog.purpose(static_cast<int>(rng() % catalog.purpose_count())).name();
      ch.allow = rng() % 2;
      if (rng() % 5 == 0) ch.expires_at = now - absl::Hours(1);
      choices.choices.push_back(ch);
    }
    customers.emplace_back(catalog, choices);
  }
  constexpr size_t kQueries = 1'000'000;
  std::vector<Query> queries(kQueries);
  for (Query& q : queries) {
    q = {static_cast<int32_t>(rng() % kCustomers),
         static_cast<int32_t>(rng() % catalog.purpose_count()),
         static_cast<int32_t>(rng() % catalog.field_count())};
  }
  auto key = [](const Query& q) {
    return (static_cast<uint64_t>(q.customer) << 32) | (static_cast<uint64_t>(q.purpose) << 16) |
           static_cast<uint64_t>(q.field);
  };
  absl::flat_hash_map<uint64_t, bool> answers;
  for (const Query& q : queries) {
    answers[key(q)] =
        cdp::consent::Decide(catalog, customers[q.customer], q.purpose, q.field, now).allow;
  }

  volatile size_t sink = 0;
  double decisions = PerSecond(kQueries, [&] {
    size_t allowed = 0;
    for (const Query& q : queries) {
      allowed += cdp::consent::Decide(catalog, customers[q.customer], q.purpose, q.field, now).allow;
    }
    sink = sink + allowed;
  });
  double baseline = PerSecond(kQueries, [&] {
    size_t allowed = 0;
    for (const Query& q : queries) allowed += answers.find(key(q))->second;
    sink = sink + allowed;
  });

  std::printf("consent decision, one core (catalog %s: %d fields, %d purposes; %d customers)\n",
              catalog.version().c_str(), catalog.field_count(), catalog.purpose_count(),
              kCustomers);
  std::printf("  %-40s %14s\n", "measure", "per second");
  std::printf("  %-40s %14.3g\n", "Decide() by id", decisions);
  std::printf("  %-40s %14.3g\n", "baseline: precomputed answers, hash map", baseline);
  std::printf("  %-40s %14.3f\n", "ratio Decide / baseline", decisions / baseline);
  std::printf("  goal: over 1e7 decisions per second on one core\n");
  Emit("consent.decide.per_second", decisions, "1/s");
  Emit("consent.decide.baseline_hash_lookup.per_second", baseline, "1/s");
  Emit("consent.decide.ratio_to_baseline", decisions / baseline, "ratio");
  return 0;
}
