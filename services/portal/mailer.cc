#include "services/portal/mailer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/log.h"
#include "services/portal/auth.h"

namespace cdp::portal {
namespace {

// RFC 2047 encoded word, so a subject with accents survives any mail reader.
std::string EncodedWord(const std::string& text) {
  return absl::StrCat("=?UTF-8?B?", absl::Base64Escape(text), "?=");
}

absl::Status Failed(const std::string& what) {
  return absl::UnavailableError(absl::StrCat("outbox: ", what, ": ", std::strerror(errno)));
}

}  // namespace

std::string FormatMessage(const std::string& from, const MailMessage& message, absl::Time now) {
  std::string text;
  for (size_t i = 0; i < message.text.size(); ++i) {
    if (message.text[i] == '\n' && (i == 0 || message.text[i - 1] != '\r')) text += '\r';
    text += message.text[i];
  }
  return absl::StrCat(
      "From: ", from, "\r\nTo: ", message.to, "\r\nSubject: ", EncodedWord(message.subject),
      "\r\nDate: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", now, absl::UTCTimeZone()),
      "\r\nMessage-ID: <", RandomToken(12), "@cdp.local>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
      text);
}

absl::Status OutboxMailer::Send(const MailMessage& message) {
  if (message.to.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError("to: not a single address");
  }
  if (mkdir(dir_.c_str(), 0750) != 0 && errno != EEXIST) return Failed("cannot make " + dir_);
  const absl::Time now = absl::Now();
  const std::string name = absl::StrCat(absl::FormatTime("%Y%m%dT%H%M%E6SZ", now, absl::UTCTimeZone()), "-",
                                        RandomToken(6), ".eml");
  const std::string body = FormatMessage(from_, message, now);
  const std::string tmp = absl::StrCat(dir_, "/.", name, ".tmp");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) return Failed("cannot write " + tmp);
  size_t off = 0;
  while (off < body.size()) {
    ssize_t n = write(fd, body.data() + off, body.size() - off);
    if (n <= 0) {
      close(fd);
      unlink(tmp.c_str());
      return Failed("cannot write " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Failed("cannot write " + tmp);
  }
  if (rename(tmp.c_str(), absl::StrCat(dir_, "/", name).c_str()) != 0) {
    unlink(tmp.c_str());
    return Failed("cannot rename into " + dir_);
  }
  return absl::OkStatus();
}

QueuedMailer::QueuedMailer(Mailer& next, size_t capacity)
    : next_(next), capacity_(capacity), worker_([this] { Run(); }) {}

QueuedMailer::~QueuedMailer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  worker_.join();
}

absl::Status QueuedMailer::Send(const MailMessage& message) {
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= capacity_) {
    log::Error("mail_dropped", {{"queued", static_cast<int64_t>(queue_.size())}});
    return absl::OkStatus();
  }
  queue_.push_back(message);
  return absl::OkStatus();
}

void QueuedMailer::Run() {
  for (;;) {
    MailMessage message;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](QueuedMailer* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      if (queue_.empty()) return;  // stopping, and nothing left to send
      message = std::move(queue_.front());
      queue_.pop_front();
    }
    if (absl::Status s = next_.Send(message); !s.ok()) {
      log::Error("mail_not_sent", {{"code", absl::StatusCodeToString(s.code())}, {"reason", s.message()}});
    }
  }
}

}  // namespace cdp::portal
