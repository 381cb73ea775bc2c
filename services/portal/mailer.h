// Sending the portal's e-mail (sign-in links). Locally messages go to an outbox folder as
// RFC 5322 files, one per message, that a person or a test opens; in production to a mail
// server over SMTP (RFC 5321) with STARTTLS.
#ifndef CDP_SERVICES_PORTAL_MAILER_H_
#define CDP_SERVICES_PORTAL_MAILER_H_

#include <deque>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace cdp::portal {

struct MailMessage {
  std::string to;
  std::string subject;   // UTF-8
  std::string text;      // plain-text body, UTF-8
};

// Thread-safe implementations.
class Mailer {
 public:
  virtual ~Mailer() = default;
  // OK once the message is handed over (written, or accepted by the mail server).
  virtual absl::Status Send(const MailMessage& message) = 0;
};

// Writes each message as "<UTC time>-<random>.eml" into `dir` (made if missing), first to a
// temporary name and then renamed, so a reader never sees half a message.
class OutboxMailer : public Mailer {
 public:
  OutboxMailer(std::string dir, std::string from) : dir_(std::move(dir)), from_(std::move(from)) {}
  absl::Status Send(const MailMessage& message) override;

 private:
  const std::string dir_;
  const std::string from_;
};

// Hands messages to `next` on a thread of its own, so that a request that sends mail
// answers as fast as one that does not (a sign-in request must not reveal by its timing
// whether the address is known). Send() queues and returns OK; a full queue drops the
// message and says so in the log (counts only). The destructor sends what is queued.
class QueuedMailer : public Mailer {
 public:
  QueuedMailer(Mailer& next, size_t capacity = 1000);
  ~QueuedMailer() override;
  absl::Status Send(const MailMessage& message) override;

 private:
  void Run();

  Mailer& next_;
  const size_t capacity_;
  absl::Mutex mu_;
  std::deque<MailMessage> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread worker_;
};

// The message as RFC 5322 text with CRLF line ends: headers (the subject as an RFC 2047
// encoded word), a blank line, the body.
std::string FormatMessage(const std::string& from, const MailMessage& message, absl::Time now);

struct SmtpOptions {
  std::string host;
  int port = 587;
  bool starttls = true;        // required unless turned off (a relay on loopback)
  std::string ca_file;         // verifies the server's certificate; empty: the system's CAs
  std::string user;            // AUTH PLAIN when set
  std::string password;
  std::string from;            // the From: header; its address is the envelope sender
  std::string helo_name = "cdp-portal";
  absl::Duration timeout = absl::Seconds(30);
};

// One SMTP session per message: EHLO, STARTTLS (the server's certificate checked against
// the host name), AUTH PLAIN if configured, MAIL, RCPT, DATA (dot-stuffed), QUIT.
// Unavailable when the server cannot be reached or refuses, with its reply code.
class SmtpMailer : public Mailer {
 public:
  explicit SmtpMailer(SmtpOptions options) : options_(std::move(options)) {}
  absl::Status Send(const MailMessage& message) override;

 private:
  const SmtpOptions options_;
};

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_MAILER_H_
