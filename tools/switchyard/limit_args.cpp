// Per-prediction limits on the command line.
#include "limit_args.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace switchyard::cli {

namespace {
constexpr double kMaxTimeoutSeconds = 365.0 * 24 * 3600;
}  // namespace

std::optional<std::chrono::steady_clock::time_point> PredictionLimits::deadline_from_now() const {
  if (!timeout) return std::nullopt;
  return std::chrono::steady_clock::now() + *timeout;
}

std::optional<uint64_t> parse_byte_size(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 19 || text.size() - digits > 1) return std::nullopt;
  int shift = 0;
  if (digits < text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text[digits]))) {
      case 'K': shift = 10; break;
      case 'M': shift = 20; break;
      case 'G': shift = 30; break;
      case 'T': shift = 40; break;
      default: return std::nullopt;
    }
  }
  const uint64_t n = std::strtoull(text.substr(0, digits).c_str(), nullptr, 10);
  if (n == 0 || n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

Status limits_from_args(const Args& args, PredictionLimits* out) {
  if (auto t = args.get("--timeout")) {
    char* end = nullptr;
    const double seconds = std::strtod(t->c_str(), &end);
    if (t->empty() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 || seconds > kMaxTimeoutSeconds)
      return Status(StatusCode::invalid_argument, "--timeout expects a positive number of seconds (at most a year), got '" + *t + "'");
    out->timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  }
  if (auto m = args.get("--max-memory")) {
    auto bytes = parse_byte_size(*m);
    if (!bytes)
      return Status(StatusCode::invalid_argument,
                    "--max-memory expects a positive size in bytes with an optional K, M, G or T suffix (e.g. 512M), got '" + *m + "'");
    out->max_memory_bytes = *bytes;
  }
  return {};
}

}  // namespace switchyard::cli
