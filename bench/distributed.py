"""Data-parallel training on this machine: 1 and 2 processes (one thread each) on the Table 3
pendulum model (configs/pendulum/vhp_beta1.json: four MLPs 4 x 256 ReLU, VHP K = 16), the
same global batch, in one invocation (issue 14).

For each world size it times `priorlab run --nproc N` over the whole training loop: ms per step
from metrics.jsonl's `seconds` (the first logging interval, start-up and warm-up, left out),
steps/s and examples/s, and from summary.json's "distributed" the all-reduce calls, megabytes
and milliseconds per step (the gradient buckets and the per-step statistics).

Then the evaluation (issue 14, "evaluators that scale"): one short-trained run's checkpoint is
scored by `loglik` (S importance samples per test image, VHP's K = 16) with
`priorlab evaluate RUN --nproc N`, N = 1 and 2, one thread each: the wall time of the whole
command (start-up, checkpoint load and Gloo's connect included) and the loglik evaluator's own
time from its "done in" line (whole seconds), images/s, and whether both give the same NLL.

Usage: bench/distributed.sh [--steps N] [--batch B] [--images N] [--samples S]   (the .sh builds first)
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

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


def clock_seconds(text):
    """Seconds of a Progress::clock figure (whole seconds): "M:SS" or "H:MM:SS"."""
    if not re.fullmatch(r"\d+(:\d\d){1,2}", text):
        raise ValueError(f"not a duration: {text!r}")
    seconds = 0
    for part in text.split(":"):
        seconds = 60 * seconds + int(part)
    return float(seconds)


def evaluation(binary, images, samples):
    """loglik over the first `images` test images with 1 and 2 processes, one thread each."""
    with tempfile.TemporaryDirectory(prefix="priorlab-bench-") as out:
        cmd = [binary, "run", str(ROOT / "configs/pendulum/vhp_beta1.json"), "--out", out, "--name", "bench"]
        for k, v in {"training.iterations": 200, "training.log_every": 100, "training.checkpoint_every": 200,
                     "training.threads": 1, "evaluators": "[]", "tensorboard": "false", "device": "cpu"}.items():
            cmd += ["--set", f"{k}={v}"]
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=env_for(1))
        section = json.dumps({"plugin": "loglik", "options": {"samples": samples, "limit": images, "batch_size": 50}})
        rows = []
        for nproc in (1, 2):
            start = time.perf_counter()
            done = subprocess.run([binary, "evaluate", os.path.join(out, "bench"), "--evaluator", section,
                                   "--threads", "1", "--nproc", str(nproc)],
                                  check=True, capture_output=True, text=True, env=env_for(1))
            wall = time.perf_counter() - start
            m = re.search(r"eval loglik done in (\S+)", done.stdout)
            if not m:
                raise RuntimeError(f"no 'eval loglik done in' line in:\n{done.stdout}")
            seconds = clock_seconds(m.group(1))
            if seconds < 10:
                raise SystemExit(f"distributed: loglik took {m.group(1)} on {nproc} process(es), too short to time in "
                                 "whole seconds: raise --images or --samples")
            nll = json.load(open(os.path.join(out, "bench", "summary.json")))["evaluators"]["loglik"]["nll"]
            rows.append({"nproc": nproc, "images": images, "samples": samples, "wall_s": wall, "loglik_s": seconds,
                         "images_per_s": images / seconds, "nll": nll})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/bin/priorlab"))
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--images", type=int, default=200, help="test images scored by loglik")
    ap.add_argument("--samples", type=int, default=5000, help="loglik's importance samples per image (S)")
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
    evals = evaluation(a.binary, a.images, a.samples)
    print(f"\n{'procs':>5} {'images':>6} {'S':>5} | {'loglik s':>8} {'images/s':>8} {'command s':>9} | {'NLL':>10}")
    for r in evals:
        print(f"{r['nproc']:>5} {r['images']:>6} {r['samples']:>5} | {r['loglik_s']:>8.1f} {r['images_per_s']:>8.2f} "
              f"{r['wall_s']:>9.1f} | {r['nll']:>10.5f}")
    print(f"loglik speed-up with 2 processes: {evals[0]['loglik_s'] / evals[1]['loglik_s']:.2f}x "
          f"(whole command {evals[0]['wall_s'] / evals[1]['wall_s']:.2f}x)")
    write_results(a.out, {"cases": rows, "evaluation": evals}, "distributed")


if __name__ == "__main__":
    sys.exit(main())
