// Minimal JSON output helpers for the --json forms of commands and reports.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

namespace switchyard::json {

// A quoted, escaped JSON string.
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// A JSON number; NaN and infinities (not representable) become null.
inline std::string number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// A JSON array of strings.
template <typename Strings>
std::string string_array(const Strings& strings) {
  std::string out = "[";
  for (const auto& s : strings) out += (out.size() > 1 ? ", " : "") + quote(s);
  return out + "]";
}

}  // namespace switchyard::json
