// Status helpers.
#include "switchyard/hal/status.h"

namespace switchyard {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::not_found: return "not_found";
    case StatusCode::unsupported: return "unsupported";
    case StatusCode::unavailable: return "unavailable";
    case StatusCode::out_of_memory: return "out_of_memory";
    case StatusCode::internal: return "internal";
    case StatusCode::cancelled: return "cancelled";
    case StatusCode::deadline_exceeded: return "deadline_exceeded";
    case StatusCode::io_error: return "io_error";
    case StatusCode::data_loss: return "data_loss";
    case StatusCode::abi_mismatch: return "abi_mismatch";
    case StatusCode::resource_exhausted: return "resource_exhausted";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

Status Status::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace switchyard
