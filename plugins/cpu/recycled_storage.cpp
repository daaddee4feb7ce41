// CPU plugin: recycled storage for kernel outputs (recycled_storage.h).
#include "recycled_storage.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

namespace switchyard::cpu {

namespace {

constexpr size_t kSmallest = 256 << 10;  // smaller blocks come from malloc's own free lists
constexpr size_t kGranule = 64 << 10;
constexpr size_t kCapacity = 256u << 20;

class BlockCache {
 public:
  void* take(size_t size) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        held_ -= size;
        return p;
      }
    }
    void* p = std::aligned_alloc(4096, size);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void give(void* p, size_t size) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (held_ + size <= kCapacity) {
        free_.emplace(size, p);
        held_ += size;
        return;
      }
    }
    std::free(p);
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  size_t held_ = 0;
};

BlockCache& cache() {
  static BlockCache* c = new BlockCache();  // never destroyed: blocks may be released at exit
  return *c;
}

}  // namespace

std::shared_ptr<const void> recycled_storage(size_t bytes) {
  if (bytes < kSmallest) {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + (bytes == 0 ? 64 : 0));
    if (!p) throw std::bad_alloc();
    return std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  }
  const size_t size = (bytes + kGranule - 1) / kGranule * kGranule;
  void* p = cache().take(size);
  return std::shared_ptr<const void>(p, [size](const void* q) { cache().give(const_cast<void*>(q), size); });
}

}  // namespace switchyard::cpu
