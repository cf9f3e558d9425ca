"""ReLU, linear, flatten, softmax and cross-entropy: hand examples, a loop
linear layer, numerical gradients for every backward, and optional torch parity."""
import math

import numpy as np
import pytest

from autograder.reference.network import (
    cross_entropy, cross_entropy_backward, flatten, flatten_backward, linear, linear_backward,
    relu, relu_backward, softmax, softmax_backward)
from gradcheck import assert_grad_close, numerical_grad


def check_grads(forward, backward, arrays, name, grad_out=None, seed=0):
    """Compare backward(grad_out, *arrays) with numerical gradients of every array.

    forward(*arrays) -> out; backward(grad_out, *arrays) -> one gradient or a tuple
    of one gradient per array, in order. grad_out defaults to a random array of
    the output's shape, so every output entry is weighted differently.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    if grad_out is None:
        grad_out = np.random.default_rng(seed).standard_normal(np.shape(forward(*arrays)))
    grads = backward(grad_out, *arrays)
    if not isinstance(grads, tuple):
        grads = (grads,)
    assert len(grads) == len(arrays), f"{name}: expected {len(arrays)} gradients, got {len(grads)}"
    for i, grad in enumerate(grads):
        numeric = numerical_grad(forward, arrays, i, grad_out)
        assert_grad_close(grad, numeric, f"{name} input {i}")


# --------------------------------------------------------------------------- relu

def test_relu_hand_example_and_zero_gradient_at_zero():
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(relu(x), [0.0, 0.0, 0.0, 0.5, 3.0])
    # At x == 0 the gradient is 0, the subgradient torch picks.
    np.testing.assert_array_equal(relu_backward(np.ones(5), x), [0.0, 0.0, 0.0, 1.0, 1.0])


def test_relu_backward_matches_numerical_gradient():
    rng = np.random.default_rng(1)
    for shape in [(7,), (2, 3, 4), (2, 1, 3, 5)]:
        x = rng.uniform(0.1, 1.0, shape) * rng.choice([-1.0, 1.0], shape)  # away from the kink at 0
        check_grads(relu, relu_backward, [x], f"relu {shape}")


def test_relu_backward_rejects_grad_out_of_wrong_shape():
    with pytest.raises(ValueError, match=r"grad_out must have the output shape \(2, 3\), got \(3, 2\)"):
        relu_backward(np.ones((3, 2)), np.ones((2, 3)))


# ------------------------------------------------------------------------- linear

def loop_linear(x, w, b):
    """One output feature at a time, one product at a time: y[n, o] = b[o] + sum_i x[n, i] w[o, i]."""
    out = np.zeros((len(x), len(w)))
    for n in range(len(x)):
        for o in range(len(w)):
            total = 0.0 if b is None else b[o]
            for i in range(len(x[n])):
                total += x[n][i] * w[o][i]
            out[n, o] = total
    return out


def test_linear_hand_example():
    x = np.array([[1.0, 2.0]])
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(linear(x, w, np.array([0.0, 10.0, -3.0])), [[1.0, 12.0, 0.0]])


@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_matches_a_loop(with_bias):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    b = rng.standard_normal(3) if with_bias else None
    np.testing.assert_allclose(linear(x, w, b), loop_linear(x, w, b), rtol=1e-12, atol=1e-12)


def test_linear_applies_the_same_map_to_every_leading_index():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    out = linear(x, w, b)
    assert out.shape == (2, 3, 5)
    np.testing.assert_allclose(out[1], loop_linear(x[1], w, b), rtol=1e-12, atol=1e-12)
    assert linear(x[0, 0], w, b).shape == (5,)  # a single 1-D sample, as F.linear allows


@pytest.mark.parametrize("lead", [(), (3,), (2, 3)])
def test_linear_backward_matches_numerical_gradient(lead):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal(lead + (4,)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    # linear_backward takes no b (the bias never scales anything), yet returns grad_b.
    check_grads(linear, lambda g, x_, w_, b_: linear_backward(g, x_, w_), [x, w, b],
                f"linear {lead}")


def test_linear_backward_bias_gradient_sums_grad_out_over_samples():
    grad_out = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    _, _, grad_b = linear_backward(grad_out, np.zeros((3, 4)), np.zeros((2, 4)))
    np.testing.assert_array_equal(grad_b, [9.0, 12.0])


@pytest.mark.parametrize("x_shape, w_shape, b_shape, message", [
    ((2, 4), (3, 5), None, r"x has 4 input features .* w expects in_features=5"),
    ((2, 4), (3, 4, 1), None, r"w must be 2-D \(out_features, in_features\), got shape \(3, 4, 1\)"),
    ((), (3, 4), None, r"x must have at least 1 dimension"),
    ((2, 4), (3, 4), (4,), r"b must have shape \(out_features,\) = \(3,\), got \(4,\)"),
])
def test_linear_rejects_mismatched_shapes(x_shape, w_shape, b_shape, message):
    b = None if b_shape is None else np.zeros(b_shape)
    with pytest.raises(ValueError, match=message):
        linear(np.zeros(x_shape), np.zeros(w_shape), b)


def test_linear_backward_rejects_grad_out_of_wrong_shape():
    with pytest.raises(ValueError, match=r"grad_out must have the output shape \(2, 3\)"):
        linear_backward(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((3, 4)))


# ------------------------------------------------------------------------ flatten

@pytest.mark.parametrize("shape, start_dim, end_dim, expected", [
    ((2, 3, 4, 5), 0, -1, (120,)),
    ((2, 3, 4, 5), 1, -1, (2, 60)),          # what a CNN does before its dense layers
    ((2, 3, 4, 5), 1, 2, (2, 12, 5)),
    ((2, 3, 4, 5), -3, -2, (2, 12, 5)),
    ((2, 3, 4, 5), 2, 2, (2, 3, 4, 5)),      # merging one dimension changes nothing
    ((7,), 0, -1, (7,)),
    ((), 0, -1, (1,)),                       # torch turns a 0-D tensor into shape (1,)
    ((3, 0, 2), 1, 2, (3, 0)),
])
def test_flatten_shapes_match_torch_flatten(shape, start_dim, end_dim, expected):
    x = np.arange(int(np.prod(shape)), dtype=float).reshape(shape)
    out = flatten(x, start_dim, end_dim)
    assert out.shape == expected
    # Row-major order: flattening keeps the numbers in the order x.ravel() lists them.
    np.testing.assert_array_equal(out.ravel(), x.ravel())


def test_flatten_then_backward_round_trips_to_the_input_layout():
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5))
    for start_dim, end_dim in [(0, -1), (1, -1), (1, 2), (-2, -1)]:
        flat = flatten(x, start_dim, end_dim)
        np.testing.assert_array_equal(flatten_backward(flat, x, start_dim, end_dim), x)


def test_flatten_backward_matches_numerical_gradient():
    x = np.random.default_rng(6).standard_normal((2, 3, 2))
    for start_dim, end_dim in [(0, -1), (1, 2), (0, 1)]:
        check_grads(lambda a: flatten(a, start_dim, end_dim),
                    lambda g, a: flatten_backward(g, a, start_dim, end_dim),
                    [x], f"flatten({start_dim}, {end_dim})")


@pytest.mark.parametrize("start_dim, end_dim, message", [
    (2, 1, r"start_dim \(2\) cannot come after end_dim \(1\)"),
    (0, 3, r"end_dim must be in \[-3, 2\] for a 3-D input, got 3"),
    (-4, -1, r"start_dim must be in \[-3, 2\] for a 3-D input, got -4"),
])
def test_flatten_rejects_bad_dims(start_dim, end_dim, message):
    with pytest.raises(ValueError, match=message):
        flatten(np.zeros((2, 3, 4)), start_dim, end_dim)


def test_flatten_backward_rejects_grad_out_of_wrong_shape():
    with pytest.raises(ValueError, match=r"grad_out must have the output shape \(2, 12\), got \(24,\)"):
        flatten_backward(np.zeros(24), np.zeros((2, 3, 4)), 1)


# ------------------------------------------------------------------------ softmax

def test_softmax_hand_examples():
    np.testing.assert_array_equal(softmax(np.array([0.0, 0.0])), [0.5, 0.5])
    np.testing.assert_allclose(softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75], rtol=1e-15)
    # Huge logits would overflow exp() without the max shift.
    np.testing.assert_array_equal(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
    np.testing.assert_allclose(softmax(np.array([-1000.0, 0.0])), [0.0, 1.0], atol=1e-300)


def test_softmax_sums_to_one_along_dim_and_ignores_shifts():
    x = np.random.default_rng(7).standard_normal((2, 3, 4))
    for dim in [0, 1, 2, -1]:
        s = softmax(x, dim)
        np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-14)
        np.testing.assert_allclose(softmax(x + 5.0, dim), s, rtol=1e-12)
    np.testing.assert_allclose(softmax(x, 1)[1, :, 2], softmax(x[1, :, 2]), rtol=1e-14)


def test_softmax_backward_matches_numerical_gradient():
    x = np.random.default_rng(8).standard_normal((2, 3, 4))
    for dim in [0, 1, -1]:
        check_grads(lambda a: softmax(a, dim), lambda g, a: softmax_backward(g, a, dim),
                    [x], f"softmax dim={dim}")


def test_softmax_rejects_dim_out_of_range():
    with pytest.raises(ValueError, match=r"dim must be in \[-2, 1\] for a 2-D input, got 2"):
        softmax(np.zeros((2, 3)), 2)


# ------------------------------------------------------------------ cross-entropy

def test_cross_entropy_of_uniform_logits_is_log_k():
    for k in [2, 5, 10]:
        x = np.full((3, k), 1.7)
        assert cross_entropy(x, np.array([0, k - 1, 1])) == pytest.approx(math.log(k), rel=1e-14)


def test_cross_entropy_hand_example_averages_over_the_batch():
    # Row 0: softmax [0.25, 0.75], target 1 -> -log 0.75; row 1: target 0 -> -log 0.25.
    x = np.array([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    expected = -(math.log(0.75) + math.log(0.25)) / 2
    assert cross_entropy(x, np.array([1, 0])) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_stays_finite_for_huge_logits():
    x = np.array([[1000.0, 0.0, -1000.0]])
    assert cross_entropy(x, np.array([0])) == pytest.approx(0.0, abs=1e-300)
    assert cross_entropy(x, np.array([2])) == pytest.approx(2000.0, rel=1e-14)


def test_cross_entropy_backward_hand_example():
    x = np.array([[0.0, math.log(3.0)]])
    # (softmax - onehot) / N * grad_out = ([0.25, 0.75] - [0, 1]) * 2
    np.testing.assert_allclose(cross_entropy_backward(2.0, x, np.array([1])), [[0.5, -0.5]],
                               rtol=1e-14)


@pytest.mark.parametrize("n, k", [(1, 2), (4, 3), (3, 7)])
def test_cross_entropy_backward_matches_numerical_gradient(n, k):
    rng = np.random.default_rng(9)
    x, target = rng.standard_normal((n, k)), rng.integers(0, k, n)
    check_grads(lambda a: cross_entropy(a, target), lambda g, a: cross_entropy_backward(g, a, target),
                [x], f"cross_entropy ({n}, {k})", grad_out=np.array(0.7))


@pytest.mark.parametrize("x_shape, target, message", [
    ((2, 3), [0, 3], r"target values must be in \[0, 2\] for K=3 classes, got \[3\]"),
    ((2, 3), [-1, 0], r"target values must be in \[0, 2\] for K=3 classes, got \[-1\]"),
    ((2, 3), [0, 1, 2], r"target must have shape \(N,\) = \(2,\), got \(3,\)"),
    ((2, 3), [0.0, 1.0], r"target must hold integer class indices, got dtype float64"),
    ((6,), [0], r"x must be 2-D \(N, K\) logits, got shape \(6,\)"),
    ((1, 2, 3), [0], r"x must be 2-D \(N, K\) logits, got shape \(1, 2, 3\)"),
])
def test_cross_entropy_rejects_bad_targets_and_shapes(x_shape, target, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(np.zeros(x_shape), np.array(target))


def test_cross_entropy_rejects_an_empty_batch():
    with pytest.raises(ValueError, match=r"empty batch \(N = 0\)"):
        cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_cross_entropy_backward_rejects_non_scalar_grad_out():
    with pytest.raises(ValueError, match=r"grad_out must be a scalar .* got shape \(2,\)"):
        cross_entropy_backward(np.ones(2), np.zeros((2, 3)), np.array([0, 1]))


# ----------------------------------------------------- torch parity (skipped in CI)

def test_network_ops_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(10)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    grad = rng.standard_normal((2, 3, 5))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    F.linear(xt, wt, bt).backward(torch.tensor(grad))
    np.testing.assert_allclose(linear(x, w, b), F.linear(xt, wt, bt).detach().numpy(), rtol=1e-12)
    for ours, theirs in zip(linear_backward(grad, x, w), (xt.grad, wt.grad, bt.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-14)

    logits, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    lt = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(lt, torch.tensor(target))
    loss.backward(torch.tensor(1.3, dtype=torch.float64))
    assert cross_entropy(logits, target) == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(cross_entropy_backward(1.3, logits, target), lt.grad.numpy(),
                               rtol=1e-12, atol=1e-15)

    np.testing.assert_allclose(softmax(x, 1), F.softmax(torch.tensor(x), dim=1).numpy(), rtol=1e-12)
    xr = torch.tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    F.relu(xr).backward(torch.ones(3))
    np.testing.assert_array_equal(relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])), xr.grad.numpy())
    assert flatten(x, 1).shape == tuple(torch.flatten(torch.tensor(x), 1).shape)
    assert flatten(np.array(3.0)).shape == tuple(torch.flatten(torch.tensor(3.0)).shape)
