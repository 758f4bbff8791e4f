#!/usr/bin/env bash
# The evaluators' hot paths (loglik, graph_interpolation, the kNN graph) against the same-shape
# sgemm, in one invocation (issue 11): installs Debian's python3-torch, builds priorlab with the
# benchmarks, prepares MNIST, runs bench/evaluators.py, writes bench/results/evaluators-<date>.json.
# Usage: bench/evaluators.sh [--images N] [--samples S] [--threads T]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh python3-torch
scripts/setup.sh -DPRIORLAB_BUILD_BENCH=ON
scripts/prepare_data.sh mnist
exec /usr/bin/python3 bench/evaluators.py "$@"
