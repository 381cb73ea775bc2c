// PostgreSQL arrays as statement parameters. libpqxx 6.4 cannot bind arrays, so set-based
// statements take '{"a","b"}' text and cast it ($1::text[]); the literal is a parameter,
// never SQL text. Arrays of bytes go in PostgreSQL's binary array format instead
// ($1::bytea[]): no hex to write, nor for the server to parse and decode.
#ifndef CDP_STORAGE_SQL_ARRAY_H_
#define CDP_STORAGE_SQL_ARRAY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "pqxx/binarystring"

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

// A bytea[] as text, '{\\x0a1b,\\x2c3d}': for a statement that takes one array per row,
// which binary arrays cannot nest, as elements of a TextArray ($1::text[], then each
// element ::bytea[]).
inline std::string ByteaArrayText(const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t size = 2;
  for (const std::string& v : values) size += 4 + 2 * v.size();
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append("\\\\x");
    for (unsigned char c : values[i]) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('}');
  return out;
}

// A one-dimensional bytea[] without NULLs in the binary format array_recv reads: the
// number of dimensions, a has-NULLs flag, the element type (bytea), the length and lower
// bound of the dimension, then each element's length and bytes, all integers big-endian.
// libpqxx sends a binarystring parameter in binary, so the statement casts it: $1::bytea[].
inline pqxx::binarystring ByteaArray(const std::vector<std::string>& values) {
  constexpr uint32_t kByteaOid = 17;
  std::string out;
  size_t size = 20 + values.size() * 4;
  for (const std::string& v : values) size += v.size();
  out.reserve(size);
  auto put32 = [&out](uint32_t x) {
    const char b[4] = {static_cast<char>(x >> 24), static_cast<char>(x >> 16), static_cast<char>(x >> 8),
                       static_cast<char>(x)};
    out.append(b, 4);
  };
  put32(values.empty() ? 0 : 1);
  put32(0);
  put32(kByteaOid);
  if (!values.empty()) {
    put32(static_cast<uint32_t>(values.size()));
    put32(1);
  }
  for (const std::string& v : values) {
    put32(static_cast<uint32_t>(v.size()));
    out.append(v);
  }
  return pqxx::binarystring(out);
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_SQL_ARRAY_H_
