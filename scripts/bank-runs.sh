#!/usr/bin/env bash
# Copies the completed runs of a sweep folder into a folder kept in git, without what a later
# session does not need (checkpoints, TensorBoard files, reports, logs), so that a long sweep can
# go on in another session or on another machine: copy the bank back into the sweep's folder
# (cp -r BANK/. runs/NAME/) and run the same `priorlab sweep` command; it skips them.
# Usage: scripts/bank-runs.sh SWEEP_DIR BANK_DIR
set -euo pipefail
src=${1:?usage: scripts/bank-runs.sh SWEEP_DIR BANK_DIR} dest=${2:?usage: scripts/bank-runs.sh SWEEP_DIR BANK_DIR}
banked=0
for run in "$src"/*/; do
  run=${run%/}
  [[ -f $run/run.json && -f $run/summary.json ]] || continue
  grep -q '"status": "completed"' "$run/run.json" || continue
  name=$(basename "$run")
  mkdir -p "$dest/$name.tmp"
  cp "$run"/{config.json,run.json,summary.json,metrics.jsonl} "$dest/$name.tmp/"
  if [[ -d $run/artefacts ]]; then
    mkdir -p "$dest/$name.tmp/artefacts"
    cp "$run"/artefacts/*.png "$run"/artefacts/*.csv "$dest/$name.tmp/artefacts/" 2>/dev/null || true
  fi
  rm -rf "${dest:?}/$name"
  mv "$dest/$name.tmp" "$dest/$name"
  banked=$((banked + 1))
  echo "bank-runs: $name"
done
echo "bank-runs: $banked completed run(s) of $src in $dest"
