#!/usr/bin/env bash
# scripts/bank-runs.sh: a completed run is banked without its checkpoints; an unfinished one is
# left out, or, with --with-checkpoints, banked with its newest checkpoint alone; and the same
# sweep command run over a copy of that bank resumes the run from the banked checkpoint and ends
# where the uninterrupted run ended, bit for bit (its last metrics line and final summary).
# Arguments: <priorlab binary> <source dir>.
set -euo pipefail
bin=$1 src=$(cd "$2" && pwd)
bank=$src/scripts/bank-runs.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# Two small runs (seeds 0 and 1), 40 steps, a checkpoint every 10, all four kept.
cat >sweep.json <<'JSON'
{
  "name": "bank",
  "base": {
    "name": "small", "seed": 3, "device": "cpu",
    "dataset": {"plugin": "pendulum", "options": {"size": 200, "test_fraction": 0.25}},
    "network": {"plugin": "mlp", "options": {"latent_dim": 2, "hidden": [32], "decoder_sigma": 0.1}},
    "prior": {"plugin": "gaussian"},
    "scheduler": {"plugin": "warmup", "options": {"epochs": 2}},
    "training": {"iterations": 40, "batch_size": 16, "learning_rate": 1e-3, "log_every": 10,
                 "checkpoint_every": 10, "keep_checkpoints": 4, "threads": 1},
    "evaluators": [{"plugin": "reconstruction", "options": {"pictures": 4}}, {"plugin": "latent_plot"}]
  },
  "seeds": [0, 1]
}
JSON
"$bin" sweep sweep.json --out full >sweep1.log 2>&1 || { cat sweep1.log; fail "the first sweep failed"; exit 1; }
runs=()
for d in full/*/; do [[ -f $d/config.json ]] && runs+=("$d"); done
[[ ${#runs[@]} == 2 ]] || fail "expected 2 run folders, found ${#runs[@]}"
done_run=${runs[0]%/} cut_run=${runs[1]%/}
cut_name=$(basename "$cut_run") done_name=$(basename "$done_run")
cp "$cut_run/metrics.jsonl" uninterrupted-metrics.jsonl
cp "$cut_run/summary.json" uninterrupted-summary.json

# Make the second run look like one whose session ended after step 20: its last two
# checkpoints, its summary and the status "completed" gone.
rm "$cut_run"/checkpoints/step_00000030.pt* "$cut_run"/checkpoints/step_00000040.pt* "$cut_run/summary.json"
sed -i 's/"status": "completed"/"status": "running"/' "$cut_run/run.json"

# Without --with-checkpoints: the completed run only, and no checkpoint.
bash "$bank" full bank-done >bank1.log
[[ -d bank-done/$done_name && ! -e bank-done/$cut_name ]] || fail "plain bank: expected only $done_name: $(ls bank-done)"
[[ ! -e bank-done/$done_name/checkpoints ]] || fail "plain bank: a completed run was banked with its checkpoints"
[[ -f bank-done/$done_name/summary.json && -f bank-done/$done_name/metrics.jsonl ]] || fail "plain bank: summary or metrics missing"

# With --pictures: the named artefacts alone (a name the run lacks is passed over).
bash "$bank" --pictures reconstruction.png,absent.png full bank-pictures >bank3.log
[[ "$(ls bank-pictures/$done_name/artefacts | tr '\n' ' ')" == "reconstruction.png " ]] ||
  fail "--pictures: expected artefacts/reconstruction.png alone, found $(ls bank-pictures/$done_name/artefacts)"
[[ -f bank-pictures/$done_name/metrics.jsonl ]] || fail "--pictures: metrics.jsonl missing"
[[ "$(ls full/$done_name/artefacts | wc -l)" -gt 1 ]] || fail "--pictures: the test run has one artefact; the check cannot fail"

# With --with-checkpoints: the unfinished run too, with step 20's checkpoint alone.
bash "$bank" --with-checkpoints full bank-all >bank2.log
grep -q "1 completed run(s) and 1 unfinished one(s)" bank2.log || fail "bank summary line: $(tail -n 1 bank2.log)"
[[ "$(ls bank-all/$cut_name/checkpoints | tr '\n' ' ')" == "step_00000020.pt step_00000020.pt.sum " ]] ||
  fail "unfinished run: expected checkpoints/step_00000020.pt and its .sum, found $(ls bank-all/$cut_name/checkpoints)"
[[ ! -e bank-all/$cut_name/summary.json ]] || fail "unfinished run banked with a summary"
[[ ! -e bank-all/$done_name/checkpoints ]] || fail "completed run banked with checkpoints"

# Another machine: the bank copied into a fresh sweep folder; the same command skips the
# completed run and resumes the other from step 20.
mkdir -p again && cp -r bank-all/. again/
"$bin" sweep sweep.json --out again >sweep2.log 2>&1 || { cat sweep2.log; fail "the resumed sweep failed"; }
grep -q "resuming from its checkpoint at step 20" sweep2.log || fail "the sweep did not resume from step 20: $(cat sweep2.log)"
grep -q "1 skipped" sweep2.log || grep -q "skip" sweep2.log || fail "the completed run was not skipped: $(cat sweep2.log)"
last_want=$(tail -n 1 uninterrupted-metrics.jsonl | python3 -c 'import json,sys; m=json.load(sys.stdin); print(repr((m["step"], m["loss"], m["rate"])))')
last_got=$(tail -n 1 "again/$cut_name/metrics.jsonl" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(repr((m["step"], m["loss"], m["rate"])))')
[[ $last_want == "$last_got" ]] || fail "resumed run ends at $last_got, the uninterrupted one at $last_want"
want=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["evaluators"]["reconstruction"]))' uninterrupted-summary.json)
got=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["evaluators"]["reconstruction"]))' "again/$cut_name/summary.json")
[[ $want == "$got" ]] || fail "resumed run's reconstruction $got, uninterrupted $want"

if ((failures)); then echo "bank_runs_test: $failures failure(s)" >&2; exit 1; fi
echo "bank_runs_test: passed"
