"""Tests for the hidden checks of lesson 3, convolution variants (autograder/grading/suites/variants.py).

Evidence: the reference scores full marks; deliberately simple loop implementations
(tests/naive_conv.py and the loops below, none of which calls the reference) score
full marks too; every misconception, called
as if it were the student's function, fails at least one check with its sentence in
the feedback; a few misconceptions are checked against what their names claim; the
source notebook's own solutions score full marks and its stubs score zero.
"""
import re

import nbformat
import numpy as np
import pytest

import alt_conv
import naive_conv
from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.notebook import is_hidden_check, nbgrader_meta
from autograder.grading.suites import variants
from lesson_tools import SOLUTION, source_path, strip_markers

LESSON = variants.LESSON


# ---------------------------------------------------------------------------
# Loop implementations of the exercises that tests/naive_conv.py lacks
# ---------------------------------------------------------------------------

def _ints(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def naive_receptive_field(kernel_sizes, strides=None, dilations=None):
    """Trace output 0 of the last layer down to the input and measure the positions it reaches."""
    n = len(kernel_sizes)
    strides = [1] * n if strides is None else strides
    dilations = [1] * n if dilations is None else dilations
    reached = {0}
    for k, s, d in reversed(list(zip(kernel_sizes, strides, dilations))):
        # output p of a layer reads its input at p*s, p*s + d, ..., p*s + (k - 1)*d
        reached = {p * s + t * d for p in reached for t in range(k)}
    return max(reached) - min(reached) + 1


def naive_conv2d_matrix(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """Place every weight in the row of its output and the column of the input pixel it multiplies."""
    sh, sw = _ints(stride, 2)
    ph, pw = _ints(padding, 2)
    dh, dw = _ints(dilation, 2)
    c_in, height, width = input_shape
    c_out, c_group, kh, kw = w.shape
    h_out = len(range(0, height + 2 * ph - dh * (kh - 1), sh))
    w_out = len(range(0, width + 2 * pw - dw * (kw - 1), sw))
    matrix = np.zeros((c_out * h_out * w_out, c_in * height * width))
    for o in range(c_out):
        group = o // (c_out // groups)
        for i in range(h_out):
            for j in range(w_out):
                row = (o * h_out + i) * w_out + j
                for c in range(c_group):
                    for u in range(kh):
                        for v in range(kw):
                            r, col = i * sh + u * dh - ph, j * sw + v * dw - pw
                            if 0 <= r < height and 0 <= col < width:
                                channel = group * c_group + c
                                matrix[row, (channel * height + r) * width + col] += w[o, c, u, v]
    return matrix


def naive_depthwise_separable_conv2d(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                                     stride=1, padding=0, dilation=1):
    hidden = naive_conv.conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation, groups=x.shape[1])
    return naive_conv.conv2d(hidden, w_pointwise, b_pointwise)


def naive_flattened_conv2d(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    """conv2d with the rank-one kernel built entry by entry."""
    c_out, c_in = w_channel.shape[:2]
    kh, kw = w_vertical.shape[2], w_horizontal.shape[3]
    kernel = np.zeros((c_out, c_in, kh, kw))
    for o in range(c_out):
        for c in range(c_in):
            for u in range(kh):
                for v in range(kw):
                    kernel[o, c, u, v] = w_channel[o, c, 0, 0] * w_vertical[o, 0, u, 0] * w_horizontal[o, 0, 0, v]
    return naive_conv.conv2d(x, kernel, b, stride, padding)


def naive_channel_shuffle(x, groups):
    per_group = x.shape[1] // groups
    out = np.zeros(x.shape)
    for k in range(per_group):
        for j in range(groups):
            out[:, k * groups + j] = x[:, j * per_group + k]
    return out


NAIVE = {
    "conv2d": naive_conv.conv2d,
    "receptive_field": naive_receptive_field,
    "conv3d": naive_conv.conv3d,
    "conv_transpose2d": naive_conv.conv_transpose2d,
    "conv2d_matrix": naive_conv2d_matrix,
    "depthwise_separable_conv2d": naive_depthwise_separable_conv2d,
    "flattened_conv2d": naive_flattened_conv2d,
    "channel_shuffle": naive_channel_shuffle,
}


def failures(result):
    return "\n".join(f"{result.name}: {c.name}\n{c.feedback}" for c in result.checks if not c.passed)


# ---------------------------------------------------------------------------
# The lesson and the reference
# ---------------------------------------------------------------------------

def test_lesson_has_the_exercises_of_the_notebook_and_100_points():
    assert LESSON.id == "03_conv_variants"
    assert [e.name for e in LESSON.exercises] == list(NAIVE)
    assert LESSON.points == 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_scores_full_marks(seed):
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, InProcessCaller({exercise.name: exercise.reference}), seed)
        assert result.points == result.max_points, failures(result)


@pytest.mark.parametrize("seed", [0, 7])
def test_loop_implementations_score_full_marks(seed):
    # (their speed is measured by `python -m autograder.bench_grading`, not asserted here)
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, InProcessCaller(NAIVE), seed)
        assert result.points == result.max_points, failures(result)


ALTERNATIVES = dict(NAIVE, conv2d=alt_conv.im2col_conv2d, conv_transpose2d=alt_conv.stuffed_conv_transpose2d,
                    conv2d_matrix=alt_conv.unit_columns_conv2d_matrix)


@pytest.mark.parametrize("seed", [0, 4])
def test_im2col_zero_stuffing_and_unit_column_implementations_score_full_marks(seed):
    for name in ("conv2d", "conv_transpose2d", "conv2d_matrix"):
        result = run_exercise(LESSON.exercise(name), InProcessCaller(ALTERNATIVES), seed)
        assert result.points == result.max_points, failures(result)


def _int_only(fn):
    """fn that raises on a tuple stride, padding, dilation or output_padding, as int-only code does."""
    def wrapped(*args, **kwargs):
        if any(isinstance(v, tuple) for v in list(args[2:]) + list(kwargs.values())):
            raise TypeError("unsupported operand type(s) for *: 'int' and 'tuple'")
        return fn(*args, **kwargs)
    return wrapped


@pytest.mark.parametrize("name", ["conv2d", "conv3d", "conv_transpose2d", "conv2d_matrix",
                                  "depthwise_separable_conv2d", "flattened_conv2d"])
def test_int_only_code_loses_only_the_checks_that_name_pairs(name):
    exercise = LESSON.exercise(name)
    result = run_exercise(exercise, InProcessCaller({name: _int_only(exercise.reference)}), seed=2)
    failed = [c.name for c in result.checks if not c.passed]
    assert failed and all("pair" in c or "triple" in c for c in failed), failed


def test_cases_use_small_arrays():
    rng = np.random.default_rng(0)
    for exercise in LESSON.exercises:
        for check in exercise.checks:
            for case in check.cases(rng):
                arrays = [a for a in list(case.args) + list(case.kwargs.values()) if isinstance(a, np.ndarray)]
                assert sum(a.size for a in arrays) <= 400, f"{exercise.name}: {check.name}: {case.note}"


# ---------------------------------------------------------------------------
# Misconceptions
# ---------------------------------------------------------------------------

MISCONCEPTIONS = [(e, m) for e in LESSON.exercises for m in e.misconceptions]


@pytest.mark.parametrize("exercise, misconception", MISCONCEPTIONS,
                         ids=[f"{e.name}-{m.name}" for e, m in MISCONCEPTIONS])
def test_every_misconception_fails_a_check_and_is_named_in_its_feedback(exercise, misconception):
    result = run_exercise(exercise, InProcessCaller({exercise.name: misconception.fn}), seed=0)
    assert result.points < result.max_points, f"{misconception.name} passes every check"
    named = [c.name for c in result.checks if f"likely cause: {misconception.message}" in c.feedback]
    assert named, f"no check names {misconception.name}:\n{failures(result)}"


def test_the_required_misconceptions_exist():
    names = {e.name: {m.name for m in e.misconceptions} for e in LESSON.exercises}
    assert {"crop at the end", "crop at the start", "padding added", "output_padding ignored"} <= names["conv_transpose2d"]
    assert "inverse" in names["channel_shuffle"]
    assert {"dilation as stride", "groups ignored"} <= names["conv2d"]
    assert {"first depth only", "first depth repeated"} <= names["conv3d"]


def test_inverted_shuffle_misconception_undoes_the_shuffle():
    x = np.arange(12.0).reshape(1, 12, 1, 1)
    for groups in (2, 3, 4):
        shuffled = naive_channel_shuffle(x, groups)
        np.testing.assert_array_equal(variants.channel_shuffle_inverse(shuffled, groups), x)
        assert not np.array_equal(variants.channel_shuffle_inverse(x, groups), shuffled)


def test_transpose_crop_misconceptions_are_windows_of_the_uncropped_output():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((1, 1, 3, 3)), rng.standard_normal((1, 1, 3, 3))
    full = naive_conv.conv_transpose2d(x, w, stride=2)                        # 7x7, nothing cropped
    np.testing.assert_allclose(variants.conv_transpose2d_crop_end(x, w, stride=2, padding=1), full[..., :5, :5])
    np.testing.assert_allclose(variants.conv_transpose2d_crop_start(x, w, stride=2, padding=1), full[..., 2:, 2:])
    np.testing.assert_allclose(naive_conv.conv_transpose2d(x, w, stride=2, padding=1), full[..., 1:6, 1:6])


def test_output_padding_holds_kernel_copies_when_padding_is_positive():
    # The misconception "output_padding as zeros" differs from torch exactly there.
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3))
    correct = naive_conv.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)
    wrong = variants.conv_transpose2d_output_padding_zeros(x, w, stride=2, padding=1, output_padding=1)
    np.testing.assert_allclose(wrong[..., :5, :5], correct[..., :5, :5])
    assert np.all(wrong[..., 5, :] == 0) and np.all(correct[..., 5, :] > 0)


def test_groups_round_robin_misconception_reads_group_o_mod_groups():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 4, 3, 3)), rng.standard_normal((4, 2, 2, 2))
    out = variants.conv2d_groups_round_robin(x, w, groups=2)
    for o in range(4):
        group = o % 2
        expected = naive_conv.conv2d(x[:, 2 * group:2 * group + 2], w[o:o + 1])
        np.testing.assert_allclose(out[:, o:o + 1], expected)


# ---------------------------------------------------------------------------
# The source notebook against its suite
# ---------------------------------------------------------------------------

NOTEBOOK = nbformat.read(str(source_path(LESSON.id)), as_version=4)


def notebook_functions(stub=False):
    """Run the setup cell and every code answer cell (solved, or as the release stubs them).

    The setup cell imports gradient_check.py from beside the notebook; the markdown answer
    cells of "Questions to think about" are prose, not code.
    """
    import sys
    namespace = {}
    setup = next(c for c in NOTEBOOK.cells if c.get("id") == "setup")
    sys.path.insert(0, str(source_path(LESSON.id).parent))
    try:
        exec(setup.source, namespace)  # noqa: S102 - our own notebook
    finally:
        sys.path.remove(str(source_path(LESSON.id).parent))
    for cell in NOTEBOOK.cells:
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
            source = (SOLUTION.sub(lambda m: f"{m.group(1)}raise NotImplementedError()\n", cell.source)
                      if stub else strip_markers(cell.source))
            exec(source, namespace)  # noqa: S102
    return namespace


def test_notebook_solutions_score_full_marks_and_its_stubs_zero():
    solved, stubs = InProcessCaller(notebook_functions()), InProcessCaller(notebook_functions(stub=True))
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, solved, seed=5)
        assert result.points == result.max_points, failures(result)
        result = run_exercise(exercise, stubs, seed=5)
        assert result.points == 0
        assert "not implemented yet" in result.checks[0].feedback


def test_hidden_cells_name_this_lesson_and_carry_the_suite_points():
    points = {e.name: e.points for e in LESSON.exercises}
    hidden = [c for c in NOTEBOOK.cells if is_hidden_check(c)]
    assert [nbgrader_meta(c)["grade_id"] for c in hidden] == list(points)
    for cell in hidden:
        name = nbgrader_meta(cell)["grade_id"]
        assert nbgrader_meta(cell)["points"] == points[name]
        assert f'check("{name}", globals(), lesson="{LESSON.id}")' in cell.source
        assert re.search(rf"`{name}` \({points[name]:g} points\)", cell.source)
