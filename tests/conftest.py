import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DLCHECK_PROFILE", "smoke")


@pytest.fixture(scope="module")
def real_data(tmp_path_factory):
    """A smoke run context whose data folder holds tiny OCTMNIST and Intel files in their real formats
    (tests/realdata.py): claimed numbers on those datasets are decided, not undecided as on a substitute."""
    from problems.context import RunContext
    from tests.realdata import write_npz_sets

    return RunContext(profile="smoke", cache_dir=str(tmp_path_factory.mktemp("real-cache")),
                      data_dir=str(write_npz_sets(tmp_path_factory.mktemp("data"))))
