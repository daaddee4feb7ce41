#!/usr/bin/env bash
# Cross-checks the reference interpreter (the oracle every device is held to) against an independent
# implementation, ONNX Runtime 1.30 (npm onnxruntime-node), over the whole ops sweep: exports every
# ops case with the reference's outputs, runs each on ORT under the case's own tolerance, and prints
# counts (agreed, disagreed with the case and worst difference, ORT cannot run with ORT's message,
# crashed). Installs ORT into bench/.ort (git-ignored; shared with bench/compare_ort.sh).
#
#   bash conformance/xcheck/ort_xcheck.sh [--build DIR] [--filter REGEX] [--seed N] [--out DIR] [--json FILE]
#
#   --build DIR   the build holding bin/switchyard (default: build)
#   --filter      ECMAScript regex on "ops/<case name>" (default: every case)
#   --out DIR     where the cases are exported (default: a temporary folder, removed afterwards)
#   --json FILE   every case's outcome, for documentation
#
# Needs Node.js and npm. docs/conformance.md ("Cross-checking the reference") has the latest counts.
set -euo pipefail
cd "$(dirname "$0")/../.."
ORT_VERSION=1.30.0
build=build filter="" seed="" out="" json=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ ! -f bench/.ort/node_modules/onnxruntime-node/package.json ] ||
   ! grep -q "\"version\": \"$ORT_VERSION\"" bench/.ort/node_modules/onnxruntime-node/package.json; then
  mkdir -p bench/.ort
  # --ignore-scripts: the package ships its CPU binaries; its install script only fetches CUDA ones.
  (cd bench/.ort && npm install --no-audit --no-fund --ignore-scripts "onnxruntime-node@$ORT_VERSION" >/dev/null)
fi
[ -x "$build/bin/switchyard" ] || { echo "no $build/bin/switchyard: build first (bash scripts/build.sh)" >&2; exit 2; }
if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
export_args=(conformance ops --export "$out")
[ -n "$filter" ] && export_args+=(--filter "$filter")
[ -n "$seed" ] && export_args+=(--seed "$seed")
"$build/bin/switchyard" "${export_args[@]}" >&2
refused=$(($(wc -l <"$out/not_exported.tsv") - 1))
echo "exported $(($(wc -l <"$out/index.tsv") - 1)) cases; $refused not exported (their outputs are not tensors, or the reference refuses them: $out/not_exported.tsv)" >&2
node_args=(--ort bench/.ort/node_modules --cases "$out")
[ -n "$json" ] && node_args+=(--json "$json")
node conformance/xcheck/ort_xcheck.js "${node_args[@]}"
