"""Reading a submitted notebook: is it one, which lesson is it, which cells run.

Nothing here executes student code; a file that is not a usable notebook
raises `NotANotebook` with a one-line reason.
"""
import json
import re
import warnings
from pathlib import Path

import nbformat

from .lessons import available_lessons, get_lesson

MAX_NOTEBOOK_BYTES = 100 * 2**20
SKIP_TAG = "skip-grading"


class NotANotebook(Exception):
    """The file cannot be graded; str() is a one-line reason for the student."""


def read_notebook(path):
    """Read `path` as an nbformat-4 notebook or raise NotANotebook saying why not."""
    path = Path(path)
    size = path.stat().st_size
    if size == 0:
        raise NotANotebook(f"{path.name} is empty (0 bytes)")
    if size > MAX_NOTEBOOK_BYTES:
        raise NotANotebook(f"{path.name} is {size / 2**20:.0f} MB, more than the "
                           f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may have")
    try:
        raw = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise NotANotebook(f"{path.name} is not valid JSON ({error})") from None
    except RecursionError:  # [[[[...]]]] nested deeper than the parser goes
        raise NotANotebook(f"{path.name} is not a notebook (JSON nested too deeply)") from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise NotANotebook(f"{path.name} is JSON but not a Jupyter notebook (no cells)")
    if raw.get("nbformat") not in (3, 4):
        raise NotANotebook(f"{path.name} has nbformat {raw.get('nbformat')!r}; "
                           "notebooks of format 3 and 4 can be graded")
    try:
        # Format 3 is upgraded. Missing or repeated cell ids only make nbformat warn
        # on stderr; the grader does not use ids, so the warning would be noise.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # noqa: BLE001 - nbformat raises many kinds
        raise NotANotebook(f"{path.name} could not be read as a notebook ({error})") from None
    for index, cell in enumerate(notebook.cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotANotebook(f"{path.name}: cell {index} is not a notebook cell (no cell_type)")
        if not isinstance(cell.get("source", ""), str):
            raise NotANotebook(f"{path.name} has a cell whose source is not text")
    return notebook


def metadata_of(node):
    """The metadata of a cell or notebook, or {} when a hand-edited file holds something else."""
    meta = node.get("metadata", {})
    return meta if isinstance(meta, dict) else {}


def nbgrader_meta(cell):
    meta = metadata_of(cell).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_hidden_check(cell):
    """An nbgrader test cell worth points: never run in the student's process.

    Visible tests are test cells worth 0 points (so nbgrader's Validate button
    reports them to the student); they run with the student's other cells.
    """
    meta = nbgrader_meta(cell)
    try:
        points = float(meta.get("points", 0) or 0)
    except (TypeError, ValueError):
        points = 1.0  # unreadable points: treat it as a hidden check, never run it
    return bool(meta.get("grade")) and not meta.get("solution") and points > 0


def cells_to_run(notebook):
    """(index, source) of the code cells the grader executes, in notebook order."""
    chosen = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or is_hidden_check(cell):
            continue
        tags = metadata_of(cell).get("tags", [])
        if isinstance(tags, list) and SKIP_TAG in tags:
            continue
        chosen.append((index, cell.source))
    return chosen


def recognise_lesson(notebook, hint=None):
    """The Lesson this notebook belongs to.

    Order of evidence: an explicit `hint` (the nbgrader assignment name), the
    notebook's metadata, then which lesson's exercise names the notebook
    defines or uses as grade ids. Raises NotANotebook when nothing matches.
    """
    if hint:
        try:
            return get_lesson(hint)
        except KeyError:
            pass
    declared = metadata_of(notebook).get("autograder", {})
    if isinstance(declared, dict) and declared.get("lesson"):
        try:
            return get_lesson(str(declared["lesson"]))
        except KeyError:
            pass
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    grade_ids = {str(nbgrader_meta(cell).get("grade_id", "")) for cell in notebook.cells}
    best, best_hits = None, 0
    for lesson in available_lessons():
        hits = sum(1 for e in lesson.exercises
                   if e.name in grade_ids or re.search(rf"\bdef\s+{re.escape(e.name)}\s*\(", text))
        if hits > best_hits:
            best, best_hits = lesson, hits
    if best is None:
        raise NotANotebook("this notebook does not belong to any lesson of the course "
                           "(none of the exercise functions is defined)")
    return best


def cell_labels(notebook):
    """{index: 'cell 42 of 71 ("Max pooling, backward")'}: cells named as JupyterLab counts them.

    The number counts every cell, markdown included, from 1; the title is the last
    markdown heading above the cell, so the student finds it in the table of contents.
    """
    labels, heading, total = {}, "", len(notebook.cells)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            titles = [line.lstrip("#").strip() for line in cell.source.splitlines()
                      if line.startswith("#") and line.lstrip("#").strip()]
            heading = titles[-1] if titles else heading
        title = heading if len(heading) <= 60 else heading[:57] + "..."
        labels[index] = f"cell {index + 1} of {total}" + (f' ("{title}")' if title else "")
    return labels


def defining_cells(notebook, names):
    """{name: index of the last code cell that defines it}: `def name(` or `name = ...`."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        for name in names:
            if re.search(rf"^\s*def\s+{re.escape(name)}\s*\(|^{re.escape(name)}\s*=", cell.source, re.M):
                found[name] = index
    return found
