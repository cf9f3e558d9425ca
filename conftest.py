"""Test-session setup for the whole repository (tests/ and the notebooks run by nbval).

pytest-xdist spreads tests over the cores; the cells of one notebook must stay
together on one worker (they share a kernel), so each notebook becomes an
xdist group and the run uses `--dist loadgroup`.
"""
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # figures render to files, no display needed


def pytest_collection_modifyitems(items):
    for item in items:
        if item.nodeid.split("::")[0].endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
