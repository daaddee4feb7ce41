// Stopping predictions: the token a caller cancels, and the stop flag one prediction's segments and
// kernels poll, raised by that token or by the prediction's deadline.
//
//   CancellationToken token;                      // copies share one flag
//   StopFlag stop(token, Clock::now() + 200ms);   // one per prediction
//   executable.execute(inputs, {.cancel_flag = stop.flag()});
//   token.cancel();                                // raises stop.flag() too (StopReason::cancelled)
//   // ... or 200 ms pass: the deadline watchdog raises it (StopReason::deadline)
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "switchyard/hal/status.h"

namespace switchyard {

// Why a stop flag was raised: the non-zero value plugins see through sy_execute_args.cancel_flag.
enum class StopReason : int32_t { none = 0, cancelled = 1, deadline = 2 };

// Raises `flag` with `reason` unless it is raised already (the first reason stays).
void raise_stop_flag(int32_t* flag, StopReason reason);

// Shared cancellation flag; copies refer to the same flag. cancel() also raises the stop flags of
// the predictions running under the token with a deadline (StopFlag).
class CancellationToken {
 public:
  CancellationToken();
  void cancel();
  bool cancelled() const;
  const volatile int32_t* flag() const;

 private:
  friend class StopFlag;
  struct State;
  std::shared_ptr<State> state_;
};

// One prediction's stop flag. Without a deadline it is the token's own flag (or none: flag() is
// null). With a deadline it is a flag of its own, raised by the token's cancel() and by the
// deadline watchdog, one timer thread shared by every prediction in the process.
class StopFlag {
 public:
  using Clock = std::chrono::steady_clock;
  StopFlag(std::optional<CancellationToken> token, std::optional<Clock::time_point> deadline);
  ~StopFlag();
  StopFlag(const StopFlag&) = delete;
  StopFlag& operator=(const StopFlag&) = delete;

  // What plugins and kernels poll; null when there is neither a token nor a deadline.
  const volatile int32_t* flag() const { return flag_; }
  StopReason reason() const;
  // OK, or the status to stop with: cancelled, or deadline_exceeded once the flag or the clock
  // says the deadline passed; `where` says where it stopped ("before segment #2").
  Status check(const std::string& where) const;
  // A failure as the caller should see it: `cancelled` caused by the deadline becomes
  // deadline_exceeded, stating the limit and keeping where it stopped.
  Status explain(const Status& failure) const;

 private:
  Status deadline_status(const std::string& where) const;

  std::optional<CancellationToken> token_;
  std::optional<Clock::time_point> deadline_;
  Clock::time_point start_;
  int32_t own_ = 0;                          // the flag, when there is a deadline
  const volatile int32_t* flag_ = nullptr;
  bool linked_ = false, watched_ = false;
  std::pair<Clock::time_point, uint64_t> watch_key_;
};

}  // namespace switchyard
