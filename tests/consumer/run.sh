#!/usr/bin/env bash
# Installs priorlab into a temporary prefix, builds tests/consumer/laplace against it with
# find_package(priorlab), and trains a short pipeline that uses the new prior through the
# installed host. Arguments: <build dir> <source dir>.
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/tests/consumer/laplace" -B "$work/laplace" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/laplace" -j 2 >/dev/null
plugin_dir="$work/laplace"
test -f "$plugin_dir/libpriorlab_prior_laplace.so"
# The installed host finds its own plugins relative to itself, and ours through the flag.
"$work/prefix/bin/priorlab" --plugin-path "$plugin_dir" describe laplace | grep -q "scale"
cd "$work"
"$work/prefix/bin/priorlab" --plugin-path "$plugin_dir" run "$src/configs/pendulum/gaussian_warmup.json" \
    --set prior.plugin=laplace --set prior.options.scale=0.5 --set dataset.options.size=300 \
    --set training.iterations=30 --set training.batch_size=16 --set 'evaluators=[]' --out runs
grep -q '"status": "completed"' runs/pendulum_gaussian_warmup/run.json
grep -q '"plugin": "laplace"' runs/pendulum_gaussian_warmup/config.json
echo "consumer: out-of-tree plugin built with find_package(priorlab) and trained through the installed host"
