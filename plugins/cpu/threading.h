// CPU plugin: how many threads each kernel runs with. A parallel region costs a few
// microseconds to start and join (more when the machine is busy), so a kernel whose work is small
// runs on one thread: on 2 cores, ppocr's classifier (hundreds of kernels of a few microseconds)
// ran 2x slower with 2 threads than with 1 while its convolutions were all split. Big kernels get
// every thread the executable has.
#pragma once

#include "switchyard/graph.h"

namespace switchyard::cpu {

// Floating-point work of `node` by its static shapes (convolutions and matrix products: 2 flops
// per multiply-add; other operators: 16 per output element, as they are bound by memory); 0 when
// the shapes are not known.
double node_work(const Node& node, const Graph& graph);

// `max_threads` for work of at least the parallel threshold (SWITCHYARD_CPU_PARALLEL_MIN_WORK,
// default 2e6), else 1. Unknown work (0) keeps `max_threads`.
int threads_for_work(double work, int max_threads);

// Sets OpenMP's thread count on this thread while alive: oneDNN primitives choose their parallel
// split when created, so a kernel is created under the count it will run with.
class OmpThreads {
 public:
  explicit OmpThreads(int threads);
  ~OmpThreads();
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace switchyard::cpu
