// CPU plugin: where kernels' output tensors get their storage. Large blocks freed by one
// prediction are kept and handed to the next allocation of the same size class instead of going
// back to the system: each run of a graph allocates the same sizes, so after the first run its large
// tensors come from the pool, without mmap/munmap, page faults or zeroing per run (ocr_det's 10 MB
// activations made one run in two take 2.5x its median on glibc's default thresholds).
#pragma once

#include <cstddef>
#include <memory>

#include "switchyard/hal/tensor.h"

namespace switchyard::cpu {

// Blocks of at least kPooledBytes are pooled (rounded up to 64 KiB; a request takes the smallest free
// block that holds it); the pool holds at most
// kPoolHeldBytes of free blocks, freeing the rest.
inline constexpr size_t kPooledBytes = size_t{256} << 10;
inline constexpr size_t kPoolHeldBytes = size_t{1} << 30;

// `bytes` of 64-byte aligned, uninitialised storage; the owner gives it back when released. Inside
// an ArenaScope (run_arena.h) the request is first offered to the run's planned slices.
std::shared_ptr<void> take_block(size_t bytes);

// A pooled block of at least `bytes` (its size in *size), to be handed back with give_pooled.
void* take_pooled(size_t bytes, size_t* size);
void give_pooled(void* block, size_t size);

// Free bytes the pool holds now (for tests).
size_t pooled_free_bytes();

// A tensor with uninitialised storage from take_block (empty shapes and errors as Tensor::allocate).
Tensor uninitialized_tensor(ElementType type, const Shape& shape);

}  // namespace switchyard::cpu
