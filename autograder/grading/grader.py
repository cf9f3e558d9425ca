"""Grade one submission: run it in the sandbox, score every check, write feedback.

    result = grade_notebook("submitted.ipynb")
    result.score, result.max_score, result.to_gradescope()

The same `run_exercise` scores a function called in the sandbox (grading) or
in-process (the hidden-check cells of a source notebook, see autograder.hidden).
"""
import contextlib
import dataclasses
import functools
import hashlib
import inspect
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Optional
from pathlib import Path

import numpy as np

from . import compare, in_place
from .notebook import (NotANotebook, cell_labels, cells_to_run, defining_cells, read_notebook,
                       recognise_lesson)
from .child import TEST_FUNCTIONS, NamedFunction
from .runner import CallReport, Limits, Session

COURSE_ROOT = Path(__file__).resolve().parents[2]


NOT_IMPLEMENTED = "not implemented yet: raise NotImplementedError was reached"


@dataclass
class Failure:
    """Why a check failed, told on its smallest failing case.

    cause:   what several failed checks can share: a misconception's sentence, an
             error raised at the same line, a stub ("" for none: shown per check).
    label:   how `cause` is introduced ("likely cause", "error", ...).
    call:    lines of NumPy code rebuilding the case's inputs, then the call.
    details: expected and obtained outputs, the first mismatch, the traceback.
    summary: the same failure in one line, for a check whose cause was told above.
    whole:   the failure says nothing about the case (the function is missing or a
             stub), so one line can stand for every check of the exercise.
    """
    cause: str = ""
    label: str = ""
    call: list = field(default_factory=list)
    details: list = field(default_factory=list)
    summary: str = ""
    whole: bool = False
    size: int = 0          # entries of the case's inputs: the smallest failing case is shown
    misconception: str = ""   # name of the known mistake matched (for the class report)

    def lines(self, indent="    ", case=None):
        """The failure in full; a stub's case only when asked (`case`): alone it says nothing."""
        head = [f"{indent}{self.label}: {self.cause}"] if self.cause else []
        call = self.call if (not self.whole if case is None else case) else []
        return head + [indent + line for line in call + self.details]


@dataclass
class CheckResult:
    exercise: str
    name: str
    points: float
    max_points: float
    feedback: str = ""          # this check on its own (Gradescope shows one test per check)
    failure: Optional[Failure] = None

    @property
    def passed(self):
        return self.points == self.max_points

    def mark(self):
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name} ({self.points:g}/{self.max_points:g})"

    def report_data(self):
        """Machine-readable fields of this check's results.json test (its `extra_data`), for the
        class report: not implemented (a stub, a missing function or answer), the known mistake."""
        failure = self.failure or Failure()
        missing = failure.whole and failure.cause.startswith(("no function named ", f"{self.exercise} has no answer"))
        return {"exercise": self.exercise, "check": self.name,
                "not_implemented": failure.cause == NOT_IMPLEMENTED or missing,
                "misconception": failure.misconception,
                "misconception_message": failure.cause if failure.misconception else ""}


@dataclass
class ExerciseResult:
    name: str
    checks: list
    where: str = ""     # the cell defining it, 'cell 18 of 72 ("Max pooling")', when known

    @property
    def points(self):
        return sum(c.points for c in self.checks)

    @property
    def max_points(self):
        return sum(c.max_points for c in self.checks)

    def feedback(self):
        """Plain text for the student, each cause told once.

        One line when nothing of the function could be tried (a stub, a missing
        function). Otherwise one line per check; failed checks that share a
        cause get it once, at the top, with the smallest of their failing cases
        in full, and then one line each.
        """
        header = f"{self.name}: {self.points:g} / {self.max_points:g} points"
        failures = [c.failure for c in self.checks if c.failure is not None]
        if failures and len(failures) == len(self.checks) and all(f.whole for f in failures) \
                and len({f.cause for f in failures}) == 1:
            return f"{header} - {failures[0].cause}"
        groups = {}
        for check in self.checks:
            if check.failure is not None and check.failure.cause:
                groups.setdefault(check.failure.cause, []).append(check)
        shared = {cause: checks for cause, checks in groups.items() if len(checks) > 1}
        lines = [header + (f", defined in {self.where}" if self.where and failures else "")]
        shown = {}
        for cause, checks in shared.items():
            first = min(checks, key=lambda c: (c.failure.whole, c.failure.size))
            shown[cause] = first
            failure = first.failure
            lines.append(f"  {failure.label}: {cause}")
            lines.append(f"    ({len(checks)} failed checks; the smallest failing case, "
                         f"from \"{first.name}\":)")
            lines += [f"    {line}" for line in failure.call + failure.details]
        for check in self.checks:
            failure = check.failure
            if failure is None:
                lines.append(f"  {check.mark()}")
            elif failure.cause in shared:
                same = "the case above" if shown[failure.cause] is check else failure.summary
                lines.append(f"  {check.mark()}: {same}")
            else:
                lines.append(f"  {check.mark()}")
                lines += failure.lines("    ", case=True)   # other checks passed: which case fails matters
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
    cell_labels: dict = field(default_factory=dict)  # index -> 'cell 42 of 71 ("heading")'
    n_cells: int = 0

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
                              "output": check.feedback or "passed", "extra_data": check.report_data()})
        notes = self.notebook_notes()
        if notes:
            tests.append({"name": "notebook: cells that did not run cleanly", "score": 0,
                          "max_score": 0, "status": "failed", "output": notes})
        summary = self.error or f"lesson {self.lesson}: {self.score:g} / {self.max_score:g} points"
        return {"score": self.score, "max_score": self.max_score, "output": summary,
                "tests": tests, "extra_data": {"lesson": self.lesson, "seed": self.seed,
                                               "sandbox": self.sandbox, "seconds": self.seconds,
                                               "engine": engine_version(), "error": self.error}}

    def notebook_notes(self):
        """One line per cell that did not run cleanly; the release stubs' cells in one line."""
        lines, stubs = [], []
        for cell in self.cells:
            if cell.status not in ("error", "timeout", "crashed"):
                continue
            if cell.ename == "NotImplementedError" and not cell.evalue:
                stubs.append(str(cell.index + 1))
                continue
            lines.append(f"{self.cell_name(cell.index)}: {cell.ename}: {cell.evalue}".rstrip(": "))
        if stubs:
            lines.insert(0, f"cell{'s' * (len(stubs) > 1)} {', '.join(stubs)} of {self.n_cells}: "
                            f"{NOT_IMPLEMENTED} (an exercise, or a cell using one)")
        return "\n".join(lines)

    def cell_name(self, index):
        return self.cell_labels.get(index, f"cell {index + 1}")

    def name_cells(self, text):
        """IPython's 'Cell In[42]' (the child numbers cells by position) as 'cell 42 of 71'."""
        return re.sub(r"Cell In\[(\d+)\]", lambda m: f"cell {m.group(1)} of {self.n_cells}", text)


# ------------------------------------------------------------------ the checks
def check_rng(seed, exercise, check):
    """A generator per (submission seed, exercise, check): checks never share draws."""
    return np.random.default_rng([seed, zlib.crc32(exercise.encode()), zlib.crc32(check.encode())])


def as_output_list(value, output_names):
    """float64 arrays, one per output; an output of several that is None stays None."""
    if len(output_names) == 1:
        return [np.asarray(value, dtype=np.float64)]
    return [None if v is None else np.asarray(v, dtype=np.float64) for v in value]


def none_reason(exercise, case, output_name):
    """Why output `grad_<arg>` is None or an array: "weight was None" / "weight is an array", or ""."""
    if not output_name.startswith("grad_"):
        return ""
    argument = output_name[len("grad_"):]
    values = dict(zip(argument_names(exercise, case), case.args), **case.kwargs)
    if argument not in values:
        return ""
    return f"{argument} was None" if values[argument] is None else f"{argument} is an array"


def case_size(case):
    """Number of input entries of a case: smaller cases are tried (and shown) first."""
    def size(value):
        if isinstance(value, np.ndarray):
            return value.size
        if isinstance(value, NamedFunction):
            return sum(size(p) for p in value.params)
        if isinstance(value, (tuple, list)):
            return sum(size(v) for v in value)
        return 0
    return size(tuple(case.args) + tuple(case.kwargs.values()))


def argument_names(exercise, case):
    try:
        names = list(inspect.signature(exercise.reference).parameters)
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"arg{i}" for i in range(len(case.args))]


def value_code(name, value, definitions):
    """How `value` appears in the call; arrays and functions get a line in `definitions`."""
    if isinstance(value, np.ndarray):
        code = compare.array_assignment(name, value)
        # too many values to print: a runnable stand-in of the same shape (enough for shape bugs)
        definitions.append(code if code is not None else (
            f"{name} = np.random.default_rng(0).uniform({np.min(value):.4g}, {np.max(value):.4g}, "
            f"{tuple(int(n) for n in value.shape)})    # stand-in: the {value.size} values are too many to print"))
        return name
    if isinstance(value, NamedFunction):
        definitions.append(function_code(name, value))
        return name
    return repr(value)


def function_code(name, function):
    """`name = lambda x, a=np.array(...): ...`: a test function the student can run."""
    source = inspect.getsource(TEST_FUNCTIONS[function.name]).strip().rstrip(",")
    params, body = source.split("lambda", 1)[1].split(":", 1)
    extra = [p.strip() for p in params.split(",")][1:]
    bound = [compare.array_assignment(p, v) or f"{p}=..." if isinstance(v, np.ndarray) else f"{p} = {v!r}"
             for p, v in zip(extra, function.params)]
    defaults = "".join(f", {b.replace(' = ', '=', 1)}" for b in bound)
    return f"{name} = lambda x{defaults}: {body.strip()}"


def call_code(exercise, case):
    """NumPy code that rebuilds the case's inputs, then the call; runnable without the course."""
    definitions, parts = [], []
    for name, arg in zip(argument_names(exercise, case), case.args):
        parts.append(value_code(name, arg, definitions))
    for key, value in case.kwargs.items():
        parts.append(f"{key}={value_code(key, value, definitions)}")
    call = f"{exercise.name}({', '.join(parts)})"
    if case.note:
        call += f"    # {case.note}"
    return [line for code in definitions for line in code.split("\n")] + [call]


def call_summary(exercise, case):
    """The call in one line, arrays by their shape: 'max_pool2d(x (1, 1, 5, 5), 2, stride=2)'."""
    def short(value):
        if isinstance(value, np.ndarray):
            return f"array {tuple(value.shape)}"
        return "<function>" if isinstance(value, NamedFunction) else repr(value)
    parts = [f"{name} {short(arg)}" if isinstance(arg, (np.ndarray, NamedFunction)) else short(arg)
             for name, arg in zip(argument_names(exercise, case), case.args)]
    parts += [f"{key}={short(value)}" for key, value in case.kwargs.items()]
    return f"{exercise.name}({', '.join(parts)})"


def matching_misconception(exercise, case, got, expected):
    """The misconception (a spec.Misconception) that explains the student's outputs, or None.

    First one whose outputs all equal the student's; failing that, one that explains every
    output the student got wrong while the student got the others right. A batch_norm that
    updates running_mean with momentum the other way round but running_var correctly made
    that mistake once, not a different one.
    """
    partial = []
    for misconception in exercise.misconceptions:
        try:
            wrong = as_output_list(misconception.fn(*case.args, **case.kwargs), exercise.output_names)
        except Exception:  # noqa: BLE001 - a misconception may not apply to this case
            continue
        if len(wrong) != len(got):
            continue
        if all(compare.close(g, w) for g, w in zip(got, wrong)):
            return misconception
        partial.append((misconception, wrong))
    for misconception, wrong in partial:
        if all(compare.close(g, w) or compare.close(g, e) for g, w, e in zip(got, wrong, expected)):
            return misconception
    return None


def expected_outputs(exercise, case, caller):
    if exercise.expected is not None:
        def student(name, *args, n_outputs=1, **kwargs):
            """The student's own `name` on these arguments: one array, or a list of n_outputs."""
            names = tuple(f"out{i}" for i in range(n_outputs)) if n_outputs > 1 else ("out",)
            report = caller.call(name, args, kwargs, names)
            if not report.ok:
                raise RuntimeError(report.error)
            return report.outputs[0] if n_outputs == 1 else report.outputs
        return [None if v is None else np.asarray(v, dtype=np.float64) for v in exercise.expected(case, student)]
    return as_output_list(exercise.reference(*case.args, **case.kwargs), exercise.output_names)


AN_EARLIER_CALL = "not called again: an earlier call "


def error_failure(exercise, case, report):
    """A call that raised, hung or crashed: the exception's own message on the error line."""
    error, trace = report.error, report.traceback
    if error.startswith("NotImplementedError"):
        message = error.partition(":")[2].strip()
        # the call matters when only some cases reach the stub (`if ceil_mode: raise ...`)
        return Failure(cause=NOT_IMPLEMENTED, label="error", whole=not message, call=call_code(exercise, case),
                       details=[f"message: {message}"] if message else [],
                       summary=f"{call_summary(exercise, case)}: {NOT_IMPLEMENTED}", size=case_size(case))
    if error.startswith(AN_EARLIER_CALL):
        # the same cause as the call that killed the sandbox: "<name> did not return within 10 s"
        return Failure(cause=f"{exercise.name} {error[len(AN_EARLIER_CALL):]}", label="error", whole=True,
                       details=["not called again"], summary="not called again", size=case_size(case))
    if error.startswith(f"no function named {exercise.name} "):
        return Failure(cause=error, label="error", whole=True, summary=error, size=case_size(case))
    frames = [line.strip() for line in trace.splitlines() if line.strip()]
    # the student's own line that raised (a cell's), rather than the NumPy internals under it
    where = next((f for f in reversed(frames) if f.startswith("Cell In[")), frames[-1] if frames else "")
    summary = f"{call_summary(exercise, case)}: {error}"
    if not where:   # a time-out, a crash, or a call made in-process: the message is the cause
        return Failure(cause=error, label="error", call=call_code(exercise, case), summary=summary,
                       size=case_size(case))
    ename = error.split(":", 1)[0]
    details = [f"error: {error}", "traceback (last calls):"] + trace.splitlines()
    return Failure(cause=f"{ename} raised at {where}", label="exception", call=call_code(exercise, case),
                   details=details, summary=summary, size=case_size(case))


def judge_case(exercise, check, case, caller):
    """None when the case passes, else a Failure."""
    report = caller.call(exercise.name, case.args, case.kwargs, exercise.output_names,
                         return_args=check.kind == "unmodified")
    if not report.ok:
        return error_failure(exercise, case, report)
    n_out = len(exercise.output_names)
    got = report.outputs[:n_out]
    if check.kind == "unmodified":
        originals = [a for a in case.args if isinstance(a, np.ndarray)]
        after = report.outputs[n_out:]
        changed = [i for i, (a, b) in enumerate(zip(originals, after))
                   if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True)]
        if not changed and len(after) == len(originals):
            return None
        message = ("the function changed its input array(s) in place; work on a copy "
                   "(e.g. np.pad or x.copy()) so the caller's data stays intact")
        return Failure(call=call_code(exercise, case), details=[message], summary=message,
                       size=case_size(case))
    try:
        expected = expected_outputs(exercise, case, caller)
    except RuntimeError as error:  # a composite whose expected result needs the student's parts
        return Failure(call=call_code(exercise, case), details=[f"error: {error}"],
                       summary=str(error), size=case_size(case))
    indices = check.outputs if check.outputs is not None else range(n_out)
    lines, shape_only = [], True
    for i in indices:
        name = exercise.output_names[i]
        if got[i] is None or expected[i] is None:
            # a gradient of an argument that was None is None, and only then (torch's convention)
            lines += [line[4:] for line in compare.describe_difference(
                got[i], expected[i], name, none_reason(exercise, case, name))]
        elif check.kind == "shape" or got[i].shape != expected[i].shape:
            if got[i].shape != expected[i].shape:
                lines.append(f"{name}: expected shape {expected[i].shape}, got shape {got[i].shape}")
        elif not compare.close(got[i], expected[i]):
            shape_only = False
            lines += [row[4:] for line in compare.describe_difference(got[i], expected[i], name)
                      for row in line.split("\n")]
    if not lines:
        return None
    hint = matching_misconception(exercise, case, got, expected) if check.kind == "values" else None
    last = lines[-1] if not shape_only else "; ".join(lines)
    summary = f"{call_summary(exercise, case)}: {last}"
    if hint:
        return Failure(cause=hint.message, label="likely cause", call=call_code(exercise, case), details=lines,
                       summary=summary, size=case_size(case), misconception=hint.name)
    # No known cause: checks failing this way may have different bugs, so each shows its case in full.
    return Failure(call=call_code(exercise, case), details=lines, summary=summary, size=case_size(case))


def run_check(exercise, check, caller, seed):
    """Score one check; its cases run smallest first, so a failure is shown on the smallest."""
    if exercise.kind == "value":
        failure = judge_value(exercise, caller)
    else:
        cases = sorted(check.cases(check_rng(seed, exercise.name, check.name)), key=case_size)
        failure = None
        for index, case in enumerate(cases):
            failure = judge_case(exercise, check, case, caller)
            if failure is None and check.kind == "speed":
                failure = judge_speed(exercise, check, index, caller)
            if failure:
                break
    if failure:
        text = "\n".join(failure.lines("    "))
        return CheckResult(exercise.name, check.name, 0.0, check.points, text, failure)
    return CheckResult(exercise.name, check.name, float(check.points), check.points)


class TimedCaller:
    """A caller whose first call is timed by this process, from the kernel's account of the child.

    Never by a clock in the child: the student's code runs there and can replace
    anything (a saved clock, np.matmul, the request handler itself). `seconds`
    is the CPU time of the child's threads during the round trip (the kernel's
    schedstat, nanoseconds), which leaves out other jobs on a busy machine.
    In-process callers run trusted code and use this thread's CPU time.
    """

    def __init__(self, caller):
        self.caller, self.seconds = caller, None

    def call(self, *args, **kwargs):
        if self.seconds is not None:  # later calls build the expected result: not timed
            return self.caller.call(*args, **kwargs)
        if not hasattr(self.caller, "child_times"):
            start = time.thread_time()
            report = self.caller.call(*args, **kwargs)
            self.seconds = time.thread_time() - start
            return report
        before, start = self.caller.child_times(), time.perf_counter()
        report = self.caller.call(*args, **kwargs)
        elapsed, after = time.perf_counter() - start, self.caller.child_times()
        # without kernel accounts (not Linux), the wall clock, which no child can change either
        self.seconds = elapsed if None in (before, after) else (after[0] - before[0]) / 1e9
        return report


# The baseline of a speed check, defined in a sandbox that never runs student code, so its own
# clock can be trusted. speed_matmul times np.matmul there (the arithmetic only, into memory
# already mapped). speed_transfer takes the timed call's arguments and returns arrays of its
# output shapes and does nothing else: its CPU time is what moving those bytes through the
# pipes costs a child, the part of the student's time that is not the function's.
BASELINE_CELL = """
import time
import numpy as np
_generator = np.random.default_rng(0)
_a, _b = _generator.standard_normal(({m}, {k})), _generator.standard_normal(({k}, {n}))
_c = np.matmul(_a, _b)  # the first call may load BLAS kernels

def speed_matmul(repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.thread_time()
        np.matmul(_a, _b, out=_c)
        best = min(best, time.thread_time() - start)
    return np.array(best)

def speed_transfer(*args, out_shapes=(), **kwargs):
    outputs = tuple(np.ones(shape) for shape in out_shapes)  # written, as a computed output is
    return outputs[0] if len(outputs) == 1 else outputs
"""


@contextlib.contextmanager
def baseline_caller(caller, speed):
    """A caller of speed_baseline (BASELINE_CELL) that runs as `caller` does: a fresh sandbox, or in-process."""
    source = BASELINE_CELL.format(**dict(zip("mkn", (int(v) for v in speed.baseline))))
    if not isinstance(caller, Session):
        namespace = {}
        exec(source, namespace)  # noqa: S102 - the grader's own code
        yield InProcessCaller(namespace)
        return
    with Session({}, caller.limits, caller.use_bwrap) as clean:
        report = clean.run_cell(0, source)
        if report.status != "ok":
            raise RuntimeError(f"the speed check's baseline did not start: {report.evalue or report.status}")
        yield clean


def fresh_case(check, index):
    """Case `index` of the check drawn again from an unpredictable seed: same shapes, new values.

    Every timed call gets new inputs, so a function cannot answer from a cache
    (or from outputs computed ahead of time for a known seed).
    """
    return sorted(check.cases(np.random.default_rng()), key=case_size)[index]


def judge_speed(exercise, check, index, caller):
    """None when the calls are fast and right (check.speed), else a Failure saying how fast they were.

    Each run calls the student's function on fresh values of case `index`, then,
    in a sandbox of its own, speed_transfer with the same arguments and
    speed_matmul (BASELINE_CELL). The best CPU time of each counts; the
    transfer's is taken off the student's. The timed calls' values are graded
    too, so a function that notices it is timed and returns anything fast fails.
    """
    from threadpoolctl import threadpool_limits  # scikit-learn's dependency, in requirements.txt
    speed = check.speed
    best = dict.fromkeys(("student", "transfer", "matmul"), float("inf"))
    spent = 0.0
    # one BLAS thread for calls made in-process, as the sandbox has
    with threadpool_limits(1), baseline_caller(caller, speed) as baseline:
        for _ in range(max(1, int(speed.repeats))):
            case = fresh_case(check, index)
            student, transfer = TimedCaller(caller), TimedCaller(baseline)
            failure = judge_case(exercise, dataclasses.replace(check, kind="values"), case, student)
            if failure is not None:
                failure.summary = f"a timed call, on new values: {failure.summary}"
                failure.details = ["a timed call, on new values of the same shapes:"] + list(failure.details)
                return failure
            shapes = [np.shape(v) for v in as_output_list(exercise.reference(*case.args, **case.kwargs),
                                                          exercise.output_names)]
            moved = transfer.call("speed_transfer", case.args, dict(case.kwargs, out_shapes=shapes),
                                  exercise.output_names)
            matmul = baseline.call("speed_matmul")
            if not (moved.ok and matmul.ok):
                raise RuntimeError(f"the speed check's baseline failed: {moved.error or matmul.error}")
            times = {"student": student.seconds, "transfer": transfer.seconds,
                     "matmul": float(matmul.outputs[0])}
            best = {key: min(best[key], seconds) for key, seconds in times.items()}
            spent += sum(times.values())
            if spent > speed.budget:
                break
    seconds = max(best["student"] - best["transfer"], 0.0)
    if seconds * speed.fraction <= best["matmul"]:
        return None
    return too_slow(speed, seconds, best["matmul"], best["transfer"], call_code(exercise, case), case_size(case))


def too_slow(speed, seconds, matmul, transfer, call, size):
    """The Failure of a correct but slow function: its speed against the matmul's."""
    flop = 2 * int(np.prod(speed.baseline))
    details = [f"best of the timed calls: {seconds * 1e3:.1f} ms, {flop / max(seconds, 1e-12) / 1e9:.2f} GFLOP/s",
               f"one np.matmul {speed.baseline} of the same {flop // 2:,} multiply-adds, timed beside it: "
               f"{matmul * 1e3:.2f} ms, {flop / max(matmul, 1e-12) / 1e9:.1f} GFLOP/s",
               f"(both without the {transfer * 1e3:.2f} ms of CPU that sending the arguments and outputs takes)",
               f"needed: at least 1/{1 / speed.fraction:g} of the matmul's speed (at most "
               f"{matmul / speed.fraction * 1e3:.1f} ms); yours reached 1/{seconds / max(matmul, 1e-12):.0f}"]
    summary = f"too slow: 1/{seconds / max(matmul, 1e-12):.0f} of np.matmul's speed, needed 1/{1 / speed.fraction:g}"
    return Failure(cause="too slow: a Python loop over pixels or windows where one large NumPy call would do",
                   label="failed", call=call, details=details, summary=summary, size=size)


def judge_value(exercise, caller):
    report = caller.call(exercise.name, kind="value")
    if not report.ok:
        return Failure(cause=report.error, label="error", whole=True, summary=report.error)
    expected = np.asarray(exercise.reference, dtype=np.float64)
    if compare.close(report.outputs[0], expected):
        return None
    message = f"{exercise.name} = {report.outputs[0].tolist()} is not the expected answer"
    return Failure(details=[message], summary=message)


UNCOUNTED = ("not counted yet: leaving the inputs unmodified earns its points once a "
             "value check of this exercise passes")


def run_exercise(exercise, caller, seed):
    """Every check of `exercise`; "inputs left unmodified" counts only beside a right value.

    A function that returns nothing right must earn nothing, and a stub that
    returns zeros never touches its inputs.
    """
    exercise, caller = in_place.graded(exercise, caller)  # arguments updated in place are outputs too
    checks = [run_check(exercise, c, caller, seed) for c in exercise.checks]
    kinds = [c.kind for c in exercise.checks]
    has_values = "values" in kinds
    value_passed = any(r.passed for r, kind in zip(checks, kinds) if kind == "values")
    if has_values and not value_passed:
        for result, kind in zip(checks, kinds):
            if kind == "unmodified" and result.passed:
                result.points = 0.0
                result.failure = Failure(details=[UNCOUNTED], summary=UNCOUNTED)
                result.feedback = f"    {UNCOUNTED}"
    return ExerciseResult(exercise.name, checks)


# ------------------------------------------------------------- whole notebooks
@functools.lru_cache(maxsize=None)
def engine_version():
    """The grading engine's version, recorded in every result so a report says what graded it."""
    try:
        from importlib.metadata import version
        return version("cnn-internals-autograder")
    except Exception:  # noqa: BLE001 - not installed as a package (a copied checkout)
        return "unknown"


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
    result = GradeResult(lesson=lesson.id, seed=seed, max_score_if_error=lesson.points,
                         cell_labels=cell_labels(notebook), n_cells=len(notebook.cells))
    with Session(support_files(lesson.id), limits or Limits(), use_bwrap, figures) as session:
        started = time.perf_counter()
        for index, source in cells_to_run(notebook):
            result.cells.append(session.run_cell(index, source))
        cells_done = time.perf_counter()
        defined = defining_cells(notebook, [exercise.name for exercise in lesson.exercises])
        for exercise in lesson.exercises:
            result.exercises.append(run_exercise(exercise, session, seed))
            if exercise.name in defined:
                result.exercises[-1].where = result.cell_name(defined[exercise.name])
        result.seconds = {"cells": round(cells_done - started, 3),
                          "checks": round(time.perf_counter() - cells_done, 3)}
        result.sandbox = session.isolation()  # known once the children have started
    name_cells_in(result)
    return result


def name_cells_in(result):
    """Tracebacks and causes name cells as the student sees them, not as IPython numbered them."""
    for cell in result.cells:
        cell.traceback = result.name_cells(cell.traceback)
    for check in (c for e in result.exercises for c in e.checks):
        check.feedback = result.name_cells(check.feedback)
        failure = check.failure
        if failure is not None:
            failure.cause, failure.summary = result.name_cells(failure.cause), result.name_cells(failure.summary)
            failure.call = [result.name_cells(line) for line in failure.call]
            failure.details = [result.name_cells(line) for line in failure.details]


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
