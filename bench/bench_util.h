// What every benchmark of the project shares: JSON-lines output, percentiles and a
// closed-loop throughput runner.
//
// Each benchmark prints a human-readable table and, for machines, one JSON line per
// figure: {"name": "...", "value": 1.5e6, "unit": "1/s"}. Figures stand beside a baseline
// measured in the same run, because these machines are shared and noisy: compare ratios.
#ifndef CDP_BENCH_BENCH_UTIL_H_
#define CDP_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cdp::bench {

// The 20 fields a benchmark's profile read asks for (bench/read_path_bench.cc), and so
// the fields an access event of such a read names (bench/access_log_bench.cc).
inline constexpr const char* kReadFields[] = {
    "customer_number", "given_name", "family_name_prefix", "family_name", "initials",
    "date_of_birth", "email", "phone_mobile", "phone_home", "postal_address",
    "delivery_address", "billing_address", "order_history", "payment_method_summary",
    "invoice_history", "contact_history", "loyalty_tier", "social_handles",
    "channel_preferences", "language_preference"};

inline void Emit(const std::string& name, double value, const std::string& unit) {
  std::printf("{\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n", name.c_str(), value,
              unit.c_str());
}

// Tells the person waiting what the benchmark is doing now (stderr, so tables and JSON
// lines on stdout stay clean); also lets a profiler be pointed at one phase. The time (UTC,
// to the millisecond) lines a phase up with PostgreSQL's and the services' logs.
inline void Phase(const std::string& what) {
  const std::string now = absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::UTCTimeZone());
  std::fprintf(stderr, "[bench %s] %s\n", now.c_str(), what.c_str());
  std::fflush(stderr);
}

// The q-quantile (0..1) of `values` (nearest rank); 0 for none.
inline double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

// Runs `body(client, i)` from `clients` threads for `seconds`; returns calls per second and
// fills `latencies_ms` with every call's latency.
template <typename Body>
inline double Throughput(int clients, int seconds, Body body, std::vector<double>* latencies_ms) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::vector<std::thread> threads;
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        auto t0 = Clock::now();
        if (!body(c, i)) {
          std::fprintf(stderr, "bench: a call failed; stopping\n");
          std::exit(1);
        }
        lat[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  size_t n = 0;
  for (auto& l : lat) {
    n += l.size();
    if (latencies_ms != nullptr) latencies_ms->insert(latencies_ms->end(), l.begin(), l.end());
  }
  return static_cast<double>(n) / elapsed;
}

// Runs `body(thread, i)` open loop at `rate` calls per second, spread over `threads`
// threads, for `seconds`: each call is due at a fixed time whether or not the one before
// has returned (as independent users arrive), and its latency counts from when it was due,
// so queueing shows. Returns every call's latency.
template <typename Body>
inline std::vector<double> OpenLoop(double rate, int threads, int seconds, Body body) {
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::duration<double>(threads / rate);
  std::mutex mu;
  std::vector<double> all;
  std::vector<std::thread> pool;
  const auto begin = Clock::now() + std::chrono::milliseconds(50);
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<double> mine;
      auto due = begin + std::chrono::duration_cast<Clock::duration>(interval * (static_cast<double>(t) / threads));
      for (int i = 0; due < begin + std::chrono::seconds(seconds); ++i) {
        std::this_thread::sleep_until(due);
        if (!body(t, i)) {
          std::fprintf(stderr, "bench: a call failed; stopping\n");
          std::exit(1);
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
        due += std::chrono::duration_cast<Clock::duration>(interval);
      }
      std::lock_guard<std::mutex> l(mu);
      all.insert(all.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : pool) t.join();
  return all;
}

// The peak resident memory (VmHWM) of process `pid` so far, in MB; 0 if unknown.
inline double PeakRssMb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024;
  }
  return 0;
}

// CPU time (user + system) process `pid` has used so far, in seconds; 0 if it is gone.
// Unlike wall time, it hardly depends on what else the shared machine is doing. With
// `reaped_children`, also the CPU time of its children that have exited and been waited for.
inline double CpuSeconds(pid_t pid, bool reaped_children = false) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  unsigned long long ticks = 0;
  const int last = reaped_children ? 17 : 15;
  for (int i = 3; i <= last && rest >> field; ++i) {
    if (i >= 14) ticks += std::strtoull(field.c_str(), nullptr, 10);  // utime, stime, cutime, cstime
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The CPU time of every process named `comm` ("postgres": all of a PostgreSQL server's
// processes, its backends and its writers), in seconds, those that have exited included.
// Counting the running ones alone went backwards when one exited between two samples (an
// autovacuum worker, a closed connection's backend): a 100k ingest once showed PostgreSQL
// at -24 µs per record. Their parent (the postmaster) waits for them, and the kernel then
// adds their time to its children's total, which is counted here too.
inline double CpuSecondsOfAll(const std::string& comm) {
  double total = 0;
  for (const auto& dir : std::filesystem::directory_iterator("/proc")) {
    const std::string name = dir.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream c(dir.path() / "comm");
    std::string got;
    if (std::getline(c, got) && got == comm) total += CpuSeconds(static_cast<pid_t>(std::stol(name)), true);
  }
  return total;
}

// CPU seconds used so far by each named process, by PostgreSQL ("postgres": every process
// of that name) and by this process ("client"). Two samples around a run, divided by its
// calls (CpuPerCallUs), say where each call's work was done.
inline std::map<std::string, double> CpuNow(const std::map<std::string, pid_t>& processes) {
  std::map<std::string, double> out;
  for (const auto& [name, pid] : processes) out[name] = CpuSeconds(pid);
  out["postgres"] = CpuSecondsOfAll("postgres");
  out["client"] = CpuSeconds(getpid());
  return out;
}

// Microseconds of CPU per call between two CpuNow samples, by process, and their sum
// under "total". Empty for no calls.
inline std::map<std::string, double> CpuPerCallUs(const std::map<std::string, double>& before,
                                                  const std::map<std::string, double>& after, size_t calls) {
  std::map<std::string, double> out;
  if (calls == 0) return out;
  double total = 0;
  for (const auto& [name, seconds] : after) {
    const double us = (seconds - before.at(name)) * 1e6 / static_cast<double>(calls);
    out[name] = us;
    total += us;
  }
  out["total"] = total;
  return out;
}

// "252 us (audit 46, client 67, ...)", or "-" for none.
inline std::string DescribeCpu(const std::map<std::string, double>& per_call_us) {
  if (per_call_us.empty()) return "-";
  std::string parts;
  for (const auto& [name, us] : per_call_us) {
    if (name == "total") continue;
    parts += (parts.empty() ? "" : ", ") + name + " " + std::to_string(static_cast<long long>(us + 0.5));
  }
  return std::to_string(static_cast<long long>(per_call_us.at("total") + 0.5)) + " us (" + parts + ")";
}

}  // namespace cdp::bench

#endif  // CDP_BENCH_BENCH_UTIL_H_
