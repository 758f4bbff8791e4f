"""Priors, schedules and evaluators written in Python, through the C++ trainer."""
import glob
import json
import math
import os
import subprocess
import sys

import pytest
import torch

import priorlab
import helpers

HERE = os.path.dirname(os.path.abspath(__file__))


def test_python_prior_log_prob_and_gradient_equal_a_hand_computation(registered):
    prior = priorlab.make_prior("py_mog", {"components": 2}, latent_dim=2, dtype="float64")
    p = dict(prior.named_parameters())
    with torch.no_grad():
        p["means"].copy_(torch.tensor([[0.5, -1.0], [2.0, 0.0]]))
        p["logvars"].copy_(torch.tensor([[0.0, 0.4], [-0.3, 0.2]]))
        p["logits"].copy_(torch.tensor([0.1, -0.2]))
    z = torch.tensor([[0.3, -0.7], [1.5, 0.2], [-1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    lp = prior.log_prob(z)  # the C++ adapter calls the Python class; the graph comes back
    lp.sum().backward()

    means, logvars, logits = (p[k].detach() for k in ("means", "logvars", "logits"))
    w = [math.exp(l) / sum(math.exp(v) for v in logits.tolist()) for l in logits.tolist()]
    for i, zi in enumerate(z.detach().tolist()):
        dens = []
        for k in range(2):
            d = 1.0
            for j in range(2):
                var = math.exp(logvars[k, j])
                d *= math.exp(-(zi[j] - means[k, j]) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)
            dens.append(w[k] * d)
        total = sum(dens)
        assert lp[i].item() == pytest.approx(math.log(total), rel=1e-12)
        # d log p / d z_j = sum_k r_k * -(z_j - m_kj) / var_kj, r_k the responsibilities.
        for j in range(2):
            g = sum(dens[k] / total * -(zi[j] - means[k, j].item()) / math.exp(logvars[k, j]) for k in range(2))
            assert z.grad[i, j].item() == pytest.approx(g, rel=1e-10, abs=1e-12)
    # d sum_i log p(z_i) / d m_kj = sum_i r_ik (z_ij - m_kj) / var_kj
    for k in range(2):
        for j in range(2):
            g = 0.0
            for zi in z.detach().tolist():
                dens = [w[c] * math.prod(math.exp(-(zi[d] - means[c, d]) ** 2 / (2 * math.exp(logvars[c, d]))) /
                                         math.sqrt(2 * math.pi * math.exp(logvars[c, d])) for d in range(2))
                        for c in range(2)]
                g += dens[k] / sum(dens) * (zi[j] - means[k, j].item()) / math.exp(logvars[k, j])
            assert p["means"].grad[k, j].item() == pytest.approx(g, rel=1e-10, abs=1e-12)


def test_python_mog_equals_the_compiled_mog_with_the_same_parameters(registered):
    py = priorlab.make_prior("py_mog", {"components": 4}, latent_dim=3, dtype="float64")
    compiled = priorlab.make_prior("mog", {"components": 4}, latent_dim=3, dtype="float64")
    a, b = dict(py.named_parameters()), dict(compiled.named_parameters())
    assert set(a) == set(b) == {"means", "logvars", "logits"}
    with torch.no_grad():
        for k in a:
            b[k].copy_(a[k] + 0.1 * torch.randn_like(a[k]))
            a[k].copy_(b[k])
    z = torch.randn(50, 3, dtype=torch.float64)
    assert torch.allclose(py.log_prob(z), compiled.log_prob(z), rtol=1e-12, atol=1e-12)


def run_child(code, env_extra=None):
    env = dict(os.environ, **(env_extra or {}))
    env["PYTHONPATH"] = os.pathsep.join([HERE, os.path.dirname(os.path.dirname(priorlab.__file__))])
    return subprocess.run([sys.executable, "-c", "import helpers, priorlab\nhelpers.register_all()\n" + code],
                          capture_output=True, text=True, env=env, timeout=600)


def read_lines(path):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for r in rows:  # wall-clock fields differ between any two runs
        for k in [k for k in r if "time" in k or "second" in k or k.endswith("_s") or k == "wall"]:
            del r[k]
    return rows


def test_a_run_with_python_plugins_resumes_bit_identically_after_sigkill(tmp_path):
    cfg = helpers.tiny_pendulum("r", iterations=300, prior="py_mog", scheduler="py_warmup")
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    code = f"priorlab.run({cfg!r}, out={str(whole)!r})"
    done = run_child(code)
    assert done.returncode == 0, done.stderr
    killed = run_child(code.replace(str(whole), str(cut)), {"PRIORLAB_TEST_KILL_AT": "150"})
    assert killed.returncode == -9, killed.stderr  # SIGKILL, from inside the prior, mid-run
    assert json.load(open(cut / "r" / "run.json"))["status"] == "running"
    resumed = run_child(f"priorlab.resume({str(cut / 'r')!r})")
    assert resumed.returncode == 0, resumed.stderr
    assert "from step 100" in resumed.stdout or "step 100" in resumed.stdout

    a = torch.jit.load(str(whole / "r" / "checkpoints" / "step_00000300.pt"))
    b = torch.jit.load(str(cut / "r" / "checkpoints" / "step_00000300.pt"))
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    assert set(pa) == set(pb) and {"prior.means", "prior.logvars", "prior.logits"} <= set(pa)
    for k in pa:
        assert torch.equal(pa[k], pb[k]), k
    assert read_lines(whole / "r" / "metrics.jsonl") == read_lines(cut / "r" / "metrics.jsonl")


def test_an_exception_in_a_python_plugin_fails_the_run_with_its_place(tmp_path, registered):
    cfg = helpers.tiny_pendulum("bad", prior="py_mog", prior_options={"raise_at_step": 60})
    with pytest.raises(priorlab.RunFailed) as caught:
        priorlab.run(cfg, out=str(tmp_path))
    message = str(caught.value)
    assert "python plugin 'py_mog' (" + os.path.join(HERE, "helpers.py") + ":" in message
    assert "ValueError: boom at step 60" in message
    status = json.load(open(tmp_path / "bad" / "run.json"))
    assert status["status"] == "failed" and "boom at step 60" in status["error"]
    left = [p for p in glob.glob(str(tmp_path / "**" / "*"), recursive=True) if ".tmp" in p or "staging" in p]
    assert left == []
    assert sorted(os.listdir(tmp_path)) == ["bad"]


def test_python_and_compiled_priors_in_one_comparison(tmp_path, registered):
    for name, prior in (("prior=py_mog", "py_mog"), ("prior=mog", "mog")):
        cfg = helpers.tiny_pendulum(name, iterations=100, prior=prior, prior_options={"components": 3})
        priorlab.run(cfg, out=str(tmp_path))
    table = priorlab.compare(str(tmp_path), metrics=["mae_rad"])
    labels = list(table.iloc[:, 0]) if hasattr(table, "iloc") else [r[next(iter(r))] for r in table]
    assert any("py_mog" in str(l) for l in labels) and any(str(l).endswith("mog") and "py" not in str(l) for l in labels)
    assert os.path.isfile(tmp_path / "comparison.md")
