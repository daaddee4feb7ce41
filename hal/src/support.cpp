#include "switchyard/hal/support.h"


namespace switchyard {

namespace {

constexpr SupportReason kReasons[] = {SupportReason::supported, SupportReason::op,         SupportReason::element_type,
                                      SupportReason::shape,     SupportReason::attribute,  SupportReason::size_limit,
                                      SupportReason::other,     SupportReason::range};

SupportReason from_abi_reason(sy_support_reason r) {
  switch (r) {
    case SY_SUPPORTED: return SupportReason::supported;
    case SY_UNSUPPORTED_OP: return SupportReason::op;
    case SY_UNSUPPORTED_ELEMENT_TYPE: return SupportReason::element_type;
    case SY_UNSUPPORTED_SHAPE: return SupportReason::shape;
    case SY_UNSUPPORTED_ATTRIBUTE: return SupportReason::attribute;
    case SY_UNSUPPORTED_SIZE_LIMIT: return SupportReason::size_limit;
    default: return SupportReason::other;  // SY_UNSUPPORTED_OTHER, and values from a newer ABI
  }
}

}  // namespace

NodeSupport NodeSupport::from_abi(sy_support_reason reason, const char* message, const char* implementation) {
  NodeSupport s;
  s.reason = from_abi_reason(reason);
  s.message = message ? message : "";
  s.implementation = implementation ? implementation : "";
  return s;
}

const char* support_reason_name(SupportReason reason) {
  switch (reason) {
    case SupportReason::supported: return "";
    case SupportReason::op: return "op";
    case SupportReason::element_type: return "element type";
    case SupportReason::shape: return "shape";
    case SupportReason::attribute: return "attribute";
    case SupportReason::size_limit: return "size limit";
    case SupportReason::other: return "other";
    case SupportReason::range: return "range";
  }
  return "other";
}

std::optional<SupportReason> support_reason_from_name(std::string_view name) {
  for (SupportReason r : kReasons)
    if (name == support_reason_name(r)) return r;
  return std::nullopt;
}

}  // namespace switchyard
