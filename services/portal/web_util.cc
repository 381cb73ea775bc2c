#include "services/portal/web_util.h"

#include "absl/strings/str_split.h"

namespace cdp::portal {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string UrlDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

FormValues::FormValues(std::string_view encoded) {
  for (absl::string_view pair : absl::StrSplit(absl::string_view(encoded.data(), encoded.size()), '&',
                                               absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string name = UrlDecode(std::string_view(pair.data(), eq == absl::string_view::npos ? pair.size() : eq));
    std::string value = eq == absl::string_view::npos
                            ? ""
                            : UrlDecode(std::string_view(pair.data() + eq + 1, pair.size() - eq - 1));
    values_[name].push_back(value);
    flat_.emplace(std::move(name), std::move(value));
  }
}

std::string FormValues::Get(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? "" : it->second.front();
}

const std::vector<std::string>& FormValues::All(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

std::map<std::string, std::string> ParseCookies(std::string_view header) {
  std::map<std::string, std::string> out;
  for (absl::string_view part : absl::StrSplit(absl::string_view(header.data(), header.size()), ';')) {
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq == absl::string_view::npos || eq == 0) continue;
    out.emplace(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
  }
  return out;
}

bool IsLocalPath(std::string_view s) {
  if (s.empty() || s.front() != '/' || (s.size() > 1 && s[1] == '/')) return false;
  // Browsers drop tabs and line breaks and read '\\' as '/': "/\t/evil" would leave.
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f || c == '\\') return false;
  }
  return true;
}

}  // namespace cdp::portal
