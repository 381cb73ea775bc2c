// Structured JSON-lines logging for every binary of the platform.
//
// One line per event on stderr (the local runner sends each service's stderr to
// $CDP_HOME/logs/<service>.log):
//   {"ts":"2026-11-23T10:00:00.123Z","level":"info","service":"consent","event":"started",...}
//
// Privacy rule: a log line carries field names, ids, counts, codes and durations, never a
// customer's personal data (names, e-mail, phone, addresses, field values). Callers pass
// only such values; there is deliberately no free-text "message with data" entry point.
//
// Thread-safe: each line is written with one write(2) call.
#ifndef CDP_SERVICES_COMMON_LOG_H_
#define CDP_SERVICES_COMMON_LOG_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include "absl/strings/string_view.h"
#include "services/common/escape.h"

namespace cdp::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// A value in a log line: a string, an integer, a floating point number or a bool.
using Value = std::variant<std::string_view, int64_t, double, bool>;

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, absl::string_view v)
      : key(k), value(std::string_view(v.data(), v.size())) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, int64_t v) : key(k), value(v) {}
  Field(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

// Names the process in every line ("consent", "cdpctl"); call once at start-up.
void SetServiceName(std::string_view name);
// Lines below this level are dropped. Default kInfo.
void SetMinLevel(Level level);
// Routes gRPC's own log output through this logger (as event "grpc").
void CaptureGrpcLogs();

void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warning(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarning, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// Renders one line without writing it (exposed for tests).
std::string FormatLine(Level level, std::string_view event, std::initializer_list<Field> fields);

}  // namespace cdp::log

#endif  // CDP_SERVICES_COMMON_LOG_H_
