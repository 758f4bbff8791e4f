"""The Table 3 pendulum step in plain PyTorch eager: the reference that bench/side_by_side.py
times beside `priorlab run`.

The model is configs/pendulum/vhp_beta1.json's, written the way a researcher would write it in
Python, with the same arithmetic as priorlab's plugins:
  q(z|x), p(x|z)        MLP 256 -> [256]*4 (ReLU) -> 2*2 and its mirror (plugins/network/mlp)
  encoder log-variance  hardtanh(-10, 10)
  p(x|z)                N(x; sigmoid(decoder(z)), 0.5^2), summed over the 256 pixels
  q(zeta|z), p(z|zeta)  MLP 2 -> [256]*4 (ReLU) -> 2*2, log-variances clamped at -10 (plugins/prior/vhp)
  log p(z)              K-sample importance-weighted bound, Eq. 9 (log-mean-exp over K)
  loss                  mean_b [ -log p(x|z) + beta (log q(z|x) - log p(z)) ], beta = 1
  optimiser             two Adam(lr 1e-4): network, prior (host/engine/trainer.cpp)
and the same per-step loop work as host/engine/trainer.cpp: a per-step seed, a batch from a per-epoch
permutation, the five scheduler statistics copied to the host, the non-finite check.

Run alone:  python3 bench/python_reference.py --threads 1 --batch 64 --samples 16 --steps 200
It prints one JSON line: {"ms_per_step": ..., ...}. Steps before --warmup are not timed.
"""
import argparse
import json
import math
import time

import torch

LOG_2PI = math.log(2.0 * math.pi)


def mlp(inp, hidden, out):
    layers, width = [], inp
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, out))
    return torch.nn.Sequential(*layers)


def diag_gaussian_log_density(x, mu, logvar):
    return -0.5 * (LOG_2PI + logvar + (x - mu).pow(2) * torch.exp(-logvar)).sum(-1)


class Vae(torch.nn.Module):
    def __init__(self, data_dim, latent, hidden, sigma):
        super().__init__()
        self.encoder = mlp(data_dim, hidden, 2 * latent)
        self.decoder = mlp(latent, list(reversed(hidden)), data_dim)
        self.logvar_x = 2.0 * math.log(sigma)

    def encode(self, x):
        mu, logvar = self.encoder(x).chunk(2, -1)
        return mu, torch.nn.functional.hardtanh(logvar, -10.0, 10.0)

    def log_likelihood(self, x, z):
        mean = torch.sigmoid(self.decoder(z))
        logvar = torch.full((1,), self.logvar_x)
        return diag_gaussian_log_density(x, mean, logvar), mean


class Vhp(torch.nn.Module):
    def __init__(self, latent, hidden, samples):
        super().__init__()
        self.q_zeta = mlp(latent, hidden, 2 * latent)
        self.p_z = mlp(latent, hidden, 2 * latent)
        self.samples = samples

    @staticmethod
    def split(h):
        mu, logvar = h.chunk(2, -1)
        return mu, logvar.clamp_min(-10.0)

    def log_prob(self, z):
        q_mu, q_logvar = self.split(self.q_zeta(z))  # [B, Dz]
        eps = torch.randn((self.samples,) + tuple(q_mu.shape))
        zeta = q_mu.unsqueeze(0) + torch.exp(0.5 * q_logvar).unsqueeze(0) * eps  # [K, B, Dz]
        p_mu, p_logvar = self.split(self.p_z(zeta))  # [K, B, D]
        log_w = (diag_gaussian_log_density(z, p_mu, p_logvar)
                 - 0.5 * (LOG_2PI + zeta.pow(2)).sum(-1)
                 - diag_gaussian_log_density(zeta, q_mu, q_logvar))
        return torch.logsumexp(log_w, 0) - math.log(self.samples)  # [B]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--samples", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--examples", type=int, default=13500)  # the pendulum's train split (15,000, 10 % test)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    data_dim, latent, hidden = 256, 2, [256] * 4
    data = torch.rand(a.examples, data_dim)  # timing only: the values do not change the work
    vae, prior = Vae(data_dim, latent, hidden, 0.5), Vhp(latent, hidden, a.samples)
    opt_net = torch.optim.Adam(vae.parameters(), lr=1e-4)
    opt_prior = torch.optim.Adam(prior.parameters(), lr=1e-4)
    beta, per_epoch = 1.0, a.examples // a.batch
    perm = None
    start = None
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            start = time.perf_counter()
        torch.manual_seed(1000003 * step)
        if step % per_epoch == 0:
            perm = torch.randperm(a.examples)
        within = step % per_epoch
        x = data.index_select(0, perm[within * a.batch:(within + 1) * a.batch])
        opt_net.zero_grad()
        opt_prior.zero_grad()
        mu, logvar = vae.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        log_px, mean = vae.log_likelihood(x, z)
        rate = diag_gaussian_log_density(z, mu, logvar) - prior.log_prob(z)
        distortion = -log_px
        loss = (distortion + beta * rate).mean()
        stats = torch.stack([loss.detach().double(), distortion.detach().mean().double(), rate.detach().mean().double(),
                             distortion.detach().mean().double() / data_dim,
                             (x - mean.detach()).pow(2).sum(1).mean().double() / data_dim]).tolist()
        if not math.isfinite(stats[0]):
            raise SystemExit(f"non-finite loss at step {step}")
        loss.backward()
        opt_net.step()
        opt_prior.step()
    seconds = time.perf_counter() - start
    print(json.dumps({"ms_per_step": 1e3 * seconds / a.steps, "steps": a.steps, "threads": a.threads,
                      "batch": a.batch, "samples": a.samples, "torch": torch.__version__,
                      "parameters": sum(p.numel() for p in list(vae.parameters()) + list(prior.parameters()))}))


if __name__ == "__main__":
    main()
