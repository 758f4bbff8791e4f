#!/usr/bin/env bash
# Copies the completed runs of a sweep folder into a folder kept in git, without what a later
# session does not need (checkpoints, TensorBoard files, reports, logs), so that a long sweep can
# go on in another session or on another machine: copy the bank back into the sweep's folder
# (cp -r BANK/. runs/NAME/) and run the same `priorlab sweep` command; it skips them.
# With --with-checkpoints, runs that have not finished are banked too, with their newest
# checkpoint, so the same sweep command resumes them from it (a run of tens of thousands of
# steps need not finish within one session); a later bank replaces them.
# Usage: scripts/bank-runs.sh [--with-checkpoints] SWEEP_DIR BANK_DIR
set -euo pipefail
partial=0
if [[ ${1:-} == --with-checkpoints ]]; then partial=1; shift; fi
usage="usage: scripts/bank-runs.sh [--with-checkpoints] SWEEP_DIR BANK_DIR"
src=${1:?$usage} dest=${2:?$usage}
banked=0 resumable=0
for run in "$src"/*/; do
  run=${run%/}
  [[ -f $run/run.json && -f $run/config.json ]] || continue
  name=$(basename "$run")
  if [[ -f $run/summary.json ]] && grep -q '"status": "completed"' "$run/run.json"; then
    mkdir -p "$dest/$name.tmp"
    cp "$run"/{config.json,run.json,summary.json,metrics.jsonl} "$dest/$name.tmp/"
    if [[ -d $run/artefacts ]]; then
      mkdir -p "$dest/$name.tmp/artefacts"
      cp "$run"/artefacts/*.png "$run"/artefacts/*.csv "$dest/$name.tmp/artefacts/" 2>/dev/null || true
    fi
    banked=$((banked + 1))
    echo "bank-runs: $name"
  elif ((partial)); then
    # The newest complete checkpoint (step_N.pt with its checksum file step_N.pt.sum; a
    # temporary being written has another name).
    newest=$(ls "$run/checkpoints" 2>/dev/null | grep -E '^step_[0-9]+\.pt$' | sort -V | tail -n 1 || true)
    [[ -n $newest ]] || continue
    mkdir -p "$dest/$name.tmp/checkpoints"
    cp "$run"/{config.json,run.json} "$dest/$name.tmp/"
    [[ -f $run/metrics.jsonl ]] && cp "$run/metrics.jsonl" "$dest/$name.tmp/"
    cp "$run/checkpoints/$newest" "$dest/$name.tmp/checkpoints/"
    [[ -f $run/checkpoints/$newest.sum ]] && cp "$run/checkpoints/$newest.sum" "$dest/$name.tmp/checkpoints/"
    resumable=$((resumable + 1))
    echo "bank-runs: $name (not finished: checkpoints/$newest, resumable)"
  else
    continue
  fi
  rm -rf "${dest:?}/$name"
  mv "$dest/$name.tmp" "$dest/$name"
done
echo "bank-runs: $banked completed run(s)$( ((partial)) && echo " and $resumable unfinished one(s) with a checkpoint") of $src in $dest"
