// switchyard_opencl_gemm_compare: times a square float32 GEMM (default 1024) with CLBlast's
// Sgemm and with the plugin's own tiled matmul kernel on the first OpenCL device, and checks
// that both agree. Used to choose the plugin's GEMM (docs/opencl.md).
//
// usage: switchyard_opencl_gemm_compare [N] [repeats]
#include <clblast_c.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cl_device.h"
#include "kernels_cl.h"

using namespace switchyard::opencl;
using Clock = std::chrono::steady_clock;

static double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 1024;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  cl_platform_id platform;
  cl_device_id device;
  cl_uint count = 0;
  if (clGetPlatformIDs(1, &platform, &count) != CL_SUCCESS || count == 0) return std::puts("no OpenCL platform"), 1;
  if (clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, &count) != CL_SUCCESS || count == 0) return std::puts("no device"), 1;
  auto d = open_device(platform, device);
  std::printf("device: %s (%s)\n", d->name.c_str(), d->driver_version.c_str());
  const size_t bytes = sizeof(float) * n * n;
  std::vector<float> a(n * n), b(n * n), c1(n * n), c2(n * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7) % 13) / 13.0f, b[i] = static_cast<float>((i * 5) % 11) / 11.0f;
  cl_mem A = create_buffer(*d, bytes, a.data()), B = create_buffer(*d, bytes, b.data()), C = create_buffer(*d, bytes);
  const double gflop = 2.0 * n * n * static_cast<double>(n) * 1e-9;

  // CLBlast: the first call builds and tunes-in its kernels for this device (per process).
  std::vector<double> t_blast;
  double first_blast = 0;
  for (int r = 0; r <= reps; ++r) {
    cl_event ev = nullptr;
    auto t0 = Clock::now();
    CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n, n, 1.0f, A, 0, n, B, 0, n, 0.0f, C,
                                        0, n, &d->queue, &ev);
    if (st != CLBlastSuccess) return std::printf("CLBlastSgemm failed: %d\n", st), 1;
    clWaitForEvents(1, &ev);
    clReleaseEvent(ev);
    (r == 0 ? first_blast : (t_blast.push_back(0), t_blast.back())) = ms_since(t0);
  }
  clEnqueueReadBuffer(d->queue, C, CL_TRUE, 0, bytes, c1.data(), 0, nullptr, nullptr);

  // The plugin's kernel, specialised for the shape as the lowering does.
  auto t_build = Clock::now();
  const char* src[2] = {kernel_prologue(), kernel_source(Source::matmul)};
  cl_int err;
  cl_program prog = clCreateProgramWithSource(d->context, 2, src, nullptr, &err);
  const int vw = 8, tm = 8;  // as the lowering chooses for this shape
  std::string opts = "-DM=" + std::to_string(n) + " -DN=" + std::to_string(n) + " -DK=" + std::to_string(n) +
                     " -DTRANS_A=0 -DTRANS_B=0 -DALPHA=1.0f -DBETA=0.0f -DHAS_C=0 -DCSM=0 -DCSN=0 -DVW=" + std::to_string(vw) +
                     " -DTM=" + std::to_string(tm) + " -DB_PACKED=0 -DNP=" + std::to_string((n + vw - 1) / vw * vw) + " -cl-std=CL1.2";
  check(clBuildProgram(prog, 1, &d->id, opts.c_str(), nullptr, nullptr), "clBuildProgram");
  cl_kernel k = clCreateKernel(prog, "matmul", &err);
  check(err, "clCreateKernel");
  int offs[2] = {0, 0};
  cl_mem O = create_buffer(*d, sizeof offs, offs);
  cl_mem args[] = {A, B, A, C, O};
  for (cl_uint i = 0; i < 5; ++i) clSetKernelArg(k, i, sizeof(cl_mem), &args[i]);
  const double build_ms = ms_since(t_build);
  size_t global[3] = {static_cast<size_t>((n + vw - 1) / vw), static_cast<size_t>((n + tm - 1) / tm), 1};
  std::vector<double> t_own;
  double first_own = 0;
  for (int r = 0; r <= reps; ++r) {
    auto t0 = Clock::now();
    check(clEnqueueNDRangeKernel(d->queue, k, 3, nullptr, global, nullptr, 0, nullptr, nullptr), "enqueue");
    clFinish(d->queue);
    (r == 0 ? first_own : (t_own.push_back(0), t_own.back())) = ms_since(t0);
  }
  clEnqueueReadBuffer(d->queue, C, CL_TRUE, 0, bytes, c2.data(), 0, nullptr, nullptr);
  double max_err = 0;
  for (size_t i = 0; i < c1.size(); ++i) max_err = std::max(max_err, static_cast<double>(std::fabs(c1[i] - c2[i])) / (1.0 + std::fabs(c1[i])));
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("sgemm %d x %d x %d, median of %d after a first call\n", n, n, n, reps);
  std::printf("  CLBlast: first call %8.1f ms, then %8.1f ms (%.1f GFLOP/s)\n", first_blast, med(t_blast), gflop / (med(t_blast) * 1e-3));
  std::printf("  own:     build %6.1f ms, first call %8.1f ms, then %8.1f ms (%.1f GFLOP/s)\n", build_ms, first_own, med(t_own),
              gflop / (med(t_own) * 1e-3));
  std::printf("  max relative difference: %.2g\n", max_err);
  clReleaseKernel(k);
  clReleaseProgram(prog);
  for (cl_mem m : {A, B, C, O}) clReleaseMemObject(m);
  return 0;
}
