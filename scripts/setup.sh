#!/usr/bin/env bash
# Installs the Debian packages priorlab needs (only those missing), then configures and builds
# a Release tree in build/. Idempotent: a second run installs nothing and rebuilds only what
# changed. Usage: scripts/setup.sh [extra cmake -D options...]
#        scripts/setup.sh --list-packages [the same -D options]: print the package list, one a line
# scripts/check-packages.sh (run by scripts/test.sh) checks that every CMake package the configure
# step finds comes from a package named here, or from a direct dependency of one.
set -euo pipefail
cd "$(dirname "$0")/.."
list_only=0
if [[ ${1:-} == --list-packages ]]; then list_only=1; shift; fi

packages=(
  cmake g++ make pkg-config
  libopenblas0-openmp                       # OpenBLAS (OpenMP) makes Debian's LibTorch ~13x faster than reference BLAS
  libboost-dev libboost-filesystem-dev      # Boost.DLL
  nlohmann-json3-dev libfmt-dev libcli11-dev
  zlib1g-dev                                # checkpoint containers are checked before LibTorch reads them
  libgloo-dev                               # c10d's ProcessGroupGloo headers (data-parallel runs, docs/distributed.md)
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Debian's LibTorch, unless the build is pointed at another one (README: "Your own LibTorch / a GPU").
[[ " $* " == *" -DCMAKE_PREFIX_PATH="* || " $* " == *" -DTorch_DIR="* ]] || packages+=(libtorch-dev)
# Optional parts (CMakeLists.txt: PRIORLAB_WITH_OPENCV, PRIORLAB_WITH_MATIO; ON by default).
# OpenCVConfig.cmake, which find_package(OpenCV) reads, is shipped by libopencv-dev alone.
[[ " $* " == *" -DPRIORLAB_WITH_OPENCV=OFF "* ]] || packages+=(libopencv-dev)
[[ " $* " == *" -DPRIORLAB_WITH_MATIO=OFF "* ]] || packages+=(libmatio-dev)   # MAT-files (omniglot's chardata.mat)
# TensorBoard event files (PRIORLAB_WITH_TENSORBOARD): protobuf's library and protoc for the schema.
[[ " $* " == *" -DPRIORLAB_WITH_TENSORBOARD=OFF "* ]] || packages+=(libprotobuf-dev protobuf-compiler)
# The Python module (PRIORLAB_WITH_PYTHON, docs/python.md): Debian's torch for Debian's python3
# links the same LibTorch as libtorch-dev, so it goes with Debian's LibTorch only.
with_python=0
if [[ " $* " != *" -DPRIORLAB_WITH_PYTHON=OFF "* && " ${packages[*]} " == *" libtorch-dev "* ]]; then
  with_python=1
  packages+=(python3-dev pybind11-dev python3-torch)
fi
# The test command (scripts/test.sh) also renders report.html in headless Chromium (tests/test_report.cpp)
# and checks scripts/gpu-check.sh's results JSON with python3 (tests/gpu_check_test.sh); the
# TensorBoard test decodes event files with Python's protobuf (tests/tensorboard_test.py).
if [[ " $* " == *" -DPRIORLAB_BUILD_TESTS=ON "* ]]; then packages+=(chromium python3); fi
if [[ " $* " == *" -DPRIORLAB_BUILD_TESTS=ON "* && " $* " != *" -DPRIORLAB_WITH_TENSORBOARD=OFF "* ]]; then
  packages+=(python3-protobuf)
fi
# The Python tests (python/tests, pytest) and its example's pictures and tables.
if [[ " $* " == *" -DPRIORLAB_BUILD_TESTS=ON "* ]] && ((with_python)); then
  packages+=(python3-pytest python3-matplotlib python3-pandas)
fi
if ((list_only)); then printf '%s\n' "${packages[@]}"; exit 0; fi
scripts/install-packages.sh "${packages[@]}"

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
echo "setup: building with $jobs jobs (the first build takes a few minutes)"
cmake --build build -j "$jobs"

# `import priorlab` from this build tree for Debian's python3, with no PYTHONPATH (docs/python.md):
# a .pth file in its folder for local packages, as `pip install -e` would write. Run from another
# checkout, setup.sh points it there.
if ((with_python)) && [[ -f build/python/priorlab/__init__.py ]]; then
  site=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
  scripts/as-root.sh mkdir -p "$site"
  echo "$PWD/build/python" | scripts/as-root.sh tee "$site/priorlab-build.pth" >/dev/null
  echo "setup: /usr/bin/python3 imports priorlab from $PWD/build/python ($site/priorlab-build.pth)"
fi
