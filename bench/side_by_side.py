"""priorlab against PyTorch eager on the Table 3 pendulum step, in one invocation (issue 11).

For each case (threads x batch x K) it times, one after the other on the same machine:
  priorlab  `priorlab run configs/pendulum/vhp_beta1.json` (the real plugins and trainer, every
            per-step cost of the loop included), ms/step from metrics.jsonl's `seconds` over the
            logging intervals after the first (the first holds start-up and warm-up);
  python    bench/python_reference.py, the same model, batch and optimiser in eager PyTorch;
  sgemm     torch.mm on the step's dominant shape [B*K, 256] x [256, 256] into a preallocated
            output (the product alone, not the allocator), the machine's limit for this work
            with this many threads (same OpenBLAS, same process settings).
The step's matrix work is counted layer by layer (flops()), so "GFLOP/s" and "% sgemm" say how
close each implementation comes to the limit.

Usage: bench/side_by_side.sh [--quick] [--cases T:B:K,...]   (the .sh installs and builds first)
"""
import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PY = "/usr/bin/python3"  # Debian's python3 with python3-torch (the same libtorch 1.13 and OpenBLAS)
HIDDEN, DATA, LATENT = [256] * 4, 256, 2


def flops(batch, samples):
    """Matrix FLOPs of one training step: forward 2*M*in*out per Linear layer, backward the same
    for the weight gradient and again for the input gradient (not for the encoder's first layer,
    whose input x needs none)."""
    def mlp(m, inp, out, input_grad=True):
        dims = [inp] + HIDDEN + [out]
        total = 0
        for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
            total += 2 * m * a * b * (2 if (i == 0 and not input_grad) else 3)
        return total
    return (mlp(batch, DATA, 2 * LATENT, input_grad=False) + mlp(batch, LATENT, DATA)  # q(z|x), p(x|z)
            + mlp(batch, LATENT, 2 * LATENT) + mlp(batch * samples, LATENT, 2 * LATENT))  # q(zeta|z), p(z|zeta)


SGEMM = r"""
import json, sys, time, torch
t, m, k, n = map(int, sys.argv[1:5])
torch.set_num_threads(t)
a, b, c = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
for _ in range(20): torch.mm(a, b, out=c)
reps, best = max(20, int(2e10 / (2 * m * k * n))), float("inf")
for _ in range(3):
    s = time.perf_counter()
    for _ in range(reps): torch.mm(a, b, out=c)
    best = min(best, (time.perf_counter() - s) / reps)
print(json.dumps({"gflops": 2 * m * k * n / best / 1e9}))
"""


# The priorlab step as it was before issue 11's changes: glibc's malloc thresholds, LibTorch's
# Adam and zero-filled gradients (host/cli/main.cpp, host/engine/trainer.cpp).
BEFORE = {"PRIORLAB_MALLOC_TUNING": "0", "PRIORLAB_REFERENCE_STEP": "1"}


def write_results(path, payload, label):
    """The bench's figures as JSON at `path`, with the date and machine, written atomically."""
    pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"date": str(datetime.datetime.now()), "machine": os.uname().nodename, **payload}, fh, indent=1)
    os.replace(tmp, path)
    print(f"{label}: results in {path}")


def env_for(threads, extra=None):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    env.update(extra or {})
    return env


def run_json(cmd, threads):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env_for(threads)).stdout
    return json.loads(out.strip().splitlines()[-1])


def sgemm(threads, m, k=256, n=256):
    """GFLOP/s of torch.mm [m, k] x [k, n] with `threads` threads (best of three timed loops)."""
    return run_json([PY, "-c", SGEMM, str(threads), str(m), str(k), str(n)], threads)["gflops"]


def python_step(threads, batch, samples, steps):
    return run_json([PY, str(ROOT / "bench/python_reference.py"), "--threads", str(threads), "--batch", str(batch),
                     "--samples", str(samples), "--steps", str(steps), "--warmup", str(max(10, steps // 5))],
                    threads)["ms_per_step"]


def priorlab_step(binary, threads, batch, samples, steps, extra_env=None):
    log_every = max(10, steps // 5)
    with tempfile.TemporaryDirectory(prefix="priorlab-bench-") as out:
        sets = {"training.iterations": log_every * 6, "training.log_every": log_every, "training.checkpoint_every": 0,
                "training.threads": threads, "training.batch_size": batch, "prior.options.samples": samples,
                "evaluators": "[]", "tensorboard": "false", "device": "cpu"}
        cmd = [binary, "run", str(ROOT / "configs/pendulum/vhp_beta1.json"), "--out", out, "--name", "bench"]
        for k, v in sets.items():
            cmd += ["--set", f"{k}={v}"]
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=env_for(threads, extra_env))
        rows = [json.loads(line) for line in open(os.path.join(out, "bench", "metrics.jsonl"))]
    first, last = rows[0], rows[-1]  # the first interval (start-up, warm-up) is left out
    return 1e3 * (last["seconds"] - first["seconds"]) / (last["step"] - first["step"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/bin/priorlab"))
    ap.add_argument("--cases", default="", help="T:B:K,... (default: threads 1,2 x batch 64,256 x K 1,16,32)")
    ap.add_argument("--no-before", action="store_true", help="skip the priorlab step as it was before issue 11")
    ap.add_argument("--quick", action="store_true", help="fewer steps per case (a smoke run, not for the docs)")
    ap.add_argument("--out", default=str(ROOT / f"bench/results/side-by-side-{datetime.date.today()}.json"))
    a = ap.parse_args()
    if a.cases:
        cases = [tuple(map(int, c.split(":"))) for c in a.cases.split(",")]
    else:
        cases = [(t, b, k) for t in (1, 2) for b in (64, 256) for k in (1, 16, 32)]
    results = []
    print(f"{'thr':>3} {'batch':>5} {'K':>3} | {'before ms':>9} {'priorlab ms':>11} {'python ms':>10} {'ratio':>6} | "
          f"{'GFLOP/step':>10} {'sgemm GF/s':>10} {'limit ms':>8} {'priorlab %':>10} {'python %':>8}")
    for threads, batch, samples in cases:
        f = flops(batch, samples)
        limit = sgemm(threads, batch * samples)
        est_ms = 2.5 * f / (limit * 1e6)  # about 2.5x the limit; sizes the run to a few seconds
        steps = max(20 if a.quick else 50, int((1500 if a.quick else 8000) / est_ms))
        before = None if a.no_before else priorlab_step(a.binary, threads, batch, samples, steps, BEFORE)
        ours = priorlab_step(a.binary, threads, batch, samples, steps)
        theirs = python_step(threads, batch, samples, steps)
        limit_ms = f / (limit * 1e6)
        row = {"threads": threads, "batch": batch, "samples": samples, "steps_timed": steps,
               "priorlab_before_ms": before, "priorlab_ms": ours, "python_ms": theirs, "ratio": theirs / ours, "gflop_per_step": f / 1e9,
               "sgemm_gflops": limit, "limit_ms": limit_ms,
               "priorlab_share_of_sgemm": limit_ms / ours, "python_share_of_sgemm": limit_ms / theirs}
        results.append(row)
        shown = "-" if before is None else f"{before:.2f}"
        print(f"{threads:>3} {batch:>5} {samples:>3} | {shown:>9} {ours:>11.2f} {theirs:>10.2f} {theirs / ours:>6.2f} | "
              f"{f / 1e9:>10.3f} {limit:>10.1f} {limit_ms:>8.2f} {100 * limit_ms / ours:>9.0f}% "
              f"{100 * limit_ms / theirs:>7.0f}%", flush=True)
    write_results(a.out, {"cases": results}, "side_by_side")


if __name__ == "__main__":
    sys.exit(main())
