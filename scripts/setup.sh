#!/usr/bin/env bash
# Installs everything Switchyard needs to build, test and run, from Debian 12 packages.
# Idempotent: packages already present are left alone. Runs apt-get as root (or via sudo).
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build g++ pkg-config
  # model import and configuration
  libprotobuf-dev protobuf-compiler libonnx-dev libyaml-cpp-dev
  # plugin loading (Boost.DLL is header-only); symbolised backtraces of crashing conformance cases
  libboost-dev libboost-stacktrace-dev
  # CPU plugin
  libdnnl-dev
  # tests; conformance reports are checked with xmllint (JUnit schema) and html5lib (HTML)
  libgtest-dev libgmock-dev libxml2-utils python3-html5lib
  # renders `switchyard plan --format dot` in the CLI tests
  graphviz
  # OpenCL: ICD loader, headers, PoCL (CPU OpenCL implementation), CLBlast
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev
  # Level Zero loader
  libze1 libze-dev
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, LLVM's OpenMP
  clang-14 libfuzzer-14-dev libclang-rt-14-dev libomp-14-dev
  # benchmark stand-in models (bench/models/make_standins.py)
  python3-onnx python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
