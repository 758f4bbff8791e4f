#!/usr/bin/env bash
# scripts/check-packages.sh on this build's CMakeCache.txt: it passes with setup.sh's package
# list, and fails, naming OpenCV_DIR and libopencv-dev, with the list setup.sh had before the
# check existed (libopencv-core/imgproc/imgcodecs-dev, which do not ship OpenCVConfig.cmake).
# Arguments: <build dir> <source dir>.
set -uo pipefail
build=$1 src=$2
fail() { echo "check_packages_test: $*" >&2; exit 1; }
grep -q '^OpenCV_DIR:PATH=/' "$build/CMakeCache.txt" || { echo "check_packages_test: no OpenCV in this build: skipped"; exit 0; }

out=$(bash "$src/scripts/check-packages.sh" "$build" -DPRIORLAB_BUILD_TESTS=ON 2>&1) || fail "fails with setup.sh's own list: $out"
grep -q '^check-packages: ok: ' <<<"$out" || fail "no ok line: $out"
grep -q 'OpenCV_DIR: .*OpenCVConfig.cmake <- libopencv-dev (named in scripts/setup.sh)' <<<"$out" || fail "OpenCV not traced to libopencv-dev: $out"

# (Plus the packages added to setup.sh since, which are not the point here: libgloo-dev, pybind11-dev.)
before="cmake g++ make pkg-config libtorch-dev libopenblas0-openmp libboost-dev libboost-filesystem-dev
nlohmann-json3-dev libfmt-dev libcli11-dev libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
libmatio-dev libgtest-dev libgmock-dev libbenchmark-dev chromium libprotobuf-dev protobuf-compiler libgloo-dev
pybind11-dev"
out=$(CHECK_PACKAGES_LIST=$(tr '\n' ' ' <<<"$before") bash "$src/scripts/check-packages.sh" "$build" 2>&1)
code=$?
[[ $code -eq 1 ]] || fail "the old list should fail with exit 1, got $code: $out"
grep -q "FAILED: OpenCV_DIR: .*OpenCVConfig.cmake is owned by 'libopencv-dev', which scripts/setup.sh does not install" <<<"$out" ||
  fail "the failure does not name OpenCV_DIR and libopencv-dev: $out"
[[ $(grep -c 'FAILED' <<<"$out") -eq 1 ]] || fail "exactly one package should be missing from the old list: $out"

# protoc comes through a find module (FindProtobuf), not a config file: setup.sh's list without
# protobuf-compiler fails naming it.
if grep -q '^Protobuf_PROTOC_EXECUTABLE:FILEPATH=/' "$build/CMakeCache.txt"; then
  without=$(bash "$src/scripts/setup.sh" --list-packages -DPRIORLAB_BUILD_TESTS=ON | grep -vx protobuf-compiler | tr '\n' ' ')
  out=$(CHECK_PACKAGES_LIST=$without bash "$src/scripts/check-packages.sh" "$build" 2>&1)
  code=$?
  [[ $code -eq 1 ]] || fail "the list without protobuf-compiler should fail with exit 1, got $code: $out"
  grep -q "FAILED: Protobuf_PROTOC_EXECUTABLE: /usr/bin/protoc is owned by 'protobuf-compiler'" <<<"$out" ||
    fail "the failure does not name protoc and protobuf-compiler: $out"
fi
echo "check_packages_test: passes with setup.sh's list, fails naming libopencv-dev with the old one and protobuf-compiler without it"
