#!/usr/bin/env bash
# Copies the completed runs of a sweep folder into a folder kept in git, without what a later
# session does not need (checkpoints, TensorBoard files, reports, logs), so that a long sweep can
# go on in another session or on another machine: copy the bank back into the sweep's folder
# (cp -r BANK/. runs/NAME/) and run the same `priorlab sweep` command; it skips them.
# With --with-checkpoints, runs that have not finished are banked too, with their newest
# checkpoint, so the same sweep command resumes them from it (a run of tens of thousands of
# steps need not finish within one session); a later bank replaces them.
# With --pictures NAMES (comma-separated, e.g. latent.png), only those artefacts are banked,
# for a large sweep whose other pictures the docs do not show: `priorlab report RUN` draws a
# run's training curves into its report.html from metrics.jsonl.
# Usage: scripts/bank-runs.sh [--with-checkpoints] [--pictures NAMES] SWEEP_DIR BANK_DIR
set -euo pipefail
partial=0 pictures=""
usage="usage: scripts/bank-runs.sh [--with-checkpoints] [--pictures NAMES] SWEEP_DIR BANK_DIR"
while [[ ${1:-} == --* ]]; do
  case $1 in
    --with-checkpoints) partial=1; shift ;;
    --pictures) pictures=${2:?$usage}; shift 2 ;;
    *) echo "bank-runs: unknown option $1; $usage" >&2; exit 2 ;;
  esac
done
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
      if [[ -n $pictures ]]; then
        IFS=, read -r -a names <<<"$pictures"
        for p in "${names[@]}"; do
          if [[ -f $run/artefacts/$p ]]; then cp "$run/artefacts/$p" "$dest/$name.tmp/artefacts/"; fi
        done
      else
        cp "$run"/artefacts/*.png "$run"/artefacts/*.csv "$dest/$name.tmp/artefacts/" 2>/dev/null || true
      fi
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
