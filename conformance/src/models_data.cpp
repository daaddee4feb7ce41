// The models suite's cases and their data (models_data.h).
#include "models_data.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "switchyard/runtime/model_inputs.h"
#include "switchyard/runtime/shape_inference.h"
#include "switchyard/runtime/tensor_io.h"

namespace switchyard::conformance {

namespace fs = std::filesystem;

namespace {

bool is_case_folder(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) && fs::is_regular_file(dir / "model.onnx", ec);
}

// The cases one folder holds: itself when it is a node-test case, else its case sub-folders and
// its *.onnx files, sorted by name.
std::vector<ModelCase> cases_in(const fs::path& dir) {
  if (is_case_folder(dir)) return {{dir.filename().string(), dir / "model.onnx", true}};
  std::vector<ModelCase> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (is_case_folder(p)) found.push_back({p.filename().string(), p / "model.onnx", true});
    else if (entry.is_regular_file(ec) && p.extension() == ".onnx") found.push_back({p.stem().string(), p, false});
  }
  std::sort(found.begin(), found.end(), [](const ModelCase& a, const ModelCase& b) { return a.name < b.name; });
  return found;
}

}  // namespace

Result<std::vector<ModelCase>> list_model_cases(const std::vector<fs::path>& dirs) {
  if (dirs.empty())
    return Status(StatusCode::invalid_argument, "the models suite needs folders of models: --models DIR (e.g. ../shared/models)");
  std::vector<ModelCase> cases;
  std::set<std::string> names;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status(StatusCode::not_found, "models folder '" + dir.string() + "' not found");
    std::vector<ModelCase> found = cases_in(dir);
    if (found.empty())
      return Status(StatusCode::not_found, "models folder '" + dir.string() +
                                               "' holds no models (*.onnx files, or node-test folders with model.onnx and test_data_set_*)");
    for (auto& c : found) {
      if (names.count(c.name)) c.name = dir.filename().string() + "/" + c.name;  // the same model name in two folders
      names.insert(c.name);
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

namespace {

// PREFIX<k>.pb files of `dir`, in k order.
std::vector<fs::path> numbered_files(const fs::path& dir, const std::string& prefix) {
  std::map<int, fs::path> by_index;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0 || entry.path().extension() != ".pb") continue;
    const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - 3);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    by_index[std::stoi(digits)] = entry.path();
  }
  std::vector<fs::path> files;
  for (auto& [k, path] : by_index) files.push_back(path);
  return files;
}

std::string kind_hint(const Graph& graph, int32_t value) {
  switch (graph.values[static_cast<size_t>(value)].type.kind) {
    case ValueType::Kind::tensor: return "tensor";
    case ValueType::Kind::sequence: return "sequence";
    case ValueType::Kind::optional: return "optional";
    default: return "";
  }
}

// The values in `files`, read as the kinds of the graph values `ids` declare.
Result<std::vector<Value>> read_values(const std::vector<fs::path>& files, const Graph& graph, const std::vector<int32_t>& ids) {
  std::vector<Value> values;
  for (size_t i = 0; i < files.size(); ++i) {
    auto v = load_value_pb(files[i], i < ids.size() ? kind_hint(graph, ids[i]) : "");
    if (!v.ok()) return v.status().with_context(files[i].string());
    values.push_back(std::move(v).value());
  }
  return values;
}

// Inputs (PREFIX input_K.pb) and expected outputs (PREFIX output_K.pb) found in `dir`.
Result<DataSet> read_data_set(const fs::path& dir, const std::string& prefix, const Graph& graph, std::string where) {
  const std::vector<fs::path> in_files = numbered_files(dir, prefix + "input_"), out_files = numbered_files(dir, prefix + "output_");
  if (in_files.size() != graph.inputs.size())
    return Status(StatusCode::invalid_argument, where + ": " + std::to_string(in_files.size()) + " input files for " +
                                                    std::to_string(graph.inputs.size()) + " graph inputs");
  if (!out_files.empty() && out_files.size() != graph.outputs.size())
    return Status(StatusCode::invalid_argument, where + ": " + std::to_string(out_files.size()) + " output files for " +
                                                    std::to_string(graph.outputs.size()) + " graph outputs");
  DataSet set{std::move(where), {}, {}};
  SY_ASSIGN_OR_RETURN(set.inputs, read_values(in_files, graph, graph.inputs));
  SY_ASSIGN_OR_RETURN(set.expected, read_values(out_files, graph, graph.outputs));
  return set;
}

std::vector<fs::path> data_set_folders(const fs::path& case_dir) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(case_dir, ec))
    if (entry.is_directory(ec) && entry.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(entry.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

template <typename T>
void fill_uniform(Tensor& t, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-0.5, 0.5);
  for (int64_t i = 0; i < t.numel(); ++i) t.mutable_data<T>()[i] = static_cast<T>(uniform(rng));
}

}  // namespace

Result<std::vector<Value>> seeded_inputs(const Graph& graph, uint64_t seed) {
  std::string unresolved;
  (void)default_input_shapes(graph, {}, nullptr, &unresolved);
  if (!unresolved.empty())
    return Status(StatusCode::unsupported, "input " + unresolved +
                                               " has symbolic dims beyond the batch dim, so no inputs can be generated: give them beside "
                                               "the model (NAME_input_K.pb) or as a node-test folder");
  SY_ASSIGN_OR_RETURN(auto inputs, generate_inputs(graph));
  std::mt19937_64 rng(seed);
  for (auto& v : inputs) {
    if (v.tensor.type() == ElementType::float32) fill_uniform<float>(v.tensor, rng);
    if (v.tensor.type() == ElementType::float64) fill_uniform<double>(v.tensor, rng);
  }
  return inputs;
}

Result<std::vector<DataSet>> case_data_sets(const ModelCase& c, const Model& model, uint64_t seed) {
  const Graph& graph = model.graph;
  const fs::path dir = c.model_file.parent_path();
  std::vector<DataSet> sets;
  if (c.node_test_layout) {
    for (const auto& set_dir : data_set_folders(dir)) {
      SY_ASSIGN_OR_RETURN(DataSet set, read_data_set(set_dir, "", graph, set_dir.filename().string()));
      sets.push_back(std::move(set));
    }
    if (sets.empty()) return Status(StatusCode::not_found, dir.string() + " holds model.onnx but no test_data_set_* folder");
    return sets;
  }
  const std::string prefix = c.model_file.stem().string() + "_";
  if (!numbered_files(dir, prefix + "input_").empty()) {
    SY_ASSIGN_OR_RETURN(DataSet set, read_data_set(dir, prefix, graph, "inputs " + prefix + "input_*.pb"));
    sets.push_back(std::move(set));
    return sets;
  }
  SY_ASSIGN_OR_RETURN(auto inputs, seeded_inputs(graph, seed));
  sets.push_back({"inputs from seed " + std::to_string(seed), std::move(inputs), {}});
  return sets;
}

}  // namespace switchyard::conformance
