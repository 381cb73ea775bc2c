// Identity-resolution quality and speed on public benchmark sets with ground truth.
//
// For each set: train the Fellegi-Sunter model (u from random pairs, m by EM over the
// blocked candidates), resolve, and compare the resulting clusters with the truth as
// pairs: precision, recall, F1. Beside it, measured in the same run, the baseline a
// platform without probabilistic matching would have: records are the same person when
// given name, family name and date of birth are exactly equal. FEBRL 4 is linked across its
// two files (pairs within one file do not count, as in the published results); FEBRL 3
// and fake_1000 are deduplicated.
//
// Usage: cdp-bench-resolution [--data_dir=../shared/data/record-linkage] [--threads=2]
//        [--link=0.9] [--generated=10000,100000] [--show_model] [--block_stats] [--explain=N]
// --explain says, per set, how many true pairs were missed because blocking never compared
// them (and how many of those would have scored high enough to link) and how many were
// compared and kept apart, then prints N of each kind of error with its levels.
// Prints a table and JSON lines {"name","value","unit"}.
#include <chrono>
#include <map>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/flags/flag.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/bench_util.h"
#include "services/common/flags.h"
#include "services/ingest/normalize.h"
#include "services/ingest/record.h"
#include "services/ingest/resolution/resolver.h"
#include "tools/datagen/generator.h"

ABSL_FLAG(std::string, data_dir, std::string(CDP_SOURCE_DIR) + "/../shared/data/record-linkage",
          "directory with the public record-linkage sets");
ABSL_FLAG(int, threads, 2, "threads that score candidate pairs");
ABSL_FLAG(double, link, 0.9, "match probability at or above which records are joined");
ABSL_FLAG(bool, show_model, false, "print each trained model's m/u table");
ABSL_FLAG(std::vector<std::string>, generated, std::vector<std::string>({"10000", "100000"}),
          "sizes (people) of generated Dutch data sets to resolve, e.g. 10000,100000,1000000");
ABSL_FLAG(int, explain, 0,
          "count the missed true pairs by cause (never compared, or compared and kept apart), then print this "
          "many missed and wrongly joined pairs per set, with levels");
ABSL_FLAG(bool, block_stats, false,
          "print, per kind of blocking key, its blocks, the pairs they make and how many of those are "
          "the same person (what each kind costs and what it finds)");

namespace {

using cdp::bench::Emit;
using cdp::resolution::PersonRecord;

struct Dataset {
  std::string name;
  std::vector<PersonRecord> records;
  std::vector<std::string> truth;   // same value = same person
  std::vector<int> source;          // for link-only sets: pairs must cross sources
  bool link_only = false;
};

std::vector<std::vector<std::string>> ReadCsv(const std::string& path, const std::string& sep) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::vector<std::vector<std::string>> rows;
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (header) { header = false; continue; }
    if (line.empty()) continue;
    std::vector<std::string> cells = absl::StrSplit(line, sep);
    for (auto& c : cells) c = std::string(absl::StripAsciiWhitespace(c));
    rows.push_back(std::move(cells));
  }
  return rows;
}

void AddFebrl(Dataset& d, const std::string& path, int source) {
  for (const auto& row : ReadCsv(path, ",")) {
    if (row.size() < 11) continue;
    PersonRecord r;
    r.given = cdp::ingest::FoldText(row[1]);
    r.family = cdp::ingest::SplitFamilyName(row[2]).name;
    r.house_number = row[3];
    r.street = cdp::ingest::FoldText(row[4]);
    r.city = cdp::ingest::FoldText(row[6]);
    r.postcode = row[7];
    r.dob = row[9].size() == 8 ? row[9] : "";
    // A social-security number: a national id, with typos like every field here.
    r.national_id = row[10];
    d.records.push_back(std::move(r));
    std::vector<std::string> id = absl::StrSplit(row[0], '-');
    d.truth.push_back(id.size() >= 2 ? id[1] : row[0]);
    d.source.push_back(source);
  }
}

Dataset Fake1000(const std::string& dir) {
  Dataset d{.name = "splink_fake_1000"};
  for (const auto& row : ReadCsv(dir + "/splink_fake_1000.csv", ",")) {
    if (row.size() < 7) continue;
    PersonRecord r;
    r.given = cdp::ingest::FoldText(row[1]);
    r.family = cdp::ingest::SplitFamilyName(row[2]).name;
    r.dob = row[3];
    r.city = cdp::ingest::FoldText(row[4]);
    auto email = cdp::ingest::NormalizeEmail(row[5]);
    if (email.ok()) r.email = *email;
    d.records.push_back(std::move(r));
    d.truth.push_back(row[6]);
    d.source.push_back(0);
  }
  return d;
}

// Generated Dutch data from four source systems, normalised as ingestion does.
Dataset Generated(int64_t people, int64_t* rejected) {
  Dataset d{.name = absl::StrCat("generated-", people)};
  *rejected = 0;
  cdp::datagen::Generate({.people = people, .seed = 7}, [&](const cdp::datagen::GeneratedRecord& r) {
    std::map<std::string, std::string> attributes(r.attributes.begin(), r.attributes.end());
    auto normal = cdp::ingest::NormalizeAttributes(attributes);
    if (!normal.ok()) {
      ++*rejected;
      return;
    }
    d.records.push_back(std::move(normal->person));
    d.truth.push_back(r.person_id);
    d.source.push_back(0);
  });
  return d;
}

// Per kind of blocking key (its first letter, resolution::BlockingKeys): blocks, the
// largest, the pairs compared within the blocks under their limit, how many of those pairs are
// the same person, and how many same-person pairs no other kind of key brings together.
// Blocks grow with the data while a person's records do not: a kind whose pairs grow
// faster than its true pairs makes the cost per record grow with the data.
void PrintBlockStats(const Dataset& d, const cdp::resolution::BlockLimits& limits) {
  std::map<char, std::map<uint64_t, std::vector<uint32_t>>> blocks;
  for (uint32_t i = 0; i < d.records.size(); ++i) {
    for (const std::string& k : cdp::resolution::BlockingKeys(d.records[i])) {
      blocks[k[0]][absl::Hash<std::string>()(k)].push_back(i);
    }
  }
  std::map<std::pair<uint32_t, uint32_t>, std::string> kinds_of_pair;  // true pairs only
  struct Row { size_t blocks = 0, largest = 0, skipped = 0; int64_t pairs = 0, same = 0; };
  std::map<char, Row> rows;
  for (const auto& [kind, by_key] : blocks) {
    Row& row = rows[kind];
    for (const auto& [key, members] : by_key) {
      ++row.blocks;
      row.largest = std::max(row.largest, members.size());
      if (members.size() > limits.Of(std::string(1, kind))) {
        ++row.skipped;
        continue;
      }
      for (size_t i = 0; i < members.size(); ++i) {
        for (size_t j = i + 1; j < members.size(); ++j) {
          const uint32_t a = members[i], b = members[j];
          if (d.link_only && d.source[a] == d.source[b]) continue;
          ++row.pairs;
          if (d.truth[a] != d.truth[b]) continue;
          ++row.same;
          std::string& kinds = kinds_of_pair[{std::min(a, b), std::max(a, b)}];
          if (kinds.find(kind) == std::string::npos) kinds += kind;
        }
      }
    }
  }
  std::map<char, int64_t> only;
  for (const auto& [pair, kinds] : kinds_of_pair) {
    if (kinds.size() == 1) ++only[kinds[0]];
  }
  std::printf("  blocking keys of %s (blocks over %d records skipped, %d for kinds n, d, g)\n", d.name.c_str(),
              limits.max, limits.max_common);
  std::printf("    %-4s %10s %8s %8s %12s %10s %10s %12s\n", "kind", "blocks", "largest", "skipped", "pairs",
              "same", "only here", "pairs/record");
  for (const auto& [kind, r] : rows) {
    std::printf("    %-4c %10zu %8zu %8zu %12lld %10lld %10lld %12.2f\n", kind, r.blocks, r.largest, r.skipped,
                static_cast<long long>(r.pairs), static_cast<long long>(r.same),
                static_cast<long long>(only[kind]), static_cast<double>(r.pairs) / d.records.size());
  }
}

struct Quality {
  double precision = 0, recall = 0, f1 = 0;
  int64_t predicted = 0, true_pairs = 0, correct = 0;
};

// Pairwise quality of a clustering (`cluster[i]`: any id shared by a cluster's records).
Quality Score(const Dataset& d, const std::vector<uint32_t>& cluster) {
  auto counts = [&](const std::function<std::string(size_t)>& key) {
    absl::flat_hash_map<std::string, std::vector<size_t>> groups;
    for (size_t i = 0; i < d.records.size(); ++i) groups[key(i)].push_back(i);
    return groups;
  };
  auto pairs_in = [&](const std::vector<size_t>& members, bool check_truth, int64_t* correct) {
    int64_t n = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      for (size_t j = i + 1; j < members.size(); ++j) {
        const size_t a = members[i], b = members[j];
        if (d.link_only && d.source[a] == d.source[b]) continue;
        ++n;
        if (check_truth && d.truth[a] == d.truth[b]) ++*correct;
      }
    }
    return n;
  };
  Quality q;
  for (const auto& [k, members] : counts([&](size_t i) { return absl::StrCat(cluster[i]); })) {
    q.predicted += pairs_in(members, true, &q.correct);
  }
  int64_t unused = 0;
  for (const auto& [k, members] : counts([&](size_t i) { return d.truth[i]; })) {
    q.true_pairs += pairs_in(members, false, &unused);
  }
  q.precision = q.predicted ? static_cast<double>(q.correct) / q.predicted : 1.0;
  q.recall = q.true_pairs ? static_cast<double>(q.correct) / q.true_pairs : 1.0;
  q.f1 = q.precision + q.recall > 0 ? 2 * q.precision * q.recall / (q.precision + q.recall) : 0;
  return q;
}

// The baseline: exact given + family + date of birth.
std::vector<uint32_t> ExactBaseline(const Dataset& d) {
  absl::flat_hash_map<std::string, uint32_t> first;
  std::vector<uint32_t> cluster(d.records.size());
  for (uint32_t i = 0; i < d.records.size(); ++i) {
    const PersonRecord& r = d.records[i];
    if (r.given.empty() || r.family.empty() || r.dob.empty()) {
      cluster[i] = i;
      continue;
    }
    cluster[i] = first.try_emplace(absl::StrCat(r.given, "|", r.family, "|", r.dob), i).first->second;
  }
  return cluster;
}

std::string Levels(const cdp::resolution::Comparison& c) {
  std::string out;
  for (int f = 0; f < cdp::resolution::kFieldCount; ++f) {
    absl::StrAppend(&out, cdp::resolution::FieldName(f), "=",
                    c.level[f] == cdp::resolution::kUnknown ? std::string("-") : absl::StrCat(c.level[f]), " ");
  }
  return out;
}

std::string Show(const PersonRecord& r) {
  return absl::StrCat(r.given, "|", r.family, "|", r.dob, "|", r.email, "|", r.postcode, "|",
                      r.house_number, "|", r.street, "|", r.city, "|", r.strong_id, "|", r.national_id);
}

// Missed true pairs and wrongly joined pairs, with their comparison levels. First, how
// many true pairs were missed and why: blocking never put their clusters side by side (no
// pair across them shares a key under its limit), or it did and scoring or the guards
// kept them apart.
void Explain(const Dataset& d, const std::vector<uint32_t>& cluster,
             const cdp::resolution::Model& model, const cdp::resolution::BlockLimits& blocks,
             double link_probability, int n) {
  absl::flat_hash_map<std::string, std::vector<size_t>> truth;
  for (size_t i = 0; i < d.records.size(); ++i) truth[d.truth[i]].push_back(i);
  // Pairs of one person's clusters that blocking put side by side, smaller id first.
  absl::flat_hash_set<std::pair<uint32_t, uint32_t>> compared;
  for (const auto& [a, b] : cdp::resolution::CandidatePairs(d.records, blocks, /*skipped=*/nullptr)) {
    if (cluster[a] != cluster[b] && d.truth[a] == d.truth[b]) {
      compared.emplace(std::min(cluster[a], cluster[b]), std::max(cluster[a], cluster[b]));
    }
  }
  auto were_compared = [&](size_t a, size_t b) {
    return compared.count({std::min(cluster[a], cluster[b]), std::max(cluster[a], cluster[b])}) > 0;
  };
  {
    int64_t missed = 0, never_compared = 0, never_compared_linkable = 0;
    for (const auto& [id, members] : truth) {
      for (size_t i = 0; i < members.size(); ++i) {
        for (size_t j = i + 1; j < members.size(); ++j) {
          const size_t a = members[i], b = members[j];
          if ((d.link_only && d.source[a] == d.source[b]) || cluster[a] == cluster[b]) continue;
          ++missed;
          if (were_compared(a, b)) continue;
          ++never_compared;
          never_compared_linkable +=
              model.Probability(cdp::resolution::Compare(d.records[a], d.records[b])) >= link_probability;
        }
      }
    }
    std::printf("MISSED true pairs: %lld; of them, clusters never compared (blocking): %lld (%lld of those pairs "
                "scoring at or above the link threshold), compared and kept apart: %lld\n",
                (long long)missed, (long long)never_compared, (long long)never_compared_linkable,
                (long long)(missed - never_compared));
  }
  int missed = 0, wrong = 0;
  for (const auto& [id, members] : truth) {
    for (size_t i = 0; i < members.size() && missed < n; ++i) {
      for (size_t j = i + 1; j < members.size() && missed < n; ++j) {
        size_t a = members[i], b = members[j];
        if ((d.link_only && d.source[a] == d.source[b]) || cluster[a] == cluster[b]) continue;
        auto c = cdp::resolution::Compare(d.records[a], d.records[b]);
        std::printf("MISSED p=%.3f veto=%d compared=%d %s\n   %s\n   %s\n", model.Probability(c),
                    cdp::resolution::Vetoed(d.records[a], d.records[b], c), were_compared(a, b), Levels(c).c_str(),
                    Show(d.records[a]).c_str(), Show(d.records[b]).c_str());
        ++missed;
      }
    }
  }
  absl::flat_hash_map<uint32_t, std::vector<size_t>> clusters;
  for (size_t i = 0; i < d.records.size(); ++i) clusters[cluster[i]].push_back(i);
  for (const auto& [id, members] : clusters) {
    for (size_t i = 0; i < members.size() && wrong < n; ++i) {
      for (size_t j = i + 1; j < members.size() && wrong < n; ++j) {
        size_t a = members[i], b = members[j];
        if ((d.link_only && d.source[a] == d.source[b]) || d.truth[a] == d.truth[b]) continue;
        auto c = cdp::resolution::Compare(d.records[a], d.records[b]);
        std::printf("WRONG p=%.3f %s\n   %s\n   %s\n", model.Probability(c), Levels(c).c_str(),
                    Show(d.records[a]).c_str(), Show(d.records[b]).c_str());
        ++wrong;
      }
    }
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  cdp::ParseFlagsOrExit(argc, argv,
                        "cdp-bench-resolution: identity-resolution quality on public sets\n"
                        "Usage: cdp-bench-resolution [flags]");
  const std::string dir = absl::GetFlag(FLAGS_data_dir);
  std::vector<Dataset> sets;
  {
    Dataset d{.name = "febrl4 (link 4a-4b)", .link_only = true};
    AddFebrl(d, dir + "/febrl_dataset4a.csv", 0);
    AddFebrl(d, dir + "/febrl_dataset4b.csv", 1);
    sets.push_back(std::move(d));
  }
  {
    Dataset d{.name = "febrl3 (dedup)"};
    AddFebrl(d, dir + "/febrl_dataset3.csv", 0);
    sets.push_back(std::move(d));
  }
  sets.push_back(Fake1000(dir));
  std::vector<double> published = {0.999, 0.993, 0.862};
  std::vector<double> prepare_seconds(sets.size(), 0.0);
  for (const std::string& size : absl::GetFlag(FLAGS_generated)) {
    int64_t people = 0, rejected = 0;
    if (!absl::SimpleAtoi(size, &people) || people <= 0) {
      std::fprintf(stderr, "--generated: '%s' is not a number of people\n", size.c_str());
      return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    sets.push_back(Generated(people, &rejected));
    prepare_seconds.push_back(Seconds(start));
    published.push_back(0);
    if (rejected > 0) std::fprintf(stderr, "generated-%lld: %lld records rejected\n", (long long)people, (long long)rejected);
  }

  cdp::resolution::ResolverOptions options;
  options.link_probability = absl::GetFlag(FLAGS_link);
  std::printf("\n  %-22s %7s | %9s %7s %7s %7s %9s | %-23s | %-23s | %s\n", "", "",
              "platform (guards on)", "", "", "", "", "same model, no guards", "baseline: exact match", "published");
  std::printf("  %-22s %7s | %9s %7s %7s %7s %9s | %7s %7s %7s | %7s %7s %7s | %s\n", "dataset", "records",
              "precision", "recall", "F1", "review", "records/s", "P", "R", "F1", "P", "R", "F1",
              "F1 (Splink)");
  for (size_t s = 0; s < sets.size(); ++s) {
    Dataset& d = sets[s];
    const auto start = std::chrono::steady_clock::now() -
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(prepare_seconds[s]));
    auto model = cdp::resolution::Model::Train(d.records);
    auto resolution = cdp::resolution::Resolve(d.records, model, options, absl::GetFlag(FLAGS_threads));
    const double elapsed = Seconds(start);
    Quality q = Score(d, resolution.cluster);
    auto unguarded_options = options;
    unguarded_options.guards = false;
    Quality u = Score(d, cdp::resolution::Resolve(d.records, model, unguarded_options,
                                                  absl::GetFlag(FLAGS_threads)).cluster);
    const auto base_start = std::chrono::steady_clock::now();
    auto baseline_clusters = ExactBaseline(d);
    const double base_elapsed = Seconds(base_start);
    Quality b = Score(d, baseline_clusters);
    std::printf("  %-22s %7zu | %9.4f %7.4f %7.4f %7zu %9.0f | %7.4f %7.4f %7.4f | %7.4f %7.4f %7.4f | %.3f\n",
                d.name.c_str(), d.records.size(), q.precision, q.recall, q.f1,
                resolution.review.size(), d.records.size() / elapsed, u.precision, u.recall, u.f1,
                b.precision, b.recall, b.f1, published[s]);
    if (absl::GetFlag(FLAGS_show_model)) std::printf("%s\n", model.Describe().c_str());
    if (absl::GetFlag(FLAGS_block_stats)) PrintBlockStats(d, options.blocks);
    if (int n = absl::GetFlag(FLAGS_explain); n > 0) {
      static const char* kReasons[] = {"linked", "between thresholds", "cluster too large",
                                       "vetoed in cluster", "weak evidence"};
      std::map<int, std::pair<int, int>> by_reason;  // reason -> (pairs, of them true)
      for (const auto& p : resolution.review) {
        auto& [pairs, true_pairs] = by_reason[p.reason];
        ++pairs;
        true_pairs += d.truth[p.a] == d.truth[p.b];
      }
      for (const auto& [reason, counts] : by_reason) {
        std::printf("REVIEW %-20s %6d pairs, %6d of them the same person\n", kReasons[reason],
                    counts.first, counts.second);
      }
      std::printf("VETOED pairs above the review threshold: %lld\n", (long long)resolution.vetoed_pairs);
      Explain(d, resolution.cluster, model, options.blocks, options.link_probability, n);
    }
    std::string key = d.name.substr(0, d.name.find(' '));
    Emit(key + "_precision", q.precision, "ratio");
    Emit(key + "_recall", q.recall, "ratio");
    Emit(key + "_f1", q.f1, "ratio");
    Emit(key + "_records_per_s", d.records.size() / elapsed, "1/s");
    Emit(key + "_candidate_pairs", static_cast<double>(resolution.candidate_pairs), "pairs");
    Emit(key + "_unguarded_f1", u.f1, "ratio");
    Emit(key + "_unguarded_precision", u.precision, "ratio");
    Emit(key + "_baseline_exact_f1", b.f1, "ratio");
    Emit(key + "_baseline_exact_records_per_s", d.records.size() / base_elapsed, "1/s");
  }
  return 0;
}
