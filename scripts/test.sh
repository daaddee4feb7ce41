#!/usr/bin/env bash
# Sets everything up, builds, and runs every test (GoogleTest through CTest): the main build's
# suite, then the `sanitizer` label (concurrency tests) in an AddressSanitizer+UBSan build
# (build-asan/) and a ThreadSanitizer build (build-tsan/), then every fuzz target for 30 s under
# ASan+UBSan (build-fuzz/, scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
(cd build && ctest --output-on-failure -j "$(nproc)" --timeout 1200)
for pair in address:build-asan thread:build-tsan; do
  san="${pair%%:*}" dir="${pair#*:}"
  echo "== sanitizer: $san ($dir)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHYARD_SANITIZE="$san" > /dev/null
  cmake --build "$dir" -j "$(nproc)" --target sanitizer_test
  (cd "$dir" && ctest -L sanitizer --output-on-failure -j "$(nproc)" --timeout 1200)
done
echo "== fuzz: every target, 30 s each"
bash scripts/fuzz.sh all 30
