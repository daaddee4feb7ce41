// The records a conformance worker process writes to its parent over a pipe: each is a 4-byte
// length, a type byte and '\0'-separated fields. Crash and hang records are written from signal
// handlers (crash_report.cpp), so the framing needs no allocation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace switchyard::conformance::worker {

enum Record : char {
  result = 'R',       // outcome, reason, detail, op
  unavailable = 'U',  // the target could not be built: message
  abi_calls = 'A',    // a crash or hang: the ABI functions in flight, innermost first
  backtrace = 'B',    // a crash: the symbolised stack of the crashing thread
};

// Appends one framed record to `out`.
void append_record(std::string& out, Record type, const std::vector<std::string>& fields);
// Takes the complete records off the front of `buffer`: (type, fields) each.
std::vector<std::pair<Record, std::vector<std::string>>> take_records(std::string& buffer);
// Writes all of `data` to `fd` (retrying short writes); false when the pipe is gone.
bool write_all(int fd, const char* data, size_t size);

// Installs the crash handlers of a worker process: on SIGSEGV, SIGBUS, SIGFPE, SIGILL or SIGABRT
// they write the in-flight ABI calls and a symbolised backtrace to `fd`, then die of the
// same signal; on SIGUSR1 (sent by the parent when a case hangs) they write the in-flight calls and exit.
void install_crash_reporter(int fd);

}  // namespace switchyard::conformance::worker
