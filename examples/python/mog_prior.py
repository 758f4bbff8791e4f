"""A mixture-of-Gaussians prior written in Python, trained through priorlab's C++ trainer and
compared with the compiled priors in one sweep (docs/python.md).

    PYTHONPATH=build/python python3 examples/python/mog_prior.py [--steps 2000] [--out runs]
"""
import argparse
import math
import os

import torch

import priorlab


class PyMog(priorlab.Prior):
    """p(z) = sum_k pi_k N(z; m_k, diag exp(v_k)), every parameter learned"""
    options = [priorlab.option("components", 16, min=1, help="K, the number of Gaussians"),
               priorlab.option("init_scale", 1.0, greater_than=0, help="the initial means are N(0, init_scale^2)")]

    def __init__(self, ctx):
        super().__init__(ctx)
        k, d = ctx.options["components"], ctx.latent_dim
        self.means = torch.nn.Parameter(torch.randn(k, d) * ctx.options["init_scale"])
        self.logvars = torch.nn.Parameter(torch.zeros(k, d))
        self.logits = torch.nn.Parameter(torch.zeros(k))

    def log_prob(self, z):  # z [..., D] -> [...]
        diff = z.unsqueeze(-2) - self.means  # [..., K, D]
        log_n = -0.5 * (math.log(2 * math.pi) + self.logvars + diff ** 2 * torch.exp(-self.logvars)).sum(-1)
        return torch.logsumexp(torch.log_softmax(self.logits, 0) + log_n, -1)

    def sample(self, n):
        k = torch.multinomial(torch.softmax(self.logits, 0), n, replacement=True)
        return self.means[k] + torch.exp(0.5 * self.logvars[k]) * torch.randn(n, self.means.shape[1],
                                                                               dtype=self.means.dtype)


priorlab.register("py_mog", PyMog)

if __name__ == "__main__":
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--steps", type=int, default=2000)
    args.add_argument("--out", default="runs/python-mog")
    a = args.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    # The sweep file names py_mog beside the compiled gaussian, mog and vhp priors: with jobs=1
    # and a Python plugin registered, its runs go one after another in this process.
    # It ends with `priorlab compare` over the four runs (table printed, comparison.md written).
    raise SystemExit(priorlab.sweep(os.path.join(here, "mog_sweep.json"), out=a.out,
                                    set=[f"training.iterations={a.steps}"]))
