// Host services the plugins call through sy_host_api (statuses, logging, allocation), and
// take_status, which turns a plugin's sy_status into a Status.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "switchyard/hal/plugin_loader.h"

struct sy_status_s {
  sy_status_code code;
  std::string message;
};

namespace switchyard {

namespace {
sy_status host_make_status(sy_status_code code, const char* message) {
  if (code == SY_OK) code = SY_ERROR_INTERNAL;  // a status object always means failure
  return new sy_status_s{code, message ? message : ""};
}

// steady_clock's count since its epoch: time_from_host_ns turns it back into a time_point.
uint64_t host_now_ns() { return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count()); }

thread_local PluginLogCapture* t_log_capture = nullptr;

void host_log(sy_log_level level, const char* plugin, const char* message) {
  if (t_log_capture) t_log_capture->add(std::string(plugin ? plugin : "plugin") + ": " + (message ? message : ""));
  if (level < SY_LOG_WARNING) return;
  std::fprintf(stderr, "switchyard: %s: %s: %s\n", level == SY_LOG_ERROR ? "error" : "warning", plugin ? plugin : "plugin",
               message ? message : "");
}

void* host_allocate(size_t size) { return std::malloc(size ? size : 1); }
void host_deallocate(void* memory) { std::free(memory); }

const sy_host_api kHostApi = {sizeof(sy_host_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR, host_make_status, host_log,
                              host_allocate,       host_deallocate,      host_now_ns};

}  // namespace

PluginLogCapture::PluginLogCapture() : outer_(t_log_capture) { t_log_capture = this; }
PluginLogCapture::~PluginLogCapture() { t_log_capture = outer_; }

const sy_host_api* host_api() { return &kHostApi; }

std::chrono::steady_clock::time_point time_from_host_ns(uint64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::nanoseconds(ns)));
}

Status take_status(sy_status status) {
  if (!status) return {};
  StatusCode code = status->code >= 0 && status->code <= SY_ERROR_RESOURCE_EXHAUSTED ? static_cast<StatusCode>(status->code)
                                                                              : StatusCode::internal;
  Status s(code, status->message);
  delete status;
  return s;
}

}  // namespace switchyard
