// The ops suite's remaining families: quantisation, signal processing and detection, recurrent
// networks, attention, losses and training operators, sequences and optionals, control flow, and
// the text and ai.onnx.ml operators. Fewer cases each than the elementwise families: the attribute
// space, not every shape.
#include <onnx/onnx_pb.h>

#include <cmath>
#include <limits>

#include "ops_build.h"
#include "onnx_proto.h"
#include "ops_gen.h"

namespace switchyard::conformance::ops {

namespace {

void add_quantize_cases(std::vector<OpCase>& out) {
  // Per tensor and per axis; no zero point (uint8 0); values past the range saturate; x / scale
  // lands on .5 for some (rounding half to even).
  for (ElementType zp : {u8, i8, ElementType::undefined})
    for (bool per_axis : {false, true}) {
      OpCase c("QuantizeLinear", 13);
      c.ranged("x", f32, {3, 4}, -40, 40);
      if (per_axis) c.constant("y_scale", f32, {4}, {0.5, 0.25, 2, 1}).attr_i("axis", 1);
      else c.constant("y_scale", f32, {}, {0.5});
      if (zp != ElementType::undefined) c.constant("y_zero_point", zp, per_axis ? Shape{4} : Shape{}, per_axis ? std::vector<double>{1, 2, 3, 4} : std::vector<double>{3});
      out.push_back(c.output().named(case_name("QuantizeLinear", {"opset13", zp == ElementType::undefined ? "uint8(no_zero_point)" : type_tag(zp),
                                                                  per_axis ? "per_axis" : "per_tensor"})));
    }
  out.push_back(OpCase("QuantizeLinear", 13).given("x", f32, {8}, {1, 3, 5, -1, -3, -5, 7, 9}).constant("y_scale", f32, {}, {2})
                    .constant("y_zero_point", i8, {}, {0}).output().named(case_name("QuantizeLinear", {"opset13", "int8", "ties"})));
  for (ElementType zp : {i16, u16, i8})
    out.push_back(OpCase("QuantizeLinear", 21).ranged("x", f32, {2, 6}, -300, 300).constant("y_scale", f32, {2, 2}, {0.5, 1, 2, 4})
                      .constant("y_zero_point", zp, {2, 2}, {0, 1, 2, 3}).attr_i("axis", 1).attr_i("block_size", 3).output()
                      .named(case_name("QuantizeLinear", {"opset21", type_tag(zp), "block_size=3"})));
  for (ElementType t : {u8, i8, i32})
    for (bool per_axis : {false, true}) {
      OpCase c("DequantizeLinear", 13);
      c.ranged("x", t, {3, 4}, t == u8 ? 0 : -100, 100);
      if (per_axis) c.constant("x_scale", f32, {3}, {0.5, 0.25, 2}).attr_i("axis", 0);
      else c.constant("x_scale", f32, {}, {0.1});
      if (t != i32) c.constant("x_zero_point", t, per_axis ? Shape{3} : Shape{}, per_axis ? std::vector<double>{1, 2, 3} : std::vector<double>{5});
      out.push_back(c.output().named(case_name("DequantizeLinear", {"opset13", type_tag(t), per_axis ? "per_axis" : "per_tensor"})));
    }
  out.push_back(OpCase("DequantizeLinear", 21).ranged("x", i16, {2, 6}, -1000, 1000).constant("x_scale", f32, {2, 2}, {0.5, 1, 2, 4})
                    .constant("x_zero_point", i16, {2, 2}, {0, 1, 2, 3}).attr_i("axis", 1).attr_i("block_size", 3).output()
                    .named(case_name("DequantizeLinear", {"opset21", "int16", "block_size=3"})));
  for (const auto& [tag, lo, hi] : std::vector<std::tuple<const char*, double, double>>{{"mixed", -3, 5}, {"positive", 1, 4}, {"negative", -6, -0.5}})
    out.push_back(OpCase("DynamicQuantizeLinear", 11).ranged("x", f32, {3, 4}, lo, hi).output("y").output("y_scale").output("y_zero_point")
                      .named(case_name("DynamicQuantizeLinear", {"float32", "3x4", tag})));
}

void add_integer_matmul_cases(std::vector<OpCase>& out) {
  for (ElementType a : {u8, i8})
    for (ElementType b : {u8, i8})
      for (bool zero_points : {false, true}) {
        OpCase c("MatMulInteger", 10);
        c.ranged("A", a, {3, 4}, a == u8 ? 0 : -50, 50).ranged("B", b, {4, 2}, b == u8 ? 0 : -50, 50);
        if (zero_points) c.constant("a_zero_point", a, {}, {2}).constant("b_zero_point", b, {2}, {1, 3});
        out.push_back(c.output().named(case_name("MatMulInteger", {type_tag(a) + "x" + type_tag(b), "3x4,4x2", zero_points ? "zero_points" : "no_zero_points"})));
      }
  for (ElementType t : {u8, i8}) {
    const double lo = t == u8 ? 0 : -100, hi = t == u8 ? 200 : 100;
    OpCase c("QLinearMatMul", 10);
    c.ranged("a", t, {2, 3, 4}, lo, hi).constant("a_scale", f32, {}, {0.05}).constant("a_zero_point", t, {}, {t == u8 ? 120.0 : 2.0});
    c.ranged("b", t, {4, 3}, lo, hi).constant("b_scale", f32, {}, {0.02}).constant("b_zero_point", t, {}, {t == u8 ? 100.0 : -3.0});
    c.constant("y_scale", f32, {}, {0.1}).constant("y_zero_point", t, {}, {t == u8 ? 128.0 : 0.0});
    out.push_back(c.output().named(case_name("QLinearMatMul", {type_tag(t), "2x3x4,4x3"})));
  }
}

}  // namespace

void add_quantization_cases(std::vector<OpCase>& out) {
  add_quantize_cases(out);
  add_integer_matmul_cases(out);
}

namespace {

void add_dft_cases(std::vector<OpCase>& out) {
  for (int64_t complex_input : {0, 1})
    for (int64_t inverse : {0, 1})
      for (int64_t onesided : {0, 1})
        for (double length : {0.0, 6.0, 10.0}) {
          if (onesided && (inverse || complex_input)) continue;  // a onesided inverse needs the full half-spectrum semantics
          OpCase c("DFT", 17);
          c.input("input", f32, {2, 8, complex_input ? 2 : 1});
          if (length > 0) c.constant("dft_length", i64, {}, {length});
          c.attr_i("axis", 1).attr_i("inverse", inverse).attr_i("onesided", onesided);
          // Each output sums N terms (2N products for complex input), of the input's length
          // or dft_length (zero-padded or truncated).
          const int64_t n = length > 0 ? static_cast<int64_t>(length) : 8;
          out.push_back(c.output().accumulate(complex_input ? 2 * n : n, TermScale::twiddled)
                            .named(case_name("DFT", {"opset17", "float32", complex_input ? "complex" : "real", "inverse=" + std::to_string(inverse),
                                                     "onesided=" + std::to_string(onesided), length > 0 ? "dft_length=" + number_tag(length) : "dft_length=none"})));
        }
  for (int64_t axis : {1, 2, -2})
    out.push_back(OpCase("DFT", 20).input("input", f32, {2, 4, 6, 1}).absent().constant("axis", i64, {}, {static_cast<double>(axis)}).output()
                      .accumulate(axis == 1 ? 4 : 6, TermScale::twiddled).named(case_name("DFT", {"opset20", "float32", "2x4x6x1", "axis=" + std::to_string(axis)})));
  out.push_back(OpCase("DFT", 20).input("input", f64, {1, 16, 2}).output().accumulate(32, TermScale::twiddled).named(case_name("DFT", {"opset20", "float64", "1x16x2"})));
  for (int64_t onesided : {0, 1})
    for (bool window : {false, true}) {
      OpCase c("STFT", 17);
      c.input("signal", f32, {1, 64, 1}).constant("frame_step", i64, {}, {8});
      if (window) c.constant("window", f32, {16}, {0, 0.038, 0.146, 0.309, 0.5, 0.691, 0.854, 0.962, 1, 0.962, 0.854, 0.691, 0.5, 0.309, 0.146, 0.038});
      else c.absent();
      c.constant("frame_length", i64, {}, {16}).attr_i("onesided", onesided);
      out.push_back(c.output().accumulate(16, TermScale::twiddled)
                        .named(case_name("STFT", {"float32", "1x64x1", "frame_step=8", window ? "window" : "frame_length=16", "onesided=" + std::to_string(onesided)})));
    }
}

void add_window_cases(std::vector<OpCase>& out) {
  for (const char* op : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    for (double size : {1.0, 8.0, 11.0})
      for (int64_t periodic : {0, 1})
        for (ElementType t : {f32, f64}) {
          if (t == f64 && size != 8.0) continue;
          OpCase c(op, 17);
          c.constant("size", i64, {}, {size}).attr_i("periodic", periodic);
          if (t != f32) c.attr_i("output_datatype", static_cast<int64_t>(t));
          out.push_back(c.output().named(case_name(op, {type_tag(t), "size=" + number_tag(size), "periodic=" + std::to_string(periodic)})));
        }
  for (const auto& [bins, dft, rate, lo, hi] : std::vector<std::tuple<double, double, double, double, double>>{{8, 16, 8000, 0, 4000}, {5, 32, 16000, 100, 6000}})
    out.push_back(OpCase("MelWeightMatrix", 17).constant("num_mel_bins", i64, {}, {bins}).constant("dft_length", i64, {}, {dft})
                      .constant("sample_rate", i64, {}, {rate}).constant("lower_edge_hertz", f32, {}, {lo}).constant("upper_edge_hertz", f32, {}, {hi})
                      .output().named(case_name("MelWeightMatrix", {"float32", "bins=" + number_tag(bins), "dft=" + number_tag(dft)})));
}

void add_sampling_cases(std::vector<OpCase>& out) {
  // Grid coordinates beyond [-1, 1] reach the padding.
  for (const char* mode : {"linear", "nearest", "cubic"})
    for (const char* padding : {"zeros", "border", "reflection"})
      for (int64_t align : {0, 1})
        out.push_back(OpCase("GridSample", 20).input("X", f32, {1, 2, 4, 5}).ranged("grid", f32, {1, 3, 4, 2}, -1.3, 1.3).attr_s("mode", mode)
                          .attr_s("padding_mode", padding).attr_i("align_corners", align).output()
                          .accumulate(std::string(mode) == "cubic" ? 16 : std::string(mode) == "linear" ? 4 : 1, TermScale::input)
                          .named(case_name("GridSample", {"opset20", "float32", "1x2x4x5", mode, padding, "align_corners=" + std::to_string(align)})));
  for (const char* mode : {"bilinear", "nearest", "bicubic"})
    out.push_back(OpCase("GridSample", 16).input("X", f32, {2, 1, 3, 3}).ranged("grid", f32, {2, 2, 2, 2}, -1, 1).attr_s("mode", mode).output()
                      .accumulate(std::string(mode) == "bicubic" ? 16 : std::string(mode) == "bilinear" ? 4 : 1, TermScale::input).named(case_name("GridSample", {"opset16", "float32", "2x1x3x3", mode})));
  for (const char* mode : {"linear", "nearest"})
    out.push_back(OpCase("GridSample", 20).input("X", f32, {1, 1, 3, 4, 4}).ranged("grid", f32, {1, 2, 2, 3, 3}, -1.1, 1.1).attr_s("mode", mode).output()
                      .accumulate(std::string(mode) == "linear" ? 8 : 1, TermScale::input).named(case_name("GridSample", {"opset20", "float32", "3d", mode})));
  for (int64_t align : {0, 1}) {
    out.push_back(OpCase("AffineGrid", 20).input("theta", f32, {2, 2, 3}).constant("size", i64, {4}, {2, 3, 4, 5}).attr_i("align_corners", align)
                      .output().accumulate(3, TermScale::input).named(case_name("AffineGrid", {"float32", "2d", "size=2,3,4,5", "align_corners=" + std::to_string(align)})));
    out.push_back(OpCase("AffineGrid", 20).input("theta", f32, {1, 3, 4}).constant("size", i64, {5}, {1, 1, 2, 3, 4}).attr_i("align_corners", align)
                      .output().accumulate(4, TermScale::input).named(case_name("AffineGrid", {"float32", "3d", "size=1,1,2,3,4", "align_corners=" + std::to_string(align)})));
  }
  for (const char* mode : {"avg", "max"})
    for (const char* transform : {"half_pixel", "output_half_pixel"})
      for (int64_t sampling : {0, 2})
        out.push_back(OpCase("RoiAlign", 16).input("X", f32, {2, 2, 8, 8})
                          .constant("rois", f32, {3, 4}, {0.5, 1, 6, 5.5, 2, 2, 3.5, 7.25, 0, 0, 8, 8}).constant("batch_indices", i64, {3}, {0, 1, 0})
                          .attr_s("mode", mode).attr_s("coordinate_transformation_mode", transform).attr_i("sampling_ratio", sampling)
                          .attr_i("output_height", 3).attr_i("output_width", 2).attr_f("spatial_scale", 0.9f).output()
                          // Sampling points per bin (2x2, or adaptive: up to 3x4 for these rois) x 4 taps.
                          .accumulate(sampling ? 16 : 48, TermScale::input)
                          .named(case_name("RoiAlign", {"float32", "2x2x8x8", mode, transform, "sampling_ratio=" + std::to_string(sampling)})));
}

void add_detection_cases(std::vector<OpCase>& out) {
  // Six boxes, some overlapping; corner (y1, x1, y2, x2) or centre (xc, yc, w, h) format.
  const std::vector<double> corners = {0, 0, 1, 1, 0, 0.1, 1, 1.1, 0, -0.1, 1, 0.9, 0, 10, 1, 11, 0, 10.1, 1, 11.1, 0, 100, 1, 101};
  const std::vector<double> centres = {0.5, 0.5, 1, 1, 0.5, 0.6, 1, 1, 0.5, 0.4, 1, 1, 0.5, 10.5, 1, 1, 0.5, 10.6, 1, 1, 0.5, 100.5, 1, 1};
  for (int64_t centre : {0, 1})
    for (bool score_threshold : {false, true})
      for (double max_boxes : {3.0, 10.0})
        for (double iou : {0.5, 0.0}) {
          OpCase c("NonMaxSuppression", 11);
          c.constant("boxes", f32, {1, 6, 4}, centre ? centres : corners).given("scores", f32, {1, 2, 6}, {0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.1, 0.2, 0.8, 0.7, 0.4, 0.05});
          c.constant("max_output_boxes_per_class", i64, {1}, {max_boxes}).constant("iou_threshold", f32, {1}, {iou});
          if (score_threshold) c.constant("score_threshold", f32, {1}, {0.35});
          out.push_back(c.attr_i("center_point_box", centre).output()
                            .named(case_name("NonMaxSuppression", {centre ? "center" : "corner", score_threshold ? "score_threshold=0.35" : "no_score_threshold",
                                                                   "max=" + number_tag(max_boxes), "iou=" + number_tag(iou)})));
        }
  for (const auto& [tag, shape] : std::vector<std::pair<const char*, Shape>>{{"2x2", {2, 2}}, {"3x3", {3, 3}}, {"2x3x3", {2, 3, 3}}, {"1x1", {1, 1}}})
    for (ElementType t : {f32, f64}) {
      // Leibniz: n! products of n entries each.
      const int64_t n = shape.back();
      OpCase c("Det", 11);
      c.input("X", t, shape).output().accumulate(n == 1 ? 1 : n == 2 ? 2 : 6, TermScale::input);
      c.scale_power = static_cast<int>(n);
      out.push_back(c.named(case_name("Det", {type_tag(t), tag})));
    }
  out.push_back(OpCase("Det", 22).given("X", f32, {2, 2}, {1, 2, 2, 4}).output().named(case_name("Det", {"opset22", "float32", "2x2", "singular"})));
}

}  // namespace

void add_signal_cases(std::vector<OpCase>& out) {
  add_dft_cases(out);
  add_window_cases(out);
  add_sampling_cases(out);
  add_detection_cases(out);
}

namespace {

enum class Cell { rnn, gru, lstm };

OpCase recurrent_case(Cell cell, const char* direction, bool lens, bool initial, int64_t layout) {
  const char* op = cell == Cell::rnn ? "RNN" : cell == Cell::gru ? "GRU" : "LSTM";
  const int64_t gates = cell == Cell::rnn ? 1 : cell == Cell::gru ? 3 : 4;
  const int64_t dirs = std::string(direction) == "bidirectional" ? 2 : 1, seq = 3, batch = 2, input = 4, hidden = 5;
  OpCase c(op, 14);
  c.input("X", f32, layout ? Shape{batch, seq, input} : Shape{seq, batch, input});
  c.ranged("W", f32, {dirs, gates * hidden, input}, -0.5, 0.5).ranged("R", f32, {dirs, gates * hidden, hidden}, -0.5, 0.5);
  c.ranged("B", f32, {dirs, 2 * gates * hidden}, -0.5, 0.5);
  if (lens) c.given("sequence_lens", i32, {batch}, {3, 2});
  else if (initial) c.absent();
  if (initial) {
    c.input("initial_h", f32, layout ? Shape{batch, dirs, hidden} : Shape{dirs, batch, hidden});
    if (cell == Cell::lstm) c.input("initial_c", f32, layout ? Shape{batch, dirs, hidden} : Shape{dirs, batch, hidden});
  }
  c.attr_s("direction", direction).attr_i("hidden_size", hidden);
  if (layout) c.attr_i("layout", 1);
  c.output("Y").output("Y_h");
  if (cell == Cell::lstm) c.output("Y_c");
  return c.accumulate(input + hidden + 1, TermScale::input);
}

}  // namespace

void add_recurrent_cases(std::vector<OpCase>& out) {
  for (Cell cell : {Cell::rnn, Cell::gru, Cell::lstm}) {
    const char* op = cell == Cell::rnn ? "RNN" : cell == Cell::gru ? "GRU" : "LSTM";
    for (const char* direction : {"forward", "reverse", "bidirectional"})
      for (bool lens : {false, true})
        for (bool initial : {false, true})
          for (int64_t layout : {0, 1}) {
            if (layout && (lens || !initial)) continue;
            out.push_back(recurrent_case(cell, direction, lens, initial, layout)
                              .named(case_name(op, {"float32", direction, lens ? "sequence_lens" : "full", initial ? "initial_state" : "zero_state",
                                                    "layout=" + std::to_string(layout)})));
          }
  }
  out.push_back(recurrent_case(Cell::gru, "forward", false, true, 0).attr_i("linear_before_reset", 1)
                    .named(case_name("GRU", {"float32", "forward", "linear_before_reset=1"})));
  out.push_back(recurrent_case(Cell::rnn, "forward", false, false, 0).attr_strings("activations", {"Relu"})
                    .named(case_name("RNN", {"float32", "forward", "activations=Relu"})));
  out.push_back(recurrent_case(Cell::lstm, "forward", false, false, 0).attr_f("clip", 0.5f).named(case_name("LSTM", {"float32", "forward", "clip=0.5"})));
  out.push_back(recurrent_case(Cell::lstm, "forward", false, false, 0).attr_i("input_forget", 1).named(case_name("LSTM", {"float32", "forward", "input_forget=1"})));
  OpCase peephole = recurrent_case(Cell::lstm, "bidirectional", true, true, 0);
  peephole.ranged("P", f32, {2, 15}, -0.5, 0.5);
  out.push_back(peephole.named(case_name("LSTM", {"float32", "bidirectional", "peepholes"})));
}

void add_attention_cases(std::vector<OpCase>& out) {
  struct Variant {
    const char* tag;
    Shape q, k, v;
    int64_t q_heads, kv_heads;
    std::vector<std::pair<const char*, float>> attrs;
    ElementType mask = ElementType::undefined;
    Shape mask_shape = {};
    bool past = false;
  };
  const std::vector<Variant> variants = {
      {"3d", {2, 4, 24}, {2, 6, 24}, {2, 6, 24}, 3, 3, {}},
      {"3d_causal", {2, 4, 24}, {2, 6, 24}, {2, 6, 24}, 3, 3, {{"is_causal", 1}}},
      {"4d", {2, 3, 4, 8}, {2, 3, 6, 8}, {2, 3, 6, 5}, 0, 0, {}},
      {"4d_gqa", {2, 4, 4, 8}, {2, 2, 6, 8}, {2, 2, 6, 8}, 0, 0, {}},
      {"4d_scale", {1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, 0, 0, {{"scale", 0.1f}}},
      {"4d_softcap", {1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, 0, 0, {{"softcap", 2.0f}}},
      {"4d_mask_bool", {1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, 0, 0, {}, boolean, {3, 5}},
      {"4d_mask_float", {1, 2, 3, 4}, {1, 2, 5, 4}, {1, 2, 5, 4}, 0, 0, {}, f32, {1, 2, 3, 5}},
      {"4d_past", {1, 2, 3, 4}, {1, 2, 2, 4}, {1, 2, 2, 4}, 0, 0, {}, ElementType::undefined, {}, true},
  };
  for (const auto& v : variants) {
    OpCase c("Attention", 23);
    c.input("Q", f32, v.q).input("K", f32, v.k).input("V", f32, v.v);
    if (v.mask != ElementType::undefined) {
      if (v.mask == boolean) c.given("attn_mask", boolean, v.mask_shape, {1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1});
      else c.input("attn_mask", f32, v.mask_shape);
    } else if (v.past) {
      c.absent();
    }
    if (v.past) c.input("past_key", f32, {1, 2, 3, 4}).input("past_value", f32, {1, 2, 3, 4});
    if (v.q_heads) c.attr_i("q_num_heads", v.q_heads).attr_i("kv_num_heads", v.kv_heads);
    for (const auto& [name, value] : v.attrs) {
      if (std::string(name) == "is_causal") c.attr_i(name, static_cast<int64_t>(value));
      else c.attr_f(name, value);
    }
    c.output("Y");
    if (v.past) c.output("present_key").output("present_value");
    out.push_back(c.accumulate(8, TermScale::product).named(case_name("Attention", {"float32", v.tag})));
  }
  for (int64_t interleaved : {0, 1})
    for (int64_t dim : {0, 4}) {
      OpCase c("RotaryEmbedding", 23);
      c.input("input", f32, {2, 4, 3, 8}).input("cos_cache", f32, {10, dim ? dim / 2 : 4}).input("sin_cache", f32, {10, dim ? dim / 2 : 4});
      c.ranged("position_ids", i64, {2, 3}, 0, 9).attr_i("interleaved", interleaved);
      if (dim) c.attr_i("rotary_embedding_dim", dim);
      out.push_back(c.output().accumulate(2, TermScale::product)
                        .named(case_name("RotaryEmbedding", {"float32", "2x4x3x8", "interleaved=" + std::to_string(interleaved), "rotary_dim=" + std::to_string(dim)})));
    }
  out.push_back(OpCase("RotaryEmbedding", 23).input("input", f32, {2, 3, 16}).input("cos_cache", f32, {2, 3, 2}).input("sin_cache", f32, {2, 3, 2})
                    .attr_i("num_heads", 4).output().accumulate(2, TermScale::product).named(case_name("RotaryEmbedding", {"float32", "3d", "num_heads=4", "no_position_ids"})));
  for (const char* activation : {"none", "silu"})
    for (bool bias : {false, true})
      for (bool state : {false, true}) {
        OpCase c("CausalConvWithState", 27);
        c.input("input", f32, {2, 3, 6}).input("weight", f32, {3, 1, 4});
        if (bias) c.input("bias", f32, {3});
        else if (state) c.absent();
        if (state) c.input("past_state", f32, {2, 3, 3});
        c.attr_s("activation", activation).output("output").output("present_state");
        out.push_back(c.accumulate(5, TermScale::product)
                          .named(case_name("CausalConvWithState", {"float32", "2x3x6", activation, bias ? "bias" : "nobias", state ? "past_state" : "no_state"})));
      }
  for (const char* rule : {"linear", "gated", "delta", "gated_delta"}) {
    const bool gated = std::string(rule).find("gated") != std::string::npos, delta = std::string(rule).find("delta") != std::string::npos;
    OpCase c("LinearAttention", 27);
    c.input("query", f32, {2, 3, 16}).input("key", f32, {2, 3, 16}).input("value", f32, {2, 3, 16}).input("past_state", f32, {2, 2, 8, 8});
    if (gated) c.ranged("decay", f32, {2, 3, 2}, -1, 0);
    else if (delta) c.absent();
    if (delta) c.ranged("beta", f32, {2, 3, 2}, 0, 1);
    c.attr_i("q_num_heads", 2).attr_i("kv_num_heads", 2).attr_s("update_rule", rule).output("output").output("present_state");
    out.push_back(c.accumulate(24, TermScale::product).named(case_name("LinearAttention", {"float32", "2x3x16", rule})));
  }
  for (float scale : {0.0f, 0.5f}) {
    OpCase c("FlexAttention", 1, "ai.onnx.preview");
    c.default_opset = 26;
    c.input("Q", f32, {1, 2, 3, 4}).input("K", f32, {1, 2, 5, 4}).input("V", f32, {1, 2, 5, 4});
    if (scale != 0) c.attr_f("scale", scale);
    out.push_back(c.output().accumulate(8, TermScale::product).named(case_name("FlexAttention", {"float32", "1x2x3x4", scale != 0 ? "scale=0.5" : "scale=default"})));
  }
}

namespace {

void add_loss_cases(std::vector<OpCase>& out) {
  for (const char* op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
    for (const char* reduction : {"none", "sum", "mean"})
      for (bool weight : {false, true})
        for (bool ignore : {false, true})
          for (const Shape& s : std::vector<Shape>{{3, 5}, {2, 5, 3}}) {
            OpCase c(op, 13);
            c.input(std::string(op) == "SoftmaxCrossEntropyLoss" ? "scores" : "input", f32, s);
            Shape target_shape = {s[0]};
            if (s.size() == 3) target_shape.push_back(s[2]);
            c.ranged(std::string(op) == "SoftmaxCrossEntropyLoss" ? "labels" : "target", i64, target_shape, 0, 4);
            if (weight) c.input("weights", f32, {5}, Fill::positive);
            c.attr_s("reduction", reduction);
            if (ignore) c.attr_i("ignore_index", 2);
            c.output();
            if (std::string(op) == "SoftmaxCrossEntropyLoss" && s.size() == 2 && !ignore) c.output("log_prob");
            out.push_back(c.accumulate(15, TermScale::output)
                              .named(case_name(op, {"float32", shape_tag(s), std::string("reduction=") + reduction, weight ? "weights" : "noweights",
                                                    ignore ? "ignore_index=2" : "noignore"})));
          }
}

void add_training_cases(std::vector<OpCase>& out) {
  for (int64_t tensors : {1, 2}) {
    OpCase c("Adagrad", 1, "ai.onnx.preview.training");
    c.constant("R", f32, {}, {0.1}).constant("T", i64, {}, {3});
    for (int64_t i = 0; i < tensors; ++i) c.input("X" + std::to_string(i), f32, {3});
    for (int64_t i = 0; i < tensors; ++i) c.input("G" + std::to_string(i), f32, {3});
    for (int64_t i = 0; i < tensors; ++i) c.input("H" + std::to_string(i), f32, {3}, Fill::positive);
    c.attr_f("decay_factor", 0.1f).attr_f("epsilon", 1e-5f).attr_f("norm_coefficient", 0.001f);
    for (int64_t i = 0; i < tensors; ++i) c.output("X_new" + std::to_string(i));
    for (int64_t i = 0; i < tensors; ++i) c.output("H_new" + std::to_string(i));
    out.push_back(c.named(case_name("Adagrad", {"float32", "tensors=" + std::to_string(tensors)})));
  }
  for (float norm_post : {0.0f, 0.01f}) {
    OpCase c("Adam", 1, "ai.onnx.preview.training");
    c.constant("R", f32, {}, {0.1}).constant("T", i64, {}, {2});
    c.input("X", f32, {4}).input("G", f32, {4}).input("V", f32, {4}).input("H", f32, {4}, Fill::positive);
    c.attr_f("alpha", 0.95f).attr_f("beta", 0.1f).attr_f("epsilon", 1e-7f).attr_f("norm_coefficient", 0.001f);
    if (norm_post != 0) c.attr_f("norm_coefficient_post", norm_post);
    out.push_back(c.output("X_new").output("V_new").output("H_new").named(case_name("Adam", {"float32", "4", "norm_coefficient_post=" + number_tag(norm_post)})));
  }
  for (const char* mode : {"standard", "nesterov"}) {
    OpCase c("Momentum", 1, "ai.onnx.preview.training");
    c.constant("R", f32, {}, {0.1}).constant("T", i64, {}, {2});
    c.input("X", f32, {4}).input("G", f32, {4}).input("V", f32, {4});
    c.attr_f("alpha", 0.95f).attr_f("beta", 0.1f).attr_f("norm_coefficient", 0.001f).attr_s("mode", mode);
    out.push_back(c.output("X_new").output("V_new").named(case_name("Momentum", {"float32", "4", mode})));
  }
}

}  // namespace

void add_loss_training_cases(std::vector<OpCase>& out) {
  add_loss_cases(out);
  add_training_cases(out);
}

namespace {

// Graph-building pieces for the cases one node cannot express.
onnx::NodeProto* add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
  auto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + std::to_string(g.node_size()));
  for (const auto& i : in) n->add_input(i);
  for (const auto& o : out) n->add_output(o);
  return n;
}

// Moves the last node of g to the front (it feeds the case's node).
void move_last_node_first(onnx::GraphProto& g) {
  for (int i = g.node_size() - 1; i > 0; --i) g.mutable_node()->SwapElements(i, i - 1);
}

void add_typed_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name, ElementType t,
                     const std::vector<int64_t>* shape = nullptr) {
  auto* vi = list->Add();
  vi->set_name(name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(t));
  if (shape) {
    auto* s = tt->mutable_shape();
    for (auto d : *shape) s->add_dim()->set_dim_value(d);
  }
}

// The node's first `count` inputs become one sequence, made by SequenceConstruct before it.
std::function<void(onnx::GraphProto&, onnx::NodeProto&)> sequence_of_first(int count) {
  return [count](onnx::GraphProto& g, onnx::NodeProto& node) {
    std::vector<std::string> items(node.input().begin(), node.input().begin() + count);
    std::vector<std::string> rest(node.input().begin() + count, node.input().end());
    node.clear_input();
    node.add_input("seq");
    for (const auto& r : rest) node.add_input(r);
    add_node(g, "SequenceConstruct", items, {"seq"});
    move_last_node_first(g);
  };
}

// The node's output (a sequence) is concatenated into a tensor after it, for exportable outputs.
void concat_output_sequence(onnx::GraphProto& g, onnx::NodeProto& node) {
  const std::string seq = node.output(0) + "_seq";
  const std::string y = node.output(0);
  node.set_output(0, seq);
  auto* concat = add_node(g, "ConcatFromSequence", {seq}, {y});
  auto* axis = concat->add_attribute();
  axis->set_name("axis");
  axis->set_type(onnx::AttributeProto::INT);
  axis->set_i(0);
}

OpCase sequence_items(const char* op, int64_t opset) {
  return std::move(OpCase(op, opset).input("A", f32, {2, 3}).input("B", f32, {1, 3}).input("C", f32, {4, 3}));
}

void add_sequence_op_cases(std::vector<OpCase>& out) {
  for (double pos : {0.0, 2.0, -1.0, -3.0})
    out.push_back(sequence_items("SequenceAt", 11).constant("position", i64, {}, {pos}).output().with(sequence_of_first(3))
                      .named(case_name("SequenceAt", {"float32", "3_items", "position=" + number_tag(pos)})));
  out.push_back(sequence_items("SequenceLength", 11).output().with(sequence_of_first(3)).named(case_name("SequenceLength", {"float32", "3_items"})));
  out.push_back(sequence_items("SequenceConstruct", 11).output().named(case_name("SequenceConstruct", {"float32", "3_items", "sequence_output"})));
  out.push_back(sequence_items("SequenceConstruct", 11).output().with(concat_output_sequence).named(case_name("SequenceConstruct", {"float32", "3_items", "concat"})));
  for (double pos : {std::numeric_limits<double>::quiet_NaN(), 1.0, -1.0}) {
    OpCase c = sequence_items("SequenceInsert", 11);
    c.input("T", f32, {5, 3});
    if (!std::isnan(pos)) c.constant("position", i64, {}, {pos});
    out.push_back(c.output().with([](onnx::GraphProto& g, onnx::NodeProto& n) {
                              sequence_of_first(3)(g, n);
                              concat_output_sequence(g, n);
                            })
                      .named(case_name("SequenceInsert", {"float32", "3_items", std::isnan(pos) ? "position=end" : "position=" + number_tag(pos)})));
  }
  for (double pos : {std::numeric_limits<double>::quiet_NaN(), 0.0, -2.0}) {
    OpCase c = sequence_items("SequenceErase", 11);
    if (!std::isnan(pos)) c.constant("position", i64, {}, {pos});
    out.push_back(c.output().with([](onnx::GraphProto& g, onnx::NodeProto& n) {
                              sequence_of_first(3)(g, n);
                              concat_output_sequence(g, n);
                            })
                      .named(case_name("SequenceErase", {"float32", "3_items", std::isnan(pos) ? "position=end" : "position=" + number_tag(pos)})));
  }
  for (int64_t axis : {0, 1, -1})
    for (int64_t new_axis : {0, 1}) {
      OpCase c("ConcatFromSequence", 11);
      c.input("A", f32, {2, 3}).input("B", f32, {2, 3}).input("C", f32, {2, 3}).attr_i("axis", axis);
      if (new_axis) c.attr_i("new_axis", 1);
      out.push_back(c.output().with(sequence_of_first(3))
                        .named(case_name("ConcatFromSequence", {"float32", "3x(2x3)", "axis=" + std::to_string(axis), "new_axis=" + std::to_string(new_axis)})));
    }
  struct SplitVariant {
    const char* tag;
    std::vector<double> split;
    Shape split_shape;
    int64_t keepdims;
    int64_t axis;
  };
  for (const auto& s : std::vector<SplitVariant>{{"ones_keepdims", {}, {}, 1, 0}, {"ones_nokeepdims", {}, {}, 0, 1}, {"scalar=2", {2}, {}, 1, 0},
                                                 {"list=1,5", {1, 5}, {2}, 1, 0}, {"scalar=4", {4}, {}, 1, 0}}) {
    OpCase c("SplitToSequence", 11);
    c.input("input", f32, {6, 4});
    if (!s.split.empty()) c.constant("split", i64, s.split_shape, s.split);
    c.attr_i("axis", s.axis).attr_i("keepdims", s.keepdims);
    out.push_back(c.output().with(concat_output_sequence).named(case_name("SplitToSequence", {"float32", "6x4", "axis=" + std::to_string(s.axis), s.tag})));
  }
  for (ElementType t : {f32, i64})
    out.push_back(OpCase("SequenceEmpty", 11).attr_i("dtype", static_cast<int64_t>(t)).output()
                      .with([](onnx::GraphProto& g, onnx::NodeProto& n) {
                        const std::string y = n.output(0);
                        n.set_output(0, "empty");
                        add_node(g, "SequenceLength", {"empty"}, {y});
                      })
                      .named(case_name("SequenceEmpty", {type_tag(t), "length"})));
}

// SequenceMap's body: y = x * 2 + 1 per item.
void sequence_map_body(onnx::GraphProto& g, onnx::NodeProto& node) {
  sequence_of_first(3)(g, node);
  auto* attr = node.add_attribute();
  attr->set_name("body");
  attr->set_type(onnx::AttributeProto::GRAPH);
  auto& body = *attr->mutable_g();
  body.set_name("map_body");
  add_typed_value(body.mutable_input(), "x", f32);
  auto* two = body.add_initializer();
  onnx_proto::tensor_to_proto(Tensor::scalar<float>(f32, 2.0f), two);
  two->set_name("two");
  auto* one = body.add_initializer();
  onnx_proto::tensor_to_proto(Tensor::scalar<float>(f32, 1.0f), one);
  one->set_name("one");
  add_node(body, "Mul", {"x", "two"}, {"x2"});
  add_node(body, "Add", {"x2", "one"}, {"y"});
  add_typed_value(body.mutable_output(), "y", f32);
  concat_output_sequence(g, node);
}

void add_optional_cases(std::vector<OpCase>& out) {
  out.push_back(sequence_items("SequenceMap", 17).output().with(sequence_map_body).named(case_name("SequenceMap", {"float32", "3_items", "x*2+1"})));
  out.push_back(OpCase("Optional", 15).input("X", f32, {2, 3}).output()
                    .with([](onnx::GraphProto& g, onnx::NodeProto& n) {
                      const std::string y = n.output(0);
                      n.set_output(0, "opt");
                      add_node(g, "OptionalGetElement", {"opt"}, {y});
                    })
                    .named(case_name("Optional", {"float32", "2x3", "get_element"})));
  out.push_back(OpCase("Optional", 15).output()
                    .with([](onnx::GraphProto& g, onnx::NodeProto& n) {
                      // An empty optional of float tensors: the type attribute (a TypeProto).
                      auto* type = n.add_attribute();
                      type->set_name("type");
                      type->set_type(onnx::AttributeProto::TYPE_PROTO);
                      type->mutable_tp()->mutable_tensor_type()->set_elem_type(static_cast<int32_t>(f32));
                      const std::string y = n.output(0);
                      n.set_output(0, "opt");
                      add_node(g, "OptionalHasElement", {"opt"}, {y});
                    })
                    .named(case_name("Optional", {"empty", "has_element"})));
  out.push_back(OpCase("OptionalHasElement", 18).input("X", f32, {2}).output().named(case_name("OptionalHasElement", {"float32", "tensor_input"})));
  out.push_back(OpCase("OptionalGetElement", 18).input("X", f32, {2, 2}).output().named(case_name("OptionalGetElement", {"float32", "tensor_input"})));
}

}  // namespace

void add_sequence_cases(std::vector<OpCase>& out) {
  add_sequence_op_cases(out);
  add_optional_cases(out);
}

namespace {

onnx::GraphProto* graph_attribute(onnx::NodeProto& node, const std::string& name) {
  auto* a = node.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name(name);
  return a->mutable_g();
}

// If: then = X + Y, else = X - Y (both read the outer graph's values).
void if_branches(onnx::GraphProto&, onnx::NodeProto& node) {
  auto* then_branch = graph_attribute(node, "then_branch");
  add_node(*then_branch, "Add", {"X", "Y"}, {"then_out"});
  add_typed_value(then_branch->mutable_output(), "then_out", f32);
  auto* else_branch = graph_attribute(node, "else_branch");
  add_node(*else_branch, "Sub", {"X", "Y"}, {"else_out"});
  add_typed_value(else_branch->mutable_output(), "else_out", f32);
  // X and Y are only read by the branches.
  node.clear_input();
  node.add_input("cond");
}

// Loop body: (i, cond, v) -> (cond' = i < limit, v' = v + X * i, scan = v').
void loop_body(onnx::GraphProto& g, onnx::NodeProto& node) {
  (void)g;
  auto* body = graph_attribute(node, "body");
  const std::vector<int64_t> scalar, pair = {2};
  add_typed_value(body->mutable_input(), "i", i64, &scalar);
  add_typed_value(body->mutable_input(), "cond_in", boolean, &scalar);
  add_typed_value(body->mutable_input(), "v", f32, &pair);
  add_node(*body, "Less", {"i", "limit"}, {"cond_out"});
  add_node(*body, "Cast", {"i"}, {"i_f"});
  auto* to = body->mutable_node(body->node_size() - 1)->add_attribute();
  to->set_name("to");
  to->set_type(onnx::AttributeProto::INT);
  to->set_i(static_cast<int64_t>(f32));
  add_node(*body, "Mul", {"X", "i_f"}, {"step"});
  add_node(*body, "Add", {"v", "step"}, {"v_out"});
  add_node(*body, "Identity", {"v_out"}, {"scan_out"});
  // Declared shapes: a loop that runs no iteration still knows its scan output is [0, 2].
  add_typed_value(body->mutable_output(), "cond_out", boolean, &scalar);
  add_typed_value(body->mutable_output(), "v_out", f32, &pair);
  add_typed_value(body->mutable_output(), "scan_out", f32, &pair);
  // The node reads M, cond, v; X and limit come from the outer scope.
  std::vector<std::string> in(node.input().begin(), node.input().end());
  node.clear_input();
  for (size_t i = 0; i < 3; ++i) node.add_input(in[i]);
}

// Scan body: (s, x) -> (s' = s + x, y = s' * x).
void scan_body(onnx::GraphProto&, onnx::NodeProto& node) {
  auto* body = graph_attribute(node, "body");
  add_typed_value(body->mutable_input(), "s", f32);
  add_typed_value(body->mutable_input(), "x", f32);
  add_node(*body, "Add", {"s", "x"}, {"s_out"});
  add_node(*body, "Mul", {"s_out", "x"}, {"y"});
  add_typed_value(body->mutable_output(), "s_out", f32);
  add_typed_value(body->mutable_output(), "y", f32);
}

}  // namespace

void add_control_cases(std::vector<OpCase>& out) {
  for (double cond : {0.0, 1.0})
    out.push_back(OpCase("If", 16).given("cond", boolean, {}, {cond}).input("X", f32, {2, 3}).input("Y", f32, {2, 3}).output().with(if_branches)
                      .named(case_name("If", {"float32", cond ? "then" : "else"})));
  struct LoopVariant {
    const char* tag;
    double trip_count;  // NaN: left off
    double limit;
  };
  for (const auto& l : std::vector<LoopVariant>{{"M=3", 3, 100}, {"M=0", 0, 100}, {"cond_stops_at_2", std::numeric_limits<double>::quiet_NaN(), 2},
                                                {"M=5,cond_stops_at_2", 5, 2}}) {
    OpCase c("Loop", 16);
    if (std::isnan(l.trip_count)) c.absent();
    else c.constant("M", i64, {}, {l.trip_count});
    c.constant("cond", boolean, {}, {1}).input("v_initial", f32, {2}).input("X", f32, {2}).constant("limit", i64, {}, {l.limit});
    out.push_back(c.output("v_final").output("scans").with(loop_body).named(case_name("Loop", {"float32", l.tag})));
  }
  for (int64_t reverse : {0, 1})
    for (int64_t axis : {0, 1}) {
      OpCase c("Scan", 16);
      c.input("s0", f32, {3}).input("xs", f32, axis ? Shape{3, 5} : Shape{5, 3}).attr_i("num_scan_inputs", 1);
      if (reverse) c.attr_ints("scan_input_directions", {1});
      if (axis) c.attr_ints("scan_input_axes", {1}).attr_ints("scan_output_axes", {1});
      out.push_back(c.output("s_final").output("ys").with(scan_body)
                        .named(case_name("Scan", {"float32", "reverse=" + std::to_string(reverse), "axis=" + std::to_string(axis)})));
    }
}

namespace {

void add_string_cases(std::vector<OpCase>& out) {
  const std::vector<std::string> words = {"Monday", "tuesday", "and", "THE", "Élan", "  spaced ", "", "the"};
  for (const char* action : {"NONE", "LOWER", "UPPER"})
    for (int64_t sensitive : {0, 1})
      for (bool stopwords : {false, true}) {
        OpCase c("StringNormalizer", 10);
        c.strings("X", {8}, words).attr_s("case_change_action", action).attr_i("is_case_sensitive", sensitive);
        if (stopwords) c.attr_strings("stopwords", {"the", "and"});
        out.push_back(c.output().named(case_name("StringNormalizer", {"8", action, "case_sensitive=" + std::to_string(sensitive), stopwords ? "stopwords" : "nostopwords"})));
      }
  out.push_back(OpCase("StringNormalizer", 10).strings("X", {1, 3}, {"a", "the", "B"}).attr_s("case_change_action", "UPPER").attr_strings("stopwords", {"the"})
                    .output().named(case_name("StringNormalizer", {"1x3", "UPPER", "stopwords"})));
  const std::vector<std::string> lines = {"a.b.c", "one", "", "x..y", " lead trail ", "p.q"};
  for (const auto& [tag, delimiter, maxsplit] : std::vector<std::tuple<const char*, const char*, int64_t>>{
           {"dot", ".", 0}, {"whitespace", "", 0}, {"dot_maxsplit=1", ".", 1}, {"double_dot", "..", 0}}) {
    OpCase c("StringSplit", 20);
    c.strings("X", {2, 3}, lines);
    if (*delimiter) c.attr_s("delimiter", delimiter);
    if (maxsplit) c.attr_i("maxsplit", maxsplit);
    out.push_back(c.output("substrings").output("length").named(case_name("StringSplit", {"2x3", tag})));
  }
  out.push_back(OpCase("StringConcat", 20).strings("X", {3}, {"a", "", "Élan"}).strings("Y", {3}, {"1", "2", ""}).output()
                    .named(case_name("StringConcat", {"3,3"})));
  out.push_back(OpCase("StringConcat", 20).strings("X", {2, 2}, {"a", "b", "c", "d"}).strings("Y", {}, {"_suffix"}).output()
                    .named(case_name("StringConcat", {"2x2,scalar"})));
  for (const auto& [tag, pattern] : std::vector<std::pair<const char*, const char*>>{
           {"email", "[a-z]+@[a-z]+\\.com"}, {"digits", "\\d+"}, {"anchored_alternation", "(cat|dog)s?"}, {"any", ".*"}})
    out.push_back(OpCase("RegexFullMatch", 20).strings("X", {6}, {"bob@mail.com", "12345", "cats", "dog", "Bob@mail.com", ""}).attr_s("pattern", pattern)
                      .output().named(case_name("RegexFullMatch", {"6", tag})));
}

void add_tfidf_cases(std::vector<OpCase>& out) {
  for (const char* mode : {"TF", "IDF", "TFIDF"})
    for (const auto& [tag, min_gram, max_gram, skip] : std::vector<std::tuple<const char*, int64_t, int64_t, int64_t>>{
             {"uni+bigrams", 1, 2, 0}, {"bigrams_skip2", 2, 2, 2}, {"unigrams", 1, 1, 0}}) {
      OpCase c("TfIdfVectorizer", 9);
      c.ranged("X", i64, {2, 6}, 2, 8).attr_s("mode", mode).attr_i("min_gram_length", min_gram).attr_i("max_gram_length", max_gram)
          .attr_i("max_skip_count", skip).attr_ints("ngram_counts", {0, 4}).attr_ints("ngram_indexes", {0, 1, 2, 3, 4, 5, 6})
          .attr_ints("pool_int64s", {2, 3, 5, 4, 5, 6, 7, 8, 6, 7});
      if (std::string(mode) != "TF") c.attr_floats("weights", {0.5f, 1, 2, 1.5f, 1, 0.25f, 3});
      out.push_back(c.output().named(case_name("TfIdfVectorizer", {"int64", "2x6", mode, tag})));
    }
  out.push_back(OpCase("TfIdfVectorizer", 9).strings("X", {7}, {"a", "b", "c", "a", "b", "d", "a"}).attr_s("mode", "TF").attr_i("min_gram_length", 1)
                    .attr_i("max_gram_length", 2).attr_i("max_skip_count", 0).attr_ints("ngram_counts", {0, 3}).attr_ints("ngram_indexes", {0, 1, 2, 3, 4})
                    .attr_strings("pool_strings", {"a", "b", "d", "a", "b", "b", "c"}).output().named(case_name("TfIdfVectorizer", {"string", "7", "TF", "uni+bigrams"})));
}

void add_ml_cases(std::vector<OpCase>& out) {
  const char* ml = "ai.onnx.ml";
  out.push_back(OpCase("LabelEncoder", 2, ml).strings("X", {5}, {"a", "b", "zzz", "c", "a"}).attr_strings("keys_strings", {"a", "b", "c"})
                    .attr_ints("values_int64s", {0, 1, 2}).attr_i("default_int64", 42).output().named(case_name("LabelEncoder", {"string->int64"})));
  out.push_back(OpCase("LabelEncoder", 2, ml).given("X", i64, {4}, {1, 7, 2, 1}).attr_ints("keys_int64s", {1, 2}).attr_strings("values_strings", {"one", "two"})
                    .attr_s("default_string", "none").output().named(case_name("LabelEncoder", {"int64->string"})));
  out.push_back(OpCase("LabelEncoder", 2, ml).given("X", f32, {4}, {0.5, 1.5, 2, -1}).attr_floats("keys_floats", {0.5f, 2}).attr_floats("values_floats", {10, 20})
                    .attr_f("default_float", -1).output().named(case_name("LabelEncoder", {"float->float"})));
  out.push_back(OpCase("ArrayFeatureExtractor", 1, ml).input("X", f32, {3, 4}).constant("Y", i64, {2}, {3, 1}).output().named(case_name("ArrayFeatureExtractor", {"float32", "3x4", "indices=3,1"})));
  out.push_back(OpCase("ArrayFeatureExtractor", 1, ml).ranged("X", i64, {2, 3, 4}, -5, 5).constant("Y", i64, {1}, {0}).output().named(case_name("ArrayFeatureExtractor", {"int64", "2x3x4", "indices=0"})));
  for (float threshold : {0.0f, 1.5f})
    out.push_back(OpCase("Binarizer", 1, ml).input("X", f32, {3, 4}).attr_f("threshold", threshold).output().named(case_name("Binarizer", {"float32", "3x4", "threshold=" + number_tag(threshold)})));
  out.push_back(OpCase("Scaler", 1, ml).input("X", f32, {3, 4}).attr_floats("offset", {1, 0, -1, 2}).attr_floats("scale", {0.5f, 2, 1, -1}).output()
                    .named(case_name("Scaler", {"float32", "3x4", "per_feature"})));
  out.push_back(OpCase("Scaler", 1, ml).ranged("X", i64, {2, 3}, -5, 5).attr_floats("offset", {1}).attr_floats("scale", {0.5f}).output()
                    .named(case_name("Scaler", {"int64", "2x3", "broadcast"})));
  for (const char* norm : {"MAX", "L1", "L2"})
    out.push_back(OpCase("Normalizer", 1, ml).input("X", f32, {3, 4}).attr_s("norm", norm).output().accumulate(4, TermScale::output).named(case_name("Normalizer", {"float32", "3x4", norm})));
  // TreeEnsemble: two trees on two features: node 0 of tree 0 splits x0 <= 0.5 (then leaf 0, else
  // node 1: x1 < 1 -> leaves 1 / 2); tree 1 is node 2: x1 == 0 -> leaves 3 / 4.
  for (int64_t aggregate : {1, 0, 2, 3})
    for (int64_t post : {0, 1}) {
      OpCase c("TreeEnsemble", 5, ml);
      c.input("X", f32, {5, 2});
      c.attr_ints("tree_roots", {0, 2}).attr_ints("nodes_featureids", {0, 1, 1}).attr_tensor("nodes_modes", u8, {3}, {0, 1, 4})
          .attr_tensor("nodes_splits", f32, {3}, {0.5, 1, 0}).attr_ints("nodes_truenodeids", {0, 1, 3}).attr_ints("nodes_trueleafs", {1, 1, 1})
          .attr_ints("nodes_falsenodeids", {1, 2, 4}).attr_ints("nodes_falseleafs", {0, 1, 1}).attr_ints("leaf_targetids", {0, 1, 0, 1, 1})
          .attr_tensor("leaf_weights", f32, {5}, {1.5, -2, 3, 0.25, 4}).attr_i("n_targets", 2).attr_i("aggregate_function", aggregate)
          .attr_i("post_transform", post);
      out.push_back(c.output().named(case_name("TreeEnsemble", {"float32", "5x2", "aggregate=" + std::to_string(aggregate), "post_transform=" + std::to_string(post)})));
    }
}

}  // namespace

void add_text_ml_cases(std::vector<OpCase>& out) {
  add_string_cases(out);
  add_tfidf_cases(out);
  add_ml_cases(out);
}

}  // namespace switchyard::conformance::ops
