// Which plugin ABI functions this process is inside right now. Every host call into a plugin is
// wrapped in an AbiCall scope, and an asynchronous execute stays "in flight" until the plugin
// calls its completion. Crash and hang diagnostics (the conformance runner's worker processes)
// read the list from a signal handler: fixed slots holding string literals, no allocation.
#pragma once

#include <cstddef>

namespace switchyard {

class AbiCall {
 public:
  // `function` must be a string literal ("sy_plugin_api.execute").
  explicit AbiCall(const char* function);
  ~AbiCall();
  AbiCall(const AbiCall&) = delete;
  AbiCall& operator=(const AbiCall&) = delete;

 private:
  int slot_;                       // the thread's own slot (-1: none left, not recorded)
  const char* outer_ = nullptr;    // what the slot held before: a call this one is nested in
};

// Marks `function` in flight until abi_call_leave(slot) (for work that outlives the call: an
// execute until its completion). Returns the slot, or -1 when every slot is taken (not recorded).
int abi_call_enter(const char* function);
void abi_call_leave(int slot);

// Async-signal-safe: copies up to `max` functions now in flight into `out`, the calling thread's
// own innermost one first when it is inside one; returns how many.
size_t abi_calls_in_flight(const char** out, size_t max);

}  // namespace switchyard

#include <utility>

namespace switchyard {

// Calls a plugin function inside an AbiCall scope named after it.
template <typename Fn, typename... Args>
decltype(auto) call_plugin(const char* function, Fn fn, Args&&... args) {
  AbiCall scope(function);
  return fn(std::forward<Args>(args)...);
}

}  // namespace switchyard

// SY_CALL_PLUGIN(api, execute, handle, &args): api.execute(handle, &args), named
// "sy_plugin_api.execute" while it runs.
#define SY_CALL_PLUGIN(api, fn, ...) ::switchyard::call_plugin("sy_plugin_api." #fn, (api).fn, __VA_ARGS__)
