/* Switchyard plugin ABI 2.0: the whole contract between the Switchyard host and a device plugin.
 *
 * A plugin is a shared library exporting ONE symbol, SwitchyardPluginGetApi (see the end of this
 * file). Everything else is reached through the versioned function table it returns. This header is
 * self-contained C (C89 and later, and C++): a vendor needs nothing else from Switchyard to build a
 * plugin. docs/plugin-abi.md explains each rule below; docs/plugin-authors-guide.md walks through a
 * whole plugin (plugins/template/).
 *
 * Rules (checked by hal/tests: the header compiles as C89/C99/C11/C17/C++17 with -pedantic -Werror,
 * and a golden file of every struct's layout fails the build when a field moves)
 *
 * R1 Versions. SY_ABI_VERSION_MAJOR changes when an existing member changes meaning, type or
 *    place; the host refuses a plugin built for another major. SY_ABI_VERSION_MINOR grows when
 *    members are appended; each appended member is tagged "since 2.N".
 *
 * R2 Extensible structs. Every struct that crosses the boundary starts with `size_t struct_size`.
 *    The side that ALLOCATES the struct sets it, to sizeof the struct as that side was compiled.
 *    A side that reads or fills a struct the other side allocated touches only the fields that
 *    lie wholly inside struct_size (SY_HAS_FIELD); a field past it reads as zero / NULL.
 *    Arrays of structs cross as arrays of pointers, so every element carries its own size.
 *
 * R3 No fixed capacities. There is no fixed-size string or array in the ABI. Strings are
 *    NUL-terminated `const char*` (or pointer + size where bytes may hold zeros); answers of
 *    unknown length (support answers, sequence outputs, profiling events) go through callbacks
 *    the host provides, which copy what they are given.
 *
 * R4 Optional capabilities are function pointers that may be NULL (tagged "optional"); a host
 *    treats NULL as "not provided" and falls back.
 *
 * R5 Every function states ownership (who frees what), lifetime (how long a pointer stays valid)
 *    and threading (which calls may run at once). Unless a function says otherwise it is
 *    thread-safe: the host may call it from several threads at once, including concurrent
 *    execute() calls on the same executable.
 *
 * Errors
 *   Functions return sy_status: NULL means success. A failure is created with the host's
 *   make_status (sy_host_api), so the host owns its memory; the plugin never frees a status it
 *   returns. C++ exceptions (or longjmp) must never cross the boundary.
 */
#ifndef SWITCHYARD_PLUGIN_ABI_H_
#define SWITCHYARD_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_ABI_VERSION_MAJOR 2
#define SY_ABI_VERSION_MINOR 0

#if defined(_WIN32)
#define SY_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SY_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* R2: non-zero when `ptr` (a pointer to `type`) was allocated with room for `field`. */
#define SY_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((const type*)0)->field))

/* ------------------------------------------------------------------------------------------ */
/* Status                                                                                     */

typedef struct sy_status_s* sy_status; /* NULL == success; created by sy_host_api.make_status */

typedef enum sy_status_code {
  SY_OK = 0,
  SY_ERROR_INVALID_ARGUMENT = 1,
  SY_ERROR_NOT_FOUND = 2,
  SY_ERROR_UNSUPPORTED = 3,
  SY_ERROR_UNAVAILABLE = 4,  /* device / driver not present or lost */
  SY_ERROR_OUT_OF_MEMORY = 5,
  SY_ERROR_INTERNAL = 6,
  SY_ERROR_CANCELLED = 7,
  SY_ERROR_DEADLINE_EXCEEDED = 8,
  SY_ERROR_IO = 9,
  SY_ERROR_DATA_LOSS = 10,  /* corrupted serialized executable */
  SY_ERROR_ABI_MISMATCH = 11,
  SY_ERROR_RESOURCE_EXHAUSTED = 12 /* a limit the host set for the work was reached
                                    * (sy_execute_args.max_memory_bytes) */
} sy_status_code;

/* ------------------------------------------------------------------------------------------ */
/* Services the host gives every plugin. Allocated and filled by the host; valid until the      */
/* plugin's last shutdown (the whole time the library is loaded). Every function is thread-safe. */

typedef enum sy_log_level { SY_LOG_DEBUG = 0, SY_LOG_INFO = 1, SY_LOG_WARNING = 2, SY_LOG_ERROR = 3 } sy_log_level;

typedef struct sy_host_api {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Creates a failure status; `message` (may be NULL) is copied. Never returns NULL for
   * code != SY_OK. Ownership passes to whoever receives the status (the host, once returned). */
  sy_status (*make_status)(sy_status_code code, const char* message);
  /* Writes a line to the host's event log; both strings are copied. */
  void (*log)(sy_log_level level, const char* plugin_name, const char* message);
  /* Allocates memory the host may take ownership of (sy_tensor_out.dims past dims_capacity).
   * Returns NULL when out of memory. Memory not handed over is freed with deallocate. */
  void* (*allocate)(size_t size_bytes);
  void (*deallocate)(void* memory);
  /* The host's monotonic clock in nanoseconds: the time base of profiling events. */
  uint64_t (*now_ns)(void);
} sy_host_api;

/* ------------------------------------------------------------------------------------------ */
/* Plugin identity                                                                            */

/* Allocated by the host (struct_size set), filled by the plugin (R2). The strings are the
 * plugin's and stay valid while the library is loaded. */
typedef struct sy_plugin_info {
  size_t struct_size;
  const char* name;    /* short identifier used in device ids ("cpu", "opencl") */
  const char* vendor;
  const char* version; /* plugin version; part of plan-cache keys */
  const char* description;
} sy_plugin_info;

/* A key/value pair from the manifest's `settings` or a compile option. Allocated by the host;
 * the struct and both strings are borrowed for the call that receives them. */
typedef struct sy_setting {
  size_t struct_size;
  const char* key;
  const char* value;
} sy_setting;

/* ------------------------------------------------------------------------------------------ */
/* Devices                                                                                    */

typedef enum sy_device_kind {
  SY_DEVICE_KIND_CPU = 0,
  SY_DEVICE_KIND_GPU = 1,
  SY_DEVICE_KIND_NPU = 2,
  SY_DEVICE_KIND_OTHER = 3
} sy_device_kind;

/* Allocated by the host (struct_size set, every other byte zero), filled by the plugin (R2).
 * The strings are the plugin's and stay valid until its shutdown. */
typedef struct sy_device_info {
  size_t struct_size;
  sy_device_kind kind;           /* kind used for policies (a plugin may take it from a setting) */
  sy_device_kind reported_kind;  /* kind the vendor API reports */
  const char* name;
  const char* vendor;
  const char* driver_version;
  /* Stable identity of this device model + driver build, usable in cache keys: two machines
   * with the same identity can share compiled executables. */
  const char* identity;
  uint64_t memory_bytes;          /* memory usable by executables; 0 if unknown */
  uint64_t max_allocation_bytes;  /* largest single buffer; 0 if unknown */
  double peak_gflops_f32;         /* cost-model figures; 0 if unknown */
  double peak_gflops_f16;
  double memory_bandwidth_gbps;   /* device memory bandwidth, GB/s */
  double host_link_gbps;          /* host <-> device transfer bandwidth; 0 = shares host memory */
  double launch_overhead_us;      /* fixed cost of one execute() */
  double active_power_watts;      /* for the low-power objective; 0 if unknown */
  uint32_t host_visible_memory;   /* 1 if buffer_map returns host pointers */
  /* The float type (sy_element_type) the device computes float32 graphs in: SY_ELEM_FLOAT16 or
   * SY_ELEM_BFLOAT16 for a device that converts them (an NPU), 0 or SY_ELEM_FLOAT32 for exact
   * float32. The conformance suite derives its float tolerances from it (docs/conformance.md). */
  int32_t compute_element_type;
} sy_device_info;

/* ------------------------------------------------------------------------------------------ */
/* Graph view: a read-only C description of a (sub)graph. Every struct in it is allocated and   */
/* filled by the host. Everything is borrowed for the call that receives the graph, except the   */
/* initializers' data (sy_initializer.tensor->data), which stays valid until every executable   */
/* compiled or restored from that graph is released, so plugins may use weights in place.       */
/* Element types use ONNX TensorProto.DataType numbering.                                      */

typedef enum sy_element_type {
  SY_ELEM_UNDEFINED = 0, SY_ELEM_FLOAT32 = 1, SY_ELEM_UINT8 = 2, SY_ELEM_INT8 = 3, SY_ELEM_UINT16 = 4,
  SY_ELEM_INT16 = 5, SY_ELEM_INT32 = 6, SY_ELEM_INT64 = 7, SY_ELEM_STRING = 8, SY_ELEM_BOOL = 9,
  SY_ELEM_FLOAT16 = 10, SY_ELEM_FLOAT64 = 11, SY_ELEM_UINT32 = 12, SY_ELEM_UINT64 = 13,
  SY_ELEM_COMPLEX64 = 14, SY_ELEM_COMPLEX128 = 15, SY_ELEM_BFLOAT16 = 16, SY_ELEM_FLOAT8E4M3FN = 17,
  SY_ELEM_FLOAT8E4M3FNUZ = 18, SY_ELEM_FLOAT8E5M2 = 19, SY_ELEM_FLOAT8E5M2FNUZ = 20, SY_ELEM_UINT4 = 21,
  SY_ELEM_INT4 = 22, SY_ELEM_FLOAT4E2M1 = 23, SY_ELEM_FLOAT8E8M0 = 24, SY_ELEM_UINT2 = 25, SY_ELEM_INT2 = 26
} sy_element_type;

typedef enum sy_value_kind {
  SY_VALUE_TENSOR = 0,
  SY_VALUE_SEQUENCE = 1, /* sequence of tensors of `elem_type` */
  SY_VALUE_OPTIONAL = 2,
  SY_VALUE_UNKNOWN = 3
} sy_value_kind;

typedef struct sy_value_desc {
  size_t struct_size;
  const char* name;
  sy_value_kind kind;
  int32_t elem_type;             /* sy_element_type */
  int32_t rank;                  /* -1: unknown rank */
  const int64_t* dims;           /* rank entries: >= 0 static size, -1 dynamic */
  const char* const* dim_symbols; /* NULL, or rank entries: symbolic name of a dim or NULL */
} sy_value_desc;

/* A constant tensor (initializer data or a tensor attribute). Packed storage, row-major;
 * strings are encoded as described for SY_ELEM_STRING buffers below. */
typedef struct sy_constant {
  size_t struct_size;
  int32_t elem_type;
  int32_t rank;
  const int64_t* dims;
  const void* data;
  size_t size_bytes;
} sy_constant;

struct sy_graph;

typedef enum sy_attribute_type {
  SY_ATTR_UNDEFINED = 0, SY_ATTR_FLOAT = 1, SY_ATTR_INT = 2, SY_ATTR_STRING = 3, SY_ATTR_TENSOR = 4,
  SY_ATTR_GRAPH = 5, SY_ATTR_FLOATS = 6, SY_ATTR_INTS = 7, SY_ATTR_STRINGS = 8, SY_ATTR_TENSORS = 9,
  SY_ATTR_GRAPHS = 10
} sy_attribute_type;

typedef struct sy_attribute {
  size_t struct_size;
  const char* name;
  sy_attribute_type type;
  size_t count;                          /* element count for list types; 1 for scalars */
  double f;                              /* SY_ATTR_FLOAT */
  int64_t i;                             /* SY_ATTR_INT */
  const char* s;                         /* SY_ATTR_STRING: s_size bytes, may hold zeros */
  size_t s_size;
  const float* floats;                   /* SY_ATTR_FLOATS */
  const int64_t* ints;                   /* SY_ATTR_INTS */
  const char* const* strings;            /* SY_ATTR_STRINGS: count strings of string_sizes bytes */
  const size_t* string_sizes;
  const struct sy_constant* const* tensors; /* SY_ATTR_TENSOR (count 1) / SY_ATTR_TENSORS */
  const struct sy_graph* const* graphs;  /* SY_ATTR_GRAPH (count 1) / SY_ATTR_GRAPHS */
} sy_attribute;

typedef struct sy_node {
  size_t struct_size;
  const char* name;
  const char* domain;   /* "" = default ONNX domain */
  const char* op_type;
  int64_t opset;        /* version of `domain` the model imports */
  size_t num_inputs;
  const int32_t* inputs;   /* indices into sy_graph.values; -1 = omitted optional input */
  size_t num_outputs;
  const int32_t* outputs;
  size_t num_attributes;
  const sy_attribute* const* attributes;
} sy_node;

typedef struct sy_initializer {
  size_t struct_size;
  int32_t value;               /* index into sy_graph.values */
  const sy_constant* tensor;
} sy_initializer;

typedef struct sy_graph {
  size_t struct_size;
  const char* name;
  size_t num_values;
  const sy_value_desc* const* values;
  size_t num_nodes;
  const sy_node* const* nodes;  /* topological order */
  size_t num_inputs;
  const int32_t* inputs;        /* runtime inputs, in execute() order */
  size_t num_outputs;
  const int32_t* outputs;       /* in execute() order */
  size_t num_initializers;
  const sy_initializer* const* initializers;
  size_t num_opsets;            /* the model's imports: domain ("" = ONNX) and version */
  const char* const* opset_domains;
  const int64_t* opset_versions;
} sy_graph;

/* ------------------------------------------------------------------------------------------ */
/* Support answers                                                                            */

typedef enum sy_support_reason {
  SY_SUPPORTED = 0,
  SY_UNSUPPORTED_OP = 1,           /* operator (or its opset version) not implemented */
  SY_UNSUPPORTED_ELEMENT_TYPE = 2,
  SY_UNSUPPORTED_SHAPE = 3,        /* rank, dynamic dims, ... */
  SY_UNSUPPORTED_ATTRIBUTE = 4,    /* an attribute value (mode=cubic, ...) */
  SY_UNSUPPORTED_SIZE_LIMIT = 5,   /* exceeds device memory or allocation limit */
  SY_UNSUPPORTED_OTHER = 6
} sy_support_reason;

/* The host's collector of support answers, passed to query_support. Allocated by the host;
 * valid until query_support returns. */
typedef struct sy_support_report {
  size_t struct_size;
  void* context;  /* pass back unchanged */
  /* Records the answer for graph->nodes[node_index]: SY_SUPPORTED with `implementation` (how it
   * runs: "onednn", "opencl"; any length, may be NULL), or a reason with `message` (why not:
   * "Resize mode=cubic unsupported"; any length, may be NULL). Both strings are copied. A later
   * answer for the same node replaces an earlier one; a node never answered counts as
   * unsupported ("the plugin gave no answer"). Call it from any thread, one call at a time. */
  void (*node)(void* context, size_t node_index, sy_support_reason reason, const char* message,
               const char* implementation);
} sy_support_report;

/* ------------------------------------------------------------------------------------------ */
/* Buffers and execution                                                                       */

typedef struct sy_plugin_s* sy_plugin;
typedef struct sy_device_s* sy_device;
typedef struct sy_executable_s* sy_executable;
typedef struct sy_buffer_s* sy_buffer;

/* A tensor argument to execute(): a buffer plus its type and shape. Allocated by the host;
 * borrowed until completion. `buffer` always comes from this plugin's buffer_alloc or
 * buffer_import_host on the executable's device.
 * SY_ELEM_STRING buffers hold `numel` little-endian uint64 byte lengths followed by the
 * concatenated bytes. Sub-byte types are packed, low nibble first. */
typedef struct sy_tensor_arg {
  size_t struct_size;
  sy_buffer buffer;
  int32_t elem_type;
  int32_t rank;
  const int64_t* dims;
} sy_tensor_arg;

/* An output written by execute(). Allocated by the host, filled by the plugin until completion.
 * If `buffer` is non-NULL on entry the plugin writes into it (the host sized it from a static
 * shape). If NULL, the plugin allocates a buffer on the executable's device and stores it here;
 * the host then owns it (releases it with buffer_release), also when the execution fails.
 * The plugin always sets elem_type and rank and writes the shape into `dims`, host storage for
 * dims_capacity entries. A larger rank is allowed: the plugin then stores in `dims` an array of
 * `rank` entries from sy_host_api.allocate, which the host frees. */
typedef struct sy_tensor_out {
  size_t struct_size;
  sy_buffer buffer;
  int32_t elem_type;
  int32_t rank;
  int64_t* dims;
  size_t dims_capacity;
} sy_tensor_out;

/* Called exactly once per accepted execute(), on any thread (possibly before execute returns),
 * with NULL on success or the failure status (ownership passes to the host). The execute's
 * outputs are final then, and the plugin must not touch the sy_execute_args any more. */
typedef void (*sy_completion_fn)(void* user_data, sy_status status);

/* A value that is not (only) a tensor: a sequence of tensors, or an optional. Allocated by the
 * host; borrowed until completion.
 * TENSOR: num_tensors == 1. SEQUENCE: num_tensors items (may be 0). OPTIONAL: has_value == 0 for an
 * empty optional, else element_kind says whether it holds a TENSOR (1 item) or a SEQUENCE. */
typedef struct sy_value_arg {
  size_t struct_size;
  sy_value_kind kind;
  sy_value_kind element_kind;
  int32_t has_value;
  size_t num_tensors;
  const sy_tensor_arg* const* tensors;
} sy_value_arg;

/* An output value written by execute(). Allocated by the host; the plugin sets kind,
 * element_kind and has_value (as for sy_value_arg) and hands over each tensor, in order, with
 * append_tensor, before completion. */
typedef struct sy_value_out {
  size_t struct_size;
  sy_value_kind kind;
  sy_value_kind element_kind;
  int32_t has_value;
  void* context;  /* pass back unchanged */
  /* Appends a tensor: `buffer` (allocated on the executable's device) passes to the host, also
   * when this call fails; `dims` (rank entries, any rank) is copied. Thread-safe. Fails with
   * SY_ERROR_INVALID_ARGUMENT on a bad type or rank; the plugin then completes with that status. */
  sy_status (*append_tensor)(void* context, sy_buffer buffer, int32_t elem_type, int32_t rank, const int64_t* dims);
} sy_value_out;

/* The host's receiver of per-node profiling events, given to execute() when the host traces
 * (NULL otherwise). Allocated by the host; valid until completion. */
typedef struct sy_profiler {
  size_t struct_size;
  void* context;  /* pass back unchanged */
  /* One event for graph->nodes[node_index] of the compiled graph: it ran from start_ns to end_ns
   * on the clock of sy_host_api.now_ns (a device with its own clock converts). `implementation`
   * (may be NULL) is copied. A kernel that runs several nodes fused reports one event, for the
   * first of them, with an implementation naming the fusion. Thread-safe: nodes running in
   * parallel may report at once. */
  void (*node_event)(void* context, size_t node_index, const char* implementation, uint64_t start_ns,
                     uint64_t end_ns);
} sy_profiler;

/* Allocated and filled by the host; borrowed until completion. Exactly one of the two forms is
 * set: `inputs`/`outputs` (every argument a plain tensor) or `input_values`/`output_values`
 * (the graph has sequence or optional inputs or outputs); the other form's pointers are NULL. */
typedef struct sy_execute_args {
  size_t struct_size;
  size_t num_inputs;
  const sy_tensor_arg* const* inputs;    /* in sy_graph.inputs order */
  size_t num_outputs;
  sy_tensor_out* const* outputs;         /* in sy_graph.outputs order */
  const sy_value_arg* const* input_values;
  sy_value_out* const* output_values;
  sy_completion_fn on_complete;
  void* user_data;
  /* Cancellation flag the plugin should poll (non-zero = stop early with SY_ERROR_CANCELLED).
   * May be NULL. The host also raises it when the prediction passes its deadline, so poll it
   * inside long-running work too (each iteration of a loop). */
  const volatile int32_t* cancel_flag;
  /* The most bytes this execution may hold in the values the plugin counts; 0 = no limit. A
   * plugin that enforces it stops with SY_ERROR_RESOURCE_EXHAUSTED and a message naming the node
   * and the limit. What is counted is the plugin's to document (the CPU plugin counts the values
   * Loop, Scan and SequenceMap accumulate and the sequences that sequence operators build). */
  uint64_t max_memory_bytes;
  /* Per-node profiling: NULL unless the host traces. A plugin that can time nodes reports each
   * node it ran; one that cannot ignores it (the host then shows the execute as one event). */
  const sy_profiler* profiler;
} sy_execute_args;

/* ------------------------------------------------------------------------------------------ */
/* The function table                                                                          */

/* Allocated by the plugin (static storage); valid while the library is loaded. */
typedef struct sy_plugin_api {
  size_t struct_size;
  uint32_t abi_major; /* SY_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;

  /* Identity. Fills the host's `out_info` (R2). Thread-safe; may be called before initialize. */
  void (*get_info)(sy_plugin_info* out_info);

  /* Starts the plugin with the manifest's settings (borrowed for the call). Called once per
   * load, before any other call but get_info; not concurrently with anything. A plugin whose
   * vendor API finds no device still succeeds and reports 0 devices, with the reason through
   * get_diagnostics. *out_plugin is the plugin's, released by shutdown. */
  sy_status (*initialize)(const sy_setting* const* settings, size_t num_settings, sy_plugin* out_plugin);
  /* Releases the plugin. The host has released every executable and buffer first, and calls
   * nothing else concurrently or afterwards (but get_info). */
  void (*shutdown)(sy_plugin plugin);
  /* Human-readable state ("no OpenCL platform found"); the plugin's string, valid until shutdown;
   * may be "". */
  const char* (*get_diagnostics)(sy_plugin plugin);

  sy_status (*device_count)(sy_plugin plugin, size_t* out_count);
  /* Devices are owned by the plugin and live until shutdown; no release needed. */
  sy_status (*device_get)(sy_plugin plugin, size_t index, sy_device* out_device);
  /* Fills the host's `out_info` (R2). */
  sy_status (*device_info)(sy_device device, sy_device_info* out_info);

  /* Answers, for every node of `graph`, whether the device runs it, through `report` (called
   * only before query_support returns). Pure query: no compilation side effects. A failure
   * status means no answer at all (the host then places nothing on the device). */
  sy_status (*query_support)(sy_device device, const sy_graph* graph, const sy_support_report* report);

  /* Compiles the whole graph for the device. Options are borrowed for the call. Fails with
   * SY_ERROR_UNSUPPORTED (and a message naming the node) if any node is unsupported.
   * *out_executable is the plugin's, released by executable_release. */
  sy_status (*compile)(sy_device device, const sy_graph* graph, const sy_setting* const* options,
                       size_t num_options, sy_executable* out_executable);
  /* Serializes a compiled executable. Two-call pattern: with `data` NULL it only sets
   * *out_size; then call with a buffer of that size (the host's, borrowed). The bytes exclude
   * the graph's initializers (restore receives the graph again). */
  sy_status (*executable_serialize)(sy_executable executable, void* data, size_t capacity, size_t* out_size);
  /* Rebuilds an executable from serialize()'s bytes (borrowed for the call) and the same graph.
   * Must reject bytes it did not produce (other version, corrupt) with SY_ERROR_DATA_LOSS or
   * SY_ERROR_UNSUPPORTED and a message, never crash. */
  sy_status (*executable_restore)(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                  sy_executable* out_executable);
  /* Releases an executable; no execute() on it is in flight (every completion has been called). */
  void (*executable_release)(sy_executable executable);

  /* Device memory. A buffer is the plugin's, released by buffer_release (no execute using it is
   * in flight then). Transfers are synchronous; `src`/`dst` are borrowed for the call; calls on
   * distinct buffers are thread-safe. */
  sy_status (*buffer_alloc)(sy_device device, size_t size_bytes, sy_buffer* out_buffer);
  void (*buffer_release)(sy_buffer buffer);
  size_t (*buffer_size)(sy_buffer buffer);
  sy_status (*buffer_write)(sy_buffer buffer, size_t offset, const void* src, size_t size);
  sy_status (*buffer_read)(sy_buffer buffer, size_t offset, void* dst, size_t size);

  /* Starts executing. `args` and everything it points to are borrowed until completion.
   * Returns an error only if the work could not be accepted (then on_complete is not called);
   * otherwise on_complete is called exactly once. Must not block waiting for other executions;
   * concurrent calls on the same executable are allowed. */
  sy_status (*execute)(sy_executable executable, const sy_execute_args* args);

  /* Optional: a host pointer to the buffer's memory, valid until the buffer is released (only
   * for devices whose memory is host-visible). */
  void* (*buffer_map)(sy_buffer buffer);

  /* Optional: as executable_restore, but the host keeps `data` valid, unchanged and at the same
   * address until the returned executable is released, so the plugin may use parts of it in
   * place (constants prepared at compile time, such as weights already in the layout a kernel
   * wants) instead of copying them. The host calls it when it can give that guarantee (restoring
   * from a memory-mapped plan-cache entry, where every executable's bytes start 64-byte aligned)
   * and executable_restore otherwise. */
  sy_status (*executable_restore_in_place)(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                           sy_executable* out_executable);

  /* Optional: makes `size_bytes` of host memory at `host_memory` a buffer of the device without
   * copying (a device that shares host memory). The host keeps the memory valid, and neither
   * reads nor writes it while an execute using the buffer is in flight, until buffer_release;
   * the plugin never frees it. `host_memory` is 64-byte aligned. A plugin may refuse (alignment,
   * size, a device that cannot map it) with SY_ERROR_UNSUPPORTED: the host then copies instead. */
  sy_status (*buffer_import_host)(sy_device device, void* host_memory, size_t size_bytes, sy_buffer* out_buffer);
} sy_plugin_api;

/* The one exported entry point. Thread-safety: the host calls it once per load, before anything
 * else. `host` stays valid while the library is loaded. The returned table is the plugin's
 * static storage and stays valid while the library is loaded. A plugin whose major differs from
 * `host_abi_major` still returns its table (the host reports the mismatch, naming both versions);
 * it may also return SY_ERROR_ABI_MISMATCH. */
typedef sy_status (*sy_get_api_fn)(uint32_t host_abi_major, uint32_t host_abi_minor, const sy_host_api* host,
                                   const sy_plugin_api** out_api);

#define SY_PLUGIN_ENTRY_POINT "SwitchyardPluginGetApi"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHYARD_PLUGIN_ABI_H_ */
