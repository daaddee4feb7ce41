// Fuzz target: the NumPy .npy reader (parse_npy, which load_npy calls on the mapped file).
#include <cstddef>
#include <cstdint>

#include "switchyard/runtime/tensor_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = switchyard::parse_npy(data, size, "'fuzz.npy'");
  if (t.ok()) (void)t->byte_size();
  return 0;
}
