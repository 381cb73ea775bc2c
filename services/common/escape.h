// Writing text into JSON and HTML: the one place that escapes for either.
#ifndef CDP_SERVICES_COMMON_ESCAPE_H_
#define CDP_SERVICES_COMMON_ESCAPE_H_

#include <string>
#include <string_view>

namespace cdp {

// Appends `s` to `out` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view s);
// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);
// Escapes & < > " ' for use in HTML text and quoted attribute values.
std::string HtmlEscape(std::string_view s);

}  // namespace cdp

#endif  // CDP_SERVICES_COMMON_ESCAPE_H_
