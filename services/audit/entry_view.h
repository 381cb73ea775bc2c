// The parts of a logged entry (a serialised AccessEvent) that the event's stored columns
// repeat, read straight from the protobuf wire format without building the message.
//
// The verifier checks every stored event's columns against its entry; parsing millions of
// entries into messages (a map, repeated strings, sub-messages, each allocated) cost more
// than hashing them. This reads only what the columns hold, as views into the entry, and
// skips everything else, following the parser where it matters here: the last value of a
// field wins, sub-messages merge, a field with an unexpected wire type is skipped as
// unknown, a message cut short is refused. Unlike the parser it does not check that
// strings are UTF-8 (an entry the log did not write fails its leaf hash anyway).
#ifndef CDP_SERVICES_AUDIT_ENTRY_VIEW_H_
#define CDP_SERVICES_AUDIT_ENTRY_VIEW_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace cdp::audit {

// An event's outcome as its `outcome` column names it: "denied" when nothing was released
// and something was withheld, else "released" (a read that was allowed but found no value
// is not a denial). The one definition of the column.
inline std::string_view OutcomeFor(size_t released, size_t withheld) {
  return released == 0 && withheld > 0 ? "denied" : "released";
}

// An event's `fields` column: the field names it requests, releases or withholds, sorted,
// each once, joined by single spaces (a name with a space, or an empty one, is refused
// before it is logged; see ValidFieldName). One text value rather than a text[] array: the
// verifier reads every event's columns, and PostgreSQL sends an array element by element,
// which cost more than all the other columns together. The one definition of the column.
bool ValidFieldName(std::string_view name);
// Sorts field names bytewise and drops repeats: the column's order.
void SortFieldNames(std::vector<std::string_view>* fields);
// `fields` as SortFieldNames leaves them.
std::string FieldsColumn(const std::vector<std::string_view>& fields);
// Whether `column` is what FieldsColumn makes of `fields`, without building it.
bool IsFieldsColumn(std::string_view column, const std::vector<std::string_view>& fields);

struct EntryView {
  int64_t position = 0;
  std::string_view event_id, caller, subject_pseudonym, purpose, acting_party_id;
  absl::Time time = absl::UnixEpoch();
  // The fields named, released or withheld, sorted and each once (the `fields` column).
  std::vector<std::string_view> fields;
  size_t released = 0, withheld = 0;  // as the entry lists them (for OutcomeFor)
};

// Reads `entry` into `out` (whose vector is reused). False if it is not a well-formed
// AccessEvent: a truncated or overlong varint or length, a group that does not close, a
// sub-message that is not well-formed. The views live as long as `entry`'s bytes.
bool ReadEntry(std::string_view entry, EntryView* out);

}  // namespace cdp::audit

#endif  // CDP_SERVICES_AUDIT_ENTRY_VIEW_H_
