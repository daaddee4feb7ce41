// Reference kernels: constants, identity and control flow.
#include "switchyard/reference.h"
#include "switchyard/reference_util.h"

namespace switchyard::reference {

namespace {

void constant(KernelContext& ctx) {
  const Node& n = ctx.node();
  if (n.attributes.size() != 1)
    throw_error(StatusCode::invalid_argument, "Constant needs exactly one value attribute");
  const Attribute& a = n.attributes[0];
  if (a.name == "value" || a.name == "sparse_value") {
    if (a.type != Attribute::Type::tensor) throw_error(StatusCode::invalid_argument, "Constant value is not a tensor");
    ctx.set_output(0, a.t);
  } else if (a.name == "value_float") {
    ctx.set_output(0, Tensor::scalar<float>(ElementType::float32, a.f));
  } else if (a.name == "value_floats") {
    ctx.set_output(0, Tensor::from_vector<float>(ElementType::float32, {static_cast<int64_t>(a.floats.size())}, a.floats));
  } else if (a.name == "value_int") {
    ctx.set_output(0, Tensor::scalar<int64_t>(ElementType::int64, a.i));
  } else if (a.name == "value_ints") {
    ctx.set_output(0, Tensor::from_vector<int64_t>(ElementType::int64, {static_cast<int64_t>(a.ints.size())}, a.ints));
  } else if (a.name == "value_string") {
    ctx.set_output(0, Tensor::from_strings({}, {a.s}));
  } else if (a.name == "value_strings") {
    ctx.set_output(0, Tensor::from_strings({static_cast<int64_t>(a.strings.size())}, a.strings));
  } else {
    throw_error(StatusCode::invalid_argument, "Constant has unknown attribute '" + a.name + "'");
  }
}

void identity(KernelContext& ctx) { ctx.set_output_value(0, ctx.input_value(0)); }

}  // namespace

void register_control_kernels(KernelRegistry& r) {
  r.add("", "Constant", constant);
  r.add("", "Identity", identity);
}

}  // namespace switchyard::reference
