#include "storage/binary_copy.h"

#include <libpq-fe.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "storage/pg_status.h"
#include "storage/session.h"

namespace cdp::storage {
namespace {

// PostgreSQL's binary COPY header: signature, flags, header extension length.
constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the terminating NUL
constexpr size_t kSignatureSize = 11;
// timestamptz counts microseconds from 2000-01-01 00:00:00 UTC.
constexpr int64_t kPostgresEpochUnixMicros = 946684800LL * 1000000;

uint32_t BigEndian32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}

uint64_t BigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

// A column whose value is not of the shape asked for: the stored data is not what it
// should be.
absl::Status Malformed(const char* what) { return absl::DataLossError(absl::StrCat("binary COPY: ", what)); }
// The stream itself breaks the COPY protocol: a fault of the connection or the server,
// not of any stored row.
absl::Status BadStream(const char* what) {
  return absl::InternalError(absl::StrCat("binary COPY stream malformed: ", what));
}

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
using Result = std::unique_ptr<PGresult, ResultClearer>;

absl::Status QueryFailed(PGconn* conn, const PGresult* result) {
  if (PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError("the database connection broke during a COPY");
  // The SQLSTATE only, mapped as for every other statement (storage/pg_status.h), never
  // the server's message, which may quote values.
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return StatusFromSqlState(state != nullptr ? state : "");
}

}  // namespace

// Splits CopyData messages into rows. The server ends every row with a message of its own;
// the header comes in front of the first.
class BinaryCopyParser {
 public:
  absl::Status Message(const char* data, size_t size, const std::function<absl::Status(const BinaryRow&)>& on_row) {
    const char* p = data;
    const char* end = data + size;
    if (!header_seen_) {
      if (size < kSignatureSize + 8 || std::memcmp(p, kSignature, kSignatureSize) != 0) {
        return BadStream("no header");
      }
      p += kSignatureSize;
      if (BigEndian32(p) != 0) return BadStream("unexpected header flags (OIDs or a newer format)");
      p += 4;
      const uint32_t extension = BigEndian32(p);
      p += 4;
      if (extension > static_cast<size_t>(end - p)) return BadStream("header extension runs past the message");
      p += extension;
      header_seen_ = true;
    }
    while (p < end) {
      if (trailer_seen_) return BadStream("data after the trailer");
      if (end - p < 2) return BadStream("row cut short");
      const int16_t columns = static_cast<int16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
      p += 2;
      if (columns == -1) {
        trailer_seen_ = true;
        continue;
      }
      if (columns < 0) return BadStream("negative column count");
      row_.columns_.resize(static_cast<size_t>(columns));
      for (int16_t c = 0; c < columns; ++c) {
        if (end - p < 4) return BadStream("column cut short");
        const int32_t length = static_cast<int32_t>(BigEndian32(p));
        p += 4;
        if (length == -1) {
          row_.columns_[static_cast<size_t>(c)].reset();
          continue;
        }
        if (length < 0 || length > end - p) return BadStream("column runs past the row");
        row_.columns_[static_cast<size_t>(c)] = std::string_view(p, static_cast<size_t>(length));
        p += length;
      }
      if (absl::Status s = on_row(row_); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  bool complete() const { return header_seen_ && trailer_seen_; }

 private:
  bool header_seen_ = false;
  bool trailer_seen_ = false;
  BinaryRow row_;
};

absl::Status BinaryRow::Int64(int i, int64_t* out) const {
  const std::string_view b = bytes(i);
  if (null(i) || b.size() != 8) return Malformed("not an int8");
  *out = static_cast<int64_t>(BigEndian64(b.data()));
  return absl::OkStatus();
}

absl::Status BinaryRow::Timestamp(int i, absl::Time* out) const {
  int64_t micros = 0;
  if (absl::Status s = Int64(i, &micros); !s.ok()) return Malformed("not a timestamp");
  int64_t unix_micros = 0;
  // ±infinity (INT64_MAX/MIN) and anything the shift would overflow is not a time here.
  if (micros == INT64_MAX || micros == INT64_MIN ||
      __builtin_add_overflow(micros, kPostgresEpochUnixMicros, &unix_micros)) {
    return Malformed("not a finite timestamp");
  }
  *out = absl::FromUnixMicros(unix_micros);
  return absl::OkStatus();
}

absl::Status CopyOutBinary(const std::string& dsn, const std::string& query,
                           const std::function<absl::Status(const BinaryRow&)>& on_row) {
  // The caller's connection string, with a bound on connecting and keepalives so that a
  // server gone quiet ends the copy instead of hanging it (expand_dbname: `dsn` may be a
  // URI or key=value pairs; the settings after it take precedence).
  const char* const keywords[] = {"dbname", "connect_timeout", "keepalives", "keepalives_idle",
                                  "keepalives_interval", "keepalives_count", nullptr};
  const char* const values[] = {dsn.c_str(), "10", "1", "30", "10", "3", nullptr};
  Conn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    return ConnectFailed(conn != nullptr ? PQerrorMessage(conn.get()) : "out of memory");
  }
  for (const SessionSetting& s : kSessionSettings) {
    Result set(PQexec(conn.get(), absl::StrCat("SET ", s.name, " = ", s.value).c_str()));
    if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) return QueryFailed(conn.get(), set.get());
  }
  const std::string copy = absl::StrCat("COPY (", query, ") TO STDOUT (FORMAT binary)");
  {
    Result started(PQexec(conn.get(), copy.c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_OUT) return QueryFailed(conn.get(), started.get());
  }
  BinaryCopyParser parser;
  for (;;) {
    char* buffer = nullptr;
    const int size = PQgetCopyData(conn.get(), &buffer, 0);
    if (size == -1) break;  // done: the command's result follows
    if (size < 0) return QueryFailed(conn.get(), nullptr);
    absl::Status parsed = parser.Message(buffer, static_cast<size_t>(size), on_row);
    PQfreemem(buffer);
    if (!parsed.ok()) return parsed;  // the connection closes, ending the COPY
  }
  Result finished(PQgetResult(conn.get()));
  if (PQresultStatus(finished.get()) != PGRES_COMMAND_OK) return QueryFailed(conn.get(), finished.get());
  if (!parser.complete()) return BadStream("stream ended without its trailer");
  return absl::OkStatus();
}

}  // namespace cdp::storage
