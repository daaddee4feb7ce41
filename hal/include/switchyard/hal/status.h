// Status and Result<T>: the error currency of every Switchyard library API.
//
// Library APIs return Status / Result<T> and never let exceptions escape to a user.
// Inside a library (kernels, importers) code may throw switchyard::Error; the
// boundary that catches it turns it into a Status with context added.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace switchyard {

enum class StatusCode : int32_t {
  ok = 0,
  invalid_argument = 1,   // the caller's input is malformed (model, tensor, option)
  not_found = 2,          // a file, device, value or entry does not exist
  unsupported = 3,        // well-formed, but this implementation does not do it
  unavailable = 4,        // a device or driver is not present or not usable
  out_of_memory = 5,      // host or device memory exhausted, or a size limit hit
  internal = 6,           // a bug or an unexpected driver failure
  cancelled = 7,
  deadline_exceeded = 8,
  io_error = 9,
  data_loss = 10,         // corrupted data (checksum, truncated file)
  abi_mismatch = 11,      // plugin built for another ABI major version
  resource_exhausted = 12,  // a limit the caller set was reached (a prediction's memory limit)
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: node 'conv1': ..." style text for logs and CLI output.
  std::string to_string() const;
  // Returns a copy whose message is prefixed with `context: `.
  Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

inline Status make_error(StatusCode code, std::string message) {
  return Status(code, std::move(message));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {     // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::internal, "Result built from an OK status");
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Thrown inside library implementations only; converted to Status at API boundaries.
class Error : public std::runtime_error {
 public:
  Error(StatusCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  StatusCode code() const { return code_; }
  Status status() const { return Status(code_, what()); }

 private:
  StatusCode code_;
};

[[noreturn]] inline void throw_error(StatusCode code, const std::string& message) {
  throw Error(code, message);
}

}  // namespace switchyard

#define SY_CONCAT_INNER(a, b) a##b
#define SY_CONCAT(a, b) SY_CONCAT_INNER(a, b)

#define SY_RETURN_IF_ERROR(expr)                     \
  do {                                               \
    ::switchyard::Status sy_status_tmp_ = (expr);    \
    if (!sy_status_tmp_.ok()) return sy_status_tmp_; \
  } while (0)

#define SY_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

#define SY_ASSIGN_OR_RETURN(lhs, expr) SY_ASSIGN_OR_RETURN_IMPL(SY_CONCAT(sy_result_, __LINE__), lhs, expr)
