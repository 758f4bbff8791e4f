#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: builds
# build-sanitize/ (GCC, -fsanitize=address,undefined, vptr excepted: see CMakeLists.txt) and runs
# ctest there. A sanitizer report fails the test it happens in. Usage: scripts/sanitize.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t packages < <(scripts/setup.sh --list-packages -DPRIORLAB_BUILD_TESTS=ON)
scripts/install-packages.sh "${packages[@]}"
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPRIORLAB_BUILD_TESTS=ON \
  -DPRIORLAB_SANITIZE=address,undefined >/dev/null
start=$SECONDS
cmake --build build-sanitize -j "$jobs"
built=$SECONDS
# LibTorch and OpenBLAS are not instrumented; leaks in them at exit are not ours.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-sanitize && ctest -j "$jobs" --timeout 1800 --output-on-failure "$@")
echo "sanitize: build $((built - start)) s, tests $((SECONDS - built)) s"
