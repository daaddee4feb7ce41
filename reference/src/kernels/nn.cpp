// Reference kernels: nn family.
//
// Losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), recurrent layers
// (RNN, GRU, LSTM), attention (Attention, RotaryEmbedding, LinearAttention,
// CausalConvWithState, ai.onnx.preview FlexAttention) and the training optimisers
// of ai.onnx.preview.training (Adagrad, Adam, Momentum).
//
// Every kernel reads its inputs as double, computes in double and writes the
// result back in the output's element type.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void bad(const std::string& msg) { throw_error(StatusCode::invalid_argument, msg); }

std::string shape_str(const Shape& s) { return shape_to_string(s); }

void require_float(const Tensor& t, const std::string& what) {
  if (!is_floating(t.type()) || element_bits(t.type()) < 16)
    throw_error(StatusCode::unsupported, what + " must be float16, bfloat16, float32 or float64, got " +
                                             std::string(element_type_name(t.type())));
}

void require_integer_index(const Tensor& t, const std::string& what) {
  if (t.type() != ElementType::int32 && t.type() != ElementType::int64)
    bad(what + " must be int32 or int64, got " + std::string(element_type_name(t.type())));
}

// Rounds v to the precision of a floating element type (what storing it would do).
double round_to(ElementType type, double v) {
  switch (type) {
    case ElementType::float32:
      return static_cast<double>(static_cast<float>(v));
    case ElementType::float16:
      return static_cast<double>(half_to_float(float_to_half(static_cast<float>(v))));
    case ElementType::bfloat16:
      return static_cast<double>(bfloat16_to_float(float_to_bfloat16(static_cast<float>(v))));
    default:
      return v;
  }
}

// Element count of a scratch buffer of doubles; refuses sizes that no input could justify.
size_t scratch_size(std::initializer_list<int64_t> dims) {
  constexpr int64_t kMaxElements = int64_t{1} << 30;  // 8 GiB of doubles
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) bad("negative dimension in an intermediate buffer");
    if (d != 0 && n > kMaxElements / d)
      throw_error(StatusCode::out_of_memory, "intermediate buffer of more than 2^30 elements refused");
    n *= d;
  }
  if (n > kMaxElements) throw_error(StatusCode::out_of_memory, "intermediate buffer of more than 2^30 elements refused");
  return static_cast<size_t>(n);
}

int64_t product(const Shape& s, size_t from = 0, size_t to = SIZE_MAX) {
  int64_t p = 1;
  for (size_t i = from; i < s.size() && i < to; ++i) p *= s[i];
  return p;
}

// Validates a positive-multiple head configuration.
void check_heads(int64_t q_heads, int64_t kv_heads, const std::string& op) {
  if (q_heads <= 0 || kv_heads <= 0) bad(op + ": head counts must be positive");
  if (q_heads % kv_heads != 0)
    bad(op + ": q_num_heads (" + std::to_string(q_heads) + ") must be a multiple of kv_num_heads (" +
        std::to_string(kv_heads) + ")");
}

// ---------------------------------------------------------------------------
// Losses
// ---------------------------------------------------------------------------

// NLL over x (shape xs = (N, C, d1..dk), values as double) with `target` (N, d1..dk).
Tensor nll_loss(const std::vector<double>& x, const Shape& xs, ElementType out_type, const Tensor& target,
                const Tensor* weight, std::optional<int64_t> ignore_index, const std::string& reduction,
                const std::string& op) {
  if (xs.size() < 2) bad(op + ": input must have rank >= 2 (N, C, ...), got " + shape_str(xs));
  require_integer_index(target, op + " target");
  Shape expected_target{xs[0]};
  for (size_t i = 2; i < xs.size(); ++i) expected_target.push_back(xs[i]);
  if (target.shape() != expected_target)
    bad(op + ": target shape " + shape_str(target.shape()) + " does not match input " + shape_str(xs) +
        " (expected " + shape_str(expected_target) + ")");
  const int64_t n_batch = xs[0], classes = xs[1], inner = product(xs, 2);
  if (weight) {
    if (weight->shape() != Shape{classes})
      bad(op + ": weight shape " + shape_str(weight->shape()) + " must be [C] = [" + std::to_string(classes) + "]");
  }
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    bad(op + ": reduction must be 'none', 'sum' or 'mean', got '" + reduction + "'");

  std::vector<double> loss(static_cast<size_t>(n_batch * inner), 0.0);
  double loss_sum = 0, weight_sum = 0;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      const int64_t flat = n * inner + d;
      const int64_t t = get_int64(target, flat);
      if (ignore_index && t == *ignore_index) continue;
      if (t < 0 || t >= classes)
        bad(op + ": target value " + std::to_string(t) + " is outside [0, " + std::to_string(classes) + ")");
      const double w = weight ? get_double(*weight, t) : 1.0;
      const double l = -x[static_cast<size_t>((n * classes + t) * inner + d)] * w;
      loss[static_cast<size_t>(flat)] = l;
      loss_sum += l;
      weight_sum += w;
    }
  }
  if (reduction == "none") return from_doubles(out_type, expected_target, loss);
  if (reduction == "sum") return from_doubles(out_type, {}, {loss_sum});
  return from_doubles(out_type, {}, {loss_sum / weight_sum});
}

std::optional<int64_t> ignore_index_attr(const KernelContext& ctx) {
  if (!ctx.has_attr("ignore_index")) return std::nullopt;
  return ctx.attr_int("ignore_index", 0);
}

void negative_log_likelihood_loss(KernelContext& ctx) {
  const Tensor& input = ctx.input(0);
  require_float(input, "NegativeLogLikelihoodLoss input");
  const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (weight && weight->type() != input.type()) bad("NegativeLogLikelihoodLoss: weight type differs from input type");
  ctx.set_output(0, nll_loss(to_doubles(input), input.shape(), input.type(), ctx.input(1), weight,
                             ignore_index_attr(ctx), ctx.attr_string("reduction", "mean"),
                             "NegativeLogLikelihoodLoss"));
}

void softmax_cross_entropy_loss(KernelContext& ctx) {
  const Tensor& scores = ctx.input(0);
  require_float(scores, "SoftmaxCrossEntropyLoss scores");
  const Shape& s = scores.shape();
  if (s.size() < 2) bad("SoftmaxCrossEntropyLoss: scores must have rank >= 2, got " + shape_str(s));
  const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (weight && weight->type() != scores.type()) bad("SoftmaxCrossEntropyLoss: weights type differs from scores type");
  // log_softmax along axis 1.
  const int64_t n_batch = s[0], classes = s[1], inner = product(s, 2);
  std::vector<double> x = to_doubles(scores);
  std::vector<double> logp(x.size());
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t d = 0; d < inner; ++d) {
      auto at = [&](int64_t c) { return static_cast<size_t>((n * classes + c) * inner + d); };
      double mx = -kInf;
      for (int64_t c = 0; c < classes; ++c) mx = std::max(mx, x[at(c)]);
      double sum = 0;
      for (int64_t c = 0; c < classes; ++c) sum += std::exp(x[at(c)] - mx);
      const double lse = mx + std::log(sum);
      for (int64_t c = 0; c < classes; ++c) logp[at(c)] = x[at(c)] - lse;
    }
  }
  ctx.set_output(0, nll_loss(logp, s, scores.type(), ctx.input(1), weight, ignore_index_attr(ctx),
                             ctx.attr_string("reduction", "mean"), "SoftmaxCrossEntropyLoss"));
  if (ctx.wants_output(1)) ctx.set_output(1, from_doubles(scores.type(), s, logp));
}

// ---------------------------------------------------------------------------
// Recurrent layers
// ---------------------------------------------------------------------------

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Activation {
  std::string name;  // lower case
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
    if (name == "tanh") return std::tanh(x);
    if (name == "relu") return x > 0 ? x : 0.0;
    if (name == "affine") return alpha * x + beta;
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "thresholdedrelu") return x > alpha ? x : 0.0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "hardsigmoid") return std::max(0.0, std::min(1.0, alpha * x + beta));
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1.0);
    if (name == "softsign") return x / (1.0 + std::fabs(x));
    if (name == "softplus") return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    return kNaN;  // unreachable: names are validated on parse
  }
};

// Activation functions of an RNN node: `per_direction` defaults, repeated for each direction.
// activation_alpha / activation_beta are consumed in order by the functions that take them.
std::vector<Activation> parse_activations(const KernelContext& ctx, const std::vector<std::string>& defaults,
                                          int64_t num_directions) {
  std::vector<std::string> names;
  if (const Attribute* a = ctx.node().attr("activations")) names = a->strings;
  const size_t need = defaults.size() * static_cast<size_t>(num_directions);
  if (names.empty()) {
    for (int64_t d = 0; d < num_directions; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  } else if (names.size() == defaults.size() && num_directions == 2) {
    std::vector<std::string> twice = names;
    twice.insert(twice.end(), names.begin(), names.end());
    names = twice;
  }
  if (names.size() != need)
    bad(ctx.node().op_type + ": expected " + std::to_string(need) + " activations, got " +
        std::to_string(names.size()));
  const std::vector<float> alphas = ctx.attr_floats("activation_alpha");
  const std::vector<float> betas = ctx.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<Activation> out;
  for (const std::string& n : names) {
    Activation act;
    act.name = lower(n);
    double da = 0, db = 0;
    bool uses_a = true, uses_b = false;
    if (act.name == "leakyrelu") da = 0.01;
    else if (act.name == "thresholdedrelu") da = 1.0;
    else if (act.name == "elu") da = 1.0;
    else if (act.name == "scaledtanh") { da = 1.0; db = 1.0; uses_b = true; }
    else if (act.name == "hardsigmoid") { da = 0.2; db = 0.5; uses_b = true; }
    else if (act.name == "affine") { da = 1.0; db = 0.0; uses_b = true; }
    else if (act.name == "sigmoid" || act.name == "tanh" || act.name == "relu" || act.name == "softsign" ||
             act.name == "softplus") uses_a = false;
    else throw_error(StatusCode::unsupported, ctx.node().op_type + ": unsupported activation '" + n + "'");
    act.alpha = uses_a && ai < alphas.size() ? alphas[ai++] : da;
    act.beta = uses_b && bi < betas.size() ? betas[bi++] : db;
    out.push_back(act);
  }
  return out;
}

enum class RnnKind { rnn, gru, lstm };

// Runs RNN / GRU / LSTM. Inputs: X, W, R, B, sequence_lens, initial_h (, initial_c, P for LSTM).
void recurrent(KernelContext& ctx, RnnKind kind) {
  const std::string op = ctx.node().op_type;
  const int64_t gates = kind == RnnKind::rnn ? 1 : kind == RnnKind::gru ? 3 : 4;
  const Tensor& X = ctx.input(0);
  const Tensor& W = ctx.input(1);
  const Tensor& R = ctx.input(2);
  require_float(X, op + " X");
  if (X.rank() != 3) bad(op + ": X must be rank 3, got " + shape_str(X.shape()));
  const int64_t layout = ctx.opset() >= 14 ? ctx.attr_int("layout", 0) : 0;
  if (layout != 0 && layout != 1) bad(op + ": layout must be 0 or 1");
  const int64_t seq = layout == 0 ? X.dim(0) : X.dim(1);
  const int64_t batch = layout == 0 ? X.dim(1) : X.dim(0);
  const int64_t input_size = X.dim(2);
  const std::string direction = ctx.attr_string("direction", "forward");
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    bad(op + ": direction must be forward, reverse or bidirectional, got '" + direction + "'");
  const int64_t dirs = direction == "bidirectional" ? 2 : 1;
  if (W.rank() != 3 || W.dim(0) != dirs || W.dim(2) != input_size || W.dim(1) % gates != 0)
    bad(op + ": W shape " + shape_str(W.shape()) + " does not match X " + shape_str(X.shape()) + " and direction");
  const int64_t hidden = W.dim(1) / gates;
  if (ctx.has_attr("hidden_size") && ctx.attr_int("hidden_size", 0) != hidden)
    bad(op + ": hidden_size attribute does not match W");
  if (R.shape() != Shape{dirs, gates * hidden, hidden})
    bad(op + ": R shape " + shape_str(R.shape()) + " must be " + shape_str({dirs, gates * hidden, hidden}));
  const ElementType type = X.type();
  if (W.type() != type || R.type() != type) bad(op + ": X, W and R must have the same type");

  std::vector<double> x = to_doubles(X), w = to_doubles(W), r = to_doubles(R);
  std::vector<double> bias(static_cast<size_t>(dirs * 2 * gates * hidden), 0.0);
  if (ctx.has_input(3)) {
    const Tensor& B = ctx.input(3);
    if (B.shape() != Shape{dirs, 2 * gates * hidden})
      bad(op + ": B shape " + shape_str(B.shape()) + " must be " + shape_str({dirs, 2 * gates * hidden}));
    bias = to_doubles(B);
  }
  std::vector<int64_t> lens(static_cast<size_t>(batch), seq);
  if (ctx.has_input(4)) {
    const Tensor& sl = ctx.input(4);
    if (sl.shape() != Shape{batch}) bad(op + ": sequence_lens must have shape [batch]");
    lens = to_int64s(sl);
    for (int64_t l : lens)
      if (l < 0 || l > seq) bad(op + ": sequence_lens value " + std::to_string(l) + " is outside [0, seq_length]");
  }
  // State layouts: [dirs][batch][hidden] internally.
  auto read_state = [&](size_t idx, const char* what) {
    std::vector<double> s(static_cast<size_t>(dirs * batch * hidden), 0.0);
    if (!ctx.has_input(idx)) return s;
    const Tensor& t = ctx.input(idx);
    const Shape want = layout == 0 ? Shape{dirs, batch, hidden} : Shape{batch, dirs, hidden};
    if (t.shape() != want) bad(op + ": " + what + " shape " + shape_str(t.shape()) + " must be " + shape_str(want));
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t h = 0; h < hidden; ++h) {
          const int64_t src = layout == 0 ? (d * batch + b) * hidden + h : (b * dirs + d) * hidden + h;
          s[static_cast<size_t>((d * batch + b) * hidden + h)] = get_double(t, src);
        }
    return s;
  };
  std::vector<double> h_state = read_state(5, "initial_h");
  std::vector<double> c_state;
  std::vector<double> peep(static_cast<size_t>(dirs * 3 * hidden), 0.0);
  if (kind == RnnKind::lstm) {
    c_state = read_state(6, "initial_c");
    if (ctx.has_input(7)) {
      const Tensor& P = ctx.input(7);
      if (P.shape() != Shape{dirs, 3 * hidden}) bad(op + ": P shape " + shape_str(P.shape()) + " must be [dirs, 3*hidden]");
      peep = to_doubles(P);
    }
  }
  std::vector<std::string> defaults = kind == RnnKind::rnn   ? std::vector<std::string>{"Tanh"}
                                      : kind == RnnKind::gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                             : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  const std::vector<Activation> acts = parse_activations(ctx, defaults, dirs);
  const bool has_clip = ctx.has_attr("clip");
  const double clip = ctx.attr_float("clip", 0.0f);
  if (has_clip && !(clip > 0)) bad(op + ": clip must be positive");
  const bool linear_before_reset = kind == RnnKind::gru && ctx.attr_int("linear_before_reset", 0) != 0;
  const bool input_forget = kind == RnnKind::lstm && ctx.attr_int("input_forget", 0) != 0;

  auto x_at = [&](int64_t t, int64_t b, int64_t i) {
    return x[static_cast<size_t>(layout == 0 ? (t * batch + b) * input_size + i : (b * seq + t) * input_size + i)];
  };
  auto clipped = [&](double v) { return has_clip ? std::max(-clip, std::min(clip, v)) : v; };

  std::vector<double> y(scratch_size({seq, dirs, batch, hidden}), 0.0);  // [seq][dirs][batch][hidden]
  const int64_t G = gates * hidden;
  std::vector<double> xw(static_cast<size_t>(G)), hr(static_cast<size_t>(G));
  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = direction == "reverse" || (direction == "bidirectional" && d == 1);
    const double* Wd = &w[static_cast<size_t>(d * G * input_size)];
    const double* Rd = &r[static_cast<size_t>(d * G * hidden)];
    const double* Wb = &bias[static_cast<size_t>(d * 2 * G)];
    const double* Rb = Wb + G;
    const double* Pd = &peep[static_cast<size_t>(d * 3 * hidden)];
    const Activation* f = &acts[static_cast<size_t>(d) * defaults.size()];
    for (int64_t b = 0; b < batch; ++b) {
      double* H = &h_state[static_cast<size_t>((d * batch + b) * hidden)];
      double* C = kind == RnnKind::lstm ? &c_state[static_cast<size_t>((d * batch + b) * hidden)] : nullptr;
      const int64_t len = lens[static_cast<size_t>(b)];
      for (int64_t step = 0; step < len; ++step) {
        const int64_t t = reverse ? len - 1 - step : step;
        // xw = X_t W^T + Wb ; hr = H_{t-1} R^T + Rb
        for (int64_t g = 0; g < G; ++g) {
          double s = Wb[g];
          for (int64_t i = 0; i < input_size; ++i) s += x_at(t, b, i) * Wd[g * input_size + i];
          xw[static_cast<size_t>(g)] = s;
          double u = Rb[g];
          for (int64_t j = 0; j < hidden; ++j) u += H[j] * Rd[g * hidden + j];
          hr[static_cast<size_t>(g)] = u;
        }
        std::vector<double> h_new(static_cast<size_t>(hidden));
        if (kind == RnnKind::rnn) {
          for (int64_t h = 0; h < hidden; ++h) h_new[static_cast<size_t>(h)] = f[0](clipped(xw[h] + hr[h]));
        } else if (kind == RnnKind::gru) {
          // Gate order z, r, h.
          std::vector<double> z(static_cast<size_t>(hidden)), rg(static_cast<size_t>(hidden));
          for (int64_t h = 0; h < hidden; ++h) {
            z[h] = f[0](clipped(xw[h] + hr[h]));
            rg[h] = f[0](clipped(xw[hidden + h] + hr[hidden + h]));
          }
          for (int64_t h = 0; h < hidden; ++h) {
            double pre;
            if (linear_before_reset) {
              pre = xw[2 * hidden + h] + rg[h] * hr[2 * hidden + h];
            } else {
              // (r . H_{t-1}) R_h^T + Rb_h
              double u = Rb[2 * hidden + h];
              for (int64_t j = 0; j < hidden; ++j) u += rg[j] * H[j] * Rd[(2 * hidden + h) * hidden + j];
              pre = xw[2 * hidden + h] + u;
            }
            const double hh = f[1](clipped(pre));
            h_new[h] = (1.0 - z[h]) * hh + z[h] * H[h];
          }
        } else {
          // Gate order i, o, f, c; peepholes P = [Pi, Po, Pf].
          std::vector<double> c_new(static_cast<size_t>(hidden));
          for (int64_t h = 0; h < hidden; ++h) {
            const double ig = f[0](clipped(xw[h] + hr[h] + Pd[h] * C[h]));
            const double fg = input_forget ? 1.0 - ig : f[0](clipped(xw[2 * hidden + h] + hr[2 * hidden + h] + Pd[2 * hidden + h] * C[h]));
            const double cg = f[1](clipped(xw[3 * hidden + h] + hr[3 * hidden + h]));
            c_new[h] = fg * C[h] + ig * cg;
            const double og = f[0](clipped(xw[hidden + h] + hr[hidden + h] + Pd[hidden + h] * c_new[h]));
            h_new[h] = og * f[2](c_new[h]);
          }
          for (int64_t h = 0; h < hidden; ++h) C[h] = c_new[h];
        }
        for (int64_t h = 0; h < hidden; ++h) {
          H[h] = h_new[h];
          y[static_cast<size_t>(((t * dirs + d) * batch + b) * hidden + h)] = h_new[h];
        }
      }
    }
  }
  if (ctx.wants_output(0)) {
    Shape ys = layout == 0 ? Shape{seq, dirs, batch, hidden} : Shape{batch, seq, dirs, hidden};
    Tensor Y = Tensor::allocate(type, ys);
    for (int64_t t = 0; t < seq; ++t)
      for (int64_t d = 0; d < dirs; ++d)
        for (int64_t b = 0; b < batch; ++b)
          for (int64_t h = 0; h < hidden; ++h) {
            const int64_t dst = layout == 0 ? ((t * dirs + d) * batch + b) * hidden + h : ((b * seq + t) * dirs + d) * hidden + h;
            set_double(Y, dst, y[static_cast<size_t>(((t * dirs + d) * batch + b) * hidden + h)]);
          }
    ctx.set_output(0, Y);
  }
  auto write_state = [&](const std::vector<double>& s) {
    Shape ss = layout == 0 ? Shape{dirs, batch, hidden} : Shape{batch, dirs, hidden};
    Tensor T = Tensor::allocate(type, ss);
    for (int64_t d = 0; d < dirs; ++d)
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t h = 0; h < hidden; ++h) {
          const int64_t dst = layout == 0 ? (d * batch + b) * hidden + h : (b * dirs + d) * hidden + h;
          set_double(T, dst, s[static_cast<size_t>((d * batch + b) * hidden + h)]);
        }
    return T;
  };
  if (ctx.wants_output(1)) ctx.set_output(1, write_state(h_state));
  if (kind == RnnKind::lstm && ctx.wants_output(2)) ctx.set_output(2, write_state(c_state));
}

void rnn(KernelContext& ctx) { recurrent(ctx, RnnKind::rnn); }
void gru(KernelContext& ctx) { recurrent(ctx, RnnKind::gru); }
void lstm(KernelContext& ctx) { recurrent(ctx, RnnKind::lstm); }

// ---------------------------------------------------------------------------
// Attention
// ---------------------------------------------------------------------------

// A dense 4-D array of doubles [d0][d1][d2][d3].
struct Array4 {
  int64_t d0 = 0, d1 = 0, d2 = 0, d3 = 0;
  std::vector<double> v;
  Array4() = default;
  Array4(int64_t a, int64_t b, int64_t c, int64_t d, double fill = 0.0)
      : d0(a), d1(b), d2(c), d3(d), v(scratch_size({a, b, c, d}), fill) {}
  double& at(int64_t a, int64_t b, int64_t c, int64_t d) { return v[static_cast<size_t>(((a * d1 + b) * d2 + c) * d3 + d)]; }
  double at(int64_t a, int64_t b, int64_t c, int64_t d) const {
    return v[static_cast<size_t>(((a * d1 + b) * d2 + c) * d3 + d)];
  }
  Shape shape() const { return {d0, d1, d2, d3}; }
};

// Reads a (B, H, S, D) tensor, or a (B, S, H*D) tensor split into `heads` heads.
Array4 read_heads(const Tensor& t, int64_t heads, const std::string& what) {
  if (t.rank() == 4) {
    Array4 a(t.dim(0), t.dim(1), t.dim(2), t.dim(3));
    a.v = to_doubles(t);
    return a;
  }
  if (t.rank() != 3) bad(what + " must be rank 3 or 4, got " + shape_str(t.shape()));
  if (heads <= 0) bad(what + ": rank-3 input needs a positive head count attribute");
  if (t.dim(2) % heads != 0)
    bad(what + ": hidden size " + std::to_string(t.dim(2)) + " is not divisible by " + std::to_string(heads) + " heads");
  const int64_t B = t.dim(0), S = t.dim(1), D = t.dim(2) / heads;
  Array4 a(B, heads, S, D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t d = 0; d < D; ++d) a.at(b, h, s, d) = get_double(t, ((b * S + s) * heads + h) * D + d);
  return a;
}

// Softmax along the last axis in place; a row that is all -inf becomes NaN (as exp(-inf - -inf)).
void softmax_rows(std::vector<double>& v, int64_t row) {
  if (row == 0) return;
  for (size_t off = 0; off < v.size(); off += static_cast<size_t>(row)) {
    double mx = -kInf;
    bool nan = false;
    for (int64_t j = 0; j < row; ++j) {
      if (std::isnan(v[off + j])) nan = true;
      mx = std::max(mx, v[off + j]);
    }
    if (nan) mx = kNaN;
    double sum = 0;
    for (int64_t j = 0; j < row; ++j) {
      v[off + j] = std::exp(v[off + j] - mx);
      sum += v[off + j];
    }
    for (int64_t j = 0; j < row; ++j) v[off + j] /= sum;
  }
}

Tensor tensor_from_array(ElementType type, const Array4& a) { return from_doubles(type, a.shape(), a.v); }

void attention(KernelContext& ctx) {
  const Tensor& Qt = ctx.input(0);
  const Tensor& Kt = ctx.input(1);
  const Tensor& Vt = ctx.input(2);
  require_float(Qt, "Attention Q");
  require_float(Kt, "Attention K");
  require_float(Vt, "Attention V");
  if (Qt.rank() != Kt.rank() || Qt.rank() != Vt.rank())
    bad("Attention: Q, K and V must have the same rank, got " + shape_str(Qt.shape()) + ", " + shape_str(Kt.shape()) +
        ", " + shape_str(Vt.shape()));
  const bool three_d = Qt.rank() == 3;
  const int64_t q_heads_attr = ctx.attr_int("q_num_heads", 0), kv_heads_attr = ctx.attr_int("kv_num_heads", 0);
  Array4 Q = read_heads(Qt, q_heads_attr, "Attention Q");
  Array4 K = read_heads(Kt, kv_heads_attr, "Attention K");
  Array4 V = read_heads(Vt, kv_heads_attr, "Attention V");
  const int64_t B = Q.d0, Hq = Q.d1, L = Q.d2, E = Q.d3;
  const int64_t Hkv = K.d1, Ev = V.d3;
  if (K.d0 != B || V.d0 != B) bad("Attention: batch sizes of Q, K and V differ");
  if (K.d3 != E) bad("Attention: Q head size " + std::to_string(E) + " differs from K head size " + std::to_string(K.d3));
  if (V.d1 != Hkv || V.d2 != K.d2) bad("Attention: K and V must have the same heads and sequence length");
  check_heads(Hq, Hkv, "Attention");

  // Past key / value are (B, Hkv, P, D); present = concat(past, current) along the sequence.
  int64_t past = 0;
  const bool has_past = ctx.has_input(4);
  if (has_past != ctx.has_input(5)) bad("Attention: past_key and past_value must be given together");
  Array4 Kp = K, Vp = V;
  if (has_past) {
    const Tensor& pk = ctx.input(4);
    const Tensor& pv = ctx.input(5);
    if (pk.rank() != 4 || pk.dim(0) != B || pk.dim(1) != Hkv || pk.dim(3) != E)
      bad("Attention: past_key shape " + shape_str(pk.shape()) + " does not match K");
    if (pv.rank() != 4 || pv.dim(0) != B || pv.dim(1) != Hkv || pv.dim(3) != Ev || pv.dim(2) != pk.dim(2))
      bad("Attention: past_value shape " + shape_str(pv.shape()) + " does not match V / past_key");
    past = pk.dim(2);
    Kp = Array4(B, Hkv, past + K.d2, E);
    Vp = Array4(B, Hkv, past + K.d2, Ev);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hkv; ++h) {
        for (int64_t s = 0; s < past + K.d2; ++s) {
          for (int64_t e = 0; e < E; ++e)
            Kp.at(b, h, s, e) = s < past ? get_double(pk, ((b * Hkv + h) * past + s) * E + e) : K.at(b, h, s - past, e);
          for (int64_t e = 0; e < Ev; ++e)
            Vp.at(b, h, s, e) = s < past ? get_double(pv, ((b * Hkv + h) * past + s) * Ev + e) : V.at(b, h, s - past, e);
        }
      }
  }
  const int64_t S = Kp.d2;

  // Additive bias (B, Hq, L, S).
  Array4 bias(B, Hq, L, S, 0.0);
  if (ctx.has_input(3)) {
    const Tensor& m = ctx.input(3);
    if (m.rank() < 2 || m.rank() > 4) bad("Attention: attn_mask must have rank 2, 3 or 4, got " + shape_str(m.shape()));
    if (m.type() != ElementType::boolean && !is_floating(m.type()))
      bad("Attention: attn_mask must be bool or floating point");
    const int64_t ms = m.shape().back();
    if (ms > S) bad("Attention: attn_mask last dimension " + std::to_string(ms) + " exceeds total sequence length " + std::to_string(S));
    Shape padded = m.shape();
    padded.back() = S;
    const Shape full{B, Hq, L, S};
    // Validate broadcastability against (B, Hq, L, S).
    for (size_t k = 0; k < padded.size(); ++k) {
      const int64_t md = padded[padded.size() - 1 - k], fd = full[3 - k];
      if (md != 1 && md != fd)
        bad("Attention: attn_mask shape " + shape_str(m.shape()) + " cannot broadcast to " + shape_str(full));
    }
    const std::vector<int64_t> map = broadcast_index_map(padded, full);
    const bool is_bool = m.type() == ElementType::boolean;
    for (size_t i = 0; i < bias.v.size(); ++i) {
      const int64_t pi = map[i];
      const int64_t row = pi / S, col = pi % S;
      double val;
      if (col >= ms) val = -kInf;  // padding past the mask's length
      else if (is_bool) val = get_int64(m, row * ms + col) ? 0.0 : -kInf;
      else val = get_double(m, row * ms + col);
      bias.v[i] = val;
    }
  }
  std::vector<int64_t> nonpad;
  if (ctx.has_input(6)) {
    const Tensor& np = ctx.input(6);
    if (np.shape() != Shape{B}) bad("Attention: nonpad_kv_seqlen must have shape [batch]");
    nonpad = to_int64s(np);
  }
  if (ctx.attr_int("is_causal", 0) != 0) {
    // Bottom-right aligned: query i sees key j iff j <= i + offset.
    for (int64_t b = 0; b < B; ++b) {
      const int64_t offset = has_past ? past : !nonpad.empty() ? nonpad[static_cast<size_t>(b)] - L : 0;
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t i = 0; i < L; ++i)
          for (int64_t j = 0; j < S; ++j)
            if (j > i + offset) bias.at(b, h, i, j) += -kInf;
    }
  }
  if (!nonpad.empty()) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t i = 0; i < L; ++i)
          for (int64_t j = 0; j < S; ++j)
            if (j >= nonpad[static_cast<size_t>(b)]) bias.at(b, h, i, j) += -kInf;
  }

  const double scale = ctx.has_attr("scale") ? ctx.attr_float("scale", 0.0f) : 1.0 / std::sqrt(static_cast<double>(E));
  const double softcap = ctx.attr_float("softcap", 0.0f);
  const int64_t mode = ctx.attr_int("qk_matmul_output_mode", 0);
  if (mode < 0 || mode > 3) bad("Attention: qk_matmul_output_mode must be 0..3");
  const int64_t group = Hq / Hkv;

  Array4 scores(B, Hq, L, S);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < S; ++j) {
          double s = 0;
          for (int64_t e = 0; e < E; ++e) s += Q.at(b, h, i, e) * Kp.at(b, h / group, j, e);
          scores.at(b, h, i, j) = s * scale;
        }
  Array4 qk_out;
  if (mode == 0) qk_out = scores;
  if (softcap > 0)
    for (double& s : scores.v) s = softcap * std::tanh(s / softcap);
  if (mode == 1) qk_out = scores;
  for (size_t i = 0; i < scores.v.size(); ++i) scores.v[i] += bias.v[i];
  if (mode == 2) qk_out = scores;
  softmax_rows(scores.v, S);
  if (mode == 3) qk_out = scores;

  Array4 Y(B, Hq, L, Ev);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t e = 0; e < Ev; ++e) {
          double s = 0;
          for (int64_t j = 0; j < S; ++j) s += scores.at(b, h, i, j) * Vp.at(b, h / group, j, e);
          Y.at(b, h, i, e) = s;
        }
  if (three_d) {
    Tensor out = Tensor::allocate(Qt.type(), {B, L, Hq * Ev});
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t h = 0; h < Hq; ++h)
          for (int64_t e = 0; e < Ev; ++e) set_double(out, ((b * L + i) * Hq + h) * Ev + e, Y.at(b, h, i, e));
    ctx.set_output(0, out);
  } else {
    ctx.set_output(0, tensor_from_array(Qt.type(), Y));
  }
  if (ctx.wants_output(1)) ctx.set_output(1, tensor_from_array(Kt.type(), Kp));
  if (ctx.wants_output(2)) ctx.set_output(2, tensor_from_array(Vt.type(), Vp));
  if (ctx.wants_output(3)) ctx.set_output(3, tensor_from_array(Qt.type(), qk_out));
}

void rotary_embedding(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& cos_cache = ctx.input(1);
  const Tensor& sin_cache = ctx.input(2);
  require_float(X, "RotaryEmbedding input");
  if (cos_cache.shape() != sin_cache.shape()) bad("RotaryEmbedding: cos_cache and sin_cache shapes differ");
  const bool interleaved = ctx.attr_int("interleaved", 0) != 0;
  const int64_t num_heads = ctx.attr_int("num_heads", 0);
  // Work in [batch][seq][heads][head_size] coordinates.
  int64_t B, Sq, H, D;
  if (X.rank() == 4) {
    B = X.dim(0); H = X.dim(1); Sq = X.dim(2); D = X.dim(3);
  } else if (X.rank() == 3) {
    if (num_heads <= 0) bad("RotaryEmbedding: rank-3 input needs the num_heads attribute");
    if (X.dim(2) % num_heads != 0) bad("RotaryEmbedding: hidden size is not divisible by num_heads");
    B = X.dim(0); Sq = X.dim(1); H = num_heads; D = X.dim(2) / num_heads;
  } else {
    bad("RotaryEmbedding: input must be rank 3 or 4, got " + shape_str(X.shape()));
  }
  int64_t rot = ctx.attr_int("rotary_embedding_dim", 0);
  if (rot == 0) rot = D;
  if (rot < 0 || rot > D || rot % 2 != 0) bad("RotaryEmbedding: rotary_embedding_dim must be even and <= head size");
  const int64_t half = rot / 2;
  // cos/sin lookup (b, s, k) -> flat index into the cache.
  std::vector<int64_t> pos;
  if (ctx.has_input(3)) {
    const Tensor& p = ctx.input(3);
    if (p.shape() != Shape{B, Sq}) bad("RotaryEmbedding: position_ids must have shape [batch, sequence]");
    pos = to_int64s(p);
    if (cos_cache.rank() != 2 || cos_cache.dim(1) != half)
      bad("RotaryEmbedding: with position_ids, caches must be [max_position, rotary_dim/2], got " +
          shape_str(cos_cache.shape()));
    for (int64_t v : pos)
      if (v < 0 || v >= cos_cache.dim(0)) bad("RotaryEmbedding: position id " + std::to_string(v) + " out of range");
  } else if (cos_cache.shape() != Shape{B, Sq, half}) {
    bad("RotaryEmbedding: without position_ids, caches must be [batch, sequence, rotary_dim/2], got " +
        shape_str(cos_cache.shape()));
  }
  auto cache_index = [&](int64_t b, int64_t s, int64_t k) {
    return pos.empty() ? (b * Sq + s) * half + k : pos[static_cast<size_t>(b * Sq + s)] * half + k;
  };
  auto flat = [&](int64_t b, int64_t s, int64_t h, int64_t d) {
    return X.rank() == 4 ? ((b * H + h) * Sq + s) * D + d : ((b * Sq + s) * H + h) * D + d;
  };
  Tensor out = X.clone();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < Sq; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t k = 0; k < half; ++k) {
          const double c = get_double(cos_cache, cache_index(b, s, k));
          const double sn = get_double(sin_cache, cache_index(b, s, k));
          const int64_t i1 = interleaved ? 2 * k : k, i2 = interleaved ? 2 * k + 1 : k + half;
          const double x1 = get_double(X, flat(b, s, h, i1)), x2 = get_double(X, flat(b, s, h, i2));
          set_double(out, flat(b, s, h, i1), c * x1 - sn * x2);
          set_double(out, flat(b, s, h, i2), sn * x1 + c * x2);
        }
  ctx.set_output(0, out);
}

// Depthwise causal 1-D convolution with a carried state (opset 27).
void causal_conv_with_state(KernelContext& ctx) {
  const Tensor& X = ctx.input(0);
  const Tensor& Wt = ctx.input(1);
  require_float(X, "CausalConvWithState input");
  if (X.rank() != 3) bad("CausalConvWithState: input must be rank 3 (batch, channels, length), got " + shape_str(X.shape()));
  const int64_t B = X.dim(0), C = X.dim(1), L = X.dim(2);
  if (Wt.rank() != 3 || Wt.dim(0) != C || Wt.dim(1) != 1 || Wt.dim(2) < 1)
    bad("CausalConvWithState: weight must be (channels, 1, k), got " + shape_str(Wt.shape()));
  const int64_t k = Wt.dim(2);
  const std::string activation = ctx.attr_string("activation", "none");
  if (activation != "none" && activation != "silu" && activation != "swish")
    bad("CausalConvWithState: activation must be none, silu or swish, got '" + activation + "'");
  std::vector<double> bias(static_cast<size_t>(C), 0.0);
  if (ctx.has_input(2)) {
    const Tensor& b = ctx.input(2);
    if (b.shape() != Shape{C}) bad("CausalConvWithState: bias must have shape [channels]");
    bias = to_doubles(b);
  }
  const int64_t P = L + k - 1;
  // Padded input (B, C, k-1+L): state then input.
  std::vector<double> padded(scratch_size({B, C, P}), 0.0);
  if (ctx.has_input(3)) {
    const Tensor& st = ctx.input(3);
    if (st.shape() != Shape{B, C, k - 1})
      bad("CausalConvWithState: past_state shape " + shape_str(st.shape()) + " must be " + shape_str({B, C, k - 1}));
    for (int64_t i = 0; i < B * C; ++i)
      for (int64_t j = 0; j < k - 1; ++j) padded[static_cast<size_t>(i * P + j)] = get_double(st, i * (k - 1) + j);
  }
  for (int64_t i = 0; i < B * C; ++i)
    for (int64_t j = 0; j < L; ++j) padded[static_cast<size_t>(i * P + k - 1 + j)] = get_double(X, i * L + j);
  Tensor out = Tensor::allocate(X.type(), X.shape());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t t = 0; t < L; ++t) {
        double s = bias[static_cast<size_t>(c)];
        for (int64_t j = 0; j < k; ++j)
          s += padded[static_cast<size_t>((b * C + c) * P + t + j)] * get_double(Wt, c * k + j);
        if (activation != "none") {
          s = round_to(X.type(), s);  // the convolution result is stored before the activation
          s = s / (1.0 + std::exp(-s));
        }
        set_double(out, (b * C + c) * L + t, s);
      }
  Tensor state = Tensor::allocate(X.type(), {B, C, k - 1});
  for (int64_t i = 0; i < B * C; ++i)
    for (int64_t j = 0; j < k - 1; ++j) set_double(state, i * (k - 1) + j, padded[static_cast<size_t>(i * P + L + j)]);
  ctx.set_output(0, out);
  if (ctx.wants_output(1)) ctx.set_output(1, state);
}

// Recurrent linear attention (opset 27): linear / gated / delta / gated_delta update rules.
void linear_attention(KernelContext& ctx) {
  const Tensor& q = ctx.input(0);
  const Tensor& k = ctx.input(1);
  const Tensor& v = ctx.input(2);
  require_float(q, "LinearAttention query");
  const std::string rule = ctx.attr_string("update_rule", "gated_delta");
  if (rule != "linear" && rule != "gated" && rule != "delta" && rule != "gated_delta")
    bad("LinearAttention: update_rule must be linear, gated, delta or gated_delta, got '" + rule + "'");
  const int64_t Hq = ctx.attr_int("q_num_heads", 0), Hkv = ctx.attr_int("kv_num_heads", 0);
  check_heads(Hq, Hkv, "LinearAttention");
  const bool gating = rule == "gated" || rule == "gated_delta";
  const bool delta = rule == "delta" || rule == "gated_delta";
  const bool has_decay = ctx.has_input(4), has_beta = ctx.has_input(5), has_erase = ctx.has_input(6);
  if (gating != has_decay) bad("LinearAttention: update_rule '" + rule + (gating ? "' requires" : "' forbids") + " decay");
  if (delta != has_beta) bad("LinearAttention: update_rule '" + rule + (delta ? "' requires" : "' forbids") + " beta");
  if (has_erase && !delta) bad("LinearAttention: update_rule '" + rule + "' forbids erase_gate");
  for (const Tensor* t : {&q, &k, &v})
    if (t->rank() != 3) bad("LinearAttention: query, key and value must be rank 3 (B, T, H*D)");
  const int64_t B = q.dim(0), T = q.dim(1);
  if (k.dim(0) != B || v.dim(0) != B || k.dim(1) != T || v.dim(1) != T)
    bad("LinearAttention: query, key and value batch / sequence sizes differ");
  Array4 Q = read_heads(q, Hq, "LinearAttention query");
  Array4 K = read_heads(k, Hkv, "LinearAttention key");
  Array4 V = read_heads(v, Hkv, "LinearAttention value");
  const int64_t dk = Q.d3, dv = V.d3;
  if (K.d3 != dk) bad("LinearAttention: query and key head sizes differ");
  const int64_t group = Hq / Hkv;

  // decay: (B, T, Hkv) per-head scalar or (B, T, Hkv*dk) per key dimension.
  Array4 decay;
  bool decay_per_dim = false;
  if (has_decay) {
    const Tensor& g = ctx.input(4);
    if (g.rank() != 3 || g.dim(0) != B || g.dim(1) != T) bad("LinearAttention: decay must be (B, T, ...)");
    if (g.dim(2) != Hkv && g.dim(2) != Hkv * dk)
      bad("LinearAttention: decay last dim must be kv_num_heads or kv_num_heads*d_k, got " + shape_str(g.shape()));
    decay = read_heads(g, Hkv, "LinearAttention decay");  // (B, Hkv, T, 1) or (B, Hkv, T, dk)
    decay_per_dim = decay.d3 > 1;
  }
  Array4 beta;
  if (has_beta) {
    const Tensor& bt = ctx.input(5);
    if (bt.rank() != 3 || bt.dim(0) != B || bt.dim(1) != T || (bt.dim(2) != Hkv && bt.dim(2) != 1))
      bad("LinearAttention: beta must be (B, T, kv_num_heads) or (B, T, 1), got " + shape_str(bt.shape()));
    beta = read_heads(bt, bt.dim(2), "LinearAttention beta");
  }
  Array4 erase;
  if (has_erase) {
    erase = read_heads(ctx.input(6), Hkv, "LinearAttention erase_gate");
    if (erase.d0 != B || erase.d2 != T || erase.d3 != dk) bad("LinearAttention: erase_gate must be (B, T, kv_num_heads*d_k)");
  }
  ElementType state_type = q.type();
  Array4 state(B, Hkv, dk, dv, 0.0);
  if (ctx.has_input(3)) {
    const Tensor& ps = ctx.input(3);
    if (ps.shape() != Shape{B, Hkv, dk, dv})
      bad("LinearAttention: past_state shape " + shape_str(ps.shape()) + " must be " + shape_str({B, Hkv, dk, dv}));
    state_type = ps.type();
    state.v = to_doubles(ps);
  }
  const double scale_attr = ctx.attr_float("scale", 0.0f);
  const double scale = scale_attr == 0.0 ? 1.0 / std::sqrt(static_cast<double>(dk)) : scale_attr;

  Array4 out(B, Hq, T, dv);
  std::vector<double> vt(static_cast<size_t>(dv));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hkv; ++h) {
        if (gating)
          for (int64_t d = 0; d < dk; ++d) {
            const double f = std::exp(decay.at(b, h, t, decay_per_dim ? d : 0));
            for (int64_t m = 0; m < dv; ++m) state.at(b, h, d, m) *= f;
          }
        for (int64_t m = 0; m < dv; ++m) vt[static_cast<size_t>(m)] = V.at(b, h, t, m);
        if (delta) {
          const double bb = beta.at(b, beta.d1 == 1 ? 0 : h, t, 0);
          for (int64_t m = 0; m < dv; ++m) {
            double retrieved = 0;
            for (int64_t d = 0; d < dk; ++d) {
              const double ke = has_erase ? erase.at(b, h, t, d) * K.at(b, h, t, d) : K.at(b, h, t, d);
              retrieved += state.at(b, h, d, m) * ke;
            }
            vt[static_cast<size_t>(m)] = bb * (vt[static_cast<size_t>(m)] - retrieved);
          }
        }
        for (int64_t d = 0; d < dk; ++d)
          for (int64_t m = 0; m < dv; ++m) state.at(b, h, d, m) += K.at(b, h, t, d) * vt[static_cast<size_t>(m)];
      }
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t m = 0; m < dv; ++m) {
          double s = 0;
          for (int64_t d = 0; d < dk; ++d) s += Q.at(b, h, t, d) * state.at(b, h / group, d, m);
          out.at(b, h, t, m) = scale * s;
        }
  }
  Tensor y = Tensor::allocate(q.type(), {B, T, Hq * dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < Hq; ++h)
        for (int64_t m = 0; m < dv; ++m) set_double(y, ((b * T + t) * Hq + h) * dv + m, out.at(b, h, t, m));
  ctx.set_output(0, y);
  if (ctx.wants_output(1)) ctx.set_output(1, tensor_from_array(state_type, state));
}

// Runs a FlexAttention modifier subgraph on `a`, passed as a tensor of `type`.
void apply_modifier(const KernelContext& ctx, const char* name, ElementType type, Array4& a) {
  const Attribute* attr = ctx.node().attr(name);
  if (!attr) return;
  if (attr->type != Attribute::Type::graph || !attr->g) bad(std::string("FlexAttention: ") + name + " must be a graph");
  std::vector<Value> outs = ctx.run_subgraph(*attr->g, {Value::of(from_doubles(type, a.shape(), a.v))});
  if (outs.size() != 1 || outs[0].kind != Value::Kind::tensor)
    bad(std::string("FlexAttention: ") + name + " must produce exactly one tensor");
  const Tensor& r = outs[0].tensor;
  if (r.shape() != a.shape())
    bad(std::string("FlexAttention: ") + name + " changed the shape " + shape_str(a.shape()) + " to " + shape_str(r.shape()));
  a.v = to_doubles(r);
}

void flex_attention(KernelContext& ctx) {
  const Tensor& Qt = ctx.input(0);
  const Tensor& Kt = ctx.input(1);
  const Tensor& Vt = ctx.input(2);
  require_float(Qt, "FlexAttention Q");
  if (Qt.rank() != 4 || Kt.rank() != 4 || Vt.rank() != 4) bad("FlexAttention: Q, K and V must be rank 4");
  Array4 Q = read_heads(Qt, 0, "FlexAttention Q"), K = read_heads(Kt, 0, "FlexAttention K"),
         V = read_heads(Vt, 0, "FlexAttention V");
  const int64_t B = Q.d0, Hq = Q.d1, L = Q.d2, E = Q.d3, Hkv = K.d1, S = K.d2, Ev = V.d3;
  if (K.d0 != B || V.d0 != B || K.d3 != E || V.d1 != Hkv || V.d2 != S)
    bad("FlexAttention: incompatible shapes Q " + shape_str(Q.shape()) + ", K " + shape_str(K.shape()) + ", V " +
        shape_str(V.shape()));
  check_heads(Hq, Hkv, "FlexAttention");
  const int64_t group = Hq / Hkv;
  const double scale = ctx.has_attr("scale") ? ctx.attr_float("scale", 0.0f) : 1.0 / std::sqrt(static_cast<double>(E));
  ElementType mod_type = Qt.type() == ElementType::float64 ? ElementType::float64 : ElementType::float32;
  if (ctx.has_attr("softmax_precision")) {
    auto t = element_type_from_int(static_cast<int32_t>(ctx.attr_int("softmax_precision", 1)));
    if (!t || !is_floating(*t)) bad("FlexAttention: softmax_precision must be a floating element type");
    mod_type = *t;
  }
  Array4 scores(B, Hq, L, S);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < S; ++j) {
          double s = 0;
          for (int64_t e = 0; e < E; ++e) s += Q.at(b, h, i, e) * K.at(b, h / group, j, e);
          scores.at(b, h, i, j) = s * scale;
        }
  apply_modifier(ctx, "score_mod", mod_type, scores);
  softmax_rows(scores.v, S);
  apply_modifier(ctx, "prob_mod", mod_type, scores);
  Array4 Y(B, Hq, L, Ev);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t e = 0; e < Ev; ++e) {
          double s = 0;
          for (int64_t j = 0; j < S; ++j) s += scores.at(b, h, i, j) * V.at(b, h / group, j, e);
          Y.at(b, h, i, e) = s;
        }
  ctx.set_output(0, tensor_from_array(Qt.type(), Y));
}

// ---------------------------------------------------------------------------
// Training optimisers (ai.onnx.preview.training)
// ---------------------------------------------------------------------------

// Inputs: R (learning rate, scalar), T (step count, scalar int64), then `groups` groups of n tensors each
// (e.g. X..., G..., H... for Adagrad). Returns n.
int64_t optimizer_tensor_count(const KernelContext& ctx, int64_t groups, const std::string& op) {
  const int64_t count = static_cast<int64_t>(ctx.num_inputs()) - 2;
  if (count <= 0 || count % groups != 0)
    bad(op + ": expected R, T and " + std::to_string(groups) + " equally sized groups of tensors");
  const int64_t n = count / groups;
  if (ctx.input(0).numel() != 1) bad(op + ": R must be a scalar");
  if (ctx.input(1).numel() != 1) bad(op + ": T must be a scalar");
  for (int64_t i = 0; i < n; ++i)
    for (int64_t g = 1; g < groups; ++g)
      if (ctx.input(static_cast<size_t>(2 + g * n + i)).shape() != ctx.input(static_cast<size_t>(2 + i)).shape())
        bad(op + ": tensor " + std::to_string(i) + " of group " + std::to_string(g) + " has a different shape from X");
  return n;
}

void adagrad(KernelContext& ctx) {
  const int64_t n = optimizer_tensor_count(ctx, 3, "Adagrad");
  const double r = get_double(ctx.input(0), 0);
  const double t = static_cast<double>(get_int64(ctx.input(1), 0));
  const double decay = ctx.attr_float("decay_factor", 0.0f), eps = ctx.attr_float("epsilon", 0.0f),
               norm = ctx.attr_float("norm_coefficient", 0.0f);
  const double rate = r / (1.0 + t * decay);
  for (int64_t i = 0; i < n; ++i) {
    const Tensor& X = ctx.input(static_cast<size_t>(2 + i));
    const Tensor& G = ctx.input(static_cast<size_t>(2 + n + i));
    const Tensor& H = ctx.input(static_cast<size_t>(2 + 2 * n + i));
    require_float(X, "Adagrad X");
    Tensor Xn = Tensor::allocate(X.type(), X.shape()), Hn = Tensor::allocate(H.type(), H.shape());
    for (int64_t e = 0; e < X.numel(); ++e) {
      const double x = get_double(X, e);
      const double g = norm * x + get_double(G, e);
      const double h = get_double(H, e) + g * g;
      set_double(Hn, e, h);
      set_double(Xn, e, x - rate * g / (std::sqrt(h) + eps));
    }
    ctx.set_output(static_cast<size_t>(i), Xn);
    ctx.set_output(static_cast<size_t>(n + i), Hn);
  }
}

void adam(KernelContext& ctx) {
  const int64_t n = optimizer_tensor_count(ctx, 4, "Adam");
  const double r = get_double(ctx.input(0), 0);
  const int64_t t = get_int64(ctx.input(1), 0);
  const double alpha = ctx.attr_float("alpha", 0.9f), beta = ctx.attr_float("beta", 0.999f),
               eps = ctx.attr_float("epsilon", 0.0f), norm = ctx.attr_float("norm_coefficient", 0.0f),
               norm_post = ctx.attr_float("norm_coefficient_post", 0.0f);
  const double td = static_cast<double>(t);
  const double rate = t > 0 ? r * std::sqrt(1.0 - std::pow(beta, td)) / (1.0 - std::pow(alpha, td)) : r;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor& X = ctx.input(static_cast<size_t>(2 + i));
    const Tensor& G = ctx.input(static_cast<size_t>(2 + n + i));
    const Tensor& V = ctx.input(static_cast<size_t>(2 + 2 * n + i));
    const Tensor& H = ctx.input(static_cast<size_t>(2 + 3 * n + i));
    require_float(X, "Adam X");
    Tensor Xn = Tensor::allocate(X.type(), X.shape()), Vn = Tensor::allocate(V.type(), V.shape()),
           Hn = Tensor::allocate(H.type(), H.shape());
    for (int64_t e = 0; e < X.numel(); ++e) {
      const double x = get_double(X, e);
      const double g = norm * x + get_double(G, e);
      const double v = alpha * get_double(V, e) + (1.0 - alpha) * g;
      const double h = beta * get_double(H, e) + (1.0 - beta) * g * g;
      const double xn = x - rate * (v / (std::sqrt(h) + eps));
      set_double(Xn, e, (1.0 - norm_post) * xn);
      set_double(Vn, e, v);
      set_double(Hn, e, h);
    }
    ctx.set_output(static_cast<size_t>(i), Xn);
    ctx.set_output(static_cast<size_t>(n + i), Vn);
    ctx.set_output(static_cast<size_t>(2 * n + i), Hn);
  }
}

void momentum(KernelContext& ctx) {
  const int64_t n = optimizer_tensor_count(ctx, 3, "Momentum");
  const double r = get_double(ctx.input(0), 0);
  const int64_t t = get_int64(ctx.input(1), 0);
  if (!ctx.has_attr("alpha") || !ctx.has_attr("beta") || !ctx.has_attr("mode") || !ctx.has_attr("norm_coefficient"))
    bad("Momentum: attributes alpha, beta, mode and norm_coefficient are required");
  const double alpha = ctx.attr_float("alpha", 0.0f), beta = ctx.attr_float("beta", 0.0f),
               norm = ctx.attr_float("norm_coefficient", 0.0f);
  const std::string mode = ctx.attr_string("mode", "standard");
  if (mode != "standard" && mode != "nesterov") bad("Momentum: mode must be 'standard' or 'nesterov'");
  const double beta_adj = t > 0 ? beta : 1.0;
  for (int64_t i = 0; i < n; ++i) {
    const Tensor& X = ctx.input(static_cast<size_t>(2 + i));
    const Tensor& G = ctx.input(static_cast<size_t>(2 + n + i));
    const Tensor& V = ctx.input(static_cast<size_t>(2 + 2 * n + i));
    require_float(X, "Momentum X");
    Tensor Xn = Tensor::allocate(X.type(), X.shape()), Vn = Tensor::allocate(V.type(), V.shape());
    for (int64_t e = 0; e < X.numel(); ++e) {
      const double x = get_double(X, e);
      const double g = norm * x + get_double(G, e);
      const double v = alpha * get_double(V, e) + beta_adj * g;
      set_double(Vn, e, v);
      set_double(Xn, e, mode == "standard" ? x - r * v : x - r * (g + alpha * v));
    }
    ctx.set_output(static_cast<size_t>(i), Xn);
    ctx.set_output(static_cast<size_t>(n + i), Vn);
  }
}

}  // namespace

void register_nn_kernels(KernelRegistry& r) {
  r.add("", "NegativeLogLikelihoodLoss", negative_log_likelihood_loss);
  r.add("", "SoftmaxCrossEntropyLoss", softmax_cross_entropy_loss);
  r.add("", "RNN", rnn);
  r.add("", "GRU", gru);
  r.add("", "LSTM", lstm);
  r.add("", "Attention", attention);
  r.add("", "RotaryEmbedding", rotary_embedding);
  r.add("", "CausalConvWithState", causal_conv_with_state);
  r.add("", "LinearAttention", linear_attention);
  r.add("ai.onnx.preview", "FlexAttention", flex_attention);
  r.add("ai.onnx.preview.training", "Adagrad", adagrad);
  r.add("ai.onnx.preview.training", "Adam", adam);
  r.add("ai.onnx.preview.training", "Momentum", momentum);
}

}  // namespace switchyard::reference
