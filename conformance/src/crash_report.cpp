// A worker's last words: which ABI functions were running, which signal, and the stack, written to
// the parent's pipe from a signal handler. The names come from the host's in-flight table
// (hal/abi_calls.h: no allocation); the backtrace (Boost.Stacktrace over libbacktrace, symbolised
// from DWARF, so a plugin's hidden functions are named too) is not async-signal-safe, so it comes
// last, under an alarm that ends the process if it deadlocks.
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <boost/stacktrace.hpp>
#include <cstring>

#include "switchyard/hal/abi_calls.h"
#include "worker_protocol.h"

namespace switchyard::conformance::worker {

namespace {

int g_fd = -1;
char g_frame[8192];

// Frames fields into g_frame without allocating; returns the frame's size.
size_t frame(Record type, const char* const* fields, size_t count) {
  size_t n = 4;
  g_frame[n++] = type;
  for (size_t i = 0; i < count; ++i) {
    if (i) g_frame[n++] = '\0';
    for (const char* c = fields[i]; *c && n < sizeof g_frame - 1; ++c) g_frame[n++] = *c;
  }
  const uint32_t payload = static_cast<uint32_t>(n - 4);
  std::memcpy(g_frame, &payload, 4);
  return n;
}

void write_in_flight_calls() {
  const char* calls[16];
  const size_t count = abi_calls_in_flight(calls, 16);
  write_all(g_fd, g_frame, frame(Record::abi_calls, calls, count));
}

void on_crash(int sig) {
  write_in_flight_calls();
  ::alarm(10);  // the rest allocates: if it deadlocks, SIGALRM ends the process
  std::string stack = boost::stacktrace::to_string(boost::stacktrace::stacktrace(1, 64));
  std::string record;
  append_record(record, Record::backtrace, {stack});
  write_all(g_fd, record.data(), record.size());
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void on_hang_report(int) {
  write_in_flight_calls();
  ::_exit(3);
}

}  // namespace

void install_crash_reporter(int fd) {
  g_fd = fd;
  struct sigaction sa {};
  sa.sa_handler = on_crash;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_ONSTACK;
  static char alt_stack[1 << 16];  // a stack overflow still gets its report
  stack_t ss{};
  ss.ss_sp = alt_stack;
  ss.ss_size = sizeof alt_stack;
  ::sigaltstack(&ss, nullptr);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::sigaction(sig, &sa, nullptr);
  sa.sa_handler = on_hang_report;
  ::sigaction(SIGUSR1, &sa, nullptr);
}

void append_record(std::string& out, Record type, const std::vector<std::string>& fields) {
  std::string payload(1, static_cast<char>(type));
  for (size_t i = 0; i < fields.size(); ++i) payload += (i ? std::string(1, '\0') : std::string()) + fields[i];
  const uint32_t size = static_cast<uint32_t>(payload.size());
  out.append(reinterpret_cast<const char*>(&size), 4);
  out += payload;
}

std::vector<std::pair<Record, std::vector<std::string>>> take_records(std::string& buffer) {
  std::vector<std::pair<Record, std::vector<std::string>>> records;
  size_t pos = 0;
  while (buffer.size() - pos >= 4) {
    uint32_t size = 0;
    std::memcpy(&size, buffer.data() + pos, 4);
    if (buffer.size() - pos - 4 < size) break;
    std::string payload = buffer.substr(pos + 4, size);
    pos += 4 + size;
    if (payload.empty()) continue;
    std::vector<std::string> fields;
    size_t start = 1;
    for (size_t z; (z = payload.find('\0', start)) != std::string::npos; start = z + 1) fields.push_back(payload.substr(start, z - start));
    if (payload.size() > 1) fields.push_back(payload.substr(start));
    records.emplace_back(static_cast<Record>(payload[0]), std::move(fields));
  }
  buffer.erase(0, pos);
  return records;
}

bool write_all(int fd, const char* data, size_t size) {
  size_t off = 0;
  while (off < size) {
    ssize_t n = ::write(fd, data + off, size - off);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace switchyard::conformance::worker
