// CPU plugin: packing values into a run's arena by lifetime (arena_plan.h).
#include "arena_plan.h"

#include <algorithm>
#include <numeric>

namespace switchyard::cpu {

ArenaLayout pack_by_lifetime(const std::vector<ValueLife>& values) {
  ArenaLayout out;
  out.slices.resize(values.size());
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a].bytes > values[b].bytes; });
  std::vector<size_t> placed;
  std::vector<PlannedSlice> busy;  // ranges of placed values alive at the same time as the current one
  for (size_t v : order) {
    const ValueLife& life = values[v];
    const size_t bytes = (std::max<size_t>(life.bytes, 1) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment;
    busy.clear();
    for (size_t p : placed)
      if (values[p].first <= life.last && life.first <= values[p].last) busy.push_back(out.slices[p]);
    std::sort(busy.begin(), busy.end(), [](const PlannedSlice& a, const PlannedSlice& b) { return a.offset < b.offset; });
    size_t offset = 0;
    for (const PlannedSlice& b : busy) {
      if (b.offset >= offset + bytes) break;  // the gap before b holds it
      offset = std::max(offset, b.offset + b.bytes);
    }
    out.slices[v] = PlannedSlice{offset, bytes};
    out.bytes = std::max(out.bytes, offset + bytes);
    placed.push_back(v);
  }
  return out;
}

}  // namespace switchyard::cpu
