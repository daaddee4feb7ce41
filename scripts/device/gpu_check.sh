#!/usr/bin/env bash
# Switchyard device check on a remote GPU machine (NVIDIA OpenCL when the driver's
# libnvidia-opencl is found, else the machine's default OpenCL ICDs, e.g. PoCL).
# Use:
#   1. here, after building build/:  bash scripts/device/make_bundle.sh   (makes .devbundle/)
#   2. with the device tool, carrying .devbundle (carry: [".devbundle"]), from the repository root:
#        bash scripts/device/gpu_check.sh
# Uses only what is in $PWD/.devbundle (binary, plugins, libraries, models, a reduced ONNX node
# corpus: the cases in scripts/device/opencl_cases.txt), none of build/.
# Writes 5 files to $OUT (default /tmp/devout), under the device tool's 8-file limit:
#   log.txt (everything printed, per-step stderr included), devices.json,
#   conformance_opencl.json, conformance_opencl.txt, bench.json ({"bench_<model>[_opencl]": the
#   `switchyard bench --json` output, or null when that run failed}).
# Ends within ~8 minutes with the default DEADLINE_S.
# Knobs: OUT, DEADLINE_S (default 450), CONF_JOBS / CONF_FILTER (conformance --jobs / --filter), NV_OPENCL_LIB (skip the search), NV_SEARCH_DIRS
# (space-separated folders searched for libnvidia-opencl.so*; set it to "" to skip the search).
# shellcheck disable=SC2012  # ls output below is for the log, not parsed
set -u
ROOT=$PWD
B=$ROOT/.devbundle
OUT=${OUT:-/tmp/devout}
DEADLINE_S=${DEADLINE_S:-450}
NV_SEARCH_DIRS=${NV_SEARCH_DIRS-/usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib}
mkdir -p "$OUT"
START=$SECONDS
# Per-step stderr and the raw bench outputs go here (not $OUT: the device tool returns 8 files).
TMPD=$(mktemp -d /tmp/sy_check.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
BENCH_NAMES=()
BENCH_RCS=()

# Seconds a step may take: its own cap, cut to what is left of DEADLINE_S (20 s kept in reserve).
budget() {
  local cap=$1 left=$((DEADLINE_S - (SECONDS - START) - 20))
  ((left < cap)) && cap=$left
  ((cap < 5)) && cap=5
  echo "$cap"
}
section() { echo; echo "=== $* ($((SECONDS - START)) s)"; }
# Prints a step's stderr file into the log (the first 64 KiB).
show_stderr() {
  local f=$1 size
  [ -s "$f" ] || { echo "--- stderr: (empty)"; return 0; }
  size=$(stat -c %s "$f")
  echo "--- stderr ($size bytes$( ((size > 65536)) && echo ", first 65536 shown"))"
  head -c 65536 "$f"
  echo
}
# $OUT/bench.json: one object, each bench's JSON output under its name (null when the run failed
# or printed nothing; its output is in the log either way).
merge_bench() {
  local i name sep=""
  {
    echo "{"
    for i in "${!BENCH_NAMES[@]}"; do
      name=${BENCH_NAMES[$i]}
      printf '%s"%s": ' "$sep" "$name"
      if [ "${BENCH_RCS[$i]}" = 0 ] && [ -s "$TMPD/$name.json" ]; then printf '%s' "$(cat "$TMPD/$name.json")"; else printf 'null'; fi
      sep=$',\n'
    done
    echo
    echo "}"
  } > "$OUT/bench.json"
}

# run_bench MODEL NAME CAP_S PLACEMENT_ARGS...: one `switchyard bench --json` within the budget,
# its output kept for merge_bench.
run_bench() {
  local m=$1 name=$2 cap=$3 shape="" rc
  shift 3
  [ "$m" = ppocr_mobile_v2_cls ] && shape="--input-shape x=1,3,48,192"
  section "bench $m $* $shape"
  # shellcheck disable=SC2086
  timeout -k 5 "$(budget "$cap")" env LD_LIBRARY_PATH="$SYL" "$B/bin/switchyard" bench "$B/models/$m.onnx" "$@" $shape --json \
    > "$TMPD/$name.json" 2> "$TMPD/$name.stderr"
  rc=$?
  echo "rc=$rc"
  BENCH_NAMES+=("$name"); BENCH_RCS+=("$rc")
  head -c 4000 "$TMPD/$name.json"; echo; show_stderr "$TMPD/$name.stderr"
}

main() {
  section "host"
  uname -a
  echo "ROOT=$ROOT OUT=$OUT nproc=$(nproc)"
  (ldd --version 2>&1 | head -1) || true
  if [ ! -x "$B/bin/switchyard" ]; then
    echo "ERROR: $B/bin/switchyard missing; run from the repository root with .devbundle carried"
    return 1
  fi

  section "nvidia-smi"
  [ -d /usr/local/nvidia/bin ] && PATH=$PATH:/usr/local/nvidia/bin
  if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 30 nvidia-smi -L
    timeout 30 nvidia-smi
  else
    echo "nvidia-smi not found"
  fi
  ls -l /dev/nvidia* 2>&1 | head -8

  section "OpenCL ICD"
  local nvlib="${NV_OPENCL_LIB:-}" d f
  if [ -z "$nvlib" ]; then
    # Every libnvidia-opencl.so* found; keep 64-bit ELF files only (/usr/local/nvidia/lib may hold
    # the 32-bit one), prefer the SONAME libnvidia-opencl.so.1 and lib64 folders.
    for d in $NV_SEARCH_DIRS; do
      [ -d "$d" ] || continue
      while IFS= read -r f; do
        [ "$(od -An -tx1 -j4 -N1 "$f" 2>/dev/null | tr -d ' ')" = 02 ] || { echo "skipping $f (not 64-bit ELF)"; continue; }
        echo "candidate: $f"
        if [ -z "$nvlib" ] || { [[ $f == *.so.1 ]] && [[ $nvlib != *.so.1 ]]; }; then nvlib=$f; fi
      done < <(find "$d" -maxdepth 4 \( -type f -o -type l \) -name 'libnvidia-opencl.so*' 2>/dev/null | sort -r)
      [ -n "$nvlib" ] && break
    done
  fi
  local sylib="$B/lib"
  # libdnnl (the CPU plugin's oneDNN) travels gzip-compressed to fit the carry limit; unpack it
  # outside the tree.
  if [ -e "$B/lib/libdnnl.so.2.gz" ] && [ ! -e "$B/lib/libdnnl.so.2" ]; then
    local xlib=/tmp/sy_xlib
    mkdir -p "$xlib"
    if [ ! -s "$xlib/libdnnl.so.2" ]; then
      if command -v gzip >/dev/null 2>&1; then
        gzip -dc "$B/lib/libdnnl.so.2.gz" > "$xlib/libdnnl.so.2.tmp"
      else
        python3 -c 'import gzip, shutil, sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
          "$B/lib/libdnnl.so.2.gz" "$xlib/libdnnl.so.2.tmp"
      fi && mv "$xlib/libdnnl.so.2.tmp" "$xlib/libdnnl.so.2"
    fi
    echo "libdnnl.so.2 unpacked to $xlib ($(stat -c %s "$xlib/libdnnl.so.2" 2>/dev/null) bytes)"
    sylib="$sylib:$xlib"
  fi
  if [ -n "$nvlib" ] && [ -e "$nvlib" ]; then
    local icddir
    icddir=$(mktemp -d /tmp/sy_icd.XXXXXX)
    echo "$nvlib" > "$icddir/nvidia.icd"
    export OCL_ICD_VENDORS=$icddir
    # libnvidia-opencl loads libcuda.so.1 and friends from its own folder; make that folder findable.
    sylib="$sylib:$(dirname "$nvlib")"
    echo "NVIDIA OpenCL library: $nvlib"
    echo "OCL_ICD_VENDORS=$icddir ($(cat "$icddir/nvidia.icd"))"
    ls -l "$nvlib" "$(dirname "$nvlib")"/libcuda.so* 2>&1 | head -5
    echo "--- ldd $nvlib"
    ldd "$nvlib" 2>&1 | head -20
  else
    echo "NVIDIA OpenCL library (libnvidia-opencl.so*) NOT found under: $NV_SEARCH_DIRS"
    echo "falling back to the system's default ICDs (/etc/OpenCL/vendors):"
    ls -l /etc/OpenCL/vendors 2>&1 | head
    unset OCL_ICD_VENDORS
  fi
  echo "--- ldconfig -p | grep -i opencl"
  (ldconfig -p 2>/dev/null | grep -i -E 'opencl|libcuda') || echo "(none)"
  # LD_LIBRARY_PATH is given to the switchyard processes only (env ... below), so the bundle's
  # libz/libstdc++ never replace the system's in nvidia-smi, ldconfig and the shell tools.
  SYL="$sylib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH for switchyard: $SYL"
  echo "--- ldd .devbundle/bin/switchyard"
  LD_LIBRARY_PATH="$SYL" ldd "$B/bin/switchyard" 2>&1
  for p in "$B"/plugins/*.so; do
    echo "--- ldd plugins/$(basename "$p") (not found lines only)"
    LD_LIBRARY_PATH="$SYL" ldd "$p" 2>&1 | grep -E 'not found|OpenCL|dnnl' || true
  done

  export SWITCHYARD_PLUGIN_PATH=$B/plugins
  export SWITCHYARD_CACHE_DIR=/tmp/sycache
  mkdir -p "$SWITCHYARD_CACHE_DIR"
  local gpu_units="--units cpu-and-gpu"
  [ -e "$B/plugins/switchyard_plugin_cpu.yaml" ] || gpu_units="--device opencl:0"

  section "switchyard devices --json"
  timeout -k 5 "$(budget 60)" env LD_LIBRARY_PATH="$SYL" "$B/bin/switchyard" devices --json > "$OUT/devices.json" 2> "$TMPD/devices.stderr"
  echo "rc=$?"
  cat "$OUT/devices.json"; show_stderr "$TMPD/devices.stderr"

  section "conformance onnx (opencl:0, $(ls "$B/models/node" | wc -l) cases)"
  timeout -k 10 "$(budget 240)" env LD_LIBRARY_PATH="$SYL" "$B/bin/switchyard" conformance onnx --tests "$B/models/node" --device opencl:0 --verbose \
    --timeout 60 ${CONF_JOBS:+--jobs "$CONF_JOBS"} ${CONF_FILTER:+--filter "$CONF_FILTER"} --json "$OUT/conformance_opencl.json" > "$OUT/conformance_opencl.txt" 2>&1
  echo "rc=$? (0 all passed, 1 some failed, 124 timed out)"
  echo "--- first FAIL lines (all in conformance_opencl.txt)"
  grep '^FAIL' "$OUT/conformance_opencl.txt" | cut -c1-300 | head -40
  echo "--- lines so far: PASS $(grep -c '^PASS' "$OUT/conformance_opencl.txt"), FAIL $(grep -c '^FAIL' "$OUT/conformance_opencl.txt"), SKIP $(grep -c '^SKIP' "$OUT/conformance_opencl.txt")"
  echo "--- first SKIP lines"
  grep '^SKIP' "$OUT/conformance_opencl.txt" | cut -c1-200 | head -10
  echo "--- tail"
  tail -n 3 "$OUT/conformance_opencl.txt" | cut -c1-300
  [ -f "$OUT/conformance_opencl.json" ] && head -c 1500 "$OUT/conformance_opencl.json" | sed -n '1,/"cases"/p' | head -30

  local m
  for m in light_resnet50 ppocr_mobile_v2_cls; do
    # shellcheck disable=SC2086  # two words: the flag and its value
    run_bench "$m" "bench_$m" 80 $gpu_units
  done
  # GPU-only runs, if time is left.
  for m in light_resnet50 ppocr_mobile_v2_cls; do
    [ "$gpu_units" = "--device opencl:0" ] && break
    if (( DEADLINE_S - (SECONDS - START) < 60 )); then echo "skipping bench $m --device opencl:0 (no time left)"; continue; fi
    run_bench "$m" "bench_${m}_opencl" 60 --device opencl:0
  done

  merge_bench
  section "done"
  ls -l "$OUT"
  local nfiles
  nfiles=$(find "$OUT" -type f | wc -l)
  ((nfiles <= 8)) || echo "WARNING: $nfiles files in $OUT; the device tool returns 8 at most"
}

main 2>&1 | tee "$OUT/log.txt"
exit "${PIPESTATUS[0]}"
