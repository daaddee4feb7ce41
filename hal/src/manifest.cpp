// Plugin manifest parsing (yaml-cpp).
#include "switchyard/hal/manifest.h"

#include "switchyard/hal/mapped_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <string>
#include <vector>

namespace switchyard {

namespace {
constexpr size_t kMaxManifestBytes = size_t{1} << 20;
const std::vector<std::string> kKnownKeys = {"name", "library", "abi_version", "device_kinds", "settings"};

// Edits (insertions, deletions, substitutions) between two short strings.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown key 'setings' (did you mean 'settings'?); it is ignored" for keys the host does not read.
std::vector<std::string> unknown_key_warnings(const YAML::Node& root) {
  std::vector<std::string> warnings;
  for (const auto& kv : root) {
    const std::string key = kv.first.IsScalar() ? kv.first.as<std::string>() : "?";
    if (std::find(kKnownKeys.begin(), kKnownKeys.end(), key) != kKnownKeys.end()) continue;
    std::string nearest;
    size_t best = 3;  // suggest only within two edits
    for (const auto& known : kKnownKeys)
      if (size_t d = edit_distance(key, known); d < best) best = d, nearest = known;
    warnings.push_back("unknown key '" + key + "'" + (nearest.empty() ? "" : " (did you mean '" + nearest + "'?)") +
                       "; it is ignored (known keys: name, library, abi_version, device_kinds, settings)");
  }
  return warnings;
}

// YAML indents with spaces only; yaml-cpp's messages for a tab do not say so.
std::string tab_hint(std::string_view text) {
  size_t line = 1, start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string_view l = text.substr(start, end - start);
    const size_t indent = l.find_first_not_of(" \t");
    if (l.substr(0, indent == std::string_view::npos ? l.size() : indent).find('\t') != std::string_view::npos)
      return " (line " + std::to_string(line) + " is indented with a tab; YAML indents with spaces only)";
    start = end + 1;
    ++line;
  }
  return "";
}
}  // namespace

Result<Manifest> parse_manifest(const std::filesystem::path& file) {
  const std::string where = "manifest '" + file.string() + "'";
  auto mapped = MappedFile::open(file, where);
  if (!mapped.ok()) return mapped.status();
  return parse_manifest_text(std::string_view(reinterpret_cast<const char*>((*mapped)->data()), (*mapped)->size()), file);
}

Result<Manifest> parse_manifest_text(std::string_view text, const std::filesystem::path& file) {
  const std::string where = "manifest '" + file.string() + "'";
  if (text.size() > kMaxManifestBytes)
    return Status(StatusCode::invalid_argument, where + ": " + std::to_string(text.size()) + " bytes, more than a manifest may have (" +
                                                    std::to_string(kMaxManifestBytes) + ")");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": malformed YAML at line " + std::to_string(e.mark.line + 1) +
                                                    ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg + tab_hint(text));
  }
  if (!root.IsMap()) return Status(StatusCode::invalid_argument, where + ": expected a mapping with name, library, abi_version");
  Manifest m;
  m.file = file;
  try {
    m.warnings = unknown_key_warnings(root);
    auto field = [&](const char* key) -> Result<std::string> {
      YAML::Node n = root[key];
      if (!n) return Status(StatusCode::invalid_argument, where + ": missing field '" + key + "'");
      if (!n.IsScalar()) return Status(StatusCode::invalid_argument, where + ": field '" + key + "' must be a scalar");
      return n.as<std::string>();
    };
    SY_ASSIGN_OR_RETURN(m.name, field("name"));
    static const std::regex name_re("^[a-z][a-z0-9_]*$");
    if (!std::regex_match(m.name, name_re))
      return Status(StatusCode::invalid_argument, where + ": name '" + m.name + "' must match [a-z][a-z0-9_]*");
    SY_ASSIGN_OR_RETURN(std::string library, field("library"));
    if (library.empty()) return Status(StatusCode::invalid_argument, where + ": field 'library' is empty");
    std::filesystem::path lib(library);
    m.library = lib.is_absolute() ? lib : file.parent_path() / lib;
    SY_ASSIGN_OR_RETURN(std::string abi, field("abi_version"));
    static const std::regex abi_re("^([0-9]+)(\\.([0-9]+))?$");
    std::smatch match;
    if (!std::regex_match(abi, match, abi_re))
      return Status(StatusCode::invalid_argument, where + ": abi_version '" + abi + "' must look like 2 or 2.0");
    auto number = [&](const std::string& digits, uint32_t* out) {
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
      return ec == std::errc() && end == digits.data() + digits.size();
    };
    m.abi_minor = 0;
    if (!number(match[1], &m.abi_major) || (match[3].matched && !number(match[3], &m.abi_minor)))
      return Status(StatusCode::invalid_argument, where + ": abi_version '" + abi + "' has a part larger than 4294967295");
    if (YAML::Node kinds = root["device_kinds"]; kinds && !kinds.IsNull()) {
      static const std::vector<std::string> known = {"cpu", "gpu", "npu", "other"};
      if (!kinds.IsSequence()) return Status(StatusCode::invalid_argument, where + ": 'device_kinds' must be a list such as [cpu, gpu]");
      for (const auto& k : kinds) {
        std::string kind = k.IsScalar() ? k.as<std::string>() : "";
        if (std::find(known.begin(), known.end(), kind) == known.end())
          return Status(StatusCode::invalid_argument, where + ": device_kinds entry '" + kind + "' is not one of cpu, gpu, npu, other");
        m.device_kinds.push_back(kind);
      }
    }
    if (YAML::Node settings = root["settings"]; settings && !settings.IsNull()) {  // `settings:` with only comments: none
      if (!settings.IsMap()) return Status(StatusCode::invalid_argument, where + ": 'settings' must be a mapping");
      for (const auto& kv : settings) {
        if (!kv.second.IsScalar())
          return Status(StatusCode::invalid_argument, where + ": setting '" + kv.first.as<std::string>() + "' must be a scalar");
        m.settings.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
      }
    }
  } catch (const YAML::Exception& e) {
    return Status(StatusCode::invalid_argument, where + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status(StatusCode::invalid_argument, where + ": " + e.what());
  }
  return m;
}

}  // namespace switchyard
