"""Feedback a student can act on (issue 14) and scoring that pays only for right answers.

One line for a function not written yet, a cause told once per exercise with
its smallest failing case, inputs printed as NumPy code that rebuilds them
exactly, cells named as JupyterLab counts them, and "inputs left unmodified"
worth points only beside a right value.
"""
import numpy as np
import nbformat
import pytest

from autograder.__main__ import print_report
from autograder.grading import compare
from autograder.grading.grader import (NOT_IMPLEMENTED, InProcessCaller, check_rng, case_size,
                                       grade_notebook, run_exercise)
from autograder.grading.runner import Limits
from autograder.grading.spec import Case, Check, Exercise, Misconception
from conftest import CORRECT_TOY, make_notebook
from lesson_tools import LESSON_IDS, release_path

FAST = Limits(cell_seconds=5, call_seconds=3)
BLANK_SCREEN_LINES = 40   # a terminal screen: a blank notebook's whole report fits on it


def scores(result):
    return {f"{e.name}: {c.name}": c.points for e in result.exercises for c in e.checks}


# ------------------------------------------------------------------ scoring
def test_inputs_left_unmodified_earn_nothing_when_no_value_is_right(toy_lesson, tmp_path):
    wrong = CORRECT_TOY.replace("return x * factor", "return x + 1.0")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", wrong), limits=FAST)
    scale = result.exercises[0]
    assert scores(result)["scale: values"] == 0
    assert scores(result)["scale: input left unmodified"] == 0   # untouched, but nothing right
    assert scale.points == 1                                     # the shape check alone
    assert "not counted yet" in scale.checks[2].feedback
    # the same untouched input counts as soon as a value is right
    right = grade_notebook(make_notebook(tmp_path / "ok.ipynb", CORRECT_TOY), limits=FAST)
    assert scores(right)["scale: input left unmodified"] == 1


# ------------------------------------------------------------- one-line stubs
def test_a_stub_is_one_line_and_an_exception_shows_its_message(toy_lesson, tmp_path):
    code = ("import numpy as np\n"
            "def scale(x, factor=2.0):\n    raise NotImplementedError()\n"
            "def pair_sum(a, b):\n    raise ValueError(f'a has {a.size} entries, I want 4')\n")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    scale, pair_sum = (e.feedback() for e in result.exercises)
    assert scale == f"scale: 0 / 4 points - {NOT_IMPLEMENTED}"
    assert "error: ValueError: a has 3 entries, I want 4" in pair_sum
    # the cause (the line that raised) is told once for both failed checks
    assert pair_sum.count("ValueError raised at") == 1, pair_sum


def test_a_stub_reached_by_some_cases_only_shows_which(toy_lesson):
    def scale(x, factor=2.0):
        if factor != 2.0:
            raise NotImplementedError
        return x * factor
    result = run_exercise(toy_lesson.exercise("scale"), InProcessCaller({"scale": scale}), seed=1)
    text = result.feedback()
    assert scores_of(result) == {"shape": 1, "values": 0, "input left unmodified": 0}
    assert f"error: {NOT_IMPLEMENTED}" in text and "scale(x, factor=3.0)" in text, text


def scores_of(exercise_result):
    return {c.name: c.points for c in exercise_result.checks}


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_a_blank_release_notebook_fits_on_one_screen(lesson_id, capsys):
    if not release_path(lesson_id).exists():
        pytest.skip(f"release/{lesson_id} is not generated yet (python -m autograder release {lesson_id})")
    result = grade_notebook(release_path(lesson_id))
    assert result.score == 0 and not result.error
    print_report(result)
    report = capsys.readouterr().out
    assert len(report.splitlines()) <= BLANK_SCREEN_LINES, report
    for exercise in result.exercises:   # one line per exercise: no case, no traceback
        assert len(exercise.feedback().splitlines()) == 1, exercise.feedback()
    assert "In[" not in report and "NotImplementedError()" not in report


# ---------------------------------------------------- one cause, told once
def reference(x, k=1):
    return np.cumsum(x, axis=-1) * k


def forgets_k(x, k=1):
    return np.cumsum(x, axis=-1)


def _check(name, shapes, k):
    def cases(rng):
        return [Case((rng.standard_normal(shape),), {"k": k}) for shape in shapes]
    return Check(name, 1, cases)


CUMSUM = Exercise(
    name="scaled_cumsum", reference=reference,
    checks=[_check("one row", [(3,)], 1),
            _check("k = 2", [(2, 5), (4,)], 2),
            _check("k = 3, a batch", [(3, 4), (2, 3, 4)], 3),
            _check("k = 5, big", [(7, 11)], 5),
            Check("input left unmodified", 1, lambda rng: [Case((rng.standard_normal(4),))],
                  kind="unmodified")],
    misconceptions=[Misconception("k ignored", "the factor k was never applied to the cumulative sum", forgets_k)],
)


def test_a_shared_cause_is_told_once_with_the_smallest_failing_case():
    result = run_exercise(CUMSUM, InProcessCaller({"scaled_cumsum": forgets_k}), seed=4)
    text = result.feedback()
    lines = text.splitlines()
    assert [c.passed for c in result.checks] == [True, False, False, False, True]
    assert text.count("likely cause: the factor k was never applied") == 1, text
    assert lines[1] == "  likely cause: the factor k was never applied to the cumulative sum"
    # the smallest failing case, (4,) from "k = 2", is the one shown in full ...
    assert "from \"k = 2\"" in text and "scaled_cumsum(x, k=2)" in text
    # ... and each other failed check takes one line
    for name in ("k = 3, a batch", "k = 5, big"):
        line = next(l for l in lines if f"[FAIL] {name} " in l)
        assert "first mismatch at index" in line
    assert len(lines) <= 20, text
    # Gradescope's per-check output stays complete on its own
    assert "likely cause: the factor k" in result.checks[2].feedback


def test_failures_of_no_known_cause_each_show_their_case_in_full():
    def off_by_one(x, k=1):
        return reference(x, k) + 1.0
    result = run_exercise(CUMSUM, InProcessCaller({"scaled_cumsum": off_by_one}), seed=4)
    assert [c.passed for c in result.checks] == [False] * 5    # "unmodified" not counted: no value right
    # the four value checks may hide different bugs: none is reduced to one line
    assert result.feedback().count("x = np.array(") == 4
    assert "likely cause" not in result.feedback()


def test_a_failing_case_is_printed_as_numpy_code_that_rebuilds_it_exactly():
    result = run_exercise(CUMSUM, InProcessCaller({"scaled_cumsum": forgets_k}), seed=11)
    for check, spec in zip(result.checks, CUMSUM.checks):
        if check.passed:
            continue
        shown = sorted(spec.cases(check_rng(11, CUMSUM.name, spec.name)), key=case_size)
        failing = next(case for case in shown if not np.allclose(forgets_k(*case.args, **case.kwargs),
                                                                 reference(*case.args, **case.kwargs)))
        code = "\n".join(check.failure.call[:-1])   # the definitions; the last line is the call
        namespace = {"np": np}
        exec(code, namespace)  # noqa: S102 - the feedback's own snippet, as a student would paste it
        assert np.array_equal(namespace["x"], failing.args[0]), (check.name, code)
        assert check.failure.call[-1].startswith("scaled_cumsum(x, k=")


@pytest.mark.parametrize("array", [
    np.arange(9.0).reshape(1, 1, 3, 3),
    np.random.default_rng(0).standard_normal((2, 3, 4)),          # floats that need 17 digits
    np.random.default_rng(1).permutation(96).astype(float).reshape(2, 3, 4, 4),   # > SMALL entries
    np.random.default_rng(2).standard_normal(100) * 1e-7,
    np.full((2, 2), -0.5), np.zeros((0, 3)), np.array(2.5), np.array([0, 1, 1]),
    np.arange(6, dtype=np.float32).reshape(2, 3),
])
def test_array_code_round_trips(array):
    code = compare.array_assignment("x", array)
    assert "..." not in code
    namespace = {"np": np}
    exec(code, namespace)  # noqa: S102
    assert namespace["x"].dtype == array.dtype and np.array_equal(namespace["x"], array), code


def test_an_array_too_long_to_read_is_described_instead():
    assert compare.array_assignment("x", np.random.default_rng(0).standard_normal(1000)) is None


# ---------------------------------------------------------- cells by their names
def test_cells_are_named_as_jupyterlab_counts_them(toy_lesson, tmp_path):
    notebook = nbformat.v4.new_notebook(metadata={"autograder": {"lesson": "toy"}})
    notebook.cells = [nbformat.v4.new_markdown_cell("# Toy\n## Scaling"),
                      nbformat.v4.new_code_cell(CORRECT_TOY + "\ndef helper(v):\n    return v[5]\n"),
                      nbformat.v4.new_markdown_cell("## Trying it"),
                      nbformat.v4.new_code_cell("helper(np.zeros(2))")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(notebook, str(path))
    result = grade_notebook(path, limits=FAST)
    assert result.notebook_notes() == ('cell 4 of 4 ("Trying it"): IndexError: index 5 is out of bounds '
                                       'for axis 0 with size 2')
    traceback = result.cells[-1].traceback
    assert "cell 4 of 4, line 1" in traceback and "cell 2 of 4, line 8 in helper" in traceback, traceback
    assert "In[" not in traceback
    assert "Traceback" not in result.cells[-1].stdout   # kept apart, not printed among the cell's output


def test_an_error_in_a_function_names_its_cell_and_line(toy_lesson, tmp_path):
    code = CORRECT_TOY.lstrip().replace("return x * factor", "return x[99] * factor")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", "# a first cell", code), limits=FAST)
    text = result.exercises[0].feedback()
    assert text.startswith("scale: 0 / 4 points, defined in cell 2 of 2\n"), text
    assert "IndexError raised at cell 2 of 2, line 3, in scale: return x[99] * factor" in text, text
    assert "In[" not in text
