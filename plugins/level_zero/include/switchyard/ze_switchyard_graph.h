/* ZE_extension_switchyard_graph: the contract a Level Zero NPU driver implements so that
 * Switchyard can run graph segments on it.
 *
 * A driver advertises the extension in zeDriverGetExtensionProperties (name
 * ZE_SWITCHYARD_GRAPH_EXT_NAME, version ZE_SWITCHYARD_GRAPH_EXT_VERSION) and hands out each
 * function below through zeDriverGetExtensionFunctionAddress(driver, "<function name>", &fn).
 * Handles passed to these functions are DRIVER handles: an application that talks to the
 * driver through the Level Zero loader translates its loader handles first with
 * zelLoaderTranslateHandle (a no-op when the loader does not intercept).
 *
 * Graph input: Switchyard's serialised segment (ZE_SY_GRAPH_FORMAT_SEGMENT, layout in
 * docs/level-zero-npu.md and plugins/level_zero/common/segment_format.h) or the driver's own
 * compiled blob (ZE_SY_GRAPH_FORMAT_NATIVE).
 *
 * Errors: every function returns a ze_result_t; the reason in words for the last failure on
 * the calling thread is returned by zeSwitchyardGetLastError.
 *
 * Ownership: bytes passed in are borrowed for the call (the driver copies what it keeps).
 * A graph is owned by the application and released with zeSwitchyardGraphDestroy after every
 * command list that references it has finished executing. Argument pointers given to
 * zeSwitchyardCommandListAppendGraphExecute are memory allocated with zeMemAlloc* in the
 * command list's context; they must stay valid until the command list has executed.
 *
 * Threading: every function may be called from several threads at once, except that a
 * command list is not appended to from two threads at once (as for every Level Zero list).
 */
#ifndef ZE_SWITCHYARD_GRAPH_H_
#define ZE_SWITCHYARD_GRAPH_H_

#include <stddef.h>
#include <stdint.h>

#include <level_zero/ze_api.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZE_SWITCHYARD_GRAPH_EXT_NAME "ZE_extension_switchyard_graph"
/* 1.1 appended zeSwitchyardCommandListAppendGraphExecuteAbortable; a 1.0 driver lacks it. */
#define ZE_SWITCHYARD_GRAPH_EXT_VERSION ZE_MAKE_VERSION(1, 1)
/* Version of the serialised segment format this header describes. */
#define ZE_SWITCHYARD_SEGMENT_VERSION 1u

typedef struct _ze_switchyard_graph_handle_t* ze_switchyard_graph_handle_t;

typedef enum _ze_switchyard_graph_format_t {
  ZE_SWITCHYARD_GRAPH_FORMAT_SEGMENT = 0, /* Switchyard's serialised segment: needs compile */
  ZE_SWITCHYARD_GRAPH_FORMAT_NATIVE = 1   /* the driver's blob: already compiled */
} ze_switchyard_graph_format_t;

typedef struct _ze_switchyard_graph_desc_t {
  uint32_t format;        /* ze_switchyard_graph_format_t */
  const void* data;       /* borrowed for the call */
  size_t size;
  const char* options;    /* "key=value;key=value" compile options, may be NULL */
} ze_switchyard_graph_desc_t;

/* Per-node answer; `reason` uses Switchyard's sy_support_reason numbering (0 = supported,
 * 1 op, 2 element type, 3 shape, 4 attribute, 5 size limit, 6 other). */
typedef struct _ze_switchyard_node_support_t {
  uint32_t reason;
  char message[256];
  char implementation[32];
} ze_switchyard_node_support_t;

#define ZE_SWITCHYARD_MAX_RANK 8
typedef struct _ze_switchyard_argument_t {
  int32_t elem_type;  /* ONNX TensorProto.DataType numbering */
  int32_t rank;
  int64_t dims[ZE_SWITCHYARD_MAX_RANK];
  uint64_t size_bytes;
} ze_switchyard_argument_t;

typedef struct _ze_switchyard_graph_properties_t {
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t compiled;            /* 1 after compile / when created from a native blob */
  uint32_t blob_version;        /* native blob format version the driver writes */
  uint64_t weights_bytes;       /* on-chip bytes for weights after conversion */
  uint64_t scratch_bytes;       /* on-chip bytes for intermediate tensors (planned) */
  uint64_t memory_limit_bytes;  /* the device's on-chip limit */
  uint64_t ops;                 /* multiply-adds x2 + elementwise ops per execution */
  char compiler_version[64];
} ze_switchyard_graph_properties_t;

/* The device's performance model (figures the driver reports for cost models; for real
 * hardware the vendor's datasheet figures, for the simulator its settings). */
typedef struct _ze_switchyard_device_model_t {
  double tops_int8;            /* peak int8 tera-operations per second */
  double tflops_f16;           /* peak float16 tera-FLOP/s */
  double active_power_watts;   /* power while executing */
  double bandwidth_gbps;       /* memory bandwidth seen by the engine */
  double launch_overhead_us;   /* fixed cost of one graph execution */
  uint64_t memory_limit_bytes; /* on-chip memory a compiled graph must fit in */
  uint32_t blob_version;       /* native blob format version written and accepted */
  char compiler_version[64];
  /* Appended (extension 1.0, Switchyard 0.1): the float type float32 graphs are computed in, ONNX
   * numbering (10 float16, 16 bfloat16, 1 float32). 0 = float16, the extension's default. The
   * caller zero-fills the struct, so a driver that does not write the field reports float16. */
  int32_t float_compute_type;
} ze_switchyard_device_model_t;

typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardDeviceGetModel_t)(ze_device_handle_t device, ze_switchyard_device_model_t* model);

/* zeSwitchyardGetLastError: message for the last failure on this thread ("" if none).
 * The string is owned by the driver and valid until the next call on this thread. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGetLastError_t)(const char** message);

/* zeSwitchyardGraphQuerySupport: pure query over a serialised segment. `out` has num_nodes
 * entries (num_nodes must equal the segment's node count). No state is created. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphQuerySupport_t)(ze_device_handle_t device, const void* segment,
                                                                       size_t size, uint32_t num_nodes,
                                                                       ze_switchyard_node_support_t* out);

/* zeSwitchyardGraphCreate: from a SEGMENT (parsed and checked, not yet compiled) or a NATIVE
 * blob (validated and loaded; compiled). A native blob written by another compiler version is
 * refused with ZE_RESULT_ERROR_UNSUPPORTED_VERSION, a corrupt one with
 * ZE_RESULT_ERROR_INVALID_NATIVE_BINARY; the reason is in zeSwitchyardGetLastError. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphCreate_t)(ze_context_handle_t context, ze_device_handle_t device,
                                                                const ze_switchyard_graph_desc_t* desc,
                                                                ze_switchyard_graph_handle_t* out_graph);

/* zeSwitchyardGraphCompile: converts, lays out and plans the graph. Refuses with
 * ZE_RESULT_ERROR_UNSUPPORTED_FEATURE (an unsupported node) or
 * ZE_RESULT_ERROR_OUT_OF_DEVICE_MEMORY (beyond the on-chip memory limit). Idempotent. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphCompile_t)(ze_switchyard_graph_handle_t graph);

/* zeSwitchyardGraphGetNativeBinary: two-call pattern; `data` NULL sets *size. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphGetNativeBinary_t)(ze_switchyard_graph_handle_t graph, size_t* size,
                                                                         void* data);

typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphGetProperties_t)(ze_switchyard_graph_handle_t graph,
                                                                       ze_switchyard_graph_properties_t* props);

/* is_output 0: input `index`; 1: output `index`. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphGetArgument_t)(ze_switchyard_graph_handle_t graph, uint32_t is_output,
                                                                     uint32_t index, ze_switchyard_argument_t* arg);

/* zeSwitchyardCommandListAppendGraphExecute: runs the compiled graph when the list executes,
 * reading inputs[i] and writing outputs[i] (packed row-major, the argument's element type),
 * after the wait events, then signals hSignalEvent. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardCommandListAppendGraphExecute_t)(
    ze_command_list_handle_t list, ze_switchyard_graph_handle_t graph, uint32_t num_inputs, const void* const* inputs,
    uint32_t num_outputs, void* const* outputs, ze_event_handle_t hSignalEvent, uint32_t numWaitEvents,
    ze_event_handle_t* phWaitEvents);

/* Since 1.1. zeSwitchyardCommandListAppendGraphExecuteAbortable: as
 * zeSwitchyardCommandListAppendGraphExecute, and the execution stops early once the application
 * signals hAbortEvent (zeEventHostSignal): the driver looks at the event before each of the
 * graph's operations and, finding it signaled, skips the rest. The outputs are then undefined, but
 * the execution still ends as usual (hSignalEvent is signaled, the command list does not fail):
 * the application, which signaled the event, knows not to use them. The driver only reads
 * hAbortEvent; the application may reset and reuse it once the command list has executed.
 * hAbortEvent NULL: as zeSwitchyardCommandListAppendGraphExecute. */
typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardCommandListAppendGraphExecuteAbortable_t)(
    ze_command_list_handle_t list, ze_switchyard_graph_handle_t graph, uint32_t num_inputs, const void* const* inputs,
    uint32_t num_outputs, void* const* outputs, ze_event_handle_t hAbortEvent, ze_event_handle_t hSignalEvent,
    uint32_t numWaitEvents, ze_event_handle_t* phWaitEvents);

typedef ze_result_t (ZE_APICALL* ze_pfnSwitchyardGraphDestroy_t)(ze_switchyard_graph_handle_t graph);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ZE_SWITCHYARD_GRAPH_H_ */
