// CPU plugin: oneDNN kernels (Conv, Gemm, MatMul, pooling, ...). Filled in by the oneDNN work.
#include "../fast_kernel.h"

namespace switchyard::cpu {

void append_onednn_providers(std::vector<FastKernelProvider>& out) { (void)out; }

}  // namespace switchyard::cpu
