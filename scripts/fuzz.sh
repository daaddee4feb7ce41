#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/, docs/robustness.md) under AddressSanitizer+UBSan.
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]   one target, e.g. `scripts/fuzz.sh npy 60`
#   scripts/fuzz.sh all SECONDS [libFuzzer flags...]      every target in turn, SECONDS each
#   scripts/fuzz.sh list                                   the target names
#
# SECONDS 0 means no time limit (pass -runs=N instead). Configures and builds build-fuzz/ with
# clang-14 (only the fuzz targets and what they use), writes the seed corpora into
# build-fuzz/fuzz-seeds/ (fuzz_seeds), and grows build-fuzz/fuzz-corpus/TARGET/ from run to run.
# Any finding (crash, sanitizer report, leak, timeout, out-of-memory) makes the exit status
# non-zero; its input is kept in build-fuzz/fuzz-findings/TARGET/ and reproduces with
#   build-fuzz/bin/fuzz_TARGET build-fuzz/fuzz-findings/TARGET/<file>
# Environment: SWITCHYARD_FUZZ_BUILD (folder, default build-fuzz), JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(onnx_import npy tensor_pb manifest plan_cache_entry restore_cpu restore_opencl restore_level_zero)
usage() { echo "usage: scripts/fuzz.sh TARGET|all SECONDS [libFuzzer flags...]; targets: ${targets[*]}" >&2; exit 2; }
[ "${1:-}" = list ] && { printf '%s\n' "${targets[@]}"; exit 0; }
[ $# -ge 2 ] || usage
which="$1" seconds="$2"
shift 2
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
if [ "$which" = all ]; then
  selected=("${targets[@]}")
else
  [[ " ${targets[*]} " == *" $which "* ]] || usage
  selected=("$which")
fi

build="${SWITCHYARD_FUZZ_BUILD:-build-fuzz}"
for tool in clang-14 clang++-14; do
  command -v "$tool" > /dev/null || { echo "fuzz: $tool not found (scripts/setup.sh installs it)" >&2; exit 1; }
done
echo "== fuzz: configuring and building $build (clang-14, ASan+UBSan, libFuzzer)"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_FUZZ=ON \
  -DSWITCHYARD_BUILD_TESTS=OFF > /dev/null
build_targets=(fuzz_seeds)
for t in "${selected[@]}"; do build_targets+=("fuzz_$t"); done
cmake --build "$build" -j "${JOBS:-$(nproc)}" --target "${build_targets[@]}"

# Any UBSan report aborts (the code is also compiled with -fno-sanitize-recover=all). LSan's
# intercept_tls_get_addr=0: see the sanitizer_test note in runtime/tests/CMakeLists.txt.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:intercept_tls_get_addr=0:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}"

echo "== fuzz: seed corpora"
"$build/bin/fuzz_seeds" "$build/fuzz-seeds"

failed=()
summary=()
for t in "${selected[@]}"; do
  corpus="$build/fuzz-corpus/$t" findings="$build/fuzz-findings/$t" log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  flags=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1
         -artifact_prefix="$findings/")
  [ -f "fuzz/dicts/$t.dict" ] && flags+=(-dict="fuzz/dicts/$t.dict")
  echo "== fuzz: $t for ${seconds}s (log: $log)"
  start=$(date +%s)
  set +e
  "$build/bin/fuzz_$t" "${flags[@]}" "$@" "$corpus" "$build/fuzz-seeds/$t" > "$log" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$runs" ]; then  # a finding ends the run before the final stats; the last status line has the count
    runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  fi
  line="$t: ${runs:-?} executions, ${rate:-?} exec/s, ${took}s"
  if [ $rc -ne 0 ]; then
    tail -n 60 "$log"
    kept=$(find "$findings" -type f -newermt "@$start" | head -1)  # this run's finding, not an older one
    line+=", FINDING (exit $rc)"
    if [ -n "$kept" ]; then
      line+=": input kept in $kept; reproduce: $build/bin/fuzz_$t $kept"
    fi
    failed+=("$t")
  fi
  echo "== fuzz: $line"
  summary+=("$line")
done

echo "== fuzz: summary"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "== fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
