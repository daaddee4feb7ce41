// The deadline watchdog: one timer thread for every prediction in the process. At a watched
// deadline it raises the prediction's stop flag (StopReason::deadline), which the runtime checks at
// segment boundaries and plugins poll inside their work (sy_execute_args.cancel_flag).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace switchyard {

class DeadlineWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::pair<Clock::time_point, uint64_t>;

  // The process's watchdog; its thread starts on the first watch().
  static DeadlineWatchdog& instance();
  ~DeadlineWatchdog();

  // Raises *flag to StopReason::deadline at `deadline` (unless it is already non-zero) until
  // unwatch(key). False when the timer thread cannot be started (thread limit reached): the
  // deadline is then only checked at segment boundaries.
  bool watch(Clock::time_point deadline, int32_t* flag, Key* key);
  // After it returns the watchdog never touches the flag again.
  void unwatch(const Key& key);

 private:
  DeadlineWatchdog() = default;
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, int32_t*> flags_;  // earliest deadline first
  uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace switchyard
