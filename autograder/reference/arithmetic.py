"""Shape and cost arithmetic of CNN layers, on plain ints.

The lessons and explorers use these to answer "how big is the output?", "how
far does one output pixel see?" and "how many parameters and multiply-adds does
this layer cost?" without building any arrays. Sizes follow torch.nn.functional.
"""
import numpy as np

__all__ = [
    "effective_kernel_size",
    "conv_output_size",
    "conv_transpose_output_size",
    "receptive_field",
    "conv2d_param_count",
    "conv2d_mult_adds",
    "linear_param_count",
    "linear_mult_adds",
]


def _int(value, name):
    """`value` as a Python int; ValueError for floats, bools and other non-integers."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return int(value)


def _at_least(value, minimum, name):
    value = _int(value, name)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def _int_pair(value, name):
    """(height, width) from an int or a pair of ints, each >= 1."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(_at_least(v, 1, name) for v in value)
    v = _at_least(value, 1, name)
    return v, v


def effective_kernel_size(kernel_size, dilation):
    """Span of a dilated kernel: k + (k - 1)(d - 1) = d(k - 1) + 1.

    A 3-tap kernel with dilation 2 touches inputs 0, 2, 4 and so spans 5.
    """
    k = _at_least(kernel_size, 1, "kernel_size")
    d = _at_least(dilation, 1, "dilation")
    return k + (k - 1) * (d - 1)


def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1, ceil_mode=False):
    """Output length of a convolution or pooling along one dimension.

    floor((n + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    ceil_mode=True (pooling only) rounds up instead, so a last, partial window
    counts, but, as torch does, not one that would start in the right padding.
    Raises ValueError when the result would be < 1.
    """
    n = _at_least(n, 1, "n")
    s = _at_least(stride, 1, "stride")
    p = _at_least(padding, 0, "padding")
    span = effective_kernel_size(kernel_size, dilation)
    room = n + 2 * p - span  # how far the window can slide
    # Rounding up is floor((room + s - 1) / s), the same integer formula torch uses.
    out = (room + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out < 1:
        raise ValueError(f"output size would be {out} < 1: kernel span {span} (kernel_size="
                         f"{kernel_size}, dilation={dilation}) does not fit the padded input "
                         f"{n + 2 * p} (n={n}, padding={p}, stride={s})")
    return out


def conv_transpose_output_size(n, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
    """Output length of a transposed convolution along one dimension.

    (n - 1)*stride - 2*padding + dilation*(kernel_size - 1) + output_padding + 1

    output_padding picks one of the `stride` input sizes that a strided conv maps
    to n, so torch requires it to be smaller than stride or dilation.
    """
    n = _at_least(n, 1, "n")
    s = _at_least(stride, 1, "stride")
    p = _at_least(padding, 0, "padding")
    d = _at_least(dilation, 1, "dilation")
    op = _at_least(output_padding, 0, "output_padding")
    if op >= s and op >= d:
        raise ValueError(f"output_padding ({op}) must be smaller than stride ({s}) or dilation ({d})")
    out = (n - 1) * s - 2 * p + (effective_kernel_size(kernel_size, d) - 1) + op + 1
    if out < 1:
        raise ValueError(f"transposed conv output size would be {out} < 1 (n={n}, "
                         f"kernel_size={kernel_size}, stride={s}, padding={p}, "
                         f"output_padding={op}, dilation={d})")
    return out


def receptive_field(kernel_sizes, strides=None, dilations=None):
    """Receptive field (in input pixels, one dimension) of one output of a layer stack.

    kernel_sizes, strides, dilations: one int per layer, first layer first;
    strides and dilations default to 1. A pooling layer counts as a layer.

    r = 1 + sum_l (k_eff_l - 1) * prod(strides of layers before l),
    with k_eff_l = d_l (k_l - 1) + 1: each layer widens the field by its kernel
    span, measured in input pixels, where one step of layer l is the product of
    the earlier strides.
    """
    kernel_sizes = list(kernel_sizes)
    n = len(kernel_sizes)
    strides = [1] * n if strides is None else list(strides)
    dilations = [1] * n if dilations is None else list(dilations)
    if len(strides) != n or len(dilations) != n:
        raise ValueError(f"need one stride and one dilation per layer: {n} kernel_sizes, "
                         f"{len(strides)} strides, {len(dilations)} dilations")
    field, jump = 1, 1
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += (effective_kernel_size(k, d) - 1) * jump
        jump *= _at_least(s, 1, "stride")
    return field


def _channels_per_group(in_channels, out_channels, groups):
    c_in = _at_least(in_channels, 1, "in_channels")
    c_out = _at_least(out_channels, 1, "out_channels")
    g = _at_least(groups, 1, "groups")
    if c_in % g or c_out % g:
        raise ValueError(f"in_channels ({c_in}) and out_channels ({c_out}) must both be "
                         f"divisible by groups ({g})")
    return c_in // g, c_out


def conv2d_param_count(in_channels, out_channels, kernel_size, groups=1, bias=True):
    """Number of learnable numbers in a Conv2d layer.

    weight (C_out, C_in / groups, kH, kW) plus bias (C_out,):
    C_out * (C_in / groups) * kH * kW + (C_out if bias else 0).
    kernel_size: int or (kH, kW). The input's height and width do not matter:
    every position shares the same weights.
    """
    c_in_per_group, c_out = _channels_per_group(in_channels, out_channels, groups)
    kh, kw = _int_pair(kernel_size, "kernel_size")
    return c_out * c_in_per_group * kh * kw + (c_out if bias else 0)


def conv2d_mult_adds(in_channels, out_channels, kernel_size, output_size, groups=1):
    """Multiply-adds of one Conv2d forward pass on one image (bias additions not counted).

    C_out * H_out * W_out * (C_in / groups) * kH * kW: each output pixel of each
    output channel is a dot product of length (C_in / groups) * kH * kW.
    kernel_size, output_size: int or (height, width).
    """
    c_in_per_group, c_out = _channels_per_group(in_channels, out_channels, groups)
    kh, kw = _int_pair(kernel_size, "kernel_size")
    h_out, w_out = _int_pair(output_size, "output_size")
    return c_out * h_out * w_out * c_in_per_group * kh * kw


def linear_param_count(in_features, out_features, bias=True):
    """Number of learnable numbers in a Linear layer: in * out weights + out biases."""
    f_in = _at_least(in_features, 1, "in_features")
    f_out = _at_least(out_features, 1, "out_features")
    return f_in * f_out + (f_out if bias else 0)


def linear_mult_adds(in_features, out_features):
    """Multiply-adds of one Linear forward pass on one sample: in_features * out_features."""
    return _at_least(in_features, 1, "in_features") * _at_least(out_features, 1, "out_features")
