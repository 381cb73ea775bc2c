#include "services/common/log.h"

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpc/support/log.h"

namespace cdp::log {
namespace {

std::mutex name_mu;
std::string& ServiceName() {
  static auto* name = new std::string("cdp");
  return *name;
}
std::atomic<int> min_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

void GrpcLogSink(gpr_log_func_args* args) {
  Level level = args->severity == GPR_LOG_SEVERITY_ERROR ? Level::kError
                : args->severity == GPR_LOG_SEVERITY_INFO ? Level::kInfo
                                                          : Level::kDebug;
  // gRPC messages describe transport state (peer addresses, handshake failures), never
  // request payloads, so they are safe to keep.
  Write(level, "grpc", {{"file", args->file}, {"line", args->line}, {"detail", args->message}});
}

}  // namespace

void SetServiceName(std::string_view name) {
  std::lock_guard<std::mutex> lock(name_mu);
  ServiceName() = std::string(name);
}

void SetMinLevel(Level level) { min_level = static_cast<int>(level); }

void CaptureGrpcLogs() {
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
  gpr_set_log_function(GrpcLogSink);
}


std::string FormatLine(Level level, std::string_view event, std::initializer_list<Field> fields) {
  std::string line = "{\"ts\":";
  AppendJsonString(line, absl::FormatTime("%Y-%m-%d%ET%H:%M:%E3SZ", absl::Now(),
                                          absl::UTCTimeZone()));
  absl::StrAppend(&line, ",\"level\":\"", LevelName(level), "\",\"service\":");
  {
    std::lock_guard<std::mutex> lock(name_mu);
    AppendJsonString(line, ServiceName());
  }
  line += ",\"event\":";
  AppendJsonString(line, event);
  for (const Field& f : fields) {
    line.push_back(',');
    AppendJsonString(line, f.key);
    line.push_back(':');
    if (const auto* s = std::get_if<std::string_view>(&f.value)) {
      AppendJsonString(line, *s);
    } else if (const auto* i = std::get_if<int64_t>(&f.value)) {
      absl::StrAppend(&line, *i);
    } else if (const auto* d = std::get_if<double>(&f.value)) {
      if (std::isfinite(*d)) {
        absl::StrAppend(&line, *d);
      } else {
        line += "null";
      }
    } else {
      line += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  line += "}\n";
  return line;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < min_level.load(std::memory_order_relaxed)) return;
  std::string line = FormatLine(level, event, fields);
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;  // nowhere to report a failing log stream
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace cdp::log
