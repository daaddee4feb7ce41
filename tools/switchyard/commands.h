// The switchyard subcommands. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace switchyard::cli {

int cmd_devices(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_conformance(const std::vector<std::string>& args);
int cmd_plan(const std::vector<std::string>& args);
int cmd_cache(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
// Every flag of `bench`, for `switchyard bench --help`.
const char* bench_usage();
// Every form and flag of `conformance`, for `switchyard conformance --help`.
const char* conformance_usage();

// Prints "switchyard: error: <message>" to stderr and returns 2 (usage) or 1 (failure).
int fail(const std::string& message, int code = 1);

}  // namespace switchyard::cli
