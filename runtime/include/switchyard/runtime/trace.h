// Chrome trace event files (open in Perfetto or chrome://tracing): loads labelled "cached" or
// "prepare and cache", compile, each prediction, each segment on its device's track, transfers, and
// the operators a device timed itself on "<device> operators" (sy_profiler).
// Overlapping spans on one track are spread over numbered lanes ("cpu:0 (2)") so the viewer
// shows them side by side.
//
// Bounded: at most `max_events` spans are kept (the first ones); later spans are counted, not
// stored, and the file says how many were dropped. A span costs about 100 bytes (a fixed-size
// record plus its name and arguments, already formatted, in 1 MiB text blocks), so a recorder
// holds at most ~10 MB at the default bound. Recording allocates only when a block fills: small
// long-lived allocations interleaved with a prediction's temporaries would pin the heap's pages
// and grow the process far beyond the trace's own size.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/runtime/partitioned_model.h"

namespace switchyard {

class TraceRecorder {
 public:
  static constexpr size_t kDefaultMaxEvents = 100000;
  explicit TraceRecorder(size_t max_events = kDefaultMaxEvents);
  // A complete span on a track ("load", "predictions", "cpu:0", "transfers").
  void span(const std::string& track, const std::string& name, const std::string& category,
            std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end,
            const std::map<std::string, std::string>& args = {});
  // Segments and transfers of one prediction (PredictControl::events).
  void prediction_events(const std::vector<PredictEvent>& events, const std::string& prediction);
  // {"traceEvents": [...], "displayTimeUnit": "ms"}
  std::string to_json() const;
  Status write(const std::string& file) const;
  size_t recorded() const;
  size_t dropped() const;

 private:
  struct Text {  // a slice of the text blocks
    uint32_t block, offset, size;
  };
  struct Event {
    Text name, category, args;  // args: the JSON object's members, already formatted
    int32_t tid;
    double ts_us, dur_us;
  };
  static constexpr size_t kBlockBytes = size_t{1} << 20;
  int lane_for(const std::string& track, double start_us, double end_us);
  Text store(std::string_view text);
  std::string_view view(const Text& t) const;

  std::chrono::steady_clock::time_point origin_;
  size_t max_events_;
  size_t dropped_ = 0;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = kBlockBytes;
  std::map<int, std::string> thread_names_;
  std::map<std::string, std::vector<std::pair<int, double>>> lanes_;  // track -> (tid, busy until)
  int next_tid_ = 1;
};

}  // namespace switchyard
