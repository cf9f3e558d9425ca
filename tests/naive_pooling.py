"""Deliberately simple pooling: plain loops over n, c, i, j and one window at a time.

Written independently of autograder/reference/pooling.py as evidence for it:
no shared helpers, no output-size formula (windows are counted by sliding one
until it no longer fits), explicit padding arrays. Slow, only for tiny tests.
Arguments are plain ints (the same value for height and width) or (h, w) pairs.
"""
import math

import numpy as np


def _hw(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _window_starts(size, kernel, stride, ceil_mode):
    """Start (in padded coordinates) of every window along one padded dimension of `size`.

    Without ceil_mode, window t (starting at t * stride) exists while it fits.
    With ceil_mode, it exists while the window before it, at (t - 1) * stride,
    ends before the last pixel, so one partial window covers what is left over.
    For t = 0 that "window before" starts at -stride: torch keeps a lone window
    bigger than the padded input when it is less than one stride too big.
    The caller drops windows that start in the right padding.
    """
    starts = []
    t = 0
    while True:
        start = t * stride
        if ceil_mode:
            exists = start - stride + kernel < size
        else:
            exists = start + kernel <= size
        if not exists:
            return starts
        starts.append(start)
        t += 1


def _starts(n, kernel, stride, padding, dilation, ceil_mode):
    span = dilation * (kernel - 1) + 1
    starts = _window_starts(n + 2 * padding, span, stride, ceil_mode)
    # the ceil_mode window must start inside the input or the left padding
    return [s for s in starts if s < n + padding]


def _padded(x2d, padding, extra, fill):
    """Copy a 2-D array into a bigger one full of `fill`: padding before, padding + extra after."""
    (ph, pw), (eh, ew) = padding, extra
    h, w = x2d.shape
    out = np.full((h + 2 * ph + eh, w + 2 * pw + ew), fill, dtype=np.float64)
    out[ph:ph + h, pw:pw + w] = x2d
    return out


def _max_windows(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Yield (n, c, i, j, value, (row, col) of the max or None) for every window."""
    kh, kw = _hw(kernel_size)
    sh, sw = _hw(kernel_size if stride is None else stride)
    ph, pw = _hw(padding)
    dh, dw = _hw(dilation)
    N, C, H, W = x.shape
    rows = _starts(H, kh, sh, ph, dh, ceil_mode)
    cols = _starts(W, kw, sw, pw, dw, ceil_mode)
    for n in range(N):
        for c in range(C):
            # a generous -inf border: ceil_mode windows may reach past the padding
            xp = _padded(x[n, c], (ph, pw), (dh * kh, dw * kw), -np.inf)
            for i, r0 in enumerate(rows):
                for j, c0 in enumerate(cols):
                    window = xp[r0:r0 + dh * (kh - 1) + 1:dh, c0:c0 + dw * (kw - 1) + 1:dw]
                    best, where = -np.inf, None
                    for a in range(kh):
                        for b in range(kw):
                            if window[a, b] > best:  # strict: the first maximum wins ties
                                best = window[a, b]
                                where = (r0 + a * dh - ph, c0 + b * dw - pw)
                    yield n, c, i, j, best, where, (len(rows), len(cols))


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Loop max pooling; x (N, C, H, W) without -inf values."""
    x = np.asarray(x, dtype=np.float64)
    out = None
    for n, c, i, j, best, _, shape in _max_windows(x, kernel_size, stride, padding, dilation,
                                                   ceil_mode):
        if out is None:
            out = np.zeros(x.shape[:2] + shape)
        out[n, c, i, j] = best
    return out


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """Loop gradient of max pooling: each window's gradient goes to its first maximum."""
    x = np.asarray(x, dtype=np.float64)
    grad_x = np.zeros_like(x)
    for n, c, i, j, _, where, _ in _max_windows(x, kernel_size, stride, padding, dilation,
                                                ceil_mode):
        if where is not None:
            grad_x[n, c, where[0], where[1]] += grad_out[n, c, i, j]
    return grad_x


def _avg_windows(x, kernel_size, stride, padding, ceil_mode, count_include_pad):
    """Yield (n, c, i, j, list of real (row, col) in the window, divisor, output shape)."""
    kh, kw = _hw(kernel_size)
    sh, sw = _hw(kernel_size if stride is None else stride)
    ph, pw = _hw(padding)
    N, C, H, W = x.shape
    rows = _starts(H, kh, sh, ph, 1, ceil_mode)
    cols = _starts(W, kw, sw, pw, 1, ceil_mode)
    for n in range(N):
        for c in range(C):
            for i, r0 in enumerate(rows):
                for j, c0 in enumerate(cols):
                    real, in_padded = [], 0
                    for r in range(r0 - ph, r0 - ph + kh):
                        for q in range(c0 - pw, c0 - pw + kw):
                            if -ph <= r < H + ph and -pw <= q < W + pw:
                                in_padded += 1
                            if 0 <= r < H and 0 <= q < W:
                                real.append((r, q))
                    divisor = in_padded if count_include_pad else len(real)
                    yield n, c, i, j, real, divisor, (len(rows), len(cols))


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Loop average pooling with torch's divisor rule."""
    x = np.asarray(x, dtype=np.float64)
    out = None
    for n, c, i, j, real, divisor, shape in _avg_windows(x, kernel_size, stride, padding,
                                                         ceil_mode, count_include_pad):
        if out is None:
            out = np.zeros(x.shape[:2] + shape)
        out[n, c, i, j] = sum(x[n, c, r, q] for r, q in real) / divisor
    return out


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    """Loop gradient of average pooling: grad / divisor to each real pixel of the window."""
    x = np.asarray(x, dtype=np.float64)
    grad_x = np.zeros_like(x)
    for n, c, i, j, real, divisor, _ in _avg_windows(x, kernel_size, stride, padding,
                                                     ceil_mode, count_include_pad):
        for r, q in real:
            grad_x[n, c, r, q] += grad_out[n, c, i, j] / divisor
    return grad_x


def _bins(size, out):
    return [(math.floor(i * size / out), math.ceil((i + 1) * size / out)) for i in range(out)]


def _adaptive_windows(x, output_size):
    N, C, H, W = x.shape
    oh, ow = _hw(output_size)
    for n in range(N):
        for c in range(C):
            for i, (r0, r1) in enumerate(_bins(H, oh)):
                for j, (c0, c1) in enumerate(_bins(W, ow)):
                    yield n, c, i, j, (r0, r1, c0, c1)


def adaptive_max_pool2d(x, output_size):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[:2] + _hw(output_size))
    for n, c, i, j, (r0, r1, c0, c1) in _adaptive_windows(x, output_size):
        out[n, c, i, j] = x[n, c, r0:r1, c0:c1].max()
    return out


def adaptive_max_pool2d_backward(grad_out, x, output_size):
    x = np.asarray(x, dtype=np.float64)
    grad_x = np.zeros_like(x)
    for n, c, i, j, (r0, r1, c0, c1) in _adaptive_windows(x, output_size):
        best, where = -np.inf, None
        for r in range(r0, r1):
            for q in range(c0, c1):
                if x[n, c, r, q] > best:
                    best, where = x[n, c, r, q], (r, q)
        grad_x[n, c, where[0], where[1]] += grad_out[n, c, i, j]
    return grad_x


def adaptive_avg_pool2d(x, output_size):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[:2] + _hw(output_size))
    for n, c, i, j, (r0, r1, c0, c1) in _adaptive_windows(x, output_size):
        out[n, c, i, j] = x[n, c, r0:r1, c0:c1].mean()
    return out


def adaptive_avg_pool2d_backward(grad_out, x, output_size):
    x = np.asarray(x, dtype=np.float64)
    grad_x = np.zeros_like(x)
    for n, c, i, j, (r0, r1, c0, c1) in _adaptive_windows(x, output_size):
        count = (r1 - r0) * (c1 - c0)
        grad_x[n, c, r0:r1, c0:c1] += grad_out[n, c, i, j] / count
    return grad_x


def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
    """Per sample: for each level, each channel, each bin row, each bin column, append the pool."""
    x = np.asarray(x, dtype=np.float64)
    pool = adaptive_max_pool2d if mode == "max" else adaptive_avg_pool2d
    rows = []
    for n in range(x.shape[0]):
        features = []
        for level in levels:
            pooled = pool(x[n:n + 1], level)[0]
            for c in range(x.shape[1]):
                for i in range(level):
                    for j in range(level):
                        features.append(pooled[c, i, j])
        rows.append(features)
    return np.array(rows)


def median_pool2d(x, kernel_size, stride=None, padding=0):
    """Loop median pooling: median of the window's real pixels (padding is not counted)."""
    x = np.asarray(x, dtype=np.float64)
    kh, kw = _hw(kernel_size)
    sh, sw = _hw(kernel_size if stride is None else stride)
    ph, pw = _hw(padding)
    N, C, H, W = x.shape
    rows = _starts(H, kh, sh, ph, 1, False)
    cols = _starts(W, kw, sw, pw, 1, False)
    out = np.zeros((N, C, len(rows), len(cols)))
    for n in range(N):
        for c in range(C):
            for i, r0 in enumerate(rows):
                for j, c0 in enumerate(cols):
                    values = [x[n, c, r, q]
                              for r in range(r0 - ph, r0 - ph + kh)
                              for q in range(c0 - pw, c0 - pw + kw)
                              if 0 <= r < H and 0 <= q < W]
                    values.sort()
                    m = len(values)
                    out[n, c, i, j] = (values[(m - 1) // 2] + values[m // 2]) / 2
    return out
