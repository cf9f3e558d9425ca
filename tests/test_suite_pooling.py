"""Tests for autograder/grading/suites/pooling.py, the hidden checks of lesson 1.

Evidence: the reference and a deliberately simple loop implementation
(tests/naive_pooling.py) both earn full marks; every misconception, put in
the student's place, loses points with its own sentence in the feedback; the
solutions in the source notebook earn full marks; the cases stay inside what
the notebook's docstrings promise, and small. Also tests the students'
gradient-check helper shipped beside the notebook.
"""
import ast
import importlib.util
import os

import nbformat
import numpy as np
import pytest

import naive_pooling as naive
from wrong import pooling as wrong_pooling
from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.notebook import is_hidden_check, nbgrader_meta
from autograder.grading.spec import case_arguments
from autograder.grading.suites import pooling as suite
from autograder.reference import pooling as ref
from lesson_tools import ROOT, strip_markers

LESSON = suite.LESSON
NOTEBOOK = ROOT / "source" / "01_pooling" / "01_pooling.ipynb"
ANSWERS = {"q_output_shape": (8, 3, 16, 16), "q_spp_length": 5376}


def reference_namespace():
    namespace = {name: getattr(ref, name) for name in ref.__all__}
    namespace.update(ANSWERS)
    return namespace


def loop_pool_output_size(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Count the windows by sliding one (naive_pooling's rule, no formula)."""
    stride = kernel_size if stride is None else stride
    return len(naive._starts(n, kernel_size, stride, padding, 1, ceil_mode))


def loop_steps():
    """The small steps (pad2d ... distribute_value) written with plain loops over pixels."""
    def pad2d(x, padding, value=0.0):
        ph, pw = naive._hw(padding)
        n, c, h, w = np.shape(x)
        out = np.full((n, c, h + 2 * ph, w + 2 * pw), float(value))
        for r in range(h):
            for q in range(w):
                out[:, :, ph + r, pw + q] = np.asarray(x)[:, :, r, q]
        return out

    def pooling_window(x, i, j, kernel_size, stride=None):
        kh, kw = naive._hw(kernel_size)
        sh, sw = (kh, kw) if stride is None else naive._hw(stride)
        out = np.zeros(np.shape(x)[:2] + (kh, kw))
        for r in range(kh):
            for q in range(kw):
                out[:, :, r, q] = np.asarray(x)[:, :, i * sh + r, j * sw + q]
        return out

    def create_mask_from_window(window):
        window = np.asarray(window, dtype=np.float64)
        mask = np.zeros_like(window)
        for n, c in np.ndindex(*window.shape[:2]):
            best, where = -np.inf, None
            for r, q in np.ndindex(*window.shape[2:]):
                if where is None or window[n, c, r, q] > best:  # strictly larger: the first wins
                    best, where = window[n, c, r, q], (r, q)
            mask[(n, c) + where] = 1.0
        return mask

    def distribute_value(g, kernel_size):
        kh, kw = naive._hw(kernel_size)
        out = np.zeros(np.shape(g) + (kh, kw))
        for n, c in np.ndindex(*np.shape(g)):
            out[n, c] = np.asarray(g)[n, c] / (kh * kw)
        return out

    return dict(pad2d=pad2d, pooling_window=pooling_window,
                max_pool2d_unpadded=lambda x, kernel_size, stride=None:
                naive.max_pool2d(x, kernel_size, stride),
                create_mask_from_window=create_mask_from_window,
                distribute_value=distribute_value)


def loop_namespace():
    namespace = {name: getattr(naive, name) for name in
                 ("max_pool2d", "max_pool2d_backward", "avg_pool2d", "avg_pool2d_backward",
                  "adaptive_avg_pool2d", "adaptive_max_pool2d", "spatial_pyramid_pool2d")}
    namespace["pool_output_size"] = loop_pool_output_size
    namespace.update(ANSWERS, **loop_steps())
    return namespace


def grade(namespace, seed=0):
    caller = InProcessCaller(namespace)
    return {e.name: run_exercise(e, caller, seed) for e in LESSON.exercises}


def lost_points(results):
    return {name: r.max_points - r.points for name, r in results.items() if r.points < r.max_points}


# ---------------------------------------------------------------------------
# Full marks for right answers
# ---------------------------------------------------------------------------

def test_lesson_is_worth_70_points_in_notebook_order():
    assert LESSON.id == "01_pooling"
    assert LESSON.points == 70
    assert [e.name for e in LESSON.exercises] == [
        "pool_output_size", "pad2d", "pooling_window", "max_pool2d_unpadded", "max_pool2d",
        "avg_pool2d", "q_output_shape", "create_mask_from_window", "max_pool2d_backward",
        "distribute_value", "avg_pool2d_backward", "adaptive_avg_pool2d", "adaptive_max_pool2d",
        "spatial_pyramid_pool2d", "q_spp_length"]


@pytest.mark.parametrize("seed", [0, 12345])
def test_reference_scores_full_marks(seed):
    assert lost_points(grade(reference_namespace(), seed)) == {}


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_loop_implementation_scores_full_marks(seed):
    assert lost_points(grade(loop_namespace(), seed)) == {}


# An im2col-style alternative: every window as a strided view, reduced at once, and its
# gradient scattered back with np.add.at. Sizes come from the loop's window count.

def _window_view(x, kernel_size, stride, padding, ceil_mode, fill):
    """(N, C, H_out, W_out, kH, kW) view of every window of x padded with `fill`."""
    kernel = naive._hw(kernel_size)
    stride = kernel if stride is None else naive._hw(stride)
    padding = naive._hw(padding)
    out = [loop_pool_output_size(n, k, s, p, ceil_mode)
           for n, k, s, p in zip(x.shape[2:], kernel, stride, padding)]
    ends = [max((o - 1) * s + k - p - n, 0)
            for o, s, k, p, n in zip(out, stride, kernel, padding, x.shape[2:])]
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (padding[0], ends[0]),
                                                  (padding[1], ends[1])), constant_values=fill)
    view = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
    return view[:, :, ::stride[0], ::stride[1]][:, :, :out[0], :out[1]], xp.shape, padding


def _avg_divisor(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """Each window's divisor: the same windows over ones where a pixel counts."""
    pad = naive._hw(padding)
    counts = np.ones((1, 1) + x.shape[2:])
    if count_include_pad:  # the padding counts, what lies beyond it does not
        counts = np.pad(counts, ((0, 0), (0, 0), (pad[0],) * 2, (pad[1],) * 2),
                        constant_values=1.0)
        pad = (0, 0)
    view, _, _ = _window_view(counts, kernel_size, stride, pad, ceil_mode, 0.0)
    return view.sum(axis=(-2, -1))


def _scatter(xp_shape, x_shape, padding, view_shape, stride, weights):
    """Add weights (N, C, H_out, W_out, kH, kW) back onto the padded grid, then crop."""
    n, c, h_out, w_out, kh, kw = view_shape
    grad = np.zeros(xp_shape)
    rows = (np.arange(h_out) * stride[0])[:, None] + np.arange(kh)
    cols = (np.arange(w_out) * stride[1])[:, None] + np.arange(kw)
    r = rows[:, None, :, None] + 0 * cols[None, :, None, :]
    q = cols[None, :, None, :] + 0 * rows[:, None, :, None]
    np.add.at(grad, (slice(None), slice(None), r, q), weights)
    return grad[:, :, padding[0]:padding[0] + x_shape[2], padding[1]:padding[1] + x_shape[3]]


def im2col_namespace():
    def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
        view, _, _ = _window_view(x, kernel_size, stride, padding, ceil_mode, -np.inf)
        return view.max(axis=(-2, -1))

    def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True):
        view, _, _ = _window_view(x, kernel_size, stride, padding, ceil_mode, 0.0)
        return view.sum(axis=(-2, -1)) / _avg_divisor(x, kernel_size, stride, padding,
                                                      ceil_mode, count_include_pad)

    def strides(kernel_size, stride):
        return naive._hw(kernel_size if stride is None else stride)

    def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
        view, xp_shape, pad = _window_view(x, kernel_size, stride, padding, ceil_mode, -np.inf)
        flat = view.reshape(view.shape[:4] + (-1,))
        first = flat.argmax(axis=-1)  # argmax returns the first of tied maxima
        onehot = np.arange(flat.shape[-1]) == first[..., None]
        weights = (onehot * grad_out[..., None]).reshape(view.shape)
        return _scatter(xp_shape, x.shape, pad, view.shape, strides(kernel_size, stride), weights)

    def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                            count_include_pad=True):
        view, xp_shape, pad = _window_view(x, kernel_size, stride, padding, ceil_mode, 0.0)
        share = grad_out / _avg_divisor(x, kernel_size, stride, padding, ceil_mode,
                                        count_include_pad)
        weights = np.broadcast_to(share[..., None, None], view.shape)
        return _scatter(xp_shape, x.shape, pad, view.shape, strides(kernel_size, stride), weights)

    namespace = loop_namespace()
    namespace.update(max_pool2d=max_pool2d, avg_pool2d=avg_pool2d,
                     max_pool2d_backward=max_pool2d_backward,
                     avg_pool2d_backward=avg_pool2d_backward,
                     max_pool2d_unpadded=lambda x, kernel_size, stride=None:
                     max_pool2d(x, kernel_size, stride))
    return namespace


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_im2col_implementation_scores_full_marks(seed):
    assert lost_points(grade(im2col_namespace(), seed)) == {}


def torch_namespace():
    """Every exercise computed by torch.nn.functional (gradients by autograd)."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional

    def tensor(x):
        return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)

    def forward_and_backward(name):
        def forward(x, *args, **kwargs):
            return getattr(functional, name)(tensor(x), *args, **kwargs).detach().numpy()

        def backward(grad_out, x, *args, **kwargs):
            xt = tensor(x)
            getattr(functional, name)(xt, *args, **kwargs).backward(torch.tensor(grad_out))
            return xt.grad.numpy()
        return forward, backward

    def pool_output_size(n, kernel_size, stride=None, padding=0, ceil_mode=False):
        column = torch.zeros(1, 1, n, 1)
        return functional.max_pool2d(column, (kernel_size, 1), None if stride is None else
                                     (stride, 1), (padding, 0), ceil_mode=ceil_mode).shape[2]

    def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
        pool = getattr(functional, f"adaptive_{mode}_pool2d")
        return torch.cat([pool(tensor(x), level).flatten(1) for level in levels], 1) \
            .detach().numpy()

    max_pool2d, max_pool2d_backward = forward_and_backward("max_pool2d")
    avg_pool2d, avg_pool2d_backward = forward_and_backward("avg_pool2d")
    namespace = dict(ANSWERS, pool_output_size=pool_output_size, max_pool2d=max_pool2d,
                     max_pool2d_backward=max_pool2d_backward, avg_pool2d=avg_pool2d,
                     avg_pool2d_backward=avg_pool2d_backward,
                     spatial_pyramid_pool2d=spatial_pyramid_pool2d)
    for name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
        namespace[name] = forward_and_backward(name)[0]

    def pad2d(x, padding, value=0.0):
        ph, pw = naive._hw(padding)
        return functional.pad(tensor(x), (pw, pw, ph, ph), value=value).detach().numpy()

    # the other steps have no torch counterpart: their loop versions
    namespace.update(loop_steps(), pad2d=pad2d, max_pool2d_unpadded=lambda x, kernel_size,
                     stride=None: max_pool2d(x, kernel_size, stride))
    return namespace


@pytest.mark.parametrize("seed", [0, 1])
def test_torch_scores_full_marks(seed):
    assert lost_points(grade(torch_namespace(), seed)) == {}


def notebook_namespace():
    """The source notebook's setup and solution cells, run as a student who solved them."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    namespace = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue  # the model answers to the questions are markdown solution cells
        if cell.get("id") == "setup" or nbgrader_meta(cell).get("solution"):
            exec(compile(strip_markers(cell.source), cell.get("id", "cell"), "exec"), namespace)
    return namespace


def test_notebook_solutions_score_full_marks():
    assert lost_points(grade(notebook_namespace(), seed=3)) == {}


def test_notebook_optional_median_pool2d_matches_the_reference():
    median = notebook_namespace()["median_pool2d"]
    x = np.random.default_rng(0).normal(size=(2, 2, 5, 6))
    for kwargs in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1},
                   {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}):
        np.testing.assert_allclose(median(x, **kwargs), ref.median_pool2d(x, **kwargs))


def test_hidden_cells_match_the_suite_and_the_stated_total():
    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    hidden = {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in notebook.cells
              if is_hidden_check(c)}
    assert hidden == {e.name: e.points for e in LESSON.exercises}
    assert notebook.metadata["autograder"]["lesson"] == "01_pooling"
    assert f"**Points: {LESSON.points:g} in total.**" in notebook.cells[0].source
    for cell in notebook.cells:
        if is_hidden_check(cell):
            name = nbgrader_meta(cell)["grade_id"]
            assert f'check("{name}", globals())' in cell.source


def test_source_notebook_is_committed_without_outputs():
    for cell in nbformat.read(str(NOTEBOOK), as_version=4).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.get("id")


# ---------------------------------------------------------------------------
# Every misconception is produced, with its sentence
# ---------------------------------------------------------------------------

MISCONCEPTIONS = [(e, m) for e in LESSON.exercises for m in e.misconceptions]


@pytest.mark.parametrize("exercise, misconception", MISCONCEPTIONS,
                         ids=[f"{e.name}: {m.name}" for e, m in MISCONCEPTIONS])
def test_misconception_loses_points_with_its_sentence(exercise, misconception):
    namespace = reference_namespace()
    namespace[exercise.name] = misconception.fn
    result = run_exercise(exercise, InProcessCaller(namespace), seed=0)
    assert result.points < result.max_points, f"{misconception.name} kept all its points"
    assert any(misconception.message in check.feedback for check in result.checks), (
        f"no failed check names the mistake '{misconception.name}':\n{result.feedback()}")


def test_required_misconceptions_are_known():
    """The mistakes the lesson was built around each have a sentence somewhere."""
    names = {(e.name, m.name) for e, m in MISCONCEPTIONS}
    required = [("avg_pool2d_backward", "copied"), ("max_pool2d_backward", "overwritten (cell)"),
                ("avg_pool2d_backward", "overwritten"), ("max_pool2d", "zero padding"),
                ("pool_output_size", "rounded up"), ("max_pool2d", "rounded up"),
                ("avg_pool2d", "rounded up"), ("max_pool2d_backward", "every tied max"),
                ("max_pool2d_backward", "last tied max"), ("max_pool2d_backward", "stride ignored")]
    assert set(required) <= names


def test_misconception_sentences_are_one_sentence_each():
    for exercise, misconception in MISCONCEPTIONS:
        text = misconception.message
        assert text.endswith(".") and "\n" not in text, (exercise.name, misconception.name)


# ---------------------------------------------------------------------------
# Composite and short-answer exercises
# ---------------------------------------------------------------------------

def test_spp_is_judged_against_the_students_own_adaptive_pooling():
    """A bug in adaptive_max_pool2d costs its own points, not the pyramid's as well."""
    floor_bins = next(m.fn for m in suite.ADAPTIVE_MAX.misconceptions if m.name == "floor bins")

    def spp_on_floor_bins(x, levels=(1, 2, 4), mode="max"):
        pool = floor_bins if mode == "max" else ref.adaptive_avg_pool2d
        return np.concatenate([pool(x, l).reshape(len(x), -1) for l in levels], axis=1)

    namespace = reference_namespace()
    namespace.update(adaptive_max_pool2d=floor_bins, spatial_pyramid_pool2d=spp_on_floor_bins)
    assert set(lost_points(grade(namespace))) == {"adaptive_max_pool2d"}


def test_spp_falls_back_to_the_reference_when_adaptive_pooling_is_missing():
    def not_implemented(*args, **kwargs):
        raise NotImplementedError()

    namespace = reference_namespace()
    namespace.update(adaptive_max_pool2d=not_implemented, adaptive_avg_pool2d=not_implemented)
    assert set(lost_points(grade(namespace))) == {"adaptive_max_pool2d", "adaptive_avg_pool2d"}


@pytest.mark.parametrize("name, right, wrong", [
    ("q_output_shape", [8, 3, 16, 16], (8, 1, 16, 16)),
    ("q_spp_length", 5376.0, 21),
])
def test_short_answers_accept_the_right_value_only(name, right, wrong):
    exercise = LESSON.exercise(name)
    assert run_exercise(exercise, InProcessCaller({name: right}), 0).points == 1
    assert run_exercise(exercise, InProcessCaller({name: wrong}), 0).points == 0
    assert run_exercise(exercise, InProcessCaller({}), 0).points == 0


# ---------------------------------------------------------------------------
# Fair and fast cases
# ---------------------------------------------------------------------------

def all_cases(seed=0):
    for exercise in LESSON.exercises:
        for check in exercise.checks:
            rng = np.random.default_rng(seed)
            for case in check.cases(rng):
                yield exercise, check, case


def test_cases_stay_inside_what_the_docstrings_promise():
    for exercise, check, case in all_cases():
        where = f"{exercise.name}: {check.name}"
        assert "dilation" not in case.kwargs and "divisor_override" not in case.kwargs, where
        if exercise.name.startswith(("max_pool2d", "avg_pool2d")):
            # x (or grad_out, x), kernel_size, stride, padding; ceil_mode by keyword only
            padding_at = 4 if exercise.name.endswith("backward") else 3
            assert len(case.args) <= padding_at + 1, f"{where}: ceil_mode must be a keyword"
            padding = case.args[padding_at] if len(case.args) > padding_at \
                else case.kwargs.get("padding", 0)
            if exercise.name.startswith("avg_pool2d") and case.kwargs.get("ceil_mode"):
                assert padding == 0, f"{where}: avg_pool2d's ceil_mode only without padding"
        if exercise.name.startswith("adaptive"):
            # "each at least 1": an output larger than the input is allowed, as in torch
            x, output_size = case.args
            assert all(o >= 1 for o in naive._hw(output_size)), where


def words_needed(exercise, case):
    """What the name of a check holding this case must mention: everything beyond plain ints.

    Pairs, padding, ceil_mode, count_include_pad=False, stride=None, a batch or
    channels, ties (max_pool2d_backward), mode='avg' and other levels (SPP), and an
    adaptive output larger than the input each change what the code must do, so
    int-only, single-image code loses points only under names that say so.
    """
    a = case_arguments(exercise.reference, case)
    needed = set()
    if any(isinstance(a.get(k), (tuple, list)) for k in ("kernel_size", "stride", "padding",
                                                          "output_size")):
        needed.add("pair")
    if any(p > 0 for p in naive._hw(a.get("padding", 0))):
        needed.add("padding")
    if a.get("ceil_mode"):
        needed.add("ceil_mode")
    if a.get("count_include_pad") is False:
        needed.add("count_include_pad")
    if "stride" in a and a["stride"] is None:
        needed.add("stride=None")
    if "x" in a:
        if a["x"].shape[0] > 1:
            needed.add("batch")
        if a["x"].shape[1] > 1:
            needed.add("channel")
    if exercise.name == "max_pool2d_backward" and suite._tied_window(a):
        needed.add("ties")
    if a.get("mode") == "avg":
        needed.add("avg")
    if "levels" in a and tuple(a["levels"]) != (1, 2, 4):
        needed.add("levels")
    if "output_size" in a and any(o > n for o, n in zip(naive._hw(a["output_size"]),
                                                         a["x"].shape[2:])):
        needed.add("larger")
    return needed


def test_words_needed_catches_a_pair_stride_under_a_batch_name():
    case = suite.Case((np.zeros((2, 1, 4, 4)), 2), {"stride": (1, 2)})
    assert words_needed(suite.MAX_POOL2D, case) == {"pair", "batch"}
    assert words_needed(suite.POOL_OUTPUT_SIZE, suite.Case((6, 3), {"ceil_mode": True})) == {
        "stride=None", "ceil_mode"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_check_name_says_what_its_cases_need(seed):
    """A check named "batch and channels" holds no pair stride: pairs get a check of their own."""
    dishonest = []
    for exercise, check, case in all_cases(seed):
        if exercise.kind != "function":
            continue
        missing = {w for w in words_needed(exercise, case) if w not in check.name}
        if missing:
            dishonest.append(f"{exercise.name}: '{check.name}' does not mention {sorted(missing)}")
    assert not dishonest, "\n".join(sorted(set(dishonest)))


# A mistake in one of these regimes may cost only checks whose names say so.
REGIME_WORDS = {"kernel_size, stride or padding given as a pair": "pair",
                "a stride pair with sH != sW": "pair", "non-square kernel (kH != kW)": "pair",
                "a padding pair with pH != pW": "pair",
                "stride=None": "stride=None", "channels > 1": "channel", "batch > 1": "batch",
                "tied maxima in a window": "ties", "mode='avg'": "avg",
                "levels other than (1, 2, 4)": "levels",
                "an output larger than the input (n > a)": "larger"}
NAMED_WRONG = [w for w in wrong_pooling.WRONG
               if w.regime in REGIME_WORDS or w.regime.startswith(("ceil_mode", "padding"))]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("wrong", NAMED_WRONG, ids=[f"{w.exercise}: {w.description}"
                                                    for w in NAMED_WRONG])
def test_a_mistake_costs_only_checks_named_after_its_regime(wrong):
    """Int-only code loses the checks about pairs, and no check whose name is silent on pairs."""
    word = REGIME_WORDS.get(wrong.regime) or wrong.regime.split(" ")[0].rstrip(":")
    namespace = reference_namespace()
    namespace[wrong.exercise] = wrong.fn
    result = run_exercise(LESSON.exercise(wrong.exercise), InProcessCaller(namespace), seed=0)
    failed = [c.name for c in result.checks if c.points < c.max_points]
    assert failed and all(word in name for name in failed), (word, failed)


def test_cases_are_small_enough_for_loop_implementations():
    for exercise, check, case in all_cases():
        for arg in case.args:
            if isinstance(arg, np.ndarray):
                assert arg.size <= 200, f"{exercise.name}: {check.name} has an array of {arg.size}"


def test_tied_maxima_matter_only_in_the_check_about_ties():
    """Elsewhere, sending the gradient to every tied maximum gives the same grad_x."""
    every_tie = next(m.fn for m in suite.MAX_BACKWARD.misconceptions if m.name == "every tied max")
    for exercise, check, case in all_cases(seed=5):
        if exercise.name == "max_pool2d_backward" and "ties" not in check.name:
            np.testing.assert_array_equal(every_tie(*case.args, **case.kwargs),
                                          ref.max_pool2d_backward(*case.args, **case.kwargs),
                                          err_msg=check.name)


def test_random_cases_follow_the_seed():
    first = [repr(c.args) for _, _, c in all_cases(seed=1)]
    again = [repr(c.args) for _, _, c in all_cases(seed=1)]
    other = [repr(c.args) for _, _, c in all_cases(seed=2)]
    assert first == again and first != other


# ---------------------------------------------------------------------------
# The students' gradient-check helper (source/01_pooling/gradient_check.py)
# ---------------------------------------------------------------------------

def load_gradient_check():
    path = ROOT / "source" / "01_pooling" / "gradient_check.py"
    spec = importlib.util.spec_from_file_location("gradient_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_numerical_gradient_of_a_known_function_and_input_untouched():
    gc = load_gradient_check()
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    before = x.copy()
    g = np.arange(6.0).reshape(2, 3)
    # f(x) = sum(x**3 * g) has gradient 3 x**2 g; the centred difference is off by g * eps**2
    numeric = gc.numerical_gradient(lambda v: np.sum(v ** 3 * g), x)
    np.testing.assert_allclose(numeric, 3 * x ** 2 * g, atol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_has_lesson_2s_signature_and_numbers():
    # one definition in the course: lesson 2's graded exercise numerical_gradient(f, x, eps=1e-6)
    import inspect
    from autograder.grading.suites import backprop
    gc = load_gradient_check()
    lesson_2 = backprop.LESSON.exercise("numerical_gradient").reference
    assert inspect.signature(gc.numerical_gradient) == inspect.signature(lesson_2)
    x = np.random.default_rng(2).normal(size=(2, 3))
    f = lambda v: float(np.sum(np.sin(v) * v))  # noqa: E731
    np.testing.assert_allclose(gc.numerical_gradient(f, x), lesson_2(f, x), rtol=1e-12)


def test_numerical_gradient_agrees_with_the_reference_backward_under_the_guideline():
    gc = load_gradient_check()
    x = np.random.default_rng(0).permutation(30).reshape(1, 2, 3, 5) * 0.1  # distinct values
    grad_out = np.random.default_rng(1).normal(size=ref.max_pool2d(x, 2, 1).shape)
    numeric = gc.numerical_gradient(lambda v: np.sum(ref.max_pool2d(v, 2, 1) * grad_out), x)
    assert gc.relative_error(ref.max_pool2d_backward(grad_out, x, 2, 1), numeric) <= 1e-7  # right
    copied = np.ones_like(x)  # a wrong gradient is far off
    assert gc.relative_error(copied, numeric) >= 1e-2                                       # a bug


def test_relative_error_is_the_elementwise_maximum_and_checks_shapes():
    gc = load_gradient_check()
    assert gc.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gc.relative_error(np.arange(3.0), np.arange(3.0)) == 0.0
    assert gc.relative_error(np.array([1.0]), np.array([-1.0])) == pytest.approx(1.0)
    # one wrong entry among large right ones is not averaged away
    assert gc.relative_error(np.array([1000.0, 1.0]), np.array([1000.0, 2.0])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="different shapes"):
        gc.relative_error(np.zeros((2, 2)), np.zeros(4))


def test_gradient_check_helper_does_not_use_the_reference():
    # Students get this file: it may estimate gradients with numpy only, never ask the reference.
    tree = ast.parse((ROOT / "source" / "01_pooling" / "gradient_check.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported == {"numpy"}


def test_minus_inf_padding_is_compared_exactly():
    """An expected -inf must not make the grader's tolerance infinite (it once accepted 0 for it)."""
    from autograder.grading import compare
    x = -1 - np.arange(9.0).reshape(1, 1, 3, 3)
    expected = ref.pad2d(x, 1, value=-np.inf)
    assert compare.close(expected.astype(np.float32), expected)
    assert not compare.close(ref.pad2d(x, 1), expected)                     # zeros for -inf
    assert not compare.close(np.where(np.isinf(expected), expected, 0.0), expected)
    one_case = suite.Case((x, 1), {"value": -np.inf})
    value_ignored = next(m.fn for m in suite.PAD2D.misconceptions if m.name == "value ignored")
    assert not compare.close(value_ignored(*one_case.args, **one_case.kwargs), expected)


def setup_function_source(lesson_id, name):
    """The source text of `name` as the lesson's setup cell defines it."""
    notebook = nbformat.read(str(ROOT / "source" / lesson_id / f"{lesson_id}.ipynb"), as_version=4)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(strip_markers(cell.source)).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(strip_markers(cell.source), node)
    raise AssertionError(f"{lesson_id} defines no {name}")


def test_as_pair_is_lesson_2s_character_for_character():
    # issue 15: one as_pair in the course, as there is one gradient check
    assert setup_function_source("01_pooling", "as_pair") == setup_function_source(
        "02_cnn_backprop", "as_pair")
