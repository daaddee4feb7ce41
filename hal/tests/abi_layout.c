/* The plugin ABI's layout on this platform: every struct's size and every field's offset and size,
 * and every enum constant's value, one per line. With --check GOLDEN it compares the header it was
 * compiled with against the golden file (hal/tests/abi_layout.golden) and says what changed:
 *   - a field moved, resized or removed, a struct shrunk, an enum constant renumbered: that breaks
 *     every plugin built before, so it needs a major bump (and a regenerated golden file);
 *   - a struct grew (fields appended): allowed with a minor bump; list the new fields below and
 *     regenerate the golden file (`abi_layout > hal/tests/abi_layout.golden`).
 * The build runs the check (a change fails the build), and CTest runs it again, and once on a
 * doctored copy of the header with two fields swapped, to show that the check catches a move.
 * It also holds the header to its rules R2 and R3 (struct_size first; no fixed-size arrays). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/plugin_abi.h"

typedef struct entry {
  const char* name; /* "sy_graph", "sy_graph.nodes", "SY_ERROR_CANCELLED" */
  long offset;      /* field: offset; struct: -1; enum constant: its value */
  long size;        /* field / struct: bytes; enum constant: -2 */
} entry;

#define STRUCT(s) {#s, -1, (long)sizeof(s)},
#define FIELD(s, f) {#s "." #f, (long)offsetof(s, f), (long)sizeof(((s*)0)->f)},
#define ENUM(e) {#e, (long)(e), -2},

static const entry kEntries[] = {
  STRUCT(sy_host_api)
  FIELD(sy_host_api, struct_size)
  FIELD(sy_host_api, abi_major)
  FIELD(sy_host_api, abi_minor)
  FIELD(sy_host_api, make_status)
  FIELD(sy_host_api, log)
  FIELD(sy_host_api, allocate)
  FIELD(sy_host_api, deallocate)
  FIELD(sy_host_api, now_ns)
  STRUCT(sy_plugin_info)
  FIELD(sy_plugin_info, struct_size)
  FIELD(sy_plugin_info, name)
  FIELD(sy_plugin_info, vendor)
  FIELD(sy_plugin_info, version)
  FIELD(sy_plugin_info, description)
  STRUCT(sy_setting)
  FIELD(sy_setting, struct_size)
  FIELD(sy_setting, key)
  FIELD(sy_setting, value)
  STRUCT(sy_device_info)
  FIELD(sy_device_info, struct_size)
  FIELD(sy_device_info, kind)
  FIELD(sy_device_info, reported_kind)
  FIELD(sy_device_info, name)
  FIELD(sy_device_info, vendor)
  FIELD(sy_device_info, driver_version)
  FIELD(sy_device_info, identity)
  FIELD(sy_device_info, memory_bytes)
  FIELD(sy_device_info, max_allocation_bytes)
  FIELD(sy_device_info, peak_gflops_f32)
  FIELD(sy_device_info, peak_gflops_f16)
  FIELD(sy_device_info, memory_bandwidth_gbps)
  FIELD(sy_device_info, host_link_gbps)
  FIELD(sy_device_info, launch_overhead_us)
  FIELD(sy_device_info, active_power_watts)
  FIELD(sy_device_info, host_visible_memory)
  FIELD(sy_device_info, compute_element_type)
  STRUCT(sy_value_desc)
  FIELD(sy_value_desc, struct_size)
  FIELD(sy_value_desc, name)
  FIELD(sy_value_desc, kind)
  FIELD(sy_value_desc, elem_type)
  FIELD(sy_value_desc, rank)
  FIELD(sy_value_desc, dims)
  FIELD(sy_value_desc, dim_symbols)
  STRUCT(sy_constant)
  FIELD(sy_constant, struct_size)
  FIELD(sy_constant, elem_type)
  FIELD(sy_constant, rank)
  FIELD(sy_constant, dims)
  FIELD(sy_constant, data)
  FIELD(sy_constant, size_bytes)
  STRUCT(sy_attribute)
  FIELD(sy_attribute, struct_size)
  FIELD(sy_attribute, name)
  FIELD(sy_attribute, type)
  FIELD(sy_attribute, count)
  FIELD(sy_attribute, f)
  FIELD(sy_attribute, i)
  FIELD(sy_attribute, s)
  FIELD(sy_attribute, s_size)
  FIELD(sy_attribute, floats)
  FIELD(sy_attribute, ints)
  FIELD(sy_attribute, strings)
  FIELD(sy_attribute, string_sizes)
  FIELD(sy_attribute, tensors)
  FIELD(sy_attribute, graphs)
  STRUCT(sy_node)
  FIELD(sy_node, struct_size)
  FIELD(sy_node, name)
  FIELD(sy_node, domain)
  FIELD(sy_node, op_type)
  FIELD(sy_node, opset)
  FIELD(sy_node, num_inputs)
  FIELD(sy_node, inputs)
  FIELD(sy_node, num_outputs)
  FIELD(sy_node, outputs)
  FIELD(sy_node, num_attributes)
  FIELD(sy_node, attributes)
  STRUCT(sy_initializer)
  FIELD(sy_initializer, struct_size)
  FIELD(sy_initializer, value)
  FIELD(sy_initializer, tensor)
  STRUCT(sy_graph)
  FIELD(sy_graph, struct_size)
  FIELD(sy_graph, name)
  FIELD(sy_graph, num_values)
  FIELD(sy_graph, values)
  FIELD(sy_graph, num_nodes)
  FIELD(sy_graph, nodes)
  FIELD(sy_graph, num_inputs)
  FIELD(sy_graph, inputs)
  FIELD(sy_graph, num_outputs)
  FIELD(sy_graph, outputs)
  FIELD(sy_graph, num_initializers)
  FIELD(sy_graph, initializers)
  FIELD(sy_graph, num_opsets)
  FIELD(sy_graph, opset_domains)
  FIELD(sy_graph, opset_versions)
  STRUCT(sy_support_report)
  FIELD(sy_support_report, struct_size)
  FIELD(sy_support_report, context)
  FIELD(sy_support_report, node)
  STRUCT(sy_tensor_arg)
  FIELD(sy_tensor_arg, struct_size)
  FIELD(sy_tensor_arg, buffer)
  FIELD(sy_tensor_arg, elem_type)
  FIELD(sy_tensor_arg, rank)
  FIELD(sy_tensor_arg, dims)
  STRUCT(sy_tensor_out)
  FIELD(sy_tensor_out, struct_size)
  FIELD(sy_tensor_out, buffer)
  FIELD(sy_tensor_out, elem_type)
  FIELD(sy_tensor_out, rank)
  FIELD(sy_tensor_out, dims)
  FIELD(sy_tensor_out, dims_capacity)
  STRUCT(sy_value_arg)
  FIELD(sy_value_arg, struct_size)
  FIELD(sy_value_arg, kind)
  FIELD(sy_value_arg, element_kind)
  FIELD(sy_value_arg, has_value)
  FIELD(sy_value_arg, num_tensors)
  FIELD(sy_value_arg, tensors)
  STRUCT(sy_value_out)
  FIELD(sy_value_out, struct_size)
  FIELD(sy_value_out, kind)
  FIELD(sy_value_out, element_kind)
  FIELD(sy_value_out, has_value)
  FIELD(sy_value_out, context)
  FIELD(sy_value_out, append_tensor)
  STRUCT(sy_profiler)
  FIELD(sy_profiler, struct_size)
  FIELD(sy_profiler, context)
  FIELD(sy_profiler, node_event)
  STRUCT(sy_execute_args)
  FIELD(sy_execute_args, struct_size)
  FIELD(sy_execute_args, num_inputs)
  FIELD(sy_execute_args, inputs)
  FIELD(sy_execute_args, num_outputs)
  FIELD(sy_execute_args, outputs)
  FIELD(sy_execute_args, input_values)
  FIELD(sy_execute_args, output_values)
  FIELD(sy_execute_args, on_complete)
  FIELD(sy_execute_args, user_data)
  FIELD(sy_execute_args, cancel_flag)
  FIELD(sy_execute_args, max_memory_bytes)
  FIELD(sy_execute_args, profiler)
  STRUCT(sy_plugin_api)
  FIELD(sy_plugin_api, struct_size)
  FIELD(sy_plugin_api, abi_major)
  FIELD(sy_plugin_api, abi_minor)
  FIELD(sy_plugin_api, get_info)
  FIELD(sy_plugin_api, initialize)
  FIELD(sy_plugin_api, shutdown)
  FIELD(sy_plugin_api, get_diagnostics)
  FIELD(sy_plugin_api, device_count)
  FIELD(sy_plugin_api, device_get)
  FIELD(sy_plugin_api, device_info)
  FIELD(sy_plugin_api, query_support)
  FIELD(sy_plugin_api, compile)
  FIELD(sy_plugin_api, executable_serialize)
  FIELD(sy_plugin_api, executable_restore)
  FIELD(sy_plugin_api, executable_release)
  FIELD(sy_plugin_api, buffer_alloc)
  FIELD(sy_plugin_api, buffer_release)
  FIELD(sy_plugin_api, buffer_size)
  FIELD(sy_plugin_api, buffer_write)
  FIELD(sy_plugin_api, buffer_read)
  FIELD(sy_plugin_api, execute)
  FIELD(sy_plugin_api, buffer_map)
  FIELD(sy_plugin_api, executable_restore_in_place)
  FIELD(sy_plugin_api, buffer_import_host)
  ENUM(SY_OK)
  ENUM(SY_ERROR_INVALID_ARGUMENT)
  ENUM(SY_ERROR_NOT_FOUND)
  ENUM(SY_ERROR_UNSUPPORTED)
  ENUM(SY_ERROR_UNAVAILABLE)
  ENUM(SY_ERROR_OUT_OF_MEMORY)
  ENUM(SY_ERROR_INTERNAL)
  ENUM(SY_ERROR_CANCELLED)
  ENUM(SY_ERROR_DEADLINE_EXCEEDED)
  ENUM(SY_ERROR_IO)
  ENUM(SY_ERROR_DATA_LOSS)
  ENUM(SY_ERROR_ABI_MISMATCH)
  ENUM(SY_ERROR_RESOURCE_EXHAUSTED)
  ENUM(SY_LOG_DEBUG)
  ENUM(SY_LOG_INFO)
  ENUM(SY_LOG_WARNING)
  ENUM(SY_LOG_ERROR)
  ENUM(SY_DEVICE_KIND_CPU)
  ENUM(SY_DEVICE_KIND_GPU)
  ENUM(SY_DEVICE_KIND_NPU)
  ENUM(SY_DEVICE_KIND_OTHER)
  ENUM(SY_ELEM_UNDEFINED)
  ENUM(SY_ELEM_FLOAT32)
  ENUM(SY_ELEM_UINT8)
  ENUM(SY_ELEM_INT8)
  ENUM(SY_ELEM_UINT16)
  ENUM(SY_ELEM_INT16)
  ENUM(SY_ELEM_INT32)
  ENUM(SY_ELEM_INT64)
  ENUM(SY_ELEM_STRING)
  ENUM(SY_ELEM_BOOL)
  ENUM(SY_ELEM_FLOAT16)
  ENUM(SY_ELEM_FLOAT64)
  ENUM(SY_ELEM_UINT32)
  ENUM(SY_ELEM_UINT64)
  ENUM(SY_ELEM_COMPLEX64)
  ENUM(SY_ELEM_COMPLEX128)
  ENUM(SY_ELEM_BFLOAT16)
  ENUM(SY_ELEM_FLOAT8E4M3FN)
  ENUM(SY_ELEM_FLOAT8E4M3FNUZ)
  ENUM(SY_ELEM_FLOAT8E5M2)
  ENUM(SY_ELEM_FLOAT8E5M2FNUZ)
  ENUM(SY_ELEM_UINT4)
  ENUM(SY_ELEM_INT4)
  ENUM(SY_ELEM_FLOAT4E2M1)
  ENUM(SY_ELEM_FLOAT8E8M0)
  ENUM(SY_ELEM_UINT2)
  ENUM(SY_ELEM_INT2)
  ENUM(SY_VALUE_TENSOR)
  ENUM(SY_VALUE_SEQUENCE)
  ENUM(SY_VALUE_OPTIONAL)
  ENUM(SY_VALUE_UNKNOWN)
  ENUM(SY_ATTR_UNDEFINED)
  ENUM(SY_ATTR_FLOAT)
  ENUM(SY_ATTR_INT)
  ENUM(SY_ATTR_STRING)
  ENUM(SY_ATTR_TENSOR)
  ENUM(SY_ATTR_GRAPH)
  ENUM(SY_ATTR_FLOATS)
  ENUM(SY_ATTR_INTS)
  ENUM(SY_ATTR_STRINGS)
  ENUM(SY_ATTR_TENSORS)
  ENUM(SY_ATTR_GRAPHS)
  ENUM(SY_SUPPORTED)
  ENUM(SY_UNSUPPORTED_OP)
  ENUM(SY_UNSUPPORTED_ELEMENT_TYPE)
  ENUM(SY_UNSUPPORTED_SHAPE)
  ENUM(SY_UNSUPPORTED_ATTRIBUTE)
  ENUM(SY_UNSUPPORTED_SIZE_LIMIT)
  ENUM(SY_UNSUPPORTED_OTHER)
};

static const size_t kCount = sizeof kEntries / sizeof kEntries[0];

static void print_layout(FILE* out) {
  size_t i;
  fprintf(out, "abi %d.%d\n", SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR);
  for (i = 0; i < kCount; ++i) fprintf(out, "%s %ld %ld\n", kEntries[i].name, kEntries[i].offset, kEntries[i].size);
}

static const entry* find(const char* name) {
  size_t i;
  for (i = 0; i < kCount; ++i)
    if (strcmp(kEntries[i].name, name) == 0) return &kEntries[i];
  return NULL;
}

/* One golden line against this build; returns 1 when it differs. */
static int compare(const char* name, long offset, long size) {
  const entry* now = find(name);
  if (!now) {
    printf("%s: removed (it was in the golden file): a major change\n", name);
    return 1;
  }
  if (size == -2 && now->offset != offset) {
    printf("%s: value changed from %ld to %ld: a major change\n", name, offset, now->offset);
    return 1;
  }
  if (offset == -1 && now->size < size) {
    printf("%s: shrank from %ld to %ld bytes: a major change\n", name, size, now->size);
    return 1;
  }
  if (offset == -1 && now->size > size) {
    printf("%s: grew from %ld to %ld bytes: fields appended; list them in abi_layout.c, bump the minor and regenerate the golden file\n",
           name, size, now->size);
    return 1;
  }
  if (offset >= 0 && (now->offset != offset || now->size != size)) {
    printf("%s: moved from offset %ld (size %ld) to offset %ld (size %ld): a major change\n", name, offset, size, now->offset, now->size);
    return 1;
  }
  return 0;
}

/* The header's own rules (R2, R3): every struct starts with struct_size, and every field is a
 * scalar or a pointer (no fixed-size array, no embedded struct that could never grow). */
static int check_rules(void) {
  size_t i;
  char want[300];
  int failures = 0;
  for (i = 0; i < kCount; ++i) {
    const entry* e = &kEntries[i];
    const entry* first;
    if (e->offset >= 0 && e->size > 8) {
      printf("%s: %ld bytes: a fixed-size array or an embedded struct (rule R3)\n", e->name, e->size);
      ++failures;
    }
    if (e->offset != -1) continue;
    sprintf(want, "%.250s.struct_size", e->name);
    first = find(want);
    if (!first || first->offset != 0) {
      printf("%s: does not start with struct_size (rule R2)\n", e->name);
      ++failures;
    }
  }
  return failures;
}

static int check(const char* golden_path) {
  char line[512], name[256];
  int major = 0, minor = 0, failures = 0;
  long offset, size;
  FILE* in = fopen(golden_path, "r");
  if (!in) {
    printf("cannot read the golden file %s\n", golden_path);
    return 2;
  }
  if (!fgets(line, sizeof line, in) || sscanf(line, "abi %d.%d", &major, &minor) != 2) {
    printf("%s: the first line must be 'abi MAJOR.MINOR'\n", golden_path);
    fclose(in);
    return 2;
  }
  failures = check_rules();
  while (fgets(line, sizeof line, in))
    if (sscanf(line, "%255s %ld %ld", name, &offset, &size) == 3) failures += compare(name, offset, size);
  fclose(in);
  if (failures == 0 && (major != SY_ABI_VERSION_MAJOR || minor != SY_ABI_VERSION_MINOR)) {
    printf("the golden file describes ABI %d.%d, the header is %d.%d: regenerate it\n", major, minor, SY_ABI_VERSION_MAJOR,
           SY_ABI_VERSION_MINOR);
    failures = 1;
  }
  if (failures && major == SY_ABI_VERSION_MAJOR && minor == SY_ABI_VERSION_MINOR)
    printf("the ABI's layout changed without a version bump (header %d.%d): see the lines above\n", major, minor);
  if (failures) return 1;
  printf("ABI %d.%d layout matches %s (%lu entries)\n", major, minor, golden_path, (unsigned long)kCount);
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 1) {
    print_layout(stdout);
    return 0;
  }
  if (argc == 3 && strcmp(argv[1], "--check") == 0) return check(argv[2]);
  fprintf(stderr, "usage: abi_layout [--check GOLDEN]\n");
  return 2;
}
