// PostgreSQL arrays as statement parameters. libpqxx 6.4 cannot bind arrays, so set-based
// statements take '{"a","b"}' text and cast it ($1::text[]); the literal is a parameter,
// never SQL text. Arrays of bytes go in PostgreSQL's binary array format instead
// ($1::bytea[]): no hex to write, nor for the server to parse and decode.
#ifndef CDP_STORAGE_SQL_ARRAY_H_
#define CDP_STORAGE_SQL_ARRAY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "pqxx/binarystring"

namespace cdp::storage {

// A text[] literal built an element at a time: every element quoted, quotes and
// backslashes escaped. (Hot: the access log and ingestion pass every row's columns this
// way, so elements without anything to escape are copied whole, and a caller with many
// rows appends them here rather than keeping a string of each.)
class TextArrayBuilder {
 public:
  TextArrayBuilder() : text_("{") {}
  // Room for `bytes` of elements more, and their quotes and commas.
  void Reserve(size_t elements, size_t bytes) { text_.reserve(text_.size() + bytes + 3 * elements + 1); }
  void Add(std::string_view v) {
    if (count_++ > 0) text_.push_back(',');
    text_.push_back('"');
    // A plain loop: find_first_of with a set calls memchr on the set for every byte.
    size_t from = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] != '"' && v[i] != '\\') continue;
      text_.append(v.data() + from, i - from);
      text_.push_back('\\');
      text_.push_back(v[i]);
      from = i + 1;
    }
    text_.append(v.data() + from, v.size() - from);
    text_.push_back('"');
  }
  size_t size() const { return count_; }
  // The literal; the builder is left empty.
  std::string Take() {
    std::string out = std::move(text_);
    out.push_back('}');
    text_.clear();  // (not `= "{"`: GCC 12 warns, wrongly, of an overlapping copy)
    text_.push_back('{');
    count_ = 0;
    return out;
  }

 private:
  std::string text_;
  size_t count_ = 0;
};

inline std::string TextArray(const std::vector<std::string>& values) {
  TextArrayBuilder b;
  size_t bytes = 0;
  for (const std::string& v : values) bytes += v.size();
  b.Reserve(values.size(), bytes);
  for (const std::string& v : values) b.Add(v);
  return b.Take();
}

// A bytea[] as text, '{\\x0a1b,\\x2c3d}': for a statement that takes one array per row,
// which binary arrays cannot nest, as elements of a TextArray ($1::text[], then each
// element ::bytea[]).
inline std::string ByteaArrayText(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    absl::StrAppend(&out, "\\\\x", absl::BytesToHexString(values[i]));
  }
  out.push_back('}');
  return out;
}

// A one-dimensional bytea[] without NULLs in the binary format array_recv reads, built an
// element at a time: the number of dimensions, a has-NULLs flag, the element type
// (bytea), the length and lower bound of the dimension, then each element's length and
// bytes, all integers big-endian. libpqxx sends a binarystring parameter in binary, so the
// statement casts it: $1::bytea[].
class ByteaArrayBuilder {
 public:
  ByteaArrayBuilder() : bytes_(kHeader, '\0') {}
  void Reserve(size_t elements, size_t bytes) { bytes_.reserve(bytes_.size() + 4 * elements + bytes); }
  void Add(std::string_view v) {
    Put32(static_cast<uint32_t>(v.size()));
    bytes_.append(v);
    ++count_;
  }
  size_t size() const { return count_; }
  // The array; the builder is left empty.
  pqxx::binarystring Take() {
    constexpr uint32_t kByteaOid = 17;
    std::string out = std::move(bytes_);
    bytes_.assign(kHeader, '\0');
    auto set32 = [&out](size_t at, uint32_t x) {
      for (int i = 0; i < 4; ++i) out[at + static_cast<size_t>(i)] = static_cast<char>(x >> (24 - 8 * i));
    };
    // An empty array has no dimension: its header ends after the element type.
    if (count_ == 0) out.resize(12);
    set32(0, count_ == 0 ? 0 : 1);
    set32(4, 0);
    set32(8, kByteaOid);
    if (count_ > 0) {
      set32(12, static_cast<uint32_t>(count_));
      set32(16, 1);
    }
    count_ = 0;
    return pqxx::binarystring(out);
  }

 private:
  static constexpr size_t kHeader = 20;
  void Put32(uint32_t x) {
    const char b[4] = {static_cast<char>(x >> 24), static_cast<char>(x >> 16), static_cast<char>(x >> 8),
                       static_cast<char>(x)};
    bytes_.append(b, 4);
  }
  std::string bytes_;
  size_t count_ = 0;
};

inline pqxx::binarystring ByteaArray(const std::vector<std::string>& values) {
  ByteaArrayBuilder b;
  size_t bytes = 0;
  for (const std::string& v : values) bytes += v.size();
  b.Reserve(values.size(), bytes);
  for (const std::string& v : values) b.Add(v);
  return b.Take();
}

}  // namespace cdp::storage

#endif  // CDP_STORAGE_SQL_ARRAY_H_
