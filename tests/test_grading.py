"""The grading engine on a toy lesson: scoring, feedback, robustness, CLI contract."""
import json
import subprocess
import sys

import numpy as np
import pytest

from autograder.__main__ import main
from autograder.grading import compare
from autograder.grading.grader import InProcessCaller, check_rng, grade_notebook, run_exercise
from autograder.grading.runner import Limits
from conftest import CORRECT_TOY, make_notebook, requires_bwrap

FAST = Limits(cell_seconds=5, call_seconds=3)


def scores(result):
    return {f"{e.name}: {c.name}": c.points for e in result.exercises for c in e.checks}


def test_correct_submission_gets_full_marks(toy_lesson, tmp_path):
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", CORRECT_TOY), limits=FAST)
    assert (result.score, result.max_score) == (6, 6), result.to_gradescope()


def test_unimplemented_functions_score_zero_with_a_friendly_message(toy_lesson, tmp_path):
    stub = "def scale(x, factor=2.0):\n    raise NotImplementedError()\n"
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", stub), limits=FAST)
    assert result.score == 0 and result.max_score == 6
    feedback = result.exercises[0].checks[0].feedback
    assert "not implemented yet" in feedback
    assert "no function named pair_sum" in result.exercises[1].checks[0].feedback


def test_each_output_of_a_tuple_is_scored_on_its_own(toy_lesson, tmp_path):
    code = CORRECT_TOY.replace("return a + b, a - b", "return a + b, a + b")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    assert scores(result)["pair_sum: total"] == 1
    assert scores(result)["pair_sum: difference"] == 0
    feedback = result.exercises[1].checks[1].feedback
    assert "expected difference = [-1.,  0.,  1.]" in feedback
    assert "first mismatch at index (0,): expected -1, got 1" in feedback


def test_a_known_misconception_is_named_in_feedback(toy_lesson, tmp_path):
    code = CORRECT_TOY.replace("return x * factor", "return x ** 2")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    assert "likely cause: you squared x instead of scaling it" in result.exercises[0].checks[1].feedback


def test_modifying_the_input_costs_only_the_unmodified_check(toy_lesson, tmp_path):
    code = CORRECT_TOY.replace("return x * factor", "x *= factor\n    return x")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    assert scores(result)["scale: input left unmodified"] == 0
    assert scores(result)["scale: values"] == 2
    assert "changed its input" in result.exercises[0].checks[2].feedback


def test_float32_and_list_results_of_correct_values_get_full_credit(toy_lesson, tmp_path):
    code = CORRECT_TOY.replace("return x * factor", "return (x * factor).astype(np.float32)")
    code = code.replace("return a + b, a - b", "return list(a + b), (a - b).astype(np.float32)")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    assert result.score == 6, result.to_gradescope()


@pytest.mark.parametrize("returned, message", [
    ("type('Liar', (), {'__eq__': lambda s, o: True})()", "expected a NumPy array"),
    ("(x * factor).astype(complex)", "complex dtype"),
    ("np.array([object()] * x.size)", "dtype object"),
    ("np.full(x.shape, np.nan)", "expected out"),
])
def test_fake_results_earn_nothing(toy_lesson, tmp_path, returned, message):
    code = CORRECT_TOY.replace("return x * factor", f"return {returned}")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code), limits=FAST)
    assert scores(result)["scale: values"] == 0
    assert message in result.exercises[0].checks[1].feedback


def test_ndarray_subclass_that_lies_in_comparisons_is_compared_by_its_data(toy_lesson, tmp_path):
    liar = """
class Liar(np.ndarray):
    def __eq__(self, other): return True
    def __array_ufunc__(self, *args, **kwargs): return True
def scale(x, factor=2.0):
    return np.zeros_like(x).view(Liar)
"""
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", CORRECT_TOY, liar), limits=FAST)
    assert scores(result)["scale: values"] == 0


def test_a_hanging_cell_costs_that_cell_only(toy_lesson, tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb", "import numpy as np", "while True:\n    pass",
                         CORRECT_TOY)
    result = grade_notebook(path, limits=Limits(cell_seconds=2, call_seconds=2))
    assert result.score == 6
    assert [c.status for c in result.cells] == ["ok", "timeout", "ok"]
    # named as JupyterLab counts cells: from 1, markdown included
    assert "cell 2 of 3: CellTimeoutError: did not finish within 2 s" in result.notebook_notes()


def test_a_hanging_function_fails_its_checks_and_the_rest_is_graded(toy_lesson, tmp_path):
    code = CORRECT_TOY.replace("return x * factor", "while True:\n        pass")
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", code),
                            limits=Limits(cell_seconds=3, call_seconds=1))
    assert scores(result)["scale: shape"] == 0
    assert "did not return within 1 s" in result.exercises[0].checks[0].feedback
    assert "not called again" in result.exercises[0].checks[1].feedback
    assert result.exercises[1].points == 2


@pytest.mark.parametrize("exit_code", ["import sys; sys.exit(1)", "import os; os._exit(0)",
                                       "raise KeyboardInterrupt"])
def test_exiting_cells_do_not_stop_grading(toy_lesson, tmp_path, exit_code):
    path = make_notebook(tmp_path / "nb.ipynb", CORRECT_TOY, exit_code)
    assert grade_notebook(path, limits=FAST).score == 6


def test_the_seed_is_reproducible_and_recorded(toy_lesson, tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb", CORRECT_TOY)
    first, again = grade_notebook(path, limits=FAST), grade_notebook(path, limits=FAST)
    assert first.seed == again.seed
    assert grade_notebook(path, seed=7, limits=FAST).to_gradescope()["extra_data"]["seed"] == 7
    other = make_notebook(tmp_path / "other.ipynb", CORRECT_TOY + "\n# another student")
    assert grade_notebook(other, limits=FAST).seed != first.seed



def test_hard_coding_the_cases_seen_in_feedback_fails_on_resubmission(toy_lesson, tmp_path):
    wrong = CORRECT_TOY.replace("return x * factor", "return x ** 2")
    first = grade_notebook(make_notebook(tmp_path / "first.ipynb", wrong), limits=FAST)
    assert scores(first)["scale: values"] == 0
    # The cheater knows every case of that grading exactly, more than the feedback prints.
    values = next(c for c in toy_lesson.exercise("scale").checks if c.name == "values")
    seen = [(case.args[0].tolist(), case.kwargs.get("factor", 2.0))
            for case in values.cases(check_rng(first.seed, "scale", "values"))]
    cheat = wrong.replace("def scale(x, factor=2.0):\n", f"""def scale(x, factor=2.0):
    for seen_x, seen_factor in {seen!r}:
        if np.shape(x) == np.shape(seen_x) and np.array_equal(x, seen_x):
            return np.array(seen_x) * seen_factor
""")
    path = make_notebook(tmp_path / "cheat.ipynb", cheat)
    # Against the cases it saw, the lookup table would pass ...
    assert scores(grade_notebook(path, seed=first.seed, limits=FAST))["scale: values"] == 2
    # ... but new code means a new seed and new random cases.
    again = grade_notebook(path, limits=FAST)
    assert again.seed != first.seed
    assert scores(again)["scale: values"] == 0

@pytest.mark.parametrize("content, reason", [
    (b"", "is empty"),
    (b"{not json", "not valid JSON"),
    (b'{"hello": 1}', "not a Jupyter notebook"),
    (b'{"cells": 5, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "could not be read"),
])
def test_unreadable_files_get_a_result_with_a_clear_message(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = grade_notebook(path)
    assert reason in result.error and result.score == 0


def test_a_notebook_of_no_lesson_is_reported(tmp_path):
    path = make_notebook(tmp_path / "nb.ipynb", "x = 1", lesson="")
    assert "does not belong to any lesson" in grade_notebook(path).error


def test_cli_writes_gradescope_results_and_exits_zero(toy_lesson, tmp_path, capsys):
    path = make_notebook(tmp_path / "nb.ipynb", CORRECT_TOY)
    out = tmp_path / "results.json"
    assert main(["grade", str(path), "-o", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["score"] == results["max_score"] == 6
    assert {"name", "score", "max_score", "status", "output"} <= set(results["tests"][0])
    assert all(t["name"].split(":")[0] in ("scale", "pair_sum") for t in results["tests"])
    assert "total: 6 / 6" in capsys.readouterr().out


def test_cli_grades_a_broken_file_with_exit_zero(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    out = tmp_path / "results.json"
    assert main(["grade", str(path), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["score"] == 0


@pytest.mark.parametrize("argv", [["grade", "/no/such.ipynb"], ["grade"], ["frobnicate"]])
def test_cli_unusable_arguments_exit_two_with_one_line(argv):
    done = subprocess.run([sys.executable, "-m", "autograder", *argv], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith(("error:", "python -m autograder"))


def test_in_process_caller_matches_the_sandbox(toy_lesson):
    namespace = {}
    exec(CORRECT_TOY, namespace)
    result = run_exercise(toy_lesson.exercise("scale"), InProcessCaller(namespace), seed=1)
    assert result.points == result.max_points == 4


@requires_bwrap
def test_student_code_cannot_import_or_read_the_reference(toy_lesson, tmp_path):
    from autograder.grading import sandbox
    reference = sandbox.PACKAGE_DIR / "reference" / "__init__.py"
    spy = f"""
import numpy as np
found = []
try:
    import autograder.reference
    found.append("import")
except ImportError:
    pass
try:
    open({str(reference)!r}).read()
    found.append("read")
except OSError:
    pass
def scale(x, factor=2.0):
    return np.full(x.shape, float(len(found)))
"""
    result = grade_notebook(make_notebook(tmp_path / "nb.ipynb", spy), limits=FAST)
    got = result.exercises[0].checks[1].feedback
    assert "got out = [0., 0., 0., 0.]" in got, got


def test_a_returned_scalar_keeps_its_zero_dimensional_shape(toy_lesson, tmp_path):
    from autograder.grading.runner import Session
    with Session({}, FAST) as session:
        session.run_cell(0, "def answer():\n    return 7")
        report = session.call("answer")
    assert report.ok and report.outputs[0].shape == () and report.outputs[0] == 7


def test_small_arrays_in_feedback_are_printed_whole_and_compactly():
    # a (1, 6, 1, 1) channel order, as channel_shuffle's feedback shows it: one line per channel,
    # not numpy's blank line between every block
    shown = compare.show_array(np.arange(6.0).reshape(1, 6, 1, 1), "x")
    assert shown.splitlines() == ["    x = [[[[0.]],"] + [f"          [[{k}.]]," for k in range(1, 5)] \
        + ["          [[5.]]]]"]
    # past SMALL entries only the shape and the range are given
    assert compare.show_array(np.arange(65.0), "x") == \
        "    x: shape (65,), values from 0 to 64 (too large to print)"
