"""Convolution variants built from `conv2d`: depthwise, pointwise, separable, flattened.

Each variant is a composition of ordinary convolutions (conv.py), and each is
equal to one plain conv2d with a structured kernel:

* depthwise:            groups = C, every channel filtered on its own;
* pointwise:            a 1x1 kernel, i.e. one fully connected layer per pixel;
* depthwise separable:  depthwise then pointwise (MobileNet);
* spatially separable:  a rank-one kernel w[o,c,i,j] = w_col[o,c,i] * w_row[o,j]
                        (Sobel: [1,2,1]^T times [-1,0,1]);
* flattened:            w[o,c,i,j] = w_channel[o,c] * w_vertical[o,i] * w_horizontal[o,j]
                        (Jin et al. 2014), C + kH + kW parameters per filter instead
                        of C * kH * kW.

`conv2d_matrix` writes a convolution as the matrix it is; its transpose is the
transposed convolution.

The backward functions follow the forward passes step by step in reverse,
each step being `conv2d_backward`.
"""
import numpy as np

from autograder.reference._util import as_float, check_ndim, pair
from autograder.reference.conv import conv2d, conv2d_backward

__all__ = [
    "depthwise_conv2d",
    "depthwise_conv2d_backward",
    "pointwise_conv2d",
    "pointwise_conv2d_backward",
    "depthwise_separable_conv2d",
    "depthwise_separable_conv2d_backward",
    "spatially_separable_conv2d",
    "spatially_separable_conv2d_backward",
    "flattened_conv2d",
    "flattened_conv2d_backward",
    "conv2d_matrix",
]


def _check_weight(w, name, expected, shape_text):
    """Raise ValueError unless w's shape matches `expected` (None entries match anything)."""
    check_ndim(w, 4, name, shape_text)
    if any(e is not None and e != s for e, s in zip(expected, np.shape(w))):
        raise ValueError(f"{name} must have shape {shape_text}, got {np.shape(w)}")
    return as_float(w)


def _channels(x):
    check_ndim(x, 4, "x", "(N, C_in, H, W)")
    return np.shape(x)[1]


# --------------------------------------------------------------------------- depthwise / pointwise

def depthwise_conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    """Depthwise convolution: conv2d with groups = C, one filter per input channel.

    x: (N, C, H, W)
    w: (C, 1, kH, kW); (C * m, 1, kH, kW) gives m filters per channel, as in torch
    b: (C,) (or (C * m,)) or None
    Returns out (N, C, H_out, W_out), H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1.
    """
    c = _channels(x)
    w = _check_weight(w, "w", (None, 1), "(C, 1, kH, kW)")
    return conv2d(x, w, b, stride, padding, dilation, groups=c)


def depthwise_conv2d_backward(grad_out, x, w, stride=1, padding=0, dilation=1):
    """Gradients of depthwise_conv2d.

    grad_out: (N, C, H_out, W_out); x: (N, C, H, W); w: (C, 1, kH, kW)
    Returns (grad_x, grad_w, grad_b) of shapes (N, C, H, W), (C, 1, kH, kW), (C,).
    """
    c = _channels(x)
    w = _check_weight(w, "w", (None, 1), "(C, 1, kH, kW)")
    return conv2d_backward(grad_out, x, w, stride, padding, dilation, groups=c)


def pointwise_conv2d(x, w, b=None):
    """Pointwise (1x1) convolution: a fully connected layer applied at every pixel.

    x: (N, C_in, H, W); w: (C_out, C_in, 1, 1); b: (C_out,) or None
    Returns out (N, C_out, H, W) with out[n, :, i, j] = w[:, :, 0, 0] @ x[n, :, i, j] + b.
    """
    w = _check_weight(w, "w", (None, None, 1, 1), "(C_out, C_in, 1, 1)")
    return conv2d(x, w, b)


def pointwise_conv2d_backward(grad_out, x, w):
    """Gradients of pointwise_conv2d.

    grad_out: (N, C_out, H, W); x: (N, C_in, H, W); w: (C_out, C_in, 1, 1)
    Returns (grad_x, grad_w, grad_b) of shapes (N, C_in, H, W), (C_out, C_in, 1, 1), (C_out,).
    """
    w = _check_weight(w, "w", (None, None, 1, 1), "(C_out, C_in, 1, 1)")
    return conv2d_backward(grad_out, x, w)


def depthwise_separable_conv2d(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                               stride=1, padding=0, dilation=1):
    """Depthwise separable convolution (MobileNet): depthwise_conv2d, then pointwise_conv2d.

    x: (N, C_in, H, W)
    w_depthwise: (C_in, 1, kH, kW); b_depthwise: (C_in,) or None
    w_pointwise: (C_out, C_in, 1, 1); b_pointwise: (C_out,) or None
    stride, padding, dilation apply to the depthwise step.
    Returns out (N, C_out, H_out, W_out), H_out = floor((H + 2*pH - dH*(kH - 1) - 1) / sH) + 1.
    Parameters: C_in*kH*kW + C_out*C_in weights instead of C_out*C_in*kH*kW.
    """
    hidden = depthwise_conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation)
    return pointwise_conv2d(hidden, w_pointwise, b_pointwise)


def depthwise_separable_conv2d_backward(grad_out, x, w_depthwise, w_pointwise, b_depthwise=None,
                                        stride=1, padding=0, dilation=1):
    """Gradients of depthwise_separable_conv2d.

    grad_out: (N, C_out, H_out, W_out); x: (N, C_in, H, W)
    w_depthwise: (C_in, 1, kH, kW); w_pointwise: (C_out, C_in, 1, 1)
    b_depthwise: (C_in,) or None (the pointwise weight gradient needs the
    depthwise output, bias included)
    Returns (grad_x, grad_w_depthwise, grad_w_pointwise, grad_b_depthwise, grad_b_pointwise).
    """
    hidden = depthwise_conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation)
    grad_hidden, grad_w_pointwise, grad_b_pointwise = pointwise_conv2d_backward(grad_out, hidden, w_pointwise)
    grad_x, grad_w_depthwise, grad_b_depthwise = depthwise_conv2d_backward(
        grad_hidden, x, w_depthwise, stride, padding, dilation)
    return grad_x, grad_w_depthwise, grad_w_pointwise, grad_b_depthwise, grad_b_pointwise


# --------------------------------------------------------------------------- spatially separable

def _check_spatial(x, w_col, w_row):
    c_in = _channels(x)
    w_col = _check_weight(w_col, "w_col", (None, c_in, None, 1), f"(C_out, C_in={c_in}, kH, 1)")
    c_out = w_col.shape[0]
    w_row = _check_weight(w_row, "w_row", (c_out, 1, 1, None), f"(C_out={c_out}, 1, 1, kW)")
    return w_col, w_row


def spatially_separable_conv2d(x, w_col, w_row, b=None, stride=1, padding=0):
    """Spatially separable convolution: a kH x 1 convolution, then a 1 x kW one per channel.

    x: (N, C_in, H, W)
    w_col: (C_out, C_in, kH, 1), applied first across channels and rows
    w_row: (C_out, 1, 1, kW), applied second to each channel alone (groups = C_out)
    b: (C_out,) or None
    Returns out (N, C_out, H_out, W_out), equal to conv2d(x, w, b, stride, padding) with
    the rank-one kernel w[o, c, i, j] = w_col[o, c, i, 0] * w_row[o, 0, 0, j], and
    H_out = floor((H + 2*pH - kH) / sH) + 1, W_out = floor((W + 2*pW - kW) / sW) + 1.

    Both paddings go on the first pass (the padded columns stay zero through it).
    The row stride goes on the first pass and the column stride on the second:
    each pass subsamples only the axis its own kernel slides along, so the
    second pass still sees every column it needs and the identity stays exact.
    """
    w_col, w_row = _check_spatial(x, w_col, w_row)
    (s_h, s_w), padding = pair(stride, "stride"), pair(padding, "padding")
    columns = conv2d(x, w_col, None, (s_h, 1), padding)
    return conv2d(columns, w_row, b, (1, s_w), groups=w_row.shape[0])


def spatially_separable_conv2d_backward(grad_out, x, w_col, w_row, stride=1, padding=0):
    """Gradients of spatially_separable_conv2d.

    grad_out: (N, C_out, H_out, W_out); x: (N, C_in, H, W)
    w_col: (C_out, C_in, kH, 1); w_row: (C_out, 1, 1, kW)
    Returns (grad_x, grad_w_col, grad_w_row, grad_b) of the shapes of x, w_col, w_row, (C_out,).
    """
    w_col, w_row = _check_spatial(x, w_col, w_row)
    (s_h, s_w), padding = pair(stride, "stride"), pair(padding, "padding")
    columns = conv2d(x, w_col, None, (s_h, 1), padding)
    grad_columns, grad_w_row, grad_b = conv2d_backward(grad_out, columns, w_row, (1, s_w),
                                                       groups=w_row.shape[0])
    grad_x, grad_w_col, _ = conv2d_backward(grad_columns, x, w_col, (s_h, 1), padding)
    return grad_x, grad_w_col, grad_w_row, grad_b


# --------------------------------------------------------------------------- flattened

def _check_flattened(x, w_channel, w_vertical, w_horizontal):
    c_in = _channels(x)
    w_channel = _check_weight(w_channel, "w_channel", (None, c_in, 1, 1), f"(C_out, C_in={c_in}, 1, 1)")
    c_out = w_channel.shape[0]
    w_vertical = _check_weight(w_vertical, "w_vertical", (c_out, 1, None, 1), f"(C_out={c_out}, 1, kH, 1)")
    w_horizontal = _check_weight(w_horizontal, "w_horizontal", (c_out, 1, 1, None), f"(C_out={c_out}, 1, 1, kW)")
    return w_channel, w_vertical, w_horizontal


def flattened_conv2d(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    """Flattened convolution (Jin et al. 2014): 1x1 across channels, then kH x 1, then 1 x kW.

    x: (N, C_in, H, W)
    w_channel: (C_out, C_in, 1, 1), mixes channels at every pixel
    w_vertical: (C_out, 1, kH, 1), per output channel (groups = C_out)
    w_horizontal: (C_out, 1, 1, kW), per output channel (groups = C_out)
    b: (C_out,) or None, added once at the end
    Returns out (N, C_out, H_out, W_out), equal to conv2d(x, w, b, stride, padding) with
    w[o, c, i, j] = w_channel[o, c, 0, 0] * w_vertical[o, 0, i, 0] * w_horizontal[o, 0, 0, j],
    H_out = floor((H + 2*pH - kH) / sH) + 1, W_out = floor((W + 2*pW - kW) / sW) + 1.
    Parameters per output channel: C_in + kH + kW instead of C_in * kH * kW.

    The padding goes on the 1x1 pass: a bias-free 1x1 convolution of zero
    padding is zero padding. Each 1-D pass takes the stride of its own axis,
    as in `spatially_separable_conv2d`.
    """
    w_channel, w_vertical, w_horizontal = _check_flattened(x, w_channel, w_vertical, w_horizontal)
    (s_h, s_w), padding = pair(stride, "stride"), pair(padding, "padding")
    c_out = w_channel.shape[0]
    mixed = conv2d(x, w_channel, None, 1, padding)
    vertical = conv2d(mixed, w_vertical, None, (s_h, 1), groups=c_out)
    return conv2d(vertical, w_horizontal, b, (1, s_w), groups=c_out)


def flattened_conv2d_backward(grad_out, x, w_channel, w_vertical, w_horizontal, stride=1, padding=0):
    """Gradients of flattened_conv2d.

    grad_out: (N, C_out, H_out, W_out); x: (N, C_in, H, W)
    w_channel: (C_out, C_in, 1, 1); w_vertical: (C_out, 1, kH, 1); w_horizontal: (C_out, 1, 1, kW)
    Returns (grad_x, grad_w_channel, grad_w_vertical, grad_w_horizontal, grad_b).
    """
    w_channel, w_vertical, w_horizontal = _check_flattened(x, w_channel, w_vertical, w_horizontal)
    (s_h, s_w), padding = pair(stride, "stride"), pair(padding, "padding")
    c_out = w_channel.shape[0]
    mixed = conv2d(x, w_channel, None, 1, padding)
    vertical = conv2d(mixed, w_vertical, None, (s_h, 1), groups=c_out)
    grad_vertical, grad_w_horizontal, grad_b = conv2d_backward(grad_out, vertical, w_horizontal,
                                                               (1, s_w), groups=c_out)
    grad_mixed, grad_w_vertical, _ = conv2d_backward(grad_vertical, mixed, w_vertical, (s_h, 1), groups=c_out)
    grad_x, grad_w_channel, _ = conv2d_backward(grad_mixed, x, w_channel, 1, padding)
    return grad_x, grad_w_channel, grad_w_vertical, grad_w_horizontal, grad_b


# --------------------------------------------------------------------------- convolution as a matrix

def conv2d_matrix(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """The matrix M of conv2d (without bias) on inputs of one shape.

    w: (C_out, C_in // groups, kH, kW); input_shape: (C_in, H, W)
    Returns M of shape (C_out * H_out * W_out, C_in * H * W), H_out as in `conv2d`, with
        conv2d(x[None], w, None, stride, padding, dilation, groups)[0].ravel() == M @ x.ravel()
    and, reading w as a transposed-conv weight (C_in_T = C_out, C_out_T = C_in),
        conv_transpose2d(y[None], w, None, stride, padding, output_padding, groups, dilation)[0].ravel()
            == M.T @ y.ravel()
    for y of shape (C_out, H_out, W_out), where output_padding is the remainder
    (H + 2*pH - dH*(kH - 1) - 1) mod sH (likewise for W) that brings the
    transposed output back to H x W.

    Column k of M is the convolution of the k-th unit input, so M is built by
    pushing the identity, reshaped to a batch of C_in*H*W unit images, through
    conv2d. M is dense: keep input_shape small.
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C_in, H, W), got {input_shape}")
    size = int(np.prod(input_shape))
    units = np.eye(size).reshape(size, *input_shape)
    columns = conv2d(units, w, None, stride, padding, dilation, groups)
    return np.ascontiguousarray(columns.reshape(size, -1).T)
