// Command-line parsing for every binary, on top of absl flags.
//
// Each flag `--some_name` may also be set from the environment as CDP_SOME_NAME; the
// command line wins over the environment, which wins over the default.
//
// Errors (unknown flag, bad value, stray argument) are reported as one line on stderr
// naming the flag, and the process exits with status 2. `--help` prints the usage line and
// every flag defined by the binary's own sources with its default, then exits 0.
#ifndef CDP_SERVICES_COMMON_FLAGS_H_
#define CDP_SERVICES_COMMON_FLAGS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cdp {

// Parses argv and the environment into the binary's absl flags. Returns the positional
// arguments (argv[0] excluded). Exits on error or --help, as described above.
std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view usage);

// The testable core of ParseFlagsOrExit: applies environment then arguments, returning the
// positional arguments, or InvalidArgument with the one-line message. `env` is looked up
// with getenv-like semantics (nullptr when unset). Does not handle --help.
absl::StatusOr<std::vector<std::string>> ParseFlags(
    const std::vector<std::string>& args, const char* (*env)(const char*));

// Name of the environment variable for a flag: "db_dsn" -> "CDP_DB_DSN".
std::string EnvNameForFlag(std::string_view flag);

}  // namespace cdp

#endif  // CDP_SERVICES_COMMON_FLAGS_H_
