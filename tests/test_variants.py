"""Tests for autograder/reference/variants.py.

Evidence: each variant against the plain convolution with its structured
kernel (built here with einsum and run through the loop version in
tests/naive_conv.py), hand-written kernels (Sobel) and matrices, the
per-pixel matrix product, numerical gradients, and conv2d_matrix against
both conv2d and conv_transpose2d.
"""
import numpy as np
import pytest

import naive_conv as naive
from autograder.reference.conv import conv2d, conv_transpose2d
from autograder.reference.variants import (
    conv2d_matrix,
    depthwise_conv2d,
    depthwise_conv2d_backward,
    depthwise_separable_conv2d,
    depthwise_separable_conv2d_backward,
    flattened_conv2d,
    flattened_conv2d_backward,
    pointwise_conv2d,
    pointwise_conv2d_backward,
    spatially_separable_conv2d,
    spatially_separable_conv2d_backward,
)
from gradcheck import assert_grad_close, numerical_grad

# Compositions and loops sum in different orders: they agree to float64 round-off.
ROUNDOFF = dict(rtol=1e-10, atol=1e-12)

SOBEL_X = np.array([[-1., 0, 1], [-2, 0, 2], [-1, 0, 1]])

# (stride, padding) pairs every separable variant runs through: the stride does
# not always divide, and non-square strides catch a stride put on the wrong pass.
STRIDES_AND_PADDINGS = [(1, 0), (2, 1), ((2, 3), (1, 2)), ((3, 1), 0), (1, (0, 2))]


def check_gradients(forward, backward, arrays, n_backward, names, **kwargs):
    """backward(grad_out, *arrays[:n_backward], **kwargs) == numerical gradients of every array."""
    out = forward(*arrays, **kwargs)
    grad_out = np.random.default_rng(1).standard_normal(out.shape)
    grads = backward(grad_out, *arrays[:n_backward], **kwargs)
    assert len(grads) == len(arrays)
    for index, (name, grad) in enumerate(zip(names, grads)):
        numeric = numerical_grad(lambda *a: forward(*a, **kwargs), list(arrays), index, grad_out)
        assert_grad_close(grad, numeric, f"{forward.__name__} w.r.t. {name}, {kwargs}")


# ---------------------------------------------------------------------------
# Depthwise, pointwise, depthwise separable
# ---------------------------------------------------------------------------

def test_depthwise_conv2d_filters_each_channel_with_its_own_kernel():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((3, 1, 3, 2)), rng.standard_normal(3)
    out = depthwise_conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2))
    for c in range(3):
        alone = naive.conv2d(x[:, c:c + 1], w[c:c + 1], b[c:c + 1], stride=2, padding=1, dilation=(1, 2))
        np.testing.assert_allclose(out[:, c:c + 1], alone, **ROUNDOFF)


def test_pointwise_conv2d_is_a_fully_connected_layer_at_every_pixel():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((6, 4, 1, 1)), rng.standard_normal(6)
    out = pointwise_conv2d(x, w, b)
    for i in range(3):
        for j in range(5):
            np.testing.assert_allclose(out[:, :, i, j], x[:, :, i, j] @ w[:, :, 0, 0].T + b, **ROUNDOFF)


def test_depthwise_separable_is_depthwise_then_1x1_and_one_conv_with_a_factored_kernel():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 6))
    w_d, b_d = rng.standard_normal((3, 1, 3, 3)), rng.standard_normal(3)
    w_p, b_p = rng.standard_normal((5, 3, 1, 1)), rng.standard_normal(5)
    out = depthwise_separable_conv2d(x, w_d, w_p, b_d, b_p, stride=2, padding=1)

    hidden = naive.conv2d(x, w_d, b_d, stride=2, padding=1, groups=3)
    np.testing.assert_allclose(out, naive.conv2d(hidden, w_p, b_p), **ROUNDOFF)
    # One conv: w[o, c] = w_p[o, c] * w_d[c], and the depthwise bias passes through the 1x1 layer.
    kernel = np.einsum("oc,cij->ocij", w_p[:, :, 0, 0], w_d[:, 0])
    bias = b_p + w_p[:, :, 0, 0] @ b_d
    np.testing.assert_allclose(out, naive.conv2d(x, kernel, bias, stride=2, padding=1), **ROUNDOFF)


def test_depthwise_and_pointwise_gradients_match_numerical_gradients():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 4))
    for stride, padding in STRIDES_AND_PADDINGS:
        check_gradients(depthwise_conv2d, depthwise_conv2d_backward,
                        [x, rng.standard_normal((3, 1, 2, 3)), rng.standard_normal(3)], 2, ("x", "w", "b"),
                        stride=stride, padding=padding, dilation=(2, 1) if stride == 1 else 1)
    check_gradients(pointwise_conv2d, pointwise_conv2d_backward,
                    [x, rng.standard_normal((2, 3, 1, 1)), rng.standard_normal(2)], 2, ("x", "w", "b"))


def test_depthwise_separable_gradients_match_numerical_gradients():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 1, 3, 2)), rng.standard_normal((3, 2, 1, 1)),
              rng.standard_normal(2), rng.standard_normal(3)]
    names = ("x", "w_depthwise", "w_pointwise", "b_depthwise", "b_pointwise")
    for stride, padding in STRIDES_AND_PADDINGS[:3]:
        check_gradients(depthwise_separable_conv2d, depthwise_separable_conv2d_backward, arrays, 4, names,
                        stride=stride, padding=padding)


# ---------------------------------------------------------------------------
# Spatially separable and flattened
# ---------------------------------------------------------------------------

def test_sobel_as_column_then_row_filter_finds_a_vertical_edge_by_hand():
    # Rows are identical, so the column filter [1, 2, 1] just multiplies by 4;
    # the row filter [-1, 0, 1] then gives 4 * (x[j + 2] - x[j]) = 4, 4, 0.
    x = np.array([[0., 0, 1, 1, 1]] * 3)[None, None]
    w_col = np.array([1., 2, 1]).reshape(1, 1, 3, 1)
    w_row = np.array([-1., 0, 1]).reshape(1, 1, 1, 3)
    np.testing.assert_array_equal(spatially_separable_conv2d(x, w_col, w_row), [[[[4, 4, 0]]]])


@pytest.mark.parametrize("stride, padding", STRIDES_AND_PADDINGS)
def test_spatially_separable_sobel_equals_conv2d_with_the_sobel_kernel(stride, padding):
    x = np.random.default_rng(5).standard_normal((2, 1, 7, 8))
    w_col = np.array([1., 2, 1]).reshape(1, 1, 3, 1)
    w_row = np.array([-1., 0, 1]).reshape(1, 1, 1, 3)
    np.testing.assert_allclose(spatially_separable_conv2d(x, w_col, w_row, stride=stride, padding=padding),
                               naive.conv2d(x, SOBEL_X[None, None], stride=stride, padding=padding), **ROUNDOFF)


@pytest.mark.parametrize("stride, padding", STRIDES_AND_PADDINGS)
def test_spatially_separable_equals_conv2d_with_the_outer_product_kernel(stride, padding):
    rng = np.random.default_rng(6)
    x, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal(4)
    w_col, w_row = rng.standard_normal((4, 3, 3, 1)), rng.standard_normal((4, 1, 1, 2))
    kernel = np.einsum("oci,oj->ocij", w_col[:, :, :, 0], w_row[:, 0, 0, :])
    np.testing.assert_allclose(spatially_separable_conv2d(x, w_col, w_row, b, stride, padding),
                               naive.conv2d(x, kernel, b, stride, padding), **ROUNDOFF)


@pytest.mark.parametrize("stride, padding", STRIDES_AND_PADDINGS)
def test_flattened_conv2d_equals_conv2d_with_its_rank_one_3d_kernel(stride, padding):
    rng = np.random.default_rng(7)
    x, b = rng.standard_normal((2, 3, 6, 7)), rng.standard_normal(4)
    w_channel = rng.standard_normal((4, 3, 1, 1))
    w_vertical, w_horizontal = rng.standard_normal((4, 1, 2, 1)), rng.standard_normal((4, 1, 1, 3))
    kernel = np.einsum("oc,oi,oj->ocij", w_channel[:, :, 0, 0], w_vertical[:, 0, :, 0], w_horizontal[:, 0, 0, :])
    np.testing.assert_allclose(flattened_conv2d(x, w_channel, w_vertical, w_horizontal, b, stride, padding),
                               naive.conv2d(x, kernel, b, stride, padding), **ROUNDOFF)


def test_separable_and_flattened_gradients_match_numerical_gradients():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 2, 5, 4))
    spatial = [x, rng.standard_normal((3, 2, 2, 1)), rng.standard_normal((3, 1, 1, 3)), rng.standard_normal(3)]
    flat = [x, rng.standard_normal((3, 2, 1, 1)), rng.standard_normal((3, 1, 3, 1)),
            rng.standard_normal((3, 1, 1, 2)), rng.standard_normal(3)]
    for stride, padding in STRIDES_AND_PADDINGS:
        check_gradients(spatially_separable_conv2d, spatially_separable_conv2d_backward, spatial, 3,
                        ("x", "w_col", "w_row", "b"), stride=stride, padding=padding)
        check_gradients(flattened_conv2d, flattened_conv2d_backward, flat, 4,
                        ("x", "w_channel", "w_vertical", "w_horizontal", "b"), stride=stride, padding=padding)


# ---------------------------------------------------------------------------
# Convolution as a matrix
# ---------------------------------------------------------------------------

def test_conv2d_matrix_of_a_2x2_kernel_on_a_3x3_input_by_hand():
    w = np.array([[1., 2], [3, 4]])[None, None]
    # Output (i, j) reads input pixels (i, j), (i, j+1), (i+1, j), (i+1, j+1) of the
    # row-major 3x3 input, i.e. flat indices 3i+j, 3i+j+1, 3i+j+3, 3i+j+4.
    expected = [[1, 2, 0, 3, 4, 0, 0, 0, 0],
                [0, 1, 2, 0, 3, 4, 0, 0, 0],
                [0, 0, 0, 1, 2, 0, 3, 4, 0],
                [0, 0, 0, 0, 1, 2, 0, 3, 4]]
    np.testing.assert_array_equal(conv2d_matrix(w, (1, 3, 3)), expected)


# (input_shape, w shape, stride, padding, dilation, groups)
MATRIX_SETTINGS = [
    ((1, 4, 4), (1, 1, 3, 3), 1, 0, 1, 1),
    ((2, 5, 4), (3, 2, 2, 3), 2, 1, 1, 1),       # stride does not divide
    ((4, 5, 5), (2, 2, 3, 2), (2, 1), (0, 1), (1, 2), 2),
    ((3, 4, 6), (3, 1, 2, 2), 3, 1, 1, 3),
]


@pytest.mark.parametrize("input_shape, w_shape, stride, padding, dilation, groups", MATRIX_SETTINGS)
def test_conv2d_matrix_reproduces_conv2d_and_its_transpose_the_transposed_conv(input_shape, w_shape, stride,
                                                                               padding, dilation, groups):
    rng = np.random.default_rng(9)
    w, x = rng.standard_normal(w_shape), rng.standard_normal(input_shape)
    matrix = conv2d_matrix(w, input_shape, stride, padding, dilation, groups)
    out = naive.conv2d(x[None], w, stride=stride, padding=padding, dilation=dilation, groups=groups)[0]
    assert matrix.shape == (out.size, x.size)
    np.testing.assert_allclose(matrix @ x.ravel(), out.ravel(), **ROUNDOFF)

    # The transposed conv needs output_padding = the rows/columns the last window left over.
    s, p, d = (np.broadcast_to(v, 2) for v in (stride, padding, dilation))
    output_padding = tuple(int((n + 2 * pi - di * (k - 1) - 1) % si)
                           for n, k, si, pi, di in zip(input_shape[1:], w_shape[2:], s, p, d))
    y = rng.standard_normal(out.shape)
    transposed = conv_transpose2d(y[None], w, None, stride, padding, output_padding, groups, dilation)[0]
    np.testing.assert_allclose(matrix.T @ y.ravel(), transposed.ravel(), **ROUNDOFF)
    np.testing.assert_allclose(transposed, naive.conv_transpose2d(y[None], w, None, stride, padding,
                                                                  output_padding, groups, dilation)[0], **ROUNDOFF)


def test_conv2d_matrix_accepts_same_padding():
    w = np.random.default_rng(10).standard_normal((2, 1, 3, 2))
    x = np.random.default_rng(11).standard_normal((1, 4, 5))
    matrix = conv2d_matrix(w, x.shape, padding="same")
    np.testing.assert_allclose(matrix @ x.ravel(), conv2d(x[None], w, padding="same").ravel(), **ROUNDOFF)


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------

X = np.zeros((1, 3, 5, 5))
BAD_CALLS = [
    (lambda: depthwise_conv2d(X, np.zeros((3, 3, 3, 3))), r"w must have shape \(C, 1, kH, kW\)"),
    (lambda: depthwise_conv2d(np.zeros((3, 5, 5)), np.zeros((3, 1, 3, 3))), r"x must be 4-D"),
    (lambda: pointwise_conv2d(X, np.zeros((4, 3, 3, 3))), r"w must have shape \(C_out, C_in, 1, 1\)"),
    (lambda: pointwise_conv2d(X, np.zeros((4, 2, 1, 1))), r"C_in = 3"),
    (lambda: depthwise_separable_conv2d(X, np.zeros((3, 1, 3, 3)), np.zeros((4, 3, 3, 1))),
     r"w must have shape \(C_out, C_in, 1, 1\)"),
    (lambda: spatially_separable_conv2d(X, np.zeros((2, 3, 3, 2)), np.zeros((2, 1, 1, 3))),
     r"w_col must have shape \(C_out, C_in=3, kH, 1\), got \(2, 3, 3, 2\)"),
    (lambda: spatially_separable_conv2d(X, np.zeros((2, 3, 3, 1)), np.zeros((4, 1, 1, 3))),
     r"w_row must have shape \(C_out=2, 1, 1, kW\)"),
    (lambda: flattened_conv2d(X, np.zeros((2, 3, 1, 1)), np.zeros((2, 1, 3, 3)), np.zeros((2, 1, 1, 3))),
     r"w_vertical must have shape \(C_out=2, 1, kH, 1\)"),
    (lambda: flattened_conv2d(X, np.zeros((2, 4, 1, 1)), np.zeros((2, 1, 3, 1)), np.zeros((2, 1, 1, 3))),
     r"w_channel must have shape \(C_out, C_in=3, 1, 1\)"),
    (lambda: conv2d_matrix(np.zeros((1, 1, 2, 2)), (3, 3)), r"input_shape must be \(C_in, H, W\)"),
    (lambda: conv2d_matrix(np.zeros((1, 1, 4, 4)), (1, 3, 3)), r"larger than the padded input"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS)
def test_bad_arguments_raise_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------ lesson 3's two decompositions (CMU 11-785), issue 15

def zero_insert(x, s):
    up = np.zeros(x.shape[:2] + (s * (x.shape[2] - 1) + 1, s * (x.shape[3] - 1) + 1))
    up[:, :, ::s, ::s] = x
    return up


@pytest.mark.parametrize("stride, padding", [(2, 0), (3, 1), ((2, 3), (1, 0))])
def test_strided_convolution_is_stride_1_then_downsampling(stride, padding):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 9, 10)), rng.standard_normal((4, 3, 3, 2))
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    np.testing.assert_allclose(conv2d(x, w, stride=stride, padding=padding),
                               conv2d(x, w, padding=padding)[:, :, ::sh, ::sw], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (3, 2)])
def test_transposed_convolution_is_zero_insertion_then_a_convolution(stride, padding):
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 2, 4, 3))   # w: (C_in, C_out, kH, kW)
    kh, kw = w.shape[2:]
    rotated = w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
    expected = conv2d(zero_insert(x, stride), rotated, padding=(kh - 1 - padding, kw - 1 - padding))
    np.testing.assert_allclose(conv_transpose2d(x, w, stride=stride, padding=padding), expected,
                               rtol=1e-12, atol=1e-12)
