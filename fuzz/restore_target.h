// The body of the executable_restore targets: the fuzz bytes restored on one device, for the
// graph of fuzz_common.h, through both entry points (executable_restore on a copy the plugin must
// not keep, and executable_restore_in_place on 64-byte aligned bytes that outlive the executable).
// A restore that succeeds is executed once on a fixed input, since bytes a plugin accepts must
// also be safe to run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "fuzz_common.h"
#include "switchyard/hal/device.h"

namespace switchyard::fuzz {

inline void run_once(const Device& device, const Executable& exe) {
  Tensor x = Tensor::allocate(ElementType::float32, {1, 3, 8, 8});
  float* p = x.mutable_data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = static_cast<float>(i % 7) - 3.0f;
  auto in = upload(device, x);
  if (!in.ok()) return;
  auto out = exe.execute({*in});
  if (out.ok())
    for (const auto& t : *out) (void)download(t);
}

inline int restore_one_input(DeviceFixture& f, const uint8_t* data, size_t size) {
  {
    auto exe = f.device->restore(*f.view, data, size, false);
    if (exe.ok()) run_once(*f.device, **exe);
  }
  {
    std::unique_ptr<unsigned char, decltype(&std::free)> aligned(
        static_cast<unsigned char*>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64)), std::free);
    if (size) std::memcpy(aligned.get(), data, size);
    auto exe = f.device->restore(*f.view, aligned.get(), size, true);
    if (exe.ok()) run_once(*f.device, **exe);
    // `exe` is released here, before the bytes it may use in place.
  }
  return 0;
}

}  // namespace switchyard::fuzz
