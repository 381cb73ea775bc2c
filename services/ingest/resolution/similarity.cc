#include "services/ingest/resolution/similarity.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <vector>

namespace cdp::resolution {

double JaroWinkler(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty()) return 0;
  if (a == b) return 1;
  if (a.size() > b.size()) std::swap(a, b);
  // Names are short; fixed buffers keep this free of allocation up to 64 bytes.
  constexpr size_t kMax = 64;
  if (b.size() > kMax) {
    a = a.substr(0, std::min(a.size(), kMax));
    b = b.substr(0, kMax);
  }
  const int la = static_cast<int>(a.size()), lb = static_cast<int>(b.size());
  const int window = std::max(0, lb / 2 - 1);
  std::array<bool, kMax> ma{}, mb{};
  int matches = 0;
  for (int i = 0; i < la; ++i) {
    const int lo = std::max(0, i - window), hi = std::min(lb - 1, i + window);
    for (int j = lo; j <= hi; ++j) {
      if (!mb[static_cast<size_t>(j)] && a[static_cast<size_t>(i)] == b[static_cast<size_t>(j)]) {
        ma[static_cast<size_t>(i)] = mb[static_cast<size_t>(j)] = true;
        ++matches;
        break;
      }
    }
  }
  if (matches == 0) return 0;
  int transpositions = 0;
  for (int i = 0, j = 0; i < la; ++i) {
    if (!ma[static_cast<size_t>(i)]) continue;
    while (!mb[static_cast<size_t>(j)]) ++j;
    if (a[static_cast<size_t>(i)] != b[static_cast<size_t>(j)]) ++transpositions;
    ++j;
  }
  const double m = matches;
  const double jaro = (m / la + m / lb + (m - transpositions / 2.0) / m) / 3.0;
  int prefix = 0;
  while (prefix < 4 && prefix < la && a[static_cast<size_t>(prefix)] == b[static_cast<size_t>(prefix)]) ++prefix;
  return jaro + prefix * 0.1 * (1 - jaro);
}

int BoundedLevenshtein(std::string_view a, std::string_view b, int limit) {
  if (std::abs(static_cast<int>(a.size()) - static_cast<int>(b.size())) > limit) return limit + 1;
  // Two rows of the table: on the stack for names (up to 64 bytes), else on the heap.
  constexpr size_t kMax = 64;
  std::array<int, 2 * (kMax + 1)> rows;
  std::vector<int> heap;
  int* prev = rows.data();
  int* cur = rows.data() + kMax + 1;
  if (b.size() > kMax) {
    heap.resize(2 * (b.size() + 1));
    prev = heap.data();
    cur = heap.data() + b.size() + 1;
  }
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = static_cast<int>(i);
    int row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(prev, cur);
  }
  return std::min(prev[b.size()], limit + 1);
}

bool WithinOneEdit(std::string_view a, std::string_view b) {
  if (a.size() > b.size()) std::swap(a, b);
  if (b.size() - a.size() > 1) return false;
  size_t i = 0;
  while (i < a.size() && a[i] == b[i]) ++i;
  if (i == a.size()) return true;  // equal, or b has one byte more at the end
  // The first difference: substituted (same lengths) or inserted into b.
  return a.substr(a.size() == b.size() ? i + 1 : i) == b.substr(i + 1);
}

}  // namespace cdp::resolution
