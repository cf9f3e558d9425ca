"""Helpers for tests that work on the real lesson notebooks."""
import re
from pathlib import Path

import nbformat

from autograder.grading.notebook import is_hidden_check, nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]
LESSON_IDS = sorted(p.name for p in (ROOT / "source").glob("*") if p.is_dir())


def source_path(lesson_id):
    return ROOT / "source" / lesson_id / f"{lesson_id}.ipynb"


def release_path(lesson_id):
    return ROOT / "release" / lesson_id / f"{lesson_id}.ipynb"


SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*\n?", re.S | re.M)


def strip_markers(source):
    """A solution cell as a student who solved it would have it: markers removed."""
    return re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", "", source, flags=re.M)


def solved_release(lesson_id):
    """The release notebook with every answer cell filled in from the source solution."""
    source = nbformat.read(str(source_path(lesson_id)), as_version=4)
    answers = {nbgrader_meta(c).get("grade_id"): strip_markers(c.source) for c in source.cells
               if nbgrader_meta(c).get("solution")}
    release = nbformat.read(str(release_path(lesson_id)), as_version=4)
    for cell in release.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if nbgrader_meta(cell).get("solution") and grade_id in answers:
            cell.source = answers[grade_id]
    return release


def code_cells_for_grading(notebook):
    """Sources of the code cells the grader would run (not hidden checks, not skip-grading)."""
    return [c.source for c in notebook.cells if c.cell_type == "code" and not is_hidden_check(c)
            and "skip-grading" not in c.metadata.get("tags", [])]
