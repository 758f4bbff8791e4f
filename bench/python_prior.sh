#!/usr/bin/env bash
# A prior written in Python against the compiled one (issue 31; docs/performance.md): builds the
# Python module and runs bench/python_prior.py. Usage: bench/python_prior.sh [--steps N] [--repeats R]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PYTHONPATH=build/python exec /usr/bin/python3 bench/python_prior.py "$@"
