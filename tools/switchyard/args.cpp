// Command-line parsing.
#include "args.h"

#include <algorithm>

namespace switchyard::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::vector<std::string>& flags,
                         const std::vector<std::string>& switches) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() > 2 && arg.rfind("--", 0) == 0) {
      std::string name = arg, value;
      bool inline_value = false;
      auto eq = arg.find('=');
      if (eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
        inline_value = true;
      }
      if (std::find(switches.begin(), switches.end(), name) != switches.end()) {
        if (inline_value) return Status(StatusCode::invalid_argument, "option " + name + " takes no value");
        a.values_.emplace(name, "");
      } else if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) return Status(StatusCode::invalid_argument, "option " + name + " needs a value");
          value = argv[++i];
        }
        a.values_.emplace(name, value);
      } else {
        return Status(StatusCode::invalid_argument, "unknown option '" + name + "'");
      }
    } else {
      a.positional_.push_back(arg);
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

Result<double> Args::get_number(const std::string& name, double fallback) const {
  auto v = get(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    double d = std::stod(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return d;
  } catch (const std::exception&) {
    return Status(StatusCode::invalid_argument, "option " + name + " expects a number, got '" + *v + "'");
  }
}

}  // namespace switchyard::cli
