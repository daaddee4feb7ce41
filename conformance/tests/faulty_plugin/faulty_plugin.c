/* faulty_plugin.c: a TEST DOUBLE for the conformance kit's own tests, not a plugin to copy.
 *
 * It is the template plugin (plugins/template/template_plugin.c, compiled beside this file with
 * its entry point renamed template_plugin_get_api) with ONE fault injected, chosen by the
 * manifest's `fault` setting, so that the kit's tests can show each fault caught by the suite that
 * owns it, with the right message:
 *   none              the template as it is (control)
 *   wrong_on_shape    execute's first output is off by one in its first value whenever an input
 *                     has a dimension of size 7; right on every other shape (the ops suite)
 *   crash_in_execute  execute writes through a null pointer (the runner: a crash in execute)
 *   hang_in_execute   execute never returns (the runner: a timeout)
 *   completion_twice  execute calls on_complete twice (the api suite's completion case)
 *   crash_in_restore  executable_restore dereferences garbage when the bytes are corrupt, instead
 *                     of refusing them (the cache suite's corrupt-bytes cases: a crash)
 * The plugin's name (FAULTY_PLUGIN_NAME, one library per manifest) replaces the template's in
 * get_info, and device_info names the fault, so plan caches never mix it up with the template.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "switchyard/plugin_abi.h"

#ifndef FAULTY_PLUGIN_NAME
#error "FAULTY_PLUGIN_NAME must name the plugin (its manifest's name)"
#endif

/* The template's entry point, renamed when its source is compiled for this library. */
sy_status template_plugin_get_api(uint32_t host_abi_major, uint32_t host_abi_minor, const sy_host_api* host,
                                  const sy_plugin_api** out_api);

enum fault { FAULT_NONE, FAULT_WRONG_ON_SHAPE, FAULT_CRASH_IN_EXECUTE, FAULT_HANG_IN_EXECUTE, FAULT_COMPLETION_TWICE, FAULT_CRASH_IN_RESTORE };

static const char* const k_fault_names[] = {"none", "wrong_on_shape", "crash_in_execute", "hang_in_execute", "completion_twice",
                                            "crash_in_restore"};
#define FAULT_COUNT (sizeof k_fault_names / sizeof k_fault_names[0])
#define WRONG_DIM 7 /* wrong_on_shape: the dimension size that triggers it */

static const sy_host_api* _Atomic g_host;
static const sy_plugin_api* g_template; /* the template's table; set before anything else */
static sy_plugin_api g_api;             /* ours: the template's with the faulty functions swapped in */
static _Atomic int g_fault;
static int* volatile g_null; /* NULL, volatile so that the compiler cannot see the crash coming */

/* ---- Identity ---- */

static void get_info(sy_plugin_info* out_info) {
  g_template->get_info(out_info);
  if (SY_HAS_FIELD(out_info, sy_plugin_info, name)) out_info->name = FAULTY_PLUGIN_NAME;
  if (SY_HAS_FIELD(out_info, sy_plugin_info, description))
    out_info->description = "Test double: the template plugin with one fault injected (conformance/tests/faulty_plugin)";
}

static sy_status device_info(sy_device device, sy_device_info* out_info) {
  sy_status status = g_template->device_info(device, out_info);
  if (status) return status;
  if (SY_HAS_FIELD(out_info, sy_device_info, name)) out_info->name = k_fault_names[atomic_load(&g_fault)];
  if (SY_HAS_FIELD(out_info, sy_device_info, identity)) out_info->identity = "faulty/" FAULTY_PLUGIN_NAME;
  return NULL;
}

/* The `fault` setting picks the fault; an unknown one fails, naming those there are. */
static sy_status initialize(const sy_setting* const* settings, size_t num_settings, sy_plugin* out_plugin) {
  size_t i, f;
  atomic_store(&g_fault, FAULT_NONE);
  for (i = 0; settings && i < num_settings; ++i) {
    if (!settings[i] || !settings[i]->key || strcmp(settings[i]->key, "fault") != 0 || !settings[i]->value) continue;
    for (f = 0; f < FAULT_COUNT && strcmp(settings[i]->value, k_fault_names[f]) != 0; ++f) {
    }
    if (f == FAULT_COUNT)
      return g_host->make_status(SY_ERROR_INVALID_ARGUMENT, "unknown fault (none, wrong_on_shape, crash_in_execute, hang_in_execute, "
                                                            "completion_twice, crash_in_restore)");
    atomic_store(&g_fault, (int)f);
  }
  return g_template->initialize(settings, num_settings, out_plugin);
}

/* ---- Execute ---- */

/* The completion the template calls, standing between it and the host's. The template completes
 * before its execute returns, so this lives on faulty_execute's stack. */
typedef struct relay {
  const sy_execute_args* host_args;
} relay;

static int has_wrong_dim(const sy_execute_args* args) {
  size_t i;
  int32_t d;
  for (i = 0; args->inputs && i < args->num_inputs; ++i)
    for (d = 0; args->inputs[i] && args->inputs[i]->dims && d < args->inputs[i]->rank; ++d)
      if (args->inputs[i]->dims[d] == WRONG_DIM) return 1;
  return 0;
}

/* wrong_on_shape: the first value of output 0 (host-visible template memory) plus one. */
static void spoil_first_output(const sy_execute_args* args) {
  float* values;
  if (args->num_outputs == 0 || !args->outputs[0]->buffer || g_template->buffer_size(args->outputs[0]->buffer) < sizeof(float)) return;
  values = g_template->buffer_map(args->outputs[0]->buffer);
  values[0] += 1.0f;
}

static void relay_completion(void* user_data, sy_status status) {
  const sy_execute_args* host_args = ((const relay*)user_data)->host_args;
  int fault = atomic_load(&g_fault);
  if (fault == FAULT_WRONG_ON_SHAPE && !status && has_wrong_dim(host_args)) spoil_first_output(host_args);
  host_args->on_complete(host_args->user_data, status);
  if (fault == FAULT_COMPLETION_TWICE) host_args->on_complete(host_args->user_data, NULL);
}

/* The template's execute with our completion in the host's: a copy of the host's arguments (as
 * many bytes as both sides know) pointing at the relay. */
static sy_status execute_relayed(sy_executable exe, const sy_execute_args* args) {
  sy_execute_args copy;
  relay r;
  size_t size = args->struct_size < sizeof copy ? args->struct_size : sizeof copy;
  if (!SY_HAS_FIELD(args, sy_execute_args, user_data) || !args->on_complete) return g_template->execute(exe, args);
  memset(&copy, 0, sizeof copy);
  memcpy(&copy, args, size);
  copy.struct_size = size;
  r.host_args = args;
  copy.on_complete = relay_completion;
  copy.user_data = &r;
  return g_template->execute(exe, &copy);
}

static sy_status execute(sy_executable exe, const sy_execute_args* args) {
  switch (atomic_load(&g_fault)) {
    case FAULT_CRASH_IN_EXECUTE:
      *g_null = 1;
      return NULL;
    case FAULT_HANG_IN_EXECUTE:
      for (;;) pause();
    case FAULT_WRONG_ON_SHAPE:
    case FAULT_COMPLETION_TWICE: return execute_relayed(exe, args);
    default: return g_template->execute(exe, args);
  }
}

/* ---- Restore ---- */

/* crash_in_restore: where the template refuses corrupt bytes, this one trusts them and follows a
 * "pointer" read from them. Addresses below 4096 are never mapped, so the crash is certain. */
static sy_status executable_restore(sy_device device, const sy_graph* graph, const void* data, size_t size,
                                    sy_executable* out_executable) {
  sy_status status = g_template->executable_restore(device, graph, data, size, out_executable);
  if (status && atomic_load(&g_fault) == FAULT_CRASH_IN_RESTORE) {
    volatile const unsigned char* garbage = (const unsigned char*)(uintptr_t)(size % 4096);
    return (sy_status)(uintptr_t)*garbage;
  }
  return status;
}

/* ---- Entry point ---- */

SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t host_abi_major, uint32_t host_abi_minor, const sy_host_api* host,
                                                  const sy_plugin_api** out_api) {
  const sy_plugin_api* inner = NULL;
  sy_status status = template_plugin_get_api(host_abi_major, host_abi_minor, host, &inner);
  atomic_store(&g_host, host);
  if (status || !inner) return status;
  g_template = inner;
  g_api = *inner;
  g_api.get_info = get_info;
  g_api.initialize = initialize;
  g_api.device_info = device_info;
  g_api.execute = execute;
  g_api.executable_restore = executable_restore;
  if (out_api) *out_api = &g_api;
  return NULL;
}
