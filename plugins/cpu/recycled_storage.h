// CPU plugin: storage for kernel outputs. Large blocks are kept when released and handed out
// again for the same size, so a model run repeatedly writes to pages it already owns instead
// of fresh ones the kernel faults in and zeroes (ocr_det at 1 thread: about 10% of a run).
#pragma once

#include <cstddef>
#include <memory>

namespace switchyard::cpu {

// 64-byte aligned, uninitialised storage of at least `bytes`; released blocks of 256 KiB and
// more return to a process-wide cache (at most 256 MiB in all, the rest freed). Thread-safe.
std::shared_ptr<const void> recycled_storage(size_t bytes);

}  // namespace switchyard::cpu
