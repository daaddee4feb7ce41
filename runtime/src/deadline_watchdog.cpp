// The deadline watchdog: a map of deadlines, earliest first, and one thread sleeping until the next.
#include "deadline_watchdog.h"

#include <system_error>

#include "switchyard/runtime/cancellation.h"

namespace switchyard {

DeadlineWatchdog& DeadlineWatchdog::instance() {
  static DeadlineWatchdog watchdog;
  return watchdog;
}

DeadlineWatchdog::~DeadlineWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool DeadlineWatchdog::watch(Clock::time_point deadline, int32_t* flag, Key* key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] { run(); });
    } catch (const std::system_error&) {
      return false;
    }
  }
  *key = {deadline, next_id_++};
  const bool earliest = flags_.empty() || *key < flags_.begin()->first;
  flags_.emplace(*key, flag);
  if (earliest) cv_.notify_one();
  return true;
}

void DeadlineWatchdog::unwatch(const Key& key) {
  std::lock_guard<std::mutex> lock(mu_);
  flags_.erase(key);
}

void DeadlineWatchdog::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    if (flags_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = flags_.begin();
    const Clock::time_point next = first->first.first;  // a copy: unwatch() may erase the entry while we wait
    if (Clock::now() < next) {
      cv_.wait_until(lock, next);
      continue;
    }
    raise_stop_flag(first->second, StopReason::deadline);
    flags_.erase(first);
  }
}

}  // namespace switchyard
