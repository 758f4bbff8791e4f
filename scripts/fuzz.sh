#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/) with clang, libFuzzer, ASan and UBSan in build-fuzz/, and
# fuzzes each for SECONDS (default 600), two at a time with one thread each. The working corpus
# (build-fuzz/corpus/TARGET) starts from the seed corpus in tests/fuzz/corpus/TARGET; an input that
# crashes lands in build-fuzz/crashes/TARGET/. Copy it into tests/fuzz/corpus/TARGET once fixed:
# the test command replays that folder (Fuzz.TARGET.CorpusReplays).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   (targets: fuzz_pipeline fuzz_set fuzz_sweep
#        fuzz_checkpoint fuzz_idx fuzz_amat fuzz_csv fuzz_mat; default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
mapfile -t setup_packages < <(scripts/setup.sh --list-packages)
scripts/install-packages.sh "${setup_packages[@]}" clang libclang-rt-14-dev
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DPRIORLAB_FUZZ=ON -DPRIORLAB_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target priorlab_fuzz_targets
targets=("$@")
if ((${#targets[@]} == 0)); then
  targets=(fuzz_pipeline fuzz_set fuzz_sweep fuzz_checkpoint fuzz_idx fuzz_amat fuzz_csv)
  [[ -x build-fuzz/fuzz/fuzz_mat ]] && targets+=(fuzz_mat)
fi
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 OMP_NUM_THREADS=1
fuzz_one() {
  local t=$1
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/crashes/$t"
  cp -n tests/fuzz/corpus/"$t"/* "build-fuzz/corpus/$t/" 2>/dev/null || true
  local start=$SECONDS
  if build-fuzz/fuzz/"$t" "build-fuzz/corpus/$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
       -artifact_prefix="build-fuzz/crashes/$t/" >"build-fuzz/$t.log" 2>&1; then
    echo "fuzz: $t: $(grep -o 'Done [0-9]* runs' "build-fuzz/$t.log" | tail -1) in $((SECONDS - start)) s, no crash;" \
         "corpus $(ls "build-fuzz/corpus/$t" | wc -l) inputs"
  else
    echo "fuzz: $t: FOUND A CRASH after $((SECONDS - start)) s: $(ls "build-fuzz/crashes/$t" | head -3 | tr '\n' ' ')" \
         "(log: build-fuzz/$t.log)"
    return 1
  fi
}
export -f fuzz_one
export seconds
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'fuzz_one {}'
