"""Tests for autograder/reference/pooling.py.

Evidence: the seed's hand-computed examples, numerical gradients, identities
(adaptive = ordinary pooling, average pooling = a constant convolution), the
loop implementation in tests/naive_pooling.py and, when torch is installed,
torch itself.
"""
import numpy as np
import pytest

import naive_pooling as naive
from autograder.reference.pooling import (
    adaptive_avg_pool2d,
    adaptive_avg_pool2d_backward,
    adaptive_max_pool2d,
    adaptive_max_pool2d_backward,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    median_pool2d,
    pool_output_size,
    spatial_pyramid_pool2d,
    spatial_pyramid_pool2d_backward,
    spp_paper_bins_cover,
    spp_window_stride,
)
from gradcheck import assert_grad_close, numerical_grad


def image(rows):
    """A (1, 1, H, W) float array from nested lists."""
    return np.array(rows, dtype=np.float64)[None, None]


# Loop, matrix and torch implementations sum in different orders: they agree to float64
# round-off, and a mean that cancels to zero comes out as ~1e-16, hence the atol.
ROUNDOFF = dict(rtol=1e-10, atol=1e-12)

SEED_3X3 = image([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
SEED_4X4 = image(np.arange(16).reshape(4, 4))

# Shapes and settings every gradient and loop comparison runs through:
# (x shape, kernel_size, stride, padding, ceil_mode)
SETTINGS = [
    ((1, 1, 4, 4), 2, None, 0, False),         # the textbook case
    ((2, 3, 5, 6), (2, 3), (1, 2), 0, False),  # non-square input, kernel, stride; batch, channels
    ((1, 2, 5, 5), 3, 2, 1, False),            # padding, overlapping windows (kernel > stride)
    ((2, 1, 7, 6), 3, 2, 0, True),             # stride does not divide, ceil_mode
    ((1, 1, 5, 5), 2, 2, 1, True),             # ceil_mode window past the padding (dropped)
    ((1, 2, 6, 5), (3, 2), (2, 3), (1, 1), True),
    ((1, 1, 4, 7), 3, 1, (0, 1), False),       # stride 1, padding on one axis only
    ((2, 1, 3, 3), 4, 2, 0, True),             # ceil_mode keeps a window larger than the input
]


def distinct_values(shape, rng):
    """Inputs without ties (gaps of 0.1 >> gradcheck's eps), so max pooling is differentiable."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 2.0


# ---------------------------------------------------------------------------
# The seed's worked examples
# ---------------------------------------------------------------------------

def test_seed_example_3x3_kernel_2_stride_1():
    np.testing.assert_array_equal(max_pool2d(SEED_3X3, 2, stride=1), image([[4, 5], [7, 8]]))
    np.testing.assert_array_equal(avg_pool2d(SEED_3X3, 2, stride=1), image([[2, 3], [5, 6]]))


def test_seed_example_4x4_kernel_2_stride_2():
    np.testing.assert_array_equal(max_pool2d(SEED_4X4, 2, stride=2), image([[5, 7], [13, 15]]))
    np.testing.assert_array_equal(avg_pool2d(SEED_4X4, 2, stride=2),
                                  image([[2.5, 4.5], [10.5, 12.5]]))


def test_seed_example_padding_1_gives_4x4():
    # Window (i, j) covers input rows {i-1, i} and columns {j-1, j}; sums by hand:
    sums = np.array([[0, 1, 3, 2],
                     [3, 8, 12, 7],
                     [9, 20, 24, 13],
                     [6, 13, 15, 8]], dtype=float)
    real_pixels = np.array([[1, 2, 2, 1],
                            [2, 4, 4, 2],
                            [2, 4, 4, 2],
                            [1, 2, 2, 1]], dtype=float)
    np.testing.assert_array_equal(
        max_pool2d(SEED_3X3, 2, stride=1, padding=1),
        image([[0, 1, 2, 2], [3, 4, 5, 5], [6, 7, 8, 8], [6, 7, 8, 8]]))
    np.testing.assert_allclose(avg_pool2d(SEED_3X3, 2, stride=1, padding=1), image(sums / 4))
    np.testing.assert_allclose(
        avg_pool2d(SEED_3X3, 2, stride=1, padding=1, count_include_pad=False),
        image(sums / real_pixels))
    # the seed's first windows: mean(0, 0, 0, 0) and mean(0, 0, 0, 1)
    assert avg_pool2d(SEED_3X3, 2, stride=1, padding=1)[0, 0, 0, :2].tolist() == [0.0, 0.25]


def test_seed_example_pools_each_channel_separately():
    x = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                  [[10, 20, 30], [40, 50, 60], [70, 80, 90]],
                  [[11, 22, 33], [44, 55, 66], [77, 88, 99]]], dtype=float)[None]
    expected = np.array([[[4, 5], [7, 8]],
                         [[50, 60], [80, 90]],
                         [[55, 66], [88, 99]]], dtype=float)[None]
    out = max_pool2d(x, 2, stride=1)
    assert out.shape == (1, 3, 2, 2)  # channel count unchanged
    np.testing.assert_array_equal(out, expected)


def test_seed_exercise_32x32_kernel_2_stride_2_gives_16x16():
    assert max_pool2d(np.zeros((1, 1, 32, 32)), 2, stride=2).shape == (1, 1, 16, 16)
    assert pool_output_size(32, 2, 2) == 16


def test_pool_output_size_rounds_down_or_up_with_ceil_mode():
    assert pool_output_size(6, 3, 2) == 2                  # (6 - 3) / 2 + 1 = 2.5 -> 2
    assert pool_output_size(6, 3, 2, ceil_mode=True) == 3  # -> 3
    assert max_pool2d(np.zeros((1, 1, 6, 6)), 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)


def test_pool_output_size_drops_a_ceil_window_that_starts_in_the_right_padding():
    # 5 + 2*1 = 7 padded pixels, kernel 2, stride 2: ceil((7 - 2) / 2) + 1 = 4, but window 4
    # would start at padded index 6, the right padding, so torch keeps 3.
    assert pool_output_size(5, 2, 2, padding=1, ceil_mode=True) == 3
    assert pool_output_size(5, 2, 2, padding=0, ceil_mode=True) == 3  # starts at 4: inside
    assert pool_output_size(5, 2, 2, padding=0) == 2


def test_pool_output_size_with_dilation():
    # effective kernel 2*(3-1)+1 = 5: (7 - 5) / 1 + 1 = 3
    assert pool_output_size(7, 3, 1, dilation=2) == 3


# ---------------------------------------------------------------------------
# Forward properties
# ---------------------------------------------------------------------------

def test_max_pool2d_pads_with_minus_infinity_not_zero():
    x = -1.0 - SEED_3X3  # all negative: -1 .. -9
    out = max_pool2d(x, 2, stride=1, padding=1)
    assert (out < 0).all(), "padding must never win the max"
    np.testing.assert_array_equal(out[0, 0, 0], [-1, -1, -2, -3])
    np.testing.assert_array_equal(out[0, 0, 3], [-7, -7, -8, -9])


def test_max_pool2d_propagates_nan():
    x = image([[1, np.nan, 2, 3], [0, 5, 6, 7]])
    np.testing.assert_array_equal(max_pool2d(x, 2), image([[np.nan, 7]]))


def test_avg_pool2d_ceil_mode_divides_by_window_clipped_to_padded_input():
    # 5x5 ones, kernel 2, stride 2, ceil_mode: the last row/column of windows covers one real
    # pixel and one pixel past the (zero) padding; torch divides by the clipped window.
    out = avg_pool2d(np.ones((1, 1, 5, 5)), 2, 2, ceil_mode=True)
    np.testing.assert_array_equal(out, np.ones((1, 1, 3, 3)))
    # 4x4 ones, kernel 3, stride 2, padding 1, ceil_mode: windows start at -1, 1 and 3.
    # Per axis, real pixels / window clipped to [-1, 5): 2/3, 3/3, and 1/2 for the last
    # window (pixel 3, padding 4, and 5 which lies past the padding and is not counted).
    out = avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, padding=1, ceil_mode=True)
    per_axis = np.array([2 / 3, 1, 1 / 2])
    np.testing.assert_allclose(out, np.outer(per_axis, per_axis)[None, None])
    # count_include_pad=False divides by the real pixels only: the mean of ones is one
    out = avg_pool2d(np.ones((1, 1, 4, 4)), 3, 2, padding=1, ceil_mode=True,
                     count_include_pad=False)
    np.testing.assert_allclose(out, np.ones((1, 1, 3, 3)))


def test_avg_pool2d_divisor_override_replaces_the_window_size():
    np.testing.assert_array_equal(avg_pool2d(SEED_4X4, 2, divisor_override=1),
                                  image([[10, 18], [42, 50]]))


def test_adaptive_pooling_uses_floor_and_ceil_bins():
    # 5 columns into 3 bins: [0, 2), [1, 4), [3, 5): the bins overlap
    x = image([[0, 1, 2, 3, 4]])
    np.testing.assert_allclose(adaptive_avg_pool2d(x, (1, 3)), image([[0.5, 2, 3.5]]))
    np.testing.assert_array_equal(adaptive_max_pool2d(x, (1, 3)), image([[1, 3, 4]]))


def test_adaptive_pooling_none_keeps_that_input_size():
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    assert adaptive_avg_pool2d(x, (None, 2)).shape == (2, 3, 5, 2)
    np.testing.assert_allclose(adaptive_max_pool2d(x, (None, 1)), x.max(axis=3, keepdims=True))


def test_median_pool2d_ignores_padding_and_resists_outliers():
    # corner window with padding 1 holds the real pixels 0, 1, 3, 4: median 2
    out = median_pool2d(SEED_3X3, 3, stride=1, padding=1)
    assert out[0, 0, 0, 0] == 2.0 and out[0, 0, 1, 1] == 4.0
    spike = image([[1, 2, 1, 2], [2, 1000, 2, 1], [1, 2, 1, 2], [2, 1, 2, 1]])
    np.testing.assert_array_equal(median_pool2d(spike, 2), image([[2, 1.5], [1.5, 1.5]]))


# ---------------------------------------------------------------------------
# Backward: hand examples
# ---------------------------------------------------------------------------

def test_max_pool2d_backward_gives_ties_to_the_first_maximum():
    grad = max_pool2d_backward(image([[5.0]]), image([[1, 3], [3, 3]]), 2)
    np.testing.assert_array_equal(grad, image([[0, 5], [0, 0]]))  # row-major: (0, 1) first
    grad = adaptive_max_pool2d_backward(image([[5.0]]), image([[1, 3], [3, 3]]), 1)
    np.testing.assert_array_equal(grad, image([[0, 5], [0, 0]]))


def test_max_pool2d_backward_credits_first_real_pixel_when_all_values_are_minus_inf():
    # torch's rule: a window of -inf (never beaten by the -inf padding) credits its first
    # real pixel. Windows start at -1, 0, 1, 2: first real pixels 0, 0, 1, 2.
    x = np.full((1, 1, 1, 4), -np.inf)
    grad = max_pool2d_backward(np.ones((1, 1, 1, 4)), x, (1, 3), stride=1, padding=(0, 1))
    np.testing.assert_array_equal(grad, image([[2, 1, 1, 0]]))


def test_max_pool2d_backward_accumulates_overlapping_windows():
    x = image([[0, 1, 0], [2, 9, 3], [0, 4, 0]])  # 9 wins all four 2x2 windows
    grad = max_pool2d_backward(image([[1, 2], [3, 4]]), x, 2, stride=1)
    np.testing.assert_array_equal(grad, image([[0, 0, 0], [0, 10, 0], [0, 0, 0]]))


def test_avg_pool2d_backward_divides_by_window_size():
    # one 2x2 window: each pixel gets a quarter of the gradient
    np.testing.assert_array_equal(avg_pool2d_backward(image([[8.0]]), np.zeros((1, 1, 2, 2)), 2),
                                  image([[2, 2], [2, 2]]))
    # four overlapping 2x2 windows on 3x3: the centre is in 4 windows, edges in 2, corners in 1
    grad = avg_pool2d_backward(np.ones((1, 1, 2, 2)), SEED_3X3, 2, stride=1)
    np.testing.assert_array_equal(grad, image([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)


def test_adaptive_avg_pool2d_backward_splits_over_overlapping_bins():
    # bins [0, 2), [1, 4), [3, 5): pixel 1 is in the first two, pixel 3 in the last two
    grad = adaptive_avg_pool2d_backward(image([[6.0, 6.0, 6.0]]), np.zeros((1, 1, 1, 5)), (1, 3))
    np.testing.assert_allclose(grad, image([[3, 3 + 2, 2, 2 + 3, 3]]))


# ---------------------------------------------------------------------------
# Backward: numerical gradients over many shapes and settings
# ---------------------------------------------------------------------------

def check_gradient(forward, backward, x, rng, **settings):
    """Compare backward(grad_out, x, **settings) with a numerical gradient of forward."""
    out = forward(x, **settings)
    grad_out = rng.standard_normal(out.shape)
    analytic = backward(grad_out, x, **settings)
    numeric = numerical_grad(lambda x_: forward(x_, **settings), [x.copy()], 0, grad_out)
    assert_grad_close(analytic, numeric, f"{forward.__name__} with {settings}")


@pytest.mark.parametrize("shape, kernel_size, stride, padding, ceil_mode", SETTINGS)
def test_pool2d_backward_matches_numerical_gradient(shape, kernel_size, stride, padding,
                                                    ceil_mode):
    rng = np.random.default_rng(1)
    x = distinct_values(shape, rng)
    settings = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    check_gradient(max_pool2d, max_pool2d_backward, x, rng, **settings)
    for count_include_pad in (True, False):
        check_gradient(avg_pool2d, avg_pool2d_backward, x, rng,
                       count_include_pad=count_include_pad, **settings)


def test_max_pool2d_backward_with_dilation_matches_numerical_gradient():
    rng = np.random.default_rng(2)
    x = distinct_values((1, 2, 6, 7), rng)
    check_gradient(max_pool2d, max_pool2d_backward, x, rng,
                   kernel_size=(2, 3), stride=(1, 2), padding=1, dilation=2, ceil_mode=True)


@pytest.mark.parametrize("shape, output_size", [
    ((1, 1, 4, 4), 2), ((2, 2, 5, 7), (3, 2)), ((1, 2, 3, 5), (4, 3)), ((1, 1, 6, 5), (None, 2)),
])
def test_adaptive_pool2d_backward_matches_numerical_gradient(shape, output_size):
    rng = np.random.default_rng(3)
    x = distinct_values(shape, rng)
    check_gradient(adaptive_max_pool2d, adaptive_max_pool2d_backward, x, rng,
                   output_size=output_size)
    check_gradient(adaptive_avg_pool2d, adaptive_avg_pool2d_backward, x, rng,
                   output_size=output_size)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_spatial_pyramid_pool2d_backward_matches_numerical_gradient(mode):
    rng = np.random.default_rng(4)
    x = distinct_values((2, 2, 5, 6), rng)
    check_gradient(spatial_pyramid_pool2d, spatial_pyramid_pool2d_backward, x, rng,
                   levels=(1, 2, 3), mode=mode)


# ---------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------

def test_adaptive_pooling_on_divisible_sizes_equals_ordinary_pooling():
    x = np.random.default_rng(5).standard_normal((2, 3, 8, 6))
    np.testing.assert_allclose(adaptive_max_pool2d(x, (4, 2)), max_pool2d(x, (2, 3)))
    np.testing.assert_allclose(adaptive_avg_pool2d(x, (4, 2)), avg_pool2d(x, (2, 3)))


def test_global_average_pooling_is_the_mean_over_height_and_width():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 7))
    np.testing.assert_allclose(adaptive_avg_pool2d(x, 1)[:, :, 0, 0], x.mean(axis=(2, 3)))


def constant_kernel_conv(x, kernel_size, stride, padding):
    """Cross-correlation of each channel with a kernel of 1/(kH*kW), zero padding, in loops."""
    kh, kw = kernel_size
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    xp[:, :, padding:padding + h, padding:padding + w] = x
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (w + 2 * padding - kw) // stride + 1
    out = np.zeros((n, c, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = (patch * (1.0 / (kh * kw))).sum(axis=(2, 3))
    return out


def test_avg_pool2d_equals_convolution_with_a_constant_kernel():
    x = np.random.default_rng(7).standard_normal((2, 2, 7, 6))
    np.testing.assert_allclose(avg_pool2d(x, (3, 2), stride=2, padding=1),
                               constant_kernel_conv(x, (3, 2), 2, 1))


def test_spatial_pyramid_pool2d_length_does_not_depend_on_input_size():
    rng = np.random.default_rng(8)
    for mode in ("max", "avg"):
        big = spatial_pyramid_pool2d(rng.standard_normal((2, 3, 13, 13)), mode=mode)
        small = spatial_pyramid_pool2d(rng.standard_normal((2, 3, 10, 10)), mode=mode)
        assert big.shape == small.shape == (2, 3 * (1 + 4 + 16))


def test_spatial_pyramid_pool2d_orders_levels_then_channels():
    x = np.random.default_rng(9).standard_normal((2, 3, 6, 6))
    out = spatial_pyramid_pool2d(x, levels=(1, 2), mode="avg")
    np.testing.assert_allclose(out[:, :3], x.mean(axis=(2, 3)))  # level 1: one value per channel
    np.testing.assert_allclose(out[:, 3:].reshape(2, 3, 2, 2), avg_pool2d(x, 3))


def test_spp_paper_rule_window_ceil_stride_floor():
    assert spp_window_stride(13, 2) == (7, 6)
    assert spp_window_stride(13, 3) == (5, 4)
    assert spp_window_stride(10, 4) == (3, 2)
    assert spp_paper_bins_cover(13, 2)       # windows [0, 7), [6, 13)
    assert not spp_paper_bins_cover(10, 4)   # windows end at 3, 5, 7, 9: pixel 9 is never pooled
    assert spp_paper_bins_cover(12, 4)


# ---------------------------------------------------------------------------
# The loop implementation in naive_pooling.py
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape, kernel_size, stride, padding, ceil_mode", SETTINGS)
def test_pool2d_matches_loop_implementation(shape, kernel_size, stride, padding, ceil_mode):
    rng = np.random.default_rng(10)
    settings = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    # small integers: many ties, so the first-maximum rule is exercised
    x = rng.integers(-3, 4, size=shape).astype(float)
    out = max_pool2d(x, **settings)
    grad_out = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(out, naive.max_pool2d(x, **settings))
    np.testing.assert_allclose(max_pool2d_backward(grad_out, x, **settings),
                               naive.max_pool2d_backward(grad_out, x, **settings), **ROUNDOFF)
    for count_include_pad in (True, False):
        both = dict(settings, count_include_pad=count_include_pad)
        np.testing.assert_allclose(avg_pool2d(x, **both), naive.avg_pool2d(x, **both),
                                   **ROUNDOFF)
        np.testing.assert_allclose(avg_pool2d_backward(grad_out, x, **both),
                                   naive.avg_pool2d_backward(grad_out, x, **both), **ROUNDOFF)
    if not ceil_mode:
        median_settings = dict(kernel_size=kernel_size, stride=stride, padding=padding)
        np.testing.assert_allclose(median_pool2d(x, **median_settings),
                                   naive.median_pool2d(x, **median_settings), **ROUNDOFF)


def test_max_pool2d_with_dilation_matches_loop_implementation():
    rng = np.random.default_rng(11)
    x = rng.integers(-3, 4, size=(2, 2, 7, 8)).astype(float)
    for kernel_size, stride, padding, ceil_mode in [(2, 1, 1, False), ((3, 2), 2, (1, 0), True),
                                                    (3, (2, 3), 1, True)]:
        settings = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=2,
                        ceil_mode=ceil_mode)
        out = max_pool2d(x, **settings)
        grad_out = rng.standard_normal(out.shape)
        np.testing.assert_array_equal(out, naive.max_pool2d(x, **settings))
        np.testing.assert_allclose(max_pool2d_backward(grad_out, x, **settings),
                                   naive.max_pool2d_backward(grad_out, x, **settings), **ROUNDOFF)


@pytest.mark.parametrize("shape, output_size", [
    ((2, 2, 5, 7), (3, 2)), ((1, 3, 13, 13), 4), ((1, 1, 3, 5), (4, 3)), ((2, 1, 10, 9), (4, 7)),
])
def test_adaptive_pool2d_matches_loop_implementation(shape, output_size):
    rng = np.random.default_rng(12)
    x = rng.integers(-3, 4, size=shape).astype(float)
    out = adaptive_max_pool2d(x, output_size)
    grad_out = rng.standard_normal(out.shape)
    for mine, loop in [(adaptive_max_pool2d, naive.adaptive_max_pool2d),
                       (adaptive_avg_pool2d, naive.adaptive_avg_pool2d)]:
        np.testing.assert_allclose(mine(x, output_size), loop(x, output_size), **ROUNDOFF)
    for mine, loop in [(adaptive_max_pool2d_backward, naive.adaptive_max_pool2d_backward),
                       (adaptive_avg_pool2d_backward, naive.adaptive_avg_pool2d_backward)]:
        np.testing.assert_allclose(mine(grad_out, x, output_size),
                                   loop(grad_out, x, output_size), **ROUNDOFF)


def test_adaptive_max_pool2d_separable_max_keeps_nan_and_inf_in_their_bins():
    # the forward pools rows, then columns: NaN and -inf must still reach exactly the
    # (overlapping) bins that contain them, as in the loop twin's per-bin max
    rng = np.random.default_rng(31)
    x = rng.integers(-3, 4, size=(2, 3, 11, 9)).astype(float)
    x[0, 0, 4, 4] = np.nan                  # on the border of overlapping bins
    x[1, 2, 0, :] = -np.inf
    x[1, 1, 5:, 7:] = np.nan
    for output_size in [(4, 5), (11, 9), (13, 2), 1]:
        np.testing.assert_array_equal(adaptive_max_pool2d(x, output_size),
                                      naive.adaptive_max_pool2d(x, output_size))


def test_spatial_pyramid_pool2d_matches_loop_implementation():
    x = np.random.default_rng(13).standard_normal((2, 3, 7, 5))
    for mode in ("max", "avg"):
        np.testing.assert_allclose(spatial_pyramid_pool2d(x, (1, 2, 3), mode),
                                   naive.spatial_pyramid_pool2d(x, (1, 2, 3), mode), **ROUNDOFF)


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=2), "padding must be at most half"),
    (lambda: avg_pool2d(np.zeros((1, 1, 4, 4)), 3, padding=(0, 2)), "padding must be at most half"),
    (lambda: median_pool2d(np.zeros((1, 1, 4, 4)), 1, padding=1), "padding must be at most half"),
    (lambda: max_pool2d(np.zeros((4, 4)), 2), r"x must be 4-D \(N, C, H, W\)"),
    (lambda: adaptive_avg_pool2d(np.zeros((1, 4, 4)), 2), "x must be 4-D"),
    (lambda: max_pool2d(np.zeros((1, 1, 3, 3)), 4), "output size is too small"),
    (lambda: avg_pool2d(np.zeros((1, 1, 3, 3)), 4, stride=1, ceil_mode=True),
     "output size is too small"),
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 0), "kernel_size must be positive"),
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 2, stride=0), "stride must be positive"),
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), 2, dilation=0), "dilation must be positive"),
    (lambda: avg_pool2d(np.zeros((1, 1, 4, 4)), 2, padding=-1), "padding must be non-negative"),
    (lambda: max_pool2d(np.zeros((1, 1, 4, 4)), (2, 2, 2)),
     "kernel_size must be an int or a tuple"),
    (lambda: avg_pool2d(np.zeros((1, 1, 4, 4)), 2, divisor_override=0),
     "divisor_override must not be zero"),
    (lambda: max_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2),
     r"grad_out must have the forward output's shape \(1, 1, 2, 2\)"),
    (lambda: avg_pool2d_backward(np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 4, 4)), 2),
     "grad_out must have the forward output's shape"),
    (lambda: adaptive_max_pool2d(np.zeros((1, 1, 4, 4)), (0, 2)), "output_size must be positive"),
    (lambda: adaptive_max_pool2d(np.zeros((1, 1, 4, 4)), (1, 2, 3)),
     "output_size must be an int or a pair"),
    (lambda: adaptive_avg_pool2d_backward(np.zeros((1, 1, 2, 3)), np.zeros((1, 1, 4, 4)), 2),
     "grad_out must have the forward output's shape"),
    (lambda: spatial_pyramid_pool2d(np.zeros((1, 1, 4, 4)), mode="min"),
     "mode must be 'max' or 'avg'"),
    (lambda: spatial_pyramid_pool2d(np.zeros((1, 1, 4, 4)), levels=()), "at least one"),
    (lambda: spatial_pyramid_pool2d(np.zeros((1, 1, 4, 4)), levels=(1, 0)),
     "levels must be positive"),
    (lambda: spatial_pyramid_pool2d_backward(np.zeros((1, 4)), np.zeros((1, 1, 4, 4)), (1, 2)),
     r"grad_out must have the forward output's shape \(1, 5\)"),
    (lambda: spp_window_stride(3, 4), "needs a >= n"),
    (lambda: pool_output_size(4, 2, 0), "stride must be positive"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------
# Parity with torch (skipped where torch is not installed, as in CI)
# ---------------------------------------------------------------------------

def torch_pool(name, x, grad_out_seed, **settings):
    """Output and input gradient of torch.nn.functional.<name> for a float64 x."""
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x, requires_grad=True)
    out = getattr(torch.nn.functional, name)(xt, **settings)
    grad_out = np.random.default_rng(grad_out_seed).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(grad_out))
    return out.detach().numpy(), xt.grad.numpy(), grad_out


TORCH_SETTINGS = SETTINGS + [
    ((1, 1, 5, 5), 3, 2, 1, True),    # ceil_mode with padding on both sides
    ((1, 1, 6, 6), 3, 2, 1, True),    # ceil window covers padding and the region past it
    ((1, 2, 7, 7), 2, 3, 1, True),    # stride > kernel: gaps between windows
    ((2, 1, 8, 5), (4, 1), (3, 1), (2, 0), True),
    ((1, 1, 1, 5), (1, 3), 2, (0, 1), True),
]


@pytest.mark.parametrize("shape, kernel_size, stride, padding, ceil_mode", TORCH_SETTINGS)
def test_pool2d_matches_torch(shape, kernel_size, stride, padding, ceil_mode):
    x = np.random.default_rng(14).integers(-3, 4, size=shape).astype(float)  # ties
    settings = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
    runs = [("max_pool2d", max_pool2d, max_pool2d_backward, settings)]
    runs += [("avg_pool2d", avg_pool2d, avg_pool2d_backward,
              dict(settings, count_include_pad=cip, divisor_override=div))
             for cip in (True, False) for div in (None, 3)]
    for name, forward, backward, kwargs in runs:
        out, grad_x, grad_out = torch_pool(name, x, 15, **kwargs)
        np.testing.assert_allclose(forward(x, **kwargs), out, **ROUNDOFF,
                                   err_msg=f"{name} {kwargs}")
        np.testing.assert_allclose(backward(grad_out, x, **kwargs), grad_x, **ROUNDOFF,
                                   err_msg=f"{name}_backward {kwargs}")


@pytest.mark.parametrize("shape, output_size", [
    ((2, 2, 5, 7), (3, 2)), ((1, 3, 13, 13), 4), ((1, 1, 3, 5), (4, 3)),
    ((1, 2, 10, 10), (None, 4)),
])
def test_adaptive_pool2d_matches_torch(shape, output_size):
    x = np.random.default_rng(16).integers(-3, 4, size=shape).astype(float)
    for name, forward, backward in [
            ("adaptive_max_pool2d", adaptive_max_pool2d, adaptive_max_pool2d_backward),
            ("adaptive_avg_pool2d", adaptive_avg_pool2d, adaptive_avg_pool2d_backward)]:
        out, grad_x, grad_out = torch_pool(name, x, 17, output_size=output_size)
        np.testing.assert_allclose(forward(x, output_size), out, **ROUNDOFF, err_msg=name)
        np.testing.assert_allclose(backward(grad_out, x, output_size), grad_x, **ROUNDOFF,
                                   err_msg=name)


def test_max_pool2d_nan_and_dilation_match_torch():
    x = image([[1, np.nan, 2, np.nan, 0], [0, 5, np.nan, 1, 3], [2, 2, 2, 2, 2]])
    for settings in [dict(kernel_size=2, stride=1),
                     dict(kernel_size=(1, 3), stride=1, padding=(0, 1)),
                     dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
                     dict(kernel_size=2, stride=1, dilation=2)]:
        out, grad_x, grad_out = torch_pool("max_pool2d", x, 18, **settings)
        np.testing.assert_array_equal(max_pool2d(x, **settings), out)
        np.testing.assert_allclose(max_pool2d_backward(grad_out, x, **settings), grad_x,
                                   **ROUNDOFF)


def test_adaptive_avg_pool2d_keeps_nan_and_inf_inside_their_own_bins():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 3, 3] = np.inf
    out = adaptive_avg_pool2d(x, 2)[0, 0]
    # bins are the four 2x2 quarters: NaN and +inf stay in theirs, as torch gives
    np.testing.assert_array_equal(out, [[np.nan, 4.5], [10.5, np.inf]])
    x[0, 0, 2, 2] = -np.inf
    assert np.isnan(adaptive_avg_pool2d(x, 2)[0, 0, 1, 1])  # inf - inf


# ---------------------------------------------------------------------------
# The small steps of lesson 1 (pad2d ... distribute_value), and how they add up
# ---------------------------------------------------------------------------

from autograder.reference import pooling as steps  # noqa: E402 - the steps, by module name


def test_pad2d_pads_only_height_and_width_on_both_sides():
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    out = steps.pad2d(np.repeat(x, 2, axis=1), (1, 2), value=-np.inf)
    assert out.shape == (1, 2, 4, 7)
    np.testing.assert_array_equal(out[0, 1, 1:3, 2:5], x[0, 0])
    assert np.isneginf(out[0, 0, 0]).all() and np.isneginf(out[0, 0, :, :2]).all()
    assert (np.isneginf(out)).sum() == 2 * (4 * 7 - 6)


def test_pooling_window_starts_at_i_times_stride():
    x = np.arange(30.0).reshape(1, 1, 5, 6)
    np.testing.assert_array_equal(steps.pooling_window(x, 1, 2, (2, 3), (3, 1))[0, 0],
                                  [[20, 21, 22], [26, 27, 28]])          # rows 3-4, columns 2-4
    np.testing.assert_array_equal(steps.pooling_window(x, 1, 1, 2)[0, 0], [[14, 15], [20, 21]])
    with pytest.raises(ValueError, match="leaves"):
        steps.pooling_window(x, 2, 0, 2)


def test_max_pool2d_is_pad2d_then_the_max_of_every_pooling_window():
    # the ladder of the notebook, assembled with loops, gives the layer
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 7, 6))
    for kernel, stride, padding in [(2, None, 0), ((3, 2), (2, 1), (1, 1)), (3, 2, 1)]:
        xp = steps.pad2d(x, padding, value=-np.inf)
        out = max_pool2d(x, kernel, stride, padding)
        for i, j in np.ndindex(*out.shape[2:]):
            window = steps.pooling_window(xp, i, j, kernel, stride)
            np.testing.assert_array_equal(out[:, :, i, j], window.max(axis=(2, 3)))
        if padding == 0:
            np.testing.assert_array_equal(steps.max_pool2d_unpadded(x, kernel, stride), out)


def test_create_mask_from_window_marks_the_first_maximum_only():
    window = np.array([[[[1.0, 3.0], [3.0, 0.0]], [[-5.0, -2.0], [-1.0, -7.0]]]])
    np.testing.assert_array_equal(steps.create_mask_from_window(window),
                                  [[[[0, 1], [0, 0]], [[0, 0], [1, 0]]]])
    # the mask times one window's gradient is max_pool2d_backward of that single window
    g = np.array([[2.0, -4.0]])
    np.testing.assert_array_equal(steps.create_mask_from_window(window) * g[:, :, None, None],
                                  max_pool2d_backward(g[:, :, None, None], window, 2))


def test_distribute_value_is_avg_pool2d_backward_of_one_window():
    g = np.array([[6.0, -3.0], [1.5, 0.0]])
    np.testing.assert_allclose(steps.distribute_value(g, (2, 3)),
                               avg_pool2d_backward(g[:, :, None, None], np.zeros((2, 2, 2, 3)),
                                                   (2, 3)))
    np.testing.assert_allclose(steps.distribute_value(g, 3).sum(axis=(2, 3)), g)  # shared, not copied
