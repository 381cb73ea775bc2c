#include "services/common/flags.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cdp {
namespace {

// Flags that abseil or gRPC libraries define for themselves; they are not ours to show
// or to take from the environment.
bool IsForeignFlag(const absl::CommandLineFlag& flag) {
  std::string file = flag.Filename();
  return absl::StrContains(file, "absl/") || absl::StrContains(file, "/usr/");
}

std::map<std::string, absl::CommandLineFlag*> OwnFlags() {
  std::map<std::string, absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (!IsForeignFlag(*flag)) flags.emplace(std::string(name), flag);
  }
  return flags;
}

absl::Status SetFlag(absl::CommandLineFlag& flag, const std::string& value, const std::string& from) {
  std::string error;
  if (!flag.ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid value for ", from, ": ", error.empty() ? "cannot parse" : error));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EnvNameForFlag(std::string_view flag) {
  return absl::StrCat("CDP_", absl::AsciiStrToUpper(absl::string_view(flag.data(), flag.size())));
}

absl::StatusOr<std::vector<std::string>> ParseFlags(const std::vector<std::string>& args,
                                                    const char* (*env)(const char*)) {
  auto flags = OwnFlags();
  for (auto& [name, flag] : flags) {
    std::string env_name = EnvNameForFlag(name);
    if (const char* value = env(env_name.c_str()); value != nullptr) {
      absl::Status s = SetFlag(*flag, value, absl::StrCat("environment variable ", env_name));
      if (!s.ok()) return s;
    }
  }
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (!absl::StartsWith(arg, "-") || arg == "-") {
      positional.emplace_back(arg);
      continue;
    }
    std::string body(absl::StripPrefix(absl::StripPrefix(arg, "-"), "-"));
    std::string name = body.substr(0, body.find('='));
    bool has_value = body.find('=') != std::string::npos;
    std::string value = has_value ? body.substr(body.find('=') + 1) : "";
    auto it = flags.find(name);
    bool negated = false;
    if (it == flags.end() && absl::StartsWith(name, "no") && !has_value) {
      it = flags.find(name.substr(2));
      negated = it != flags.end() && it->second->IsOfType<bool>();
      if (!negated) it = flags.end();
    }
    if (it == flags.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    absl::CommandLineFlag& flag = *it->second;
    if (!has_value) {
      if (flag.IsOfType<bool>()) {
        value = negated ? "false" : "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    absl::Status s = SetFlag(flag, value, absl::StrCat("--", flag.Name()));
    if (!s.ok()) return s;
  }
  return positional;
}

std::vector<std::string> ParseFlagsOrExit(int argc, char** argv, std::string_view usage) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h" || a == "-help") {
      std::printf("%.*s\n\nFlags (each also settable as an environment variable CDP_<NAME>):\n",
                  static_cast<int>(usage.size()), usage.data());
      for (const auto& [name, flag] : OwnFlags()) {
        std::printf("  --%s  %s (default: \"%s\")\n", name.c_str(), flag->Help().c_str(),
                    flag->DefaultValue().c_str());
      }
      std::exit(0);
    }
  }
  auto parsed = ParseFlags(args, [](const char* n) -> const char* { return std::getenv(n); });
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "cdp",
                 std::string(parsed.status().message()).c_str());
    std::exit(2);
  }
  return *std::move(parsed);
}

}  // namespace cdp
