// CPU plugin: memory planning. With static shapes, the values a run allocates and when each is
// last read are known at compile time, so they can share one block (a run's arena) at offsets
// packed by lifetime: two values get overlapping bytes only if their lifetimes do not meet.
// The plan is advice, never trusted for safety: run_arena.h checks each slice it hands out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace switchyard::cpu {

// A value to place: its bytes, the execution node that allocates it, and the last node that
// reads it (or anything viewing its storage).
struct ValueLife {
  size_t bytes = 0;
  int64_t first = 0;
  int64_t last = 0;
};

// Where a planned allocation lies in the arena.
struct PlannedSlice {
  size_t offset = 0;
  size_t bytes = 0;
};

inline constexpr size_t kArenaAlignment = 64;

// Offsets for `values` (one per value, in the same order) and the arena's size. Largest values
// are placed first, each at the lowest offset free of every placed value whose lifetime meets its
// own. Offsets and sizes are multiples of kArenaAlignment.
struct ArenaLayout {
  std::vector<PlannedSlice> slices;
  size_t bytes = 0;
};
ArenaLayout pack_by_lifetime(const std::vector<ValueLife>& values);

}  // namespace switchyard::cpu
