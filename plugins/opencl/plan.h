// OpenCL plugin: the device-independent plan of a compiled graph. Lowering (lowering.cpp)
// turns a Graph into a Plan; the executable (executable.cpp) builds its programs and runs it.
// A Plan plus its program binaries is exactly what serialize() stores, so restore needs
// neither the lowering code nor the OpenCL C compiler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "switchyard/graph.h"
#include "switchyard/plugin_abi.h"

namespace switchyard::opencl {

// One program: a kernel template specialised by build options (-D macros).
struct ProgramSpec {
  uint32_t source = 0;        // Source enum (kernels_cl.h)
  std::string options;        // "-DN=1024 -DOP=1 ..."
  std::vector<uint8_t> binary;  // CL_PROGRAM_BINARIES for the device (filled after a build)
};

// A kernel argument.
struct ArgRef {
  enum Kind : uint8_t { value = 0, aux = 1 };
  Kind kind = value;
  int32_t index = 0;  // value id (resolved through the binding table) or aux buffer index
};

struct Launch {
  uint32_t program = 0;  // index into Plan::programs
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

struct TensorSpec {
  int32_t elem_type = SY_ELEM_FLOAT32;
  std::vector<int64_t> dims;
  uint64_t bytes = 0;
};

struct Plan {
  uint32_t num_nodes = 0, num_values = 0;
  std::vector<ProgramSpec> programs;
  std::vector<Launch> launches;
  std::vector<Binding> bindings;          // one per value
  std::vector<uint64_t> slot_bytes;       // intermediate buffers (reused by liveness)
  std::vector<std::vector<uint8_t>> aux;  // small constant buffers (matmul batch offsets)
  std::vector<TensorSpec> inputs, outputs;
  std::vector<OutputCopy> copies;
};

// Serialized form (little endian): magic "SYOCLX", format version, device identity, the plan
// and program binaries. parse() throws Error(data_loss) on anything malformed.
inline constexpr uint32_t kFormatVersion = 1;
std::string serialize_plan(const Plan& plan, const std::string& device_identity);
Plan parse_plan(const void* data, size_t size, const std::string& device_identity);

}  // namespace switchyard::opencl
