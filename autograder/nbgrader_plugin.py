"""nbgrader integration: `nbgrader autograde` scores hidden-check cells with the course engine.

nbgrader_config.py puts `GradeWithEngine` where nbgrader's `Execute` would be.
Instead of running the notebook in a Jupyter kernel (where a student's code
could reach the hidden checks, and where a silent test cell earns full credit
and a warning on stderr earns zero), it grades the notebook in the engine's
sandbox and then writes every output itself:

- each code cell that ran gets the text it printed and its error, if any;
- each hidden-check cell gets the check-by-check feedback (stdout) followed by
  an execute_result holding the points earned, which nbgrader's SaveAutoGrades
  reads as partial credit. A hidden cell the engine does not know gets an
  error output, so it can never be worth points by staying silent;
- each hidden-check cell's code is replaced by a one-line placeholder
  (`hide_source`): Formgrader and the feedback HTML show the autograded
  notebook, and students must not see how the hidden checks are called.

`generate_feedback` renders with the `course_feedback` template in
autograder/templates/nbconvert (FEEDBACK_TEMPLATE_DIRS): no MathJax from a CDN,
wrapped output lines, and a summary listing the hidden checks by exercise.

Two more pieces keep hostile or broken submissions from derailing nbgrader:
`RepairGradeCells` puts the released graded cells back before nbgrader checks
them, and `replace_unreadable_submissions` turns a file that is not a notebook
into an empty one that says why, so that student still gets a grade and
feedback. nbgrader_config.py wires them in: the hook as Autograde's
pre_convert_hook, RepairGradeCells among its sanitize_preprocessors just
before OverwriteCells.
"""
from pathlib import Path

import nbformat
import nbgrader
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from .grading.grader import GradeResult, grade_parsed
from .grading.notebook import (NotANotebook, is_hidden_check, metadata_of, nbgrader_meta, read_notebook,
                               recognise_lesson)
from .grading.runner import Limits


FEEDBACK_TEMPLATE_DIRS = [
    str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),  # 'feedback'
    str(Path(__file__).parent / "templates" / "nbconvert"),                                 # 'course_feedback'
]


class GradeWithEngine(NbGraderPreprocessor):
    """Replaces nbgrader's Execute preprocessor during `nbgrader autograde`."""

    cell_timeout = Float(30.0, help="Seconds one student cell may run.").tag(config=True)
    call_timeout = Float(10.0, help="Seconds one call of a student function may run.").tag(config=True)
    memory_mb = Integer(4096, help="Memory limit of the sandboxed process, in MiB.").tag(config=True)

    def preprocess(self, nb, resources):
        hint = resources.get("nbgrader", {}).get("assignment")
        try:
            lesson = recognise_lesson(nb, hint)
        except NotANotebook as problem:
            self._fail_hidden_cells(nb, str(problem))
            self._record_results(nb, GradeResult(error=str(problem)))
            return nb, resources
        limits = Limits(cell_seconds=self.cell_timeout, call_seconds=self.call_timeout,
                        memory_bytes=self.memory_mb * 2**20)
        result = grade_parsed(nb, lesson, limits=limits, figures=True)
        self.log.info("graded %s with the course engine: %g / %g (seed %d, sandbox: %s)",
                      lesson.id, result.score, result.max_score, result.seed, result.sandbox)
        self._write_cell_outputs(nb, result)
        self._write_hidden_outputs(nb, lesson, result)
        self._record_results(nb, result)
        return nb, resources

    @staticmethod
    def _record_results(nb, result):
        """The results.json of this grading in the autograded notebook's metadata, for the class
        report (autograder.report reads it beside the gradebook, which keeps only cell scores)."""
        meta = nb.metadata.get("autograder")
        meta = dict(meta) if isinstance(meta, dict) else {}
        meta["results"] = result.to_gradescope()
        nb.metadata["autograder"] = meta

    @staticmethod
    def _write_cell_outputs(nb, result):
        for report in result.cells:
            cell = nb.cells[report.index]
            # the prompt [42] of the notebook's 42nd cell, as tracebacks and feedback name it
            cell.execution_count = report.index + 1
            cell.outputs = []
            if report.stdout:
                cell.outputs.append(new_output("stream", name="stdout", text=report.stdout))
            for image in report.images:
                cell.outputs.append(new_output("display_data", data={"image/png": image}))
            if report.status != "ok":
                cell.outputs.append(error_output(report.ename or "Error", report.evalue, report.traceback))

    @staticmethod
    def _write_hidden_outputs(nb, lesson, result):
        by_name = {exercise.name: exercise for exercise in result.exercises}
        for cell in nb.cells:
            if cell.cell_type != "code" or not is_hidden_check(cell):
                continue
            grade_id = str(nbgrader_meta(cell).get("grade_id", ""))
            exercise = by_name.get(grade_id)
            hide_source(cell)
            if exercise is None:
                cell.outputs = [error_output("UnknownCheck", f"{grade_id!r} is not an exercise of {lesson.id}")]
                continue
            cell_points = float(nbgrader_meta(cell).get("points", exercise.max_points))
            earned = exercise.points * cell_points / exercise.max_points if exercise.max_points else 0.0
            text = f"{exercise.feedback()}\n(cases drawn with seed {result.seed})\n"
            cell.outputs = [new_output("stream", name="stdout", text=text),
                            new_output("execute_result", data={"text/plain": f"{earned:g}"},
                                       execution_count=None)]

    @staticmethod
    def _fail_hidden_cells(nb, reason):
        for cell in nb.cells:
            if cell.cell_type == "code" and is_hidden_check(cell):
                hide_source(cell)
                cell.outputs = [error_output("NotGradable", reason)]


def hide_source(cell):
    """Replace a hidden-check cell's code by a line saying what it is.

    The autograded notebook is what Formgrader shows and what the feedback HTML
    is made from; neither may show students how the hidden checks are run. The
    gradebook keeps the released source, from which RepairGradeCells and
    OverwriteCells restore the cell at the next autograde.
    """
    meta = nbgrader_meta(cell)
    cell.source = (f"# hidden checks of {meta.get('grade_id', '?')} ({float(meta.get('points', 0) or 0):g} "
                   "points): the score and the grader's messages are below")


def error_output(ename, evalue, traceback=""):
    """An error output that shows its message: nbconvert renders only the traceback's lines."""
    lines = traceback.splitlines() if traceback.strip() else [f"{ename}: {evalue}".rstrip(": ")]
    return new_output("error", ename=ename, evalue=evalue, traceback=lines)


class RepairGradeCells(NbGraderPreprocessor):
    """Sanitizing step before nbgrader's OverwriteCells: the released graded cells, as released.

    OverwriteCells restores a known cell's source, points and lock, but a
    student's edits to the metadata still derail autograde: a renamed grade_id
    or a hidden cell copied twice fails CheckCellMetadata for the whole
    submission, a flipped `solution` flag fails the checksum check, and a
    deleted hidden cell (or one stripped of its metadata) silently costs its
    points. So, against the gradebook:

    - nbgrader metadata that is not the gradebook's (unknown or repeated
      grade_id, not a dict) is removed: that cell is just the student's code;
    - the grade and solution flags of known cells are set back;
    - graded cells that are missing are appended with the released source.
    """

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            released = gradebook.find_notebook(info["notebook"], info["assignment"])
            points = {cell.name: cell.max_score for cell in released.grade_cells}
            answers = {cell.name for cell in released.solution_cells}
            sources = {cell.name: (cell.cell_type, cell.source, cell.locked) for cell in released.source_cells}
        seen = set()
        for cell in nb.cells:
            if "nbgrader" not in metadata_of(cell):
                continue
            grade_id = nbgrader_meta(cell).get("grade_id")
            if not isinstance(grade_id, str) or grade_id not in sources or grade_id in seen:
                self.log.warning("nbgrader metadata of a cell with grade_id %r removed: not one of the "
                                 "released cells", grade_id)
                del cell.metadata["nbgrader"]
                continue
            seen.add(grade_id)
            cell.metadata.nbgrader["grade"] = grade_id in points
            cell.metadata.nbgrader["solution"] = grade_id in answers
        for grade_id in points:
            if grade_id not in seen:
                self.log.warning("graded cell %s is missing: the released one is added back", grade_id)
                nb.cells.append(self._released_cell(grade_id, sources[grade_id], points[grade_id],
                                                    grade_id in answers))
        return nb, resources

    @staticmethod
    def _released_cell(grade_id, source, points, is_answer):
        cell_type, text, locked = source
        cell = new_code_cell(text) if cell_type == "code" else new_markdown_cell(text)
        cell.metadata["nbgrader"] = {"grade": True, "solution": is_answer, "locked": locked,
                                     "grade_id": grade_id, "points": points, "schema_version": 3}
        return cell


def replace_unreadable_submissions(assignment, student, notebooks, **_):
    """nbgrader pre-convert hook: a submitted file that is not a notebook becomes one saying why.

    nbgrader cannot read such a file, so autograde would fail for that student
    with a traceback, no feedback, and an error status for the whole run. The
    original bytes stay beside it as <name>.ipynb.unreadable; the empty
    notebook is then graded like any blank submission (RepairGradeCells adds
    the graded cells back), so the student gets 0 points and this reason.
    """
    for path in map(Path, notebooks):
        try:
            read_notebook(path)
        except NotANotebook as problem:
            path.replace(path.with_name(path.name + ".unreadable"))
            notice = new_markdown_cell(f"**This submission could not be graded:** {problem}.\n\n"
                                       f"(The file received is kept beside this one as "
                                       f"{path.name}.unreadable.)")
            nbformat.write(new_notebook(cells=[notice]), str(path))
