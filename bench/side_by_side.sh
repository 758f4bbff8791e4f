#!/usr/bin/env bash
# priorlab against PyTorch eager, side by side, on the Table 3 pendulum step (issue 11): installs
# Debian's python3-torch (the same libtorch 1.13 and OpenBLAS as priorlab's build), builds
# priorlab, runs bench/side_by_side.py and writes bench/results/side-by-side-<date>.json.
# Usage: bench/side_by_side.sh [--quick] [--no-before] [--cases T:B:K,...]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh python3-torch
scripts/setup.sh
exec /usr/bin/python3 bench/side_by_side.py "$@"
