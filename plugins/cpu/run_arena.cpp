// CPU plugin: a run's arena (run_arena.h).
#include "run_arena.h"

#include "block_pool.h"

namespace switchyard::cpu {
namespace {
thread_local ArenaScope* current_scope = nullptr;
}  // namespace

std::shared_ptr<RunArena> RunArena::open(size_t bytes) {
  std::shared_ptr<RunArena> a(new RunArena());
  a->base_ = take_pooled(bytes, &a->size_);
  return a;
}

RunArena::~RunArena() { give_pooled(base_, size_); }

size_t RunArena::served() const {
  std::lock_guard<std::mutex> lock(mu_);
  return served_;
}

size_t RunArena::declined() const {
  std::lock_guard<std::mutex> lock(mu_);
  return declined_;
}

std::shared_ptr<void> RunArena::take(const PlannedSlice& slice, const std::shared_ptr<RunArena>& self) {
  const size_t end = slice.offset + slice.bytes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto next = held_.lower_bound(slice.offset);
    const bool overlaps_next = next != held_.end() && next->first < end;
    const bool overlaps_prev = next != held_.begin() && std::prev(next)->second > slice.offset;
    if (end > size_ || overlaps_next || overlaps_prev) {
      ++declined_;
      return nullptr;
    }
    held_.emplace(slice.offset, end);
    ++served_;
  }
  void* p = static_cast<char*>(base_) + slice.offset;
  return std::shared_ptr<void>(p, [self, offset = slice.offset](void*) { self->release(offset); });
}

void RunArena::release(size_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  held_.erase(offset);
}

ArenaScope::ArenaScope(const std::shared_ptr<RunArena>& arena, const std::vector<PlannedSlice>& slices)
    : arena_(arena), slices_(slices), outer_(current_scope) {
  current_scope = this;
}

ArenaScope::~ArenaScope() { current_scope = outer_; }

std::shared_ptr<void> ArenaScope::take_planned(size_t bytes) {
  ArenaScope* s = current_scope;
  if (!s || !s->arena_) return nullptr;
  for (size_t i = 0; i < s->slices_.size() && i < 64; ++i) {
    if ((s->taken_ >> i) & 1u || s->slices_[i].bytes < bytes) continue;
    s->taken_ |= uint64_t{1} << i;
    return s->arena_->take(s->slices_[i], s->arena_);
  }
  return nullptr;
}

}  // namespace switchyard::cpu
