// SmtpMailer against a scripted SMTP server on loopback (plain text: the TLS upgrade is
// OpenSSL's and is exercised by the portal's HTTPS tests).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/portal/mailer.h"
#include "tests/testing/status_matchers.h"

namespace cdp::portal {
namespace {

using ::cdp::testing::IsOk;
using ::cdp::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

// Accepts one session and answers as a mail server that offers no STARTTLS; refuses
// recipients at `refused_domain`. Keeps what the client said.
class FakeSmtpServer {
 public:
  explicit FakeSmtpServer(std::string refused_domain = "") : refused_(std::move(refused_domain)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(fd_, 1);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeSmtpServer() {
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  // Everything the client sent, once the session is over.
  std::string Transcript() {
    thread_.join();
    thread_ = std::thread([] {});
    return transcript_;
  }

 private:
  void Serve() {
    int c = accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    auto say = [&](const std::string& s) { send(c, s.data(), s.size(), MSG_NOSIGNAL); };
    say("220 fake.example ESMTP\r\n");
    std::string buf;
    bool in_data = false;
    char chunk[4096];
    for (;;) {
      size_t eol;
      while ((eol = buf.find(in_data ? "\r\n.\r\n" : "\r\n")) == std::string::npos) {
        ssize_t n = recv(c, chunk, sizeof chunk, 0);
        if (n <= 0) {
          close(c);
          return;
        }
        buf.append(chunk, static_cast<size_t>(n));
        transcript_.append(chunk, static_cast<size_t>(n));
      }
      const std::string line = buf.substr(0, eol);
      buf.erase(0, eol + (in_data ? 5 : 2));
      if (in_data) {
        in_data = false;
        say("250 queued\r\n");
      } else if (absl::StartsWith(line, "EHLO")) {
        say("250-fake.example\r\n250 SIZE 100000\r\n");
      } else if (absl::StartsWith(line, "RCPT") && !refused_.empty() && absl::StrContains(line, refused_)) {
        say("550 no such user\r\n");
      } else if (line == "DATA") {
        in_data = true;
        say("354 go ahead\r\n");
      } else if (line == "QUIT") {
        say("221 bye\r\n");
        close(c);
        return;
      } else {
        say("250 ok\r\n");
      }
    }
  }

  std::string refused_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::string transcript_;
};

SmtpOptions Plain(int port) {
  SmtpOptions o;
  o.host = "127.0.0.1";
  o.port = port;
  o.starttls = false;
  o.from = "Mijn privacy <no-reply@cdp.local>";
  return o;
}

TEST(SmtpMailerTest, DeliversOneMessageDotStuffed) {
  FakeSmtpServer server;
  SmtpOptions o = Plain(server.port());
  o.user = "portal";
  o.password = "secret";
  ASSERT_THAT(SmtpMailer(o).Send({.to = "anna@example.nl", .subject = "Inloggen", .text = "Hallo\n.hidden\nDag\n"}),
              IsOk());
  const std::string t = server.Transcript();
  EXPECT_THAT(t, HasSubstr("EHLO cdp-portal\r\n"));
  EXPECT_THAT(t, HasSubstr("AUTH PLAIN AHBvcnRhbABzZWNyZXQ=\r\n"));
  EXPECT_THAT(t, HasSubstr("MAIL FROM:<no-reply@cdp.local>\r\n"));
  EXPECT_THAT(t, HasSubstr("RCPT TO:<anna@example.nl>\r\n"));
  EXPECT_THAT(t, HasSubstr("\r\nTo: anna@example.nl\r\n"));
  EXPECT_THAT(t, HasSubstr("\r\nHallo\r\n..hidden\r\nDag\r\n.\r\n"));
  EXPECT_THAT(t, HasSubstr("QUIT\r\n"));
}

TEST(SmtpMailerTest, ARefusedRecipientIsAnErrorThatNamesNoAddress) {
  FakeSmtpServer server("example.org");
  absl::Status s = SmtpMailer(Plain(server.port())).Send({.to = "kees@example.org", .subject = "x", .text = "y"});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("550 to RCPT")));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("kees")));
  EXPECT_THAT(server.Transcript(), Not(HasSubstr("DATA")));
}

TEST(SmtpMailerTest, RefusesToSendInTheClearWhenTlsIsRequired) {
  FakeSmtpServer server;
  SmtpOptions o = Plain(server.port());
  o.starttls = true;
  EXPECT_THAT(SmtpMailer(o).Send({.to = "anna@example.nl", .subject = "x", .text = "y"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("STARTTLS")));
  EXPECT_THAT(server.Transcript(), Not(HasSubstr("MAIL FROM")));
}

TEST(SmtpMailerTest, AnUnreachableServerIsUnavailable) {
  SmtpOptions o = Plain(1);
  EXPECT_THAT(SmtpMailer(o).Send({.to = "anna@example.nl", .subject = "x", .text = "y"}),
              StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace cdp::portal
