// Fuzz target: the plugin manifest parser (parse_manifest_text, which parse_manifest calls on the
// mapped file). Nothing is loaded: the parser only names the library.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "switchyard/hal/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = switchyard::parse_manifest_text(std::string_view(reinterpret_cast<const char*>(data), size), "/plugins/fuzz.yaml");
  if (m.ok()) (void)m->settings.size();
  return 0;
}
