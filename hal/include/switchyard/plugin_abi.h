/* Switchyard plugin ABI: the whole contract between the Switchyard host and a device plugin.
 *
 * A plugin is a shared library exporting ONE symbol, SwitchyardPluginGetApi (see the end of this
 * file). Everything else is reached through the versioned function table it returns. This header is
 * self-contained C99: a vendor needs nothing else from Switchyard to build a plugin.
 *
 * Versioning
 *   SY_ABI_VERSION_MAJOR changes only when an existing member changes meaning or layout; the host
 *   refuses a plugin whose major differs. SY_ABI_VERSION_MINOR grows when members are appended.
 *   Every struct that crosses the boundary starts with `struct_size` (set by whoever fills it);
 *   fields are only ever appended, each tagged with the minor version that added it. A reader
 *   must check `struct_size` before touching a field past the ones it knows, and may treat a NULL
 *   optional function pointer as "not provided".
 *
 * Errors
 *   Functions return sy_status: NULL means success. A failure is created with the host's
 *   make_status (sy_host_api), so the host owns its memory; the plugin never frees a status.
 *   Exceptions (or longjmp) must never cross the boundary.
 *
 * Ownership and lifetime
 *   Handles (sy_plugin, sy_device, sy_executable, sy_buffer) are opaque and created/released in
 *   pairs in the same table. Strings the plugin returns in info structs stay valid until the
 *   plugin is shut down. Graph views passed in are borrowed for the duration of the call, except
 *   initializer data (sy_initializer.data), which stays valid until every executable compiled or
 *   restored from that graph is released, so plugins may use weights in place without copying.
 *
 * Threading
 *   Unless a function says otherwise it is thread-safe: the host may call it from several
 *   threads at once, including concurrent execute() calls on the same executable.
 */
#ifndef SWITCHYARD_PLUGIN_ABI_H_
#define SWITCHYARD_PLUGIN_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SY_ABI_VERSION_MAJOR 1
#define SY_ABI_VERSION_MINOR 4

#if defined(_WIN32)
#define SY_PLUGIN_EXPORT __declspec(dllexport)
#else
#define SY_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status                                                                                     */

typedef struct sy_status_s* sy_status; /* NULL == success; created by the host */

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
  SY_ERROR_RESOURCE_EXHAUSTED = 12 /* since 1.4: a limit the host set for the work was reached
                                    * (sy_execute_args.max_memory_bytes) */
} sy_status_code;

/* ------------------------------------------------------------------------------------------ */
/* Services the host gives every plugin (filled by the host).                                  */

typedef enum sy_log_level { SY_LOG_DEBUG = 0, SY_LOG_INFO = 1, SY_LOG_WARNING = 2, SY_LOG_ERROR = 3 } sy_log_level;

typedef struct sy_host_api {
  size_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  /* Creates a failure status; `message` is copied. Never returns NULL for code != SY_OK.
   * Thread-safe. */
  sy_status (*make_status)(sy_status_code code, const char* message);
  /* Writes a line to the host's event log; `message` is copied. Thread-safe. May be NULL-safe
   * no-op in hosts that do not log. */
  void (*log)(sy_log_level level, const char* plugin_name, const char* message);

  /* --- since 1.1 --- */
  /* Allocates memory the host will own and free (e.g. sy_value_out.tensors). Returns NULL when
   * out of memory. Thread-safe. */
  void* (*allocate)(size_t size_bytes);
} sy_host_api;

/* ------------------------------------------------------------------------------------------ */
/* Plugin identity                                                                            */

typedef struct sy_plugin_info {
  size_t struct_size;
  const char* name;    /* short identifier used in device ids ("cpu", "opencl") */
  const char* vendor;
  const char* version; /* plugin version; part of plan-cache keys */
  const char* description;
} sy_plugin_info;

typedef struct sy_setting {
  const char* key;   /* borrowed for the call */
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

typedef struct sy_device_info {
  size_t struct_size;
  sy_device_kind kind;           /* kind used for policies (may be reclassified by the manifest) */
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
  /* --- since 1.2 --- */
  /* The float type (sy_element_type) the device computes float32 graphs in: SY_ELEM_FLOAT16 or
   * SY_ELEM_BFLOAT16 for a device that converts them (an NPU), 0 or SY_ELEM_FLOAT32 for exact
   * float32. The host reads it only when struct_size covers it (older plugins: float32). The
   * conformance suite derives its float tolerances from it (docs/conformance.md). */
  int32_t compute_element_type;
} sy_device_info;

/* ------------------------------------------------------------------------------------------ */
/* Graph view: a read-only C description of a (sub)graph, built by the host.                  */
/* Element types use ONNX TensorProto.DataType numbering.                                      */

typedef enum sy_element_type {
  SY_ELEM_UNDEFINED = 0, SY_ELEM_FLOAT32 = 1, SY_ELEM_UINT8 = 2, SY_ELEM_INT8 = 3, SY_ELEM_UINT16 = 4,
  SY_ELEM_INT16 = 5, SY_ELEM_INT32 = 6, SY_ELEM_INT64 = 7, SY_ELEM_STRING = 8, SY_ELEM_BOOL = 9,
  SY_ELEM_FLOAT16 = 10, SY_ELEM_FLOAT64 = 11, SY_ELEM_UINT32 = 12, SY_ELEM_UINT64 = 13,
  SY_ELEM_COMPLEX64 = 14, SY_ELEM_COMPLEX128 = 15, SY_ELEM_BFLOAT16 = 16, SY_ELEM_FLOAT8E4M3FN = 17,
  SY_ELEM_FLOAT8E4M3FNUZ = 18, SY_ELEM_FLOAT8E5M2 = 19, SY_ELEM_FLOAT8E5M2FNUZ = 20, SY_ELEM_UINT4 = 21,
  SY_ELEM_INT4 = 22, SY_ELEM_FLOAT4E2M1 = 23, SY_ELEM_FLOAT8E8M0 = 24, SY_ELEM_UINT2 = 25, SY_ELEM_INT2 = 26
} sy_element_type;

typedef struct sy_dim {
  int64_t value;      /* >= 0 static size; -1 dynamic */
  const char* symbol; /* symbolic name or NULL */
} sy_dim;

typedef enum sy_value_kind {
  SY_VALUE_TENSOR = 0,
  SY_VALUE_SEQUENCE = 1, /* sequence of tensors of `elem_type` */
  SY_VALUE_OPTIONAL = 2,
  SY_VALUE_UNKNOWN = 3
} sy_value_kind;

typedef struct sy_value_desc {
  const char* name;
  sy_value_kind kind;
  int32_t elem_type; /* sy_element_type */
  int32_t rank;      /* -1: unknown rank */
  const sy_dim* dims;
} sy_value_desc;

/* A constant tensor (initializer data or a tensor attribute). Packed storage, row-major;
 * strings are encoded as described for SY_ELEM_STRING buffers below. */
typedef struct sy_constant {
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

typedef struct sy_bytes {
  const char* data; /* not NUL-terminated necessarily; may contain zero bytes */
  size_t size;
} sy_bytes;

typedef struct sy_attribute {
  const char* name;
  sy_attribute_type type;
  size_t count;                 /* element count for list types; 1 for scalars */
  double f;                     /* SY_ATTR_FLOAT */
  int64_t i;                    /* SY_ATTR_INT */
  sy_bytes s;                   /* SY_ATTR_STRING */
  const float* floats;          /* SY_ATTR_FLOATS */
  const int64_t* ints;          /* SY_ATTR_INTS */
  const sy_bytes* strings;      /* SY_ATTR_STRINGS */
  const sy_constant* tensors;   /* SY_ATTR_TENSOR (count 1) / SY_ATTR_TENSORS */
  const struct sy_graph* const* graphs; /* SY_ATTR_GRAPH (count 1) / SY_ATTR_GRAPHS */
} sy_attribute;

typedef struct sy_node {
  const char* name;
  const char* domain;   /* "" = default ONNX domain */
  const char* op_type;
  int64_t opset;        /* version of `domain` the model imports */
  size_t num_inputs;
  const int32_t* inputs;   /* indices into sy_graph.values; -1 = omitted optional input */
  size_t num_outputs;
  const int32_t* outputs;
  size_t num_attributes;
  const sy_attribute* attributes;
} sy_node;

typedef struct sy_initializer {
  int32_t value;   /* index into sy_graph.values */
  sy_constant tensor;
} sy_initializer;

typedef struct sy_opset {
  const char* domain;
  int64_t version;
} sy_opset;

typedef struct sy_graph {
  size_t struct_size;
  const char* name;
  size_t num_values;
  const sy_value_desc* values;
  size_t num_nodes;
  const sy_node* nodes;         /* topological order */
  size_t num_inputs;
  const int32_t* inputs;        /* runtime inputs, in execute() order */
  size_t num_outputs;
  const int32_t* outputs;       /* in execute() order */
  size_t num_initializers;
  const sy_initializer* initializers;
  size_t num_opsets;
  const sy_opset* opsets;
} sy_graph;

/* ------------------------------------------------------------------------------------------ */
/* Support query                                                                              */

typedef enum sy_support_reason {
  SY_SUPPORTED = 0,
  SY_UNSUPPORTED_OP = 1,           /* operator (or its opset version) not implemented */
  SY_UNSUPPORTED_ELEMENT_TYPE = 2,
  SY_UNSUPPORTED_SHAPE = 3,        /* rank, dynamic dims, ... */
  SY_UNSUPPORTED_ATTRIBUTE = 4,    /* an attribute value (mode=cubic, ...) */
  SY_UNSUPPORTED_SIZE_LIMIT = 5,   /* exceeds device memory or allocation limit */
  SY_UNSUPPORTED_OTHER = 6
} sy_support_reason;

typedef struct sy_node_support {
  sy_support_reason reason;  /* SY_SUPPORTED when the device runs the node */
  char message[256];         /* why not, NUL-terminated ("Resize mode=cubic unsupported") */
  char implementation[32];   /* how it runs when supported ("onednn", "reference", "opencl") */
} sy_node_support;

/* ------------------------------------------------------------------------------------------ */
/* Buffers and execution                                                                       */

typedef struct sy_plugin_s* sy_plugin;
typedef struct sy_device_s* sy_device;
typedef struct sy_executable_s* sy_executable;
typedef struct sy_buffer_s* sy_buffer;

/* A tensor argument to execute(): a buffer plus its type and shape.
 * SY_ELEM_STRING buffers hold `numel` little-endian uint64 byte lengths followed by the
 * concatenated bytes. Sub-byte types are packed, low nibble first. */
typedef struct sy_tensor_arg {
  sy_buffer buffer;
  int32_t elem_type;
  int32_t rank;
  const int64_t* dims;  /* inputs: borrowed for the call */
} sy_tensor_arg;

/* An output written by execute(). If `buffer` is non-NULL on entry the plugin writes into it
 * (the host sized it from a static shape). If NULL, the plugin allocates a buffer on the
 * executable's device, stores it here, and the host owns it (releases with buffer_release).
 * The plugin always fills elem_type, rank and dims (up to SY_MAX_RANK) before completion. */
#define SY_MAX_RANK 16
typedef struct sy_tensor_out {
  sy_buffer buffer;
  int32_t elem_type;
  int32_t rank;
  int64_t dims[SY_MAX_RANK];
} sy_tensor_out;

/* Called exactly once per accepted execute(), on any thread (possibly before execute returns),
 * with NULL on success or the failure status. `outputs` of the execute call are final then. */
typedef void (*sy_completion_fn)(void* user_data, sy_status status);

/* since 1.1: a value that is not (only) a tensor: a sequence of tensors, or an optional.
 * TENSOR: num_tensors == 1. SEQUENCE: num_tensors items (may be 0). OPTIONAL: has_value == 0 for an
 * empty optional, else element_kind says whether it holds a TENSOR (1 item) or a SEQUENCE. */
typedef struct sy_value_arg {
  sy_value_kind kind;
  sy_value_kind element_kind;
  int32_t has_value;
  size_t num_tensors;
  const sy_tensor_arg* tensors;  /* borrowed until completion */
} sy_value_arg;

/* since 1.1: an output value written by execute(). `tensors` is allocated by the plugin with
 * sy_host_api.allocate (num_tensors entries, buffers allocated as for sy_tensor_out); the host
 * owns and frees the array and the buffers. */
typedef struct sy_value_out {
  sy_value_kind kind;
  sy_value_kind element_kind;
  int32_t has_value;
  size_t num_tensors;
  sy_tensor_out* tensors;
} sy_value_out;

typedef struct sy_execute_args {
  size_t struct_size;
  size_t num_inputs;
  const sy_tensor_arg* inputs;   /* in sy_graph.inputs order; borrowed until completion */
  size_t num_outputs;
  sy_tensor_out* outputs;        /* in sy_graph.outputs order; written until completion */
  sy_completion_fn on_complete;
  void* user_data;
  /* Optional cancellation flag the plugin may poll (non-zero = stop early with
   * SY_ERROR_CANCELLED). May be NULL. The host also raises it when the prediction passes its
   * deadline, so poll it inside long-running work too (each iteration of a loop). */
  const volatile int32_t* cancel_flag;

  /* --- since 1.1 --- */
  /* When non-NULL (the plugin reports abi_minor >= 1 and the graph has sequence or optional
   * inputs/outputs), input_values[i] replaces inputs[i] and output_values[i] replaces outputs[i];
   * `inputs`/`outputs` are then NULL. A plugin reads these fields only if struct_size covers them. */
  const sy_value_arg* input_values;
  sy_value_out* output_values;

  /* --- since 1.4 --- */
  /* The most bytes this execution may hold in the values the plugin counts; 0 = no limit. A
   * plugin that enforces it stops with SY_ERROR_RESOURCE_EXHAUSTED and a message naming the node
   * and the limit. What is counted is the plugin's to document (the CPU plugin counts the values
   * Loop, Scan and SequenceMap accumulate and the sequences that sequence operators build). A
   * plugin reads it only if struct_size covers it; a host older than 1.4 never sets it. */
  uint64_t max_memory_bytes;
} sy_execute_args;

/* ------------------------------------------------------------------------------------------ */
/* The function table                                                                          */

typedef struct sy_plugin_api {
  size_t struct_size;
  uint32_t abi_major; /* SY_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;

  /* --- since 1.0 --- */

  /* Identity; static strings. Not thread-sensitive; may be called before initialize. */
  void (*get_info)(sy_plugin_info* out_info);

  /* Starts the plugin with the manifest's settings (borrowed for the call). Called once per
   * load. A plugin whose vendor API finds no device still succeeds and reports 0 devices, with
   * the reason through get_diagnostics. */
  sy_status (*initialize)(const sy_setting* settings, size_t num_settings, sy_plugin* out_plugin);
  /* Releases the plugin; every device, executable and buffer must be released first. */
  void (*shutdown)(sy_plugin plugin);
  /* Human-readable state ("no OpenCL platform found"); static until shutdown; may be "". */
  const char* (*get_diagnostics)(sy_plugin plugin);

  sy_status (*device_count)(sy_plugin plugin, size_t* out_count);
  /* Devices are owned by the plugin and live until shutdown; no release needed. */
  sy_status (*device_get)(sy_plugin plugin, size_t index, sy_device* out_device);
  /* Fills `out_info` (caller sets struct_size; plugin fills at most that many bytes). */
  sy_status (*device_info)(sy_device device, sy_device_info* out_info);

  /* Per-node answer for every node in `graph`: `out_support` has graph->num_nodes entries,
   * caller-allocated. Pure query: no compilation side effects. */
  sy_status (*query_support)(sy_device device, const sy_graph* graph, sy_node_support* out_support);

  /* Compiles the whole graph for the device. Options are borrowed for the call.
   * Fails with SY_ERROR_UNSUPPORTED (and a message naming the node) if any node is unsupported. */
  sy_status (*compile)(sy_device device, const sy_graph* graph, const sy_setting* options,
                       size_t num_options, sy_executable* out_executable);
  /* Serializes a compiled executable. Two-call pattern: with `data` NULL it only sets
   * *out_size; then call with a buffer of that size. The bytes exclude the graph's
   * initializers (restore receives the graph again). */
  sy_status (*executable_serialize)(sy_executable executable, void* data, size_t capacity, size_t* out_size);
  /* Rebuilds an executable from serialize()'s bytes and the same graph. Must reject bytes it did
   * not produce (other version, corrupt) with SY_ERROR_DATA_LOSS or SY_ERROR_UNSUPPORTED and a
   * message, never crash. */
  sy_status (*executable_restore)(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                  sy_executable* out_executable);
  void (*executable_release)(sy_executable executable);

  /* Device memory. Transfers are synchronous and thread-safe for distinct buffers. */
  sy_status (*buffer_alloc)(sy_device device, size_t size_bytes, sy_buffer* out_buffer);
  void (*buffer_release)(sy_buffer buffer);
  size_t (*buffer_size)(sy_buffer buffer);
  sy_status (*buffer_write)(sy_buffer buffer, size_t offset, const void* src, size_t size);
  sy_status (*buffer_read)(sy_buffer buffer, size_t offset, void* dst, size_t size);
  /* Optional (NULL if device memory is not host-visible): a host pointer valid until the
   * buffer is released. */
  void* (*buffer_map)(sy_buffer buffer);

  /* Starts executing. Returns an error only if the work could not be accepted (then on_complete
   * is not called); otherwise on_complete is called exactly once. Must not block waiting for
   * other executions; concurrent calls on the same executable are allowed. */
  sy_status (*execute)(sy_executable executable, const sy_execute_args* args);

  /* --- since 1.3 --- */
  /* Optional (NULL: not provided). As executable_restore, but the host keeps `data` valid,
   * unchanged and at the same address until the returned executable is released, so the plugin
   * may use parts of it in place (constants prepared at compile time, such as weights already in
   * the layout a kernel wants) instead of copying them. The host calls it when it can give that
   * guarantee (restoring from a memory-mapped plan-cache entry, where every executable's bytes
   * start 64-byte aligned) and executable_restore otherwise. */
  sy_status (*executable_restore_in_place)(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                           sy_executable* out_executable);
} sy_plugin_api;

/* The one exported entry point.
 * `host` stays valid until shutdown. The returned table is static and stays valid while the
 * library is loaded. A plugin whose major version differs from `host_abi_major` should still
 * return its table (the host reports the mismatch); it may return SY_ERROR_ABI_MISMATCH. */
typedef sy_status (*sy_get_api_fn)(uint32_t host_abi_major, uint32_t host_abi_minor, const sy_host_api* host,
                                   const sy_plugin_api** out_api);

#define SY_PLUGIN_ENTRY_POINT "SwitchyardPluginGetApi"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SWITCHYARD_PLUGIN_ABI_H_ */
