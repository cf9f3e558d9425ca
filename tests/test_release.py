"""release/ is exactly what nbgrader generates from source/ (so nobody edits it by hand)."""
import filecmp
import subprocess
import sys

import nbformat
import pytest

from conftest import copy_course, venv_env
from lesson_tools import LESSON_IDS, ROOT

pytestmark = pytest.mark.skipif(not LESSON_IDS, reason="no lessons in source/ yet")


def comparable(path):
    """A notebook's cells without nbgrader's checksums (they are recomputed on every run)."""
    notebook = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in notebook.cells:
        meta = {k: v for k, v in cell.metadata.get("nbgrader", {}).items() if k != "checksum"}
        cells.append((cell.cell_type, cell.source, meta, cell.metadata.get("tags", [])))
    return cells, {k: v for k, v in notebook.metadata.items() if k != "widgets"}


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("course"))
    for lesson in LESSON_IDS:
        done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", lesson,
                               "--force", "--log-level=ERROR"], cwd=course, env=venv_env(),
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    return course / "release"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_release_equals_a_fresh_generation(fresh_release, lesson_id):
    committed, fresh = ROOT / "release" / lesson_id, fresh_release / lesson_id
    stale = "release/ is stale: run `python -m autograder release` and commit the result"
    names = {p.name for p in fresh.iterdir()}
    assert {p.name for p in committed.iterdir() if p.name != ".ipynb_checkpoints"} == names, stale
    for name in names:
        if name.endswith(".ipynb"):
            assert comparable(committed / name) == comparable(fresh / name), f"{stale} ({name})"
        else:
            assert filecmp.cmp(committed / name, fresh / name, shallow=False), f"{stale} ({name})"


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_release_holds_no_solutions_hidden_checks_or_outputs(lesson_id):
    for path in (ROOT / "release" / lesson_id).iterdir():
        text = path.read_text(errors="replace")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
        assert "from autograder" not in text and "import autograder" not in text, path
        if path.suffix == ".ipynb":
            for cell in nbformat.read(str(path), as_version=4).cells:
                assert not cell.get("outputs") and not cell.get("execution_count"), path
