// Reference kernels: string operators and the ai.onnx.ml domain.
//
//   default domain: StringNormalizer, StringSplit, StringConcat, RegexFullMatch, TfIdfVectorizer
//   ai.onnx.ml:     LabelEncoder (opset 1, 2-3, 4), ArrayFeatureExtractor, Binarizer, TreeEnsemble (opset 5),
//                   Scaler, Normalizer
//
// RegexFullMatch uses std::regex (ECMAScript grammar) where ONNX specifies RE2 syntax;
// the common subset (classes, \w \d \s \W, alternation, quantifiers, anchors, groups) agrees.
// RE2-only constructs such as (?P<name>...), \pL or [[:^alpha:]] are rejected as unsupported.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "switchyard/reference/interpreter.h"
#include "switchyard/reference/util.h"

namespace switchyard::reference {

namespace {

using ET = ElementType;

void require(bool cond, const std::string& msg) {
  if (!cond) throw_error(StatusCode::invalid_argument, msg);
}

void require_string(const Tensor& t, const std::string& what) {
  if (t.type() != ET::string)
    throw_error(StatusCode::invalid_argument,
                what + " must be a string tensor, got " + std::string(element_type_name(t.type())));
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// ---------------------------------------------------------------------------
// StringNormalizer (opset 10)

void string_normalizer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_string(x, "StringNormalizer input");
  const bool two_d = x.rank() == 2;
  require(x.rank() == 1 || (two_d && x.dim(0) == 1),
          "StringNormalizer input must be [C] or [1, C], got " + shape_to_string(x.shape()));
  const std::string action = ctx.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    throw_error(StatusCode::invalid_argument, "StringNormalizer case_change_action must be NONE, LOWER or UPPER");
  const bool case_sensitive = ctx.attr_int("is_case_sensitive", 0) != 0;
  const std::string locale = ctx.attr_string("locale", "");
  (void)locale;  // case mapping is ASCII-only in the reference; non-ASCII bytes are left unchanged
  std::set<std::string> stops;
  if (const Attribute* a = ctx.node().attr("stopwords"))
    for (const std::string& w : a->strings) stops.insert(case_sensitive ? w : ascii_lower(w));
  std::vector<std::string> out;
  for (const std::string& s : x.strings()) {
    if (stops.count(case_sensitive ? s : ascii_lower(s))) continue;  // a stopword: the element is removed
    out.push_back(action == "LOWER" ? ascii_lower(s) : action == "UPPER" ? ascii_upper(s) : s);
  }
  if (out.empty()) out.push_back("");  // an all-stopword input yields one empty string
  const int64_t n = static_cast<int64_t>(out.size());
  ctx.set_output(0, Tensor::from_strings(two_d ? Shape{1, n} : Shape{n}, std::move(out)));
}

// ---------------------------------------------------------------------------
// StringSplit (opset 20), StringConcat (opset 20), RegexFullMatch (opset 20)

// Python str.split semantics: with no (or an empty) delimiter, splits on runs of whitespace and
// drops empty pieces; with a delimiter, every occurrence splits (empty pieces kept).
std::vector<std::string> split_string(const std::string& s, const std::string& delim, int64_t maxsplit) {
  std::vector<std::string> parts;
  if (delim.empty()) {
    size_t i = 0;
    int64_t splits = 0;
    while (true) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && splits >= maxsplit) {  // the rest, as is (Python keeps its trailing whitespace)
        parts.push_back(s.substr(i));
        break;
      }
      size_t j = i;
      while (j < s.size() && !is_space(s[j])) ++j;
      parts.push_back(s.substr(i, j - i));
      ++splits;
      i = j;
    }
    return parts;
  }
  size_t start = 0;
  int64_t splits = 0;
  while (true) {
    const size_t pos = (maxsplit >= 0 && splits >= maxsplit) ? std::string::npos : s.find(delim, start);
    if (pos == std::string::npos) {
      parts.push_back(s.substr(start));
      break;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + delim.size();
    ++splits;
  }
  return parts;
}

void string_split(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_string(x, "StringSplit input");
  const std::string delim = ctx.attr_string("delimiter", "");
  const int64_t maxsplit = ctx.has_attr("maxsplit") ? ctx.attr_int("maxsplit", -1) : -1;
  require(!ctx.has_attr("maxsplit") || maxsplit >= 0, "StringSplit maxsplit must be non-negative");
  std::vector<std::vector<std::string>> pieces;
  size_t widest = 0;
  for (const std::string& s : x.strings()) {
    pieces.push_back(split_string(s, delim, maxsplit));
    widest = std::max(widest, pieces.back().size());
  }
  Shape y_shape = x.shape();
  y_shape.push_back(static_cast<int64_t>(widest));
  Tensor y = Tensor::allocate(ET::string, y_shape);
  Tensor z = Tensor::allocate(ET::int64, x.shape());
  for (size_t i = 0; i < pieces.size(); ++i) {
    for (size_t k = 0; k < pieces[i].size(); ++k) y.mutable_strings()[i * widest + k] = pieces[i][k];
    z.mutable_data<int64_t>()[i] = static_cast<int64_t>(pieces[i].size());
  }
  ctx.set_output(0, y);
  if (ctx.wants_output(1)) ctx.set_output(1, z);
}

void string_concat(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  require_string(a, "StringConcat X");
  require_string(b, "StringConcat Y");
  const Shape out_shape = broadcast_shapes({a.shape(), b.shape()});
  const std::vector<int64_t> ia = broadcast_index_map(a.shape(), out_shape);
  const std::vector<int64_t> ib = broadcast_index_map(b.shape(), out_shape);
  Tensor y = Tensor::allocate(ET::string, out_shape);
  for (size_t i = 0; i < ia.size(); ++i)
    y.mutable_strings()[i] = a.strings()[static_cast<size_t>(ia[i])] + b.strings()[static_cast<size_t>(ib[i])];
  ctx.set_output(0, y);
}

void regex_full_match(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_string(x, "RegexFullMatch input");
  if (!ctx.has_attr("pattern")) throw_error(StatusCode::invalid_argument, "RegexFullMatch needs a 'pattern'");
  const std::string pattern = ctx.attr_string("pattern", "");
  if (pattern.find("(?P<") != std::string::npos || pattern.find("\\p") != std::string::npos ||
      pattern.find("\\P") != std::string::npos || pattern.find("[[:^") != std::string::npos)
    throw_error(StatusCode::unsupported, "RegexFullMatch: RE2-only syntax in pattern '" + pattern +
                                             "' is not supported by the reference (std::regex, ECMAScript)");
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw_error(StatusCode::invalid_argument, "RegexFullMatch: invalid pattern '" + pattern + "': " + e.what());
  }
  Tensor y = Tensor::allocate(ET::boolean, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    y.mutable_data<uint8_t>()[i] = std::regex_match(x.strings()[static_cast<size_t>(i)], re) ? 1 : 0;
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// TfIdfVectorizer (opset 9)

void tfidf_vectorizer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const bool strings = x.type() == ET::string;
  require(strings || x.type() == ET::int32 || x.type() == ET::int64,
          "TfIdfVectorizer input must be string, int32 or int64");
  require(x.rank() <= 2, "TfIdfVectorizer input must be [C] or [N, C], got " + shape_to_string(x.shape()));
  const int64_t min_n = ctx.attr_int("min_gram_length", 0), max_n = ctx.attr_int("max_gram_length", 0);
  const int64_t max_skip = ctx.attr_int("max_skip_count", 0);
  require(min_n >= 1 && max_n >= min_n, "TfIdfVectorizer needs 1 <= min_gram_length <= max_gram_length");
  require(max_skip >= 0, "TfIdfVectorizer max_skip_count must be non-negative");
  const std::string mode = ctx.attr_string("mode", "");
  require(mode == "TF" || mode == "IDF" || mode == "TFIDF", "TfIdfVectorizer mode must be TF, IDF or TFIDF");
  const std::vector<int64_t> counts = ctx.attr_ints("ngram_counts");
  const std::vector<int64_t> indexes = ctx.attr_ints("ngram_indexes");
  const std::vector<float> weights = ctx.attr_floats("weights");
  // The pool as strings (integers in decimal) so both key kinds share one path.
  std::vector<std::string> pool;
  if (const Attribute* a = ctx.node().attr("pool_strings")) pool = a->strings;
  else
    for (int64_t v : ctx.attr_ints("pool_int64s")) pool.push_back(std::to_string(v));
  require(!indexes.empty(), "TfIdfVectorizer needs ngram_indexes");
  const int64_t out_dim = *std::max_element(indexes.begin(), indexes.end()) + 1;
  require(*std::min_element(indexes.begin(), indexes.end()) >= 0, "TfIdfVectorizer ngram_indexes must be >= 0");
  require(weights.empty() || static_cast<int64_t>(weights.size()) >= out_dim,
          "TfIdfVectorizer weights must cover every output index");

  // n-gram -> position in ngram_indexes. Pool segment i holds n-grams of length i + 1.
  std::map<std::vector<std::string>, int64_t> ngram_id;
  int64_t id = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t n = static_cast<int64_t>(i) + 1;
    const int64_t begin = counts[i];
    const int64_t end = i + 1 < counts.size() ? counts[i + 1] : static_cast<int64_t>(pool.size());
    require(begin >= 0 && begin <= end && end <= static_cast<int64_t>(pool.size()),
            "TfIdfVectorizer ngram_counts do not fit the pool");
    for (int64_t p = begin; p + n <= end; p += n) {
      if (n >= min_n && n <= max_n) {
        require(id < static_cast<int64_t>(indexes.size()), "TfIdfVectorizer has fewer ngram_indexes than n-grams");
        ngram_id.emplace(std::vector<std::string>(pool.begin() + p, pool.begin() + p + n), id);
      }
      ++id;
    }
  }

  const int64_t rows = x.rank() == 2 ? x.dim(0) : 1;
  const int64_t cols = x.rank() == 2 ? x.dim(1) : x.numel();
  auto item = [&](int64_t r, int64_t c) {
    const int64_t i = r * cols + c;
    return strings ? x.strings()[static_cast<size_t>(i)] : std::to_string(get_int64(x, i));
  };
  Shape out_shape = x.rank() == 2 ? Shape{rows, out_dim} : Shape{out_dim};
  Tensor y = Tensor::allocate(ET::float32, out_shape);  // checks the (untrusted) output size first
  std::vector<int64_t> freq(static_cast<size_t>(rows * out_dim), 0);
  for (int64_t r = 0; r < rows; ++r) {
    // A skip distance of cols or more reaches no second item: larger skips add nothing.
    for (int64_t skip = 0; skip <= std::min(max_skip, cols); ++skip) {
      const int64_t step = skip + 1;
      // Unigrams do not depend on the skip distance: count them on the first pass only.
      const int64_t first_n = (skip > 0 && min_n == 1) ? 2 : min_n;
      for (int64_t start = 0; start < cols; ++start) {
        std::vector<std::string> gram;
        for (int64_t n = 1; n <= max_n; ++n) {
          const int64_t pos = start + (n - 1) * step;
          if (pos >= cols) break;
          gram.push_back(item(r, pos));
          if (n < first_n) continue;
          auto it = ngram_id.find(gram);
          if (it != ngram_id.end()) ++freq[static_cast<size_t>(r * out_dim + indexes[static_cast<size_t>(it->second)])];
        }
      }
    }
  }
  float* out = y.mutable_data<float>();
  for (int64_t i = 0; i < rows * out_dim; ++i) {
    const double f = static_cast<double>(freq[static_cast<size_t>(i)]);
    const double w = weights.empty() ? 1.0 : weights[static_cast<size_t>(i % out_dim)];
    double v;
    if (mode == "TF") v = f;
    else if (mode == "IDF") v = f > 0 ? w : 0.0;
    else v = f * w;
    out[i] = static_cast<float>(v);
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// ai.onnx.ml LabelEncoder

// One key or value: a string, or a number kept both as double and exact int64.
struct MlScalar {
  bool is_string = false;
  std::string s;
  double d = 0;
  int64_t i = 0;
};

struct MlList {
  ElementType type = ET::undefined;
  std::vector<MlScalar> items;
};

MlList list_from_tensor(const Tensor& t) {
  MlList l;
  l.type = t.type();
  for (int64_t k = 0; k < t.numel(); ++k) {
    MlScalar v;
    if (t.type() == ET::string) {
      v.is_string = true;
      v.s = t.strings()[static_cast<size_t>(k)];
    } else if (is_floating(t.type())) {
      v.d = get_double(t, k);
    } else {
      v.i = get_int64(t, k);
      v.d = static_cast<double>(v.i);
    }
    l.items.push_back(v);
  }
  return l;
}

// The first present attribute among `<prefix>_strings/_int64s/_floats/_tensor`.
bool find_list(const Node& n, const std::string& prefix, MlList& out) {
  if (const Attribute* a = n.attr(prefix + "_tensor")) {
    out = list_from_tensor(a->t);
    return true;
  }
  if (const Attribute* a = n.attr(prefix + "_strings")) {
    out.type = ET::string;
    for (const auto& s : a->strings) out.items.push_back({true, s, 0, 0});
    return true;
  }
  if (const Attribute* a = n.attr(prefix + "_int64s")) {
    out.type = ET::int64;
    for (int64_t v : a->ints) out.items.push_back({false, "", static_cast<double>(v), v});
    return true;
  }
  if (const Attribute* a = n.attr(prefix + "_floats")) {
    out.type = ET::float32;
    for (float v : a->floats) out.items.push_back({false, "", v, 0});
    return true;
  }
  return false;
}

bool same_key(const MlScalar& a, const MlScalar& b, bool floating) {
  if (a.is_string || b.is_string) return a.is_string == b.is_string && a.s == b.s;
  if (floating) return a.d == b.d || (std::isnan(a.d) && std::isnan(b.d));  // NaN keys match NaN
  return a.i == b.i;
}

void write_scalar(Tensor& t, int64_t i, const MlScalar& v) {
  if (t.type() == ET::string) t.mutable_strings()[static_cast<size_t>(i)] = v.s;
  else if (is_floating(t.type())) set_double(t, i, v.d);
  else set_int64(t, i, v.i);
}

void label_encoder(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Node& n = ctx.node();
  if (ctx.opset() < 2) {
    // Opset 1: classes_strings maps string <-> int64 index.
    std::vector<std::string> classes;
    if (const Attribute* a = n.attr("classes_strings")) classes = a->strings;
    Tensor y;
    if (x.type() == ET::string) {
      y = Tensor::allocate(ET::int64, x.shape());
      const int64_t def = ctx.attr_int("default_int64", -1);
      for (int64_t i = 0; i < x.numel(); ++i) {
        auto it = std::find(classes.begin(), classes.end(), x.strings()[static_cast<size_t>(i)]);
        y.mutable_data<int64_t>()[i] = it == classes.end() ? def : static_cast<int64_t>(it - classes.begin());
      }
    } else if (x.type() == ET::int64) {
      y = Tensor::allocate(ET::string, x.shape());
      const std::string def = ctx.attr_string("default_string", "_Unused");
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t k = x.data<int64_t>()[i];
        y.mutable_strings()[static_cast<size_t>(i)] =
            k >= 0 && k < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(k)] : def;
      }
    } else {
      throw_error(StatusCode::invalid_argument, "LabelEncoder (opset 1) input must be string or int64");
    }
    ctx.set_output(0, y);
    return;
  }
  MlList keys, values;
  require(find_list(n, "keys", keys), "LabelEncoder needs keys_* attribute");
  require(find_list(n, "values", values), "LabelEncoder needs values_* attribute");
  require(keys.items.size() == values.items.size(), "LabelEncoder keys and values differ in length");
  require((keys.type == ET::string) == (x.type() == ET::string),
          "LabelEncoder input type " + std::string(element_type_name(x.type())) + " does not match the keys (" +
              std::string(element_type_name(keys.type)) + ")");
  // Default: default_tensor, else default_<kind> for the value kind.
  MlScalar def;
  if (const Attribute* a = n.attr("default_tensor")) {
    MlList d = list_from_tensor(a->t);
    require(d.items.size() == 1 && d.type == values.type, "LabelEncoder default_tensor must be one value of the values type");
    def = d.items[0];
  } else if (values.type == ET::string) {
    def = {true, ctx.attr_string("default_string", "_Unused"), 0, 0};
  } else if (is_floating(values.type)) {
    def.d = ctx.attr_float("default_float", -0.0f);
  } else {
    def.i = ctx.attr_int("default_int64", -1);
    def.d = static_cast<double>(def.i);
  }
  const bool float_keys = is_floating(keys.type);
  Tensor y = Tensor::allocate(values.type, x.shape());
  const MlList in = list_from_tensor(x);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const MlScalar* hit = &def;
    for (size_t k = 0; k < keys.items.size(); ++k)
      if (same_key(in.items[static_cast<size_t>(i)], keys.items[k], float_keys)) {
        hit = &values.items[k];
        break;
      }
    write_scalar(y, i, *hit);
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// ai.onnx.ml ArrayFeatureExtractor, Binarizer, Scaler, Normalizer

void array_feature_extractor(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  require(x.rank() >= 1, "ArrayFeatureExtractor X must have rank >= 1");
  require(idx.type() == ET::int64, "ArrayFeatureExtractor Y must be int64");
  const int64_t last = x.dim(x.rank() - 1);
  const int64_t k = idx.numel();
  require(k > 0, "ArrayFeatureExtractor needs at least one index");
  std::vector<int64_t> cols(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    cols[static_cast<size_t>(i)] = idx.data<int64_t>()[i];
    require(cols[static_cast<size_t>(i)] >= 0 && cols[static_cast<size_t>(i)] < last,
            "ArrayFeatureExtractor index " + std::to_string(cols[static_cast<size_t>(i)]) + " is out of range [0, " +
                std::to_string(last) + ")");
  }
  Shape out_shape = x.shape();
  if (x.rank() == 1) out_shape = {1, k};
  else out_shape.back() = k;
  Tensor y = Tensor::allocate(x.type(), out_shape);
  const int64_t rows = last > 0 ? x.numel() / last : 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i) copy_element(x, r * last + cols[static_cast<size_t>(i)], y, r * k + i);
  ctx.set_output(0, y);
}

void require_ml_numeric(const Tensor& x, const std::string& what) {
  const ET e = x.type();
  if (!(e == ET::float32 || e == ET::float64 || e == ET::int64 || e == ET::int32))
    throw_error(StatusCode::unsupported, what + ": element type " + std::string(element_type_name(e)) +
                                             " is not supported (float, double, int64, int32)");
}

void binarizer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_ml_numeric(x, "Binarizer");
  const double th = ctx.attr_float("threshold", 0.0f);
  Tensor y = Tensor::allocate(x.type(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = get_double(x, i);
    set_double(y, i, std::isnan(v) ? v : (v > th ? 1.0 : 0.0));
  }
  ctx.set_output(0, y);
}

void scaler(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_ml_numeric(x, "Scaler");
  const std::vector<float> offset = ctx.attr_floats("offset"), scale = ctx.attr_floats("scale");
  const int64_t c = x.rank() == 0 ? 1 : x.dim(x.rank() - 1);
  auto pick = [&](const std::vector<float>& v, int64_t i, double fallback) -> double {
    if (v.empty()) return fallback;
    if (v.size() == 1) return v[0];
    require(static_cast<int64_t>(v.size()) == c, "Scaler offset/scale length must be 1 or the feature count");
    return v[static_cast<size_t>(i % c)];
  };
  Tensor y = Tensor::allocate(ET::float32, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    set_double(y, i, (get_double(x, i) - pick(offset, i, 0.0)) * pick(scale, i, 1.0));
  ctx.set_output(0, y);
}

void normalizer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require_ml_numeric(x, "Normalizer");
  require(x.rank() == 1 || x.rank() == 2, "Normalizer input must be [C] or [N, C]");
  const std::string norm = ctx.attr_string("norm", "MAX");
  require(norm == "MAX" || norm == "L1" || norm == "L2", "Normalizer norm must be MAX, L1 or L2");
  const int64_t c = x.dim(x.rank() - 1), rows = c > 0 ? x.numel() / c : 0;
  Tensor y = Tensor::allocate(ET::float32, x.shape());
  for (int64_t r = 0; r < rows; ++r) {
    double d = 0;
    for (int64_t j = 0; j < c; ++j) {
      const double v = get_double(x, r * c + j);
      if (norm == "MAX") d = j == 0 ? v : std::max(d, v);
      else if (norm == "L1") d += std::fabs(v);
      else d += v * v;
    }
    if (norm == "L2") d = std::sqrt(d);
    for (int64_t j = 0; j < c; ++j) {
      const double v = get_double(x, r * c + j);
      set_double(y, r * c + j, d == 0 ? v : v / d);
    }
  }
  ctx.set_output(0, y);
}

// ---------------------------------------------------------------------------
// ai.onnx.ml TreeEnsemble (opset 5)

std::vector<double> doubles_attr(const Node& n, const std::string& name) {
  const Attribute* a = n.attr(name);
  if (!a) return {};
  if (a->type == Attribute::Type::tensor) return to_doubles(a->t);
  if (a->type == Attribute::Type::floats) return std::vector<double>(a->floats.begin(), a->floats.end());
  throw_error(StatusCode::invalid_argument, "TreeEnsemble attribute '" + name + "' must be a tensor");
}

std::vector<int64_t> ints_attr(const Node& n, const std::string& name) {
  const Attribute* a = n.attr(name);
  if (!a) return {};
  if (a->type == Attribute::Type::tensor) return to_int64s(a->t);
  if (a->type == Attribute::Type::ints) return a->ints;
  throw_error(StatusCode::invalid_argument, "TreeEnsemble attribute '" + name + "' must be ints or a tensor");
}

void tree_ensemble(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  require(x.type() == ET::float32 || x.type() == ET::float64 || x.type() == ET::float16,
          "TreeEnsemble input must be float, double or float16");
  require(x.rank() == 2, "TreeEnsemble input must be [N, F], got " + shape_to_string(x.shape()));
  const Node& n = ctx.node();
  const std::vector<double> splits = doubles_attr(n, "nodes_splits");
  const std::vector<int64_t> features = ints_attr(n, "nodes_featureids");
  const std::vector<int64_t> modes = ints_attr(n, "nodes_modes");
  const std::vector<int64_t> true_ids = ints_attr(n, "nodes_truenodeids");
  const std::vector<int64_t> false_ids = ints_attr(n, "nodes_falsenodeids");
  const std::vector<int64_t> true_leaf = ints_attr(n, "nodes_trueleafs");
  const std::vector<int64_t> false_leaf = ints_attr(n, "nodes_falseleafs");
  const std::vector<int64_t> missing_true = ints_attr(n, "nodes_missing_value_tracks_true");
  const std::vector<int64_t> leaf_targets = ints_attr(n, "leaf_targetids");
  const std::vector<double> leaf_weights = doubles_attr(n, "leaf_weights");
  const std::vector<int64_t> roots = ints_attr(n, "tree_roots");
  const std::vector<double> members = doubles_attr(n, "membership_values");
  const int64_t n_targets = ctx.attr_int("n_targets", 0);
  const int64_t aggregate = ctx.attr_int("aggregate_function", 1);
  const int64_t post = ctx.attr_int("post_transform", 0);
  const size_t nn = splits.size();
  require(features.size() == nn && modes.size() == nn && true_ids.size() == nn && false_ids.size() == nn &&
              true_leaf.size() == nn && false_leaf.size() == nn && (missing_true.empty() || missing_true.size() == nn),
          "TreeEnsemble nodes_* attributes differ in length");
  require(leaf_targets.size() == leaf_weights.size(), "TreeEnsemble leaf_targetids and leaf_weights differ in length");
  require(n_targets > 0, "TreeEnsemble n_targets must be positive");
  require(aggregate >= 0 && aggregate <= 3, "TreeEnsemble aggregate_function must be 0..3");
  require(post >= 0 && post <= 4, "TreeEnsemble post_transform must be 0..4");
  for (int64_t t : leaf_targets) require(t >= 0 && t < n_targets, "TreeEnsemble leaf target id out of range");
  // Set-membership nodes (mode 6) take consecutive NaN-terminated groups of membership_values.
  std::vector<std::vector<double>> member_sets(nn);
  size_t mpos = 0;
  for (size_t i = 0; i < nn; ++i) {
    if (modes[i] != 6) continue;
    while (mpos < members.size() && !std::isnan(members[mpos])) member_sets[i].push_back(members[mpos++]);
    require(mpos < members.size(), "TreeEnsemble membership_values has too few NaN-terminated sets");
    ++mpos;
  }
  const int64_t N = x.dim(0), F = x.dim(1);
  for (size_t i = 0; i < nn; ++i) {
    require(features[i] >= 0 && features[i] < F, "TreeEnsemble feature id out of range");
    require(modes[i] >= 0 && modes[i] <= 6, "TreeEnsemble node mode must be 0..6");
  }
  // Follows one tree from `root`; returns the leaf index.
  auto predict = [&](int64_t row, int64_t root) -> int64_t {
    int64_t node = root;
    if (true_leaf[static_cast<size_t>(root)] && false_leaf[static_cast<size_t>(root)] &&
        true_ids[static_cast<size_t>(root)] == false_ids[static_cast<size_t>(root)])
      return true_ids[static_cast<size_t>(root)];  // degenerate tree: a single leaf
    for (size_t guard = 0; guard <= nn; ++guard) {
      const size_t i = static_cast<size_t>(node);
      const double v = get_double(x, row * F + features[i]);
      const double s = splits[i];
      bool go_true;
      if (std::isnan(v) && !missing_true.empty() && missing_true[i]) {
        go_true = true;
      } else {
        switch (modes[i]) {
          case 0: go_true = v <= s; break;
          case 1: go_true = v < s; break;
          case 2: go_true = v >= s; break;
          case 3: go_true = v > s; break;
          case 4: go_true = v == s; break;
          case 5: go_true = v != s; break;
          default: go_true = std::find(member_sets[i].begin(), member_sets[i].end(), v) != member_sets[i].end();
        }
      }
      const int64_t next = go_true ? true_ids[i] : false_ids[i];
      if (go_true ? true_leaf[i] : false_leaf[i]) return next;
      require(next >= 0 && next < static_cast<int64_t>(nn), "TreeEnsemble node id out of range");
      node = next;
    }
    throw_error(StatusCode::invalid_argument, "TreeEnsemble: a tree contains a cycle");
  };
  for (int64_t r : roots) require(r >= 0 && r < static_cast<int64_t>(nn), "TreeEnsemble tree root out of range");
  Tensor y = Tensor::allocate(x.type(), {N, n_targets});
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t row = 0; row < N; ++row) {
    std::vector<double> acc(static_cast<size_t>(n_targets), aggregate == 2 ? inf : aggregate == 3 ? -inf : 0.0);
    std::vector<bool> hit(static_cast<size_t>(n_targets), false);
    for (int64_t root : roots) {
      const int64_t leaf = predict(row, root);
      require(leaf >= 0 && leaf < static_cast<int64_t>(leaf_weights.size()), "TreeEnsemble leaf id out of range");
      const size_t t = static_cast<size_t>(leaf_targets[static_cast<size_t>(leaf)]);
      const double w = leaf_weights[static_cast<size_t>(leaf)];
      hit[t] = true;
      if (aggregate == 0 || aggregate == 1) acc[t] += w;
      else if (aggregate == 2) acc[t] = std::min(acc[t], w);
      else acc[t] = std::max(acc[t], w);
    }
    for (size_t t = 0; t < acc.size(); ++t) {
      if (aggregate == 0 && !roots.empty()) acc[t] /= static_cast<double>(roots.size());
      if ((aggregate == 2 || aggregate == 3) && !hit[t]) acc[t] = 0.0;  // no tree voted for this target
    }
    // Post transform.
    if (post == 1 || post == 3) {  // SOFTMAX / SOFTMAX_ZERO
      double mx = -inf;
      for (double v : acc) mx = std::max(mx, v);
      double sum = 0;
      std::vector<double> e(acc.size());
      for (size_t t = 0; t < acc.size(); ++t) {
        e[t] = (post == 3 && acc[t] == 0.0) ? 0.0 : std::exp(acc[t] - mx);
        sum += e[t];
      }
      for (size_t t = 0; t < acc.size(); ++t) acc[t] = sum > 0 ? e[t] / sum : 0.0;
    } else if (post == 2) {  // LOGISTIC
      for (double& v : acc) v = 1.0 / (1.0 + std::exp(-v));
    } else if (post == 4) {  // PROBIT: sqrt(2) * erfinv(2p - 1)
      for (double& v : acc) {
        // Inverse normal CDF by Newton iterations on erf; p is expected in (0, 1).
        const double p = v;
        if (!(p > 0 && p < 1)) {
          v = p == 0 ? -inf : p == 1 ? inf : std::numeric_limits<double>::quiet_NaN();
          continue;
        }
        double z = 0;
        for (int it = 0; it < 100; ++it) {
          const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
          const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * 3.14159265358979323846);
          const double step = (cdf - p) / pdf;
          z -= step;
          if (std::fabs(step) < 1e-15) break;
        }
        v = z;
      }
    }
    for (int64_t t = 0; t < n_targets; ++t) set_double(y, row * n_targets + t, acc[static_cast<size_t>(t)]);
  }
  ctx.set_output(0, y);
}

}  // namespace

void register_text_ml_kernels(KernelRegistry& r) {
  r.add("", "StringNormalizer", string_normalizer);
  r.add("", "StringSplit", string_split);
  r.add("", "StringConcat", string_concat);
  r.add("", "RegexFullMatch", regex_full_match);
  r.add("", "TfIdfVectorizer", tfidf_vectorizer);
  r.add("ai.onnx.ml", "LabelEncoder", label_encoder);
  r.add("ai.onnx.ml", "ArrayFeatureExtractor", array_feature_extractor);
  r.add("ai.onnx.ml", "Binarizer", binarizer);
  r.add("ai.onnx.ml", "Scaler", scaler);
  r.add("ai.onnx.ml", "Normalizer", normalizer);
  r.add("ai.onnx.ml", "TreeEnsemble", tree_ensemble);
}

}  // namespace switchyard::reference
