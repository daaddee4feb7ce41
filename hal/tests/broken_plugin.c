/* Test double: deliberately broken plugins for the loader tests. Not a device.
 * Built several times with one of:
 *   BROKEN_NO_ENTRY   - exports no entry point
 *   BROKEN_ABI_MAJOR  - reports ABI major SY_ABI_VERSION_MAJOR + 1
 *   BROKEN_ABI_1      - reports ABI 1.4, as a plugin built before ABI 2.0 does
 *   BROKEN_INIT_FAILS - initialize() fails with a driver-style message
 */
#include <stddef.h>
#include <string.h>

#include "switchyard/plugin_abi.h"

static const sy_host_api* g_host;

static sy_status fail(const char* msg) { return g_host->make_status(SY_ERROR_UNAVAILABLE, msg); }

static void get_info(sy_plugin_info* info) {
  info->name = "broken";
  info->vendor = "Switchyard tests";
  info->version = "0.0.1";
  info->description = "test double: a plugin that is broken on purpose";
}
static sy_status initialize(const sy_setting* const* s, size_t n, sy_plugin* out) {
  (void)s, (void)n, (void)out;
  return fail("simulated driver failure: device firmware not loaded");
}
static void shutdown(sy_plugin p) { (void)p; }
static const char* diagnostics(sy_plugin p) { (void)p; return ""; }
static sy_status device_count(sy_plugin p, size_t* n) { (void)p; *n = 0; return NULL; }
static sy_status device_get(sy_plugin p, size_t i, sy_device* d) { (void)p, (void)i, (void)d; return fail("no devices"); }
static sy_status device_info(sy_device d, sy_device_info* i) { (void)d, (void)i; return fail("no devices"); }
static sy_status query_support(sy_device d, const sy_graph* g, const sy_support_report* s) { (void)d, (void)g, (void)s; return fail("no"); }
static sy_status compile(sy_device d, const sy_graph* g, const sy_setting* const* o, size_t n, sy_executable* e) {
  (void)d, (void)g, (void)o, (void)n, (void)e;
  return fail("no");
}
static sy_status serialize(sy_executable e, void* d, size_t c, size_t* s) { (void)e, (void)d, (void)c, (void)s; return fail("no"); }
static sy_status restore(sy_device d, const sy_graph* g, const void* p, size_t n, sy_executable* e) {
  (void)d, (void)g, (void)p, (void)n, (void)e;
  return fail("no");
}
static void release(sy_executable e) { (void)e; }
static sy_status alloc(sy_device d, size_t n, sy_buffer* b) { (void)d, (void)n, (void)b; return fail("no"); }
static void buffer_release(sy_buffer b) { (void)b; }
static size_t buffer_size(sy_buffer b) { (void)b; return 0; }
static sy_status buffer_write(sy_buffer b, size_t o, const void* s, size_t n) { (void)b, (void)o, (void)s, (void)n; return fail("no"); }
static sy_status buffer_read(sy_buffer b, size_t o, void* d, size_t n) { (void)b, (void)o, (void)d, (void)n; return fail("no"); }
static sy_status execute(sy_executable e, const sy_execute_args* a) { (void)e, (void)a; return fail("no"); }

static sy_plugin_api g_api = {
    sizeof(sy_plugin_api), SY_ABI_VERSION_MAJOR, SY_ABI_VERSION_MINOR, get_info, initialize, shutdown, diagnostics,
    device_count, device_get, device_info, query_support, compile, serialize, restore, release, alloc, buffer_release,
    buffer_size, buffer_write, buffer_read, execute, NULL, NULL, NULL};

#ifndef BROKEN_NO_ENTRY
SY_PLUGIN_EXPORT sy_status SwitchyardPluginGetApi(uint32_t major, uint32_t minor, const sy_host_api* host,
                                                  const sy_plugin_api** out) {
  (void)major, (void)minor;
  g_host = host;
#ifdef BROKEN_ABI_MAJOR
  g_api.abi_major = SY_ABI_VERSION_MAJOR + 1;
#endif
#ifdef BROKEN_ABI_1
  g_api.abi_major = 1;
  g_api.abi_minor = 4;
#endif
  *out = &g_api;
  return NULL;
}
#else
SY_PLUGIN_EXPORT int SomethingElseEntirely(void) { return 42; }
#endif
