"""Data-parallel training on this machine: 1 and 2 processes (one thread each) on the Table 3
pendulum model (configs/pendulum/vhp_beta1.json: four MLPs 4 x 256 ReLU, VHP K = 16), the
same global batch, in one invocation (issue 14).

For each world size it times `priorlab run --nproc N` over the whole training loop: ms per step
from metrics.jsonl's `seconds` (the first logging interval, start-up and warm-up, left out),
steps/s and examples/s, and from summary.json's "distributed" the all-reduce calls, megabytes
and milliseconds per step (the gradient buckets and the per-step statistics).

Usage: bench/distributed.sh [--steps N] [--batch B]   (the .sh builds first)
"""
import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from side_by_side import ROOT, env_for, write_results  # noqa: E402


def run(binary, nproc, steps, batch):
    log_every = max(10, steps // 6)
    with tempfile.TemporaryDirectory(prefix="priorlab-bench-") as out:
        sets = {"training.iterations": log_every * 6, "training.log_every": log_every, "training.checkpoint_every": 0,
                "training.threads": 1, "training.batch_size": batch, "evaluators": "[]", "tensorboard": "false",
                "device": "cpu"}
        cmd = [binary, "run", str(ROOT / "configs/pendulum/vhp_beta1.json"), "--out", out, "--name", "bench",
               "--nproc", str(nproc)]
        for k, v in sets.items():
            cmd += ["--set", f"{k}={v}"]
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=env_for(1))
        rows = [json.loads(line) for line in open(os.path.join(out, "bench", "metrics.jsonl"))]
        summary = json.load(open(os.path.join(out, "bench", "summary.json")))
    first, last = rows[0], rows[-1]
    ms = 1e3 * (last["seconds"] - first["seconds"]) / (last["step"] - first["step"])
    d = summary.get("distributed") or {}
    return {"nproc": nproc, "batch": batch, "ms_per_step": ms, "steps_per_s": 1e3 / ms, "examples_per_s": batch * 1e3 / ms,
            "allreduce_calls_per_step": d.get("allreduce_calls_per_step", 0.0),
            "allreduce_mb_per_step": d.get("allreduce_mb_per_step", 0.0),
            "allreduce_ms_per_step": d.get("allreduce_ms_per_step", 0.0)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/bin/priorlab"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--out", default=str(ROOT / f"bench/results/distributed-{datetime.date.today()}.json"))
    a = ap.parse_args()
    rows = [run(a.binary, n, a.steps, a.batch) for n in (1, 2)]
    print(f"{'procs':>5} {'batch':>5} | {'ms/step':>8} {'steps/s':>8} {'examples/s':>10} | "
          f"{'allreduce calls':>15} {'MB/step':>8} {'ms/step':>8}")
    for r in rows:
        print(f"{r['nproc']:>5} {r['batch']:>5} | {r['ms_per_step']:>8.2f} {r['steps_per_s']:>8.1f} "
              f"{r['examples_per_s']:>10.0f} | {r['allreduce_calls_per_step']:>15.1f} {r['allreduce_mb_per_step']:>8.2f} "
              f"{r['allreduce_ms_per_step']:>8.2f}")
    print(f"speed-up with 2 processes: {rows[0]['ms_per_step'] / rows[1]['ms_per_step']:.2f}x")
    write_results(a.out, {"cases": rows}, "distributed")


if __name__ == "__main__":
    sys.exit(main())
