// String similarity for identity resolution. Pure, thread-safe, and free of allocation for
// strings up to 64 bytes (names).
#ifndef CDP_SERVICES_INGEST_RESOLUTION_SIMILARITY_H_
#define CDP_SERVICES_INGEST_RESOLUTION_SIMILARITY_H_

#include <string_view>

namespace cdp::resolution {

// Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix at most 4); 1 for equal
// strings, 0 if either is empty. Compares bytes: give it folded ASCII-ish text.
double JaroWinkler(std::string_view a, std::string_view b);

// Levenshtein distance, stopping early: returns `limit + 1` as soon as the distance is
// known to exceed `limit`.
int BoundedLevenshtein(std::string_view a, std::string_view b, int limit);

// BoundedLevenshtein(a, b, 1) <= 1, in one pass over the strings: equal, or one byte
// substituted, inserted or deleted.
bool WithinOneEdit(std::string_view a, std::string_view b);

}  // namespace cdp::resolution

#endif  // CDP_SERVICES_INGEST_RESOLUTION_SIMILARITY_H_
