"""Grade one submission: run it in the sandbox, score every check, write feedback.

    result = grade_notebook("submitted.ipynb")
    result.score, result.max_score, result.to_gradescope()

The same `run_exercise` scores a function called in the sandbox (grading) or
in-process (the hidden-check cells of a source notebook, see autograder.hidden).
"""
import hashlib
import inspect
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import compare, in_place
from .notebook import NotANotebook, cells_to_run, read_notebook, recognise_lesson
from .runner import CallReport, Limits, Session

COURSE_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CheckResult:
    exercise: str
    name: str
    points: float
    max_points: float
    feedback: str = ""

    @property
    def passed(self):
        return self.points == self.max_points


@dataclass
class ExerciseResult:
    name: str
    checks: list

    @property
    def points(self):
        return sum(c.points for c in self.checks)

    @property
    def max_points(self):
        return sum(c.max_points for c in self.checks)

    def feedback(self):
        """Plain text for the student: one line per check, details under each failure."""
        lines = [f"{self.name}: {self.points:g} / {self.max_points:g} points"]
        for check in self.checks:
            mark = "PASS" if check.passed else "FAIL"
            lines.append(f"  [{mark}] {check.name} ({check.points:g}/{check.max_points:g})")
            if check.feedback:
                lines.append(check.feedback)
        return "\n".join(lines)


@dataclass
class GradeResult:
    lesson: str = ""
    seed: int = 0
    exercises: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    error: str = ""
    sandbox: str = ""
    max_score_if_error: float = 0.0
    seconds: dict = field(default_factory=dict)   # wall time of "cells" and "checks"

    @property
    def score(self):
        return sum(e.points for e in self.exercises)

    @property
    def max_score(self):
        return sum(e.max_points for e in self.exercises) or self.max_score_if_error

    def to_gradescope(self):
        """Gradescope's results.json: a test per check, named '<function>: <check>'."""
        tests = []
        for exercise in self.exercises:
            for check in exercise.checks:
                tests.append({"name": f"{exercise.name}: {check.name}", "score": check.points,
                              "max_score": check.max_points,
                              "status": "passed" if check.passed else "failed",
                              "output": check.feedback or "passed"})
        notes = self.notebook_notes()
        if notes:
            tests.append({"name": "notebook: cells that did not run cleanly", "score": 0,
                          "max_score": 0, "status": "failed", "output": notes})
        summary = self.error or f"lesson {self.lesson}: {self.score:g} / {self.max_score:g} points"
        return {"score": self.score, "max_score": self.max_score, "output": summary,
                "tests": tests, "extra_data": {"lesson": self.lesson, "seed": self.seed,
                                               "sandbox": self.sandbox, "seconds": self.seconds}}

    def notebook_notes(self):
        lines = []
        for cell in self.cells:
            if cell.status in ("error", "timeout", "crashed"):
                lines.append(f"cell {cell.index}: {cell.ename}: {cell.evalue}".rstrip(": "))
        return "\n".join(lines)


# ------------------------------------------------------------------ the checks
def check_rng(seed, exercise, check):
    """A generator per (submission seed, exercise, check): checks never share draws."""
    return np.random.default_rng([seed, zlib.crc32(exercise.encode()), zlib.crc32(check.encode())])


def as_output_list(value, output_names):
    if len(output_names) == 1:
        return [np.asarray(value, dtype=np.float64)]
    return [np.asarray(v, dtype=np.float64) for v in value]


def describe_call(exercise, case):
    """'max_pool2d(x, kernel_size=3, stride=2)' with each array argument shown below it."""
    try:
        names = list(inspect.signature(exercise.reference).parameters)
    except (TypeError, ValueError):
        names = []
    parts, shown = [], []
    for i, arg in enumerate(case.args):
        name = names[i] if i < len(names) else f"arg{i}"
        if isinstance(arg, np.ndarray):
            parts.append(name)
            shown.append(compare.show_array(arg, f"{name} (shape {arg.shape})"))
        else:
            parts.append(repr(arg))
    parts += [f"{k}={v!r}" for k, v in case.kwargs.items()]
    call = f"    call: {exercise.name}({', '.join(parts)})"
    if case.note:
        call += f"    # {case.note}"
    return [call] + shown


def matching_misconception(exercise, case, got):
    """The sentence of the first misconception whose output equals the student's."""
    for misconception in exercise.misconceptions:
        try:
            wrong = as_output_list(misconception.fn(*case.args, **case.kwargs), exercise.output_names)
        except Exception:  # noqa: BLE001 - a misconception may not apply to this case
            continue
        if len(wrong) == len(got) and all(compare.close(g, w) for g, w in zip(got, wrong)):
            return misconception.message
    return ""


def expected_outputs(exercise, case, caller):
    if exercise.expected is not None:
        def student(name, *args, n_outputs=1, **kwargs):
            """The student's own `name` on these arguments: one array, or a list of n_outputs."""
            names = tuple(f"out{i}" for i in range(n_outputs)) if n_outputs > 1 else ("out",)
            report = caller.call(name, args, kwargs, names)
            if not report.ok:
                raise RuntimeError(report.error)
            return report.outputs[0] if n_outputs == 1 else report.outputs
        return [np.asarray(v, dtype=np.float64) for v in exercise.expected(case, student)]
    return as_output_list(exercise.reference(*case.args, **case.kwargs), exercise.output_names)


def judge_case(exercise, check, case, caller):
    """None when the case passes, else the feedback lines."""
    report = caller.call(exercise.name, case.args, case.kwargs, exercise.output_names,
                         return_args=check.kind == "unmodified")
    if not report.ok:
        reason = report.error
        if reason.startswith("NotImplementedError"):
            reason = "not implemented yet (the function raises NotImplementedError)"
        lines = describe_call(exercise, case) + [f"    error: {reason}"]
        return lines + ([report.traceback] if report.traceback else [])
    n_out = len(exercise.output_names)
    got = report.outputs[:n_out]
    if check.kind == "unmodified":
        originals = [a for a in case.args if isinstance(a, np.ndarray)]
        after = report.outputs[n_out:]
        changed = [i for i, (a, b) in enumerate(zip(originals, after))
                   if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True)]
        if not changed and len(after) == len(originals):
            return None
        return describe_call(exercise, case) + [
            "    the function changed its input array(s) in place; work on a copy "
            "(e.g. np.pad or x.copy()) so the caller's data stays intact"]
    expected = expected_outputs(exercise, case, caller)
    indices = check.outputs if check.outputs is not None else range(n_out)
    lines = []
    for i in indices:
        name = exercise.output_names[i]
        if check.kind == "shape":
            if got[i].shape != expected[i].shape:
                lines.append(f"    {name}: expected shape {expected[i].shape}, got {got[i].shape}")
        elif not compare.close(got[i], expected[i]):
            lines += compare.describe_difference(got[i], expected[i], name)
    if not lines:
        return None
    hint = matching_misconception(exercise, case, got) if check.kind == "values" else ""
    return describe_call(exercise, case) + lines + ([f"    likely cause: {hint}"] if hint else [])


def run_check(exercise, check, caller, seed):
    rng = check_rng(seed, exercise.name, check.name)
    cases = check.cases(rng) if exercise.kind == "function" else []
    if exercise.kind == "value":
        lines = judge_value(exercise, caller)
    else:
        lines = None
        for case in cases:
            lines = judge_case(exercise, check, case, caller)
            if lines:
                break
    if lines:
        return CheckResult(exercise.name, check.name, 0.0, check.points, "\n".join(lines))
    return CheckResult(exercise.name, check.name, float(check.points), check.points)


def judge_value(exercise, caller):
    report = caller.call(exercise.name, kind="value")
    if not report.ok:
        return [f"    {report.error}"]
    expected = np.asarray(exercise.reference, dtype=np.float64)
    if compare.close(report.outputs[0], expected):
        return None
    return [f"    {exercise.name} = {report.outputs[0].tolist()} is not the expected answer"]


def run_exercise(exercise, caller, seed):
    exercise, caller = in_place.graded(exercise, caller)  # arguments updated in place are outputs too
    return ExerciseResult(exercise.name, [run_check(exercise, c, caller, seed) for c in exercise.checks])


# ------------------------------------------------------------- whole notebooks
def default_seed(notebook, lesson_id):
    """Reproducible per submission: the same code always meets the same cases."""
    digest = hashlib.sha256(lesson_id.encode())
    for cell in notebook.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode())
    return int.from_bytes(digest.digest()[:4], "big")


def support_files(lesson_id, course_root=COURSE_ROOT):
    """Helper files shipped beside the lesson's notebook (release/<lesson>/*.py and data).

    They come from the course checkout the package runs from, or else from the
    course folder the grader was started in (nbgrader runs from the course root),
    never from the submission, so a student cannot replace them.
    """
    for root in (Path(course_root), Path.cwd()):
        folder = root / "release" / lesson_id
        if folder.is_dir():
            return {p.name: p.read_bytes() for p in folder.iterdir()
                    if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")}
    return {}


def grade_notebook(path, seed=None, lesson_hint=None, limits=None, use_bwrap=None, figures=False):
    """Grade the notebook at `path`; never raises for a bad submission."""
    try:
        notebook = read_notebook(path)
        lesson = recognise_lesson(notebook, lesson_hint)
    except NotANotebook as problem:
        return GradeResult(error=str(problem))
    return grade_parsed(notebook, lesson, seed, limits, use_bwrap, figures)


def grade_parsed(notebook, lesson, seed=None, limits=None, use_bwrap=None, figures=False):
    """Grade an already-read notebook of `lesson` (used by the CLI and by nbgrader)."""
    seed = default_seed(notebook, lesson.id) if seed is None else int(seed)
    result = GradeResult(lesson=lesson.id, seed=seed, max_score_if_error=lesson.points)
    with Session(support_files(lesson.id), limits or Limits(), use_bwrap, figures) as session:
        started = time.perf_counter()
        for index, source in cells_to_run(notebook):
            result.cells.append(session.run_cell(index, source))
        cells_done = time.perf_counter()
        for exercise in lesson.exercises:
            result.exercises.append(run_exercise(exercise, session, seed))
        result.seconds = {"cells": round(cells_done - started, 3),
                          "checks": round(time.perf_counter() - cells_done, 3)}
        result.sandbox = session.isolation()  # known once the children have started
    return result


class InProcessCaller:
    """Calls functions from a namespace directly (source notebooks and tests; trusted code)."""

    def __init__(self, namespace):
        self.namespace = namespace

    def call(self, name, args=(), kwargs=None, output_names=("out",), return_args=False, kind="function"):
        target = self.namespace.get(name)
        if target is None:
            return CallReport(False, error=f"no function named {name} is defined")
        if kind == "value":
            return CallReport(True, outputs=[np.asarray(target, dtype=np.float64)])
        args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
        try:
            value = target(*args, **(kwargs or {}))
            outputs = as_output_list(value, output_names)
        except Exception as error:  # noqa: BLE001 - reported as the student's failure
            return CallReport(False, error=f"{type(error).__name__}: {error}")
        if return_args:
            outputs += [a for a in args if isinstance(a, np.ndarray)]
        return CallReport(True, outputs=outputs)
