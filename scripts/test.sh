#!/usr/bin/env bash
# Install what is missing, build (warnings are errors), and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPRIORLAB_BUILD_TESTS=ON -DPRIORLAB_WERROR=ON
cd build
exec ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)" --timeout 600
