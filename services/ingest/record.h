// What a source record may say about a person, and its normalised form for matching.
//
// Source systems send attributes by canonical name (see kAttributes in record.cc):
// customer_number, given_name, initials, family_name_prefix, family_name, full_name,
// date_of_birth, email, phone_mobile, phone_home, street, house_number, postcode, city,
// and descriptive fields kept as they are (loyalty_tier, language_preference,
// channel_preferences, ...). Each value is checked and normalised; the originals are kept.
#ifndef CDP_SERVICES_INGEST_RECORD_H_
#define CDP_SERVICES_INGEST_RECORD_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"
#include "services/ingest/resolution/resolver.h"

namespace cdp::ingest {

// The longest source system name and record id a record may carry (IngestApi refuses
// longer ones).
inline constexpr size_t kMaxSourceSystemBytes = 32;
inline constexpr size_t kMaxRecordIdBytes = 128;

struct NormalizeOptions {
  std::string default_region = "NL";   // for phone numbers without a country code
  size_t max_value_bytes = 1024;
  size_t max_attributes = 64;
};

// Canonical attribute name -> value. Transparent, so that a lookup by a name written in
// the code ("email") builds no std::string.
using AttributeMap = std::map<std::string, std::string, std::less<>>;

struct NormalizedRecord {
  resolution::PersonRecord person;  // for matching
  AttributeMap values;              // original values (trimmed)
  AttributeMap normal;              // normalised values
};

// InvalidArgument naming the attribute ("attributes.email: not an e-mail address",
// "attributes.emial: unknown attribute") for an unknown name, an unparseable value, a value
// over the size limit or too many attributes; never quotes the value.
absl::StatusOr<NormalizedRecord> NormalizeAttributes(
    const std::map<std::string, std::string>& attributes, const NormalizeOptions& options = {});
// The same for a record as it came in (SourceRecord.attributes), without a copy.
absl::StatusOr<NormalizedRecord> NormalizeAttributes(
    const google::protobuf::Map<std::string, std::string>& attributes, const NormalizeOptions& options = {});

// The matching view of normalised values (NormalizedRecord::normal), e.g. as stored.
resolution::PersonRecord PersonFromNormal(const AttributeMap& normal);

// Whether `name` is an attribute source records may carry.
bool IsKnownAttribute(const std::string& name);

}  // namespace cdp::ingest

#endif  // CDP_SERVICES_INGEST_RECORD_H_
