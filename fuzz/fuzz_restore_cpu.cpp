// Fuzz target: the cpu plugin's executable_restore (see restore_target.h). Seeds are executables
// the plugin serialized for the same graph (fuzz_seeds).
#include "restore_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return switchyard::fuzz::restore_one_input(switchyard::fuzz::device_fixture("cpu", "cpu:0"), data, size);
}
