/* template_plugin.c: the Switchyard template plugin, the file a device vendor copies to start.
 *
 * One device, `template:0`, that runs five float32 operators (Add, Mul, Relu, MatMul, Softmax)
 * with naive C loops on host memory. It is a whole plugin: it answers support queries honestly,
 * compiles, serializes and restores, executes with cancellation and profiling, and passes every
 * ONNX conformance case it claims. Everything else is refused with a reason the user reads.
 *
 * Plain C11 against plugin_abi.h and the C library only. Each ABI function carries a comment in
 * the header's style: what it does, who owns what and for how long, and which calls may run at
 * once. "A real device would ..." marks where your driver calls go. README.md says how to copy it.
 *
 * Sections, in reading order:
 *   1. Names and limits        5. Compile: the program       9. Execute
 *   2. Host services           6. Serialize and restore     10. Function table and entry point
 *   3. Plugin and device       7. Buffers
 *   4. Support answers         8. Kernels
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/plugin_abi.h"

/* ---------------------------------------------------------------------------------------- */
/* 1. Names and limits. Rename these first: TEMPLATE_NAME must equal the manifest's `name`.   */

#define TEMPLATE_NAME "template"
/* Part of plan-cache keys: bump it whenever kernels or the serialized format change, so that
 * caches built by an older plugin are not reused. */
#define TEMPLATE_VERSION "1.0.0"
#define TEMPLATE_IMPLEMENTATION "naive-c" /* how supported nodes run, shown in plans and traces */
/* The plugin's own rank limit (the ABI has none): shapes live in fixed arrays here. */
#define TEMPLATE_MAX_RANK 16
#define TEMPLATE_ALIGNMENT 64 /* buffer memory, as the host expects of host-visible buffers */
#define TEMPLATE_MESSAGE_CAPACITY 1024 /* messages are for people: a longer one is cut, never overrun */

enum template_op { OP_ADD = 1, OP_MUL = 2, OP_RELU = 3, OP_MATMUL = 4, OP_SOFTMAX = 5 };

typedef struct template_shape {
  int32_t rank;
  int64_t dims[TEMPLATE_MAX_RANK];
} template_shape;

/* ---------------------------------------------------------------------------------------- */
/* 2. Host services, valid while the library is loaded. Atomic: the host calls the entry point */
/*    again when it loads the library again (another registry), while this load's calls run.   */

static const sy_host_api* _Atomic g_host;

/* A failure status with a printf-style message; the host copies the message and owns the status.
 * Messages say what went wrong and where (node, input, value); the host prefixes them with the
 * device and the call ("template:0: compile: ..."), so they do not repeat the function's name. */
static sy_status fail(sy_status_code code, const char* format, ...) {
  char message[TEMPLATE_MESSAGE_CAPACITY];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  return g_host->make_status(code, message);
}

/* The host's clock for profiling events, or 0 when the host predates it (R2). */
static uint64_t now_ns(void) {
  return SY_HAS_FIELD(g_host, sy_host_api, now_ns) && g_host->now_ns ? g_host->now_ns() : 0;
}

/* Copies a struct the plugin filled into one the host allocated, touching only the bytes the host's
 * struct_size covers (R2): a host built against an older header has a shorter struct. */
static void copy_out(void* host_struct, const void* filled, size_t filled_size) {
  size_t host_size = *(const size_t*)host_struct;
  memcpy(host_struct, filled, host_size < filled_size ? host_size : filled_size);
  memcpy(host_struct, &host_size, sizeof host_size); /* struct_size stays the host's */
}

/* A heap copy of a string; NULL when out of memory. */
static char* copy_string(const char* text) {
  size_t size = strlen(text) + 1;
  char* copy = malloc(size);
  if (copy) memcpy(copy, text, size);
  return copy;
}

/* ---------------------------------------------------------------------------------------- */
/* 3. Plugin and device. The ABI's handles are pointers to structs only the plugin defines.   */

/* A real device keeps its driver's device handle, queues and properties here. */
struct sy_device_s {
  size_t index;
};

/* A real plugin keeps its driver context and every device it found here. */
struct sy_plugin_s {
  struct sy_device_s device;
};

/* Identity. Fills the host's `out_info` (R2); the strings are static. Thread-safe; may be called
 * before initialize. */
static void get_info(sy_plugin_info* out_info) {
  sy_plugin_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  info.name = TEMPLATE_NAME;
  info.vendor = "Switchyard (template: put your company here)";
  info.version = TEMPLATE_VERSION;
  info.description = "Template plugin: naive float32 Add, Mul, Relu, MatMul and Softmax on host memory";
  copy_out(out_info, &info, sizeof info);
}

/* Starts the plugin. `settings` (the manifest's, then the host's `switchyard.*` ones) are borrowed
 * for the call: copy what you keep, ignore keys you do not know. Called once per load, alone.
 * A real plugin opens its driver here; finding no device is not a failure (report 0 devices and
 * say why in get_diagnostics). *out_plugin is released by shutdown. */
static sy_status initialize(const sy_setting* const* settings, size_t num_settings, sy_plugin* out_plugin) {
  struct sy_plugin_s* plugin;
  (void)settings, (void)num_settings; /* the template has no settings of its own */
  if (!out_plugin) return fail(SY_ERROR_INVALID_ARGUMENT, "out_plugin is NULL");
  plugin = calloc(1, sizeof *plugin);
  if (!plugin) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  plugin->device.index = 0;
  *out_plugin = plugin;
  return NULL;
}

/* Releases the plugin. The host has released every executable and buffer, and calls nothing else
 * concurrently or afterwards (but get_info). A real plugin closes its driver here. */
static void shutdown(sy_plugin plugin) { free(plugin); }

/* Human-readable state; the plugin's string, valid until shutdown. */
static const char* get_diagnostics(sy_plugin plugin) {
  (void)plugin;
  return "one device: naive float32 kernels on host memory";
}

/* How many devices the driver found. Thread-safe. */
static sy_status device_count(sy_plugin plugin, size_t* out_count) {
  if (!plugin || !out_count) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  *out_count = 1;
  return NULL;
}

/* Device `index`; devices are the plugin's and live until shutdown (no release). Thread-safe. */
static sy_status device_get(sy_plugin plugin, size_t index, sy_device* out_device) {
  if (!plugin || !out_device) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (index != 0) return fail(SY_ERROR_NOT_FOUND, "no device %zu (the template has one)", index);
  *out_device = &plugin->device;
  return NULL;
}

/* Fills the host's `out_info` (R2). The figures feed the partitioner's cost model: a real device
 * reports what its driver says (memory, clocks) or what it measured once (bandwidth). */
static sy_status device_info(sy_device device, sy_device_info* out_info) {
  sy_device_info info;
  if (!device || !out_info) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  info.kind = SY_DEVICE_KIND_OTHER;
  info.reported_kind = SY_DEVICE_KIND_OTHER;
  info.name = "Template device (host memory)";
  info.vendor = "Switchyard";
  info.driver_version = "template " TEMPLATE_VERSION;
  info.identity = "template/naive-c/" TEMPLATE_VERSION; /* equal identity => shareable executables */
  info.peak_gflops_f32 = 1.0;                            /* naive loops: modest on purpose */
  info.memory_bandwidth_gbps = 5.0;
  info.host_link_gbps = 0; /* shares host memory: no transfer cost */
  info.launch_overhead_us = 1.0;
  info.host_visible_memory = 1;
  info.compute_element_type = SY_ELEM_FLOAT32; /* exact float32: the corpus's own tolerances */
  copy_out(out_info, &info, sizeof info);
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Support answers. One function decides, per node, whether the device runs it, and fills   */
/*    the node's step of the program when it does: query_support reports its answer, compile   */
/*    builds from it, so the two can never disagree.                                            */

typedef struct template_step {
  uint32_t op;       /* enum template_op */
  int32_t inputs[2]; /* value indices; inputs[1] is -1 for one-input operators */
  int32_t output;
  int64_t axis;      /* Softmax's attribute; 0 otherwise */
  char* label;       /* "node #3 MatMul 'fc'" for messages; from the graph, not serialized */
} template_step;

typedef struct op_entry {
  const char* op_type;
  uint32_t op;
  size_t num_inputs;
  int64_t min_opset;
  const char* older; /* why an older opset is refused */
} op_entry;

static const op_entry k_ops[] = {
    {"Add", OP_ADD, 2, 7, "before opset 7 it broadcasts through the legacy broadcast/axis attributes"},
    {"Mul", OP_MUL, 2, 7, "before opset 7 it broadcasts through the legacy broadcast/axis attributes"},
    {"Relu", OP_RELU, 1, 6, "before opset 6 it has the legacy consumed_inputs attribute"},
    {"MatMul", OP_MATMUL, 2, 1, ""},
    {"Softmax", OP_SOFTMAX, 1, 13, "before opset 13 it flattens the input to 2-D at `axis`; only opset 13+ is implemented"},
};

static const op_entry* find_op(const sy_node* node) {
  size_t i;
  const char* domain = node->domain ? node->domain : "";
  if (strcmp(domain, "") != 0 && strcmp(domain, "ai.onnx") != 0) return NULL;
  for (i = 0; i < sizeof k_ops / sizeof k_ops[0]; ++i)
    if (node->op_type && strcmp(node->op_type, k_ops[i].op_type) == 0) return &k_ops[i];
  return NULL;
}

/* Why value `index` cannot be an operand here (SY_SUPPORTED if it can). `is_output` allows an
 * element type the host has not inferred: the kernels write float32 regardless. */
static sy_support_reason check_value(const sy_graph* graph, int32_t index, int is_output, char* message, size_t cap) {
  const sy_value_desc* value;
  if (index < 0 || (size_t)index >= graph->num_values) {
    snprintf(message, cap, "refers to value %d; the graph has %zu values", (int)index, graph->num_values);
    return SY_UNSUPPORTED_OTHER;
  }
  value = graph->values[index];
  if (value->kind != SY_VALUE_TENSOR) {
    snprintf(message, cap, "value '%s' is a sequence or optional; the template runs tensors only", value->name);
    return SY_UNSUPPORTED_OTHER;
  }
  if (value->elem_type != SY_ELEM_FLOAT32 && !(is_output && value->elem_type == SY_ELEM_UNDEFINED)) {
    snprintf(message, cap, "value '%s' has element type %d; the template runs float32 (1) only", value->name,
             (int)value->elem_type);
    return SY_UNSUPPORTED_ELEMENT_TYPE;
  }
  if (value->rank > TEMPLATE_MAX_RANK) {
    snprintf(message, cap, "value '%s' has rank %d; the template's limit is %d", value->name, (int)value->rank,
             TEMPLATE_MAX_RANK);
    return SY_UNSUPPORTED_SHAPE;
  }
  return SY_SUPPORTED;
}

/* Softmax's `axis` (default -1, checked against a static rank); the ONNX checker catches the rest
 * of a bad attribute, so every other attribute name is one the template does not know. */
static sy_support_reason check_attributes(const sy_graph* graph, const sy_node* node, template_step* step, char* message,
                                          size_t cap) {
  size_t i;
  int32_t rank = graph->values[node->inputs[0]]->rank;
  step->axis = step->op == OP_SOFTMAX ? -1 : 0;
  for (i = 0; i < node->num_attributes; ++i) {
    const sy_attribute* a = node->attributes[i];
    if (step->op == OP_SOFTMAX && strcmp(a->name, "axis") == 0 && a->type == SY_ATTR_INT) {
      step->axis = a->i;
      continue;
    }
    snprintf(message, cap, "attribute '%s' is not implemented for %s", a->name, node->op_type);
    return SY_UNSUPPORTED_ATTRIBUTE;
  }
  if (step->op == OP_SOFTMAX && rank >= 0 && (step->axis < -(int64_t)rank || step->axis >= (int64_t)rank)) {
    snprintf(message, cap, "axis %lld is outside [-%d, %d) for rank %d", (long long)step->axis, (int)rank, (int)rank,
             (int)rank);
    return SY_UNSUPPORTED_ATTRIBUTE;
  }
  return SY_SUPPORTED;
}

/* The answer for graph->nodes[index]; on SY_SUPPORTED `step` holds the node's step (label unset),
 * otherwise `message` says why not. */
static sy_support_reason check_node(const sy_graph* graph, size_t index, template_step* step, char* message, size_t cap) {
  const sy_node* node = graph->nodes[index];
  const op_entry* entry = find_op(node);
  sy_support_reason reason;
  size_t i;
  if (!entry) {
    snprintf(message, cap, "%s%s%s is not implemented (the template runs Add, Mul, Relu, MatMul and Softmax)",
             node->domain && *node->domain ? node->domain : "", node->domain && *node->domain ? "." : "", node->op_type);
    return SY_UNSUPPORTED_OP;
  }
  if (node->opset < entry->min_opset) {
    snprintf(message, cap, "%s opset %lld is not implemented: %s", node->op_type, (long long)node->opset, entry->older);
    return SY_UNSUPPORTED_OP;
  }
  if (node->num_inputs != entry->num_inputs || node->num_outputs != 1) {
    snprintf(message, cap, "%s takes %zu inputs and 1 output; this node has %zu and %zu", node->op_type,
             entry->num_inputs, node->num_inputs, node->num_outputs);
    return SY_UNSUPPORTED_OTHER;
  }
  for (i = 0; i <= node->num_inputs; ++i) {
    int is_output = i == node->num_inputs;
    reason = check_value(graph, is_output ? node->outputs[0] : node->inputs[i], is_output, message, cap);
    if (reason != SY_SUPPORTED) return reason;
  }
  step->op = entry->op;
  step->inputs[0] = node->inputs[0];
  step->inputs[1] = entry->num_inputs == 2 ? node->inputs[1] : -1;
  step->output = node->outputs[0];
  step->label = NULL;
  return check_attributes(graph, node, step, message, cap);
}

/* Answers, for every node of `graph`, whether the device runs it, through `report` (its strings
 * are copied). Pure query: no compilation side effects. The graph is borrowed for the call.
 * Thread-safe. */
static sy_status query_support(sy_device device, const sy_graph* graph, const sy_support_report* report) {
  size_t i;
  if (!device || !graph || !report || !SY_HAS_FIELD(report, sy_support_report, node) || !report->node)
    return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  for (i = 0; i < graph->num_nodes; ++i) {
    char message[TEMPLATE_MESSAGE_CAPACITY] = "";
    template_step step;
    sy_support_reason reason = check_node(graph, i, &step, message, sizeof message);
    report->node(report->context, i, reason, reason == SY_SUPPORTED ? NULL : message,
                 reason == SY_SUPPORTED ? TEMPLATE_IMPLEMENTATION : NULL);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 5. Compile: the program. An executable is a list of steps (op code + value indices), run in  */
/*    order. Shapes may be dynamic, so output shapes are computed at execute time. A real device */
/*    would generate and build kernels here, and keep the binaries in the executable.           */

/* A value's data and shape during one execution (or an initializer, in the executable). */
typedef struct template_tensor {
  const float* data; /* NULL: no value yet */
  float* owned;      /* memory this execution allocated for it (freed at the end), else NULL */
  template_shape shape;
  size_t numel;
} template_tensor;

/* Immutable once built, so concurrent executes share it without locks. */
struct sy_executable_s {
  sy_device device; /* where execute allocates outputs */
  size_t num_values;
  size_t num_steps;
  template_step* steps;
  size_t num_inputs, num_outputs;
  int32_t* inputs;  /* the graph's inputs and outputs, copied: the graph is borrowed for the call */
  int32_t* outputs;
  template_tensor* constants; /* per value: its initializer (used in place), or data NULL */
};

/* Releases an executable; no execute on it is in flight. Also frees a half-built one. */
static void executable_release(sy_executable exe) {
  size_t i;
  if (!exe) return;
  for (i = 0; exe->steps && i < exe->num_steps; ++i) free(exe->steps[i].label);
  free(exe->steps);
  free(exe->inputs);
  free(exe->outputs);
  free(exe->constants);
  free(exe);
}

/* numel of a shape; 0 when a dim is negative or the byte size overflows. */
static int shape_numel(const template_shape* shape, size_t* out) {
  size_t n = 1;
  int32_t d;
  for (d = 0; d < shape->rank; ++d) {
    if (shape->dims[d] < 0 || (shape->dims[d] > 0 && n > SIZE_MAX / sizeof(float) / (size_t)shape->dims[d])) return 0;
    n *= (size_t)shape->dims[d];
  }
  *out = n;
  return 1;
}

/* Reads the initializers the program uses in place: their data stays valid until the executable is
 * released (the sy_constant structs themselves are borrowed, so their fields are copied). */
static sy_status bind_initializers(const sy_graph* graph, sy_executable exe) {
  size_t i;
  for (i = 0; i < graph->num_initializers; ++i) {
    const sy_initializer* init = graph->initializers[i];
    const sy_constant* c = init->tensor;
    template_tensor* t;
    if (init->value < 0 || (size_t)init->value >= graph->num_values) continue; /* checked by the host */
    t = &exe->constants[init->value];
    if (c->elem_type != SY_ELEM_FLOAT32 || c->rank < 0 || c->rank > TEMPLATE_MAX_RANK) continue; /* unread: see check_flow */
    t->shape.rank = c->rank;
    if (c->rank > 0) memcpy(t->shape.dims, c->dims, (size_t)c->rank * sizeof(int64_t));
    if (!shape_numel(&t->shape, &t->numel) || t->numel * sizeof(float) > c->size_bytes)
      return fail(SY_ERROR_INVALID_ARGUMENT, "initializer '%s' holds %zu bytes, less than its shape needs",
                  graph->values[init->value]->name, c->size_bytes);
    t->data = c->data;
  }
  return NULL;
}

/* Checks that every step reads values that exist by then (graph inputs, float32 initializers,
 * earlier steps' outputs) and writes a new one, and that every graph output is produced. */
static sy_status check_flow(const sy_graph* graph, sy_executable exe) {
  size_t i, k;
  sy_status status = NULL;
  char* ready = calloc(graph->num_values ? graph->num_values : 1, 1);
  if (!ready) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  for (i = 0; i < exe->num_inputs; ++i) ready[exe->inputs[i]] = 1;
  for (i = 0; i < graph->num_values; ++i) ready[i] |= exe->constants[i].data != NULL;
  for (i = 0; i < exe->num_steps && !status; ++i) {
    const template_step* s = &exe->steps[i];
    for (k = 0; k < 2 && !status; ++k)
      if (s->inputs[k] >= 0 && !ready[s->inputs[k]])
        status = fail(SY_ERROR_INVALID_ARGUMENT, "%s reads '%s', which no input, float32 initializer or earlier "
                      "node provides", s->label, graph->values[s->inputs[k]]->name);
    if (!status && ready[s->output])
      status = fail(SY_ERROR_INVALID_ARGUMENT, "%s writes '%s', which already has a value", s->label,
                    graph->values[s->output]->name);
    ready[s->output] = 1;
  }
  for (i = 0; i < exe->num_outputs && !status; ++i)
    if (!ready[exe->outputs[i]])
      status = fail(SY_ERROR_INVALID_ARGUMENT, "graph output '%s' is produced by nothing",
                    graph->values[exe->outputs[i]]->name);
  free(ready);
  return status;
}

/* A copy of the graph's input or output list, each a float32 tensor the template can run. */
static sy_status copy_io(const sy_graph* graph, const int32_t* list, size_t count, const char* what, int32_t** out) {
  size_t i;
  char message[TEMPLATE_MESSAGE_CAPACITY];
  for (i = 0; i < count; ++i)
    if (check_value(graph, list[i], strcmp(what, "output") == 0, message, sizeof message) != SY_SUPPORTED)
      return fail(SY_ERROR_UNSUPPORTED, "graph %s %zu: %s", what, i, message);
  *out = malloc((count ? count : 1) * sizeof(int32_t));
  if (!*out) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  if (count) memcpy(*out, list, count * sizeof(int32_t));
  return NULL;
}

/* "node #3 MatMul 'fc'" for messages (without the quotes for a node with no name). */
static void format_label(const sy_graph* graph, size_t index, char* out, size_t cap) {
  const sy_node* node = graph->nodes[index];
  int named = node->name && *node->name;
  snprintf(out, cap, "node #%zu %s%s%s%s", index, node->op_type, named ? " '" : "", named ? node->name : "", named ? "'" : "");
}

/* A label for every step: execute no longer sees the graph. */
static sy_status label_steps(const sy_graph* graph, sy_executable exe) {
  size_t i;
  for (i = 0; i < exe->num_steps; ++i) {
    char label[TEMPLATE_MESSAGE_CAPACITY / 4];
    format_label(graph, i, label, sizeof label);
    exe->steps[i].label = copy_string(label);
    if (!exe->steps[i].label) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  }
  return NULL;
}

/* Completes an executable whose steps are set (from the graph, or from serialized bytes): what
 * comes from the graph (I/O lists, initializers, labels), then the data-flow check. */
static sy_status finish_executable(const sy_graph* graph, sy_executable exe) {
  sy_status status;
  exe->constants = calloc(graph->num_values ? graph->num_values : 1, sizeof(template_tensor));
  if (!exe->constants) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  if ((status = copy_io(graph, graph->inputs, graph->num_inputs, "input", &exe->inputs))) return status;
  exe->num_inputs = graph->num_inputs;
  if ((status = copy_io(graph, graph->outputs, graph->num_outputs, "output", &exe->outputs))) return status;
  exe->num_outputs = graph->num_outputs;
  if ((status = label_steps(graph, exe))) return status;
  if ((status = bind_initializers(graph, exe))) return status;
  return check_flow(graph, exe);
}

/* An empty executable with room for the graph's steps. */
static sy_status new_executable(sy_device device, const sy_graph* graph, sy_executable* out) {
  if (graph->num_values > INT32_MAX) return fail(SY_ERROR_UNSUPPORTED, "more than 2^31 values");
  *out = calloc(1, sizeof **out);
  if (*out) (*out)->steps = calloc(graph->num_nodes ? graph->num_nodes : 1, sizeof(template_step));
  if (!*out || !(*out)->steps) {
    executable_release(*out);
    return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  }
  (*out)->device = device;
  (*out)->num_values = graph->num_values;
  (*out)->num_steps = graph->num_nodes;
  return NULL;
}

/* Compiles the whole graph for the device. The graph and options are borrowed for the call,
 * except initializer data, used in place until the executable is released. Fails with
 * SY_ERROR_UNSUPPORTED naming the node when query_support would refuse one. *out_executable is
 * the plugin's, released by executable_release. Thread-safe. */
static sy_status compile(sy_device device, const sy_graph* graph, const sy_setting* const* options, size_t num_options,
                         sy_executable* out_executable) {
  sy_executable exe;
  sy_status status;
  size_t i;
  (void)options, (void)num_options; /* the template has no compile options */
  if (!device || !graph || !out_executable) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if ((status = new_executable(device, graph, &exe))) return status;
  for (i = 0; i < graph->num_nodes; ++i) {
    char message[TEMPLATE_MESSAGE_CAPACITY] = "", label[TEMPLATE_MESSAGE_CAPACITY / 4];
    if (check_node(graph, i, &exe->steps[i], message, sizeof message) != SY_SUPPORTED) {
      executable_release(exe);
      format_label(graph, i, label, sizeof label);
      return fail(SY_ERROR_UNSUPPORTED, "%s: %s", label, message);
    }
  }
  if ((status = finish_executable(graph, exe))) {
    executable_release(exe);
    return status;
  }
  *out_executable = exe;
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 6. Serialize and restore. Format version 1, little-endian:                                  */
/*      "SYTEMPL1" | u32 version | u32 values | u32 steps |                                    */
/*      steps x (u32 op | i32 input0 | i32 input1 | i32 output | i64 axis) | u32 FNV-1a of all  */
/*    before it. A real device stores what took time to make (kernel binaries); the template's */
/*    program is cheap, so restore decodes it and checks each step against the graph.          */

#define FORMAT_MAGIC "SYTEMPL1"
#define FORMAT_VERSION 1u
#define FORMAT_HEADER 20u
#define FORMAT_STEP 24u
#define FORMAT_TRAILER 4u

static void put_u32(unsigned char* p, uint32_t v) {
  int b;
  for (b = 0; b < 4; ++b) p[b] = (unsigned char)(v >> (8 * b));
}
static void put_u64(unsigned char* p, uint64_t v) {
  int b;
  for (b = 0; b < 8; ++b) p[b] = (unsigned char)(v >> (8 * b));
}
static uint32_t get_u32(const unsigned char* p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get_u64(const unsigned char* p) { return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32; }

static uint32_t fnv1a(const unsigned char* p, size_t n) {
  uint32_t h = 2166136261u;
  while (n--) h = (h ^ *p++) * 16777619u;
  return h;
}

/* Serializes a compiled executable. Two-call pattern: with `data` NULL only *out_size is set;
 * then `data` is the host's buffer of `capacity` bytes, borrowed. Initializers are not included
 * (restore receives the graph again). Thread-safe. */
static sy_status executable_serialize(sy_executable exe, void* data, size_t capacity, size_t* out_size) {
  unsigned char* p = data;
  size_t i;
  if (!exe || !out_size) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  *out_size = FORMAT_HEADER + exe->num_steps * FORMAT_STEP + FORMAT_TRAILER;
  if (!data) return NULL;
  if (capacity < *out_size) return fail(SY_ERROR_INVALID_ARGUMENT, "the serialized executable needs %zu bytes; %zu given", *out_size, capacity);
  memcpy(p, FORMAT_MAGIC, 8);
  put_u32(p + 8, FORMAT_VERSION);
  put_u32(p + 12, (uint32_t)exe->num_values);
  put_u32(p + 16, (uint32_t)exe->num_steps);
  for (i = 0; i < exe->num_steps; ++i) {
    const template_step* s = &exe->steps[i];
    unsigned char* q = p + FORMAT_HEADER + i * FORMAT_STEP;
    put_u32(q, s->op);
    put_u32(q + 4, (uint32_t)s->inputs[0]);
    put_u32(q + 8, (uint32_t)s->inputs[1]);
    put_u32(q + 12, (uint32_t)s->output);
    put_u64(q + 16, (uint64_t)s->axis);
  }
  put_u32(p + *out_size - FORMAT_TRAILER, fnv1a(p, *out_size - FORMAT_TRAILER));
  return NULL;
}

/* Why `bytes` are not a version-1 program for `graph` ("" if they are): checked before a single
 * step is trusted. */
static void check_envelope(const sy_graph* graph, const unsigned char* bytes, size_t size, char* why, size_t cap) {
  uint32_t steps;
  if (!bytes || size < FORMAT_HEADER + FORMAT_TRAILER || memcmp(bytes, FORMAT_MAGIC, 8) != 0) {
    snprintf(why, cap, "these %zu bytes are not a template executable (no '" FORMAT_MAGIC "' header)", size);
    return;
  }
  if (get_u32(bytes + 8) != FORMAT_VERSION) {
    snprintf(why, cap, "format version %u; this plugin reads version %u", get_u32(bytes + 8), FORMAT_VERSION);
    return;
  }
  steps = get_u32(bytes + 16);
  if ((size - FORMAT_HEADER - FORMAT_TRAILER) / FORMAT_STEP != steps || (size - FORMAT_HEADER - FORMAT_TRAILER) % FORMAT_STEP) {
    snprintf(why, cap, "%zu bytes cannot hold the %u steps the header announces", size, steps);
    return;
  }
  if (fnv1a(bytes, size - FORMAT_TRAILER) != get_u32(bytes + size - FORMAT_TRAILER)) {
    snprintf(why, cap, "checksum mismatch: the bytes are corrupt");
    return;
  }
  if (get_u32(bytes + 12) != graph->num_values || steps != graph->num_nodes)
    snprintf(why, cap, "the bytes are for a graph of %u values and %u nodes, this one has %zu and %zu",
             get_u32(bytes + 12), steps, graph->num_values, graph->num_nodes);
}

/* Decodes step `i` and checks it against the graph's node `i`. */
static int decode_step(const sy_graph* graph, const unsigned char* bytes, size_t i, template_step* step) {
  const unsigned char* q = bytes + FORMAT_HEADER + i * FORMAT_STEP;
  template_step expected;
  char message[TEMPLATE_MESSAGE_CAPACITY];
  step->op = get_u32(q);
  step->inputs[0] = (int32_t)get_u32(q + 4);
  step->inputs[1] = (int32_t)get_u32(q + 8);
  step->output = (int32_t)get_u32(q + 12);
  step->axis = (int64_t)get_u64(q + 16);
  step->label = NULL;
  return check_node(graph, i, &expected, message, sizeof message) == SY_SUPPORTED && expected.op == step->op &&
         expected.inputs[0] == step->inputs[0] && expected.inputs[1] == step->inputs[1] &&
         expected.output == step->output && expected.axis == step->axis;
}

/* Rebuilds an executable from serialize()'s bytes (borrowed for the call) and the same graph
 * (borrowed as for compile). Rejects bytes it did not produce, or produced for another graph,
 * with SY_ERROR_DATA_LOSS and a message, and never reads past `size`. Thread-safe. */
static sy_status executable_restore(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                    sy_executable* out_executable) {
  char why[TEMPLATE_MESSAGE_CAPACITY] = "";
  sy_executable exe;
  sy_status status;
  size_t i;
  if (!device || !graph || !out_executable) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  check_envelope(graph, data, size, why, sizeof why);
  if (*why) return fail(SY_ERROR_DATA_LOSS, "%s", why);
  if ((status = new_executable(device, graph, &exe))) return status;
  for (i = 0; i < graph->num_nodes; ++i) {
    if (!decode_step(graph, data, i, &exe->steps[i])) {
      char label[TEMPLATE_MESSAGE_CAPACITY / 4];
      executable_release(exe);
      format_label(graph, i, label, sizeof label);
      return fail(SY_ERROR_DATA_LOSS, "step %zu of the bytes does not match the graph's %s", i, label);
    }
  }
  if ((status = finish_executable(graph, exe))) {
    executable_release(exe);
    return status;
  }
  *out_executable = exe;
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 7. Buffers: 64-byte aligned host memory. A real device allocates device memory here and     */
/*    copies over its bus in write/read; buffer_map and buffer_import_host exist only for       */
/*    devices that share host memory (leave them NULL otherwise).                                */

struct sy_buffer_s {
  void* memory;
  size_t size;
  int owns_memory; /* 0: imported host memory, which the host frees after buffer_release */
};

/* A new buffer of `size_bytes` on the device; released by buffer_release. Thread-safe. */
static sy_status buffer_alloc(sy_device device, size_t size_bytes, sy_buffer* out_buffer) {
  struct sy_buffer_s* buffer;
  size_t rounded = (size_bytes + TEMPLATE_ALIGNMENT - 1) / TEMPLATE_ALIGNMENT * TEMPLATE_ALIGNMENT;
  if (!device || !out_buffer) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (rounded < size_bytes) return fail(SY_ERROR_OUT_OF_MEMORY, "%zu bytes is too large", size_bytes);
  buffer = malloc(sizeof *buffer);
  if (!buffer) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  /* C11 aligned_alloc wants a multiple of the alignment, and at least one block for size 0. */
  buffer->memory = aligned_alloc(TEMPLATE_ALIGNMENT, rounded ? rounded : TEMPLATE_ALIGNMENT);
  if (!buffer->memory) {
    free(buffer);
    return fail(SY_ERROR_OUT_OF_MEMORY, "out of memory for %zu bytes", size_bytes);
  }
  buffer->size = size_bytes;
  buffer->owns_memory = 1;
  *out_buffer = buffer;
  return NULL;
}

/* Releases a buffer (no execute using it is in flight); imported memory stays the host's. */
static void buffer_release(sy_buffer buffer) {
  if (!buffer) return;
  if (buffer->owns_memory) free(buffer->memory);
  free(buffer);
}

static size_t buffer_size(sy_buffer buffer) { return buffer ? buffer->size : 0; }

/* Synchronous copies in and out; `src`/`dst` are borrowed for the call. Thread-safe for distinct
 * buffers. */
static sy_status buffer_write(sy_buffer buffer, size_t offset, const void* src, size_t size) {
  if (!buffer || (!src && size)) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (offset > buffer->size || size > buffer->size - offset)
    return fail(SY_ERROR_INVALID_ARGUMENT, "%zu bytes at offset %zu pass the buffer's %zu", size, offset, buffer->size);
  if (size) memcpy((unsigned char*)buffer->memory + offset, src, size);
  return NULL;
}

static sy_status buffer_read(sy_buffer buffer, size_t offset, void* dst, size_t size) {
  if (!buffer || (!dst && size)) return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (offset > buffer->size || size > buffer->size - offset)
    return fail(SY_ERROR_INVALID_ARGUMENT, "%zu bytes at offset %zu pass the buffer's %zu", size, offset, buffer->size);
  if (size) memcpy(dst, (const unsigned char*)buffer->memory + offset, size);
  return NULL;
}

/* Optional: the buffer's host pointer, valid until release (host-visible memory only). */
static void* buffer_map(sy_buffer buffer) { return buffer ? buffer->memory : NULL; }

/* Optional: wraps the host's memory as a buffer without copying or owning it; the host keeps it
 * valid until buffer_release. Refuses memory the kernels could not use in place (misaligned) with
 * SY_ERROR_UNSUPPORTED, so the host copies instead. Thread-safe. */
static sy_status buffer_import_host(sy_device device, void* host_memory, size_t size_bytes, sy_buffer* out_buffer) {
  struct sy_buffer_s* buffer;
  if (!device || !out_buffer || (!host_memory && size_bytes))
    return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if ((uintptr_t)host_memory % TEMPLATE_ALIGNMENT != 0)
    return fail(SY_ERROR_UNSUPPORTED, "memory is not %d-byte aligned", TEMPLATE_ALIGNMENT);
  buffer = malloc(sizeof *buffer);
  if (!buffer) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  buffer->memory = host_memory;
  buffer->size = size_bytes;
  buffer->owns_memory = 0;
  *out_buffer = buffer;
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 8. Kernels: naive float32 loops over a per-execution table of values. A real device would   */
/*    enqueue its compiled kernels here instead. Each kernel sets its output's shape, allocates */
/*    it and fills it; errors name the node.                                                    */

/* Allocates `t` (freed with the execution's table) for `shape`. */
static sy_status allocate_value(template_tensor* t, const template_shape* shape, const template_step* step) {
  if (!shape_numel(shape, &t->numel)) return fail(SY_ERROR_INVALID_ARGUMENT, "%s: output shape is too large", step->label);
  t->shape = *shape;
  t->owned = malloc((t->numel ? t->numel : 1) * sizeof(float));
  if (!t->owned) return fail(SY_ERROR_OUT_OF_MEMORY, "%s: out of memory for %zu floats", step->label, t->numel);
  t->data = t->owned;
  return NULL;
}

/* ONNX multidirectional broadcasting of two shapes (aligned at the right); 0 if incompatible. */
static int broadcast_shape(const template_shape* a, const template_shape* b, template_shape* out) {
  int32_t d;
  out->rank = a->rank > b->rank ? a->rank : b->rank;
  for (d = 0; d < out->rank; ++d) {
    int32_t da = d - (out->rank - a->rank), db = d - (out->rank - b->rank);
    int64_t x = da >= 0 ? a->dims[da] : 1, y = db >= 0 ? b->dims[db] : 1;
    if (x != y && x != 1 && y != 1) return 0;
    out->dims[d] = x == 1 ? y : x;
  }
  return 1;
}

/* Element strides of `in` along each dim of the broadcast shape `out`: 0 where `in` repeats. */
static void broadcast_strides(const template_shape* in, const template_shape* out, int64_t* strides) {
  int64_t stride = 1;
  int32_t d;
  for (d = out->rank - 1; d >= 0; --d) {
    int32_t k = d - (out->rank - in->rank);
    strides[d] = k >= 0 && in->dims[k] != 1 ? stride : 0;
    if (k >= 0) stride *= in->dims[k];
  }
}

/* Moves a row-major position in `shape` one step on, carrying two operands' offsets along. */
static void advance(const template_shape* shape, int64_t* index, const int64_t* sa, const int64_t* sb, int64_t* oa, int64_t* ob) {
  int32_t d;
  for (d = shape->rank - 1; d >= 0; --d) {
    *oa += sa[d], *ob += sb[d];
    if (++index[d] < shape->dims[d]) return;
    *oa -= sa[d] * shape->dims[d], *ob -= sb[d] * shape->dims[d];
    index[d] = 0;
  }
}

static void format_shape(const template_shape* s, char* out, size_t cap) {
  int32_t d;
  size_t used = (size_t)snprintf(out, cap, "[");
  for (d = 0; d < s->rank && used < cap; ++d)
    used += (size_t)snprintf(out + used, cap - used, d ? ",%lld" : "%lld", (long long)s->dims[d]);
  if (used < cap) snprintf(out + used, cap - used, "]");
}

static sy_status shape_error(const template_step* step, const char* what, const template_shape* a, const template_shape* b) {
  char sa[TEMPLATE_MESSAGE_CAPACITY / 3], sb[TEMPLATE_MESSAGE_CAPACITY / 3];
  format_shape(a, sa, sizeof sa);
  format_shape(b, sb, sizeof sb);
  return fail(SY_ERROR_INVALID_ARGUMENT, "%s: %s: %s and %s", step->label, what, sa, sb);
}

/* Add and Mul, with broadcasting. */
static sy_status run_binary(const template_step* step, template_tensor* table) {
  const template_tensor *a = &table[step->inputs[0]], *b = &table[step->inputs[1]];
  template_tensor* y = &table[step->output];
  template_shape shape;
  int64_t sa[TEMPLATE_MAX_RANK], sb[TEMPLATE_MAX_RANK], index[TEMPLATE_MAX_RANK] = {0}, oa = 0, ob = 0;
  sy_status status;
  size_t i;
  if (!broadcast_shape(&a->shape, &b->shape, &shape)) return shape_error(step, "shapes do not broadcast", &a->shape, &b->shape);
  if ((status = allocate_value(y, &shape, step))) return status;
  broadcast_strides(&a->shape, &shape, sa);
  broadcast_strides(&b->shape, &shape, sb);
  for (i = 0; i < y->numel; ++i) {
    y->owned[i] = step->op == OP_ADD ? a->data[oa] + b->data[ob] : a->data[oa] * b->data[ob];
    advance(&shape, index, sa, sb, &oa, &ob);
  }
  return NULL;
}

static sy_status run_relu(const template_step* step, template_tensor* table) {
  const template_tensor* x = &table[step->inputs[0]];
  template_tensor* y = &table[step->output];
  sy_status status = allocate_value(y, &x->shape, step);
  size_t i;
  for (i = 0; !status && i < x->numel; ++i) y->owned[i] = x->data[i] < 0 ? 0.0f : x->data[i]; /* NaN stays NaN */
  return status;
}

/* Softmax (opset 13): exp(x - max) / sum along `axis`, each row accumulated in double. */
static sy_status run_softmax(const template_step* step, template_tensor* table) {
  const template_tensor* x = &table[step->inputs[0]];
  template_tensor* y = &table[step->output];
  int64_t axis = step->axis < 0 ? step->axis + x->shape.rank : step->axis, outer = 1, inner = 1, len, o, in, k;
  int32_t d;
  sy_status status;
  if (axis < 0 || axis >= x->shape.rank)
    return fail(SY_ERROR_INVALID_ARGUMENT, "%s: axis %lld is outside the input's rank %d", step->label, (long long)step->axis,
                (int)x->shape.rank);
  if ((status = allocate_value(y, &x->shape, step))) return status;
  for (d = 0; d < x->shape.rank; ++d) {
    if (d < axis) outer *= x->shape.dims[d];
    if (d > axis) inner *= x->shape.dims[d];
  }
  len = x->shape.dims[axis];
  for (o = 0; o < outer; ++o)
    for (in = 0; in < inner; ++in) {
      const float* row = x->data + o * len * inner + in;
      float* out = y->owned + o * len * inner + in;
      double max = -INFINITY, sum = 0;
      for (k = 0; k < len; ++k) max = row[k * inner] > max ? row[k * inner] : max;
      for (k = 0; k < len; ++k) sum += exp((double)row[k * inner] - max);
      for (k = 0; k < len; ++k) out[k * inner] = (float)(exp((double)row[k * inner] - max) / sum);
    }
  return NULL;
}

/* MatMul's operands as matrices: a 1-D A is a row [1,K], a 1-D B a column [K,1]; the dims before
 * the last two are batch dims, broadcast against each other. */
typedef struct matmul_plan {
  int64_t m, k, n;
  template_shape batch_a, batch_b, batch;
  template_shape out;
} matmul_plan;

static sy_status plan_matmul(const template_step* step, const template_shape* a, const template_shape* b, matmul_plan* p) {
  int a_row = a->rank == 1, b_col = b->rank == 1;
  if (a->rank < 1 || b->rank < 1) return shape_error(step, "MatMul needs operands of rank >= 1", a, b);
  p->m = a_row ? 1 : a->dims[a->rank - 2];
  p->k = a->dims[a->rank - 1];
  p->n = b_col ? 1 : b->dims[b->rank - 1];
  if ((b_col ? b->dims[0] : b->dims[b->rank - 2]) != p->k) return shape_error(step, "inner dimensions differ", a, b);
  p->batch_a.rank = a_row ? 0 : a->rank - 2;
  p->batch_b.rank = b_col ? 0 : b->rank - 2;
  memcpy(p->batch_a.dims, a->dims, (size_t)p->batch_a.rank * sizeof(int64_t));
  memcpy(p->batch_b.dims, b->dims, (size_t)p->batch_b.rank * sizeof(int64_t));
  if (!broadcast_shape(&p->batch_a, &p->batch_b, &p->batch)) return shape_error(step, "batch dimensions do not broadcast", a, b);
  p->out = p->batch;
  if (!a_row) p->out.dims[p->out.rank++] = p->m;
  if (!b_col) p->out.dims[p->out.rank++] = p->n;
  return NULL;
}

static int cancelled(const volatile int32_t* cancel_flag) { return cancel_flag && *cancel_flag != 0; }

/* MatMul, numpy semantics; accumulates in double; polls the cancel flag once per output row. */
static sy_status run_matmul(const template_step* step, template_tensor* table, const volatile int32_t* cancel_flag) {
  const template_tensor *a = &table[step->inputs[0]], *b = &table[step->inputs[1]];
  template_tensor* y = &table[step->output];
  int64_t sa[TEMPLATE_MAX_RANK], sb[TEMPLATE_MAX_RANK], index[TEMPLATE_MAX_RANK] = {0}, oa = 0, ob = 0, m, n, k;
  size_t batches, batch;
  matmul_plan p;
  sy_status status;
  if ((status = plan_matmul(step, &a->shape, &b->shape, &p))) return status;
  if ((status = allocate_value(y, &p.out, step))) return status;
  if (y->numel == 0 || !shape_numel(&p.batch, &batches)) return NULL; /* an empty product: nothing to compute */
  broadcast_strides(&p.batch_a, &p.batch, sa);
  broadcast_strides(&p.batch_b, &p.batch, sb);
  for (batch = 0; batch < batches; ++batch) {
    const float* am = a->data + oa * p.m * p.k;
    const float* bm = b->data + ob * p.k * p.n;
    float* ym = y->owned + (int64_t)batch * p.m * p.n;
    for (m = 0; m < p.m; ++m) {
      if (cancelled(cancel_flag))
        return fail(SY_ERROR_CANCELLED, "%s: cancelled at row %lld of batch %zu", step->label, (long long)m, batch);
      for (n = 0; n < p.n; ++n) {
        double sum = 0;
        for (k = 0; k < p.k; ++k) sum += (double)am[m * p.k + k] * (double)bm[k * p.n + n];
        ym[m * p.n + n] = (float)sum;
      }
    }
    advance(&p.batch, index, sa, sb, &oa, &ob);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 9. Execute. Synchronous: the work runs on the calling thread and completes before execute   */
/*    returns (the ABI allows it). Everything one execution needs lives in its own table, so    */
/*    concurrent executes on one executable share only the immutable program. A real device     */
/*    would enqueue the steps and call on_complete from its completion callback instead.        */

/* The inputs' buffers as read-only values in the table (no copy). */
static sy_status bind_inputs(sy_executable exe, const sy_execute_args* args, template_tensor* table) {
  size_t i;
  for (i = 0; i < exe->num_inputs; ++i) {
    const sy_tensor_arg* a = args->inputs[i];
    template_tensor* t = &table[exe->inputs[i]];
    if (!a || !SY_HAS_FIELD(a, sy_tensor_arg, dims) || !a->buffer || (a->rank > 0 && !a->dims))
      return fail(SY_ERROR_INVALID_ARGUMENT, "input %zu is missing its buffer or dims", i);
    if (a->elem_type != SY_ELEM_FLOAT32 || a->rank < 0 || a->rank > TEMPLATE_MAX_RANK)
      return fail(SY_ERROR_INVALID_ARGUMENT, "input %zu has element type %d and rank %d; the template takes float32 of "
                  "rank <= %d", i, (int)a->elem_type, (int)a->rank, TEMPLATE_MAX_RANK);
    t->shape.rank = a->rank;
    if (a->rank > 0) memcpy(t->shape.dims, a->dims, (size_t)a->rank * sizeof(int64_t));
    if (!shape_numel(&t->shape, &t->numel) || t->numel * sizeof(float) > a->buffer->size)
      return fail(SY_ERROR_INVALID_ARGUMENT, "input %zu's buffer (%zu bytes) is smaller than its shape", i, a->buffer->size);
    t->data = a->buffer->memory;
  }
  return NULL;
}

/* Writes the output's shape through the sy_tensor_out rules: into the host's `dims` when it has
 * room, else into an array from host->allocate, which the host frees. */
static sy_status write_dims(sy_tensor_out* out, const template_shape* shape, size_t index) {
  if ((size_t)shape->rank > out->dims_capacity) {
    out->dims = g_host->allocate((size_t)shape->rank * sizeof(int64_t));
    if (!out->dims) return fail(SY_ERROR_OUT_OF_MEMORY, "no memory for output %zu's %d dims", index, (int)shape->rank);
  }
  if (shape->rank > 0) memcpy(out->dims, shape->dims, (size_t)shape->rank * sizeof(int64_t));
  out->elem_type = SY_ELEM_FLOAT32;
  out->rank = shape->rank;
  return NULL;
}

/* Copies each graph output into the buffer the host gave, or into a new buffer the host then owns
 * (also when a later output fails). */
static sy_status write_outputs(sy_executable exe, const sy_execute_args* args, const template_tensor* table) {
  size_t i;
  sy_status status;
  for (i = 0; i < exe->num_outputs; ++i) {
    const template_tensor* t = &table[exe->outputs[i]];
    sy_tensor_out* out = args->outputs[i];
    size_t bytes = t->numel * sizeof(float);
    if (!out || !SY_HAS_FIELD(out, sy_tensor_out, dims_capacity))
      return fail(SY_ERROR_INVALID_ARGUMENT, "output %zu has no sy_tensor_out", i);
    if (!out->buffer) {
      if ((status = buffer_alloc(exe->device, bytes, &out->buffer))) return status;
    } else if (out->buffer->size < bytes) {
      return fail(SY_ERROR_INVALID_ARGUMENT, "output %zu needs %zu bytes; the host's buffer has %zu", i, bytes,
                  out->buffer->size);
    }
    if (bytes) memmove(out->buffer->memory, t->data, bytes); /* memmove: the host may pass an input's buffer */
    if ((status = write_dims(out, &t->shape, i))) return status;
  }
  return NULL;
}

static sy_status run_step(const template_step* step, template_tensor* table, const volatile int32_t* cancel_flag) {
  switch (step->op) {
    case OP_ADD:
    case OP_MUL: return run_binary(step, table);
    case OP_RELU: return run_relu(step, table);
    case OP_MATMUL: return run_matmul(step, table, cancel_flag);
    case OP_SOFTMAX: return run_softmax(step, table);
    default: return fail(SY_ERROR_INTERNAL, "%s: unknown op code %u", step->label, step->op);
  }
}

/* The host's profiler when it traces this execution and can be told (R2), else NULL. */
static const sy_profiler* profiler_of(const sy_execute_args* args) {
  const sy_profiler* p = SY_HAS_FIELD(args, sy_execute_args, profiler) ? args->profiler : NULL;
  return p && SY_HAS_FIELD(p, sy_profiler, node_event) && p->node_event ? p : NULL;
}

/* Runs every step, then writes the outputs; frees every value it allocated, on every path. */
static sy_status run_program(sy_executable exe, const sy_execute_args* args) {
  const volatile int32_t* cancel_flag = SY_HAS_FIELD(args, sy_execute_args, cancel_flag) ? args->cancel_flag : NULL;
  const sy_profiler* profiler = profiler_of(args);
  template_tensor* table = malloc((exe->num_values ? exe->num_values : 1) * sizeof(template_tensor));
  sy_status status;
  size_t i;
  if (!table) return fail(SY_ERROR_OUT_OF_MEMORY, "out of host memory");
  memcpy(table, exe->constants, exe->num_values * sizeof(template_tensor)); /* initializers; no value owned yet */
  status = bind_inputs(exe, args, table);
  for (i = 0; i < exe->num_steps && !status; ++i) {
    uint64_t start = profiler ? now_ns() : 0;
    if (cancelled(cancel_flag)) {
      status = fail(SY_ERROR_CANCELLED, "cancelled before %s", exe->steps[i].label);
      break;
    }
    status = run_step(&exe->steps[i], table, cancel_flag);
    if (!status && profiler) profiler->node_event(profiler->context, i, TEMPLATE_IMPLEMENTATION, start, now_ns());
  }
  if (!status) status = write_outputs(exe, args, table);
  for (i = 0; i < exe->num_values; ++i) free(table[i].owned);
  free(table);
  return status;
}

/* Starts executing: `args` and everything it points to are borrowed until completion. Returns an
 * error only if the work cannot be accepted (then on_complete is not called); otherwise calls
 * on_complete exactly once, here before returning, with the run's status (the host's from then
 * on). Concurrent calls on one executable are allowed. */
static sy_status execute(sy_executable exe, const sy_execute_args* args) {
  if (!exe || !args || !SY_HAS_FIELD(args, sy_execute_args, on_complete) || !args->on_complete)
    return fail(SY_ERROR_INVALID_ARGUMENT, "NULL argument");
  if (args->num_inputs != exe->num_inputs || args->num_outputs != exe->num_outputs)
    return fail(SY_ERROR_INVALID_ARGUMENT, "%zu inputs and %zu outputs given, the graph has %zu and %zu",
                args->num_inputs, args->num_outputs, exe->num_inputs, exe->num_outputs);
  if ((exe->num_inputs && !args->inputs) || (exe->num_outputs && !args->outputs))
    return fail(SY_ERROR_UNSUPPORTED, "the template takes plain tensors only (no input_values/output_values)");
  args->on_complete(args->user_data, run_program(exe, args));
  return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* 10. The function table and the entry point.                                                 */

/* Static storage, valid while the library is loaded. Designated initializers let the compiler
 * check the order against the header. */
static const sy_plugin_api g_api = {
    .struct_size = sizeof(sy_plugin_api),
    .abi_major = SY_ABI_VERSION_MAJOR,
    .abi_minor = SY_ABI_VERSION_MINOR,
    .get_info = get_info,
    .initialize = initialize,
    .shutdown = shutdown,
    .get_diagnostics = get_diagnostics,
    .device_count = device_count,
    .device_get = device_get,
    .device_info = device_info,
    .query_support = query_support,
    .compile = compile,
    .executable_serialize = executable_serialize,
    .executable_restore = executable_restore,
    .executable_release = executable_release,
    .buffer_alloc = buffer_alloc,
    .buffer_release = buffer_release,
    .buffer_size = buffer_size,
    .buffer_write = buffer_write,
    .buffer_read = buffer_read,
    .execute = execute,
    .buffer_map = buffer_map,
    /* Optional, left out: a device whose serialized bytes hold data it could use where they lie
     * (weights in its own layout) provides executable_restore_in_place. */
    .executable_restore_in_place = NULL,
    .buffer_import_host = buffer_import_host,
};

/* The one exported symbol. Called once per load, before anything else; `host` stays valid while
 * the library is loaded. The table is returned even to a host of another major version: the host
 * reports the mismatch, naming both versions. */
SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t host_abi_minor, const sy_host_api* host,
                                                  const sy_plugin_api** out_api) {
  (void)host_abi_major, (void)host_abi_minor;
  atomic_store(&g_host, host);
  if (out_api) *out_api = &g_api;
  return NULL;
}
