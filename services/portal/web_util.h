// What every page of the portal needs from HTTP: form and query parsing, cookies, and
// escaping for HTML and URLs. Pure functions; thread-safe.
#ifndef CDP_SERVICES_PORTAL_WEB_UTIL_H_
#define CDP_SERVICES_PORTAL_WEB_UTIL_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "services/common/escape.h"

namespace cdp::portal {

// Decodes %XX escapes and, in forms, '+' as space. Malformed escapes are kept as they are.
std::string UrlDecode(std::string_view s, bool plus_is_space = true);
// Escapes everything but unreserved characters (RFC 3986), for query values.
std::string UrlEncode(std::string_view s);

// "a=1&b=2" (a query or an application/x-www-form-urlencoded body) as name -> values in
// order. A name without '=' has an empty value.
class FormValues {
 public:
  FormValues() = default;
  explicit FormValues(std::string_view encoded);
  // The first value of `name`, or "" when absent.
  std::string Get(const std::string& name) const;
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& All(const std::string& name) const;
  const std::multimap<std::string, std::string>& raw() const { return flat_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::multimap<std::string, std::string> flat_;
};

// The cookies of a Cookie header: name -> value (the first of duplicate names wins).
std::map<std::string, std::string> ParseCookies(std::string_view header);

// Whether `s` is a safe local redirect target: an absolute path on this site ("/my"), not
// "//host" or a URL with a scheme.
bool IsLocalPath(std::string_view s);

}  // namespace cdp::portal

#endif  // CDP_SERVICES_PORTAL_WEB_UTIL_H_
