#!/usr/bin/env bash
# The main job: install what is missing, build, and train VHP+REWO on the generated pendulum,
# ending with its metrics and pictures in runs/pendulum_vhp_rewo/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh -DPRIORLAB_BUILD_TESTS=OFF
exec build/bin/priorlab run configs/pendulum/vhp_rewo.json --out runs --force "$@"
