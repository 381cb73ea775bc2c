// Minimal HTTP/1.1 GET for tests: over TLS that verifies the server against a CA and the
// name "localhost", or in plain text (for metrics).
#ifndef CDP_TESTS_TESTING_HTTP_CLIENT_H_
#define CDP_TESTS_TESTING_HTTP_CLIENT_H_

#include <string>

#include "absl/status/statusor.h"

namespace cdp::testing {

struct HttpResult {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;
};

absl::StatusOr<HttpResult> HttpsGet(int port, const std::string& path, const std::string& ca_file);
absl::StatusOr<HttpResult> HttpGet(int port, const std::string& path);

}  // namespace cdp::testing

#endif  // CDP_TESTS_TESTING_HTTP_CLIENT_H_
