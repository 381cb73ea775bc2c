// Reading a whole (small) file: keys, certificates, catalogs, receipts. Header-only, so
// that libraries which need nothing else from services/common can use it.
#ifndef CDP_SERVICES_COMMON_FILE_UTIL_H_
#define CDP_SERVICES_COMMON_FILE_UTIL_H_

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace cdp {

// The file's bytes, or InvalidArgument "<path>: cannot read: <reason>".
inline absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  return buf.str();
}

}  // namespace cdp

#endif  // CDP_SERVICES_COMMON_FILE_UTIL_H_
