// Streams a query's rows out of PostgreSQL with COPY ... TO STDOUT (FORMAT binary): the
// fastest way libpq has to read many rows. The server sends while the caller works on what
// has arrived (no page-by-page round trips), and values come in their binary form (bytea
// as raw bytes, no hex text to decode).
//
// For long sequential reads such as verifying a whole log. Runs on a connection of its
// own, opened for the copy and closed after it (libpqxx 6.4 offers no binary COPY).
#ifndef CDP_STORAGE_BINARY_COPY_H_
#define CDP_STORAGE_BINARY_COPY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace cdp::storage {

// One row of a binary COPY: its columns as the server sent them. The views point into a
// buffer that lives until the row callback returns.
class BinaryRow {
 public:
  int size() const { return static_cast<int>(columns_.size()); }
  // Column i is NULL, or there is no column i.
  bool null(int i) const { return i < 0 || i >= size() || !columns_[static_cast<size_t>(i)].has_value(); }
  // The raw bytes of column i (text, bytea); empty for NULL or no such column.
  std::string_view bytes(int i) const { return null(i) ? std::string_view() : *columns_[static_cast<size_t>(i)]; }
  // Column i decoded as int8 or timestamptz (finite). DataLoss when the column is
  // missing, NULL or not of that shape.
  absl::Status Int64(int i, int64_t* out) const;
  absl::Status Timestamp(int i, absl::Time* out) const;

 private:
  friend class BinaryCopyParser;
  std::vector<std::optional<std::string_view>> columns_;
};

// Runs `COPY (query) TO STDOUT (FORMAT binary)` on a new connection to `dsn` and calls
// `on_row` for each row, in the order the query gives, until it returns an error (which is
// returned, and the copy is abandoned). `query` must be a fixed SELECT: COPY takes no
// parameters, so nothing from input may be spliced into it (numbers the caller computed
// may). Unavailable if the server cannot be reached or the connection breaks; if the query
// fails, its SQLSTATE mapped as for every other statement (storage/pg_status.h), never the
// server's message, which may quote values; Internal if the stream breaks the COPY
// protocol. DataLoss comes only from BinaryRow's decoders, through `on_row`: a stored
// value that is not of the shape asked for.
absl::Status CopyOutBinary(const std::string& dsn, const std::string& query,
                           const std::function<absl::Status(const BinaryRow&)>& on_row);

}  // namespace cdp::storage

#endif  // CDP_STORAGE_BINARY_COPY_H_
