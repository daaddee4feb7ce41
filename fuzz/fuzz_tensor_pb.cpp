// Fuzz target: the .pb readers (parse_value_pb, which load_value_pb and load_tensor_pb call on the
// mapped file): TensorProto, SequenceProto and OptionalProto, with every kind hint.
#include <cstddef>
#include <cstdint>

#include "switchyard/runtime/tensor_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace switchyard;
  for (const char* hint : {"", "tensor", "sequence", "optional"}) {
    auto v = parse_value_pb(data, size, "'fuzz.pb'", hint);
    if (v.ok()) (void)v->sequence.size();
  }
  auto t = parse_tensor_pb(data, size, "'fuzz.pb'");
  if (t.ok()) (void)t->byte_size();
  return 0;
}
