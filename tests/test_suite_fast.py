"""Tests for the hidden checks of lesson 5, making it fast (autograder/grading/suites/fast.py).

Evidence: the reference scores full marks; loop implementations written from the
docstrings (tests/test_fast.py's twins, tests/naive_conv.py, tests/naive_pooling.py
and the loops below, none of which calls the reference) score full marks too; every
misconception, called as if it were the student's function, fails a check with its
sentence in the feedback; a composite built on a student's own buggy piece is
charged only for the piece; the source notebook's solutions score full marks and
its stubs zero.
"""
import dataclasses
import itertools
import re

import nbformat
import numpy as np
import pytest

import naive_conv
import naive_pooling
from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.notebook import is_hidden_check, nbgrader_meta
from autograder.grading.suites import fast
from autograder.hidden import find_exercise
from lesson_tools import SOLUTION, source_path, strip_markers
from test_fast import naive_col2im, naive_im2col

LESSON = fast.LESSON


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def naive_pool_windows(x, kernel_size, stride=None, padding=0, value=0.0):
    """Each window copied out of the padded input, one at a time."""
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, height, width = x.shape
    xp = np.full((n, c, height + 2 * ph, width + 2 * pw), float(value))
    xp[:, :, ph:ph + height, pw:pw + width] = x
    h_out, w_out = (height + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, h_out, w_out, kh, kw))
    for i, j in itertools.product(range(h_out), range(w_out)):
        out[:, :, i, j] = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
    return out


def naive_max_pool2d(x, kernel_size, stride=None, padding=0):
    return naive_pooling.max_pool2d(x, kernel_size, stride, padding)


def naive_conv2d_backward(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Every output pixel sends grad_out back to the inputs and weights it multiplied."""
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c_in, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    grad_x, grad_w = np.zeros(x.shape), np.zeros(w.shape)
    for b, o, i, j in itertools.product(range(n), range(c_out), *map(range, grad_out.shape[2:])):
        group = o // (c_out // groups)
        for c, u, v in itertools.product(range(c_group), range(kh), range(kw)):
            r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
            if 0 <= r < height and 0 <= s < width:
                grad_x[b, group * c_group + c, r, s] += grad_out[b, o, i, j] * w[o, c, u, v]
                grad_w[o, c, u, v] += grad_out[b, o, i, j] * x[b, group * c_group + c, r, s]
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


def naive_winograd_f23(d, g):
    return np.stack([d[..., 0] * g[0] + d[..., 1] * g[1] + d[..., 2] * g[2],
                     d[..., 1] * g[0] + d[..., 2] * g[1] + d[..., 3] * g[2]], axis=-1)


def naive_winograd_conv2d(x, w, padding=0):
    return naive_conv.conv2d(x, w, padding=padding)


NAIVE = {
    "pool_windows": naive_pool_windows,
    "max_pool2d": naive_max_pool2d,
    "im2col": naive_im2col,
    "col2im": naive_col2im,
    "conv2d": naive_conv.conv2d,
    "conv2d_backward": naive_conv2d_backward,
    "winograd_f23": naive_winograd_f23,
    "winograd_conv2d": naive_winograd_conv2d,
}


def failures(result):
    return "\n".join(f"{result.name}: {c.name}\n{c.feedback}" for c in result.checks if not c.passed)


def value_checks_only(exercise):
    """The exercise without its speed checks (timed elsewhere: tests/test_speed_checks.py)."""
    return [c for c in exercise.checks if c.kind != "speed"]


# ---------------------------------------------------------------------------
# The lesson and the reference
# ---------------------------------------------------------------------------

def test_lesson_has_the_exercises_of_the_notebook_and_100_points():
    assert LESSON.id == "05_making_it_fast"
    assert [e.name for e in LESSON.exercises] == list(NAIVE)
    assert LESSON.points == 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_scores_full_marks(seed):
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, InProcessCaller({exercise.name: exercise.reference}), seed)
        assert result.points == result.max_points, failures(result)


@pytest.mark.parametrize("seed", [0, 7])
def test_loop_implementations_score_full_marks_on_values(seed):
    # the speed check is left out: these loops are meant to fail it (tests/test_speed_checks.py)
    for exercise in LESSON.exercises:
        exercise = dataclasses.replace(exercise, checks=value_checks_only(exercise))
        result = run_exercise(exercise, InProcessCaller(NAIVE), seed)
        assert result.points == result.max_points, failures(result)


def test_value_cases_use_small_arrays():
    rng = np.random.default_rng(0)
    for exercise in LESSON.exercises:
        for check in value_checks_only(exercise):
            for case in check.cases(rng):
                arrays = [a for a in list(case.args) + list(case.kwargs.values()) if isinstance(a, np.ndarray)]
                assert sum(a.size for a in arrays) <= 400, f"{exercise.name}: {check.name}: {case.note}"


def test_max_pool2d_without_a_lesson_still_means_lesson_1():
    # lesson 1's notebooks call check("max_pool2d", globals()) without lesson=
    assert find_exercise("max_pool2d") is find_exercise("max_pool2d", "01_pooling")
    assert find_exercise("max_pool2d", "05_making_it_fast") is LESSON.exercise("max_pool2d")


# ---------------------------------------------------------------------------
# Misconceptions
# ---------------------------------------------------------------------------

MISCONCEPTIONS = [(e, m) for e in LESSON.exercises for m in e.misconceptions]


@pytest.mark.parametrize("exercise, misconception", MISCONCEPTIONS,
                         ids=[f"{e.name}-{m.name}" for e, m in MISCONCEPTIONS])
def test_every_misconception_fails_a_check_and_is_named_in_its_feedback(exercise, misconception):
    result = run_exercise(exercise, InProcessCaller({exercise.name: misconception.fn}), seed=0)
    assert result.points < result.max_points, f"{misconception.name} passes every check"
    named = [c.name for c in result.checks if misconception.message in c.feedback]
    assert named, f"no check names {misconception.name}:\n{failures(result)}"


def test_the_named_misconceptions_of_the_issue_exist():
    names = {e.name: {m.name for m in e.misconceptions} for e in LESSON.exercises}
    assert "col2im overwriting instead of adding" in names["col2im"] & names["conv2d_backward"]
    assert "column order not matching the weight reshape" in names["im2col"]
    assert "im2col column order not matching the weight reshape" in names["conv2d"]
    assert "padding applied after the window view" in names["pool_windows"] & names["im2col"]


def test_overwriting_col2im_differs_only_where_windows_overlap():
    rng = np.random.default_rng(1)
    tiles = rng.standard_normal((1, 4, 4))               # 2x2 windows, stride 2, 4x4 image
    np.testing.assert_allclose(fast.col2im_overwrite(tiles, (1, 1, 4, 4), 2, 2),
                               naive_col2im(tiles, (1, 1, 4, 4), 2, 2))
    ones = np.ones((1, 9, 4))                             # 3x3 windows, stride 1: overlap
    assert fast.col2im_overwrite(ones, (1, 1, 4, 4), 3).max() == 1
    assert naive_col2im(ones, (1, 1, 4, 4), 3).max() == 4


def test_kernel_major_im2col_is_a_row_permutation_that_breaks_the_weight_reshape():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 2, 2))
    wrong = fast.im2col_kernel_major(x, 2)
    right = naive_im2col(x, 2)
    assert sorted(wrong[0, :, 0]) == sorted(right[0, :, 0]) and not np.allclose(wrong, right)
    assert not np.allclose(w.reshape(3, -1) @ wrong[0], naive_conv.conv2d(x, w).reshape(3, -1))


def test_padding_after_the_view_keeps_the_shape_at_stride_1_but_not_the_values():
    x = -np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    wrong, right = fast.pool_windows_padded_after(x, 3, 1, 1), naive_pool_windows(x, 3, 1, 1)
    assert wrong.shape == right.shape and not np.allclose(wrong, right)


# ---------------------------------------------------------------------------
# Composites are charged for their own bugs only
# ---------------------------------------------------------------------------

def test_conv2d_wired_correctly_to_a_buggy_im2col_keeps_its_points():
    def im2col(x, kernel_size, stride=1, padding=0, dilation=1):
        return fast.im2col_kernel_major(x, kernel_size, stride, padding, dilation)

    def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
        cols = im2col(x, w.shape[2:], stride, padding, dilation)
        return fast.conv2d_from_columns(cols, w, b, groups, fast._geometry(x, w, stride, padding, dilation))

    conv = run_exercise(LESSON.exercise("conv2d"), InProcessCaller({"im2col": im2col, "conv2d": conv2d}), 0)
    assert conv.points == conv.max_points, failures(conv)
    own = run_exercise(LESSON.exercise("im2col"), InProcessCaller({"im2col": im2col}), 0)
    assert own.points < own.max_points


def test_conv2d_backward_on_an_overwriting_col2im_keeps_its_points():
    def col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
        return fast.col2im_overwrite(cols, x_shape, kernel_size, stride, padding, dilation)

    namespace = {"im2col": naive_im2col, "col2im": col2im, "conv2d_backward": fast.conv2d_backward_overwrite}
    result = run_exercise(LESSON.exercise("conv2d_backward"), InProcessCaller(namespace), 0)
    assert result.points == result.max_points, failures(result)


# ---------------------------------------------------------------------------
# The source notebook against its suite
# ---------------------------------------------------------------------------

def _notebook():
    path = source_path(LESSON.id)
    return nbformat.read(str(path), as_version=4) if path.exists() else None


NOTEBOOK = _notebook()
needs_notebook = pytest.mark.skipif(NOTEBOOK is None, reason="source/05_making_it_fast not written yet")


def notebook_functions(stub=False):
    """Run the setup cell and every answer cell (solved, or as the release stubs them)."""
    namespace = {}
    setup = next(c for c in NOTEBOOK.cells if c.get("id") == "setup")
    exec(setup.source, namespace)  # noqa: S102 - our own notebook
    for cell in NOTEBOOK.cells:
        if nbgrader_meta(cell).get("solution"):
            source = (SOLUTION.sub(lambda m: f"{m.group(1)}raise NotImplementedError()\n", cell.source)
                      if stub else strip_markers(cell.source))
            exec(source, namespace)  # noqa: S102
    return namespace


@needs_notebook
def test_notebook_solutions_score_full_marks_and_its_stubs_zero():
    solved, stubs = InProcessCaller(notebook_functions()), InProcessCaller(notebook_functions(stub=True))
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, solved, seed=5)
        assert result.points == result.max_points, failures(result)
        result = run_exercise(exercise, stubs, seed=5)
        assert result.points == 0
        assert "not implemented yet" in result.checks[0].feedback


@needs_notebook
def test_hidden_cells_name_this_lesson_and_carry_the_suite_points():
    points = {e.name: e.points for e in LESSON.exercises}
    hidden = [c for c in NOTEBOOK.cells if is_hidden_check(c)]
    assert [nbgrader_meta(c)["grade_id"] for c in hidden] == list(points)
    for cell in hidden:
        name = nbgrader_meta(cell)["grade_id"]
        assert nbgrader_meta(cell)["points"] == points[name]
        assert f'check("{name}", globals(), lesson="{LESSON.id}")' in cell.source
        assert re.search(rf"`{name}` \({points[name]:g} points\)", cell.source)
