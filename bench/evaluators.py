"""The evaluators' hot paths against the machine's matrix-work limit, in one invocation (issue 11).

  loglik               priorlab evaluate on an MNIST VHP model (configs/mnist/vhp_rewo.json:
                       MLP 300-300, 32-D latent, VHP gated 256-256 with K = 16), S importance
                       samples on the first N test images, at max_elements 2^25 (the default before
                       issue 11) and at the plugin's default now;
  graph_interpolation  priorlab evaluate with 10,000 nodes drawn from the same model's prior
                       (one interpolation), and BM_KnnGraph/10000/32 (the kNN graph alone);
  sgemm                torch.mm of each one's dominant shape with the same thread count.
The model is trained for 20 steps only: the work per sample does not depend on the weights.
Matrix FLOPs are counted layer by layer (loglik_flops, knn_flops).

Usage: bench/evaluators.sh [--images N] [--samples S]   (the .sh installs, builds and prepares MNIST)
"""
import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from side_by_side import ROOT, env_for, sgemm, write_results  # noqa: E402

CONFIG = ROOT / "configs/mnist/vhp_rewo.json"


def loglik_flops(cfg):
    """Matrix FLOPs per (image, importance sample): the decoder p(x|z), then the VHP bound's
    q(zeta|z) once and p(z|zeta) K times (each gated hidden layer is two Linear layers; the output
    layer gives mean and log-variance). The encoder runs once per image and is left out."""
    net, prior = cfg["network"]["options"], cfg["prior"]["options"]
    data, latent = 784, net["latent_dim"]
    zeta = prior["zeta_dim"] or latent
    dims = [latent] + net["hidden"] + [data]
    decoder = sum(2 * a * b for a, b in zip(dims[:-1], dims[1:]))
    per_linear = 2 if prior["layer"] == "gated" else 1

    def conditional(inp, out):
        d = [inp] + prior["hidden"]
        return sum(2 * a * b * per_linear for a, b in zip(d[:-1], d[1:])) + 2 * d[-1] * 2 * out

    return decoder + conditional(latent, zeta) + prior["samples"] * conditional(zeta, latent)


def knn_flops(n, d):
    return 2 * n * n * d  # the distance matrix's product term, in blocks


def timed(cmd, threads):
    start = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env_for(threads))
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=str(ROOT / "build/bin/priorlab"))
    ap.add_argument("--bench", default=str(ROOT / "build/bin/priorlab_bench"))
    ap.add_argument("--images", type=int, default=500)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / f"bench/results/evaluators-{datetime.date.today()}.json"))
    a = ap.parse_args()
    t = a.threads
    results = {}
    with tempfile.TemporaryDirectory(prefix="priorlab-bench-") as out:
        subprocess.run([a.binary, "run", str(CONFIG), "--out", out, "--name", "m", "--set", "training.iterations=20",
                        "--set", f"training.threads={t}", "--set", "evaluators=[]", "--set", "tensorboard=false"],
                       check=True, capture_output=True, text=True, env=env_for(t))
        run = os.path.join(out, "m")
        cfg = json.load(open(os.path.join(run, "config.json")))
        per_sample = loglik_flops(cfg)
        k, batch = cfg["prior"]["options"]["samples"], 50
        width = 784 * k
        print(f"loglik: {a.images} test images x S = {a.samples}, {per_sample / 1e6:.2f} MFLOP per (image, sample), "
              f"{t} thread(s)")
        for label, max_elements in (("before (2^25)", 1 << 25), ("now (2^23)", 1 << 23)):
            chunk = max(1, min(a.samples, max_elements // (batch * width)))
            ev = {"plugin": "loglik", "options": {"limit": a.images, "samples": a.samples, "batch_size": batch,
                                                   "max_elements": max_elements}}
            seconds = timed([a.binary, "evaluate", run, "--threads", str(t), "--evaluator", json.dumps(ev)], t)
            flop = per_sample * a.images * a.samples
            rows = chunk * batch * k  # p(z|zeta)'s [rows, 256] x [256, 256] layers dominate
            limit = sgemm(t, rows)
            nll = json.load(open(os.path.join(run, "summary.json")))["evaluators"]["loglik"]["nll"]
            results[label] = {"max_elements": max_elements, "chunk": chunk, "seconds": seconds, "gflop": flop / 1e9,
                              "gflops": flop / seconds / 1e9, "sgemm_rows": rows, "sgemm_gflops": limit,
                              "share_of_sgemm": flop / seconds / 1e9 / limit, "nll": nll}
            print(f"  {label:>14}: chunk {chunk:>3}  {seconds:7.1f} s  {flop / seconds / 1e9:5.1f} GFLOP/s  sgemm "
                  f"[{rows}, 256] x [256, 256] {limit:5.1f} GFLOP/s  -> {100 * flop / seconds / 1e9 / limit:3.0f} %  "
                  f"(nll {nll:.2f})", flush=True)

        ev = {"plugin": "graph_interpolation", "options": {"nodes": 10000, "endpoints": "random", "interpolations": 1}}
        seconds = timed([a.binary, "evaluate", run, "--threads", str(t), "--evaluator", json.dumps(ev)], t)
        results["graph_interpolation"] = {"nodes": 10000, "dim": cfg["network"]["options"]["latent_dim"], "seconds": seconds}
        print(f"graph_interpolation: 10,000 nodes in 32-D, one interpolation, whole command {seconds:.2f} s", flush=True)

    bench = json.loads(subprocess.run([a.bench, "--benchmark_filter=KnnGraph/10000/32", "--benchmark_repetitions=5",
                                       "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
                                      check=True, capture_output=True, text=True, env=env_for(t)).stdout)
    knn_ms = next(b["real_time"] for b in bench["benchmarks"] if b["name"].endswith("_median"))
    flop = knn_flops(10000, 32)
    rows = (1 << 21) // 10000  # knn_graph's distance block (sdk/src/graph.cpp)
    limit = sgemm(t, rows, 32, 10000)
    results["knn_graph"] = {"ms": knn_ms, "gflop": flop / 1e9, "gflops": flop / knn_ms / 1e6, "sgemm_gflops": limit,
                            "share_of_sgemm": flop / knn_ms / 1e6 / limit}
    print(f"knn_graph (BM_KnnGraph/10000/32, median of 5): {knn_ms:.0f} ms  {flop / knn_ms / 1e6:5.1f} GFLOP/s  "
          f"sgemm [{rows}, 32] x [32, 10000] {limit:5.1f} GFLOP/s -> {100 * flop / knn_ms / 1e6 / limit:3.0f} %")

    write_results(a.out, {"threads": t, "images": a.images, "samples": a.samples, "results": results}, "evaluators")


if __name__ == "__main__":
    sys.exit(main())
