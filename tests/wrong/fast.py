"""Wrong-in-one-regime implementations of lesson 5's exercises (autograder/grading/suites/fast.py).

Each one is right everywhere except in its regime, where it makes a mistake
found in student code or in hand-written im2col code: col2im assigning where it
must add, im2col rows in (u, v, c) order that no longer match w.reshape(C_out, -1),
padding applied to the grid of windows instead of the input, Winograd code that
forgets a tile overhang or the channel sum. tests/test_regimes.py proves it.
"""
import numpy as np

from autograder.grading.suites import fast as suite
from autograder.reference import fast as ref
from autograder.reference.conv import conv2d, conv2d_backward

from . import Wrong
from ._conv import crash_when, first_image_only, first_of_pair, ignored, int_only, non_square_kernel_crash

MAX_POOL2D = suite.max_pool2d_lesson


def _first_channel_only(x, kernel_size, stride=None, padding=0, value=0.0):
    """Code for one channel: x[:, 0]'s windows, given a channel axis of 1."""
    return ref.pool_windows(np.asarray(x)[:, :1], kernel_size, stride, padding, value)


POOL_WINDOWS = [
    Wrong("pool_windows", "kernel_size a pair of unequal values", "kernel_size[0] on both axes",
          first_of_pair(ref.pool_windows, "kernel_size")),
    Wrong("pool_windows", "stride a pair", "int-only stride", int_only(ref.pool_windows, "stride")),
    Wrong("pool_windows", "padding > 0", "padding applied after the window view", suite.pool_windows_padded_after),
    Wrong("pool_windows", "batch N > 1", "only the first image", first_image_only(ref.pool_windows)),
    Wrong("pool_windows", "stride omitted (defaults to kernel_size)", "stride=None read as 1",
          suite.pool_windows_stride_one),
    Wrong("pool_windows", "padding with a value other than 0", "value ignored (zero padding)",
          suite.pool_windows_zero_padding),
    Wrong("pool_windows", "channels C > 1", "only channel 0", _first_channel_only),
]

MAX_POOL = [
    Wrong("max_pool2d", "kernel_size a pair of unequal values", "kernel_size[0] on both axes",
          first_of_pair(MAX_POOL2D, "kernel_size")),
    Wrong("max_pool2d", "stride omitted (defaults to kernel_size)", "stride=None read as 1",
          suite.max_pool2d_stride_one),
    Wrong("max_pool2d", "padding > 0 with all-negative inputs", "padded with zeros, not -inf",
          suite.max_pool2d_zero_padding),
    Wrong("max_pool2d", "batch N > 1", "only the first image", first_image_only(MAX_POOL2D)),
]

IM2COL = [
    Wrong("im2col", "kernel_size a pair of unequal values", "kernel_size[0] on both axes",
          first_of_pair(ref.im2col, "kernel_size")),
    Wrong("im2col", "stride a pair", "int-only stride", int_only(ref.im2col, "stride")),
    Wrong("im2col", "padding > 0", "padding applied after the window view", suite.im2col_padded_after),
    Wrong("im2col", "batch N > 1", "only the first image", first_image_only(ref.im2col)),
    Wrong("im2col", "dilation > 1", "dilation ignored", suite.im2col_dilation_ignored),
    Wrong("im2col", "channels C > 1 and a kernel larger than 1x1",
          "rows in (u, v, c) order, not w.reshape's (c, u, v)", suite.im2col_kernel_major),
]


def _col2im_first_image(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """Code for one image: cols[0] scattered, the result given a batch axis of 1."""
    return ref.col2im(np.asarray(cols)[:1], (1,) + tuple(x_shape[1:]), kernel_size, stride, padding, dilation)


COL2IM = [
    Wrong("col2im", "kernel_size a pair of unequal values", "kernel_size[0] on both axes",
          first_of_pair(ref.col2im, "kernel_size")),
    Wrong("col2im", "stride a pair", "int-only stride", int_only(ref.col2im, "stride")),
    Wrong("col2im", "padding > 0", "padding cropped at the start only", suite.col2im_crop_end),
    Wrong("col2im", "batch N > 1", "only the first image", _col2im_first_image),
    Wrong("col2im", "dilation > 1", "dilation ignored", ignored(ref.col2im, "dilation", 1)),
    Wrong("col2im", "stride < kernel span (windows overlap)", "x[...] = instead of +=", suite.col2im_overwrite),
]

CONV2D = [
    Wrong("conv2d", "stride > 1", "stride ignored", ignored(conv2d, "stride", 1)),
    Wrong("conv2d", "padding > 0", "padding ignored", ignored(conv2d, "padding", 0)),
    Wrong("conv2d", "dilation > 1", "dilation ignored", ignored(conv2d, "dilation", 1)),
    Wrong("conv2d", "groups > 1", "groups ignored (first C_in/groups channels)", suite.conv2d_groups_ignored),
    Wrong("conv2d", "C_in / groups > 1 and a kernel larger than 1x1", "w reshaped in (kH, kW, C) order",
          suite.conv2d_weight_kernel_major),
    Wrong("conv2d", "batch N > 1", "only the first image", first_image_only(conv2d)),
    Wrong("conv2d", "stride a pair of unequal values", "stride[0] on both axes", first_of_pair(conv2d, "stride")),
    Wrong("conv2d", "non-square kernel", "kernel width taken as kH", non_square_kernel_crash(conv2d)),
    Wrong("conv2d", "bias given", "bias ignored", ignored(conv2d, "b", None)),
]


def _grad_w_of_first_image(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """grad_w from image 0 only (the batch sum forgotten); grad_x and grad_b right."""
    grad_x, _, grad_b = conv2d_backward(grad_out, x, w, stride, padding, dilation, groups)
    grad_w = conv2d_backward(np.asarray(grad_out)[:1], np.asarray(x)[:1], w, stride, padding, dilation, groups)[1]
    return grad_x, grad_w, grad_b


def _backward_cropped_at_one_end(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """grad_x from a col2im that crops the padding at the start only."""
    _, grad_w, grad_b = conv2d_backward(grad_out, x, w, stride, padding, dilation, groups)
    w = np.asarray(w, dtype=np.float64)
    n, c_out = np.shape(grad_out)[:2]
    g = np.asarray(grad_out, dtype=np.float64).reshape(n, groups, c_out // groups, -1)
    grad_cols = (w.reshape(groups, c_out // groups, -1).swapaxes(1, 2) @ g).reshape(n, -1, g.shape[-1])
    grad_x = suite.col2im_crop_end(grad_cols, np.shape(x), w.shape[2:], stride, padding, dilation)
    return grad_x, grad_w, grad_b


CONV2D_BACKWARD = [
    Wrong("conv2d_backward", "stride > 1", "stride ignored", ignored(conv2d_backward, "stride", 1)),
    Wrong("conv2d_backward", "padding > 0", "grad_x cropped at the start only", _backward_cropped_at_one_end),
    Wrong("conv2d_backward", "dilation > 1", "dilation ignored", ignored(conv2d_backward, "dilation", 1)),
    Wrong("conv2d_backward", "groups > 1", "groups ignored", ignored(conv2d_backward, "groups", 1)),
    Wrong("conv2d_backward", "C_in / groups > 1 and a kernel larger than 1x1",
          "grad_w reshaped in (kH, kW, C) order", suite.conv2d_backward_weight_kernel_major),
    Wrong("conv2d_backward", "batch N > 1", "grad_w of the first image only", _grad_w_of_first_image),
    Wrong("conv2d_backward", "stride < kernel span (windows overlap)", "col2im assigns instead of adding",
          suite.conv2d_backward_overwrite),
]


def _f23_indexing_the_first_axis(d, g):
    """d[0], d[1], ... instead of d[..., 0]: right for one tile, rows of tiles otherwise."""
    d, g = np.asarray(d, dtype=np.float64), np.asarray(g, dtype=np.float64)
    m = [(d[0] - d[2]) * g[0], (d[1] + d[2]) * (g[0] + g[1] + g[2]) / 2,
         (d[2] - d[1]) * (g[0] - g[1] + g[2]) / 2, (d[1] - d[3]) * g[2]]
    return np.stack([m[0] + m[1] + m[2], m[1] - m[2] - m[3]], axis=-1)


def _winograd_first_filter(x, w, padding=0):
    """Filter 0 used for every output channel."""
    w = np.asarray(w, dtype=np.float64)
    return ref.winograd_conv2d(x, np.broadcast_to(w[:1], w.shape).copy(), padding)


WINOGRAD = [
    Wrong("winograd_f23", "one tile (d of shape (4,))", "d[:, k] indexing: crashes on one tile",
          crash_when(ref.winograd_f23, lambda a: np.ndim(a["d"]) == 1,
                     "too many indices for array: array is 1-dimensional, but 2 were indexed")),
    Wrong("winograd_f23", "a batch of tiles (d of shape (..., 4))", "d[k] indexing: the first axis, not the last",
          _f23_indexing_the_first_axis),
    Wrong("winograd_f23", "an asymmetric filter (g0 != g2)", "filter flipped", suite.winograd_f23_flipped),
    Wrong("winograd_conv2d", "odd output height or width", "only whole 2x2 tiles",
          suite.winograd_conv2d_even_only),
    Wrong("winograd_conv2d", "padding > 0", "padding ignored", ignored(ref.winograd_conv2d, "padding", 0)),
    Wrong("winograd_conv2d", "channels C_in > 1", "every input channel meets filter channel 0",
          suite.winograd_conv2d_channels_separately),
    Wrong("winograd_conv2d", "C_out > 1", "filter 0 for every output channel", _winograd_first_filter),
    Wrong("winograd_conv2d", "batch N > 1", "only the first image", first_image_only(ref.winograd_conv2d)),
]

WRONG = POOL_WINDOWS + MAX_POOL + IM2COL + COL2IM + CONV2D + CONV2D_BACKWARD + WINOGRAD
