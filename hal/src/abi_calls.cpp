// In-flight plugin ABI calls: a fixed table of slots, each a string literal or null, so a signal
// handler can read it without locks or allocation.
#include "switchyard/hal/abi_calls.h"

#include <atomic>

namespace switchyard {

namespace {

constexpr int kSlots = 256;
std::atomic<const char*> g_slots[kSlots];
thread_local int t_innermost = -1;  // this thread's innermost AbiCall slot

}  // namespace

int abi_call_enter(const char* function) {
  for (int i = 0; i < kSlots; ++i) {
    const char* empty = nullptr;
    if (g_slots[i].compare_exchange_strong(empty, function, std::memory_order_acq_rel)) return i;
  }
  return -1;
}

void abi_call_leave(int slot) {
  if (slot >= 0) g_slots[slot].store(nullptr, std::memory_order_release);
}

AbiCall::AbiCall(const char* function) : slot_(abi_call_enter(function)), outer_(t_innermost) {
  if (slot_ >= 0) t_innermost = slot_;
}

AbiCall::~AbiCall() {
  t_innermost = outer_;
  abi_call_leave(slot_);
}

size_t abi_calls_in_flight(const char** out, size_t max) {
  size_t n = 0;
  const int own = t_innermost;
  if (own >= 0 && n < max) {
    if (const char* f = g_slots[own].load(std::memory_order_acquire)) out[n++] = f;
  }
  for (int i = 0; i < kSlots && n < max; ++i) {
    if (i == own) continue;
    if (const char* f = g_slots[i].load(std::memory_order_acquire)) out[n++] = f;
  }
  return n;
}

}  // namespace switchyard
