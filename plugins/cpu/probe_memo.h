// CPU plugin: measurements kept between processes. A probe that costs time (the memory
// bandwidth copy) runs once per machine and plugin version; later processes read its result
// from the folder the host names in the setting `switchyard.state_dir`.
#pragma once

#include <optional>
#include <string>

namespace switchyard::cpu {

// The value stored under `name` in `dir` if it was measured under the same `key` (machine and
// plugin identity); nullopt when absent, unreadable, not a regular file, or for another key.
std::optional<double> read_memo(const std::string& dir, const std::string& name, const std::string& key);
// Stores `value` atomically (temporary file, rename); failures are ignored (the probe reruns).
void write_memo(const std::string& dir, const std::string& name, const std::string& key, double value);

}  // namespace switchyard::cpu
