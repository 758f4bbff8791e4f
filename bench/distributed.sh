#!/usr/bin/env bash
# Data-parallel training, 1 and 2 processes with one thread each, on the Table 3 pendulum model
# (issue 14): builds priorlab, runs bench/distributed.py, writes bench/results/distributed-<date>.json.
# Usage: bench/distributed.sh [--steps N] [--batch B]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh python3
scripts/setup.sh
exec /usr/bin/python3 bench/distributed.py "$@"
