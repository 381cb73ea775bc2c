// PostgreSQL array literals for statement parameters. libpqxx 6.4 cannot bind arrays, so
// set-based statements take '{"a","b"}' text and cast it ($1::text[]); the literal is a
// parameter, never SQL text.
#ifndef CDP_STORAGE_SQL_ARRAY_H_
#define CDP_STORAGE_SQL_ARRAY_H_

#include <string>
#include <vector>

namespace cdp::storage {

// Every element quoted, quotes and backslashes escaped. (Hot: the access log and ingestion
// pass every row's columns this way, so elements without anything to escape are copied
// whole.)
inline std::string TextArray(const std::vector<std::string>& values) {
  size_t size = 2 + values.size() * 3;
  for (const std::string& v : values) size += v.size();
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    const std::string& v = values[i];
    for (size_t from = 0;;) {
      const size_t special = v.find_first_of("\"\\", from);
      if (special == std::string::npos) {
        out.append(v, from, std::string::npos);
        break;
      }
      out.append(v, from, special - from);
      out.push_back('\\');
      out.push_back(v[special]);
      from = special + 1;
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_SQL_ARRAY_H_
