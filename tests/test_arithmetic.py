"""Layer-size and cost arithmetic: worked examples from the seeds, hand counts,
and output sizes read off a plain-loop convolution written here."""
import itertools

import numpy as np
import pytest

from autograder.reference.arithmetic import (
    conv2d_mult_adds, conv2d_param_count, conv_output_size, conv_transpose_output_size,
    effective_kernel_size, linear_mult_adds, linear_param_count, receptive_field)


# ------------------------------------------------------------- independent loops

def loop_conv2d(image, kernel, stride, padding, dilation):
    """Single-channel 2-D cross-correlation with plain loops: slide the window
    while it fits inside the zero-padded image. Knows no output-size formula."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    h, w = len(image), len(image[0])
    padded = [[0.0] * (w + 2 * pw) for _ in range(h + 2 * ph)]
    for i in range(h):
        for j in range(w):
            padded[i + ph][j + pw] = image[i][j]
    kh, kw = len(kernel), len(kernel[0])
    rows = []
    top = 0
    while top + dh * (kh - 1) < len(padded):
        row = []
        left = 0
        while left + dw * (kw - 1) < len(padded[0]):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += kernel[a][b] * padded[top + dh * a][left + dw * b]
            row.append(total)
            left += sw
        rows.append(row)
        top += sh
    return rows


def loop_conv1d_stack(signal, layers):
    """Apply 1-D all-ones convolutions (kernel_size, stride, dilation), no padding."""
    for k, s, d in layers:
        out = []
        start = 0
        while start + d * (k - 1) < len(signal):
            out.append(sum(signal[start + d * j] for j in range(k)))
            start += s
        signal = out
    return signal


def measured_receptive_field(layers, length=40):
    """Span of the input positions whose impulse reaches output 0 of the stack.
    All-ones kernels and non-negative impulses cannot cancel, so reach == nonzero."""
    reached = [i for i in range(length)
               if loop_conv1d_stack([1.0 if j == i else 0.0 for j in range(length)], layers)[0] != 0]
    return max(reached) - min(reached) + 1


# ------------------------------------------------------- output sizes: seed examples

def test_conv_output_size_floors_the_seed_example_6_minus_3_over_2_plus_1():
    # Seed 002: a (3, 6, 6) image, 64 filters of shape (3, 3, 3), stride 2, no padding.
    # (6 - 3) / 2 + 1 = 2.5, and frameworks round down, so the output is (64, 2, 2).
    assert conv_output_size(6, 3, stride=2) == 2
    assert conv2d_param_count(3, 64, 3) == 64 * (3 * 3 * 3) + 64


def test_conv_output_size_of_2x2_stride_2_pooling_halves_32_to_16():
    # Seed 000: pooling uses the same formula, floor((32 - 2) / 2) + 1 = 16.
    assert conv_output_size(32, 2, stride=2) == 16


def test_conv_output_size_hand_examples_with_padding_and_dilation():
    assert conv_output_size(32, 3, padding=1) == 32          # "same" 3x3 conv
    assert conv_output_size(32, 5) == 28                     # 32 - 5 + 1
    assert conv_output_size(7, 3, dilation=2) == 3           # span 5: 7 - 5 + 1
    assert conv_output_size(224, 7, stride=2, padding=3) == 112
    assert conv_output_size(5, 2, stride=2) == 2


def test_conv_output_size_ceil_mode_keeps_partial_window_but_not_one_in_padding():
    # 5 inputs, 2-wide windows every 2: starts 0, 2 fit, start 4 is a partial window.
    assert conv_output_size(5, 2, stride=2, ceil_mode=True) == 3
    # With padding 1 the padded row is 7 long; ceil would give a 4th window starting
    # at input index 5, entirely in the right padding, which torch drops.
    assert conv_output_size(5, 2, stride=2, padding=1, ceil_mode=False) == 3
    assert conv_output_size(5, 2, stride=2, padding=1, ceil_mode=True) == 3
    assert conv_output_size(6, 3, stride=2, padding=1, ceil_mode=True) == 4


@pytest.mark.parametrize("height, width, kernel, stride, padding, dilation", [
    (6, 6, (3, 3), (2, 2), (0, 0), (1, 1)),
    (7, 5, (3, 2), (2, 3), (1, 0), (1, 1)),
    (8, 9, (2, 4), (3, 2), (1, 2), (2, 1)),
    (5, 10, (1, 3), (1, 4), (0, 1), (1, 3)),
    (9, 4, (4, 1), (5, 1), (2, 0), (2, 1)),
])
def test_conv_output_size_matches_shape_of_a_loop_convolution(height, width, kernel, stride,
                                                              padding, dilation):
    rng = np.random.default_rng(0)
    image = rng.standard_normal((height, width)).tolist()
    weights = rng.standard_normal(kernel).tolist()
    out = loop_conv2d(image, weights, stride, padding, dilation)
    expected = (conv_output_size(height, kernel[0], stride[0], padding[0], dilation[0]),
                conv_output_size(width, kernel[1], stride[1], padding[1], dilation[1]))
    assert (len(out), len(out[0])) == expected


def test_conv_output_size_matches_loop_convolution_over_many_1d_settings():
    for n, k, s, p, d in itertools.product(range(1, 8), range(1, 4), range(1, 4),
                                           range(0, 2), range(1, 3)):
        if n + 2 * p < d * (k - 1) + 1:
            continue  # no window fits: checked by the error test below
        out = loop_conv2d([[1.0] * n], [[1.0] * k], (1, s), (0, p), (1, d))
        assert len(out[0]) == conv_output_size(n, k, s, p, d), (n, k, s, p, d)


def test_conv_output_size_rejects_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"kernel span 5 .*padded input 4"):
        conv_output_size(2, 5, padding=1)
    with pytest.raises(ValueError, match=r"kernel span 5 .*dilation=2"):
        conv_output_size(4, 3, dilation=2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n=0, kernel_size=3), r"n must be >= 1, got 0"),
    (dict(n=8, kernel_size=3, stride=0), r"stride must be >= 1, got 0"),
    (dict(n=8, kernel_size=3, padding=-1), r"padding must be >= 0, got -1"),
    (dict(n=8, kernel_size=0), r"kernel_size must be >= 1, got 0"),
    (dict(n=8.0, kernel_size=3), r"n must be an int, got 8.0"),
    (dict(n=8, kernel_size=True), r"kernel_size must be an int, got True"),
])
def test_conv_output_size_rejects_bad_arguments_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv_output_size(**kwargs)


# ------------------------------------------------------------- transposed convolution

def test_conv_transpose_output_size_hand_examples():
    assert conv_transpose_output_size(2, 2, stride=2) == 4        # 2x upsampling
    assert conv_transpose_output_size(3, 3) == 5                  # full correlation: 3 + 3 - 1
    assert conv_transpose_output_size(16, 4, stride=2, padding=1) == 32  # DCGAN generator step
    assert conv_transpose_output_size(3, 3, stride=2, padding=1, output_padding=1) == 6


def test_conv_transpose_output_size_is_inverted_by_conv_output_size():
    # A transposed conv produces an input size that the matching conv maps back to n;
    # output_padding < stride chooses among the `stride` such sizes.
    for n, k, s, p, d in itertools.product(range(1, 6), range(1, 5), range(1, 4),
                                           range(0, 3), range(1, 3)):
        for op in range(s):
            try:
                size = conv_transpose_output_size(n, k, s, p, op, d)
            except ValueError:
                continue  # padding ate the whole output
            assert conv_output_size(size, k, s, p, d) == n, (n, k, s, p, op, d)


def test_conv_transpose_output_size_rejects_output_padding_not_below_stride_or_dilation():
    with pytest.raises(ValueError, match=r"output_padding \(2\) must be smaller than stride \(2\)"):
        conv_transpose_output_size(4, 3, stride=2, output_padding=2)
    # Allowed when smaller than the dilation: (4 - 1) * 1 + 2 * (3 - 1) + 1 + 1 = 9.
    assert conv_transpose_output_size(4, 3, stride=1, output_padding=1, dilation=2) == 9


def test_conv_transpose_output_size_rejects_padding_that_empties_the_output():
    with pytest.raises(ValueError, match=r"output size would be -1 < 1"):
        conv_transpose_output_size(1, 1, padding=1)


# ------------------------------------------------------------ receptive fields

def test_effective_kernel_size_of_dilated_kernels():
    assert effective_kernel_size(3, 1) == 3
    assert effective_kernel_size(3, 2) == 5   # taps at 0, 2, 4
    assert effective_kernel_size(5, 3) == 13
    assert effective_kernel_size(1, 7) == 1   # a 1x1 kernel has nothing to spread


def test_receptive_field_hand_examples():
    assert receptive_field([3, 3, 3]) == 7                        # each 3x3 adds 2
    assert receptive_field([3, 3, 3], dilations=[1, 2, 4]) == 15  # spans 3, 5, 9
    # 3x3 conv, 2x2/2 pool, 3x3 conv: 1 + 2 + 1 + 2 * 2 (the pool doubles the last step)
    assert receptive_field([3, 2, 3], strides=[1, 2, 1]) == 8
    assert receptive_field([]) == 1
    assert receptive_field([5]) == 5


@pytest.mark.parametrize("layers", [
    [(3, 1, 1)] * 3,
    [(3, 1, 1), (3, 1, 2), (3, 1, 4)],
    [(3, 1, 1), (2, 2, 1), (3, 1, 1)],
    [(5, 2, 1), (3, 2, 1), (3, 1, 2)],
    [(2, 2, 1), (2, 2, 1), (2, 2, 1)],
    [(4, 3, 1), (1, 1, 1), (3, 2, 1)],
])
def test_receptive_field_matches_impulses_traced_through_a_loop_conv_stack(layers):
    kernels, strides, dilations = zip(*layers)
    assert receptive_field(kernels, strides, dilations) == measured_receptive_field(layers)


def test_receptive_field_rejects_mismatched_list_lengths():
    with pytest.raises(ValueError, match=r"3 kernel_sizes, 2 strides, 3 dilations"):
        receptive_field([3, 3, 3], strides=[1, 1])


# ----------------------------------------------------------- parameters and cost

def test_conv_layer_has_456_parameters_where_a_dense_layer_has_millions():
    # Seed 000's course example: 6 filters of 5x5x3 on a 32x32x3 image, each with a bias.
    assert conv2d_param_count(3, 6, 5) == 6 * (75 + 1) == 456
    # A fully connected layer producing the same 28x28x6 output from the 3072 inputs:
    out_size = conv_output_size(32, 5)
    dense = linear_param_count(32 * 32 * 3, out_size * out_size * 6)
    assert dense == 3072 * 4704 + 4704 == 14_455_392


def test_depthwise_separable_conv_cuts_parameters_by_1_over_c_out_plus_1_over_k_squared():
    c_in, c_out, k = 32, 64, 3
    standard = conv2d_param_count(c_in, c_out, k, bias=False)
    depthwise = conv2d_param_count(c_in, c_in, k, groups=c_in, bias=False)
    pointwise = conv2d_param_count(c_in, c_out, 1, bias=False)
    assert (standard, depthwise, pointwise) == (18432, 288, 2048)
    assert (depthwise + pointwise) / standard == pytest.approx(1 / c_out + 1 / k ** 2, rel=1e-12)
    # Mult-adds shrink by the same factor, since every weight is used once per output pixel.
    std_ops = conv2d_mult_adds(c_in, c_out, k, 16)
    sep_ops = conv2d_mult_adds(c_in, c_in, k, 16, groups=c_in) + conv2d_mult_adds(c_in, c_out, 1, 16)
    assert sep_ops / std_ops == pytest.approx(1 / c_out + 1 / k ** 2, rel=1e-12)


def test_conv2d_param_count_with_groups_and_rectangular_kernels():
    assert conv2d_param_count(4, 6, (3, 1), groups=2) == 6 * 2 * 3 * 1 + 6
    assert conv2d_param_count(16, 16, 3, groups=16, bias=False) == 16 * 9


def test_conv2d_mult_adds_counts_one_dot_product_per_output_pixel():
    # 6 output channels of 28x28 pixels, each a dot product of 3 * 5 * 5 = 75 terms.
    assert conv2d_mult_adds(3, 6, 5, 28) == 6 * 28 * 28 * 75 == 352_800
    assert conv2d_mult_adds(4, 6, (3, 1), (5, 7), groups=2) == 6 * 5 * 7 * 2 * 3 * 1


def test_conv2d_counts_reject_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match=r"in_channels \(6\) and out_channels \(4\) .*groups \(3\)"):
        conv2d_param_count(6, 4, 3, groups=3)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a pair"):
        conv2d_mult_adds(3, 6, (3, 3, 3), 8)


def test_linear_counts():
    assert linear_param_count(400, 120) == 48_120           # LeNet-5's first dense layer
    assert linear_param_count(400, 120, bias=False) == 48_000
    assert linear_mult_adds(400, 120) == 48_000
    with pytest.raises(ValueError, match=r"out_features must be >= 1, got 0"):
        linear_param_count(10, 0)
