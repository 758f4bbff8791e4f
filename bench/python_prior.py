"""Step time of a prior written in Python against the compiled one it copies (issue 31): the
pendulum pipeline (configs/pendulum/vhp_rewo.json's networks, beta = 1 so the prior trains every
step) with the compiled `mog` and with examples/python/mog_prior.py's `py_mog`, both K = 16,
one thread, interleaved repeats in this one process. Prints ms per step (the runs' own logged
interval times, the first interval left out as warm-up), and the prior alone (log_prob forward
and backward, batch 64, D = 2, built with priorlab.make_prior), and writes
bench/results/python-prior-<date>.json.

    bench/python_prior.sh [--steps 3000] [--repeats 3]
"""
import argparse
import datetime
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "python"))
import priorlab  # noqa: E402
import mog_prior  # noqa: E402,F401  (registers py_mog)


def ms_per_step(run_dir, log_every):
    rows = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl")) if line.strip()]
    timed = rows[1:]  # the first interval holds the start-up
    return 1000.0 * sum(r["seconds"] for r in timed) / (log_every * len(timed))


def prior_call_us(name, reps=2000):
    """One log_prob forward and backward of the prior alone, batch 64, D = 2, in microseconds."""
    import time
    import torch
    prior = priorlab.make_prior(name, {"components": 16}, latent_dim=2)
    z = torch.randn(64, 2, requires_grad=True)
    for _ in range(100):
        prior.log_prob(z).sum().backward()
    start = time.perf_counter()
    for _ in range(reps):
        prior.log_prob(z).sum().backward()
    return 1e6 * (time.perf_counter() - start) / reps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    config = os.path.join(HERE, "..", "configs", "pendulum", "vhp_rewo.json")
    results = {"mog": [], "py_mog": []}
    with tempfile.TemporaryDirectory() as out:
        for r in range(a.repeats):
            for prior in ("mog", "py_mog"):
                run = priorlab.run(config, out=out, name=f"{prior}-{r}", set=[
                    f'prior={{"plugin": "{prior}", "options": {{"components": 16}}}}',
                    'scheduler={"plugin": "constant", "options": {"beta": 1.0}}',
                    f"training.iterations={a.steps}", "training.log_every=500", "training.threads=1",
                    f"training.checkpoint_every={a.steps}", "evaluators=[]"])
                results[prior].append(ms_per_step(run, 500))
    summary = {k: {"ms_per_step": v, "median": statistics.median(v)} for k, v in results.items()}
    import torch
    torch.set_num_threads(1)
    calls = {k: [prior_call_us(k) for _ in range(a.repeats)] for k in ("mog", "py_mog")}
    for k, v in calls.items():
        summary[k]["prior_alone_us"] = v
        summary[k]["prior_alone_median_us"] = statistics.median(v)
    summary["python_over_compiled"] = summary["py_mog"]["median"] / summary["mog"]["median"]
    summary["settings"] = vars(a)
    print(json.dumps(summary, indent=2))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    path = os.path.join(HERE, "results", f"python-prior-{datetime.date.today()}.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
    print("bench:", path)


if __name__ == "__main__":
    main()
