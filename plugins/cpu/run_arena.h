// CPU plugin: a run's arena. A run of an executable with a memory plan (arena_plan.h) takes one
// pooled block; while a node's kernel runs, its output allocations (take_block) are carved from
// that block at the offsets the plan gave the node, instead of one allocation per value. The plan
// is checked as it is used: a request is served from a slice only if it fits the slice and no
// bytes of the slice are still held (a value kept alive longer than planned, through a view the
// plan did not know of); otherwise it goes to the pool, as it would without a plan. Slices may
// outlive the run (a graph output, a view of one): the block is freed only when the last goes.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "arena_plan.h"

namespace switchyard::cpu {

class RunArena {
 public:
  // A block of `bytes` from the pool (block_pool.h).
  static std::shared_ptr<RunArena> open(size_t bytes);
  ~RunArena();
  RunArena(const RunArena&) = delete;
  RunArena& operator=(const RunArena&) = delete;

  // Slices served and requests sent to the pool instead (for tests and load notes).
  size_t served() const;
  size_t declined() const;

 private:
  friend class ArenaScope;
  RunArena() = default;
  std::shared_ptr<void> take(const PlannedSlice& slice, const std::shared_ptr<RunArena>& self);
  void release(size_t offset);

  void* base_ = nullptr;
  size_t size_ = 0;
  mutable std::mutex mu_;
  std::map<size_t, size_t> held_;  // offset -> end of slices in use
  size_t served_ = 0, declined_ = 0;
};

// While alive, take_block on this thread first tries `slices` of `arena` (each at most once, the
// first one that holds the request and is free). Both must outlive the scope.
class ArenaScope {
 public:
  ArenaScope(const std::shared_ptr<RunArena>& arena, const std::vector<PlannedSlice>& slices);
  ~ArenaScope();
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;

  // A slice for `bytes` from the innermost scope of the calling thread, or null.
  static std::shared_ptr<void> take_planned(size_t bytes);

 private:
  const std::shared_ptr<RunArena>& arena_;
  const std::vector<PlannedSlice>& slices_;
  uint64_t taken_ = 0;  // bit i: slice i was handed out (the first 64)
  ArenaScope* outer_;
};

}  // namespace switchyard::cpu
