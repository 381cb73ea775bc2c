// The portal's HTTPS server against raw requests over real TLS on loopback: what two HTTP
// parsers could read differently is refused, and no handler can split a response.
#include "services/portal/https_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "openssl/ssl.h"
#include "tests/testing/platform.h"

namespace cdp::portal {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class HttpsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new testing::TestPki({"service/portal"}); }
  void SetUp() override {
    server_ = std::make_unique<HttpsServer>(
        HttpsServerOptions{.listen = "127.0.0.1:0", .tls = pki_->Load("service/portal"), .threads = 2});
    server_->Handle("GET", "/hello", [](const HttpRequest&) {
      HttpResponse r;
      r.body = "hi";
      r.headers.emplace_back("X-Note", "a\r\nSet-Cookie: evil=1");
      return r;
    });
    server_->Handle("POST", "/echo", [](const HttpRequest& req) {
      HttpResponse r;
      r.body = "got:" + req.body;
      return r;
    });
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }

  // Sends `raw` over TLS and returns everything the server answers until it closes.
  std::string Exchange(const std::string& raw) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    std::string out;
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, raw.data(), static_cast<int>(raw.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return out;
  }

  static testing::TestPki* pki_;
  std::unique_ptr<HttpsServer> server_;
  int port_ = 0;
};
testing::TestPki* HttpsServerTest::pki_ = nullptr;

TEST_F(HttpsServerTest, AnswersARequestAndStripsLineBreaksFromHeaders) {
  const std::string r = Exchange("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("X-Note: aSet-Cookie: evil=1\r\n"));
  EXPECT_THAT(r, Not(HasSubstr("\r\nSet-Cookie")));
}

TEST_F(HttpsServerTest, ABodyIsReadByItsLength) {
  const std::string r = Exchange("POST /echo HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_THAT(r, HasSubstr("got:abc"));
}

TEST_F(HttpsServerTest, AmbiguousRequestsAreRefused) {
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nContent-Length : 3\r\n\r\nabc"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
              StartsWith("HTTP/1.1 411"));
  EXPECT_THAT(Exchange("GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n"), StartsWith("HTTP/1.1 404"));
}

}  // namespace
}  // namespace cdp::portal
