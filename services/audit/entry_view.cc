#include "services/audit/entry_view.h"

#include <algorithm>
#include <limits>

namespace cdp::audit {
namespace {

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };
constexpr int kMaxGroupDepth = 100;  // the parser's default recursion limit

// Reads protobuf wire format from a byte range; every method returns false on input that
// is cut short or malformed, leaving the reader unusable.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {  // at most 10 bytes
      if (p_ == end_) return false;
      const auto byte = static_cast<uint8_t>(*p_++);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        *out = value;
        return true;
      }
    }
    return false;
  }

  bool Tag(uint32_t* field, int* type) {
    uint64_t tag = 0;
    if (!Varint(&tag) || tag > std::numeric_limits<uint32_t>::max()) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *type = static_cast<int>(tag & 7);
    return *field != 0;
  }

  bool Bytes(std::string_view* out) {
    uint64_t size = 0;
    if (!Varint(&size) || size > static_cast<uint64_t>(end_ - p_)) return false;
    *out = std::string_view(p_, static_cast<size_t>(size));
    p_ += size;
    return true;
  }

  // Skips the value of a field whose tag was just read.
  bool Skip(uint32_t field, int type, int depth = 0) {
    uint64_t ignored = 0;
    std::string_view ignored_bytes;
    switch (type) {
      case kVarint: return Varint(&ignored);
      case kFixed64: return Advance(8);
      case kFixed32: return Advance(4);
      case kLengthDelimited: return Bytes(&ignored_bytes);
      case kStartGroup: {
        if (depth >= kMaxGroupDepth) return false;
        for (;;) {
          uint32_t inner = 0;
          int inner_type = 0;
          if (!Tag(&inner, &inner_type)) return false;
          if (inner_type == kEndGroup) return inner == field;
          if (!Skip(inner, inner_type, depth + 1)) return false;
        }
      }
      default: return false;  // an end-group without its start, or wire types 6 and 7
    }
  }

 private:
  bool Advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
};

// Calls on_field(field, type, reader) for each field of the message in `bytes`; on_field
// reads the value or skips it. False if any read fails.
template <typename OnField>
bool ForEachField(std::string_view bytes, OnField on_field) {
  WireReader r(bytes);
  while (!r.done()) {
    uint32_t field = 0;
    int type = 0;
    if (!r.Tag(&field, &type) || !on_field(field, type, r)) return false;
  }
  return true;
}

// A string field (kLengthDelimited) into `out`, or any other wire type skipped.
bool StringOrSkip(uint32_t field, int type, WireReader& r, std::string_view* out) {
  return type == kLengthDelimited ? r.Bytes(out) : r.Skip(field, type);
}

// Bytewise order, as std::string_view's own, compared in line: field names are short, and
// the verifier sorts every entry's; a call to memcmp per comparison cost more than the
// rest of reading the entry.
bool BytewiseLess(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

bool BytewiseEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

void SortFieldNames(std::vector<std::string_view>* fields) {
  std::sort(fields->begin(), fields->end(), BytewiseLess);
  fields->erase(std::unique(fields->begin(), fields->end(), BytewiseEqual), fields->end());
}

bool ValidFieldName(std::string_view name) { return !name.empty() && name.find(' ') == std::string_view::npos; }

std::string FieldsColumn(const std::vector<std::string_view>& fields) {
  std::string out;
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) out += ' ';
    out.append(fields[k]);
  }
  return out;
}

bool IsFieldsColumn(std::string_view column, const std::vector<std::string_view>& fields) {
  for (size_t k = 0; k < fields.size(); ++k) {
    if (k > 0) {
      if (column.empty() || column.front() != ' ') return false;
      column.remove_prefix(1);
    }
    if (column.substr(0, fields[k].size()) != fields[k]) return false;
    column.remove_prefix(fields[k].size());
  }
  return column.empty();
}

bool ReadEntry(std::string_view entry, EntryView* out) {
  out->position = 0;
  out->event_id = out->caller = out->subject_pseudonym = out->purpose = out->acting_party_id = {};
  out->fields.clear();
  out->released = out->withheld = 0;
  int64_t seconds = 0;
  int32_t nanos = 0;
  const bool ok = ForEachField(entry, [&](uint32_t field, int type, WireReader& r) {
    std::string_view sub;
    switch (field) {
      case 1: return StringOrSkip(field, type, r, &out->event_id);
      case 2: {
        if (type != kVarint) return r.Skip(field, type);
        uint64_t v = 0;
        if (!r.Varint(&v)) return false;
        out->position = static_cast<int64_t>(v);
        return true;
      }
      case 3: return StringOrSkip(field, type, r, &out->caller);
      case 4:  // ActingParty: kind = 1, id = 2; repeated occurrences merge
        if (type != kLengthDelimited) return r.Skip(field, type);
        return r.Bytes(&sub) && ForEachField(sub, [&](uint32_t f, int t, WireReader& s) {
                 return f == 2 ? StringOrSkip(f, t, s, &out->acting_party_id) : s.Skip(f, t);
               });
      case 5: return StringOrSkip(field, type, r, &out->subject_pseudonym);
      case 6: return StringOrSkip(field, type, r, &out->purpose);
      case 9:  // fields_released
        if (type != kLengthDelimited) return r.Skip(field, type);
        if (!r.Bytes(&sub)) return false;
        out->fields.push_back(sub);
        ++out->released;
        return true;
      case 10: {  // fields_withheld: map entries, key = 1, value = 2
        if (type != kLengthDelimited) return r.Skip(field, type);
        std::string_view key;
        if (!r.Bytes(&sub) || !ForEachField(sub, [&](uint32_t f, int t, WireReader& s) {
              return f == 1 ? StringOrSkip(f, t, s, &key) : s.Skip(f, t);
            })) {
          return false;
        }
        out->fields.push_back(key);
        ++out->withheld;
        return true;
      }
      case 13:  // google.protobuf.Timestamp: seconds = 1, nanos = 2; occurrences merge
        if (type != kLengthDelimited) return r.Skip(field, type);
        return r.Bytes(&sub) && ForEachField(sub, [&](uint32_t f, int t, WireReader& s) {
                 if ((f != 1 && f != 2) || t != kVarint) return s.Skip(f, t);
                 uint64_t v = 0;
                 if (!s.Varint(&v)) return false;
                 if (f == 1) {
                   seconds = static_cast<int64_t>(v);
                 } else {
                   nanos = static_cast<int32_t>(v);
                 }
                 return true;
               });
      default: return r.Skip(field, type);
    }
  });
  if (!ok) return false;
  SortFieldNames(&out->fields);
  out->time = absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
  return true;
}

}  // namespace cdp::audit
