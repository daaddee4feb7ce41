// The api suite's buffer cases: allocation (zero bytes included), transfers at offsets and out of
// range, buffer_map and buffer_import_host where offered, and concurrent use of distinct buffers.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "abi_probe.h"
#include "switchyard/hal/abi_calls.h"

namespace switchyard::conformance::abi {

namespace {

std::vector<unsigned char> pattern_bytes(size_t size, unsigned seed) {
  std::vector<unsigned char> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>((i * 31 + seed * 17 + 5) & 0xff);
  return bytes;
}

Result<Buffer> allocate(const AbiDevice& d, size_t size) {
  sy_buffer handle = nullptr;
  SY_RETURN_IF_ERROR(take_status(SY_CALL_PLUGIN(*d.api, buffer_alloc, d.device, size, &handle))
                         .with_context("buffer_alloc(" + std::to_string(size) + ")"));
  if (!handle) return Status(StatusCode::internal, "buffer_alloc(" + std::to_string(size) + ") succeeded without a buffer");
  return Buffer(d.api, handle);
}

Status write(const AbiDevice& d, const Buffer& b, size_t offset, const void* src, size_t size) {
  return take_status(SY_CALL_PLUGIN(*d.api, buffer_write, b.get(), offset, src, size));
}

Status read(const AbiDevice& d, const Buffer& b, size_t offset, void* dst, size_t size) {
  return take_status(SY_CALL_PLUGIN(*d.api, buffer_read, b.get(), offset, dst, size));
}

// The buffer's whole contents equal `want`; "" or where they differ.
std::string contents_problem(const AbiDevice& d, const Buffer& b, const std::vector<unsigned char>& want) {
  std::vector<unsigned char> got(want.size());
  if (Status st = read(d, b, 0, got.data(), got.size()); !st.ok()) return "buffer_read of " + std::to_string(got.size()) + " bytes: " + describe(st);
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i]) return "byte " + std::to_string(i) + " reads " + std::to_string(got[i]) + ", written " + std::to_string(want[i]);
  return {};
}

// One buffer: allocated, sized, written and read back. "" or the problem.
std::string round_trip(const AbiDevice& d, size_t size, unsigned seed) {
  auto b = allocate(d, size);
  if (!b.ok()) return describe(b.status());
  const size_t reported = SY_CALL_PLUGIN(*d.api, buffer_size, b->get());
  if (reported < size) return "buffer_size says " + std::to_string(reported) + " bytes for buffer_alloc(" + std::to_string(size) + ")";
  const auto bytes = pattern_bytes(size, seed);
  if (Status st = write(d, *b, 0, bytes.data(), size); !st.ok()) return "buffer_write of " + std::to_string(size) + " bytes: " + describe(st);
  return contents_problem(d, *b, bytes);
}

CaseResult alloc_write_read(const AbiDevice& d) {
  for (size_t size : {size_t{1}, size_t{3}, size_t{64}, size_t{4099}, size_t{1} << 20})
    if (std::string p = round_trip(d, size, static_cast<unsigned>(size)); !p.empty()) return failed("buffer", std::to_string(size) + " bytes: " + p);
  return passed("1, 3, 64, 4099 and 1 MiB");
}

// The host allocates 0 bytes for every empty tensor it uploads, and needs a buffer back.
CaseResult alloc_zero_size(const AbiDevice& d) {
  auto b = allocate(d, 0);
  if (!b.ok()) return failed("buffer_alloc(0)", describe(b.status()) + " (the host allocates 0 bytes for every empty tensor it uploads)");
  const size_t reported = SY_CALL_PLUGIN(*d.api, buffer_size, b->get());
  return passed("buffer_size " + std::to_string(reported));
}

CaseResult transfers_at_offsets(const AbiDevice& d) {
  constexpr size_t kSize = 256;
  auto b = allocate(d, kSize);
  if (!b.ok()) return failed("buffer_alloc", describe(b.status()));
  auto want = pattern_bytes(kSize, 1);
  const auto patch = pattern_bytes(16, 2);
  if (Status st = write(d, *b, 0, want.data(), kSize); !st.ok()) return failed("buffer_write", describe(st));
  if (Status st = write(d, *b, 100, patch.data(), patch.size()); !st.ok()) return failed("buffer_write", "16 bytes at offset 100: " + describe(st));
  std::copy(patch.begin(), patch.end(), want.begin() + 100);
  std::vector<unsigned char> got(32);
  if (Status st = read(d, *b, 90, got.data(), got.size()); !st.ok()) return failed("buffer_read", "32 bytes at offset 90: " + describe(st));
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[90 + i]) return failed("buffer_read", "32 bytes at offset 90: byte " + std::to_string(90 + i) + " differs from what was written");
  if (std::string p = contents_problem(d, *b, want); !p.empty()) return failed("buffer_read", p);
  return passed();
}

// Transfers past the end (and offsets that wrap around) are refused with a message and change nothing.
CaseResult transfers_out_of_range(const AbiDevice& d) {
  constexpr size_t kSize = 64;
  auto b = allocate(d, kSize);
  if (!b.ok()) return failed("buffer_alloc", describe(b.status()));
  const auto want = pattern_bytes(kSize, 3);
  if (Status st = write(d, *b, 0, want.data(), kSize); !st.ok()) return failed("buffer_write", describe(st));
  std::vector<unsigned char> scratch(2 * kSize, 0);
  struct Transfer {
    bool is_write;
    size_t offset, size;
  };
  const Transfer transfers[] = {{true, 60, 8}, {true, 65, 1}, {true, SIZE_MAX - 3, 8}, {false, 0, 65}, {false, 64, 1}, {false, SIZE_MAX, 2}};
  for (const auto& t : transfers) {
    Status st = t.is_write ? write(d, *b, t.offset, scratch.data(), t.size) : read(d, *b, t.offset, scratch.data(), t.size);
    if (std::string p = refusal_problem(st); !p.empty())
      return failed("out of range", std::string(t.is_write ? "buffer_write" : "buffer_read") + " of " + std::to_string(t.size) + " bytes at offset " +
                                        std::to_string(t.offset) + " of a " + std::to_string(kSize) + "-byte buffer " + p);
  }
  if (std::string p = contents_problem(d, *b, want); !p.empty()) return failed("out of range", "after the refused transfers: " + p);
  return passed();
}

CaseResult map_is_coherent(const AbiDevice& d) {
  if (!d.api->buffer_map) return skipped("the plugin does not offer buffer_map");
  constexpr size_t kSize = 256;
  auto b = allocate(d, kSize);
  if (!b.ok()) return failed("buffer_alloc", describe(b.status()));
  const auto written = pattern_bytes(kSize, 4);
  if (Status st = write(d, *b, 0, written.data(), kSize); !st.ok()) return failed("buffer_write", describe(st));
  auto* mapped = static_cast<unsigned char*>(SY_CALL_PLUGIN(*d.api, buffer_map, b->get()));
  if (!mapped)
    return d.host_device->info().host_visible_memory ? failed("buffer_map", "NULL, though device_info reports host-visible memory")
                                                     : skipped("buffer_map returned NULL: the device reports memory that is not host-visible");
  if (std::memcmp(mapped, written.data(), kSize) != 0) return failed("buffer_map", "the mapped bytes differ from what buffer_write wrote");
  const auto through_map = pattern_bytes(kSize, 5);
  std::memcpy(mapped, through_map.data(), kSize);
  if (std::string p = contents_problem(d, *b, through_map); !p.empty()) return failed("buffer_map", "after writing through the map: " + p);
  if (SY_CALL_PLUGIN(*d.api, buffer_map, b->get()) != mapped) return failed("buffer_map", "a second buffer_map of the same buffer gave another address");
  return passed();
}

// Imported host memory is the buffer (no copy): what the host writes there reads back; the plugin
// never frees it.
CaseResult import_host_memory(const AbiDevice& d) {
  if (!d.api->buffer_import_host) return skipped("the plugin does not offer buffer_import_host");
  constexpr size_t kSize = 256;
  std::unique_ptr<unsigned char, decltype(&std::free)> memory(static_cast<unsigned char*>(std::aligned_alloc(64, kSize)), &std::free);
  const auto first = pattern_bytes(kSize, 6), second = pattern_bytes(kSize, 7);
  std::memcpy(memory.get(), first.data(), kSize);
  sy_buffer handle = nullptr;
  Status st = take_status(SY_CALL_PLUGIN(*d.api, buffer_import_host, d.device, memory.get(), kSize, &handle));
  if (st.code() == StatusCode::unsupported && !st.message().empty()) return skipped("buffer_import_host refuses 64-byte aligned memory: " + st.message());
  if (!st.ok() || !handle) return failed("buffer_import_host", st.ok() ? "succeeded without a buffer" : describe(st) + (st.message().empty() ? " (no message)" : ""));
  Buffer b(d.api, handle);
  if (std::string p = contents_problem(d, b, first); !p.empty()) return failed("buffer_import_host", p);
  std::memcpy(memory.get(), second.data(), kSize);
  if (std::string p = contents_problem(d, b, second); !p.empty()) return failed("buffer_import_host", "after the host changed its memory (no copy expected): " + p);
  b.reset();
  if (std::memcmp(memory.get(), second.data(), kSize) != 0) return failed("buffer_import_host", "buffer_release changed the host's memory");
  return passed();
}

// "Calls on distinct buffers are thread-safe": four threads, each its own buffers.
CaseResult distinct_buffers_concurrently(const AbiDevice& d) {
  constexpr int kThreads = 4, kRounds = 100;
  const std::string first_problem = first_problem_on_threads(kThreads, kRounds, "round", [&](int t, int round) {
    return round_trip(d, 1024 + static_cast<size_t>(t), static_cast<unsigned>(t * kRounds + round));
  });
  if (!first_problem.empty()) return failed("concurrency", first_problem);
  return passed(std::to_string(kThreads) + " threads x " + std::to_string(kRounds) + " buffers");
}

}  // namespace

std::vector<CaseSpec> api_buffer_cases() {
  return {
      device_case("api", "buffer_alloc_write_read", alloc_write_read),
      device_case("api", "buffer_alloc_zero_size", alloc_zero_size),
      device_case("api", "buffer_transfer_at_offsets", transfers_at_offsets),
      device_case("api", "buffer_transfer_out_of_range", transfers_out_of_range),
      device_case("api", "buffer_map_coherent", map_is_coherent),
      device_case("api", "buffer_import_host_no_copy", import_host_memory),
      device_case("api", "buffer_concurrent_4_threads", distinct_buffers_concurrently),
  };
}

}  // namespace switchyard::conformance::abi
