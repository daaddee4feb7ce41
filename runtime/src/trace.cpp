// Chrome trace event output.
#include "switchyard/trace.h"

#include <cstdio>
#include <fstream>

#include "switchyard/json.h"

namespace switchyard {

TraceRecorder::TraceRecorder() : origin_(std::chrono::steady_clock::now()) {}

int TraceRecorder::lane_for(const std::string& track, double start_us, double end_us) {
  auto& lanes = lanes_[track];
  for (auto& [tid, busy_until] : lanes) {
    if (start_us >= busy_until) {
      busy_until = end_us;
      return tid;
    }
  }
  int tid = next_tid_++;
  lanes.emplace_back(tid, end_us);
  thread_names_[tid] = lanes.size() == 1 ? track : track + " (" + std::to_string(lanes.size()) + ")";
  return tid;
}

void TraceRecorder::span(const std::string& track, const std::string& name, const std::string& category,
                         std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end,
                         const std::map<std::string, std::string>& args) {
  std::lock_guard<std::mutex> lock(mu_);
  double ts = std::chrono::duration<double, std::micro>(start - origin_).count();
  double dur = std::max(0.0, std::chrono::duration<double, std::micro>(end - start).count());
  events_.push_back({name, category, lane_for(track, ts, ts + dur), ts, dur, args});
}

void TraceRecorder::prediction_events(const std::vector<PredictEvent>& events, const std::string& prediction) {
  for (const auto& e : events) {
    if (e.kind == PredictEvent::Kind::segment)
      span(e.device, "segment " + e.name, "segment", e.start, e.end, {{"prediction", prediction}});
    else
      span("transfers", e.name + " " + e.device, "transfer", e.start, e.end, {{"prediction", prediction}, {"route", e.device}});
  }
}

namespace {
std::string fixed(double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}
}  // namespace

std::string TraceRecorder::to_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n";
  out += "  {\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 0, \"args\": {\"name\": \"switchyard\"}}";
  for (const auto& [tid, name] : thread_names_)
    out += ",\n  {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": " + std::to_string(tid) +
           ", \"args\": {\"name\": " + json::quote(name) + "}}";
  for (const auto& e : events_) {
    out += ",\n  {\"name\": " + json::quote(e.name) + ", \"cat\": " + json::quote(e.category) + ", \"ph\": \"X\", \"pid\": 1, \"tid\": " +
           std::to_string(e.tid) + ", \"ts\": " + fixed(e.ts_us) + ", \"dur\": " + fixed(e.dur_us) + ", \"args\": {";
    bool first = true;
    for (const auto& [k, v] : e.args) {
      out += std::string(first ? "" : ", ") + json::quote(k) + ": " + json::quote(v);
      first = false;
    }
    out += "}}";
  }
  return out + "\n]}\n";
}

Status TraceRecorder::write(const std::string& file) const {
  std::ofstream out(file);
  out << to_json();
  if (!out) return Status(StatusCode::io_error, "cannot write trace '" + file + "'");
  return {};
}

}  // namespace switchyard
