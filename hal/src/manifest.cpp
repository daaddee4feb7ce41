// Plugin manifest parsing (yaml-cpp).
#include "switchyard/hal/manifest.h"

#include "switchyard/hal/mapped_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <regex>

namespace switchyard {

namespace {
constexpr size_t kMaxManifestBytes = size_t{1} << 20;
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
                                                    ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return Status(StatusCode::invalid_argument, where + ": expected a mapping with name, library, abi_version");
  Manifest m;
  m.file = file;
  try {
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
      return Status(StatusCode::invalid_argument, where + ": abi_version '" + abi + "' must look like 1 or 1.0");
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
