#include "tools/cdpctl/auditor_commands.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "openssl/rand.h"
#include "services/common/file_util.h"
#include "services/portal/auth.h"
#include "services/portal/pg_portal_store.h"
#include "storage/pool.h"

ABSL_FLAG(std::string, db_dsn, "", "auditor: libpq connection string of the portal's database");
ABSL_FLAG(std::string, display_name, "", "auditor add: the name shown in the console (default: NAME)");
ABSL_FLAG(bool, totp, false, "auditor add: also require a one-time code from an authenticator app");
ABSL_FLAG(std::string, password_file, "", "auditor add: read the password from this file (first line)");

namespace cdp::cdpctl {
namespace {

std::string ReadLine(bool echo) {
  termios old{};
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty && !echo) {
    termios quiet = old;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty && !echo) {
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::fprintf(stderr, "\n");
  }
  return std::string(absl::StripTrailingAsciiWhitespace(line));
}

absl::StatusOr<std::string> Password() {
  if (const std::string file = absl::GetFlag(FLAGS_password_file); !file.empty()) {
    auto text = ReadWholeFile(file);
    if (!text.ok()) return text.status();
    std::string first = text->substr(0, text->find('\n'));
    return std::string(absl::StripTrailingAsciiWhitespace(first));
  }
  if (!isatty(STDIN_FILENO)) return ReadLine(true);
  std::fprintf(stderr, "password: ");
  std::string a = ReadLine(false);
  std::fprintf(stderr, "again: ");
  if (ReadLine(false) != a) return absl::InvalidArgumentError("the passwords differ");
  return a;
}

}  // namespace

int RunAuditorCommand(const std::vector<std::string>& args) {
  if (args.size() != 3 || args[1] != "add") {
    std::fprintf(stderr, "cdpctl: auditor add NAME --db_dsn=DSN; see --help\n");
    return 2;
  }
  const std::string& name = args[2];
  if (absl::GetFlag(FLAGS_db_dsn).empty()) {
    std::fprintf(stderr, "cdpctl: auditor add: --db_dsn is required (the portal's database)\n");
    return 2;
  }
  auto password = Password();
  if (!password.ok()) {
    std::fprintf(stderr, "cdpctl: %s\n", std::string(password.status().message()).c_str());
    return 2;
  }
  if (password->size() < 12) {
    std::fprintf(stderr, "cdpctl: auditor add: the password needs at least 12 characters\n");
    return 2;
  }
  auto hash = portal::HashPassword(*password);
  if (!hash.ok()) {
    std::fprintf(stderr, "cdpctl: %s\n", std::string(hash.status().message()).c_str());
    return 1;
  }
  portal::Auditor auditor;
  auditor.name = name;
  auditor.display_name = absl::GetFlag(FLAGS_display_name).empty() ? name : absl::GetFlag(FLAGS_display_name);
  auditor.password_argon2id = *hash;
  if (absl::GetFlag(FLAGS_totp)) {
    unsigned char secret[20];
    if (RAND_bytes(secret, sizeof secret) != 1) return 1;
    auditor.totp_secret.assign(reinterpret_cast<const char*>(secret), sizeof secret);
  }
  storage::Pool pool({.dsn = absl::GetFlag(FLAGS_db_dsn), .size = 1,
                      .statements = portal::PgPortalStore::Statements()});
  if (absl::Status s = pool.Connect(); !s.ok()) {
    std::fprintf(stderr, "cdpctl: cannot reach the portal's database: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  portal::PgPortalStore store(pool);
  absl::Status s = store.AddAuditor(auditor, absl::Now());
  if (absl::IsAlreadyExists(s)) {
    std::fprintf(stderr, "cdpctl: auditor %s exists already\n", name.c_str());
    return 1;
  }
  if (absl::IsInvalidArgument(s) || absl::IsFailedPrecondition(s) || absl::IsOutOfRange(s)) {
    std::fprintf(stderr, "cdpctl: NAME: lower-case letters, digits, '.', '_' and '-', at most 64 (%s)\n",
                 std::string(s.message()).c_str());
    return 2;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "cdpctl: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("auditor %s added\n", name.c_str());
  if (!auditor.totp_secret.empty()) {
    const std::string b32 = portal::Base32(auditor.totp_secret);
    std::printf("one-time codes: add this secret to an authenticator app: %s\n"
                "  otpauth://totp/CDP:%s?secret=%s&issuer=CDP&algorithm=SHA1&digits=6&period=30\n",
                b32.c_str(), name.c_str(), b32.c_str());
  }
  return 0;
}

}  // namespace cdp::cdpctl
