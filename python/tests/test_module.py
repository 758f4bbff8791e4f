"""The command line's operations from Python: the same code paths, the same answers."""
import json
import os
import subprocess

import pytest

import priorlab
import helpers

EXE = priorlab._search_dirs()[1]
VHP = os.path.join(helpers.ROOT, "configs", "pendulum", "vhp_rewo.json")


def cli(*args):
    return subprocess.run([EXE, *args], capture_output=True, text=True)


def test_plugins_are_the_ones_the_command_line_lists():
    listed = cli("plugins", "--brief")
    assert listed.returncode == 0, listed.stderr
    compiled = {p["name"] for p in priorlab.plugins() if not p["library"].startswith("python:")}
    assert compiled == {n for n in compiled if n in listed.stdout}
    assert len(compiled) >= 30
    vhp = next(p for p in priorlab.plugins("prior") if p["name"] == "vhp")
    assert any(o["name"] == "samples" and o["default"] == 16 for o in vhp["options"])
    assert "vhp" in priorlab.describe("vhp")


def test_validate_resolves_as_the_command_line_does():
    out = cli("validate", VHP)
    assert out.returncode == 0, out.stderr
    assert priorlab.validate(VHP) == json.loads(out.stdout)
    # A dict extending the file, with an override, resolves to the same pipeline with that value.
    resolved = priorlab.validate({"extends": VHP}, set=["seed=3"])
    expected = json.loads(out.stdout)
    expected["seed"] = 3
    assert resolved == expected


def test_bad_input_is_a_located_error_with_the_command_lines_words():
    with pytest.raises(priorlab.Error) as caught:
        priorlab.validate(VHP, set=["prior.options.samples=0"])
    e = caught.value
    assert e.where.endswith("/prior/options/samples")
    assert "--set prior.options.samples=0" in e.where
    out = cli("validate", VHP, "--set", "prior.options.samples=0")
    assert out.returncode == 2
    assert f"{e.where}: {e.message}" in out.stderr


def test_a_run_that_cannot_start_writes_nothing(tmp_path):
    cfg = helpers.tiny_pendulum("nope", prior="no_such_prior")
    with pytest.raises(priorlab.Error) as caught:
        priorlab.run(cfg, out=str(tmp_path))
    assert "unknown prior 'no_such_prior'" in caught.value.message
    assert os.listdir(tmp_path) == []


def test_refuses_a_torch_with_another_libtorch(tmp_path):
    """A torch package whose lib/libtorch.so is another file: the import stops before the
    module (and a second LibTorch) is loaded."""
    fake = tmp_path / "torch"
    (fake / "lib").mkdir(parents=True)
    (fake / "__init__.py").write_text("__version__ = '2.9.0'\n")
    (fake / "lib" / "libtorch.so").write_text("not a library\n")
    pkg = os.path.dirname(os.path.dirname(priorlab.__file__))
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}:{pkg}")
    out = subprocess.run(["/usr/bin/python3", "-c", "import priorlab"], capture_output=True, text=True, env=env)
    assert out.returncode != 0
    assert "ImportError: priorlab was built against LibTorch" in out.stderr
    assert "2.9.0" in out.stderr and str(fake / "lib" / "libtorch.so") in out.stderr


def test_progress_false_keeps_standard_output_quiet(tmp_path, capfd):
    run = priorlab.run(helpers.tiny_pendulum("quiet", iterations=50), out=str(tmp_path), progress=False)
    out, _ = capfd.readouterr()
    assert out == ""
    assert json.load(open(os.path.join(run, "run.json")))["status"] == "completed"
    priorlab.run(helpers.tiny_pendulum("loud", iterations=50), out=str(tmp_path))
    out, _ = capfd.readouterr()
    assert "run loud completed: 50 steps" in out
