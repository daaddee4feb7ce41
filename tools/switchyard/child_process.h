// Runs another process (usually this switchyard binary) and collects what it printed, its exit
// status and its wall time: for figures that only a fresh process shows (a cached load as a
// user meets it), without a shell in between.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace switchyard::cli {

struct ChildResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;     // standard output
  double wall_ms = 0;  // from start to exit
};

// argv[0] is the program path. `env` entries are set (value) or removed (empty value) in the
// child's environment. A failure to start gives exit_code -1 and the reason in `out`.
ChildResult run_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});

// The path of the running executable.
std::string self_executable();

// The number after `"key": ` in a JSON text, or `fallback`.
double json_number_field(const std::string& json, const std::string& key, double fallback = -1);

}  // namespace switchyard::cli
