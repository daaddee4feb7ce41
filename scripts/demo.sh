#!/usr/bin/env bash
# Sets everything up, builds, lists the devices and runs the bundled model on every device
# present (and on the reference, for comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
build/bin/switchyard devices
echo
build/bin/switchyard run models/tiny_cnn.onnx --device all
