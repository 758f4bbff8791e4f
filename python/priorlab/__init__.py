"""priorlab from Python: the command line's operations, trained models as torch tensors, and
priors, schedules and evaluators written in Python beside the compiled plugins.

    import priorlab
    priorlab.plugins()                                  # what `priorlab plugins` lists
    run = priorlab.run("configs/pendulum/vhp_rewo.json", out="runs",
                       set=["training.iterations=2000"])
    model = priorlab.load(run)                          # encode / decode / sample / log_prob ...
    mu, logvar = model.encode(model.data("test")[0])

Every function calls the same host code as its subcommand (docs/python.md). Bad input raises
priorlab.Error, which keeps where (file, JSON path, plugin) and what; a run whose training fails
raises priorlab.RunFailed after its run.json says "failed".
"""

import json as _json
import os as _os
import sys as _sys

import torch as _torch  # first: the LibTorch this module links is the one torch loads

from . import _build


class Error(Exception):
    """A located error: `where` (a file:line:column, a JSON path, a plugin) and `message`."""

    def __init__(self, where, message):
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class RunFailed(Error):
    """Training or an evaluation failed; `run_dir` holds run.json with status "failed"."""

    def __init__(self, run_dir, message):
        self.run_dir = run_dir
        super().__init__(run_dir, message)


def _check_torch(torch_module):
    """Refuses a torch whose LibTorch is not the one this module was built against: two
    LibTorch copies in one process corrupt each other's state (and crash)."""
    lib_dir = _os.path.join(_os.path.dirname(torch_module.__file__), "lib")
    found = _os.path.realpath(_os.path.join(lib_dir, "libtorch.so"))
    built = _os.path.realpath(_build.TORCH_LIBRARY)
    if found != built:
        raise ImportError(
            f"priorlab was built against LibTorch {_build.TORCH_VERSION} at {built}, but this Python's torch "
            f"{getattr(torch_module, '__version__', '?')} ({torch_module.__file__}) uses {found}. Use the Python "
            f"whose torch links that LibTorch (Debian's /usr/bin/python3 with python3-torch), or rebuild priorlab "
            f"against this torch's LibTorch (docs/python.md)")


_check_torch(_torch)

from . import _priorlab as _C  # noqa: E402  (after the check, which must run first)


def _search_dirs():
    """Plugin folders and the priorlab executable, relative to this package: build/python/priorlab
    in the build tree, <prefix>/lib/python3.N/dist-packages/priorlab when installed."""
    here = _os.path.dirname(_os.path.abspath(__file__))
    plugins, executable = [], ""
    for up in (("..", ".."), ("..", "..", "..", "..")):
        root = _os.path.normpath(_os.path.join(here, *up))
        for d in (_os.path.join(root, "lib", "priorlab", "plugins"),):
            if _os.path.isdir(d) and d not in plugins:
                plugins.append(d)
        exe = _os.path.join(root, "bin", "priorlab")
        if not executable and _os.access(exe, _os.X_OK):
            executable = exe
    return plugins, executable


_C.init(*_search_dirs())
__version__ = _C.version


# -- the command line's words ------------------------------------------------------------------

def plugins(kind=None):
    """Every plugin found (compiled and registered from Python): a list of dicts with name, kind,
    version, summary, library and options (each option's declaration)."""
    found = _json.loads(_C.plugins())
    return [p for p in found if kind is None or p["kind"] == kind]


def describe(name):
    """A plugin's options and a pipeline section using it, as `priorlab describe NAME` prints."""
    return _C.describe(name)


def _config_args(config):
    if isinstance(config, dict):
        return "", _json.dumps(config)
    return _os.fspath(config), ""


def validate(config, set=()):
    """Checks a pipeline (a path or a dict) and returns it resolved, every default filled in."""
    path, text = _config_args(config)
    return _json.loads(_C.validate(path, text, list(set)))


def _failed(run_dir, code):
    if code == 130:
        raise KeyboardInterrupt(f"{run_dir}: stopped; a checkpoint was written (priorlab.resume continues it)")
    status = {}
    try:
        with open(_os.path.join(run_dir, "run.json")) as f:
            status = _json.load(f)
    except (OSError, ValueError):
        pass
    raise RunFailed(run_dir, status.get("error", "failed (see the output above)"))


def run(config, out="runs", set=(), name=None, force=False, progress=True):
    """Trains a pipeline (a path or a dict) into out/<name>, then runs its evaluators; returns the
    run folder. Progress is printed as by `priorlab run` (progress=False: nothing on standard
    output; errors still on standard error); Ctrl-C writes a checkpoint and raises
    KeyboardInterrupt."""
    path, text = _config_args(config)
    code, run_dir = _C.run(path, text, list(set), _os.fspath(out), name or "", bool(force), bool(progress))
    if code != 0:
        _failed(run_dir, code)
    return run_dir


def resume(run_dir, set=(), progress=True):
    """Continues a stopped run from its newest checkpoint (then evaluates); returns the folder."""
    run_dir = _os.fspath(run_dir)
    code = _C.resume(run_dir, list(set), bool(progress))
    if code != 0:
        _failed(run_dir, code)
    return run_dir


def evaluate(run_dir, evaluators=(), checkpoint=None, jobs=1, threads=0, progress=True):
    """Runs evaluators (sections as dicts or JSON text; default: the run's own) on a checkpoint
    of a run, or of every run under a folder, and merges their metrics into summary.json."""
    sections = [e if isinstance(e, str) else _json.dumps(e) for e in evaluators]
    run_dir = _os.fspath(run_dir)
    code = _C.evaluate(run_dir, sections, -1 if checkpoint is None else int(checkpoint), int(jobs), int(threads),
                       bool(progress))
    if code != 0:
        _failed(run_dir, code)
    return summary(run_dir) if _os.path.isfile(_os.path.join(run_dir, "summary.json")) else None


def sweep(path, out="", jobs=1, set=(), only=(), seeds="", metrics=(), force=False, dry_run=False, progress=True):
    """Runs a sweep file as `priorlab sweep` does, with the same skip / resume / run-again rules,
    and returns the exit code (0 all completed, 1 one failed, 130 stopped). With jobs > 1 each
    run is a priorlab process, which knows the compiled plugins only. With jobs=1 and plugins
    registered from Python, the runs go one after another in this process (as `sweep --run NAME`
    runs one), so a sweep may compare a Python prior with compiled ones; the comparison table is
    then written at the end (no status.json: that is the parallel runner's)."""
    path, out = _os.fspath(path), _os.fspath(out)
    python_plugins = any(p["library"].startswith("python:") for p in plugins())
    if int(jobs) > 1 or not python_plugins or dry_run:
        return _C.sweep(path, out, int(jobs), list(set), list(only), str(seeds), list(metrics), bool(force),
                        bool(dry_run), "", False, bool(progress))
    names, folder = _C.sweep_plan(path, list(only), str(seeds))
    out = out or folder
    worst = 0
    for i, name in enumerate(names):
        if progress:
            print(f"sweep [{i + 1}/{len(names)}] {name} (in this process)", flush=True)
        code = _C.sweep(path, out, 1, list(set), list(only), str(seeds), list(metrics), bool(force), False, name, True,
                        bool(progress))
        if code == 130:
            return code
        worst = max(worst, code)
    compare(out, metrics)
    return worst


def compare(folder, metrics=(), paired=None):
    """Tabulates the runs under a folder (comparison.md, .csv and pictures, as `priorlab compare`)
    and returns the table: a pandas DataFrame where pandas is installed, else a list of dicts."""
    csv_path = _C.compare(_os.fspath(folder), list(metrics), paired or "")
    return _read_csv(csv_path)


def _read_csv(path):
    try:
        import pandas
        return pandas.read_csv(path)
    except ImportError:
        import csv
        with open(path, newline="") as f:
            return list(csv.DictReader(f))


# -- trained models ------------------------------------------------------------------------------

def summary(run_dir):
    with open(_os.path.join(_os.fspath(run_dir), "summary.json")) as f:
        return _json.load(f)


class Model:
    """A trained model (priorlab.load). Tensors go in and come out on the run's device and dtype:
        encode(x) -> (mu, logvar)       q(z|x)
        decode(z) -> the decoder mean   decode_params(z): the likelihood's parameters
        sample(n) -> decode(z), z ~ p(z)   sample_latent(n): the z themselves
        log_prob(z)                     log p(z) under the prior (VHP: its K-sample bound)
        log_likelihood(x, z)            log p(x|z), nats per example
        elbo(x)                         the ELBO per example (one sample of z)
        data(split, limit=None)         (x, labels) of "train", "validation" or "test"
    and config, metrics (a DataFrame where pandas is installed), summary, step."""

    def __init__(self, native, run_dir):
        self._native = native
        self.run_dir = run_dir

    def __getattr__(self, name):
        return getattr(self._native, name)

    def data(self, split="test", limit=None):
        return self._native.data(split, -1 if limit is None else int(limit))

    @property
    def config(self):
        with open(_os.path.join(self.run_dir, "config.json")) as f:
            return _json.load(f)

    @property
    def summary(self):
        return summary(self.run_dir)

    @property
    def metrics(self):
        rows = []
        with open(_os.path.join(self.run_dir, "metrics.jsonl")) as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(_json.loads(line))
        try:
            import pandas
            return pandas.DataFrame(rows)
        except ImportError:
            return rows


def load(run_dir, checkpoint=None):
    """The model of a run folder at its newest checkpoint (or at step `checkpoint`)."""
    run_dir = _os.fspath(run_dir)
    return Model(_C.load(run_dir, checkpoint), run_dir)


def make_prior(name, options=None, latent_dim=2, dtype="float32", seed=0):
    """The prior `name` (compiled or registered from Python) built on its own with these options:
    log_prob(z) keeps its graph (log_prob(z).sum().backward() reaches named_parameters()),
    sample(n) draws z. What a pipeline's "/prior" section builds, without network or data."""
    return _C.make_prior(name, _json.dumps(options or {}), int(latent_dim), dtype, int(seed))


# -- plugins written in Python ---------------------------------------------------------------

def option(name, default, *, min=None, max=None, greater_than=None, less_than=None, choices=None, help=""):
    """One option of a Python plugin, declared as compiled plugins declare theirs; the type
    follows the default (bool, int, float, str, or a list of one of the last three)."""
    if isinstance(default, bool):
        kind = "boolean"
    elif isinstance(default, int):
        kind = "integer"
    elif isinstance(default, float):
        kind = "number"
    elif isinstance(default, str):
        kind = "string"
    elif isinstance(default, (list, tuple)):
        items = list(default)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
            kind = "list of integers"
        elif all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
            kind = "list of numbers"
        elif all(isinstance(v, str) for v in items):
            kind = "list of strings"
        else:
            raise TypeError(f"option {name!r}: a list default holds integers, numbers or strings")
        default = items
    else:
        raise TypeError(f"option {name!r}: the default {default!r} is not a bool, int, float, str or list")
    spec = {"name": name, "type": kind, "default": default, "help": help}
    if min is not None:
        spec["min"] = float(min)
    if max is not None:
        spec["max"] = float(max)
    if greater_than is not None:
        spec["min"], spec["min_exclusive"] = float(greater_than), True
    if less_than is not None:
        spec["max"], spec["max_exclusive"] = float(less_than), True
    if choices is not None:
        spec["choices"] = list(choices)
    return spec


class Context:
    """What a Python plugin's constructor is given: name, path (its JSON path), options (a dict,
    validated, defaults filled), device, dtype, seed, latent_dim, steps_per_epoch, total_steps and
    data (shape, label_name, binary)."""

    def __init__(self, info):
        self.__dict__.update(info)
        self.device = _torch.device(info["device"])
        self.dtype = _torch.float64 if info["dtype"] == "float64" else _torch.float32

    def tensor_options(self):
        return {"device": self.device, "dtype": self.dtype}


def _build_context(text):
    return Context(_json.loads(text))


class EvalContext:
    """What a Python evaluator's evaluate() is given: model (a Model view, valid during the call),
    run_dir, artefact_dir ("" on ranks that write no pictures), seed, rank, world."""

    def __init__(self, model, run_dir, artefact_dir, seed, rank, world):
        self.model = Model(model, run_dir)
        self.run_dir, self.artefact_dir, self.seed, self.rank, self.world = run_dir, artefact_dir, seed, rank, world

    def artefact_path(self, name):
        return _os.path.join(self.artefact_dir, name) if self.artefact_dir else ""


def _eval_context(model, run_dir, artefact_dir, seed, rank, world):
    return EvalContext(model, run_dir, artefact_dir, seed, rank, world)


class Prior(_torch.nn.Module):
    """Base of a prior written in Python. Implement log_prob(z) [..., D] -> [...] and
    sample(n) -> [n, D]; optional: log_prob_per_dimension(z), begin_step(step, epoch, indices),
    upper_posterior(z) -> (mu, logvar), bound_samples() / set_bound_samples(k). Keep all state in
    parameters and buffers: they are what checkpoints save and resumes restore."""

    kind = "prior"
    options = []
    version = "0.1.0"
    summary = ""

    def __init__(self, ctx):
        super().__init__()
        self.ctx = ctx


class Scheduler:
    """Base of a beta schedule written in Python. Implement beta() and update(step) (a dict: step,
    epoch, nll_per_dim, squared_error_per_dim, rate). Defaults: the prior always trains, phase
    "python", no metrics, no constraint; state() / load_state() return and take the JSON-able
    state a checkpoint keeps (default: none)."""

    kind = "scheduler"
    options = []
    version = "0.1.0"
    summary = ""

    def __init__(self, ctx):
        self.ctx = ctx

    def train_prior(self):
        return True

    def phase(self):
        return "python"

    def metrics(self):
        return {}

    def check_baseline(self, baseline):
        return None

    def state(self):
        return None

    def load_state(self, state):
        pass


class Evaluator:
    """Base of an evaluator written in Python. Implement evaluate(ctx) (an EvalContext) returning
    a dict of metrics, or (metrics, artefacts): the files written, relative to ctx.artefact_dir."""

    kind = "evaluator"
    options = []
    version = "0.1.0"
    summary = ""

    def __init__(self, ctx):
        self.ctx = ctx


def register(name, cls):
    """Makes the Python class `cls` (deriving from priorlab.Prior, Scheduler or Evaluator) the
    plugin `name` of this process: pipelines run with priorlab.run may then name it, with the
    options it declares (cls.options, a list of priorlab.option) validated like a compiled one's."""
    kinds = [base.kind for base in (Prior, Scheduler, Evaluator) if isinstance(cls, type) and issubclass(cls, base)]
    if not kinds:
        raise TypeError(f"{cls!r} does not derive from priorlab.Prior, priorlab.Scheduler or priorlab.Evaluator")
    origin = f"python: {cls.__module__}.{cls.__qualname__}"
    try:
        origin += f" ({_sys.modules[cls.__module__].__file__})"
    except (KeyError, AttributeError):
        pass
    _C.register_plugin(kinds[0], name, cls, _json.dumps(list(cls.options)), str(cls.version),
                       str(cls.summary or (cls.__doc__ or "").strip().split("\n")[0]), origin)
