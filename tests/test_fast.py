"""Tests for autograder/reference/fast.py: window views, im2col / col2im and Winograd.

Evidence: loop twins written entry by entry from the docstrings' formulas
(no window views, no slicing tricks), the adjoint identity
<im2col(x), c> = <x, col2im(c)>, a convolution built from im2col and col2im
against the reference conv2d and conv2d_backward (groups included), Winograd
against direct sums to 1e-10, and torch's unfold / fold where torch is installed.
"""
import itertools

import numpy as np
import pytest

from autograder.reference import conv
from autograder.reference.fast import (WINOGRAD_AT, WINOGRAD_BT, WINOGRAD_G, col2im, im2col, pool_windows,
                                       winograd_conv2d, winograd_f23)

# (x shape, kernel_size, stride, padding, dilation): non-square, non-dividing, padded, dilated
SETTINGS = [
    ((1, 1, 4, 4), 3, 1, 0, 1),
    ((2, 3, 7, 6), (2, 3), (2, 1), (1, 2), 1),
    ((1, 2, 9, 8), 3, 2, 1, (2, 1)),
    ((3, 1, 5, 7), (3, 2), (1, 3), 0, (1, 2)),
    ((1, 2, 6, 6), 2, 3, 1, 1),
    ((2, 2, 5, 5), 1, 1, 0, 1),
]


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def naive_im2col(x, kernel_size, stride=1, padding=0, dilation=1):
    """unfold entry by entry: row (c, u, v), column (i, j); taps on the padding are 0."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, stride, padding, dilation))
    n, c, height, width = x.shape
    h_out = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    cols = np.zeros((n, c * kh * kw, h_out * w_out))
    for b, ch, u, v, i, j in itertools.product(range(n), range(c), range(kh), range(kw),
                                               range(h_out), range(w_out)):
        r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
        if 0 <= r < height and 0 <= s < width:
            cols[b, (ch * kh + u) * kw + v, i * w_out + j] = x[b, ch, r, s]
    return cols


def naive_col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """fold entry by entry: every column entry added to the pixel it came from."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, stride, padding, dilation))
    n, c, height, width = x_shape
    h_out = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    x = np.zeros(x_shape)
    for b, ch, u, v, i, j in itertools.product(range(n), range(c), range(kh), range(kw),
                                               range(h_out), range(w_out)):
        r, s = i * sh + u * dh - ph, j * sw + v * dw - pw
        if 0 <= r < height and 0 <= s < width:
            x[b, ch, r, s] += cols[b, (ch * kh + u) * kw + v, i * w_out + j]
    return x


def conv2d_im2col(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The lesson's conv2d: one matrix product per group on im2col's columns."""
    n, c_in, height, width = x.shape
    c_out, c_group, kh, kw = w.shape
    cols = im2col(x, (kh, kw), stride, padding, dilation)                 # (N, C_in*K, L)
    cols = cols.reshape(n, groups, c_group * kh * kw, -1)
    out = w.reshape(groups, c_out // groups, -1) @ cols                   # (N, g, C_out/g, L)
    (sh, sw), (ph, pw), (dh, dw) = map(_pair, (stride, padding, dilation))
    h_out = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    out = out.reshape(n, c_out, h_out, -1)
    return out if b is None else out + b[:, None, None]


def conv2d_backward_im2col(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    n, c_out = grad_out.shape[:2]
    c_group, kh, kw = w.shape[1:]
    g = grad_out.reshape(n, groups, c_out // groups, -1)
    cols = im2col(x, (kh, kw), stride, padding, dilation).reshape(n, groups, c_group * kh * kw, -1)
    grad_w = (g @ cols.swapaxes(2, 3)).sum(axis=0).reshape(w.shape)
    grad_cols = w.reshape(groups, c_out // groups, -1).swapaxes(1, 2) @ g     # (N, g, C_in/g*K, L)
    grad_x = col2im(grad_cols.reshape(n, -1, g.shape[-1]), x.shape, (kh, kw), stride, padding, dilation)
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", SETTINGS)
def test_im2col_matches_its_loop_twin(shape, kernel, stride, padding, dilation):
    x = np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(im2col(x, kernel, stride, padding, dilation),
                                  naive_im2col(x, kernel, stride, padding, dilation))


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", SETTINGS)
def test_col2im_matches_its_loop_twin_and_adds_overlaps(shape, kernel, stride, padding, dilation):
    cols = np.random.default_rng(1).standard_normal(naive_im2col(np.zeros(shape), kernel, stride,
                                                                 padding, dilation).shape)
    np.testing.assert_allclose(col2im(cols, shape, kernel, stride, padding, dilation),
                               naive_col2im(cols, shape, kernel, stride, padding, dilation), atol=1e-12)


@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", SETTINGS)
def test_col2im_is_the_adjoint_of_im2col(shape, kernel, stride, padding, dilation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    cols = im2col(x, kernel, stride, padding, dilation)
    c = rng.standard_normal(cols.shape)
    assert np.sum(cols * c) == pytest.approx(np.sum(x * col2im(c, shape, kernel, stride, padding, dilation)),
                                             rel=1e-12)


# Planes of at least 256 outputs: col2im then runs its adds under row_buffers (NumPy's
# buffer set to one plane), a path the small SETTINGS above never reach.
@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", [
    ((2, 3, 20, 18), 3, 1, 1, 1),
    ((1, 2, 41, 33), (3, 2), 2, 1, (2, 1)),
])
def test_col2im_on_large_planes_matches_its_loop_twin_and_restores_numpy_buffer(shape, kernel, stride,
                                                                               padding, dilation):
    cols = np.random.default_rng(3).standard_normal(naive_im2col(np.zeros(shape), kernel, stride,
                                                                 padding, dilation).shape)
    assert cols.shape[-1] >= 256
    buffer_size = np.getbufsize()
    np.testing.assert_allclose(col2im(cols, shape, kernel, stride, padding, dilation),
                               naive_col2im(cols, shape, kernel, stride, padding, dilation), atol=1e-12)
    assert np.getbufsize() == buffer_size


def test_col2im_of_ones_counts_the_windows_covering_each_pixel():
    # 4x4 input, 3x3 windows, stride 1: corners are in 1 window, the centre 2x2 in 4
    counts = col2im(np.ones((1, 9, 4)), (1, 1, 4, 4), 3)[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])


def test_im2col_rows_follow_the_weight_reshape():
    # row (c*kH + u)*kW + v of column l is the pixel tap (c, u, v) of w multiplies
    x = np.arange(2 * 3 * 3, dtype=float).reshape(1, 2, 3, 3)
    cols = im2col(x, 2)
    np.testing.assert_array_equal(cols[0, :, 0], [0, 1, 3, 4, 9, 10, 12, 13])
    np.testing.assert_array_equal(cols[0, 1], [1, 2, 4, 5])


CONV_SETTINGS = [
    ((2, 3, 7, 6), (4, 3, 3, 2), dict(stride=(2, 1), padding=(1, 2))),
    ((1, 4, 8, 7), (6, 2, 3, 3), dict(padding=1, dilation=(2, 1), groups=2)),
    ((2, 6, 5, 5), (6, 1, 3, 3), dict(padding=1, groups=6)),
    ((1, 2, 6, 9), (3, 2, 1, 1), dict(stride=2)),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_SETTINGS)
def test_conv2d_from_im2col_equals_the_reference_conv2d(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    np.testing.assert_allclose(conv2d_im2col(x, w, b, **kwargs), conv.conv2d(x, w, b, **kwargs), atol=1e-12)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV_SETTINGS)
def test_conv2d_backward_from_col2im_equals_the_reference(x_shape, w_shape, kwargs):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    grad_out = rng.standard_normal(conv.conv2d(x, w, **kwargs).shape)
    for got, expected in zip(conv2d_backward_im2col(grad_out, x, w, **kwargs),
                             conv.conv2d_backward(grad_out, x, w, **kwargs)):
        np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((2, 3, 6, 6), 2, None, 0), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0)), ((1, 1, 5, 5), 3, 3, 1)])
def test_pool_windows_matches_slicing_the_padded_input(shape, kernel, stride, padding):
    x = np.random.default_rng(5).standard_normal(shape)
    (kh, kw), (ph, pw) = _pair(kernel), _pair(padding)
    sh, sw = _pair(kernel if stride is None else stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=-7.0)
    windows = pool_windows(x, kernel, stride, padding, value=-7.0)
    h_out, w_out = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    assert windows.shape == (*shape[:2], h_out, w_out, kh, kw)
    for i, j in itertools.product(range(h_out), range(w_out)):
        np.testing.assert_array_equal(windows[:, :, i, j], xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw])


def test_pool_windows_copies_nothing_without_padding():
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8))
    windows = pool_windows(x, 3, 2)
    assert np.shares_memory(windows, x) and not windows.flags.owndata


def test_pool_windows_max_is_max_pool2d():
    x = np.random.default_rng(7).standard_normal((2, 3, 7, 8))
    from autograder.reference import pooling
    got = pool_windows(x, 3, 2, 1, value=-np.inf).max(axis=(-2, -1))
    np.testing.assert_array_equal(got, pooling.max_pool2d(x, 3, 2, 1))


def test_winograd_f23_equals_the_direct_sums_with_four_products():
    rng = np.random.default_rng(8)
    d, g = rng.standard_normal((6, 4)), rng.standard_normal(3)
    direct = np.stack([d[:, 0] * g[0] + d[:, 1] * g[1] + d[:, 2] * g[2],
                       d[:, 1] * g[0] + d[:, 2] * g[1] + d[:, 3] * g[2]], axis=-1)
    np.testing.assert_allclose(winograd_f23(d, g), direct, rtol=0, atol=1e-10)
    # the transforms are 4 x 4, 4 x 3 and 2 x 4: four element-wise products per tile
    assert WINOGRAD_BT.shape == (4, 4) and WINOGRAD_G.shape == (4, 3) and WINOGRAD_AT.shape == (2, 4)


def test_winograd_f23_of_hand_checked_numbers():
    # d = 1 2 3 4, g = 1 0 -1: y0 = 1 - 3 = -2, y1 = 2 - 4 = -2
    np.testing.assert_allclose(winograd_f23(np.array([1.0, 2, 3, 4]), np.array([1.0, 0, -1])), [-2, -2])


@pytest.mark.parametrize("x_shape, c_out, padding", [
    ((1, 1, 6, 6), 1, 0), ((2, 1, 7, 5), 1, 0), ((1, 3, 8, 9), 4, 1), ((2, 2, 5, 6), 3, (2, 0)), ((1, 1, 3, 3), 1, 0)])
def test_winograd_conv2d_equals_conv2d_to_1e_10(x_shape, c_out, padding):
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal(x_shape), rng.standard_normal((c_out, x_shape[1], 3, 3))
    np.testing.assert_allclose(winograd_conv2d(x, w, padding), conv.conv2d(x, w, padding=padding),
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("call, message", [
    (lambda: im2col(np.zeros((2, 3, 4)), 2), "4-D"),
    (lambda: im2col(np.zeros((1, 1, 3, 3)), 5), "does not fit"),
    (lambda: col2im(np.zeros((1, 4, 5)), (1, 1, 3, 3), 2), "cols must have shape"),
    (lambda: winograd_conv2d(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 5, 5))), "3, 3"),
    (lambda: winograd_f23(np.zeros(3), np.zeros(3)), "(..., 4)"),
    (lambda: pool_windows(np.zeros((1, 1, 4, 4)), 2, padding=-1), "non-negative"),
])
def test_bad_arguments_raise_one_line_errors(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)



@pytest.mark.parametrize("shape, kernel, stride, padding, dilation", SETTINGS)
def test_im2col_and_col2im_match_torch_unfold_and_fold(shape, kernel, stride, padding, dilation):
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    x = np.random.default_rng(10).standard_normal(shape)
    cols = functional.unfold(torch.tensor(x), kernel, dilation=dilation, padding=padding, stride=stride).numpy()
    np.testing.assert_allclose(im2col(x, kernel, stride, padding, dilation), cols)
    folded = functional.fold(torch.tensor(cols), shape[2:], kernel, dilation=dilation, padding=padding,
                             stride=stride).numpy()
    np.testing.assert_allclose(col2im(cols, shape, kernel, stride, padding, dilation), folded, atol=1e-12)
