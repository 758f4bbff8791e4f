#!/usr/bin/env bash
# Runs its arguments as root: directly when already root (a container, CI), else through sudo.
# The one place the scripts decide how to get root (install-packages.sh, setup.sh, gpu-check.sh).
# Usage: scripts/as-root.sh COMMAND [ARG...]
set -euo pipefail
if [[ $(id -u) -eq 0 ]]; then exec "$@"; else exec sudo "$@"; fi
