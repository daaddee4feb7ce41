#!/usr/bin/env bash
# Switchyard's CPU device against ONNX Runtime 1.30 (npm onnxruntime-node), side by side on this
# machine: latency at 1 and 2 threads (interleaved rounds), loads and peak RSS. Installs ORT into
# bench/.ort (git-ignored) and the stand-in models into bench/.standins (git-ignored) on first use.
#
#   bash bench/compare_ort.sh                  # the shared models and every stand-in
#   bash bench/compare_ort.sh [--rounds R] [--requests N] [--threads 1,2] [--json FILE] [MODEL[:NAME=D0,...]]...
#
# Needs the build (bash scripts/build.sh), Node.js and npm, and python3-onnx (scripts/setup.sh).
# Check `uptime` first: figures taken under load can be off by 2x either way. docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ORT_VERSION=1.30.0
if [ ! -f bench/.ort/node_modules/onnxruntime-node/package.json ] ||
   ! grep -q "\"version\": \"$ORT_VERSION\"" bench/.ort/node_modules/onnxruntime-node/package.json; then
  mkdir -p bench/.ort
  # --ignore-scripts: the package ships its CPU binaries; its install script only fetches CUDA ones.
  (cd bench/.ort && npm install --no-audit --no-fund --ignore-scripts "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi
[ -x build/bin/switchyard ] || bash scripts/build.sh
options=() models=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds|--requests|--threads|--json) options+=("$1" "$2"); shift 2 ;;
    *) models+=("$1"); shift ;;
  esac
done
if [ ${#models[@]} -eq 0 ]; then
  /usr/bin/python3 bench/models/make_standins.py bench/.standins >/dev/null
  models=(../shared/models/light_resnet50.onnx "../shared/models/ppocr_mobile_v2_cls.onnx:x=1,3,48,192")
  # one_relu is the fixed-cost model (bench/compare_fixed_cost.sh): its 0.00 ms would pull the geomean down.
  for m in bench/.standins/*.onnx; do [ "$(basename "$m")" = one_relu.onnx ] || models+=("$m"); done
fi
uptime
exec python3 bench/compare_ort.py "${options[@]}" "${models[@]}"
