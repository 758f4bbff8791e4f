#!/usr/bin/env bash
# Installs the Debian packages priorlab needs (only those missing), then configures and builds
# a Release tree in build/. Idempotent: a second run installs nothing and rebuilds only what
# changed. Usage: scripts/setup.sh [extra cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ make pkg-config
  libtorch-dev libopenblas0-openmp          # LibTorch; OpenBLAS (OpenMP) makes it ~13x faster than reference BLAS
  libboost-dev libboost-filesystem-dev      # Boost.DLL
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libmatio-dev                              # MAT-files (dataset omniglot's chardata.mat)
  libgtest-dev libgmock-dev libbenchmark-dev
)
# The test command (scripts/test.sh) also renders report.html in headless Chromium (tests/test_report.cpp).
if [[ " $* " == *" -DPRIORLAB_BUILD_TESTS=ON "* ]]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
echo "setup: building with $jobs jobs (the first build takes a few minutes)"
cmake --build build -j "$jobs"
