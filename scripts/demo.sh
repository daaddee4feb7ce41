#!/usr/bin/env bash
# Sets everything up, builds, lists the devices and runs the bundled model on every device
# present (and on the reference, for comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# The software NPU (a Level Zero driver, loaded by the real loader) is opt-in: show it here too.
if [ -z "${ZE_ENABLE_ALT_DRIVERS:-}" ] && [ -f build/lib/switchyard/npusim/libswitchyard_npusim.so ]; then
  export ZE_ENABLE_ALT_DRIVERS="$PWD/build/lib/switchyard/npusim/libswitchyard_npusim.so"
fi
build/bin/switchyard devices
echo
build/bin/switchyard run models/tiny_cnn.onnx --device all
