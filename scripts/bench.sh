#!/usr/bin/env bash
# Builds and runs the benchmarks; writes bench/results/<date>.json beside the console table.
# The numbers quoted in docs/performance.md come from this command.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPRIORLAB_BUILD_BENCH=ON
mkdir -p bench/results
out=bench/results/$(date +%Y-%m-%d).json
build/bin/priorlab_bench --benchmark_out="$out" --benchmark_out_format=json "$@"
echo "bench: results in $out"
