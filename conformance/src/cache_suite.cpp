// The `cache` suite: executable_serialize / executable_restore, called through the plugin's table.
// A restored executable gives outputs bitwise identical to the compiled one's (in place too, where
// offered, and again after a second serialisation). Bytes the plugin did not produce (flipped at
// many offsets spread over the whole blob, truncated, appended to, empty, random, or serialised
// from another graph) are refused with SY_ERROR_DATA_LOSS or SY_ERROR_UNSUPPORTED and a message,
// never a crash. A flipped byte a restore accepts passes only when the outputs stay identical (the
// byte did not matter); any other accepted corruption fails. Each case starts from its own
// compile, so a crash in one names its corruption alone.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <variant>

#include "abi_probe.h"
#include "switchyard/conformance/suites.h"
#include "switchyard/hal/abi_calls.h"

namespace switchyard::conformance {

namespace {

using namespace abi;
using Bytes = std::vector<uint8_t>;

// Models with weights first: a plugin that serialises prepared weights puts them in the bytes.
const std::vector<ProbeKind> kCacheProbes = {ProbeKind::conv, ProbeKind::matmul_weights, ProbeKind::add, ProbeKind::matmul, ProbeKind::relu};

// Two-call serialisation into an exactly sized buffer.
Result<Bytes> serialize(const AbiDevice& d, sy_executable exe) {
  size_t size = 0;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*d.api, executable_serialize, exe, nullptr, 0, &size)).with_context("executable_serialize (size)"));
  Bytes bytes(size);
  size_t written = 0;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*d.api, executable_serialize, exe, bytes.data(), bytes.size(), &written)).with_context("executable_serialize"));
  if (written != size) return Status(StatusCode::internal, "executable_serialize wrote " + std::to_string(written) + " bytes after announcing " + std::to_string(size));
  return bytes;
}

Result<Executable> restore(const AbiDevice& d, const ProbeModel& probe, const void* data, size_t size, bool in_place = false) {
  sy_executable exe = nullptr;
  sy_status st = in_place ? SY_CALL_PLUGIN(*d.api, executable_restore_in_place, d.device, probe.view->get(), data, size, &exe)
                          : SY_CALL_PLUGIN(*d.api, executable_restore, d.device, probe.view->get(), data, size, &exe);
  SY_RETURN_IF_ERROR(take_status(st));
  if (!exe) return Status(StatusCode::internal, "restore succeeded without an executable");
  return Executable(d.api, exe);
}

// Where two runs' outputs differ bit for bit; "" when identical.
std::string bitwise_difference(const std::vector<Value>& want, const std::vector<Value>& got) {
  if (want.size() != got.size()) return std::to_string(got.size()) + " outputs, the original has " + std::to_string(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Tensor &w = want[i].tensor, &g = got[i].tensor;
    if (w.type() != g.type() || w.shape() != g.shape())
      return "output " + std::to_string(i) + " is " + shape_to_string(g.shape()) + ", the original " + shape_to_string(w.shape());
    const auto* a = static_cast<const unsigned char*>(w.raw());
    const auto* b = static_cast<const unsigned char*>(g.raw());
    for (size_t k = 0; k < w.byte_size(); ++k)
      if (a[k] != b[k]) return "output " + std::to_string(i) + " differs from the original's at byte " + std::to_string(k);
  }
  return {};
}

// A claimed model compiled, run (exact) and serialised: what every case starts from.
struct Original {
  ProbeData data;
  Executable exe;
  std::vector<Value> outputs;
  Bytes bytes;
};

// The original, or the case's result when there is none: skipped for a plugin that does not
// serialise, failed when the compiled executable itself is wrong.
std::variant<Original, CaseResult> original_of(const AbiDevice& d, const ProbeModel& probe) {
  Original o;
  auto exe = compile(d, probe);
  auto data = probe_data(probe, 1);
  if (!exe.ok() || !data.ok()) return failed("compile", "the device claims the model, but " + describe(exe.ok() ? data.status() : exe.status()));
  o.exe = std::move(exe).value();
  o.data = std::move(data).value();
  ExecuteOutcome outcome = execute(d, o.exe.get(), o.data.inputs, o.data.expected);
  if (std::string p = exact_mismatch(outcome, o.data.expected); !p.empty()) return failed("execute", "the compiled executable: " + p);
  o.outputs = std::move(outcome.outputs);
  auto bytes = serialize(d, o.exe.get());
  if (!bytes.ok() && bytes.status().code() == StatusCode::unsupported) return skipped("the plugin does not serialise executables: " + bytes.status().message());
  if (!bytes.ok()) return failed("serialize", describe(bytes.status()));
  o.bytes = std::move(bytes).value();
  return o;
}

using CacheBody = std::function<CaseResult(const AbiDevice&, const ProbeModel&, Original&)>;

CaseSpec cache_case(std::string name, CacheBody body) {
  return probe_case("cache", std::move(name), kCacheProbes, [body = std::move(body)](const AbiDevice& d, const ProbeModel& probe) {
    auto original = original_of(d, probe);
    if (auto* result = std::get_if<CaseResult>(&original)) return *result;
    return body(d, probe, std::get<Original>(original));
  });
}

// A restored executable's outputs against the original's: "" or the difference.
std::string restored_difference(const AbiDevice& d, const Executable& exe, const Original& o) {
  ExecuteOutcome outcome = execute(d, exe.get(), o.data.inputs, o.data.expected);
  if (std::string p = exact_mismatch(outcome, o.data.expected); !p.empty()) return p;
  return bitwise_difference(o.outputs, outcome.outputs);
}

// ---- Faithful restores ----

CaseResult restore_identical(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  auto exe = restore(d, probe, o.bytes.data(), o.bytes.size());
  if (!exe.ok()) return failed("restore", "its own " + std::to_string(o.bytes.size()) + " bytes: " + describe(exe.status()));
  if (std::string p = restored_difference(d, *exe, o); !p.empty()) return failed("restored outputs", p);
  return passed(std::to_string(o.bytes.size()) + " bytes");
}

// The bytes are borrowed for the call only: overwritten and freed afterwards, the restored
// executable still gives identical outputs.
CaseResult restore_keeps_no_bytes(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  auto copy = std::make_unique<Bytes>(o.bytes);
  auto exe = restore(d, probe, copy->data(), copy->size());
  if (!exe.ok()) return failed("restore", describe(exe.status()));
  std::fill(copy->begin(), copy->end(), 0xFF);
  copy.reset();
  if (std::string p = restored_difference(d, *exe, o); !p.empty()) return failed("restored outputs", "after the bytes were overwritten and freed: " + p);
  return passed();
}

CaseResult restore_in_place_identical(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  if (!d.api->executable_restore_in_place) return skipped("the plugin does not offer executable_restore_in_place");
  const size_t padded = (o.bytes.size() + 63) / 64 * 64 + 64;
  std::unique_ptr<uint8_t, decltype(&std::free)> aligned(static_cast<uint8_t*>(std::aligned_alloc(64, padded)), &std::free);
  std::memcpy(aligned.get(), o.bytes.data(), o.bytes.size());
  auto exe = restore(d, probe, aligned.get(), o.bytes.size(), /*in_place=*/true);
  if (!exe.ok()) return failed("restore_in_place", describe(exe.status()));
  std::string p = restored_difference(d, *exe, o);
  exe->reset();  // before the bytes it may use go
  if (!p.empty()) return failed("restored outputs", "in place: " + p);
  return passed();
}

// A restored executable serialises again, and those bytes restore to the same outputs.
CaseResult serialize_restored(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  auto first = restore(d, probe, o.bytes.data(), o.bytes.size());
  if (!first.ok()) return failed("restore", describe(first.status()));
  auto again = serialize(d, first->get());
  if (!again.ok()) return failed("serialize", "the restored executable: " + describe(again.status()));
  auto second = restore(d, probe, again->data(), again->size());
  if (!second.ok()) return failed("restore", "bytes serialised from a restored executable: " + describe(second.status()));
  if (std::string p = restored_difference(d, *second, o); !p.empty()) return failed("restored outputs", "after a second serialisation: " + p);
  return passed();
}


// The two-call pattern: the size query answers the same twice; a buffer one byte short is refused
// without a byte written past it; a larger one takes exactly the announced bytes.
CaseResult size_query(const AbiDevice& d, const ProbeModel&, Original& o) {
  constexpr uint8_t kCanary = 0xA5;
  constexpr size_t kSlack = 64;
  const size_t size = o.bytes.size();
  size_t again = 0, written = 0;
  if (Status st = take_status(SY_CALL_PLUGIN(*d.api, executable_serialize, o.exe.get(), nullptr, 0, &again)); !st.ok() || again != size)
    return failed("serialize", "a second size query: " + (st.ok() ? std::to_string(again) + " bytes, the first said " + std::to_string(size) : describe(st)));
  Bytes buffer(size + kSlack, kCanary);
  if (size > 0) {
    Status st = take_status(SY_CALL_PLUGIN(*d.api, executable_serialize, o.exe.get(), buffer.data(), size - 1, &written));
    if (std::string p = refusal_problem(st); !p.empty()) return failed("serialize", "into " + std::to_string(size - 1) + " bytes of the " + std::to_string(size) + " needed: " + p);
    for (size_t i = size - 1; i < buffer.size(); ++i)
      if (buffer[i] != kCanary) return failed("serialize", "a refused call into " + std::to_string(size - 1) + " bytes wrote byte " + std::to_string(i));
  }
  std::fill(buffer.begin(), buffer.end(), kCanary);
  if (Status st = take_status(SY_CALL_PLUGIN(*d.api, executable_serialize, o.exe.get(), buffer.data(), buffer.size(), &written)); !st.ok())
    return failed("serialize", "into " + std::to_string(buffer.size()) + " bytes: " + describe(st));
  if (written != size) return failed("serialize", "wrote " + std::to_string(written) + " bytes; the size query said " + std::to_string(size));
  for (size_t i = size; i < buffer.size(); ++i)
    if (buffer[i] != kCanary) return failed("serialize", "wrote byte " + std::to_string(i) + " past the " + std::to_string(size) + " it announced");
  return passed(std::to_string(size) + " bytes");
}

// ---- Corrupt bytes ----

// A restore of bytes the plugin did not produce, as `what` made them: refused with DATA_LOSS or
// UNSUPPORTED and a message. `may_not_matter`: an accepted restore passes when its outputs stay
// identical to the original's (a flipped byte the format does not depend on).
struct Verdict {
  bool refused = false;  // else accepted (harmless when the result passed)
  CaseResult result;
};

Verdict judge_corrupt(const AbiDevice& d, const ProbeModel& probe, const Original& o, const uint8_t* data, size_t size,
                      const std::string& what, bool may_not_matter) {
  auto exe = restore(d, probe, data, size);
  if (!exe.ok()) {
    const Status& st = exe.status();
    if (st.code() != StatusCode::data_loss && st.code() != StatusCode::unsupported)
      return {true, failed("wrong refusal code", what + ": refused with " + describe(st) + "; the contract asks for SY_ERROR_DATA_LOSS or SY_ERROR_UNSUPPORTED")};
    if (std::string p = refusal_problem(st); !p.empty()) return {true, failed("refusal without a message", what + ": " + p)};
    return {true, passed(what + ": " + describe(st))};
  }
  const std::string difference = restored_difference(d, *exe, o);
  if (may_not_matter && difference.empty()) return {false, passed(what + ": accepted, with outputs identical to the original's (the byte did not matter)")};
  return {false, failed("corrupt bytes accepted",
                        what + ": restore accepted them; " + (difference.empty() ? "its outputs happen to be identical" : "then " + difference))};
}

CaseSpec corrupt_case(std::string name, std::function<Bytes(const Bytes&, std::string& what)> corrupt, bool may_not_matter = false) {
  return cache_case(std::move(name), [corrupt = std::move(corrupt), may_not_matter](const AbiDevice& d, const ProbeModel& probe, Original& o) {
    std::string what;
    const Bytes bytes = corrupt(o.bytes, what);
    return judge_corrupt(d, probe, o, bytes.data(), bytes.size(), what, may_not_matter).result;
  });
}

constexpr int kFlips = 48;

// Flip k of kFlips: offsets spread evenly from the first byte to the last, masks in turn.
CaseSpec flip_case(int k) {
  char name[48];
  std::snprintf(name, sizeof name, "restore_flipped_byte_%02d_of_%d", k + 1, kFlips);
  return corrupt_case(name, [k](const Bytes& bytes, std::string& what) {
    static const uint8_t kMasks[] = {0x01, 0x80, 0xFF};
    Bytes flipped = bytes;
    if (flipped.empty()) return flipped;
    const size_t offset = static_cast<size_t>(k) * (flipped.size() - 1) / (kFlips - 1);
    const uint8_t mask = kMasks[k % 3];
    flipped[offset] ^= mask;
    char text[96];
    std::snprintf(text, sizeof text, "byte %zu of %zu xor 0x%02X", offset, flipped.size(), mask);
    what = text;
    return flipped;
  }, /*may_not_matter=*/true);
}

constexpr size_t kSweepFlips = 512;

// The lowest bit of up to kSweepFlips bytes spread evenly over the blob (every byte of a smaller
// one), one restore each: a denser look than the single flips, for formats without a checksum
// whose few bytes of weights the single flips may miss.
CaseResult flip_sweep(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  const size_t size = o.bytes.size(), count = std::min(size, kSweepFlips);
  int refused = 0, harmless = 0;
  Bytes flipped = o.bytes;
  for (size_t k = 0; k < count; ++k) {
    const size_t offset = count == size ? k : k * (size - 1) / (count - 1);
    flipped[offset] ^= 0x01;
    Verdict v = judge_corrupt(d, probe, o, flipped.data(), size, "byte " + std::to_string(offset) + " of " + std::to_string(size) + " xor 0x01", true);
    flipped[offset] ^= 0x01;
    if (v.result.outcome == Outcome::failed) return v.result;
    ++(v.refused ? refused : harmless);
  }
  return passed(std::to_string(count) + " bytes flipped: " + std::to_string(refused) + " refused, " + std::to_string(harmless) +
                " accepted with identical outputs");
}

// The first `keep(size)` bytes.
CaseSpec truncated_case(std::string name, std::function<size_t(size_t)> keep) {
  return corrupt_case(std::move(name), [keep = std::move(keep)](const Bytes& bytes, std::string& what) {
    const size_t n = std::min(keep(bytes.size()), bytes.size() ? bytes.size() - 1 : 0);
    what = "the first " + std::to_string(n) + " of " + std::to_string(bytes.size()) + " bytes";
    return Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  });
}

CaseSpec appended_case(std::string name, std::function<Bytes(const Bytes&)> tail) {
  return corrupt_case(std::move(name), [tail = std::move(tail)](const Bytes& bytes, std::string& what) {
    Bytes longer = bytes;
    const Bytes extra = tail(bytes);
    longer.insert(longer.end(), extra.begin(), extra.end());
    what = std::to_string(bytes.size()) + " bytes with " + std::to_string(extra.size()) + " appended";
    return longer;
  });
}

Bytes random_bytes(size_t size, uint64_t seed) {
  Bytes bytes(size);
  for (auto& b : bytes) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    b = static_cast<uint8_t>(seed >> 56);
  }
  return bytes;
}

// Empty bytes, with a pointer or without one.
CaseSpec empty_case(std::string name, bool null_pointer) {
  return cache_case(std::move(name), [null_pointer](const AbiDevice& d, const ProbeModel& probe, Original& o) {
    static const uint8_t kNothing[1] = {0};
    return judge_corrupt(d, probe, o, null_pointer ? nullptr : kNothing, 0, null_pointer ? "0 bytes at NULL" : "0 bytes", false).result;
  });
}

// What an executable restored against the wrong graph does with that graph's inputs.
std::string run_on(const AbiDevice& d, const Executable& exe, const ProbeModel& graph) {
  auto data = probe_data(graph, 1);
  if (!data.ok()) return "(no data to run it: " + describe(data.status()) + ")";
  const std::string p = exact_mismatch(execute(d, exe.get(), data->inputs, data->expected), data->expected);
  return p.empty() ? "its outputs happen to be right for that graph" : "then " + p;
}

// Bytes serialised from the original's graph, restored against another claimed model's graph.
CaseResult other_graph(const AbiDevice& d, const ProbeModel& probe, Original& o) {
  auto claimed = claimed_probes(d, kCacheProbes);
  if (!claimed.ok()) return failed("query_support", describe(claimed.status()));
  for (const ProbeModel& other : *claimed) {
    if (other.kind == probe.kind) continue;
    auto exe = restore(d, other, o.bytes.data(), o.bytes.size());
    const std::string what = probe.op + "'s bytes against " + other.op + "'s graph";
    if (exe.ok()) return failed("corrupt bytes accepted", what + ": restore accepted them; " + run_on(d, *exe, other));
    if (exe.status().code() != StatusCode::data_loss && exe.status().code() != StatusCode::unsupported)
      return failed("wrong refusal code", what + ": refused with " + describe(exe.status()) + "; the contract asks for SY_ERROR_DATA_LOSS or SY_ERROR_UNSUPPORTED");
    if (std::string p = refusal_problem(exe.status()); !p.empty()) return failed("refusal without a message", what + ": " + p);
    return passed(what + ": " + describe(exe.status()));
  }
  return skipped("the device claims only one of the cache suite's models (" + probe.op + "): no other graph to restore against");
}

std::vector<CaseSpec> corruption_cases() {
  std::vector<CaseSpec> cases;
  for (int k = 0; k < kFlips; ++k) cases.push_back(flip_case(k));
  cases.push_back(cache_case("restore_flip_sweep", flip_sweep));
  cases.push_back(truncated_case("restore_truncated_to_1_byte", [](size_t) { return size_t{1}; }));
  cases.push_back(truncated_case("restore_truncated_to_a_quarter", [](size_t n) { return n / 4; }));
  cases.push_back(truncated_case("restore_truncated_to_half", [](size_t n) { return n / 2; }));
  cases.push_back(truncated_case("restore_truncated_to_three_quarters", [](size_t n) { return n * 3 / 4; }));
  cases.push_back(truncated_case("restore_truncated_by_1_byte", [](size_t n) { return n - 1; }));
  cases.push_back(appended_case("restore_appended_1_byte", [](const Bytes&) { return Bytes(1, 0); }));
  cases.push_back(appended_case("restore_appended_64_bytes", [](const Bytes&) { return random_bytes(64, 7); }));
  cases.push_back(appended_case("restore_appended_a_copy", [](const Bytes& bytes) { return bytes; }));
  cases.push_back(empty_case("restore_empty", false));
  cases.push_back(empty_case("restore_empty_null", true));
  cases.push_back(corrupt_case("restore_random_bytes", [](const Bytes& bytes, std::string& what) {
    what = std::to_string(bytes.size()) + " random bytes";
    return random_bytes(bytes.size(), 11);
  }));
  cases.push_back(cache_case("restore_from_other_graph", other_graph));
  return cases;
}

}  // namespace

Result<std::vector<CaseSpec>> cache_cases(const SuiteConfig&) {
  std::vector<CaseSpec> cases = {
      cache_case("serialize_size_query", size_query),
      cache_case("serialize_restore_identical", restore_identical),
      cache_case("restore_keeps_no_borrowed_bytes", restore_keeps_no_bytes),
      cache_case("restore_in_place_identical", restore_in_place_identical),
      cache_case("restore_then_serialize_again", serialize_restored),
  };
  for (auto& c : corruption_cases()) cases.push_back(std::move(c));
  return cases;
}

}  // namespace switchyard::conformance
