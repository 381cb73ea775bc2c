// Sending the portal's e-mail (sign-in links). Locally messages go to an outbox folder as
// RFC 5322 files, one per message, that a person or a test opens.
#ifndef CDP_SERVICES_PORTAL_MAILER_H_
#define CDP_SERVICES_PORTAL_MAILER_H_

#include <string>

#include "absl/status/status.h"

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

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_MAILER_H_
