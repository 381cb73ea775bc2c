// What every benchmark of the project shares: JSON-lines output and percentiles.
//
// Each benchmark prints a human-readable table and, for machines, one JSON line per
// figure: {"name": "...", "value": 1.5e6, "unit": "1/s"}. Figures stand beside a baseline
// measured in the same run, because these machines are shared and noisy: compare ratios.
#ifndef CDP_BENCH_BENCH_UTIL_H_
#define CDP_BENCH_BENCH_UTIL_H_

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace cdp::bench {

inline void Emit(const std::string& name, double value, const std::string& unit) {
  std::printf("{\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\"}\n", name.c_str(), value,
              unit.c_str());
}

// The q-quantile (0..1) of `values` (nearest rank); 0 for none.
inline double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

}  // namespace cdp::bench

#endif  // CDP_BENCH_BENCH_UTIL_H_
