// Chrome trace event output.
#include "switchyard/runtime/trace.h"

#include <cstdio>
#include <cstring>
#include <fstream>

#include "switchyard/common/json.h"

namespace switchyard {

TraceRecorder::TraceRecorder(size_t max_events) : origin_(std::chrono::steady_clock::now()), max_events_(max_events) {}

size_t TraceRecorder::recorded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

size_t TraceRecorder::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

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

TraceRecorder::Text TraceRecorder::store(std::string_view text) {
  text = text.substr(0, kBlockBytes);
  if (block_used_ + text.size() > kBlockBytes) {
    blocks_.push_back(std::make_unique<char[]>(kBlockBytes));
    block_used_ = 0;
  }
  std::memcpy(blocks_.back().get() + block_used_, text.data(), text.size());
  Text t{static_cast<uint32_t>(blocks_.size() - 1), static_cast<uint32_t>(block_used_), static_cast<uint32_t>(text.size())};
  block_used_ += text.size();
  return t;
}

std::string_view TraceRecorder::view(const Text& t) const { return {blocks_[t.block].get() + t.offset, t.size}; }

void TraceRecorder::span(const std::string& track, const std::string& name, const std::string& category,
                         std::chrono::steady_clock::time_point start, std::chrono::steady_clock::time_point end,
                         const std::map<std::string, std::string>& args) {
  std::string members;
  for (const auto& [k, v] : args) members += (members.empty() ? "" : ", ") + json::quote(k) + ": " + json::quote(v);
  std::lock_guard<std::mutex> lock(mu_);
  if (events_.size() >= max_events_) {
    ++dropped_;
    return;
  }
  if (events_.capacity() == 0) events_.reserve(std::min<size_t>(max_events_, 4096));
  double ts = std::chrono::duration<double, std::micro>(start - origin_).count();
  double dur = std::max(0.0, std::chrono::duration<double, std::micro>(end - start).count());
  const int tid = lane_for(track, ts, ts + dur);
  events_.push_back({store(json::quote(name)), store(json::quote(category)), store(members), tid, ts, dur});
}

void TraceRecorder::prediction_events(const std::vector<PredictEvent>& events, const std::string& prediction) {
  for (const auto& e : events) {
    if (e.kind == PredictEvent::Kind::segment)
      span(e.device, "segment " + e.name, "segment", e.start, e.end, {{"prediction", prediction}});
    else if (e.kind == PredictEvent::Kind::node)
      span(e.device + " operators", e.name, "operator", e.start, e.end,
           {{"prediction", prediction}, {"segment", "#" + std::to_string(e.segment)}, {"implementation", e.implementation}});
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
  if (dropped_ > 0)
    out += ",\n  {\"name\": \"trace truncated\", \"ph\": \"i\", \"s\": \"g\", \"pid\": 1, \"tid\": 0, \"ts\": 0, \"args\": "
           "{\"kept_events\": " + std::to_string(events_.size()) + ", \"dropped_events\": " + std::to_string(dropped_) + "}}";
  for (const auto& [tid, name] : thread_names_)
    out += ",\n  {\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": " + std::to_string(tid) +
           ", \"args\": {\"name\": " + json::quote(name) + "}}";
  for (const auto& e : events_) {
    out += ",\n  {\"name\": ";
    out += view(e.name);
    out += ", \"cat\": ";
    out += view(e.category);
    out += ", \"ph\": \"X\", \"pid\": 1, \"tid\": " + std::to_string(e.tid) + ", \"ts\": " + fixed(e.ts_us) + ", \"dur\": " +
           fixed(e.dur_us) + ", \"args\": {";
    out += view(e.args);
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
