// SmtpMailer: a small SMTP client (RFC 5321) with STARTTLS (RFC 3207) and AUTH PLAIN
// (RFC 4616), one session per message. The portal sends little mail (sign-in links), so
// a connection per message keeps it simple and leaves nothing open.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "openssl/err.h"
#include "openssl/ssl.h"
#include "openssl/x509v3.h"
#include "services/portal/mailer.h"

namespace cdp::portal {
namespace {

// The address inside "Name <a@b>", or the whole string.
std::string AddressOf(const std::string& s) {
  size_t open = s.rfind('<'), close = s.rfind('>');
  return open != std::string::npos && close != std::string::npos && close > open ? s.substr(open + 1, close - open - 1)
                                                                                  : s;
}

class Session {
 public:
  Session(const SmtpOptions& o) : o_(o) {}
  ~Session() {
    if (ssl_ != nullptr) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
    ERR_clear_error();
  }

  absl::Status Connect() {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = absl::StrCat(o_.port);
    if (getaddrinfo(o_.host.c_str(), port.c_str(), &hints, &res) != 0) {
      return absl::UnavailableError(absl::StrCat("smtp: cannot resolve ", o_.host));
    }
    for (addrinfo* a = res; a != nullptr && fd_ < 0; a = a->ai_next) {
      int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      timeval tv{static_cast<time_t>(absl::ToInt64Seconds(o_.timeout)), 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        close(fd);
      }
    }
    freeaddrinfo(res);
    if (fd_ < 0) return absl::UnavailableError(absl::StrCat("smtp: cannot connect to ", o_.host, ":", o_.port));
    return absl::OkStatus();
  }

  absl::Status StartTls() {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) return absl::InternalError("smtp: cannot make a TLS context");
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    const bool loaded = o_.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx_) == 1
                                           : SSL_CTX_load_verify_locations(ctx_, o_.ca_file.c_str(), nullptr) == 1;
    if (!loaded) return absl::FailedPreconditionError("smtp: cannot load the CA certificates");
    ssl_ = SSL_new(ctx_);
    if (ssl_ != nullptr) SSL_set_fd(ssl_, fd_);
    if (ssl_ == nullptr || SSL_set_tlsext_host_name(ssl_, o_.host.c_str()) != 1 ||
        SSL_set1_host(ssl_, o_.host.c_str()) != 1) {
      return absl::InternalError("smtp: cannot set up TLS");
    }
    if (SSL_connect(ssl_) != 1) return absl::UnavailableError("smtp: TLS handshake failed (certificate or protocol)");
    buffer_.clear();
    return absl::OkStatus();
  }

  absl::Status Write(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      int n = ssl_ != nullptr ? SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off))
                              : static_cast<int>(send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL));
      if (n <= 0) return absl::UnavailableError("smtp: the connection broke while sending");
      off += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  // Reads one reply (all its lines) and returns its code.
  absl::StatusOr<int> Reply(std::string* text = nullptr) {
    for (;;) {
      size_t eol = buffer_.find("\r\n");
      while (eol == std::string::npos) {
        if (buffer_.size() > 64 * 1024) return absl::UnavailableError("smtp: reply too long");
        char chunk[4096];
        int n = ssl_ != nullptr ? SSL_read(ssl_, chunk, sizeof chunk)
                                : static_cast<int>(recv(fd_, chunk, sizeof chunk, 0));
        if (n <= 0) return absl::UnavailableError("smtp: the server closed the connection or did not answer");
        buffer_.append(chunk, static_cast<size_t>(n));
        eol = buffer_.find("\r\n");
      }
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      int code = 0;
      if (line.size() < 3 || !absl::SimpleAtoi(line.substr(0, 3), &code)) {
        return absl::UnavailableError("smtp: not an SMTP reply");
      }
      if (text != nullptr) absl::StrAppend(text, line.size() > 4 ? line.substr(4) : "", "\n");
      if (line.size() == 3 || line[3] == ' ') return code;
    }
  }

  // Sends `command` and expects a reply in [want, want + 99].
  absl::Status Command(const std::string& command, int want, std::string* text = nullptr) {
    if (!command.empty()) {
      if (absl::Status s = Write(command + "\r\n"); !s.ok()) return s;
    }
    auto code = Reply(text);
    if (!code.ok()) return code.status();
    if (*code < want || *code > want + 99) {
      // The verb only: arguments may hold addresses.
      const std::string verb = command.substr(0, command.find(' '));
      return absl::UnavailableError(
          absl::StrCat("smtp: the server answered ", *code, " to ", verb.empty() ? "the greeting" : verb));
    }
    return absl::OkStatus();
  }

 private:
  const SmtpOptions& o_;
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string buffer_;
};

}  // namespace

absl::Status SmtpMailer::Send(const MailMessage& message) {
  if (message.to.find_first_of("\r\n<>") != std::string::npos) {
    return absl::InvalidArgumentError("to: not a single address");
  }
  Session s(options_);
  if (absl::Status st = s.Connect(); !st.ok()) return st;
  std::string ehlo;
  if (absl::Status st = s.Command("", 200); !st.ok()) return st;
  if (absl::Status st = s.Command("EHLO " + options_.helo_name, 200, &ehlo); !st.ok()) return st;
  if (options_.starttls) {
    if (ehlo.find("STARTTLS") == std::string::npos) {
      return absl::FailedPreconditionError("smtp: the server does not offer STARTTLS");
    }
    if (absl::Status st = s.Command("STARTTLS", 200); !st.ok()) return st;
    if (absl::Status st = s.StartTls(); !st.ok()) return st;
    if (absl::Status st = s.Command("EHLO " + options_.helo_name, 200); !st.ok()) return st;
  }
  if (!options_.user.empty()) {
    std::string plain;
    absl::Base64Escape(absl::StrCat(std::string(1, '\0'), options_.user, std::string(1, '\0'), options_.password),
                       &plain);
    if (absl::Status st = s.Command("AUTH PLAIN " + plain, 200); !st.ok()) return st;
  }
  if (absl::Status st = s.Command("MAIL FROM:<" + AddressOf(options_.from) + ">", 200); !st.ok()) return st;
  if (absl::Status st = s.Command("RCPT TO:<" + message.to + ">", 200); !st.ok()) return st;
  if (absl::Status st = s.Command("DATA", 300); !st.ok()) return st;
  // Dot-stuffing: a line that starts with '.' gets another.
  const std::string text = FormatMessage(options_.from, message, absl::Now());
  std::string data;
  data.reserve(text.size() + 16);
  bool line_start = true;
  for (char c : text) {
    if (line_start && c == '.') data += '.';
    data += c;
    line_start = c == '\n';
  }
  if (data.size() < 2 || data.substr(data.size() - 2) != "\r\n") data += "\r\n";
  if (absl::Status st = s.Write(data + ".\r\n"); !st.ok()) return st;
  if (absl::Status st = s.Command("", 200); !st.ok()) return st;
  s.Command("QUIT", 200).IgnoreError();
  return absl::OkStatus();
}

}  // namespace cdp::portal
