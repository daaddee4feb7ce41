// Cancellation tokens (with the stop flags linked to them) and per-prediction stop flags.
#include "switchyard/runtime/cancellation.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <vector>

#include "deadline_watchdog.h"

namespace switchyard {

void raise_stop_flag(int32_t* flag, StopReason reason) {
  int32_t expected = 0;
  __atomic_compare_exchange_n(flag, &expected, static_cast<int32_t>(reason), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

struct CancellationToken::State {
  int32_t flag = 0;
  std::mutex mu;
  std::vector<int32_t*> linked;  // stop flags of predictions with a deadline under this token
};

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

void CancellationToken::cancel() {
  __atomic_store_n(&state_->flag, 1, __ATOMIC_RELEASE);
  std::lock_guard<std::mutex> lock(state_->mu);
  for (int32_t* f : state_->linked) raise_stop_flag(f, StopReason::cancelled);
}

bool CancellationToken::cancelled() const { return __atomic_load_n(&state_->flag, __ATOMIC_ACQUIRE) != 0; }

const volatile int32_t* CancellationToken::flag() const { return &state_->flag; }

StopFlag::StopFlag(std::optional<CancellationToken> token, std::optional<Clock::time_point> deadline)
    : token_(std::move(token)), deadline_(deadline), start_(Clock::now()) {
  if (!deadline_) {
    flag_ = token_ ? token_->flag() : nullptr;
    return;
  }
  flag_ = &own_;
  if (token_) {
    auto& state = *token_->state_;
    std::lock_guard<std::mutex> lock(state.mu);
    state.linked.push_back(&own_);
    linked_ = true;
    if (token_->cancelled()) raise_stop_flag(&own_, StopReason::cancelled);
  }
  if (*deadline_ <= start_) raise_stop_flag(&own_, StopReason::deadline);
  else watched_ = DeadlineWatchdog::instance().watch(*deadline_, &own_, &watch_key_);
}

StopFlag::~StopFlag() {
  if (watched_) DeadlineWatchdog::instance().unwatch(watch_key_);
  if (linked_) {
    auto& state = *token_->state_;
    std::lock_guard<std::mutex> lock(state.mu);
    state.linked.erase(std::find(state.linked.begin(), state.linked.end(), &own_));
  }
}

StopReason StopFlag::reason() const {
  if (!flag_) return StopReason::none;
  const int32_t v = __atomic_load_n(flag_, __ATOMIC_ACQUIRE);
  if (v == 0) return StopReason::none;
  return v == static_cast<int32_t>(StopReason::deadline) && flag_ == &own_ ? StopReason::deadline : StopReason::cancelled;
}

Status StopFlag::check(const std::string& where) const {
  const StopReason r = reason();
  if (r == StopReason::cancelled) return Status(StatusCode::cancelled, "prediction cancelled " + where);
  if (r == StopReason::deadline || (deadline_ && Clock::now() > *deadline_)) return deadline_status(where);
  return {};
}

Status StopFlag::explain(const Status& failure) const {
  if (failure.code() != StatusCode::cancelled || reason() != StopReason::deadline) return failure;
  return deadline_status("in " + failure.message());
}

Status StopFlag::deadline_status(const std::string& where) const {
  if (*deadline_ <= start_) return Status(StatusCode::deadline_exceeded, "prediction passed its deadline before it started; stopped " + where);
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  char text[160];
  std::snprintf(text, sizeof text, "prediction passed its deadline, %.1f ms after it started; stopped after %.1f ms, ",
                ms(*deadline_ - start_), ms(Clock::now() - start_));
  return Status(StatusCode::deadline_exceeded, text + where);
}

}  // namespace switchyard
