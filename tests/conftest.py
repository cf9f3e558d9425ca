"""Shared fixtures: the toy lesson, notebook builders, and the sandbox requirement."""
import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.grading import lessons, sandbox

ROOT = Path(__file__).resolve().parents[1]
HAVE_BWRAP = sandbox.bwrap_works()

requires_bwrap = pytest.mark.skipif(
    not HAVE_BWRAP, reason="bubblewrap (Debian package 'bubblewrap') is not installed or cannot "
                           "create namespaces here; the sandbox's isolation cannot be tested")


@pytest.fixture
def toy_lesson(monkeypatch):
    """Register tests/toy_suite.py as lesson 'toy' for the duration of a test."""
    monkeypatch.setitem(lessons.SUITES, "toy", "toy_suite")
    return lessons.get_lesson("toy")


def make_notebook(path, *sources, lesson="toy", hidden=()):
    """Write a notebook of code cells (plus hidden-check cells for the names in `hidden`)."""
    notebook = nbformat.v4.new_notebook(metadata={"autograder": {"lesson": lesson}})
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    for name in hidden:
        cell = nbformat.v4.new_code_cell(f'check("{name}", globals())')
        cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                     "grade_id": name, "points": 4, "schema_version": 3}
        notebook.cells.append(cell)
    nbformat.write(notebook, str(path))
    return path


CORRECT_TOY = """
import numpy as np
def scale(x, factor=2.0):
    return x * factor
def pair_sum(a, b):
    return a + b, a - b
"""


def venv_env():
    """The environment for nbgrader subprocesses: this interpreter's bin/ first (alembic)."""
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def copy_course(destination):
    """A throwaway copy of the course (what nbgrader needs) to run nbgrader in."""
    for name in ("source", "release", "nbgrader_config.py", "autograder"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, destination / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.exists():
            shutil.copy(src, destination / name)
    return destination
