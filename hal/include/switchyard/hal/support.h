// One device's answer to "can you run this node?", the one type from the plugin ABI's
// sy_support_report up through the device registry, the range check, the partitioner, plan reports
// and the plan cache.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "switchyard/plugin_abi.h"

namespace switchyard {

// Why a node is or is not run. The first seven are the ABI's sy_support_reason; `range` is the
// host's own refusal: the range check found values a narrow-float device cannot hold.
enum class SupportReason { supported, op, element_type, shape, attribute, size_limit, other, range };

struct NodeSupport {
  SupportReason reason = SupportReason::other;
  std::string message;         // why not ("Resize mode=cubic unsupported"), or a note when supported
  std::string implementation;  // how the device runs it ("onednn", "reference"), when supported

  bool supported() const { return reason == SupportReason::supported; }
  // One answer as a plugin reported it through sy_support_report.node (NULL strings read as "").
  static NodeSupport from_abi(sy_support_reason reason, const char* message, const char* implementation);
};

// "" for supported; "op", "element type", "shape", "attribute", "size limit", "other", "range".
const char* support_reason_name(SupportReason reason);
// The inverse of support_reason_name; nullopt for any other text.
std::optional<SupportReason> support_reason_from_name(std::string_view name);

}  // namespace switchyard
