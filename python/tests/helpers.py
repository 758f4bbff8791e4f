"""Pipelines and Python plugins the tests share (importable by the child processes too)."""
import math
import os
import signal

import torch

import priorlab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def tiny_pendulum(name, iterations=200, prior=None, prior_options=None, scheduler=None, evaluators=None):
    """The main job's pipeline (configs/pendulum/vhp_rewo.json, resolved) cut to a few hundred
    steps on 600 pendulum images, one thread; `prior` and `scheduler` replace its sections."""
    cfg = priorlab.validate(os.path.join(ROOT, "configs", "pendulum", "vhp_rewo.json"))
    cfg["name"] = name
    cfg["dataset"]["options"]["size"] = 600
    cfg["training"].update(iterations=iterations, checkpoint_every=100, log_every=50, threads=1)
    cfg["evaluators"] = evaluators if evaluators is not None else [{"plugin": "pendulum_angle"}]
    if prior:
        cfg["prior"] = {"plugin": prior, "options": prior_options or {}}
    if scheduler:
        cfg["scheduler"] = {"plugin": scheduler, "options": {}}
    return cfg


class PyMog(priorlab.Prior):
    """mixture of K diagonal Gaussians, written in Python (the tests' copy of examples/python/mog_prior.py)"""
    options = [priorlab.option("components", 3, min=1, help="K"),
               priorlab.option("kill_at_step", -1, help="SIGKILL this process before that step (tests)"),
               priorlab.option("raise_at_step", -1, help="raise ValueError before that step (tests)")]

    def __init__(self, ctx):
        super().__init__(ctx)
        k, d = ctx.options["components"], ctx.latent_dim
        self.means = torch.nn.Parameter(torch.randn(k, d))
        self.logvars = torch.nn.Parameter(torch.zeros(k, d))
        self.logits = torch.nn.Parameter(torch.zeros(k))
        self.kill_at = int(os.environ.get("PRIORLAB_TEST_KILL_AT", ctx.options["kill_at_step"]))
        self.raise_at = ctx.options["raise_at_step"]

    def log_prob(self, z):
        zz = z.unsqueeze(-2)  # [..., 1, D] against [K, D]
        log_n = -0.5 * (math.log(2 * math.pi) + self.logvars + (zz - self.means) ** 2 / self.logvars.exp()).sum(-1)
        return torch.logsumexp(torch.log_softmax(self.logits, 0) + log_n, -1)

    def sample(self, n):
        k = torch.multinomial(torch.softmax(self.logits, 0), n, replacement=True)
        return self.means[k] + (0.5 * self.logvars[k]).exp() * torch.randn(n, self.means.shape[1])

    def begin_step(self, step, epoch, indices):
        if step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if step == self.raise_at:
            raise ValueError(f"boom at step {step}")


class PyWarmup(priorlab.Scheduler):
    """linear beta warm-up over `steps`, written in Python, with a step counter as its state"""
    options = [priorlab.option("steps", 150, min=1)]

    def __init__(self, ctx):
        super().__init__(ctx)
        self.steps = ctx.options["steps"]
        self.done = 0

    def beta(self):
        return min(1.0, (self.done + 1) / self.steps)

    def update(self, step):
        self.done += 1

    def phase(self):
        return "warmup" if self.done < self.steps else "constant"

    def metrics(self):
        return {"done": float(self.done)}

    def state(self):
        return {"done": self.done}

    def load_state(self, state):
        self.done = state["done"]


class MeanCode(priorlab.Evaluator):
    """the mean over the first `limit` test images of the posterior mean, per latent dimension"""
    options = [priorlab.option("limit", 50, min=1)]

    def evaluate(self, ctx):
        x, _ = ctx.model.data("test", limit=self.ctx.options["limit"])
        mu, _ = ctx.model.encode(x)
        return {f"mu_{j}": float(mu[:, j].double().mean()) for j in range(mu.shape[1])}


def register_all():
    for name, cls in (("py_mog", PyMog), ("py_warmup", PyWarmup), ("mean_code", MeanCode)):
        if not any(p["name"] == name for p in priorlab.plugins()):
            priorlab.register(name, cls)
