"""Every lesson: the grader agrees with its notebooks (full marks, zero, partial credit)."""
import contextlib

import nbformat
import numpy as np
import pytest

from autograder.grading.grader import InProcessCaller, check_rng, grade_notebook, run_exercise
from autograder.grading.lessons import get_lesson
from autograder.grading.notebook import is_hidden_check, nbgrader_meta
from lesson_tools import LESSON_IDS, code_cells_for_grading, release_path, solved_release, source_path

pytestmark = pytest.mark.skipif(not LESSON_IDS, reason="no lessons in source/ yet")


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_hidden_cells_match_the_suite_one_to_one(lesson_id):
    lesson = get_lesson(lesson_id)
    notebook = nbformat.read(str(source_path(lesson_id)), as_version=4)
    hidden = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
              if is_hidden_check(c)}
    assert hidden == {e.name: e.points for e in lesson.exercises}
    assert notebook.metadata["autograder"]["lesson"] == lesson_id


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_solved_notebook_gets_full_marks_in_the_sandbox(lesson_id, tmp_path):
    path = tmp_path / f"{lesson_id}.ipynb"
    nbformat.write(solved_release(lesson_id), str(path))
    result = grade_notebook(path)
    failed = [f"{e.name}: {c.name}\n{c.feedback}" for e in result.exercises for c in e.checks if not c.passed]
    assert result.score == result.max_score == get_lesson(lesson_id).points, "\n".join(failed)


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_unchanged_release_scores_zero(lesson_id):
    result = grade_notebook(release_path(lesson_id))
    assert result.max_score == get_lesson(lesson_id).points
    assert result.score == 0, [f"{e.name}: {c.name}" for e in result.exercises for c in e.checks if c.points]


def run_cells(sources, folder, monkeypatch):
    """Execute cells in one IPython namespace beside the notebook, as the grader's child does."""
    from IPython.core.interactiveshell import InteractiveShell
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))  # helper modules shipped beside the notebook
    shell = InteractiveShell.instance()
    shell.user_ns.clear()
    for source in sources:
        shell.run_cell(source, store_history=False, silent=True)
    import matplotlib.pyplot as plt
    plt.close("all")
    return shell.user_ns  # the live globals of the notebook's functions


def spoiled(value):
    """A wrong but well-formed version of a result: every array scaled by 1.5 and shifted."""
    if isinstance(value, (tuple, list)):
        return type(value)(spoiled(v) for v in value)
    return np.asarray(value, dtype=np.float64) * 1.5 + 1.0


@contextlib.contextmanager
def one_wrong(namespace, exercise):
    """Replace one exercise in the notebook's own globals, so functions calling it see the bug."""
    original = namespace[exercise.name]
    if exercise.kind == "value":
        namespace[exercise.name] = spoiled(original)
    else:
        namespace[exercise.name] = lambda *args, **kwargs: spoiled(original(*args, **kwargs))
    try:
        yield InProcessCaller(namespace)
    finally:
        namespace[exercise.name] = original


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_one_wrong_function_loses_only_its_own_points(lesson_id, monkeypatch):
    lesson = get_lesson(lesson_id)
    notebook = nbformat.read(str(source_path(lesson_id)), as_version=4)
    namespace = run_cells(code_cells_for_grading(notebook), source_path(lesson_id).parent, monkeypatch)
    for wrong in lesson.exercises:
        with one_wrong(namespace, wrong) as caller:
            results = {e.name: run_exercise(e, caller, seed=3) for e in lesson.exercises}
        for name, result in results.items():
            if name == wrong.name:
                assert result.points < result.max_points, f"a wrong {name} kept all its points"
            else:
                assert result.points == result.max_points, (
                    f"a wrong {wrong.name} cost {name} points:\n{result.feedback()}")


def fingerprint(cases):
    """The exact inputs of a list of cases, comparable with ==."""
    def one(value):
        if isinstance(value, np.ndarray):
            return ("array", value.shape, value.tobytes())
        if isinstance(value, (tuple, list)):
            return tuple(one(v) for v in value)
        return repr(value)
    return [(one(case.args), one(sorted(case.kwargs.items()))) for case in cases]


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_check_draws_some_cases_at_random(lesson_id):
    # A check made only of fixed cases could be passed by a lookup table of the answers its
    # feedback printed; with one random case per check, copied answers never suffice.
    lesson = get_lesson(lesson_id)
    fixed = []
    for exercise in lesson.exercises:
        if exercise.kind != "function":
            continue  # short answers: a number or a shape, nothing to draw
        for check in exercise.checks:
            drawn = [fingerprint(check.cases(check_rng(seed, exercise.name, check.name)))
                     for seed in range(4)]
            if all(cases == drawn[0] for cases in drawn):
                fixed.append(f"{exercise.name}: {check.name}")
    assert not fixed, "checks with no random case: " + "; ".join(fixed)


# ------------------------------------------------- one gradient check for the whole course

def function_source(path, name):
    """The exact source text of the top-level function `name` in the file at `path`."""
    import ast
    text = path.read_text()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(text, node)
    raise AssertionError(f"{path} defines no function {name}")


@pytest.mark.parametrize("lesson_id", ["01_pooling", "03_conv_variants", "04_normalization"])
def test_every_lesson_shares_lesson_2s_relative_error_character_for_character(lesson_id):
    # Issue 15: one definition (CS231n's elementwise relative error) and one guideline for every lesson.
    lesson2 = source_path("02_cnn_backprop").parent / "gradient_check.py"
    other = source_path(lesson_id).parent / "gradient_check.py"
    assert function_source(other, "relative_error") == function_source(lesson2, "relative_error")


def test_lessons_that_give_a_numerical_gradient_give_the_same_one():
    # One signature, numerical_gradient(f, x, eps) for a scalar f, which lesson 2 asks students to write.
    lesson1 = source_path("01_pooling").parent / "gradient_check.py"
    lesson4 = source_path("04_normalization").parent / "gradient_check.py"
    assert function_source(lesson4, "numerical_gradient") == function_source(lesson1, "numerical_gradient")


def test_lesson_2_helper_leaves_numerical_gradient_to_the_student():
    helper = (source_path("02_cnn_backprop").parent / "gradient_check.py").read_text()
    assert "def numerical_gradient" not in helper  # it is lesson 2's exercise


def test_relative_error_is_the_elementwise_maximum():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "lesson2_gradient_check", source_path("02_cnn_backprop").parent / "gradient_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # one wrong entry among large right ones is not averaged away: |1 - 2| / (1 + 2)
    assert module.relative_error(np.array([1000.0, 1.0]), np.array([1000.0, 2.0])) == pytest.approx(1 / 3)
    assert module.relative_error(np.zeros(3), np.zeros(3)) == 0.0          # the 1e-8 floor
    assert module.relative_error(np.array([1e-9]), np.array([0.0])) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="different shapes"):
        module.relative_error(np.zeros(2), np.zeros(3))
