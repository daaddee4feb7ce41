// Command-line parsing for the switchyard tool: flags declared up front, unknown flags
// and missing values are errors that name the flag.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/hal/status.h"

namespace switchyard::cli {

class Args {
 public:
  // `flags`: names taking a value ("--device"); `switches`: names without one ("--json").
  static Result<Args> parse(const std::vector<std::string>& argv, const std::vector<std::string>& flags,
                            const std::vector<std::string>& switches);

  bool has(const std::string& name) const { return values_.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // Parses a numeric flag; error names the flag and the bad text.
  Result<double> get_number(const std::string& name, double fallback) const;

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

}  // namespace switchyard::cli
