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
  error output, so it can never be worth points by staying silent.
"""
from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Integer

from .grading.grader import grade_parsed
from .grading.notebook import NotANotebook, is_hidden_check, nbgrader_meta, recognise_lesson
from .grading.runner import Limits


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
            return nb, resources
        limits = Limits(cell_seconds=self.cell_timeout, call_seconds=self.call_timeout,
                        memory_bytes=self.memory_mb * 2**20)
        result = grade_parsed(nb, lesson, limits=limits, figures=True)
        self.log.info("graded %s with the course engine: %g / %g (seed %d, sandbox: %s)",
                      lesson.id, result.score, result.max_score, result.seed, result.sandbox)
        self._write_cell_outputs(nb, result)
        self._write_hidden_outputs(nb, lesson, result)
        return nb, resources

    @staticmethod
    def _write_cell_outputs(nb, result):
        for count, report in enumerate(result.cells, start=1):
            cell = nb.cells[report.index]
            cell.execution_count = count
            cell.outputs = []
            if report.stdout:
                cell.outputs.append(new_output("stream", name="stdout", text=report.stdout))
            for image in report.images:
                cell.outputs.append(new_output("display_data", data={"image/png": image}))
            if report.status != "ok":
                cell.outputs.append(new_output("error", ename=report.ename or "Error",
                                               evalue=report.evalue, traceback=[]))

    @staticmethod
    def _write_hidden_outputs(nb, lesson, result):
        by_name = {exercise.name: exercise for exercise in result.exercises}
        for cell in nb.cells:
            if cell.cell_type != "code" or not is_hidden_check(cell):
                continue
            grade_id = str(nbgrader_meta(cell).get("grade_id", ""))
            exercise = by_name.get(grade_id)
            if exercise is None:
                cell.outputs = [new_output("error", ename="UnknownCheck", traceback=[],
                                           evalue=f"{grade_id!r} is not an exercise of {lesson.id}")]
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
                cell.outputs = [new_output("error", ename="NotGradable", evalue=reason, traceback=[])]
