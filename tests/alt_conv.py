"""Correct convolutions written the other ways students write them: im2col windows with einsum,
a col2im scatter for the input gradient, the transposed convolution as a convolution of the
zero-stuffed input, a matrix built column by column from unit inputs, and numerical gradients
over np.nditer. Independent of autograder/reference (NumPy only); the suite tests grade them
and expect full marks (float32 outputs are graded in tests/test_regimes.py).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _two(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _windows(x, kernel, stride, padding, dilation=(1, 1)):
    """(N, C, H_out, W_out, kH, kW) view of the padded input's windows (dilated taps)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    xp = np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    spans = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(xp, spans, axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def im2col_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Windows times the kernel with one einsum per group."""
    w = np.asarray(w, dtype=np.float64)
    c_out, c_group = w.shape[:2]
    cols = _windows(x, w.shape[2:], _two(stride), _two(padding), _two(dilation))
    per_group = c_out // groups
    out = np.concatenate([
        np.einsum("nchwuv,ocuv->nohw", cols[:, g * c_group:(g + 1) * c_group], w[g * per_group:(g + 1) * per_group])
        for g in range(groups)], axis=1)
    return out if b is None else out + np.asarray(b).reshape(1, -1, 1, 1)


def col2im_conv2d_backward(grad_out, x, w, stride=1, padding=0):
    """grad_w from the windows, grad_x by scattering each window's gradient back (col2im)."""
    (sh, sw), (ph, pw) = _two(stride), _two(padding)
    kh, kw = w.shape[2:]
    cols = _windows(x, (kh, kw), (sh, sw), (ph, pw))
    grad_w = np.einsum("nohw,nchwuv->ocuv", grad_out, cols)
    grad_cols = np.einsum("nohw,ocuv->nchwuv", grad_out, w)
    h_out, w_out = grad_out.shape[2:]
    grad_xp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    for u in range(kh):
        for v in range(kw):
            grad_xp[:, :, u:u + sh * h_out:sh, v:v + sw * w_out:sw] += grad_cols[..., u, v]
    grad_x = grad_xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))


def stuffed_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Zeros stuffed between the input pixels, k - 1 - p around, then a convolution with the
    kernel rotated by 180 degrees and its channel axes swapped (the torch derivation)."""
    x = np.asarray(x, dtype=np.float64)
    (sh, sw), (ph, pw), (oh, ow) = _two(stride), _two(padding), _two(output_padding)
    kh, kw = w.shape[2:]
    n, c, height, width = x.shape
    stuffed = np.zeros((n, c, (height - 1) * sh + 1, (width - 1) * sw + 1))
    stuffed[:, :, ::sh, ::sw] = x
    before, after = (kh - 1 - ph, kw - 1 - pw), (kh - 1 - ph + oh, kw - 1 - pw + ow)
    # a padding larger than k - 1 crops instead of padding
    grown = np.pad(stuffed, ((0, 0), (0, 0), (max(before[0], 0), max(after[0], 0)),
                             (max(before[1], 0), max(after[1], 0))))
    grown = grown[:, :, max(-before[0], 0):grown.shape[2] - max(-after[0], 0),
                  max(-before[1], 0):grown.shape[3] - max(-after[1], 0)]
    kernel = np.asarray(w, dtype=np.float64).swapaxes(0, 1)[..., ::-1, ::-1]
    return im2col_conv2d(grown, kernel, b)


def unit_columns_conv2d_matrix(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """Column k is the convolution of the k-th unit input: C @ e_k = conv2d(e_k)."""
    size = int(np.prod(input_shape))
    units = np.eye(size).reshape((size,) + tuple(input_shape))
    return im2col_conv2d(units, w, None, stride, padding, dilation, groups).reshape(size, -1).T


def nditer_numerical_gradient(f, x, eps=1e-6):
    """Centred differences over np.nditer's multi-index, on a float copy of x."""
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    iterator = np.nditer(x, flags=["multi_index"])
    for _ in iterator:
        index = iterator.multi_index
        saved = x[index]
        x[index] = saved + eps
        plus = f(x)
        x[index] = saved - eps
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad
