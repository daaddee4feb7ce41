// Tests for the CPU plugin's memory plan: packing by lifetime (arena_plan.h) and a run's arena
// checking each slice it hands out (run_arena.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "arena_plan.h"
#include "block_pool.h"
#include "run_arena.h"

namespace switchyard::cpu {
namespace {

bool meet(const ValueLife& a, const ValueLife& b) { return a.first <= b.last && b.first <= a.last; }
bool overlap(const PlannedSlice& a, const PlannedSlice& b) {
  return a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
}

TEST(ArenaPlan, ValuesAliveTogetherNeverShareBytes) {
  std::vector<ValueLife> lives;
  uint32_t x = 7;
  for (int i = 0; i < 300; ++i) {
    x = x * 1664525u + 1013904223u;
    const int64_t first = (x >> 8) % 200;
    x = x * 1664525u + 1013904223u;
    lives.push_back(ValueLife{static_cast<size_t>(1 + (x >> 12) % 100000), first, first + static_cast<int64_t>((x >> 4) % 20)});
  }
  const ArenaLayout layout = pack_by_lifetime(lives);
  ASSERT_EQ(layout.slices.size(), lives.size());
  size_t sum = 0;
  for (size_t i = 0; i < lives.size(); ++i) {
    const PlannedSlice& s = layout.slices[i];
    EXPECT_GE(s.bytes, lives[i].bytes);
    EXPECT_EQ(s.offset % kArenaAlignment, 0u);
    EXPECT_LE(s.offset + s.bytes, layout.bytes);
    sum += s.bytes;
    for (size_t j = 0; j < i; ++j)
      if (meet(lives[i], lives[j])) EXPECT_FALSE(overlap(s, layout.slices[j])) << "values " << i << " and " << j;
  }
  EXPECT_LT(layout.bytes, sum / 4) << "short lifetimes should share most of the arena";
}

TEST(ArenaPlan, AChainReusesTheBytesOfValuesItHasFinishedWith) {
  // a -> b -> c -> d, each read only by the next: two values are alive at a time.
  const std::vector<ValueLife> chain = {{4096, 0, 1}, {4096, 1, 2}, {4096, 2, 3}, {4096, 3, 4}};
  const ArenaLayout layout = pack_by_lifetime(chain);
  EXPECT_EQ(layout.bytes, 8192u);
  EXPECT_EQ(layout.slices[0].offset, layout.slices[2].offset);
  EXPECT_EQ(layout.slices[1].offset, layout.slices[3].offset);
}

TEST(RunArena, ABlockStillHeldIsNotHandedOutAgain) {
  const size_t half = size_t{512} << 10;
  const std::vector<PlannedSlice> slices = {{0, half}};
  auto arena = RunArena::open(2 * half);
  std::shared_ptr<void> first;
  {
    ArenaScope scope(arena, slices);
    first = take_block(half);
    std::memset(first.get(), 1, half);
    auto second = take_block(half);  // the scope's one slice is taken: from the pool
    EXPECT_NE(second.get(), first.get());
  }
  EXPECT_EQ(arena->served(), 1u);
  {
    // Planned to reuse the same bytes, but the first value is still alive (a view the plan did
    // not know of): the request goes to the pool.
    ArenaScope scope(arena, slices);
    auto again = take_block(half);
    EXPECT_NE(again.get(), first.get());
    EXPECT_EQ(arena->declined(), 1u);
  }
  void* const at = first.get();
  first.reset();
  {
    ArenaScope scope(arena, slices);
    auto now = take_block(half);
    EXPECT_EQ(now.get(), at);
    EXPECT_EQ(arena->served(), 2u);
  }
  {
    const std::vector<PlannedSlice> small = {{0, half / 2}};
    ArenaScope scope(arena, small);
    auto big = take_block(half);  // larger than the slice: the pool
    EXPECT_NE(big.get(), at);
  }
}

TEST(RunArena, ASliceOutlivesItsRun) {
  const size_t bytes = size_t{1} << 20;
  const std::vector<PlannedSlice> slices = {{0, bytes}};
  std::shared_ptr<void> kept;
  {
    auto arena = RunArena::open(bytes);
    ArenaScope scope(arena, slices);
    kept = take_block(bytes);
  }
  std::memset(kept.get(), 2, bytes);  // the arena's block lives while a slice does
  EXPECT_EQ(static_cast<unsigned char*>(kept.get())[bytes - 1], 2);
  kept.reset();
}

TEST(RunArena, NoScopeMeansThePool) {
  auto arena = RunArena::open(size_t{1} << 20);
  auto b = take_block(size_t{1} << 20);
  EXPECT_EQ(arena->served(), 0u);
  EXPECT_EQ(arena->declined(), 0u);
}

}  // namespace
}  // namespace switchyard::cpu
