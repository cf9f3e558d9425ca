"""Pooling layers and their gradients, with the semantics of torch.nn.functional.

Every function takes and returns NCHW float64 arrays:
    x:        input, (N, C, H, W)
    grad_out: upstream gradient, the forward output's shape
    grad_x:   gradient with respect to x, (N, C, H, W)

Output size of a sliding-window pool along one spatial dimension (see
`pool_output_size`):
    H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1
with ceil instead of floor when ceil_mode=True, minus one if that last window
would start in the right padding or beyond.

Sliding-window pools loop over the kH*kW kernel offsets with a body vectorized
over the batch, the channels and every output position; adaptive pools gather
their bins with index arrays (max) or multiply by averaging matrices (avg). No
loop visits a pixel, a window or a batch item.
"""
import warnings

import numpy as np

from ._util import as_float, check_ndim, check_non_negative, check_positive, pair

__all__ = [
    "pool_output_size",
    "max_pool2d",
    "max_pool2d_backward",
    "avg_pool2d",
    "avg_pool2d_backward",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_backward",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool2d_backward",
    "spatial_pyramid_pool2d",
    "spatial_pyramid_pool2d_backward",
    "spp_window_stride",
    "spp_paper_bins_cover",
    "median_pool2d",
    "pad2d",
    "pooling_window",
    "max_pool2d_unpadded",
    "create_mask_from_window",
    "distribute_value",
]


# ---------------------------------------------------------------------------
# Output size and argument checks
# ---------------------------------------------------------------------------

def pool_output_size(n, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Number of pooling windows along one spatial dimension of size `n` (torch's rule).

        out = floor((n + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1

    With ceil_mode=True the division rounds up, so a last, partial window that
    hangs over the right edge is kept, but only if it starts inside the input or
    the left padding: when (out - 1) * stride >= n + padding, out drops by one.
    stride=None means stride = kernel_size.

    >>> pool_output_size(6, 3, 2), pool_output_size(6, 3, 2, ceil_mode=True)
    (2, 3)
    """
    stride = kernel_size if stride is None else stride
    check_positive((kernel_size,), "kernel_size")
    check_positive((stride,), "stride")
    check_positive((dilation,), "dilation")
    check_non_negative((padding,), "padding")
    span = n + 2 * padding - dilation * (kernel_size - 1) - 1
    if ceil_mode:
        out = (span + stride - 1) // stride + 1
        if (out - 1) * stride >= n + padding:
            out -= 1
    else:
        out = span // stride + 1
    if out < 1:
        raise ValueError(
            f"output size is too small ({out}) for input size {n} with kernel_size={kernel_size}, "
            f"stride={stride}, padding={padding}, dilation={dilation}")
    return out


def _window_args(x, kernel_size, stride, padding, dilation=1):
    """Check x and normalise the window hyperparameters to (height, width) pairs."""
    check_ndim(x, 4, "x", "(N, C, H, W)")
    kernel = pair(kernel_size, "kernel_size")
    # torch treats stride=None (and an empty stride) as "stride = kernel_size"
    empty = isinstance(stride, (tuple, list)) and len(stride) == 0
    stride = kernel if stride is None or empty else pair(stride, "stride")
    padding = pair(padding, "padding")
    dilation = pair(dilation, "dilation")
    check_positive(kernel, "kernel_size")
    check_positive(stride, "stride")
    check_positive(dilation, "dilation")
    check_non_negative(padding, "padding")
    # torch's rule; it also guarantees that every window holds a real pixel (without dilation)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ValueError(
            f"padding must be at most half of kernel_size, "
            f"got padding={padding}, kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _output_shape(x, kernel, stride, padding, dilation, ceil_mode):
    """(H_out, W_out) from `pool_output_size` along each spatial dimension."""
    return tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                 for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))


def _check_grad_out(grad_out, shape):
    if np.shape(grad_out) != tuple(shape):
        raise ValueError(f"grad_out must have the forward output's shape {tuple(shape)}, "
                         f"got {np.shape(grad_out)}")
    return as_float(grad_out)


def _pad_hw(x, padding, out_shape, kernel, stride, dilation, fill):
    """Pad H and W with `fill`: `padding` before, and after as much as the windows reach.

    ceil_mode's last window may hang past the right/bottom padding, and in floor
    mode the windows may stop short of it; both are covered by padding the end
    up to the extent the last window touches. When nothing needs padding, x
    itself comes back: copying the whole input would cost as much as a pooling
    pass. Callers only read the result, or pass a fresh array.
    """
    widths = [(0, 0), (0, 0)]
    for n, p, o, k, s, d in zip(x.shape[2:], padding, out_shape, kernel, stride, dilation):
        reach = (o - 1) * s + d * (k - 1) + 1
        widths.append((p, max(reach - p - n, 0)))
    if all(w == (0, 0) for w in widths):
        return x
    return np.pad(x, widths, constant_values=fill)


def _crop(xp, padding, shape):
    """Undo `_pad_hw`: the (N, C, H, W) block of a padded array."""
    (ph, pw), (h, w) = padding, shape[2:]
    return xp[:, :, ph:ph + h, pw:pw + w]


def _offset_slices(i, j, out_shape, stride, dilation):
    """Slices of the padded input seen by kernel offset (i, j) at every output position."""
    (h_out, w_out), (sh, sw), (dh, dw) = out_shape, stride, dilation
    return (slice(i * dh, i * dh + (h_out - 1) * sh + 1, sh),
            slice(j * dw, j * dw + (w_out - 1) * sw + 1, sw))


def _offset_views(xp, kernel, out_shape, stride, dilation):
    """One (N, C, H_out, W_out) strided view of the padded array per kernel offset, row-major.

    View number i*kW + j holds, at output position (oh, ow), the pixel that
    offset (i, j) of window (oh, ow) sees. Views share memory with xp, so
    adding into a view of a padded gradient adds into the gradient. Working
    offset by offset never builds the (N, C, H_out, W_out, kH, kW) array of all
    windows, whose copy would cost more than the pooling itself.
    """
    return [xp[(Ellipsis,) + _offset_slices(i, j, out_shape, stride, dilation)]
            for i in range(kernel[0]) for j in range(kernel[1])]


def _real_pixels(x_shape, kernel, out_shape, stride, padding, dilation):
    """One (H_out, W_out) mask per kernel offset, row-major: True where it sees x, not padding."""
    def inside(n, o, s, p, d, i):
        position = np.arange(o) * s + i * d - p
        return (position >= 0) & (position < n)

    (h, w), (kh, kw), (h_out, w_out) = x_shape[2:], kernel, out_shape
    return [inside(h, h_out, stride[0], padding[0], dilation[0], i)[:, None]
            & inside(w, w_out, stride[1], padding[1], dilation[1], j)[None, :]
            for i in range(kh) for j in range(kw)]


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

def _running_max(views):
    """Elementwise max of equally shaped arrays; NaN anywhere gives NaN, as in torch."""
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)
    return best


def _keep_first(masks):
    """Clear each mask wherever an earlier mask of the list is True (in place).

    Afterwards every element is True in at most one mask: the first that had it.
    """
    unclaimed = np.ones_like(masks[0])
    for mask in masks:
        mask &= unclaimed
        unclaimed &= ~mask
    return masks


def _max_pool_hits(views, best, real):
    """For each kernel offset, the (N, C, H_out, W_out) mask of windows whose max it holds.

    views: the padded input's `_offset_views`; best: their `_running_max`;
    real: the `_real_pixels` masks. Each window credits one pixel, torch's
    choice: the first of tied maxima in row-major order; never padding (a
    window whose real pixels are all -inf credits the first of them); and in a
    window with NaN the last NaN, because torch's scan replaces the running max
    on every NaN.
    """
    hits = _keep_first([(view == best) & ok for view, ok in zip(views, real)])
    if np.isnan(best).any():
        # NaN == NaN is False, so NaN windows hold no hit yet; the last NaN is
        # the first one met when walking the offsets backwards
        last_nan = _keep_first([np.isnan(view) for view in reversed(views)])[::-1]
        hits = [hit | nan for hit, nan in zip(hits, last_nan)]
    return hits


def _where_or_zero(mask, values):
    """values where mask is True, else 0: np.where(mask, values, 0.0), faster.

    On a mask without a regular pattern np.where branches on every element and
    runs several times slower than values * mask; the product is only wrong
    where values holds inf or NaN (inf * 0 is NaN), so those fall back to np.where.
    """
    if np.isfinite(values).all():
        return values * mask
    return np.where(mask, values, 0.0)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling, as torch.nn.functional.max_pool2d.

    x: (N, C, H, W). Returns (N, C, H_out, W_out) with
        H_out = floor((H + 2*padding - dilation*(kH - 1) - 1) / stride) + 1
    (ceil with ceil_mode=True, see `pool_output_size`), likewise W_out.
    stride=None means stride = kernel_size. padding is -inf and must be at most
    kernel_size // 2. NaN in a window gives NaN. A dilated window that holds
    only padding gives -inf (torch does the same).
    """
    x = as_float(x)
    kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding, dilation)
    out_shape = _output_shape(x, kernel, stride, padding, dilation, ceil_mode)
    # max pooling pads with -inf so padding never wins the max
    xp = _pad_hw(x, padding, out_shape, kernel, stride, dilation, -np.inf)
    return _running_max(_offset_views(xp, kernel, out_shape, stride, dilation))


def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    """Gradient of `max_pool2d` with respect to x.

    grad_out: (N, C, H_out, W_out), H_out and W_out as in `max_pool2d`.
    x:        (N, C, H, W), the forward input.
    Returns grad_x, (N, C, H, W): each window sends its grad_out entry to the
    pixel that won its max (the first in row-major order among ties); a pixel
    that wins several overlapping windows collects the sum.
    """
    x = as_float(x)
    kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding, dilation)
    out_shape = _output_shape(x, kernel, stride, padding, dilation, ceil_mode)
    grad_out = _check_grad_out(grad_out, x.shape[:2] + out_shape)
    # torch's backward reuses the argmax its forward saved; this API only has x, so the
    # max is found again (one running max, then one comparison per offset)
    views = _offset_views(_pad_hw(x, padding, out_shape, kernel, stride, dilation, -np.inf),
                          kernel, out_shape, stride, dilation)
    hits = _max_pool_hits(views, _running_max(views),
                          _real_pixels(x.shape, kernel, out_shape, stride, padding, dilation))
    grad_xp = _pad_hw(np.zeros_like(x), padding, out_shape, kernel, stride, dilation, 0.0)
    for grad_view, hit in zip(_offset_views(grad_xp, kernel, out_shape, stride, dilation), hits):
        # windows sit stride apart, so one offset never reaches the same pixel twice and
        # += on the view is safe; overlapping windows meet at different offsets and add up
        grad_view += _where_or_zero(hit, grad_out)
    return _crop(grad_xp, padding, x.shape)


# ---------------------------------------------------------------------------
# Average pooling
# ---------------------------------------------------------------------------

def _sum_of(arrays):
    """Elementwise sum of a list of equally shaped arrays, as a new array."""
    total = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0].copy()
    for a in arrays[2:]:
        total += a
    return total


def _avg_counts(n, out, kernel, stride, padding, count_include_pad):
    """Divisor of each output position along one dimension (torch's rule).

    A window is first clipped to the padded input [-padding, n + padding): that
    is its size when count_include_pad=True, so a ceil_mode window hanging past
    the padding is not divided by the full kernel size. Otherwise the divisor
    counts only the real pixels, the window clipped to [0, n).
    """
    start = np.arange(out) * stride - padding
    end = start + kernel
    if count_include_pad:
        return np.minimum(end, n + padding) - start
    return np.minimum(end, n) - np.maximum(start, 0)


def _avg_divisor(x_shape, out_shape, kernel, stride, padding, count_include_pad,
                 divisor_override):
    """Divisor for every output position, (H_out, W_out) (a scalar if overridden)."""
    if divisor_override is not None:
        return float(divisor_override)
    rows, cols = (_avg_counts(n, o, k, s, p, count_include_pad)
                  for n, o, k, s, p in zip(x_shape[2:], out_shape, kernel, stride, padding))
    return np.outer(rows, cols).astype(np.float64)


def _avg_args(x, kernel_size, stride, padding, ceil_mode, divisor_override):
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"divisor_override must not be zero, got {divisor_override!r}")
    kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding)
    out_shape = _output_shape(x, kernel, stride, padding, dilation, ceil_mode)
    return kernel, stride, padding, dilation, out_shape


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Average pooling, as torch.nn.functional.avg_pool2d.

    x: (N, C, H, W). Returns (N, C, H_out, W_out) with
        H_out = floor((H + 2*padding - (kH - 1) - 1) / stride) + 1
    (ceil with ceil_mode=True, see `pool_output_size`), likewise W_out.
    Padding is zero and at most kernel_size // 2. Each window sum is divided by
    the window's size clipped to the padded input (count_include_pad=True) or by
    its number of real pixels (False), or by divisor_override when given.
    """
    x = as_float(x)
    kernel, stride, padding, dilation, out_shape = _avg_args(
        x, kernel_size, stride, padding, ceil_mode, divisor_override)
    xp = _pad_hw(x, padding, out_shape, kernel, stride, dilation, 0.0)
    # A kH x kW window's sum is the sum over its kW columns of the sums over its kH rows,
    # as in the backward: kH - 1 adds of whole rows (contiguous runs of W values) into
    # (N, C, H_out, W_padded), then kW - 1 adds of strided columns, instead of kH * kW
    # adds of (N, C, H_out, W_out) strided views. 8x32x64x64 3x3/2: 3.2 -> 2.0 ms.
    row_slices = [_offset_slices(i, 0, out_shape, stride, dilation)[0] for i in range(kernel[0])]
    col_slices = [_offset_slices(0, j, out_shape, stride, dilation)[1] for j in range(kernel[1])]
    rows = _sum_of([xp[:, :, s] for s in row_slices])
    total = _sum_of([rows[..., s] for s in col_slices])
    total /= _avg_divisor(x.shape, out_shape, kernel, stride, padding, count_include_pad, divisor_override)
    return total


def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """Gradient of `avg_pool2d` with respect to x.

    grad_out: (N, C, H_out, W_out), H_out and W_out as in `avg_pool2d`.
    x:        (N, C, H, W), the forward input (only its shape matters).
    Returns grad_x, (N, C, H, W): each window spreads grad_out / divisor over
    its real pixels (the share that falls on padding is dropped); overlapping
    windows add up.
    """
    x = as_float(x)
    kernel, stride, padding, dilation, out_shape = _avg_args(
        x, kernel_size, stride, padding, ceil_mode, divisor_override)
    grad_out = _check_grad_out(grad_out, x.shape[:2] + out_shape)
    share = grad_out / _avg_divisor(x.shape, out_shape, kernel, stride, padding,
                                    count_include_pad, divisor_override)
    grad_xp = _pad_hw(np.zeros_like(x), padding, out_shape, kernel, stride, dilation, 0.0)
    # Spreading over a kH x kW window is spreading over kW columns, then over kH rows:
    # kW adds into (N, C, H_out, W_padded) and kH adds of whole rows, instead of kH * kW
    # adds of (N, C, H_out, W_out) strided views. NumPy's cost here is per contiguous run
    # (W_out values, each a stride apart), so fewer, longer runs: 8x32x64x64 3x3/2 backward
    # 1.6x -> 1.3x torch, 2x2/2 1.2x -> 1.0x. Same sums, added in another order.
    kh, kw = kernel
    rows = np.zeros(share.shape[:3] + grad_xp.shape[3:])
    for j in range(kw):
        rows[..., _offset_slices(0, j, out_shape, stride, dilation)[1]] += share
    for i in range(kh):
        grad_xp[..., _offset_slices(i, 0, out_shape, stride, dilation)[0], :] += rows
    return _crop(grad_xp, padding, x.shape)


# ---------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------

def _adaptive_output_shape(x, output_size):
    """(H_out, W_out) from an int, a pair, or a pair with None ("keep the input size")."""
    check_ndim(x, 4, "x", "(N, C, H, W)")
    if isinstance(output_size, (int, np.integer)):
        sizes = (int(output_size),) * 2
    else:
        try:
            sizes = tuple(output_size)
        except TypeError:
            raise ValueError(f"output_size must be an int or a pair, got {output_size!r}") from None
        if len(sizes) != 2:
            raise ValueError(f"output_size must be an int or a pair, got {output_size!r}")
        sizes = tuple(n if s is None else int(s) for s, n in zip(sizes, x.shape[2:]))
    check_positive(sizes, "output_size")
    return sizes


def _adaptive_bins(n, out):
    """Bin i covers [floor(i*n/out), ceil((i+1)*n/out)): torch's (possibly overlapping) bins."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _adaptive_indices(n, out):
    """(out, L) input indices of every bin, L the longest bin.

    Short bins repeat their last pixel: a repeat cannot change a max, and the
    first copy of a maximum keeps priority.
    """
    start, end = _adaptive_bins(n, out)
    offsets = np.arange(np.max(end - start))
    return np.minimum(start[:, None] + offsets, end[:, None] - 1)


def _adaptive_max_windows(x, out_shape):
    """Every bin's pixels, row-major within the bin.

    Returns windows, (N, C, H_out, W_out, Lh * Lw), and pixel, (H_out, W_out,
    Lh * Lw), the flat index row * W + col in x of each window entry (Lh, Lw:
    the longest bins). Unlike the sliding-window pools, adaptive pools usually have
    few, large bins that overlap by at most a pixel, so gathering all of them costs
    about one copy of x (1.2 copies for 64 -> 7). One np.take along the
    flattened image gathers several times faster than indexing rows and columns
    with two index arrays.
    """
    rows = _adaptive_indices(x.shape[2], out_shape[0])  # (H_out, Lh)
    cols = _adaptive_indices(x.shape[3], out_shape[1])  # (W_out, Lw)
    pixel = rows[:, None, :, None] * x.shape[3] + cols[None, :, None, :]  # (H_out, W_out, Lh, Lw)
    pixel = pixel.reshape(out_shape + (-1,))
    return np.take(x.reshape(x.shape[:2] + (-1,)), pixel, axis=2), pixel


def _adaptive_max_along(a, bins, axis):
    """Max of `a` over every bin along one axis: (out, L) indices from `_adaptive_indices`.

    A max over a rectangle is the max over its columns of the max over its rows, so
    the forward pools rows, then columns. Looping over the L offsets within a bin (like
    a kernel's offsets) gathers whole rows of pixels with np.take and keeps a running
    np.maximum in place: about 2x faster than gathering every bin's pixels into
    one (N, C, H_out, W_out, Lh * Lw) array first. np.maximum propagates NaN, as torch.
    """
    best = np.take(a, bins[:, 0], axis=axis)
    for offset in range(1, bins.shape[1]):
        np.maximum(best, np.take(a, bins[:, offset], axis=axis), out=best)
    return best


def adaptive_max_pool2d(x, output_size):
    """Adaptive max pooling, as torch.nn.functional.adaptive_max_pool2d.

    x: (N, C, H, W). output_size: int, or pair (H_out, W_out) where None keeps
    that input size. Returns (N, C, H_out, W_out); output row i is the max over
    input rows [floor(i*H/H_out), ceil((i+1)*H/H_out)), likewise columns.
    NaN in a bin gives NaN.
    """
    x = as_float(x)
    out_shape = _adaptive_output_shape(x, output_size)
    rows_max = _adaptive_max_along(x, _adaptive_indices(x.shape[2], out_shape[0]), axis=2)
    return _adaptive_max_along(rows_max, _adaptive_indices(x.shape[3], out_shape[1]), axis=3)


def adaptive_max_pool2d_backward(grad_out, x, output_size):
    """Gradient of `adaptive_max_pool2d` with respect to x.

    grad_out: (N, C, H_out, W_out); x: (N, C, H, W), the forward input.
    Returns grad_x, (N, C, H, W): each bin sends its gradient to its max (the
    first in row-major order among ties, the last NaN if it has any, as torch);
    bins may overlap, so shares add up.
    """
    x = as_float(x)
    out_shape = _adaptive_output_shape(x, output_size)
    grad_out = _check_grad_out(grad_out, x.shape[:2] + out_shape)
    windows, pixel = _adaptive_max_windows(x, out_shape)
    winner = np.argmax(windows, axis=-1)  # the first of tied maxima, or the first NaN
    # torch's scan replaces the running max on every NaN, so a bin with NaN credits its last
    has_nan = np.isnan(np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0])
    reversed_nan = np.isnan(windows[has_nan][:, ::-1])
    winner[has_nan] = windows.shape[-1] - 1 - np.argmax(reversed_nan, axis=-1)
    oh, ow = np.arange(out_shape[0])[:, None], np.arange(out_shape[1])[None, :]
    image = np.arange(x.shape[0] * x.shape[1]).reshape(x.shape[:2] + (1, 1)) * (x.shape[2] * x.shape[3])
    # overlapping bins may credit the same pixel: np.bincount adds every share (where += would
    # keep one), several times faster than np.add.at
    grad_x = np.bincount((image + pixel[oh, ow, winner]).ravel(), weights=grad_out.ravel(),
                         minlength=x.size)
    return grad_x.reshape(x.shape)


def _adaptive_avg_matrix(n, out):
    """(out, n) matrix whose row i averages the pixels of bin i."""
    start, end = _adaptive_bins(n, out)
    pixels = np.arange(n)
    inside = (pixels >= start[:, None]) & (pixels < end[:, None])
    return inside / (end - start)[:, None]


def adaptive_avg_pool2d(x, output_size):
    """Adaptive average pooling, as torch.nn.functional.adaptive_avg_pool2d.

    x: (N, C, H, W). output_size: int, or pair (H_out, W_out) where None keeps
    that input size. Returns (N, C, H_out, W_out); output (i, j) is the mean of
    input rows [floor(i*H/H_out), ceil((i+1)*H/H_out)) and the matching columns.
    """
    x = as_float(x)
    h_out, w_out = _adaptive_output_shape(x, output_size)
    rows, cols = _adaptive_avg_matrix(x.shape[2], h_out), _adaptive_avg_matrix(x.shape[3], w_out)
    # a bin's mean is a row average then a column average: out = A_h @ x @ A_w.T, with
    # matmul broadcasting over (N, C). Two matrix products run as BLAS calls; a
    # three-operand np.einsum runs as one unblocked loop and was about 40x slower.
    finite = np.isfinite(x)
    if finite.all():
        return rows @ x @ cols.T
    return _adaptive_avg_non_finite(x, finite, rows, cols)


def _adaptive_avg_non_finite(x, finite, rows, cols):
    """Bin means when x holds NaN or infinities, each bin on its own as in torch.

    The matrix form would multiply every NaN or inf by the zero weights of other
    bins, and 0 * inf = NaN would spread it to the whole output; so average the
    finite part, then give bins holding NaN, +inf or -inf what IEEE sums give.
    """
    def touched(mask):
        return (rows @ mask @ cols.T) > 0   # weights are positive inside a bin
    out = rows @ np.where(finite, x, 0.0) @ cols.T
    positive, negative = touched(x == np.inf), touched(x == -np.inf)
    out[positive] = np.inf
    out[negative] = -np.inf
    out[touched(np.isnan(x)) | (positive & negative)] = np.nan
    return out


def adaptive_avg_pool2d_backward(grad_out, x, output_size):
    """Gradient of `adaptive_avg_pool2d` with respect to x.

    grad_out: (N, C, H_out, W_out); x: (N, C, H, W), the forward input.
    Returns grad_x, (N, C, H, W) = A_h.T @ grad_out @ A_w, the transpose of the
    forward's averaging matrices.
    """
    x = as_float(x)
    h_out, w_out = _adaptive_output_shape(x, output_size)
    grad_out = _check_grad_out(grad_out, x.shape[:2] + (h_out, w_out))
    rows, cols = _adaptive_avg_matrix(x.shape[2], h_out), _adaptive_avg_matrix(x.shape[3], w_out)
    return rows.T @ grad_out @ cols


# ---------------------------------------------------------------------------
# Spatial pyramid pooling
# ---------------------------------------------------------------------------

_SPP_POOLS = {
    "max": (adaptive_max_pool2d, adaptive_max_pool2d_backward),
    "avg": (adaptive_avg_pool2d, adaptive_avg_pool2d_backward),
}


def _spp_args(x, levels, mode):
    check_ndim(x, 4, "x", "(N, C, H, W)")
    if mode not in _SPP_POOLS:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    levels = tuple(int(level) for level in levels)
    if not levels:
        raise ValueError("levels must name at least one pyramid level, got ()")
    check_positive(levels, "levels")
    return levels, _SPP_POOLS[mode]


def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
    """Spatial pyramid pooling (He et al., 2014): a fixed-length vector from any input size.

    x: (N, C, H, W). Each level l pools x into an l x l grid with adaptive
    pooling (torch's bins), flattened per sample in (C, l, l) order; the levels
    are concatenated in the order given. mode is "max" or "avg".
    Returns (N, C * sum(l*l for l in levels)), the same for every H and W.
    """
    x = as_float(x)
    levels, (pool, _) = _spp_args(x, levels, mode)
    return np.concatenate([pool(x, level).reshape(x.shape[0], -1) for level in levels], axis=1)


def spatial_pyramid_pool2d_backward(grad_out, x, levels=(1, 2, 4), mode="max"):
    """Gradient of `spatial_pyramid_pool2d` with respect to x.

    grad_out: (N, C * sum(l*l for l in levels)); x: (N, C, H, W), the forward input.
    Returns grad_x, (N, C, H, W): the sum of each level's adaptive-pooling gradient.
    """
    x = as_float(x)
    levels, (_, pool_backward) = _spp_args(x, levels, mode)
    n, c = x.shape[:2]
    grad_out = _check_grad_out(grad_out, (n, c * sum(level * level for level in levels)))
    ends = np.cumsum([c * level * level for level in levels])[:-1]
    grad_x = np.zeros_like(x)
    for level, part in zip(levels, np.split(grad_out, ends, axis=1)):
        grad_x += pool_backward(part.reshape(n, c, level, level), x, level)
    return grad_x


def spp_window_stride(a, n):
    """The SPP paper's window and stride for an a x a feature map and an n x n grid.

    window = ceil(a / n), stride = floor(a / n); e.g. a=13, n=2 gives (7, 6).
    """
    check_positive((a, n), "a and n")
    if a < n:
        raise ValueError(
            f"the SPP rule needs a >= n (stride floor(a/n) would be 0), got a={a}, n={n}")
    return -(-a // n), a // n


def spp_paper_bins_cover(a, n):
    """Whether the paper's n windows (see `spp_window_stride`) cover all a pixels.

    Windows start at 0, stride, ..., (n-1)*stride and never leave gaps (stride
    <= window), so they cover everything iff the last one reaches pixel a - 1:
    (n - 1) * stride + window >= a. a=13, n=2: 6 + 7 = 13, covered; a=10, n=4:
    window 3, stride 2, 6 + 3 = 9 < 10, the last pixel is never pooled.
    """
    window, stride = spp_window_stride(a, n)
    return (n - 1) * stride + window >= a


# ---------------------------------------------------------------------------
# Median pooling (forward only)
# ---------------------------------------------------------------------------

def median_pool2d(x, kernel_size, stride=None, padding=0):
    """Median pooling: the median of each window's real pixels.

    x: (N, C, H, W). Returns (N, C, H_out, W_out) with
        H_out = floor((H + 2*padding - kH) / stride) + 1, likewise W_out.
    Padding pixels are ignored rather than counted as zeros (as max pooling
    ignores its -inf padding), so a border window takes the median of fewer
    values; an even count gives the mean of the two middle values. padding must
    be at most kernel_size // 2, so every window holds a real pixel. A NaN in a
    window gives NaN. No backward: the course uses it forward only.
    """
    x = as_float(x)
    kernel, stride, padding, dilation = _window_args(x, kernel_size, stride, padding)
    out_shape = _output_shape(x, kernel, stride, padding, dilation, False)
    # NaN marks padding for nanmedian; real NaNs are tracked separately to propagate them
    xp = _pad_hw(x, padding, out_shape, kernel, stride, dilation, np.nan)
    nan_p = _pad_hw(np.isnan(x), padding, out_shape, kernel, stride, dilation, False)
    windows = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
    windows = windows[:, :, ::stride[0], ::stride[1]][:, :, :out_shape[0], :out_shape[1]]
    real_nan = np.lib.stride_tricks.sliding_window_view(nan_p, kernel, axis=(2, 3))
    real_nan = real_nan[:, :, ::stride[0], ::stride[1]][:, :, :out_shape[0], :out_shape[1]]
    with warnings.catch_warnings():
        # a window of nothing but real NaNs warns "All-NaN slice"; its result is NaN anyway
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(windows, axis=(-2, -1))
    return np.where(real_nan.any(axis=(-2, -1)), np.nan, median)


# ---------------------------------------------------------------------------
# The small steps of lesson 1 (deeplearning.ai's ladder): no torch counterparts
# ---------------------------------------------------------------------------

def pad2d(x, padding, value=0.0):
    """Pad the height and width of x with `value`, the same amount on both sides.

    x: (N, C, H, W); padding: int or pair (pH, pW), >= 0.
    Returns (N, C, H + 2*pH, W + 2*pW); the batch and channel axes are not padded.
    (torch: F.pad(x, (pW, pW, pH, pH), value=value).)
    """
    x = as_float(x)
    check_ndim(x, 4, "x", "(N, C, H, W)")
    ph, pw = pair(padding, "padding")
    check_non_negative((ph, pw), "padding")
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def pooling_window(x, i, j, kernel_size, stride=None):
    """The pixels window (i, j) of a pooling layer sees, for every image and channel.

    x: (N, C, H, W), already padded; kernel_size, stride: int or pair, stride=None
    meaning stride = kernel_size. Window (i, j) starts at row i*sH and column j*sW.
    Returns a copy, (N, C, kH, kW). Raises ValueError when the window leaves x.
    """
    x = as_float(x)
    kernel, stride, _, _ = _window_args(x, kernel_size, stride, 0)
    top, left = i * stride[0], j * stride[1]
    if i < 0 or j < 0 or top + kernel[0] > x.shape[2] or left + kernel[1] > x.shape[3]:
        raise ValueError(f"window ({i}, {j}) of size {kernel} with stride {stride} leaves "
                         f"an input of {x.shape[2]}x{x.shape[3]} pixels")
    return x[:, :, top:top + kernel[0], left:left + kernel[1]].copy()


def max_pool2d_unpadded(x, kernel_size, stride=None):
    """Max pooling without padding, the output size rounded down: max_pool2d(x, kernel_size, stride).

    x: (N, C, H, W). Returns (N, C, H_out, W_out), H_out = floor((H - kH) / sH) + 1.
    """
    return max_pool2d(x, kernel_size, stride)


def create_mask_from_window(window):
    """1 at the first maximum (row-major order) of each window, 0 elsewhere.

    window: (N, C, kH, kW). Returns (N, C, kH, kW) of 0.0 and 1.0 with exactly one 1
    per image and channel: the pixel max pooling's backward sends the gradient to
    (torch's choice among tied maxima, which np.argmax also makes).
    """
    window = as_float(window)
    check_ndim(window, 4, "window", "(N, C, kH, kW)")
    flat = window.reshape(window.shape[:2] + (-1,))
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    return mask.reshape(window.shape)


def distribute_value(g, kernel_size):
    """Share the gradient of one average-pooling window equally among its kH*kW pixels.

    g: (N, C), the gradient of window (i, j)'s output for every image and channel;
    kernel_size: int or pair. Returns (N, C, kH, kW), every entry g / (kH * kW).
    """
    g = as_float(g)
    check_ndim(g, 2, "g", "(N, C)")
    kh, kw = pair(kernel_size, "kernel_size")
    check_positive((kh, kw), "kernel_size")
    return np.broadcast_to((g / (kh * kw))[:, :, None, None], g.shape + (kh, kw)).copy()
