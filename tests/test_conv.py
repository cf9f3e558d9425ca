"""Tests for autograder/reference/conv.py.

Evidence: the seeds' worked examples (checked by hand), numerical gradients,
identities (transposed conv = conv's input gradient, the adjoint identity,
the seed's rot180 rule, group conv = per-group convs), the loop
implementations in tests/naive_conv.py and, when torch is installed, torch.
"""
import numpy as np
import pytest

import naive_conv as naive
from autograder.reference.conv import (
    channel_shuffle,
    channel_shuffle_backward,
    conv2d,
    conv2d_backward,
    conv3d,
    conv3d_backward,
    conv_transpose2d,
    conv_transpose2d_backward,
)
from gradcheck import assert_grad_close, numerical_grad

# Matrix products and loops sum in different orders: they agree to float64 round-off.
ROUNDOFF = dict(rtol=1e-10, atol=1e-12)

# (x shape, w shape, stride, padding, dilation, groups)
CONV2D_SETTINGS = [
    ((1, 1, 3, 3), (1, 1, 2, 2), 1, 0, 1, 1),                  # the seed's 3x3 input, 2x2 kernel
    ((2, 3, 5, 4), (2, 3, 3, 2), 1, 0, 1, 1),                  # batch, channels, non-square x and w
    ((1, 2, 6, 7), (3, 2, 3, 3), 2, 0, 1, 1),                  # stride 2 does not divide 6 - 3
    ((2, 2, 5, 6), (2, 2, 3, 2), (2, 3), (1, 2), 1, 1),        # non-square stride and padding
    ((1, 2, 7, 6), (2, 2, 3, 2), 1, (2, 1), (2, 3), 1),        # dilation
    ((2, 4, 5, 5), (6, 2, 3, 3), 2, 1, 1, 2),                  # groups
    ((1, 3, 4, 5), (3, 1, 2, 3), 1, "same", 1, 3),             # depthwise, 'same' with an even kernel
    ((1, 2, 6, 5), (2, 1, 2, 2), 3, 1, 2, 2),                  # stride 3, dilation and groups together
    ((2, 2, 4, 3), (1, 2, 2, 3), 1, "valid", 1, 1),
]

# (x shape, w shape, stride, padding, dilation, groups)
CONV3D_SETTINGS = [
    ((1, 1, 3, 3, 3), (1, 1, 2, 2, 2), 1, 0, 1, 1),
    ((2, 2, 4, 5, 3), (3, 2, 2, 3, 2), (2, 1, 2), (1, 0, 1), 1, 1),
    ((1, 4, 5, 4, 4), (4, 2, 3, 2, 2), 1, (0, 1, 1), (2, 1, 1), 2),
    ((1, 1, 3, 4, 2), (2, 1, 2, 3, 2), 1, "same", 1, 1),
]

# (x shape, w shape, stride, padding, output_padding, groups, dilation)
TRANSPOSE_SETTINGS = [
    ((1, 1, 2, 2), (1, 1, 3, 3), 1, 0, 0, 1, 1),               # the seed's 2x2 input, 3x3 kernel
    ((2, 2, 3, 4), (2, 3, 2, 3), 2, 0, 1, 1, 1),               # output_padding < stride
    ((1, 4, 3, 3), (4, 1, 3, 2), (2, 3), (1, 0), (1, 2), 2, 1),  # groups, non-square everything
    ((1, 2, 3, 2), (2, 2, 3, 3), 1, 1, 1, 1, 2),               # output_padding < dilation, stride 1
    ((2, 3, 2, 3), (3, 2, 2, 2), 3, 1, (2, 0), 1, (1, 2)),
]


def random_arrays(rng, x_shape, w_shape, c_out):
    return rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(c_out)


def check_against_loops_and_gradients(forward, backward, loops, x, w, b, **kwargs):
    """forward == the loop version, and backward == numerical gradients of x, w and b.

    The one helper every setting list runs through; backward(grad_out, x, w, **kwargs)
    returns (grad_x, grad_w, grad_b).
    """
    out = forward(x, w, b, **kwargs)
    np.testing.assert_allclose(out, loops(x, w, b, **kwargs), **ROUNDOFF,
                               err_msg=f"{forward.__name__} differs from the loop version for {kwargs}")
    grad_out = np.random.default_rng(1).standard_normal(out.shape)
    grads = backward(grad_out, x, w, **kwargs)
    arrays = [x, w, b]
    for index, (name, grad) in enumerate(zip(("x", "w", "b"), grads)):
        numeric = numerical_grad(lambda *a: forward(*a, **kwargs), arrays, index, grad_out)
        assert_grad_close(grad, numeric, f"{forward.__name__} w.r.t. {name}, {kwargs}")


# ---------------------------------------------------------------------------
# The seeds' worked examples
# ---------------------------------------------------------------------------

def test_seed_3x6x6_input_64_filters_stride_2_gives_64x2x2():
    # (6 - 3) / 2 + 1 = 2.5: the size is floored to 2, as the seed found in PyTorch.
    rng = np.random.default_rng(0)
    x, w, b = random_arrays(rng, (1, 3, 6, 6), (64, 3, 3, 3), 64)
    out = conv2d(x, w, b, stride=2)
    assert out.shape == (1, 64, 2, 2)
    np.testing.assert_allclose(out, naive.conv2d(x, w, b, stride=2), **ROUNDOFF)


def test_seed_3x3_input_2x2_kernel_forward_and_backward_by_hand():
    a = np.array([[1., 2, 3], [4, 5, 6], [7, 8, 9]])[None, None]
    w = np.array([[1., 0], [2, -1]])[None, None]
    # z11 = 1*1 + 2*0 + 4*2 + 5*(-1) = 4, z12 = 2 + 0 + 10 - 6 = 6,
    # z21 = 4 + 0 + 14 - 8 = 10,        z22 = 5 + 0 + 16 - 9 = 12.
    np.testing.assert_array_equal(conv2d(a, w), [[[[4, 6], [10, 12]]]])

    delta = np.array([[1., 2], [3, 4]])[None, None]
    grad_a, grad_w, grad_b = conv2d_backward(delta, a, w)
    # The seed's rule: a11 only reaches z11 (through w11), a12 reaches z11 via w12
    # and z12 via w11, ...:
    #   da11 = d11 w11 = 1            da12 = d11 w12 + d12 w11 = 2      da13 = d12 w12 = 0
    #   da21 = d11 w21 + d21 w11 = 5  da22 = d11 w22 + d12 w21 + d21 w12 + d22 w11 = -1 + 4 + 0 + 4 = 7
    #   da23 = d12 w22 + d22 w12 = -2 da31 = d21 w21 = 6  da32 = d21 w22 + d22 w21 = 5  da33 = d22 w22 = -4
    np.testing.assert_array_equal(grad_a, [[[[1, 2, 0], [5, 7, -2], [6, 5, -4]]]])
    # dw_ij = sum_pq d_pq a_(p+i)(q+j): dw11 = 1*1 + 2*2 + 3*4 + 4*5 = 37, dw12 = 2 + 6 + 15 + 24 = 47,
    # dw21 = 4 + 10 + 21 + 32 = 67, dw22 = 5 + 12 + 24 + 36 = 77; db = 1 + 2 + 3 + 4 = 10.
    np.testing.assert_array_equal(grad_w, [[[[37, 47], [67, 77]]]])
    np.testing.assert_array_equal(grad_b, [10])


def test_seed_transposed_conv_2x2_input_3x3_kernel_gives_4x4_by_hand():
    x = np.array([[1., 2], [3, 4]])[None, None]
    w = np.array([[1., 2, 0], [0, 1, 0], [0, 0, 3]])[None, None]
    # Each input value drops a scaled copy of the kernel at its own offset:
    #   1*K at (0,0)     2*K at (0,1)     3*K at (1,0)      4*K at (1,1)
    #   1 2 0 0          0 2 4 0          0 0 0 0           0 0 0 0
    #   0 1 0 0          0 0 2 0          3 6 0 0           0 4 8 0
    #   0 0 3 0          0 0 0 6          0 3 0 0           0 0 4 0
    #   0 0 0 0          0 0 0 0          0 0 9 0           0 0 0 12
    expected = [[1, 4, 4, 0],
                [3, 11, 10, 0],
                [0, 3, 7, 6],
                [0, 0, 9, 12]]
    np.testing.assert_array_equal(conv_transpose2d(x, w, stride=1, padding=0), [[expected]])


# ---------------------------------------------------------------------------
# Loop versions and numerical gradients over every setting
# ---------------------------------------------------------------------------

def with_explicit_padding(loops):
    """The loop version, with 'valid' / 'same' turned into zero padding by torch's rule.

    'same' pads dilation*(k - 1) pixels in all, the odd one after (bottom/right).
    """
    def run(x, w, b, stride=1, padding=0, dilation=1, groups=1):
        if isinstance(padding, str):
            nd = x.ndim - 2
            dilations = (dilation,) * nd if isinstance(dilation, int) else dilation
            totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(w.shape[2:], dilations)]
            x = np.pad(x, [(0, 0), (0, 0)] + [(t // 2, t - t // 2) for t in totals])
            padding = 0
        return loops(x, w, b, stride, padding, dilation, groups)
    return run


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV2D_SETTINGS)
def test_conv2d_matches_loops_and_numerical_gradients(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(3)
    x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[0])
    check_against_loops_and_gradients(conv2d, conv2d_backward, with_explicit_padding(naive.conv2d), x, w, b,
                                      stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", CONV3D_SETTINGS)
def test_conv3d_matches_loops_and_numerical_gradients(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(4)
    x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[0])
    check_against_loops_and_gradients(conv3d, conv3d_backward, with_explicit_padding(naive.conv3d), x, w, b,
                                      stride=stride, padding=padding, dilation=dilation, groups=groups)


def test_conv2d_same_padding_puts_the_odd_pixel_after_the_input():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    top_left_2x2 = np.zeros((1, 1, 2, 2))
    top_left_2x2[0, 0, 0, 0] = 1
    # 2x2 kernel: 1 pixel of padding in all, none before, so the top-left tap reads the pixel itself.
    np.testing.assert_array_equal(conv2d(x, top_left_2x2, padding="same"), x)
    top_left_4x4 = np.zeros((1, 1, 4, 4))
    top_left_4x4[0, 0, 0, 0] = 1
    # 4x4 kernel: 3 pixels, 1 before and 2 after, so the top-left tap reads one pixel up and left.
    shifted = np.zeros((1, 1, 5, 5))
    shifted[0, 0, 1:, 1:] = x[0, 0, :4, :4]
    np.testing.assert_array_equal(conv2d(x, top_left_4x4, padding="same"), shifted)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, groups, dilation",
                         TRANSPOSE_SETTINGS)
def test_conv_transpose2d_matches_loops_and_numerical_gradients(x_shape, w_shape, stride, padding,
                                                                output_padding, groups, dilation):
    rng = np.random.default_rng(5)
    x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[1] * groups)
    check_against_loops_and_gradients(conv_transpose2d, conv_transpose2d_backward, naive.conv_transpose2d,
                                      x, w, b, stride=stride, padding=padding,
                                      output_padding=output_padding, groups=groups, dilation=dilation)


def random_conv_case(rng):
    """Random small conv2d arguments whose kernel fits the padded input."""
    groups = int(rng.integers(1, 4))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
    # At least one stride wide, so the transposed conv of the output has a positive size.
    size = tuple(max(s, d * (k - 1) + 1 - 2 * p + int(rng.integers(0, 5)))
                 for k, s, p, d in zip(kernel, stride, padding, dilation))
    x = rng.standard_normal((int(rng.integers(1, 3)), c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    return x, w, rng.standard_normal(c_out), dict(stride=stride, padding=padding, dilation=dilation,
                                                  groups=groups)


def test_conv2d_and_conv_transpose2d_match_loops_on_random_cases():
    rng = np.random.default_rng(6)
    for _ in range(25):
        x, w, b, kwargs = random_conv_case(rng)
        out = conv2d(x, w, b, **kwargs)
        np.testing.assert_allclose(out, naive.conv2d(x, w, b, **kwargs), **ROUNDOFF, err_msg=str(kwargs))
        # The same weight read as a transposed-conv weight (C_in_T = C_out) maps out's shape back up.
        y = rng.standard_normal(out.shape)
        b_transposed = rng.standard_normal(w.shape[1] * kwargs["groups"])
        output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(kwargs["stride"], kwargs["dilation"]))
        np.testing.assert_allclose(conv_transpose2d(y, w, b_transposed, output_padding=output_padding, **kwargs),
                                   naive.conv_transpose2d(y, w, b_transposed, output_padding=output_padding, **kwargs),
                                   **ROUNDOFF, err_msg=f"{kwargs}, output_padding={output_padding}")


# ---------------------------------------------------------------------------
# Identities
# ---------------------------------------------------------------------------

def transposed_output_padding(x_shape, w_shape, stride, padding, dilation):
    """The output_padding that makes conv_transpose2d return x's height and width."""
    s, p, d = (np.broadcast_to(v, 2) for v in (stride, padding, dilation))
    return tuple(int((n + 2 * pi - di * (k - 1) - 1) % si)
                 for n, k, si, pi, di in zip(x_shape[2:], w_shape[2:], s, p, d))


NUMERIC_PADDING = [setting for setting in CONV2D_SETTINGS if not isinstance(setting[3], str)]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", NUMERIC_PADDING)
def test_conv_transpose2d_is_the_input_gradient_of_conv2d(x_shape, w_shape, stride, padding, dilation, groups):
    rng = np.random.default_rng(7)
    x, w, _ = random_arrays(rng, x_shape, w_shape, 1)
    y = rng.standard_normal(conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups).shape)
    output_padding = transposed_output_padding(x_shape, w_shape, stride, padding, dilation)
    grad_x = conv2d_backward(y, x, w, stride, padding, dilation, groups)[0]
    np.testing.assert_allclose(conv_transpose2d(y, w, None, stride, padding, output_padding, groups, dilation),
                               grad_x, **ROUNDOFF)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation, groups", NUMERIC_PADDING)
def test_conv2d_and_conv_transpose2d_are_adjoint(x_shape, w_shape, stride, padding, dilation, groups):
    # <conv(x), y> == <x, convT(y)>: the transposed conv is the transpose of conv's matrix.
    rng = np.random.default_rng(8)
    x, w, _ = random_arrays(rng, x_shape, w_shape, 1)
    out = conv2d(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y = rng.standard_normal(out.shape)
    output_padding = transposed_output_padding(x_shape, w_shape, stride, padding, dilation)
    back = conv_transpose2d(y, w, None, stride, padding, output_padding, groups, dilation)
    np.testing.assert_allclose(np.sum(out * y), np.sum(x * back), rtol=1e-12)


def test_conv2d_input_gradient_is_full_convolution_of_dilated_grad_out_with_rotated_kernel():
    # Seed 001's rule, with stride: spread grad_out out by the stride, zero-pad it
    # by k - 1 and correlate it with the kernel turned by 180 degrees (input and
    # output channels swapped). That lands in padded-input coordinates; cropping
    # the padding gives grad_x. Stride 2 does not divide 6 - 3: input row 5 is
    # read by no window, so its gradient is zero.
    rng = np.random.default_rng(9)
    x, w, _ = random_arrays(rng, (2, 2, 6, 5), (3, 2, 3, 2), 1)
    stride, (ph, pw) = 2, (0, 1)
    grad_out = rng.standard_normal(conv2d(x, w, stride=stride, padding=(ph, pw)).shape)
    kh, kw = w.shape[2:]
    dilated = np.zeros(grad_out.shape[:2] + tuple((n - 1) * stride + 1 for n in grad_out.shape[2:]))
    dilated[:, :, ::stride, ::stride] = grad_out
    rotated = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    full = naive.conv2d(dilated, rotated, padding=(kh - 1, kw - 1))
    in_padded = np.zeros((2, 2, 6 + 2 * ph, 5 + 2 * pw))
    in_padded[:, :, :full.shape[2], :full.shape[3]] = full
    expected = in_padded[:, :, ph:ph + 6, pw:pw + 5]

    grad_x = conv2d_backward(grad_out, x, w, stride=stride, padding=(ph, pw))[0]
    np.testing.assert_allclose(grad_x, expected, **ROUNDOFF)
    assert np.all(grad_x[:, :, 5, :] == 0)


def test_group_conv2d_equals_per_group_convs_concatenated():
    rng = np.random.default_rng(10)
    groups = 3
    x, w, b = random_arrays(rng, (2, 6, 5, 5), (9, 2, 3, 3), 9)
    out = conv2d(x, w, b, padding=1, groups=groups)
    parts = [conv2d(x[:, 2 * g:2 * g + 2], w[3 * g:3 * g + 3], b[3 * g:3 * g + 3], padding=1)
             for g in range(groups)]
    np.testing.assert_allclose(out, np.concatenate(parts, axis=1), **ROUNDOFF)


def test_conv2d_bias_gradient_sums_grad_out_over_batch_and_pixels():
    rng = np.random.default_rng(11)
    x, w, _ = random_arrays(rng, (3, 2, 5, 4), (4, 2, 2, 2), 1)
    grad_out = rng.standard_normal((3, 4, 4, 3))
    np.testing.assert_allclose(conv2d_backward(grad_out, x, w)[2], grad_out.sum(axis=(0, 2, 3)), **ROUNDOFF)


def test_conv3d_with_depth_one_kernel_is_conv2d_per_slice():
    rng = np.random.default_rng(12)
    x, w, b = random_arrays(rng, (2, 3, 4, 5, 6), (2, 3, 1, 3, 2), 2)
    out = conv3d(x, w, b, stride=(1, 2, 1), padding=(0, 1, 1))
    per_slice = np.stack([conv2d(x[:, :, t], w[:, :, 0], b, stride=(2, 1), padding=1) for t in range(4)], axis=2)
    np.testing.assert_allclose(out, per_slice, **ROUNDOFF)


# ---------------------------------------------------------------------------
# Channel shuffle
# ---------------------------------------------------------------------------

def test_channel_shuffle_of_6_channels_in_2_groups_interleaves_them():
    x = np.arange(6.0).reshape(1, 6, 1, 1) + np.zeros((2, 1, 2, 3))   # channel c holds the value c
    np.testing.assert_array_equal(channel_shuffle(x, 2)[:, :, 0, 0], [[0, 3, 1, 4, 2, 5]] * 2)


def test_channel_shuffle_by_3_of_6_channels_matches_hand_permutation():
    # groups (0, 1), (2, 3), (4, 5): take the first of each group, then the second.
    x = np.random.default_rng(13).standard_normal((1, 6, 2, 2))
    np.testing.assert_array_equal(channel_shuffle(x, 3), x[:, [0, 2, 4, 1, 3, 5]])


def test_channel_shuffle_matches_the_loop_version():
    rng = np.random.default_rng(17)
    for shape, groups in [((2, 6, 3, 2), 2), ((1, 12, 2), 3), ((1, 12, 2), 4), ((1, 8, 1, 2, 2), 8), ((1, 5, 2, 2), 1)]:
        x = rng.standard_normal(shape)
        np.testing.assert_array_equal(channel_shuffle(x, groups), naive.channel_shuffle(x, groups))


def test_channel_shuffle_backward_undoes_the_shuffle_and_matches_numerical_gradient():
    rng = np.random.default_rng(14)
    for shape, groups in [((2, 6, 3, 2), 2), ((1, 12, 2), 3), ((1, 4, 1, 2, 2), 4), ((1, 5, 2, 2), 1)]:
        x = rng.standard_normal(shape)
        np.testing.assert_array_equal(channel_shuffle_backward(channel_shuffle(x, groups), x, groups), x)
        grad_out = rng.standard_normal(shape)
        numeric = numerical_grad(lambda a: channel_shuffle(a, groups), [x], 0, grad_out)
        assert_grad_close(channel_shuffle_backward(grad_out, x, groups), numeric, f"channel_shuffle {shape}")


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------

X4, W4 = np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3, 3))
BAD_CALLS = [
    (lambda: conv2d(np.zeros((2, 5, 5)), W4), r"x must be 4-D"),
    (lambda: conv2d(X4, np.zeros((4, 2, 3))), r"w must be 4-D"),
    (lambda: conv2d(np.zeros((1, 3, 5, 5)), W4), r"C_in = 3 .* 2 \* 1 = 2"),
    (lambda: conv2d(X4, np.zeros((3, 1, 3, 3)), groups=2), r"C_out = w.shape\[0\] = 3 .* groups = 2"),
    (lambda: conv2d(X4, W4, groups=0), r"groups must be a positive int, got 0"),
    (lambda: conv2d(X4, np.zeros((4, 2, 6, 3))), r"kernel size \(6, 3\) .* larger than the padded input \(5, 5\)"),
    (lambda: conv2d(X4, W4, dilation=3), r"larger than the padded input"),
    (lambda: conv2d(X4, W4, stride=(1, 0)), r"stride must be positive, got \(1, 0\)"),
    (lambda: conv2d(X4, W4, dilation=0), r"dilation must be positive"),
    (lambda: conv2d(X4, W4, padding=-1), r"padding must be non-negative"),
    (lambda: conv2d(X4, W4, padding="full"), r"padding must be 'valid', 'same'"),
    (lambda: conv2d(X4, W4, stride=2, padding="same"), r"padding='same' requires stride 1"),
    (lambda: conv2d(X4, W4, b=np.zeros(3)), r"b must have shape \(4,\)"),
    (lambda: conv2d_backward(np.zeros((1, 4, 2, 2)), X4, W4), r"grad_out must have .* \(1, 4, 3, 3\)"),
    (lambda: conv3d(X4, np.zeros((4, 2, 3, 3, 3))), r"x must be 5-D"),
    (lambda: conv3d_backward(np.zeros((1, 4, 1, 1, 1)), np.zeros((1, 2, 2, 2, 2)), np.zeros((4, 2, 3, 3, 3))),
     r"larger than the padded input"),
    (lambda: conv_transpose2d(X4, W4), r"w.shape\[0\] = 4"),
    (lambda: conv_transpose2d(X4, np.zeros((2, 2, 3, 3)), groups=4), r"C_in = 2 is not divisible by groups = 4"),
    (lambda: conv_transpose2d(X4, np.zeros((2, 1, 3, 3)), stride=2, output_padding=2),
     r"output_padding must be smaller than either stride or dilation"),
    (lambda: conv_transpose2d(X4, np.zeros((2, 1, 3, 3)), output_padding=(0, 1), dilation=(1, 1)),
     r"output_padding=\(0, 1\), stride=\(1, 1\), dilation=\(1, 1\)"),
    (lambda: conv_transpose2d(np.zeros((1, 1, 1, 1)), np.zeros((1, 1, 1, 1)), padding=1), r"not positive"),
    (lambda: conv_transpose2d(X4, np.zeros((2, 3, 3, 3)), b=np.zeros(2)), r"b must have shape \(3,\)"),
    (lambda: conv_transpose2d_backward(np.zeros((1, 3, 5, 5)), X4, np.zeros((2, 3, 3, 3))),
     r"grad_out must have .* \(1, 3, 7, 7\)"),
    (lambda: channel_shuffle(np.zeros((1, 6, 2, 2)), 4), r"C = 6 is not divisible by groups = 4"),
    (lambda: channel_shuffle(np.zeros((2, 6)), 2), r"at least 3 dimensions"),
    (lambda: channel_shuffle_backward(np.zeros((1, 6, 2)), np.zeros((1, 6, 2, 2)), 2), r"grad_out must have"),
]


@pytest.mark.parametrize("call, message", BAD_CALLS)
def test_bad_arguments_raise_value_error_naming_the_problem(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------------
# torch as a second opinion (skipped when torch is not installed)
# ---------------------------------------------------------------------------

def torch_gradients(op, x, w, b, grad_out, **kwargs):
    torch = pytest.importorskip("torch")
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = op(*tensors, **kwargs)
    grads = torch.autograd.grad(out, tensors, torch.tensor(grad_out))
    return out.detach().numpy(), [g.numpy() for g in grads]


def assert_matches_torch(op, torch_op, backward, x, w, b, **kwargs):
    out = op(x, w, b, **kwargs)
    grad_out = np.random.default_rng(15).standard_normal(out.shape)
    torch_out, torch_grads = torch_gradients(torch_op, x, w, b, grad_out, **kwargs)
    np.testing.assert_allclose(out, torch_out, **ROUNDOFF)
    for ours, theirs in zip(backward(grad_out, x, w, **kwargs), torch_grads):
        np.testing.assert_allclose(ours, theirs, **ROUNDOFF)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_conv3d_conv_transpose2d_and_shuffle_match_torch():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(16)
    for x_shape, w_shape, stride, padding, dilation, groups in CONV2D_SETTINGS:
        x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[0])
        assert_matches_torch(conv2d, functional.conv2d, conv2d_backward, x, w, b, stride=stride,
                             padding=padding, dilation=dilation, groups=groups)
    for x_shape, w_shape, stride, padding, dilation, groups in CONV3D_SETTINGS:
        x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[0])
        assert_matches_torch(conv3d, functional.conv3d, conv3d_backward, x, w, b, stride=stride,
                             padding=padding, dilation=dilation, groups=groups)
    for x_shape, w_shape, stride, padding, output_padding, groups, dilation in TRANSPOSE_SETTINGS:
        x, w, b = random_arrays(rng, x_shape, w_shape, w_shape[1] * groups)
        assert_matches_torch(conv_transpose2d, functional.conv_transpose2d, conv_transpose2d_backward,
                             x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                             groups=groups, dilation=dilation)
    x = rng.standard_normal((2, 12, 3, 2))
    for groups in (1, 2, 3, 4, 6):
        np.testing.assert_array_equal(channel_shuffle(x, groups),
                                      functional.channel_shuffle(torch.tensor(x), groups).numpy())
