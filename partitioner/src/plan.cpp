// Plan printing (table, JSON, dot) and serialisation.
#include <cstdio>
#include <map>
#include <sstream>

#include "switchyard/common/json.h"
#include "switchyard/partitioner/plan.h"

namespace switchyard {

namespace {
std::string fmt_ms(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", us / 1000);
  return buf;
}
std::string fmt_bytes(double b) {
  char buf[32];
  if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.2f MB", b / 1e6);
  else if (b >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f B", b);
  return buf;
}
std::string node_label(const Graph& g, int32_t n) {
  const Node& node = g.nodes[static_cast<size_t>(n)];
  return node.name.empty() ? node.op_type + "#" + std::to_string(n) : node.name;
}
std::string value_label(const Graph& g, int32_t v) { return v >= 0 ? g.value_name(v) : "?"; }
}  // namespace

std::string Plan::summary() const {
  std::map<std::string, std::pair<int, int>> per_device;  // segments, nodes
  for (const auto& s : segments) {
    per_device[s.device].first++;
    per_device[s.device].second += static_cast<int>(s.nodes.size());
  }
  std::string out = std::to_string(segments.size()) + (segments.size() == 1 ? " segment: " : " segments: ");
  bool first = true;
  for (const auto& d : devices) {
    auto it = per_device.find(d);
    if (it == per_device.end()) continue;
    out += std::string(first ? "" : ", ") + d + " " + std::to_string(it->second.second) + " nodes";
    if (it->second.first > 1) out += " in " + std::to_string(it->second.first) + " segments";
    first = false;
  }
  double bytes = 0;
  int cross = 0;
  for (const auto& t : transfers)
    if (t.from_device != "host" && t.to_device != "host") {
      bytes += t.bytes;
      ++cross;
    }
  out += "; " + std::to_string(cross) + " transfer" + (cross == 1 ? "" : "s") + " between devices (" + fmt_bytes(bytes) + ")";
  out += "; estimated " + fmt_ms(estimated_us) + " ms";
  return out;
}

std::string Plan::to_table(const Graph& g) const {
  std::ostringstream s;
  s << "policy: " << policy << "\n" << summary() << "\n\nsegments:\n";
  for (const auto& seg : segments) {
    s << "  #" << seg.id << "  " << seg.device << "  " << seg.nodes.size() << " nodes  est " << fmt_ms(seg.estimated_us) << " ms";
    if (!seg.depends_on.empty()) {
      s << "  after";
      for (int32_t d : seg.depends_on) s << " #" << d;
    }
    s << "\n";
  }
  s << "\ntransfers:\n";
  if (transfers.empty()) s << "  (none)\n";
  for (const auto& t : transfers) {
    s << "  " << value_label(g, t.value) << "  " << t.from_device;
    if (t.from_segment >= 0) s << " #" << t.from_segment;
    s << " -> " << t.to_device;
    if (t.to_segment >= 0) s << " #" << t.to_segment;
    s << "  " << fmt_bytes(t.bytes) << "  est " << fmt_ms(t.estimated_us) << " ms\n";
  }
  s << "\nplacements:\n";
  for (const auto& p : placements) {
    const Node& n = g.nodes[static_cast<size_t>(p.node)];
    char head[160];
    std::snprintf(head, sizeof head, "  %-28s %-22s #%-3d ", node_label(g, p.node).substr(0, 28).c_str(), n.op_type.substr(0, 22).c_str(), p.segment);
    s << head << p.reason << "\n";
  }
  return s.str();
}

std::string Plan::to_json(const Graph& g) const {
  std::ostringstream s;
  s << "{\n  \"policy\": " << json::quote(policy) << ",\n  \"summary\": " << json::quote(summary())
    << ",\n  \"estimated_ms\": " << json::number(estimated_us / 1000) << ",\n  \"devices\": [";
  for (size_t i = 0; i < devices.size(); ++i) s << (i ? ", " : "") << json::quote(devices[i]);
  s << "],\n  \"segments\": [";
  for (size_t i = 0; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    s << (i ? "," : "") << "\n    {\"id\": " << seg.id << ", \"device\": " << json::quote(seg.device)
      << ", \"nodes\": " << seg.nodes.size() << ", \"estimated_ms\": " << json::number(seg.estimated_us / 1000) << ", \"depends_on\": [";
    for (size_t k = 0; k < seg.depends_on.size(); ++k) s << (k ? ", " : "") << seg.depends_on[k];
    s << "], \"inputs\": [";
    for (size_t k = 0; k < seg.inputs.size(); ++k) s << (k ? ", " : "") << json::quote(value_label(g, seg.inputs[k]));
    s << "], \"outputs\": [";
    for (size_t k = 0; k < seg.outputs.size(); ++k) s << (k ? ", " : "") << json::quote(value_label(g, seg.outputs[k]));
    s << "]}";
  }
  s << "\n  ],\n  \"transfers\": [";
  for (size_t i = 0; i < transfers.size(); ++i) {
    const auto& t = transfers[i];
    s << (i ? "," : "") << "\n    {\"value\": " << json::quote(value_label(g, t.value)) << ", \"from\": " << json::quote(t.from_device)
      << ", \"from_segment\": " << t.from_segment << ", \"to\": " << json::quote(t.to_device) << ", \"to_segment\": " << t.to_segment
      << ", \"bytes\": " << json::number(t.bytes) << ", \"estimated_ms\": " << json::number(t.estimated_us / 1000) << "}";
  }
  s << "\n  ],\n  \"placements\": [";
  for (size_t i = 0; i < placements.size(); ++i) {
    const auto& p = placements[i];
    const Node& n = g.nodes[static_cast<size_t>(p.node)];
    s << (i ? "," : "") << "\n    {\"node\": " << json::quote(node_label(g, p.node)) << ", \"op\": " << json::quote(n.op_type)
      << ", \"device\": " << json::quote(p.device) << ", \"segment\": " << p.segment
      << ", \"estimated_ms\": " << json::number(p.estimated_us / 1000) << ", \"reason\": " << json::quote(p.reason) << "}";
  }
  s << "\n  ]\n}\n";
  return s.str();
}

std::string Plan::to_dot(const Graph& g) const {
  static const char* kColours[] = {"#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69", "#fccde5", "#d9d9d9"};
  std::map<std::string, const char*> colour;
  for (size_t i = 0; i < devices.size(); ++i) colour[devices[i]] = kColours[i % 8];
  auto esc = [](const std::string& x) {
    std::string o;
    for (char c : x) o += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return o;
  };
  std::ostringstream s;
  s << "digraph plan {\n  rankdir=TB;\n  node [shape=box, style=filled, fontname=\"Helvetica\", fontsize=10];\n";
  s << "  label=\"" << esc(summary()) << "\";\n";
  std::vector<int32_t> producer(g.values.size(), -1);
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int32_t o : g.nodes[n].outputs)
      if (o >= 0) producer[static_cast<size_t>(o)] = static_cast<int32_t>(n);
  for (const auto& seg : segments) {
    s << "  subgraph cluster_" << seg.id << " {\n    label=\"#" << seg.id << " " << esc(seg.device) << "\";\n    style=filled; color=\""
      << colour[seg.device] << "\"; fillcolor=\"" << colour[seg.device] << "40\";\n";
    for (int32_t n : seg.nodes)
      s << "    n" << n << " [label=\"" << esc(g.nodes[static_cast<size_t>(n)].op_type) << "\\n" << esc(node_label(g, n))
        << "\", fillcolor=\"" << colour[seg.device] << "\", tooltip=\"" << esc(placements[static_cast<size_t>(n)].reason) << "\"];\n";
    s << "  }\n";
  }
  std::map<int32_t, bool> cross;
  for (const auto& t : transfers)
    if (t.from_segment >= 0 && t.to_segment >= 0) cross[t.value] = true;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    for (int32_t v : g.nodes[n].inputs) {
      if (v < 0) continue;
      int32_t p = producer[static_cast<size_t>(v)];
      if (p < 0) continue;
      s << "  n" << p << " -> n" << n;
      if (cross.count(v)) s << " [color=red, penwidth=2, label=\"" << esc(g.value_name(v)) << "\", fontsize=8]";
      s << ";\n";
    }
  s << "}\n";
  return s.str();
}

// Text format, one record per line: "plan 1", "policy <text>", "device <id>",
// "segment <id> <device> <est> <deps,> <nodes,> <inputs,> <outputs,>",
// "transfer <value> <from_seg> <to_seg> <from_dev> <to_dev> <bytes> <est>",
// "place <node> <device> <segment> <est> <reason>", "total <est>".
std::string Plan::serialize() const {
  std::ostringstream s;
  s.precision(17);
  auto list = [&](const std::vector<int32_t>& v) {
    std::string o;
    for (size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + std::to_string(v[i]);
    return o.empty() ? std::string("-") : o;
  };
  s << "plan 1\npolicy " << policy << "\n";
  for (const auto& d : devices) s << "device " << d << "\n";
  for (const auto& seg : segments)
    s << "segment " << seg.id << " " << seg.device << " " << seg.estimated_us << " " << list(seg.depends_on) << " " << list(seg.nodes)
      << " " << list(seg.inputs) << " " << list(seg.outputs) << "\n";
  for (const auto& t : transfers)
    s << "transfer " << t.value << " " << t.from_segment << " " << t.to_segment << " " << t.from_device << " " << t.to_device << " "
      << t.bytes << " " << t.estimated_us << "\n";
  for (const auto& p : placements) {
    std::string r = p.reason;
    for (auto& c : r)
      if (c == '\n') c = ' ';
    s << "place " << p.node << " " << p.device << " " << p.segment << " " << p.estimated_us << " " << r << "\n";
  }
  s << "total " << estimated_us << "\n";
  return s.str();
}

Result<Plan> Plan::deserialize(const std::string& bytes, const Graph& g) {
  Plan p;
  std::istringstream in(bytes);
  std::string line;
  auto bad = [](const std::string& why) { return Status(StatusCode::data_loss, "serialized plan: " + why); };
  auto parse_list = [](const std::string& s, std::vector<int32_t>& out) -> bool {
    out.clear();
    if (s == "-") return true;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
      try {
        out.push_back(static_cast<int32_t>(std::stol(item)));
      } catch (const std::exception&) {
        return false;
      }
    }
    return true;
  };
  if (!std::getline(in, line) || line != "plan 1") return bad("unknown format version");
  bool total = false;
  try {
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      std::string kind;
      ls >> kind;
      if (kind == "policy") {
        p.policy = line.size() > 7 ? line.substr(7) : "";
      } else if (kind == "device") {
        std::string d;
        ls >> d;
        p.devices.push_back(d);
      } else if (kind == "segment") {
        Segment s;
        std::string deps, nodes, ins, outs;
        ls >> s.id >> s.device >> s.estimated_us >> deps >> nodes >> ins >> outs;
        if (!ls || !parse_list(deps, s.depends_on) || !parse_list(nodes, s.nodes) || !parse_list(ins, s.inputs) || !parse_list(outs, s.outputs))
          return bad("bad segment line");
        p.segments.push_back(std::move(s));
      } else if (kind == "transfer") {
        Transfer t;
        ls >> t.value >> t.from_segment >> t.to_segment >> t.from_device >> t.to_device >> t.bytes >> t.estimated_us;
        if (!ls) return bad("bad transfer line");
        p.transfers.push_back(t);
      } else if (kind == "place") {
        Placement pl;
        ls >> pl.node >> pl.device >> pl.segment >> pl.estimated_us;
        if (!ls) return bad("bad placement line");
        std::getline(ls, pl.reason);
        if (!pl.reason.empty() && pl.reason[0] == ' ') pl.reason.erase(0, 1);
        p.placements.push_back(std::move(pl));
      } else if (kind == "total") {
        ls >> p.estimated_us;
        total = true;
      } else if (!kind.empty()) {
        return bad("unknown record '" + kind + "'");
      }
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (!total) return bad("truncated (no total)");
  // Validate against the graph: every node placed once, indices in range, segments ordered.
  if (p.placements.size() != g.nodes.size()) return bad("placements do not match the graph's node count");
  std::vector<int> seen(g.nodes.size(), 0);
  for (size_t i = 0; i < p.segments.size(); ++i) {
    const Segment& s = p.segments[i];
    if (s.id != static_cast<int32_t>(i)) return bad("segments out of order");
    for (int32_t d : s.depends_on)
      if (d < 0 || d >= s.id) return bad("segment dependency out of order");
    for (int32_t n : s.nodes) {
      if (n < 0 || static_cast<size_t>(n) >= g.nodes.size()) return bad("node index out of range");
      seen[static_cast<size_t>(n)]++;
    }
    for (int32_t v : s.inputs)
      if (v < 0 || static_cast<size_t>(v) >= g.values.size()) return bad("value index out of range");
    for (int32_t v : s.outputs)
      if (v < 0 || static_cast<size_t>(v) >= g.values.size()) return bad("value index out of range");
  }
  for (int c : seen)
    if (c != 1) return bad("a node is not placed exactly once");
  return p;
}

}  // namespace switchyard
