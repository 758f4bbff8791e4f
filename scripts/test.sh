#!/usr/bin/env bash
# Install what is missing, build (warnings are errors), check that setup.sh installs every package
# the build found, and run the whole test suite. Extra arguments are passed to CMake
# (e.g. -DPRIORLAB_WITH_OPENCV=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPRIORLAB_BUILD_TESTS=ON -DPRIORLAB_WERROR=ON "$@"
# Every CMake package the configure step found must come from a package setup.sh installs.
scripts/check-packages.sh build -DPRIORLAB_BUILD_TESTS=ON "$@"
cd build
exec ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 600
