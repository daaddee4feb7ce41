// The Switchyard NPU simulator's graph compiler and executor (behind the Level Zero driver
// surface in driver.cpp). A model of a mid-range NPU: float16 and int8 arithmetic, static
// shapes, an on-chip memory limit, weights converted and reordered at compile, a versioned
// native blob. Nothing here depends on Switchyard's own libraries: the driver reads the
// serialised segment (common/segment_format.h) like any vendor's driver would.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common/segment_format.h"

namespace npusim {

// Failure with a Level Zero result code and a message for zeSwitchyardGetLastError.
struct NpuError : std::runtime_error {
  NpuError(int32_t code, const std::string& m) : std::runtime_error(m), code(code) {}
  int32_t code;  // ze_result_t
};

struct Settings {
  uint64_t memory_limit_bytes = 32ull << 20;  // on-chip SRAM model (SWITCHYARD_NPUSIM_MEMORY_MB)
  int threads = 2;                            // host threads that simulate the NPU tiles
  uint32_t blob_version = 5;                  // native blob format written and accepted (4: BN, Sum, Sub, Div, HardSigmoid, Flatten; 5: word checksum)
  std::string compiler_version = "npusim-compiler 0.5";
  // Performance model of a mid-range NPU (figures from settings, not measured).
  double tops_int8 = 4.0;
  double tflops_f16 = 2.0;
  double watts = 5.0;
  double bandwidth_gbps = 32.0;
};
// Read once from the environment (SWITCHYARD_NPUSIM_MEMORY_MB, _THREADS, _TOPS_INT8, _TFLOPS_F16, _WATTS).
const Settings& settings();

struct NodeSupport {
  uint32_t reason = 0;  // sy_support_reason numbering
  std::string message;
};
// Pure per-node query against the segment.
std::vector<NodeSupport> query_support(const switchyard::zeseg::Segment& seg, uint64_t memory_limit);

// NPU element types (ONNX numbering): f16 = 10, i8 = 3, u8 = 2, i32 = 6, f32 = 1 (graph I/O only).
struct TensorDesc {
  uint8_t dt = 10;
  uint8_t loc = 0;     // 0 arena, 1 weights
  uint8_t layout = 0;  // 0 row-major; 1 conv blocked [g][O/B][I/g][kh][kw][B]; 2 matrix transposed [N][K]
  uint8_t io_dt = 0;   // graph inputs/outputs: element type at the boundary
  std::vector<int64_t> dims;
  uint64_t offset = 0;  // bytes into the arena or the weights section
  uint64_t bytes = 0;   // NPU storage bytes
  int64_t numel() const {
    int64_t n = 1;
    for (auto d : dims) n *= d;
    return n;
  }
};

struct Op {
  uint16_t code = 0;
  std::vector<int32_t> in, out;  // tensor ids (-1 = absent)
  std::vector<int64_t> i;
  std::vector<float> f;
};

struct Program {
  std::vector<TensorDesc> tensors;
  std::vector<Op> ops;
  std::vector<int32_t> inputs, outputs;
  std::string weights;  // converted, reordered weights (the on-chip weight section)
  uint64_t arena_bytes = 0;
  uint64_t op_count = 0;  // arithmetic operations per execution (2 per multiply-add)
  uint64_t weights_bytes() const { return weights.size(); }
};

// Compiles (convert, reorder, plan); throws NpuError.
Program compile(const switchyard::zeseg::Segment& seg, uint64_t memory_limit);
std::string to_blob(const Program& p);
// Validates magic, version and checksum; throws NpuError(UNSUPPORTED_VERSION / INVALID_NATIVE_BINARY).
Program from_blob(const void* data, size_t size);

// A loaded program: weights decoded for the host simulation.
class Executor {
 public:
  explicit Executor(Program p);
  const Program& program() const { return p_; }
  // Runs once; inputs/outputs are packed row-major in the arguments' boundary types. `stop`
  // (may be empty) is asked before each operation: once it answers true the remaining operations
  // are skipped, the outputs are left unwritten and run returns false.
  bool run(const void* const* inputs, void* const* outputs, const std::function<bool()>& stop = {}) const;

 private:
  Program p_;
  std::vector<float> wf_;           // weights as exact float values
  std::vector<int64_t> woff_;       // tensor id -> index into wf_ (weights only)
};

float round_f16(float x);
uint16_t f32_to_f16_bits(float x);
float f16_bits_to_f32(uint16_t h);

}  // namespace npusim
