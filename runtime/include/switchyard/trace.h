// Chrome trace event files (open in Perfetto or chrome://tracing): loads labelled "cached" or
// "prepare and cache", compile, each prediction, each segment on its device's track, transfers.
// Overlapping spans on one track are spread over numbered lanes ("cpu:0 (2)") so the viewer
// shows them side by side.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "switchyard/partitioned_model.h"

namespace switchyard {

class TraceRecorder {
 public:
  TraceRecorder();
  // A complete span on a track ("load", "predictions", "cpu:0", "transfers").
  void span(const std::string& track, const std::string& name, const std::string& category,
            std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end,
            const std::map<std::string, std::string>& args = {});
  // Segments and transfers of one prediction (PredictControl::events).
  void prediction_events(const std::vector<PredictEvent>& events, const std::string& prediction);
  // {"traceEvents": [...], "displayTimeUnit": "ms"}
  std::string to_json() const;
  Status write(const std::string& file) const;

 private:
  struct Event {
    std::string name, category;
    int tid;
    double ts_us, dur_us;
    std::map<std::string, std::string> args;
  };
  int lane_for(const std::string& track, double start_us, double end_us);

  std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mu_;
  std::vector<Event> events_;
  std::map<int, std::string> thread_names_;
  std::map<std::string, std::vector<std::pair<int, double>>> lanes_;  // track -> (tid, busy until)
  int next_tid_ = 1;
};

}  // namespace switchyard
