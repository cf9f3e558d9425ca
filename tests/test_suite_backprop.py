"""Lesson 2's hidden checks (autograder/grading/suites/backprop.py): right answers pass, known
mistakes fail with their sentence, and the composite is graded on its wiring only."""
import importlib.util

import numpy as np
import pytest

import alt_conv
import naive_conv
from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.spec import named_function
from autograder.grading.suites import backprop
from autograder.reference.conv import conv2d, conv2d_backward
from autograder.reference.network import cross_entropy, cross_entropy_backward, linear, linear_backward
from autograder.reference.pooling import max_pool2d, max_pool2d_backward
from gradcheck import assert_grad_close, numerical_grad
from lesson_tools import ROOT

SEEDS = range(5)
LESSON = backprop.LESSON
ANSWERS = {"q_strided_output_shape": (64, 2, 2), "q_param_counts": (1792, 307_300),
           "q_mult_adds": (1_769_472, 307_200)}


def load_layers():
    """source/02_cnn_backprop/layers.py, the helper students get beside the notebook."""
    spec = importlib.util.spec_from_file_location("lesson2_layers", ROOT / "source" / "02_cnn_backprop" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layers = load_layers()


# ----------------------------------------------- a student who writes plain loops

def loop_conv2d_backward(grad_out, x, w, stride=1, padding=0):
    """Scatter every grad_out entry back, one multiply-add at a time (no formula, no rotation)."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    n_batch, c_in, height, width = x.shape
    c_out, _, kh, kw = w.shape
    padded = np.zeros((n_batch, c_in, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    grad_padded = np.zeros_like(padded)
    grad_w = np.zeros(w.shape)
    grad_b = np.zeros(c_out)
    for n in range(n_batch):
        for o in range(c_out):
            for i in range(grad_out.shape[2]):
                for j in range(grad_out.shape[3]):
                    g = grad_out[n, o, i, j]
                    grad_b[o] += g
                    for c in range(c_in):
                        for u in range(kh):
                            for v in range(kw):
                                grad_padded[n, c, i * sh + u, j * sw + v] += g * w[o, c, u, v]
                                grad_w[o, c, u, v] += g * padded[n, c, i * sh + u, j * sw + v]
    return grad_padded[:, :, ph:ph + height, pw:pw + width], grad_w, grad_b


def loop_numerical_gradient(f, x, eps=1e-6):
    flat = np.array(x, dtype=np.float64).reshape(-1)
    grad = np.zeros_like(flat)
    for k in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += eps
        minus[k] -= eps
        grad[k] = (f(plus.reshape(np.shape(x))) - f(minus.reshape(np.shape(x)))) / (2 * eps)
    return grad.reshape(np.shape(x))


def layers_network(conv, conv_backward):
    """The composite as the notebook asks for it, from `conv`, `conv_backward` and layers.py."""
    def network_loss_and_grads(x, y, w_conv, b_conv, w_fc, b_fc):
        conv_out = conv(x, w_conv, b_conv, stride=1, padding=1)
        activated = layers.relu(conv_out)
        pooled = layers.max_pool_2x2(activated)
        flat = pooled.reshape(len(x), -1)
        scores = layers.linear(flat, w_fc, b_fc)
        loss = layers.cross_entropy(scores, y)
        grad_flat, grad_w_fc, grad_b_fc = layers.linear_backward(
            layers.cross_entropy_backward(1.0, scores, y), flat, w_fc)
        grad_activated = layers.max_pool_2x2_backward(grad_flat.reshape(pooled.shape), activated)
        grad_conv_out = layers.relu_backward(grad_activated, conv_out)
        _, grad_w_conv, grad_b_conv = conv_backward(grad_conv_out, x, w_conv, stride=1, padding=1)
        return loss, grad_w_conv, grad_b_conv, grad_w_fc, grad_b_fc
    return network_loss_and_grads


def stride1_of(conv_backward):
    """The ladder's first step as a student who already has the general backward writes it."""
    return lambda grad_out, x, w: conv_backward(grad_out, x, w, stride=1, padding=0)


def namespace(conv=conv2d, conv_backward=conv2d_backward, numerical_gradient=backprop.centred_difference):
    return dict(ANSWERS, conv2d=conv, conv2d_backward=conv_backward, numerical_gradient=numerical_gradient,
                conv2d_backward_stride1=stride1_of(conv_backward),
                network_loss_and_grads=layers_network(conv, conv_backward))


def scores(names, seed):
    return {e.name: run_exercise(e, InProcessCaller(names), seed) for e in LESSON.exercises}


def assert_full_marks(names, seed):
    for name, result in scores(names, seed).items():
        assert result.points == result.max_points, result.feedback()


# ------------------------------------------------------------------------ scoring

def test_total_points_and_notebook_order():
    assert LESSON.points == 50
    assert [e.name for e in LESSON.exercises] == [
        "q_strided_output_shape", "q_param_counts", "q_mult_adds", "conv2d", "conv2d_backward_stride1",
        "conv2d_backward", "numerical_gradient", "network_loss_and_grads"]
    points = {e.name: e.points for e in LESSON.exercises}
    # the ladder's stride-1 step took 6 of the general backward's former 20 points
    assert (points["conv2d_backward_stride1"], points["conv2d_backward"]) == (6, 14)


def test_short_answers_follow_from_the_reference():
    x, w = np.zeros((1, 3, 6, 6)), np.zeros((64, 3, 3, 3))
    assert conv2d(x, w, stride=2).shape[1:] == ANSWERS["q_strided_output_shape"]
    # 64 filters of 27 weights and 64 biases; each of the 64 x 32 x 32 outputs costs 27 multiply-adds
    assert backprop.PARAM_COUNTS == (64 * 27 + 64, 3072 * 100 + 100) == ANSWERS["q_param_counts"]
    assert backprop.MULT_ADDS == (64 * 32 * 32 * 27, 3072 * 100) == ANSWERS["q_mult_adds"]


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(seed):
    assert_full_marks(namespace(), seed)


def test_plain_loop_implementations_score_full_marks():
    # (their speed is measured by `python -m autograder.bench_grading`, not asserted here)
    names = namespace(naive_conv.conv2d, loop_conv2d_backward, loop_numerical_gradient)
    assert_full_marks(names, seed=11)


@pytest.mark.parametrize("seed", [0, 3])
def test_im2col_einsum_and_col2im_implementations_score_full_marks(seed):
    names = namespace(alt_conv.im2col_conv2d, alt_conv.col2im_conv2d_backward, alt_conv.nditer_numerical_gradient)
    assert_full_marks(names, seed)


def test_int_only_code_loses_only_the_pair_checks():
    """Code that takes stride and padding as ints fails the checks whose names say "pairs", and no other."""
    def int_only(fn):
        def wrapped(*args, stride=1, padding=0, **kwargs):
            if isinstance(stride, tuple) or isinstance(padding, tuple):
                raise TypeError("unsupported operand type(s) for *: 'int' and 'tuple'")
            return fn(*args, stride=stride, padding=padding, **kwargs)
        return wrapped
    results = scores(namespace(int_only(conv2d), int_only(conv2d_backward)), seed=1)
    for name in ("conv2d", "conv2d_backward"):
        failed = [c.name for c in results[name].checks if not c.passed]
        assert failed and all("pairs" in c for c in failed), (name, failed)


def test_every_case_is_small():
    for exercise in LESSON.exercises:
        for check in exercise.checks:
            for case in check.cases(np.random.default_rng(0)):
                sizes = [a.size for a in case.args if isinstance(a, np.ndarray)]
                # the seed's 64 filters of (3, 3, 3) are the one larger array (a shape-only check)
                assert max(sizes, default=0) <= 1728 and sum(sizes) <= 2000, (exercise.name, check.name)


def test_unimplemented_functions_score_zero():
    def stub(*args, **kwargs):
        raise NotImplementedError()
    names = dict.fromkeys(ANSWERS)
    names.update(conv2d=stub, conv2d_backward=stub, conv2d_backward_stride1=stub, numerical_gradient=stub,
                 network_loss_and_grads=stub)
    for name, result in scores(names, seed=0).items():
        assert result.points == 0, name


# ----------------------------------------------------------------- misconceptions

MISCONCEPTIONS = [(e, m) for e in LESSON.exercises for m in e.misconceptions]


def test_the_required_misconceptions_exist():
    names = {m.name for _, m in MISCONCEPTIONS}
    assert {"flipped kernel", "grad_x kernel not rotated", "grad_w rotated", "grad_b averaged",
            "grad_b not summed over the batch", "stride ignored in grad_x", "stride ignored in grad_w"} <= names


@pytest.mark.parametrize("exercise,misconception", MISCONCEPTIONS,
                         ids=[f"{e.name}: {m.name}" for e, m in MISCONCEPTIONS])
def test_each_misconception_fails_a_check_and_is_named(exercise, misconception):
    names = namespace()
    names[exercise.name] = misconception.fn
    for seed in SEEDS:
        result = run_exercise(exercise, InProcessCaller(names), seed)
        assert result.points < result.max_points, f"seed {seed}: {misconception.name} passed every check"
        assert f"likely cause: {misconception.message}" in result.feedback(), (seed, result.feedback())


def test_misconceptions_are_real_differences_on_the_seed_example():
    """The derivation's 3x3 input and 2x2 kernel tell rotated from unrotated kernels apart."""
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    g = np.ones((1, 1, 2, 2))
    grad_x, grad_w, _ = conv2d_backward(g, x, w)
    np.testing.assert_array_equal(grad_x[0, 0], [[1, 3, 2], [4, 10, 6], [3, 7, 4]])
    np.testing.assert_array_equal(grad_w[0, 0], [[12, 16], [24, 28]])
    wrong = {m.name: m.fn for m in backprop.CONV2D_BACKWARD.misconceptions}
    np.testing.assert_array_equal(wrong["grad_x kernel not rotated"](g, x, w)[0][0, 0],
                                  [[4, 7, 3], [6, 10, 4], [2, 3, 1]])
    np.testing.assert_array_equal(wrong["grad_w rotated"](g, x, w)[1][0, 0], [[28, 24], [16, 12]])


# ---------------------------------------------------------- the composite's wiring

def test_a_wrong_conv2d_costs_only_conv2d_points():
    flipped = next(m.fn for m in backprop.CONV2D.misconceptions if m.name == "flipped kernel")
    results = scores(namespace(conv=flipped), seed=2)
    assert results["conv2d"].points < results["conv2d"].max_points
    for name in ("conv2d_backward", "network_loss_and_grads"):
        assert results[name].points == results[name].max_points, results[name].feedback()


def test_a_wrong_conv2d_backward_costs_only_its_own_points():
    averaged = next(m.fn for m in backprop.CONV2D_BACKWARD.misconceptions if m.name == "grad_b averaged")
    results = scores(namespace(conv_backward=averaged), seed=2)
    assert results["conv2d_backward"].points < results["conv2d_backward"].max_points
    assert results["network_loss_and_grads"].points == results["network_loss_and_grads"].max_points


def test_a_composite_right_on_its_own_passes_beside_a_wrong_conv2d():
    flipped = next(m.fn for m in backprop.CONV2D.misconceptions if m.name == "flipped kernel")
    names = namespace()
    names["conv2d"] = flipped            # the composite below does not use it
    result = run_exercise(backprop.NETWORK, InProcessCaller(names), seed=4)
    assert result.points == result.max_points, result.feedback()


def test_a_composite_wired_wrong_fails_even_with_a_wrong_conv2d():
    flipped = next(m.fn for m in backprop.CONV2D.misconceptions if m.name == "flipped kernel")
    names = namespace(conv=flipped)
    right = names["network_loss_and_grads"]
    names["network_loss_and_grads"] = lambda *args: tuple(2 * np.asarray(v) for v in right(*args))
    result = run_exercise(backprop.NETWORK, InProcessCaller(names), seed=4)
    # every value check fails; "inputs left unmodified" earns nothing once the grader ties it
    # to a passing value check (issue 14), and 1 point before that
    assert [c.name for c in result.checks if c.passed] in ([], ["inputs left unmodified"])


# ---------------------------------------------------- evidence for the suite itself

@pytest.mark.parametrize("case_index", range(3))
def test_analytic_gradients_of_the_test_functions(case_index):
    rng = np.random.default_rng(case_index)
    functions = [named_function("cubic", rng.standard_normal((2, 3))),
                 named_function("weighted_square_sum", rng.standard_normal((2, 3)), rng.standard_normal((2, 3))),
                 named_function("tanh_of_linear", rng.standard_normal((4, 6))),
                 named_function("log_sum_exp")]
    x = rng.standard_normal((2, 3))
    for f in functions:
        numeric = numerical_grad(lambda v: np.array(f(v)), [x.copy()], 0, np.array(1.0))
        assert_grad_close(backprop._analytic_gradient(f, x), numeric, f.name)


def network_case(seed):
    return backprop._network_cases(np.random.default_rng(seed))


@pytest.mark.parametrize("seed", range(3))
def test_reference_composite_matches_numerical_gradients(seed):
    for case in network_case(seed):
        x, y, *params = case.args
        grads = backprop.network_loss_and_grads(x, y, *params)[1:]
        for k, grad in enumerate(grads):
            def loss(value, k=k):
                changed = list(params)
                changed[k] = value
                return np.array(backprop.network_loss_and_grads(x, y, *changed)[0])
            numeric = numerical_grad(loss, [params[k].copy()], 0, np.array(1.0))
            assert_grad_close(grad, numeric, f"parameter {k}")


def test_closed_filter_gets_zero_gradient_in_the_composite_cases():
    for case in network_case(0):
        _, grad_w_conv, grad_b_conv, _, _ = backprop.network_loss_and_grads(*case.args)
        assert np.all(grad_w_conv[0] == 0) and grad_b_conv[0] == 0


# --------------------------------------------------------- layers.py, the helper

def test_layers_match_the_reference_pieces():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 4, 6))
    x[0, 0, :2, :2] = 0.0                     # a window of ties, as after ReLU
    g = rng.standard_normal((2, 3, 2, 3))
    np.testing.assert_array_equal(layers.max_pool_2x2(x), max_pool2d(x, 2))
    np.testing.assert_array_equal(layers.max_pool_2x2_backward(g, x), max_pool2d_backward(g, x, 2))
    features, w, b = rng.standard_normal((5, 7)), rng.standard_normal((3, 7)), rng.standard_normal(3)
    target = np.array([0, 2, 1, 1, 0])
    grad = rng.standard_normal((5, 3))
    np.testing.assert_allclose(layers.linear(features, w, b), linear(features, w, b), rtol=1e-12)
    for got, want in zip(layers.linear_backward(grad, features, w), linear_backward(grad, features, w)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    scores_ = 5 * rng.standard_normal((5, 3))
    np.testing.assert_allclose(layers.cross_entropy(scores_, target), cross_entropy(scores_, target), rtol=1e-12)
    np.testing.assert_allclose(layers.cross_entropy_backward(1.0, scores_, target),
                               cross_entropy_backward(1.0, scores_, target), rtol=1e-12)


def test_layers_pooling_is_only_2x2_on_even_sizes():
    with pytest.raises(ValueError, match="even height and width, got 5 x 4"):
        layers.max_pool_2x2(np.zeros((1, 1, 5, 4)))


# ------------------------------------------------ conv2d_backward_stride1, the first step

@pytest.mark.parametrize("seed", range(3))
def test_stride1_reference_matches_numerical_gradients_and_a_loop(seed):
    """Independent evidence for the ladder's first step: centred differences and a scatter loop."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 3, 2))
    g = rng.standard_normal((2, 2, 3, 3))
    grads = backprop.conv2d_backward_stride1(g, x, w)
    for got, want in zip(grads, loop_conv2d_backward(g, x, w)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    numeric_x = numerical_grad(lambda v: conv2d(v, w), [x.copy()], 0, g)
    assert_grad_close(grads[0], numeric_x, "grad_x")
    numeric_w = numerical_grad(lambda v: conv2d(x, v), [w.copy()], 0, g)
    assert_grad_close(grads[1], numeric_w, "grad_w")


def test_a_wrong_stride1_step_costs_only_its_own_points():
    names = namespace()
    names["conv2d_backward_stride1"] = lambda g, x, w: tuple(2 * a for a in conv2d_backward(g, x, w))
    results = scores(names, seed=1)
    assert results["conv2d_backward_stride1"].points == 0
    for name in ("conv2d_backward", "network_loss_and_grads"):
        assert results[name].points == results[name].max_points


def test_the_general_backward_built_on_the_stride1_step_scores_full_marks():
    """The lesson's hint: spread grad_out, pad x, call the stride-1 step, crop."""
    def general(grad_out, x, w, stride=1, padding=0):
        (sh, sw), (ph, pw) = [(v, v) if isinstance(v, int) else v for v in (stride, padding)]
        n, _, h, wd = x.shape
        kh, kw = w.shape[2:]
        x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        spread = np.zeros(grad_out.shape[:2] + (h + 2 * ph - kh + 1, wd + 2 * pw - kw + 1))
        spread[:, :, ::sh, ::sw][:, :, :grad_out.shape[2], :grad_out.shape[3]] = grad_out
        grad_x_pad, grad_w, grad_b = backprop.conv2d_backward_stride1(spread, x_pad, w)
        return grad_x_pad[:, :, ph:ph + h, pw:pw + wd], grad_w, grad_b
    assert_full_marks(namespace(conv_backward=general), seed=2)
