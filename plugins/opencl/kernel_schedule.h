// OpenCL plugin: the device-independent schedule of a compiled graph. Lowering (lowering.cpp)
// turns a Graph into a KernelSchedule; the executable (executable.cpp) builds its programs and runs it.
// A KernelSchedule plus its program binaries is exactly what serialize() stores, so restore needs
// neither the lowering code nor the OpenCL C compiler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "graph_fingerprint.h"
#include "switchyard/hal/graph.h"
#include "switchyard/plugin_abi.h"
#include "switchyard/hal/tensor.h"

namespace switchyard::opencl {

// One program: a kernel template specialised by build options (-D macros).
struct ProgramSpec {
  uint32_t source = 0;        // Source enum (kernels_cl.h)
  std::string options;        // "-DN=1024 -DOP=1 ..."
  std::vector<uint8_t> binary;  // CL_PROGRAM_BINARIES for the device (filled after a build)
};

// A kernel argument.
struct ArgRef {
  enum Kind : uint8_t { value = 0, aux = 1, derived = 2 };
  Kind kind = value;
  int32_t index = 0;  // value id (resolved through the binding table), aux buffer or derived weight index
};

// A weight buffer derived from an initializer at build time (compile and restore alike): the
// executable applies the transform to the graph's initializer and uploads the result, so
// serialized executables store the recipe, never the bytes. Results are float32.
struct DerivedWeight {
  enum Kind : uint32_t {
    conv = 0,    // params {M, CG, KH, KW, G, VW}: [M][CG][KH][KW] -> [G][CG*KH*KW][MGP], MGP = MG rounded up to VW
    matrix = 1,  // params {K, N, trans, NP}: [K][N] (trans: [N][K]) -> [K][NP], zero padded
    count = 2
  };
  int32_t value = 0;  // the initializer's value id
  uint32_t kind = conv;
  std::vector<int64_t> params;
};

// Applies a transform to an initializer (float32 or float16). Throws Error(data_loss) when
// the tensor does not fit the recipe.
std::vector<float> derive_weight(const DerivedWeight& d, const Tensor& t);

// IEEE binary16 bits to float (exact).
float half_bits_to_float(uint16_t h);

struct Launch {
  uint32_t program = 0;  // index into KernelSchedule::programs
  std::vector<ArgRef> args;
  uint32_t work_dims = 1;
  uint64_t global[3] = {1, 1, 1};
  uint64_t local[3] = {0, 0, 0};  // all zero: let the driver choose
  std::string node;               // for messages
};

// Where a value's bytes live at execute time.
struct Binding {
  enum Kind : uint8_t { none = 0, input = 1, initializer = 2, slot = 3, alias = 4, output = 5, constant = 6 };
  Kind kind = none;
  int32_t index = 0;  // input position / (initializer: the value id) / slot / aliased value / output position / aux index
};

// A graph output whose bytes are copied at the end (aliases, inputs, initializers, repeats).
struct OutputCopy {
  int32_t output = 0;  // output position
  int32_t value = 0;   // value id to copy from
};

// The highest rank the kernels index: their shape arguments hold six dims (D0..D5), so lowering
// refuses a value of higher rank and a serialized schedule holding one is corrupt.
inline constexpr int kMaxKernelRank = 6;

struct TensorSpec {
  int32_t elem_type = SY_ELEM_FLOAT32;
  std::vector<int64_t> dims;
  uint64_t bytes = 0;
};

struct KernelSchedule {
  uint32_t num_nodes = 0, num_values = 0;
  std::vector<ProgramSpec> programs;
  std::vector<Launch> launches;
  std::vector<Binding> bindings;          // one per value
  std::vector<uint64_t> slot_bytes;       // intermediate buffers (reused by liveness)
  std::vector<std::vector<uint8_t>> aux;  // small constant buffers (matmul batch offsets)
  std::vector<TensorSpec> inputs, outputs;
  std::vector<OutputCopy> copies;
  std::vector<DerivedWeight> derived;     // transformed initializers (ArgRef::derived)
  GraphFingerprint fingerprint;           // the graph lowered (restore refuses any other)
};

// Serialized form (little endian): magic "SYOCLX", format version, device identity, the schedule
// and program binaries, the graph's fingerprint. parse() throws Error(data_loss) on anything
// malformed, and on another format version (the plan cache then compiles again).
// Version 3 added the fingerprint.
inline constexpr uint32_t kFormatVersion = 3;
std::string serialize_schedule(const KernelSchedule& schedule, const std::string& device_identity);
KernelSchedule parse_schedule(const void* data, size_t size, const std::string& device_identity);

}  // namespace switchyard::opencl
