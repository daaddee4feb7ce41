#!/usr/bin/env bash
# The fixed cost of one prediction (checks, transfers, scheduling, the ABI call) of two builds,
# measured interleaved in one run: `switchyard bench` on a one-node model (one_relu from
# bench/models/make_standins.py), CPU device, one thread, sync predictions only.
#
#   bash bench/compare_fixed_cost.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [ROUNDS] [REQUESTS]
#
# Each build dir must hold bin/switchyard and lib/switchyard/plugins/ (the CPU plugin). Prints
# each round's sync median in microseconds and the medians over the rounds. Both run pinned to one core
# (SWITCHYARD_BENCH_CPU, default 0): unpinned, medians on this VM jump between two levels, one per core
# (4.7 us on core 0, which takes the interrupts, 2.8 us on core 1).
set -euo pipefail
before=$1 after=$2 rounds=${3:-7} requests=${4:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$(dirname "$0")/models/make_standins.py" "$work" one_relu >/dev/null
median_us() {  # BUILD_DIR -> sync median in microseconds
  SWITCHYARD_PLUGIN_PATH="$1/lib/switchyard/plugins" SWITCHYARD_CACHE_DIR="$work/cache-$(basename "$1")" \
    taskset -c "${SWITCHYARD_BENCH_CPU:-0}" "$1/bin/switchyard" bench "$work/one_relu.onnx" --device cpu:0 --cpu-threads 1 --requests "$requests" \
    --sync-only --fresh-runs 0 --json 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["sync"]["latency_ms"]["median"]*1000, 2))'
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
b=() a=()
for ((r = 1; r <= rounds; ++r)); do
  b+=("$(median_us "$before")")
  a+=("$(median_us "$after")")
  echo "round $r: before ${b[-1]} us, after ${a[-1]} us"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "${b[*]}" "${a[*]}" <<'PY'
import statistics, sys
b = [float(x) for x in sys.argv[1].split()]; a = [float(x) for x in sys.argv[2].split()]
mb, ma = statistics.median(b), statistics.median(a)
print(f"median over {len(b)} rounds: before {mb:.2f} us, after {ma:.2f} us, after/before {ma / mb:.2f}")
PY
