// In-flight plugin ABI calls: a fixed table of slots, each holding a string literal or null, so a
// signal handler can read it without locks or allocation. A thread takes one slot for itself on its
// first call into a plugin (an AbiCall then only stores the function's name: no search on the hot
// path) and gives it back when it ends; an asynchronous execute takes a slot of its own until its
// completion.
#include "switchyard/hal/abi_calls.h"

#include <atomic>

namespace switchyard {

namespace {

constexpr int kSlots = 256;
std::atomic<const char*> g_calls[kSlots];  // per slot: the function running now, or null
std::atomic<bool> g_taken[kSlots];         // per slot: owned by a thread or an asynchronous execute

int take_slot() {
  for (int i = 0; i < kSlots; ++i) {
    bool free = false;
    if (g_taken[i].compare_exchange_strong(free, true, std::memory_order_acq_rel)) return i;
  }
  return -1;
}

void give_back(int slot) {
  g_calls[slot].store(nullptr, std::memory_order_release);
  g_taken[slot].store(false, std::memory_order_release);
}

thread_local int t_own = -1;  // this thread's slot (a plain int: the signal handler reads it)

// Takes the thread's slot on first use and gives it back at thread exit.
struct ThreadSlot {
  int index = take_slot();
  ThreadSlot() { t_own = index; }
  ~ThreadSlot() {
    if (index >= 0) give_back(index);
    t_own = -1;
  }
};

int own_slot() {
  thread_local ThreadSlot slot;
  return slot.index;
}

}  // namespace

int abi_call_enter(const char* function) {
  const int slot = take_slot();
  if (slot >= 0) g_calls[slot].store(function, std::memory_order_release);
  return slot;
}

void abi_call_leave(int slot) {
  if (slot >= 0) give_back(slot);
}

AbiCall::AbiCall(const char* function) : slot_(own_slot()) {
  if (slot_ < 0) return;
  outer_ = g_calls[slot_].load(std::memory_order_relaxed);
  g_calls[slot_].store(function, std::memory_order_release);
}

AbiCall::~AbiCall() {
  if (slot_ >= 0) g_calls[slot_].store(outer_, std::memory_order_release);
}

size_t abi_calls_in_flight(const char** out, size_t max) {
  size_t n = 0;
  const int own = t_own;
  if (own >= 0 && n < max) {
    if (const char* f = g_calls[own].load(std::memory_order_acquire)) out[n++] = f;
  }
  for (int i = 0; i < kSlots && n < max; ++i) {
    if (i == own) continue;
    if (const char* f = g_calls[i].load(std::memory_order_acquire)) out[n++] = f;
  }
  return n;
}

}  // namespace switchyard
