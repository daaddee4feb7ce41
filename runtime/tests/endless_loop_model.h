// Test models for the per-prediction limits, as ONNX bytes: a Loop that would run 10^12 iterations.
#pragma once

#include <string>

namespace switchyard::test {

// x: float32[1024] -> Loop(M = 10^12, cond = true, x) with body y_out = y + 1 -> y: float32[1024].
// `with_scan`: the body also emits y_out as a scan output, stacked into ys: float32[N, 1024], so
// memory grows by 4 KiB per iteration until a limit stops it.
std::string endless_loop_onnx(bool with_scan);

}  // namespace switchyard::test
