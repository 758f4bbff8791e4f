"""A tour of a trained pendulum VHP from Python (docs/python.md): train it (or take a run that
exists), load it, plot its latent space coloured by the angle, decode a shortest path through
a graph over the codes (the paper's graph-based interpolation), and compare two runs' per-image
log-likelihoods with pandas.

    PYTHONPATH=build/python python3 examples/python/pendulum_tour.py --out runs/tour [--steps 20000]
    PYTHONPATH=build/python python3 examples/python/pendulum_tour.py --run runs/pendulum_vhp_rewo
"""
import argparse
import heapq
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

import priorlab  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def shortest_path(codes, start, goal, k=10):
    """Dijkstra over the k-nearest-neighbour graph of `codes` [N, D], edges weighted by distance."""
    dist = torch.cdist(codes, codes)
    neighbours = dist.topk(k + 1, largest=False).indices[:, 1:]
    best, previous, queue = {start: 0.0}, {}, [(0.0, start)]
    while queue:
        d, i = heapq.heappop(queue)
        if i == goal:
            break
        if d > best.get(i, float("inf")):
            continue
        for j in neighbours[i].tolist():
            nd = d + dist[i, j].item()
            if nd < best.get(j, float("inf")):
                best[j], previous[j] = nd, i
                heapq.heappush(queue, (nd, j))
    if goal not in best:
        return None  # the graph does not connect them
    path = [goal]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--run", help="a trained run folder (else one is trained)")
    args.add_argument("--other", help="a second run to compare log-likelihoods with (default: trained, Gaussian prior)")
    args.add_argument("--out", default="runs/tour")
    args.add_argument("--steps", type=int, default=20000)
    args.add_argument("--loglik-limit", type=int, default=300, help="test images scored for the comparison")
    a = args.parse_args()
    os.makedirs(a.out, exist_ok=True)

    # 1. Train the pendulum VHP (the main job's pipeline), or take a run that exists.
    config = os.path.join(ROOT, "configs", "pendulum", "vhp_rewo.json")
    run = a.run or priorlab.run(config, out=a.out, set=[f"training.iterations={a.steps}"], force=True)

    # 2. Load it, 3. encode the test set, and plot the codes coloured by the angle.
    model = priorlab.load(run)
    x, angle = model.data("test")
    mu, _ = model.encode(x)
    fig, ax = plt.subplots(figsize=(5, 5))
    points = ax.scatter(mu[:, 0], mu[:, 1], c=angle, cmap="twilight", s=6)
    fig.colorbar(points, label="pendulum angle (rad)")
    ax.set(title=f"q(z|x) means of {len(x)} test images", xlabel="z1", ylabel="z2")
    fig.savefig(os.path.join(a.out, "latent_by_angle.png"), dpi=120, bbox_inches="tight")

    # 4. A path through the codes from the image nearest 0 rad to the one nearest pi, decoded.
    start, goal = int(angle.abs().argmin()), int((angle - 3.14159).abs().argmin())
    path = next(p for p in (shortest_path(mu, start, goal, k) for k in (10, 20, 40, len(mu) - 1)) if p)
    shown = [path[round(i * (len(path) - 1) / 11)] for i in range(12)] if len(path) > 12 else path
    frames = model.decode(mu[shown])[:, 0]
    fig, axes = plt.subplots(1, len(frames), figsize=(1.1 * len(frames), 1.4))
    for f, axis, i in zip(frames, axes, shown):
        axis.imshow(f.clamp(0, 1), cmap="gray", vmin=0, vmax=1)
        axis.set_title(f"{angle[i]:.2f}", fontsize=7)
        axis.axis("off")
    fig.suptitle(f"decoded shortest graph path, 0 -> pi: 12 of its {len(path)} codes (titles: that test image's angle)",
                 fontsize=9)
    fig.savefig(os.path.join(a.out, "graph_path.png"), dpi=120, bbox_inches="tight")

    # 5. Per-image log p(x) of two runs (the loglik evaluator's CSV), joined with pandas.
    other = a.other or priorlab.run(config, out=a.out, name="gaussian_prior", force=True,
                                    set=[f"training.iterations={a.steps}", 'prior={"plugin": "gaussian"}'])
    section = {"plugin": "loglik", "options": {"samples": 500, "limit": a.loglik_limit}}
    for r in (run, other):
        priorlab.evaluate(r, evaluators=[section])
    per_image = [pd.read_csv(os.path.join(r, "artefacts", "loglik_per_example.csv")) for r in (run, other)]
    joined = per_image[0].merge(per_image[1], on="index", suffixes=("_vhp", "_other"))
    joined["difference"] = joined["log_px_vhp"] - joined["log_px_other"]
    print(joined["difference"].describe().to_string())
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(joined["difference"], bins=40)
    ax.set(title=f"log p(x): {os.path.basename(run)} minus {os.path.basename(other)}, {len(joined)} test images",
           xlabel="nats (> 0: the first run explains the image better)")
    fig.savefig(os.path.join(a.out, "loglik_difference.png"), dpi=120, bbox_inches="tight")
    print("pictures:", *(os.path.join(a.out, f) for f in ("latent_by_angle.png", "graph_path.png",
                                                          "loglik_difference.png")))


if __name__ == "__main__":
    main()
