#!/usr/bin/env bash
# The installed SDK, used as a vendor and an integrator would (CTest runs it: Sdk.*):
#   1. `cmake --install BUILD --prefix P` into a temporary prefix;
#   2. the template plugin (plugins/template), copied out of the tree, built against P with
#      find_package(Switchyard) + switchyard_add_plugin, and again with pkg-config alone;
#   3. the installed CLI lists its installed plugins (cpu:0) without SWITCHYARD_PLUGIN_PATH, lists
#      the out-of-tree plugin through SWITCHYARD_PLUGIN_PATH, and qualifies it:
#      `switchyard conformance onnx --device template:0` with 0 failures;
#   4. an integrator's C++ program (examples/integrator) built against Switchyard::runtime lists the
#      devices and runs the bundled model.
# Usage: scripts/sdk_check.sh [BUILD_DIR [CORPUS_DIR]] (defaults: build/, ../shared/onnx-backend/node).
# Leaves nothing behind.
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$src/build}" && pwd)"
corpus="${2:-$src/../shared/onnx-backend/node}"
work="$(mktemp -d "${TMPDIR:-/tmp}/sy-sdk-XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
step() { echo "== sdk: $*"; }
fail() { echo "sdk check FAILED: $*" >&2; exit 1; }

step "install into $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
for f in include/switchyard/plugin_abi.h share/switchyard/plugin.map lib/cmake/Switchyard/SwitchyardConfig.cmake \
         lib/cmake/Switchyard/SwitchyardConfigVersion.cmake lib/pkgconfig/switchyard-plugin.pc bin/switchyard \
         lib/switchyard/plugins/switchyard_plugin_cpu.yaml; do
  [ -e "$prefix/$f" ] || fail "the install lacks $f"
done

step "template plugin out of tree: find_package(Switchyard) + switchyard_add_plugin"
cp -r "$src/plugins/template" "$work/vendor"
rm -rf "$work/vendor/tests"  # the copy a vendor starts from builds the plugin alone
cmake -S "$work/vendor" -B "$work/vendor-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log" \
  || { cat "$work/configure.log"; fail "configuring the template against the installed SDK"; }
cmake --build "$work/vendor-build" > "$work/build.log" || { cat "$work/build.log"; fail "building the template against the installed SDK"; }
plugin_dir="$(dirname "$(find "$work/vendor-build" -name 'libswitchyard_plugin_template.so' | head -1)")"
[ -f "$plugin_dir/switchyard_plugin_template.yaml" ] || fail "the manifest is not beside the out-of-tree library"

step "template plugin with pkg-config alone"
pc="$prefix/lib/pkgconfig"
mkdir -p "$work/pc"
cc -std=c11 -shared -fPIC -fvisibility=hidden $(PKG_CONFIG_PATH="$pc" pkg-config --cflags switchyard-plugin) \
  "$src/plugins/template/template_plugin.c" -o "$work/pc/libswitchyard_plugin_template.so" \
  -Wl,--version-script="$(PKG_CONFIG_PATH="$pc" pkg-config --variable=version_script switchyard-plugin)" -Wl,--no-undefined -lm
sed 's/@[A-Za-z_]*@//g' "$src/plugins/template/manifest.yaml.in" > "$work/pc/template.yaml"
nm -D --defined-only "$work/pc/libswitchyard_plugin_template.so" | grep -q ' SwitchyardPluginGetApi$' || fail "the pkg-config build exports no entry point"

step "installed CLI: its own plugins, and the out-of-tree one through SWITCHYARD_PLUGIN_PATH"
cli="$prefix/bin/switchyard"
env -u SWITCHYARD_PLUGIN_PATH "$cli" devices > "$work/devices.txt" 2>&1 || { cat "$work/devices.txt"; fail "installed switchyard devices"; }
env -u SWITCHYARD_PLUGIN_PATH "$cli" devices --json > "$work/devices.json" 2>&1 || { cat "$work/devices.json"; fail "installed switchyard devices --json"; }
grep -q "\"manifest\": \"$prefix/lib/switchyard/plugins/switchyard_plugin_cpu.yaml\"" "$work/devices.json" \
  || { cat "$work/devices.json"; fail "the installed CLI does not load the CPU plugin installed beside it"; }
for dir in "$plugin_dir" "$work/pc"; do
  SWITCHYARD_PLUGIN_PATH="$dir" "$cli" devices > "$work/devices.txt" 2>&1 || { cat "$work/devices.txt"; fail "switchyard devices with $dir"; }
  grep -q "template:0" "$work/devices.txt" || { cat "$work/devices.txt"; fail "template:0 is not listed from $dir"; }
done

step "qualify the out-of-tree plugin: switchyard conformance onnx --device template:0"
SWITCHYARD_PLUGIN_PATH="$plugin_dir" "$cli" conformance onnx --device template:0 --tests "$corpus" \
  > "$work/conformance.txt" 2>&1 || true
summary="$(tail -1 "$work/conformance.txt")"
echo "$summary"
[[ "$summary" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]] || { tail -20 "$work/conformance.txt"; fail "no conformance summary"; }
[ "${BASH_REMATCH[1]}" -gt 0 ] || fail "the template passed no case"
[ "${BASH_REMATCH[2]}" -eq 0 ] || { grep -i fail "$work/conformance.txt" | head -20; fail "the template failed conformance cases"; }

step "integrator program against Switchyard::runtime"
cmake -S "$src/examples/integrator" -B "$work/integrator" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log" \
  || { cat "$work/configure.log"; fail "configuring the integrator example"; }
cmake --build "$work/integrator" > "$work/build.log" || { cat "$work/build.log"; fail "building the integrator example"; }
SWITCHYARD_PLUGIN_PATH="$prefix/lib/switchyard/plugins" "$work/integrator/integrator" "$src/models/tiny_cnn.onnx" > "$work/integrator.txt" 2>&1 \
  || { cat "$work/integrator.txt"; fail "running the integrator example"; }
cat "$work/integrator.txt"
grep -q "cpu:0" "$work/integrator.txt" || fail "the integrator example found no cpu:0"
grep -q "^output 0: " "$work/integrator.txt" || fail "the integrator example predicted nothing"
echo "sdk check passed"
