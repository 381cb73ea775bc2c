#include "tests/testing/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "openssl/x509v3.h"

namespace cdp::testing {
namespace {

absl::StatusOr<int> Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot connect to port ", port));
  }
  return fd;
}

absl::StatusOr<HttpResult> Parse(const std::string& raw) {
  size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return absl::DataLossError("short response");
  HttpResult r;
  if (!absl::SimpleAtoi(raw.substr(9, 3), &r.status)) return absl::DataLossError("bad status");
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

std::string Request(const std::string& path) {
  return absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

}  // namespace

absl::StatusOr<HttpResult> HttpGet(int port, const std::string& path) {
  auto fd = Connect(port);
  if (!fd.ok()) return fd.status();
  std::string req = Request(path);
  if (write(*fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(*fd);
    return absl::UnavailableError("write failed");
  }
  std::string raw;
  char buf[8192];
  ssize_t n;
  while ((n = read(*fd, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
  close(*fd);
  return Parse(raw);
}

absl::StatusOr<HttpResult> HttpsGet(int port, const std::string& path, const std::string& ca_file) {
  auto fd = Connect(port);
  if (!fd.ok()) return fd.status();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, *fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  SSL_set1_host(ssl, "localhost");
  absl::StatusOr<HttpResult> result = absl::UnavailableError("TLS handshake failed");
  if (SSL_connect(ssl) == 1) {
    std::string req = Request(path);
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    std::string raw;
    char buf[8192];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) raw.append(buf, static_cast<size_t>(n));
    result = Parse(raw);
  }
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(*fd);
  return result;
}

}  // namespace cdp::testing
