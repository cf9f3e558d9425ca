"""Deliberately simple convolutions: plain nested loops, one multiply-add at a time.

Written independently of autograder/reference/conv.py as evidence for it: no
shared helpers, no im2col, no output-size formula for the convolutions
(windows are counted by sliding one until it no longer fits), and the
transposed convolution in its scatter form (each input value adds a scaled
copy of the kernel into the output); channel shuffle deals channels out one
at a time. Slow, only for tiny tests.
Arguments are plain ints (the same value on every axis) or tuples.
"""
import numpy as np


def _tuple(value, n):
    return (value,) * n if isinstance(value, int) else tuple(value)


def _count_windows(size, extent, stride):
    """How many windows of `extent` pixels, `stride` apart, fit in `size` pixels."""
    count = 0
    while count * stride + extent <= size:
        count += 1
    return count


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW) -> (N, C_out, H_out, W_out)."""
    sh, sw = _tuple(stride, 2)
    ph, pw = _tuple(padding, 2)
    dh, dw = _tuple(dilation, 2)
    n_batch, c_in, height, width = x.shape
    c_out, c_per_group, kh, kw = w.shape
    padded = np.zeros((n_batch, c_in, height + 2 * ph, width + 2 * pw))
    padded[:, :, ph:ph + height, pw:pw + width] = x
    h_out = _count_windows(padded.shape[2], dh * (kh - 1) + 1, sh)
    w_out = _count_windows(padded.shape[3], dw * (kw - 1) + 1, sw)
    out_per_group = c_out // groups
    out = np.zeros((n_batch, c_out, h_out, w_out))
    for n in range(n_batch):
        for o in range(c_out):
            group = o // out_per_group
            for i in range(h_out):
                for j in range(w_out):
                    total = 0.0 if b is None else b[o]
                    for c in range(c_per_group):
                        for u in range(kh):
                            for v in range(kw):
                                total += (w[o, c, u, v]
                                          * padded[n, group * c_per_group + c, i * sh + u * dh, j * sw + v * dw])
                    out[n, o, i, j] = total
    return out


def conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """x (N, C_in, D, H, W), w (C_out, C_in // groups, kD, kH, kW) -> (N, C_out, D_out, H_out, W_out)."""
    stride, padding, dilation = _tuple(stride, 3), _tuple(padding, 3), _tuple(dilation, 3)
    n_batch, c_in = x.shape[:2]
    c_out, c_per_group = w.shape[:2]
    kernel = w.shape[2:]
    padded = np.zeros((n_batch, c_in) + tuple(s + 2 * p for s, p in zip(x.shape[2:], padding)))
    padded[(slice(None), slice(None)) + tuple(slice(p, p + s) for s, p in zip(x.shape[2:], padding))] = x
    out_size = tuple(_count_windows(size, d * (k - 1) + 1, s)
                     for size, k, s, d in zip(padded.shape[2:], kernel, stride, dilation))
    out_per_group = c_out // groups
    out = np.zeros((n_batch, c_out) + out_size)
    for n in range(n_batch):
        for o in range(c_out):
            group = o // out_per_group
            for position in np.ndindex(*out_size):
                total = 0.0 if b is None else b[o]
                for c in range(c_per_group):
                    for tap in np.ndindex(*kernel):
                        pixel = tuple(p * s + t * d for p, s, t, d in zip(position, stride, tap, dilation))
                        total += w[(o, c) + tap] * padded[(n, group * c_per_group + c) + pixel]
                out[(n, o) + position] = total
    return out


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """x (N, C_in, H, W), w (C_in, C_out // groups, kH, kW) -> (N, C_out, H_out, W_out).

    Scatter form: input pixel (i, j) of channel c adds x * kernel into the
    full-size output at (i * stride, j * stride); the result is then cropped
    by `padding` on both sides, and `output_padding` extra rows/columns
    (which nothing reached) are kept at the bottom/right.
    """
    sh, sw = _tuple(stride, 2)
    ph, pw = _tuple(padding, 2)
    oph, opw = _tuple(output_padding, 2)
    dh, dw = _tuple(dilation, 2)
    n_batch, c_in, height, width = x.shape
    _, out_per_group, kh, kw = w.shape
    in_per_group = c_in // groups
    c_out = out_per_group * groups
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + opw
    full = np.zeros((n_batch, c_out, full_h, full_w))
    for n in range(n_batch):
        for c in range(c_in):
            group = c // in_per_group
            for i in range(height):
                for j in range(width):
                    for o in range(out_per_group):
                        for u in range(kh):
                            for v in range(kw):
                                full[n, group * out_per_group + o, i * sh + u * dh, j * sw + v * dw] += (
                                    x[n, c, i, j] * w[c, o, u, v])
    out = full[:, :, ph:full_h - ph, pw:full_w - pw].copy()
    if b is not None:
        out += np.asarray(b).reshape(1, -1, 1, 1)
    return out


def channel_shuffle(x, groups):
    """x (N, C, *) -> same shape; output channel k * groups + g is input channel g * (C // groups) + k.

    Deal the channels like cards: the first channel of every group, then the
    second of every group, and so on.
    """
    per_group = x.shape[1] // groups
    out = np.zeros_like(x)
    position = 0
    for k in range(per_group):
        for g in range(groups):
            out[:, position] = x[:, g * per_group + k]
            position += 1
    return out
