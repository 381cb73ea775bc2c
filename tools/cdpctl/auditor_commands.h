// cdpctl auditor ...: accounts of the auditor console, written to the portal's database.
#ifndef CDP_TOOLS_CDPCTL_AUDITOR_COMMANDS_H_
#define CDP_TOOLS_CDPCTL_AUDITOR_COMMANDS_H_

#include <string>
#include <vector>

namespace cdp::cdpctl {

inline constexpr char kAuditorUsage[] =
    "  auditor add NAME --db_dsn=DSN [--display_name=TEXT] [--totp] [--password_file=FILE]\n"
    "             make an account for the auditor console; the password is read from FILE,\n"
    "             or asked twice on a terminal, or read as one line from standard input.\n"
    "             --totp also makes a one-time-code secret and prints it for an app\n";

// Returns the process exit code.
int RunAuditorCommand(const std::vector<std::string>& args);

}  // namespace cdp::cdpctl

#endif  // CDP_TOOLS_CDPCTL_AUDITOR_COMMANDS_H_
