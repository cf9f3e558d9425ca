"""Convolution, transposed convolution and channel shuffle, forward and backward.

Every function follows `torch.nn.functional` (names, argument order, output
sizes and numbers): convolution is cross-correlation (no kernel flip), arrays
are NCHW (NCDHW in 3-D), and a spatial hyperparameter is an int or a tuple.

One N-d implementation serves 2-D and 3-D. It rests on three private steps:

* `_columns` lays every receptive field out as a column (im2col) through a
  `sliding_window_view`, so the forward pass and the weight gradient are each
  one batch of matrix products, one per (sample, group);
* the input gradient multiplies grad_out by the transposed weight matrix and
  scatter-adds the resulting columns back, one strided slice per kernel
  offset (col2im). That is the "full convolution of the stride-dilated
  grad_out with the kernel rotated by 180 degrees" written as a scatter, which
  never multiplies the zeros a dilated grad_out would contain;
* a transposed convolution *is* that input gradient, and its backward pass is
  an ordinary convolution.

The im2col copy costs kH*kW times the input's memory. It was chosen over a
matrix product per kernel offset (no copy, but 9 small products for a 3x3
kernel) because it measured about 1.2x of PyTorch's CPU float64 conv2d
against 1.6x for the per-offset loop.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograder.reference._util import as_float, check_ndim, check_non_negative, check_positive, ntuple

__all__ = [
    "conv2d",
    "conv2d_backward",
    "conv3d",
    "conv3d_backward",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "channel_shuffle",
    "channel_shuffle_backward",
]

_LAYOUT = {2: "(N, C_in, H, W)", 3: "(N, C_in, D, H, W)"}
_KERNEL = {2: "kH, kW", 3: "kD, kH, kW"}


# --------------------------------------------------------------------------- argument checks

def _check_groups(groups):
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive int, got {groups!r}")
    return int(groups)


def _check_common(x, w, w_layout, stride, dilation, groups, nd):
    """The checks every convolution shares; returns float arrays and tuples."""
    check_ndim(x, nd + 2, "x", _LAYOUT[nd])
    check_ndim(w, nd + 2, "w", f"({w_layout}, {_KERNEL[nd]})")
    stride = ntuple(stride, nd, "stride")
    dilation = ntuple(dilation, nd, "dilation")
    check_positive(stride, "stride")
    check_positive(dilation, "dilation")
    return as_float(x), as_float(w), stride, dilation, _check_groups(groups)


def _padding_pairs(padding, nd, stride, dilation, kernel):
    """Padding as ((before, after), ...) per spatial dim; 'same' may pad asymmetrically.

    torch puts the odd pixel of 'same' padding after the input (right/bottom).
    """
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"padding='same' requires stride 1, got stride={stride}")
            totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"padding must be 'valid', 'same', an int or a tuple of {nd} ints, got {padding!r}")
    pads = ntuple(padding, nd, "padding")
    check_non_negative(pads, "padding")
    return tuple((p, p) for p in pads)


def _out_size(in_size, kernel, stride, pads, dilation):
    """floor((in + pad_before + pad_after - dilation*(k-1) - 1) / stride) + 1 per spatial dim."""
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(in_size, kernel, stride, pads, dilation))


def _check_bias(b, channels):
    if b is None:
        return None
    b = as_float(b)
    if b.shape != (channels,):
        raise ValueError(f"b must have shape ({channels},) (one entry per output channel), got {b.shape}")
    return b


def _check_grad_out(grad_out, expected):
    grad_out = as_float(grad_out)
    if grad_out.shape != tuple(expected):
        raise ValueError(f"grad_out must have the forward output's shape {tuple(expected)}, got {grad_out.shape}")
    return grad_out


def _conv_setup(x, w, b, stride, padding, dilation, groups, nd):
    """Validate a convolution's arguments; return arrays, tuples and the output spatial size."""
    x, w, stride, dilation, groups = _check_common(x, w, "C_out, C_in // groups", stride, dilation, groups, nd)
    c_in, c_out, kernel = x.shape[1], w.shape[0], w.shape[2:]
    if c_out % groups:
        raise ValueError(f"C_out = w.shape[0] = {c_out} is not divisible by groups = {groups}")
    if c_in != w.shape[1] * groups:
        raise ValueError(f"x has C_in = {c_in} channels but w.shape[1] * groups = "
                         f"{w.shape[1]} * {groups} = {w.shape[1] * groups}")
    pads = _padding_pairs(padding, nd, stride, dilation, kernel)
    for n, k, (lo, hi), d in zip(x.shape[2:], kernel, pads, dilation):
        if d * (k - 1) + 1 > n + lo + hi:
            raise ValueError(f"kernel size {tuple(kernel)} (dilation {dilation}) is larger than the padded "
                             f"input {tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads))}")
    b = _check_bias(b, c_out)
    return x, w, b, stride, pads, dilation, groups, _out_size(x.shape[2:], kernel, stride, pads, dilation)


def _transpose_setup(x, w, b, stride, padding, output_padding, groups, dilation, nd):
    """Validate a transposed convolution's arguments; return arrays, tuples and the output spatial size."""
    x, w, stride, dilation, groups = _check_common(x, w, "C_in, C_out // groups", stride, dilation, groups, nd)
    pads = ntuple(padding, nd, "padding")
    check_non_negative(pads, "padding")
    output_padding = ntuple(output_padding, nd, "output_padding")
    check_non_negative(output_padding, "output_padding")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"output_padding must be smaller than either stride or dilation, got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    c_in = x.shape[1]
    if w.shape[0] != c_in:
        raise ValueError(f"x has C_in = {c_in} channels but w.shape[0] = {w.shape[0]}")
    if c_in % groups:
        raise ValueError(f"C_in = {c_in} is not divisible by groups = {groups}")
    kernel = w.shape[2:]
    out_size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op
                     in zip(x.shape[2:], stride, pads, dilation, kernel, output_padding))
    if any(o < 1 for o in out_size):
        raise ValueError(f"output size {out_size} is not positive: padding {pads} is too large "
                         f"for input {x.shape[2:]} and kernel {tuple(kernel)}")
    b = _check_bias(b, w.shape[1] * groups)
    return x, w, b, stride, tuple((p, p) for p in pads), dilation, groups, out_size


# --------------------------------------------------------------------------- N-d core

def _pad(x, pads):
    return np.pad(x, ((0, 0), (0, 0)) + tuple(pads))


def _columns(x, kernel, stride, pads, dilation, out_size, groups):
    """im2col: (N, groups, C_in/groups * prod(kernel), prod(out_size)).

    Column p of sample n holds the receptive field of output position p; rows
    run over (channel, kernel offset) in the order of w.reshape(C_out, -1).
    """
    nd = len(kernel)
    spatial = tuple(range(2, 2 + nd))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = sliding_window_view(_pad(x, pads), extent, axis=spatial)
    # Keep every stride-th window and every dilation-th tap inside each window;
    # `out_size` may stop short of the last window (transposed-conv backward).
    keep = ((slice(None),) * 2
            + tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(stride, out_size))
            + tuple(slice(None, None, d) for d in dilation))
    windows = windows[keep]                                 # (N, C_in, *out, *kernel)
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *spatial)    # (N, C_in, *kernel, *out)
    n, c_in = x.shape[:2]
    return windows.transpose(order).reshape(n, groups, c_in // groups * math.prod(kernel), -1)


def _by_group(a, groups):
    """(N, C, *S) -> (N, groups, C/groups, prod(S)), a view for contiguous a."""
    return a.reshape(a.shape[0], groups, a.shape[1] // groups, -1)


def _weight_rows(w, groups):
    """(C_out, C_in/g, *K) -> (groups, C_out/g, C_in/g * prod(K)): one matrix per group."""
    return w.reshape(groups, w.shape[0] // groups, -1)


def _conv(x, w, stride, pads, dilation, groups, out_size):
    """Cross-correlate x (N, C_in, *S) with w (C_out, C_in/g, *K); no bias, output size given."""
    cols = _columns(x, w.shape[2:], stride, pads, dilation, out_size, groups)
    # One matrix product per (sample, group): (C_out/g, C_in/g*K) @ (C_in/g*K, P).
    out = _weight_rows(w, groups) @ cols
    return out.reshape(x.shape[0], w.shape[0], *out_size)


def _conv_grad_weight(grad_out, x, kernel, stride, pads, dilation, groups):
    """dL/dw (C_out, C_in/g, *K): correlate the input with grad_out (N, C_out, *out)."""
    cols = _columns(x, kernel, stride, pads, dilation, grad_out.shape[2:], groups)
    grad_w = (_by_group(grad_out, groups) @ cols.swapaxes(2, 3)).sum(axis=0)
    return grad_w.reshape(grad_out.shape[1], x.shape[1] // groups, *kernel)


def _conv_grad_input(grad_out, w, in_size, stride, pads, dilation, groups):
    """dL/dx (N, C_in, *in_size) of a convolution: col2im of w^T @ grad_out.

    Each kernel offset sends grad_out, scaled by that tap of w, back to the
    input pixels it read; inputs no window reached (stride not dividing the
    input) keep a zero gradient.
    """
    n, _, *out_size = grad_out.shape
    kernel = w.shape[2:]
    c_in = w.shape[1] * groups
    cols = _weight_rows(w, groups).swapaxes(1, 2) @ _by_group(grad_out, groups)
    cols = cols.reshape(n, c_in, *kernel, *out_size)
    padded = tuple(size + lo + hi for size, (lo, hi) in zip(in_size, pads))
    grad = np.zeros((n, c_in, *padded))
    for offset in np.ndindex(*kernel):
        target = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(offset, dilation, stride, out_size))
        grad[(slice(None), slice(None)) + target] += cols[(slice(None), slice(None)) + offset]
    crop = tuple(slice(lo, lo + size) for size, (lo, _) in zip(in_size, pads))
    return np.ascontiguousarray(grad[(slice(None), slice(None)) + crop])


def _add_bias(out, b):
    if b is not None:
        out += b.reshape(1, -1, *([1] * (out.ndim - 2)))
    return out


def _sum_bias(grad_out):
    return grad_out.sum(axis=(0, *range(2, grad_out.ndim)))


def _conv_forward(x, w, b, stride, padding, dilation, groups, nd):
    x, w, b, stride, pads, dilation, groups, out_size = _conv_setup(x, w, b, stride, padding, dilation, groups, nd)
    return _add_bias(_conv(x, w, stride, pads, dilation, groups, out_size), b)


def _conv_backward(grad_out, x, w, stride, padding, dilation, groups, nd):
    x, w, _, stride, pads, dilation, groups, out_size = _conv_setup(x, w, None, stride, padding, dilation, groups, nd)
    grad_out = _check_grad_out(grad_out, (x.shape[0], w.shape[0], *out_size))
    grad_x = _conv_grad_input(grad_out, w, x.shape[2:], stride, pads, dilation, groups)
    grad_w = _conv_grad_weight(grad_out, x, w.shape[2:], stride, pads, dilation, groups)
    return grad_x, grad_w, _sum_bias(grad_out)


# --------------------------------------------------------------------------- public API

def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C_in, H, W)
    w: (C_out, C_in // groups, kH, kW); input channel group g feeds output
       channels g*C_out/groups ... (g+1)*C_out/groups - 1
    b: (C_out,) or None
    stride, dilation: int or (sH, sW), each >= 1
    padding: int or (pH, pW) zeros on both sides, or 'valid' (= 0) or 'same'
       (stride 1 only; output size = input size, the odd pixel padded after)
    Returns out (N, C_out, H_out, W_out) with
       H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1, and W_out likewise.
    """
    return _conv_forward(x, w, b, stride, padding, dilation, groups, nd=2)


def conv2d_backward(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of conv2d.

    grad_out: (N, C_out, H_out, W_out), H_out as in `conv2d`
    x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW)
    Returns (grad_x, grad_w, grad_b) of shapes (N, C_in, H, W),
    (C_out, C_in // groups, kH, kW) and (C_out,):
      grad_b sums grad_out over N, H_out and W_out;
      grad_w correlates the (padded) input with grad_out;
      grad_x is the full convolution of the stride-dilated grad_out with the
      kernel rotated by 180 degrees, cropped by the padding (rows and columns
      of x that no window reached get zero).
    """
    return _conv_backward(grad_out, x, w, stride, padding, dilation, groups, nd=2)


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation, as torch.nn.functional.conv3d.

    x: (N, C_in, D, H, W)
    w: (C_out, C_in // groups, kD, kH, kW)
    b: (C_out,) or None
    stride, dilation: int or (sD, sH, sW); padding: int, triple, 'valid' or 'same'
    Returns out (N, C_out, D_out, H_out, W_out) with
       D_out = floor((D + 2*pD - dD*(kD - 1) - 1) / sD) + 1, and H_out, W_out likewise.
    """
    return _conv_forward(x, w, b, stride, padding, dilation, groups, nd=3)


def conv3d_backward(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """Gradients of conv3d.

    grad_out: (N, C_out, D_out, H_out, W_out), sizes as in `conv3d`
    x: (N, C_in, D, H, W); w: (C_out, C_in // groups, kD, kH, kW)
    Returns (grad_x, grad_w, grad_b) of the shapes of x, w and (C_out,),
    computed exactly as in `conv2d_backward` with one more spatial axis.
    """
    return _conv_backward(grad_out, x, w, stride, padding, dilation, groups, nd=3)


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution, as torch.nn.functional.conv_transpose2d.

    Each input pixel adds a copy of the kernel, scaled by its value, into the
    output at stride spacing (no kernel flip); the result equals the input
    gradient of `conv2d` with the same w, stride, padding, dilation, groups.

    x: (N, C_in, H, W)
    w: (C_in, C_out // groups, kH, kW)
    b: (C_out,) or None
    stride, dilation: int or pair, each >= 1; padding: int or pair, >= 0,
       removed from both sides of the output
    output_padding: int or pair added to one side (bottom/right) of the output;
       each entry must be smaller than the stride or the dilation of its dimension
    Returns out (N, C_out, H_out, W_out) with
       H_out = (H - 1)*sH - 2*pH + dH*(kH - 1) + output_padding_H + 1, and W_out likewise.
    """
    x, w, b, stride, pads, dilation, groups, out_size = _transpose_setup(
        x, w, b, stride, padding, output_padding, groups, dilation, nd=2)
    return _add_bias(_conv_grad_input(x, w, out_size, stride, pads, dilation, groups), b)


def conv_transpose2d_backward(grad_out, x, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Gradients of conv_transpose2d.

    grad_out: (N, C_out, H_out, W_out), H_out as in `conv_transpose2d`
    x: (N, C_in, H, W); w: (C_in, C_out // groups, kH, kW)
    Returns (grad_x, grad_w, grad_b) of shapes (N, C_in, H, W),
    (C_in, C_out // groups, kH, kW) and (C_out,):
      grad_x is conv2d(grad_out, w) with the same stride, padding, dilation
      and groups, keeping the first H x W outputs;
      grad_w correlates grad_out with x;
      grad_b sums grad_out over N, H_out and W_out.
    """
    x, w, _, stride, pads, dilation, groups, out_size = _transpose_setup(
        x, w, None, stride, padding, output_padding, groups, dilation, nd=2)
    grad_out = _check_grad_out(grad_out, (x.shape[0], w.shape[1] * groups, *out_size))
    # The transposed conv is the input gradient of a conv that maps grad_out's
    # shape to x's shape, so its gradients are that conv's forward pass and
    # weight gradient with the roles of the arrays exchanged.
    grad_x = _conv(grad_out, w, stride, pads, dilation, groups, x.shape[2:])
    grad_w = _conv_grad_weight(x, grad_out, w.shape[2:], stride, pads, dilation, groups)
    return grad_x, grad_w, _sum_bias(grad_out)


def _check_shuffle(x, groups):
    if np.ndim(x) < 3:
        raise ValueError(f"x must have at least 3 dimensions (N, C, *), got shape {np.shape(x)}")
    groups = _check_groups(groups)
    if np.shape(x)[1] % groups:
        raise ValueError(f"number of channels C = {np.shape(x)[1]} is not divisible by groups = {groups}")
    return as_float(x), groups


def channel_shuffle(x, groups):
    """Channel shuffle (ShuffleNet), as torch.nn.functional.channel_shuffle.

    x: (N, C, *) with C divisible by groups, e.g. (N, C, H, W)
    Returns out of the same shape: view the channels as (groups, C // groups),
    transpose that to (C // groups, groups) and flatten, so out channel
    k * groups + g is input channel g * (C // groups) + k.
    For C = 6, groups = 2 the channel order becomes [0, 3, 1, 4, 2, 5].
    """
    x, groups = _check_shuffle(x, groups)
    n, c, *rest = x.shape
    return x.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(x.shape)


def channel_shuffle_backward(grad_out, x, groups):
    """Gradient of channel_shuffle: the inverse permutation of grad_out's channels.

    grad_out, x: (N, C, *); returns grad_x (N, C, *). A shuffle with
    C // groups groups undoes a shuffle with `groups` groups.
    """
    x, groups = _check_shuffle(x, groups)
    grad_out = _check_grad_out(grad_out, x.shape)
    n, c, *rest = x.shape
    return grad_out.reshape(n, c // groups, groups, *rest).swapaxes(1, 2).reshape(x.shape)
