// The NPU simulator as any Level Zero application sees it, through the system's loader and the
// graph extension's functions: the abort event (extension 1.1) that stops a running graph.
#include <gtest/gtest.h>
#include <level_zero/loader/ze_loader.h>
#include <level_zero/ze_api.h>

#include <cstring>
#include <string>

#include "common/segment_format.h"
#include "switchyard/ze_switchyard_graph.h"

namespace {

namespace seg = switchyard::zeseg;

template <typename H>
H driver_handle(zel_handle_type_t type, H h) {
  void* out = nullptr;
  if (zelLoaderTranslateHandle(type, h, &out) != ZE_RESULT_SUCCESS || !out) return h;
  return static_cast<H>(out);
}

// The simulator's one device with a context, an asynchronous queue and the extension's functions.
struct Npu {
  ze_driver_handle_t driver = nullptr;
  ze_device_handle_t device = nullptr;
  ze_context_handle_t context = nullptr;
  ze_command_queue_handle_t queue = nullptr;
  uint32_t ext_version = 0;
  ze_pfnSwitchyardGetLastError_t last_error = nullptr;
  ze_pfnSwitchyardGraphCreate_t create = nullptr;
  ze_pfnSwitchyardGraphCompile_t compile = nullptr;
  ze_pfnSwitchyardCommandListAppendGraphExecuteAbortable_t append_abortable = nullptr;
  ze_pfnSwitchyardGraphDestroy_t destroy = nullptr;

  // "" when the device is ready, else why not.
  std::string open() {
    if (zeInit(0) != ZE_RESULT_SUCCESS) return "zeInit failed (ZE_ENABLE_ALT_DRIVERS must name the simulator)";
    uint32_t n = 1;
    if (zeDriverGet(&n, &driver) != ZE_RESULT_SUCCESS || n == 0) return "no Level Zero driver";
    n = 1;
    if (zeDeviceGet(driver, &n, &device) != ZE_RESULT_SUCCESS || n == 0) return "no Level Zero device";
    ze_context_desc_t cd{ZE_STRUCTURE_TYPE_CONTEXT_DESC, nullptr, 0};
    if (zeContextCreate(driver, &cd, &context) != ZE_RESULT_SUCCESS) return "zeContextCreate failed";
    ze_command_queue_desc_t qd{};
    qd.stype = ZE_STRUCTURE_TYPE_COMMAND_QUEUE_DESC;
    qd.mode = ZE_COMMAND_QUEUE_MODE_ASYNCHRONOUS;
    if (zeCommandQueueCreate(context, device, &qd, &queue) != ZE_RESULT_SUCCESS) return "zeCommandQueueCreate failed";
    ze_driver_extension_properties_t ext{};
    n = 1;
    if (zeDriverGetExtensionProperties(driver, &n, &ext) != ZE_RESULT_SUCCESS || std::strcmp(ext.name, ZE_SWITCHYARD_GRAPH_EXT_NAME) != 0)
      return "the driver does not advertise " ZE_SWITCHYARD_GRAPH_EXT_NAME;
    ext_version = ext.version;
    function("zeSwitchyardGetLastError", last_error);
    function("zeSwitchyardGraphCreate", create);
    function("zeSwitchyardGraphCompile", compile);
    function("zeSwitchyardCommandListAppendGraphExecuteAbortable", append_abortable);
    function("zeSwitchyardGraphDestroy", destroy);
    return last_error && create && compile && append_abortable && destroy ? "" : "the driver lacks some of the extension's functions";
  }
  template <typename Fn>
  void function(const char* name, Fn& fn) {
    void* p = nullptr;
    if (zeDriverGetExtensionFunctionAddress(driver, name, &p) == ZE_RESULT_SUCCESS) fn = reinterpret_cast<Fn>(p);
  }
  std::string why() const {
    const char* m = nullptr;
    return last_error && last_error(&m) == ZE_RESULT_SUCCESS && m ? m : "";
  }
  ~Npu() {
    if (queue) zeCommandQueueDestroy(queue);
    if (context) zeContextDestroy(context);
  }
};

// y = Relu(x) over 4 float32s, as the plugin would serialise it.
std::string relu_segment() {
  seg::Segment s;
  s.values = {{"x", 1, 1, {4}}, {"y", 1, 1, {4}}};
  seg::Node relu;
  relu.op_type = "Relu";
  relu.opset = 13;
  relu.inputs = {0};
  relu.outputs = {1};
  s.nodes = {relu};
  s.inputs = {0};
  s.outputs = {1};
  seg::Writer w;
  seg::write_segment(s, w);
  return w.out;
}

void* shared_floats(const Npu& npu, const float (&values)[4]) {
  ze_device_mem_alloc_desc_t dd{ZE_STRUCTURE_TYPE_DEVICE_MEM_ALLOC_DESC, nullptr, 0, 0};
  ze_host_mem_alloc_desc_t hd{ZE_STRUCTURE_TYPE_HOST_MEM_ALLOC_DESC, nullptr, 0};
  void* p = nullptr;
  EXPECT_EQ(zeMemAllocShared(npu.context, &dd, &hd, sizeof values, 64, npu.device, &p), ZE_RESULT_SUCCESS);
  if (p) std::memcpy(p, values, sizeof values);
  return p;
}

TEST(NpusimDriver, AdvertisesTheAbortableExecuteOfExtension11) {
  Npu npu;
  ASSERT_EQ(npu.open(), "");
  EXPECT_EQ(ZE_MAJOR_VERSION(npu.ext_version), 1u);
  EXPECT_GE(ZE_MINOR_VERSION(npu.ext_version), 1u);
}

// A graph whose abort event is signaled before it starts (it waits on a gate event the host opens
// afterwards) skips its operations: the output keeps what it held, and the list does not fail.
// Executed again with the abort event reset, the same list runs the graph whole.
TEST(NpusimDriver, AnAbortEventSignaledBeforeTheGraphRunsSkipsItsOperations) {
  Npu npu;
  ASSERT_EQ(npu.open(), "");
  const std::string bytes = relu_segment();
  ze_switchyard_graph_desc_t gd{ZE_SWITCHYARD_GRAPH_FORMAT_SEGMENT, bytes.data(), bytes.size(), nullptr};
  ze_switchyard_graph_handle_t graph = nullptr;
  const ze_device_handle_t drv_device = driver_handle(ZEL_HANDLE_DEVICE, npu.device);
  ASSERT_EQ(npu.create(driver_handle(ZEL_HANDLE_CONTEXT, npu.context), drv_device, &gd, &graph), ZE_RESULT_SUCCESS) << npu.why();
  ASSERT_EQ(npu.compile(graph), ZE_RESULT_SUCCESS) << npu.why();

  ze_event_pool_desc_t pd{ZE_STRUCTURE_TYPE_EVENT_POOL_DESC, nullptr, ZE_EVENT_POOL_FLAG_HOST_VISIBLE, 2};
  ze_event_pool_handle_t pool = nullptr;
  ASSERT_EQ(zeEventPoolCreate(npu.context, &pd, 1, &npu.device, &pool), ZE_RESULT_SUCCESS);
  ze_event_handle_t gate = nullptr, abort = nullptr;
  ze_event_desc_t ed{ZE_STRUCTURE_TYPE_EVENT_DESC, nullptr, 0, 0, ZE_EVENT_SCOPE_FLAG_DEVICE};
  ASSERT_EQ(zeEventCreate(pool, &ed, &gate), ZE_RESULT_SUCCESS);
  ed.index = 1;
  ASSERT_EQ(zeEventCreate(pool, &ed, &abort), ZE_RESULT_SUCCESS);

  const float x[4] = {-1, 2, -3, 4}, sentinel[4] = {7, 7, 7, 7};
  void* in = shared_floats(npu, x);
  void* out = shared_floats(npu, sentinel);
  ASSERT_TRUE(in && out);
  ze_command_list_desc_t ld{ZE_STRUCTURE_TYPE_COMMAND_LIST_DESC, nullptr, 0, 0};
  ze_command_list_handle_t list = nullptr;
  ASSERT_EQ(zeCommandListCreate(npu.context, npu.device, &ld, &list), ZE_RESULT_SUCCESS);
  const void* inputs[1] = {in};
  void* outputs[1] = {out};
  ASSERT_EQ(npu.append_abortable(driver_handle(ZEL_HANDLE_COMMAND_LIST, list), graph, 1, inputs, 1, outputs,
                                 driver_handle(ZEL_HANDLE_EVENT, abort), nullptr, 1, &gate),
            ZE_RESULT_SUCCESS)
      << npu.why();
  ASSERT_EQ(zeCommandListClose(list), ZE_RESULT_SUCCESS);
  ze_fence_desc_t fd{ZE_STRUCTURE_TYPE_FENCE_DESC, nullptr, 0};
  ze_fence_handle_t fence = nullptr;
  ASSERT_EQ(zeFenceCreate(npu.queue, &fd, &fence), ZE_RESULT_SUCCESS);

  ASSERT_EQ(zeCommandQueueExecuteCommandLists(npu.queue, 1, &list, fence), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeEventHostSignal(abort), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeEventHostSignal(gate), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeFenceHostSynchronize(fence, UINT64_MAX), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeCommandQueueSynchronize(npu.queue, UINT64_MAX), ZE_RESULT_SUCCESS) << "an aborted graph is not a failure: " << npu.why();
  EXPECT_EQ(std::memcmp(out, sentinel, sizeof sentinel), 0) << "the aborted graph wrote its output";

  EXPECT_EQ(zeEventHostReset(abort), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeFenceReset(fence), ZE_RESULT_SUCCESS);
  ASSERT_EQ(zeCommandQueueExecuteCommandLists(npu.queue, 1, &list, fence), ZE_RESULT_SUCCESS);
  EXPECT_EQ(zeFenceHostSynchronize(fence, UINT64_MAX), ZE_RESULT_SUCCESS);  // the gate is still open
  EXPECT_EQ(zeCommandQueueSynchronize(npu.queue, UINT64_MAX), ZE_RESULT_SUCCESS) << npu.why();
  const float want[4] = {0, 2, 0, 4};
  EXPECT_EQ(std::memcmp(out, want, sizeof want), 0) << "the graph with its abort event reset did not run whole";

  zeFenceDestroy(fence);
  zeCommandListDestroy(list);
  zeMemFree(npu.context, in);
  zeMemFree(npu.context, out);
  zeEventDestroy(abort);
  zeEventDestroy(gate);
  zeEventPoolDestroy(pool);
  npu.destroy(graph);
}

}  // namespace
