#!/usr/bin/env bash
# Builds .devbundle/ at the repository root: a self-contained copy of what
# scripts/device/gpu_check.sh needs on a remote device machine that has no build tree.
#   bash scripts/device/make_bundle.sh        (after building build/; runs from any folder)
# Contents:
#   bin/switchyard, plugins/libswitchyard_plugin_{cpu,opencl}.so   strip --strip-debug copies
#   plugins/switchyard_plugin_{cpu,opencl}.yaml                     the plugin manifests
#   lib/<SONAME>       every non-glibc shared library the three need (ldd, cp -L);
#                      libdnnl.so.2 gzip-compressed as libdnnl.so.2.gz (gpu_check.sh unpacks it)
#   models/light_resnet50.onnx, models/ppocr_mobile_v2_cls.onnx     from $SHARED/models
#   models/node/<case>/  the ONNX node-test cases listed in scripts/device/opencl_cases.txt,
#                        from $SHARED/onnx-backend/node
# Prints the total size; fails if it exceeds 60 MiB (the device tool carries 64 MiB at most).
# Knobs: BUILD (default build), SHARED (default ../shared), both relative to the repository root.
# .devbundle/ is ignored by git (.gitignore); never commit it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rm -rf .devbundle

BUILD=${BUILD:-build}
SHARED=${SHARED:-../shared}
CASES=scripts/device/opencl_cases.txt
LIMIT=$((60 * 1024 * 1024))
B=.devbundle
PLUGDIR=$BUILD/lib/switchyard/plugins

die() { echo "make_bundle: $*" >&2; exit 1; }

bins=("$BUILD/bin/switchyard" "$PLUGDIR/libswitchyard_plugin_cpu.so" "$PLUGDIR/libswitchyard_plugin_opencl.so")
for f in "${bins[@]}" "$PLUGDIR/switchyard_plugin_cpu.yaml" "$PLUGDIR/switchyard_plugin_opencl.yaml" \
  "$SHARED/models/light_resnet50.onnx" "$SHARED/models/ppocr_mobile_v2_cls.onnx" "$CASES"; do
  [ -f "$f" ] || die "missing $f"
done
[ -d "$SHARED/onnx-backend/node" ] || die "missing $SHARED/onnx-backend/node"

mkdir -p "$B/bin" "$B/plugins" "$B/lib" "$B/models/node"

# Binary and plugins, without debug sections.
strip --strip-debug -o "$B/bin/switchyard" "$BUILD/bin/switchyard"
for p in cpu opencl; do
  strip --strip-debug -o "$B/plugins/libswitchyard_plugin_$p.so" "$PLUGDIR/libswitchyard_plugin_$p.so"
  cp "$PLUGDIR/switchyard_plugin_$p.yaml" "$B/plugins/"
done

# Shared libraries: what ldd resolves for the three (transitive ones included), less glibc's own,
# stored under the name the loader looks for (DT_NEEDED = the library's SONAME).
is_glibc() {
  case $1 in
    linux-vdso.so.* | ld-linux*.so.* | libc.so.* | libm.so.* | libmvec.so.* | libpthread.so.* | libdl.so.* | \
      librt.so.* | libresolv.so.* | libutil.so.* | libanl.so.* | libnsl.so.* | libBrokenLocale.so.* | \
      libthread_db.so.* | libnss_*.so.* | libc_malloc_debug.so.*) return 0 ;;
  esac
  return 1
}
declare -A libs=()
for f in "${bins[@]}"; do
  out=$(ldd "$f") || die "ldd $f failed"
  if grep -q 'not found' <<<"$out"; then
    die "ldd $f: unresolved libraries: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
  fi
  while read -r name arrow path _; do
    [ "$arrow" = "=>" ] || continue # lines without "=>": vdso, the dynamic loader
    is_glibc "$name" && continue
    [ -n "${libs[$name]:-}" ] && [ "${libs[$name]}" != "$path" ] && die "$name resolves to both ${libs[$name]} and $path"
    libs[$name]=$path
  done <<<"$out"
done
for name in $(printf '%s\n' "${!libs[@]}" | LC_ALL=C sort); do
  if [ "$name" = libdnnl.so.2 ]; then
    gzip -nc "${libs[$name]}" > "$B/lib/$name.gz"
  else
    cp -L "${libs[$name]}" "$B/lib/$name"
  fi
  echo "lib/$name <- ${libs[$name]}"
done

# Models and the node-test cases the OpenCL plugin claims.
cp "$SHARED/models/light_resnet50.onnx" "$SHARED/models/ppocr_mobile_v2_cls.onnx" "$B/models/"
n=0
while read -r c _; do
  case $c in '' | '#'*) continue ;; esac
  [ -d "$SHARED/onnx-backend/node/$c" ] || die "case $c (from $CASES) not in $SHARED/onnx-backend/node"
  cp -r "$SHARED/onnx-backend/node/$c" "$B/models/node/"
  n=$((n + 1))
done < "$CASES"
echo "models/node: $n cases"

size=$(du -sb "$B" | cut -f1)
echo "total: $size bytes ($(du -sh "$B" | cut -f1)), $(find "$B" -type f | wc -l) files in $PWD/$B"
((size <= LIMIT)) || die "bundle is $size bytes, over the 60 MiB limit ($LIMIT bytes)"
