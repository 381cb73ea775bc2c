// PostgreSQL array literals for statement parameters. libpqxx 6.4 cannot bind arrays, so
// set-based statements take '{"a","b"}' text and cast it ($1::text[]); the literal is a
// parameter, never SQL text.
#ifndef CDP_STORAGE_SQL_ARRAY_H_
#define CDP_STORAGE_SQL_ARRAY_H_

#include <string>
#include <vector>

namespace cdp::storage {

// Every element quoted, quotes and backslashes escaped.
inline std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_SQL_ARRAY_H_
