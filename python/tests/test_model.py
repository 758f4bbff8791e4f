"""priorlab.load: a run's model on torch tensors, checked against a second computation."""
import glob
import math
import os

import pytest
import torch
import torch.nn.functional as F

import helpers
import priorlab


def forward_mlp(params, prefix, h):
    """The mlp plugin's Sequential (Linear, ReLU, ..., Linear) from the checkpoint's tensors."""
    layers = sorted({int(k.split(".")[2]) for k in params if k.startswith(prefix)})
    for i, n in enumerate(layers):
        h = F.linear(h, params[f"{prefix}{n}.weight"], params[f"{prefix}{n}.bias"])
        if i + 1 < len(layers):
            h = F.relu(h)
    return h


def test_encode_and_decode_equal_a_forward_pass_from_the_checkpoint_to_the_bit(vhp_run):
    model = priorlab.load(vhp_run)
    newest = sorted(glob.glob(os.path.join(vhp_run, "checkpoints", "step_*.pt")))[-1]
    params = {k: v for k, v in torch.jit.load(newest).named_parameters()}  # read by torch's own reader
    x, _ = model.data("test", limit=40)
    mu, logvar = model.encode(x)
    h = forward_mlp(params, "network.encoder.", x.flatten(1))
    mu_ref, logvar_ref = h.chunk(2, -1)
    assert torch.equal(mu, mu_ref)
    assert torch.equal(logvar, F.hardtanh(logvar_ref, -10.0, 10.0))
    assert torch.equal(model.decode(mu), forward_mlp(params, "network.decoder.", mu).reshape(40, 1, 16, 16))
    assert model.step == 200


def test_a_python_evaluator_sees_the_same_codes_as_load(vhp_run, registered):
    summary = priorlab.evaluate(vhp_run, evaluators=[{"plugin": "mean_code", "options": {"limit": 30}}])
    x, _ = priorlab.load(vhp_run).data("test", limit=30)
    mu, _ = priorlab.load(vhp_run).encode(x)
    for j in range(mu.shape[1]):
        assert summary["evaluators"]["mean_code"][f"mu_{j}"] == float(mu[:, j].double().mean())
    assert "pendulum_angle" in summary["evaluators"]  # the run's own evaluator results stay


def test_log_likelihood_is_the_gaussian_closed_form(vhp_run):
    model = priorlab.load(vhp_run)
    x, _ = model.data("test", limit=8)
    z = torch.randn(8, 2)
    sigma = model.config["network"]["options"]["decoder_sigma"]
    mean = model.decode(z).double()
    by_hand = (-0.5 * math.log(2 * math.pi * sigma ** 2) - (x.double() - mean) ** 2 / (2 * sigma ** 2)).flatten(1).sum(1)
    assert torch.allclose(model.log_likelihood(x, z).double(), by_hand, rtol=1e-5, atol=1e-3)


def test_sample_log_prob_elbo_and_the_run_files(vhp_run):
    model = priorlab.load(vhp_run)
    assert model.sample(5).shape == (5, 1, 16, 16)
    z = model.sample_latent(7)
    assert model.log_prob(z).shape == (7,)
    x, labels = model.data("test", limit=6)
    elbo = model.elbo(x)
    assert elbo.shape == (6,) and bool(torch.isfinite(elbo).all())
    assert labels.shape[0] == 6
    metrics = model.metrics
    assert list(metrics["step"])[-1] == 200
    assert "pendulum_angle" in model.summary["evaluators"]
    assert model.config["name"] == "vhp"
    early = priorlab.load(vhp_run, checkpoint=100)
    assert early.step == 100
    assert not torch.equal(early.encode(x)[0], model.encode(x)[0])
    # A step without a checkpoint is refused, naming the steps there are (the message that
    # `priorlab evaluate --checkpoint` gives, from the same lookup).
    with pytest.raises(priorlab.Error) as refused:
        priorlab.load(vhp_run, checkpoint=7)
    assert refused.value.where == "checkpoint=7"
    assert "has no checkpoint at that step (it has: 100, 200)" in refused.value.message


def test_the_callers_floating_point_mode_and_threads_are_kept(vhp_run):
    """A run flushes subnormals to zero on the thread that trains (training.flush_denormal) and
    sets LibTorch's thread count (training.threads = 1 here): the interpreter must get its own
    back, or Python's, numpy's and torch's arithmetic would change after a run or a load."""
    import conftest
    tiny = float("1e-300")
    priorlab.validate(os.path.join(helpers.ROOT, "configs", "pendulum", "vhp_rewo.json"))
    model = priorlab.load(vhp_run)
    model.encode(model.data("test", limit=4)[0])
    assert tiny * 1e-10 != 0.0  # 1e-310, a subnormal: 0 under flush-to-zero
    assert torch.tensor([tiny], dtype=torch.float64).mul(1e-10).item() != 0.0
    assert torch.get_num_threads() == conftest.THREADS_AT_START
