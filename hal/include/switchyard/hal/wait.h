// Waiting for a callback-style call: the synchronous forms (Executable::execute,
// PartitionedModel::predict) are their asynchronous call plus this wait.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace switchyard {

// Calls `start(done)` and blocks until `done(result)` has run (on any thread, or inside `start`);
// returns that result.
template <typename T, typename Start>
T wait_for(Start&& start) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<T> result;
  start([&](T r) {
    std::lock_guard<std::mutex> lock(mu);
    result.emplace(std::move(r));
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return result.has_value(); });
  return std::move(*result);
}

}  // namespace switchyard
