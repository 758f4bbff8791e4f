import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import helpers  # noqa: E402
import torch  # noqa: E402

THREADS_AT_START = torch.get_num_threads()  # before any run (whose training.threads is 1)


@pytest.fixture(scope="session")
def registered():
    helpers.register_all()


@pytest.fixture(scope="session")
def vhp_run(tmp_path_factory):
    """A compiled-plugin run (VHP + REWO, 200 steps), trained once for the session."""
    import priorlab
    out = tmp_path_factory.mktemp("runs")
    return priorlab.run(helpers.tiny_pendulum("vhp"), out=str(out))
