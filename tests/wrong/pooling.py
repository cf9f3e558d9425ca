"""Wrong-in-one-regime implementations of lesson 1 (autograder/grading/suites/pooling.py).

Each is a small mistake found in student or library code, written here with
plain loops (independently of the suite's misconceptions) or as the reference
called with one argument spoiled. tests/test_regimes.py proves that each one
agrees with the reference on every hidden case outside its regime, differs on
some case inside it, and loses points.
"""
import numpy as np

from autograder.reference import pooling as ref
from wrong import Wrong

# ---------------------------------------------------------------------------
# Loop pooling with a switch per mistake
# ---------------------------------------------------------------------------


def hw(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def torch_size(n, k, s, p, ceil_mode):
    return ref.pool_output_size(n, k, s, p, ceil_mode=ceil_mode)


def no_shift(n, k, s, p, ceil_mode):
    return 0


def split_overhang(n, k, s, p, ceil_mode):
    """Half (rounded down) of ceil_mode's extra padding moved to the start, as if centred."""
    overhang = (torch_size(n, k, s, p, ceil_mode) - 1) * s + k - (n + 2 * p)
    return max(overhang, 0) // 2


def windows(x_shape, kernel_size, stride, padding, ceil_mode, size=torch_size, shift=no_shift,
            place=None):
    """Yield (i, j, rows, cols, cells in the padded input, all cells) of every window.

    rows, cols: the window's real rows and columns of x. size(n, k, s, p, ceil_mode)
    gives the number of windows, shift(...) moves every window up/left, and the
    windows are placed `place` apart (the stride when None).
    """
    kernel = hw(kernel_size)
    stride = kernel if stride is None else hw(stride)
    padding = hw(padding)
    place = stride if place is None else hw(place)
    dims = list(zip(x_shape[2:], kernel, stride, padding))
    out = [size(*dim, ceil_mode) for dim in dims]
    starts = [[i * t - p - shift(*dim, ceil_mode) for i in range(o)]
              for dim, o, t, p in zip(dims, out, place, padding)]
    (height, width), (ph, pw) = x_shape[2:], padding
    for i, r0 in enumerate(starts[0]):
        for j, c0 in enumerate(starts[1]):
            rows = [r for r in range(r0, r0 + kernel[0]) if 0 <= r < height]
            cols = [c for c in range(c0, c0 + kernel[1]) if 0 <= c < width]
            padded = (sum(1 for r in range(r0, r0 + kernel[0]) if -ph <= r < height + ph)
                      * sum(1 for c in range(c0, c0 + kernel[1]) if -pw <= c < width + pw))
            yield i, j, rows, cols, padded, kernel[0] * kernel[1], tuple(out)


def pool(x, kernel_size, stride=None, padding=0, ceil_mode=False, *, reduce, **where):
    """out[n, c, i, j] = reduce(real values, cells in the padded input, all cells)."""
    x = np.asarray(x, dtype=np.float64)
    out = None
    for i, j, rows, cols, padded, total, shape in windows(x.shape, kernel_size, stride, padding,
                                                          ceil_mode, **where):
        out = np.zeros(x.shape[:2] + shape) if out is None else out
        values = x[:, :, rows][:, :, :, cols].reshape(x.shape[:2] + (-1,))
        out[:, :, i, j] = reduce(values, padded, total)
    return out


def pool_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False, *, weights,
                  assign="add", land=(0, 0), **where):
    """grad_x: each window hands grad * weights(values, padded, total) to its real pixels.

    assign "set" overwrites instead of adding; land shifts where the gradient is
    written (a padded coordinate never cropped back).
    """
    x = np.asarray(x, dtype=np.float64)
    grad_x = np.zeros_like(x)
    for i, j, rows, cols, padded, total, _ in windows(x.shape, kernel_size, stride, padding,
                                                      ceil_mode, **where):
        cells = [(r, c) for r in rows for c in cols]
        for n, ch in np.ndindex(*x.shape[:2]):
            values = np.array([x[n, ch, r, c] for r, c in cells])
            for (r, c), w in zip(cells, weights(values, padded, total)):
                r, c = r + land[0], c + land[1]
                if w == 0 or r >= x.shape[2] or c >= x.shape[3]:
                    continue
                if assign == "add":
                    grad_x[n, ch, r, c] += grad_out[n, ch, i, j] * w
                else:
                    grad_x[n, ch, r, c] = grad_out[n, ch, i, j] * w
    return grad_x


# reductions
def max_of(values, padded, total):
    return values.max(axis=-1) if values.shape[-1] else np.full(values.shape[:-1], -np.inf)


def max_zero_fill(values, padded, total):
    """Padding (and ceil_mode's overhang) filled with 0 instead of -inf."""
    best = max_of(values, padded, total)
    return np.maximum(best, 0.0) if values.shape[-1] < total else best


def max_from_zero(values, padded, total):
    """A running max started at 0 (np.maximum into np.zeros) instead of -inf."""
    return np.maximum(max_of(values, padded, total), 0.0)


def mean_over(divisor):
    def reduce(values, padded, total):
        return values.sum(axis=-1) / divisor(values.shape[-1], padded, total)
    return reduce


def torch_divisor(count_include_pad):
    return (lambda real, padded, total: padded) if count_include_pad else \
        (lambda real, padded, total: real)


def real_count(real, padded, total):
    return real


def kernel_area(real, padded, total):
    return total


# gradient weights
def first_max(values, padded, total, floor=-np.inf):
    """One-hot at the first maximum (of the values and `floor`)."""
    best = max(values.max(), floor)
    hits = np.flatnonzero(values == best)
    w = np.zeros(len(values))
    if len(hits):
        w[hits[0]] = 1.0
    return w


def every_max(values, padded, total):
    return (values == values.max()).astype(float)


def last_max(values, padded, total):
    w = np.zeros(len(values))
    w[np.flatnonzero(values == values.max())[-1]] = 1.0
    return w


def shares(divisor):
    def weights(values, padded, total):
        return np.full(len(values), 1.0 / divisor(len(values), padded, total))
    return weights


# ---------------------------------------------------------------------------
# Spoiled arguments
# ---------------------------------------------------------------------------

def int_only(*values):
    """Code written for ints: `kH = kW = kernel_size` fails on a pair."""
    for value in values:
        if isinstance(value, (tuple, list)):
            raise TypeError("unsupported operand type(s) for -: 'int' and 'tuple'")


def first_of(value):
    """A pair read as its first number (value[0] used for both dimensions)."""
    return value if value is None or isinstance(value, (int, np.integer)) else value[0]


def stride_none_is_one(stride):
    return 1 if stride is None else stride


# ---------------------------------------------------------------------------
# pool_output_size
# ---------------------------------------------------------------------------

def size_stride_none_one(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, stride_none_is_one(stride), padding,
                                ceil_mode=ceil_mode)


def size_always_ceil(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, stride, padding, ceil_mode=True)


def size_padding_once(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n - padding, kernel_size, stride, padding, ceil_mode=ceil_mode)


def size_ceil_ignored(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, stride, padding)


def no_drop_size(n, k, s, p, ceil_mode):
    if not ceil_mode:
        return torch_size(n, k, s, p, False)
    return -(-(n + 2 * p - k) // s) + 1


def plus_stride_size(n, k, s, p, ceil_mode):
    """ceil as (a + s) // s instead of (a + s - 1) // s, then torch's drop rule."""
    if not ceil_mode:
        return torch_size(n, k, s, p, False)
    out = (n + 2 * p - k + s) // s + 1
    return out - 1 if (out - 1) * s >= n + p else out


def size_no_drop(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return no_drop_size(n, kernel_size, kernel_size if stride is None else stride, padding,
                        ceil_mode)


def size_plus_stride(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return plus_stride_size(n, kernel_size, kernel_size if stride is None else stride, padding,
                            ceil_mode)


FLOOR = "floor mode: a stride that does not divide, the last pixels are left out"
PARTIAL = "ceil_mode: a partial last window overhangs by >= 1 pixel"
OVERHANG_2 = "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)"
EXACT = "ceil_mode: the stride divides, no partial window (overhang 0)"
DROPPED = "ceil_mode: a last window that would start in the padding is dropped"
PAIR = "kernel_size, stride or padding given as a pair"

OUTPUT_SIZE = [
    Wrong("pool_output_size", "stride=None", "stride=None taken as stride 1", size_stride_none_one),
    Wrong("pool_output_size", FLOOR, "rounds up without ceil_mode", size_always_ceil),
    Wrong("pool_output_size", "padding > 0", "padding added on one side only", size_padding_once),
    Wrong("pool_output_size", PARTIAL, "ceil_mode ignored", size_ceil_ignored),
    Wrong("pool_output_size", DROPPED, "ceil_mode without torch's drop rule", size_no_drop),
    Wrong("pool_output_size", EXACT, "ceil as (a + s) // s: one window too many when s divides",
          size_plus_stride),
]


# ---------------------------------------------------------------------------
# max_pool2d and avg_pool2d
# ---------------------------------------------------------------------------

def max_variant(**switches):
    def max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False):
        return pool(x, kernel_size, stride, padding, ceil_mode, **{"reduce": max_of, **switches})
    return max_pool2d


def max_int_only(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    int_only(kernel_size, stride, padding)
    return ref.max_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode)


def max_square_kernel(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    k = first_of(kernel_size)
    return ref.max_pool2d(x, k, k if stride is None else stride, padding, ceil_mode=ceil_mode)


def max_square_stride(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, first_of(stride), padding, ceil_mode=ceil_mode)


def max_square_padding(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, stride, first_of(padding), ceil_mode=ceil_mode)


def max_stride_none_one(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, stride_none_is_one(stride), padding, ceil_mode=ceil_mode)


def max_always_ceil(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, stride, padding, ceil_mode=True)


def max_ceil_ignored(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, stride, padding)


def max_across_channels(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    pooled = ref.max_pool2d(np.max(x, axis=1, keepdims=True), kernel_size, stride, padding,
                            ceil_mode=ceil_mode)
    return np.repeat(pooled, x.shape[1], axis=1)


def first_image_only(forward):
    def variant(x, *args, **kwargs):
        pooled = forward(x[:1], *args, **kwargs)
        return np.repeat(pooled, x.shape[0], axis=0)
    return variant


NEGATIVE = "a window whose pixels are all negative"
NEGATIVE_EDGE = "a window reaching past the input whose pixels are all negative"

MAX_POOL2D = [Wrong("max_pool2d", regime, description, fn) for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1", max_stride_none_one),
    (PAIR, "written for int arguments only", max_int_only),
    ("non-square kernel (kH != kW)", "kernel_size[0] used for both sides", max_square_kernel),
    ("a stride pair with sH != sW", "stride[0] used for both directions", max_square_stride),
    ("a padding pair with pH != pW", "padding[0] used on all four sides", max_square_padding),
    (NEGATIVE, "running maximum started at 0", max_variant(reduce=max_from_zero)),
    (NEGATIVE_EDGE, "padding (and ceil_mode's overhang) filled with zeros",
     max_variant(reduce=max_zero_fill)),
    (FLOOR, "output size always rounded up", max_always_ceil),
    (PARTIAL, "ceil_mode ignored", max_ceil_ignored),
    (OVERHANG_2, "ceil_mode's extra padding split between both sides",
     max_variant(shift=split_overhang)),
    (DROPPED, "ceil_mode without torch's drop rule", max_variant(size=no_drop_size)),
    (EXACT, "ceil as (a + s) // s: one window too many when s divides",
     max_variant(size=plus_stride_size)),
    ("channels > 1", "the channels pooled together", max_across_channels),
    ("batch > 1", "only the first image pooled", first_image_only(ref.max_pool2d)),
]]


def avg_variant(divisor=None, **switches):
    def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True):
        reduce = mean_over(divisor or torch_divisor(count_include_pad))
        return pool(x, kernel_size, stride, padding, ceil_mode, reduce=reduce, **switches)
    return avg_pool2d


def avg_spoiled(spoil):
    """The reference called with the arguments spoil(arguments) returns."""
    def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                   count_include_pad=True):
        args = spoil(dict(kernel_size=kernel_size, stride=stride, padding=padding,
                          ceil_mode=ceil_mode, count_include_pad=count_include_pad))
        return ref.avg_pool2d(x, **args)
    return avg_pool2d


def avg_int_only(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
    int_only(kernel_size, stride, padding)
    return ref.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_partial_full_divisor(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                             count_include_pad=True):
    """ceil_mode's partial window divided by kH * kW (the padding there counted as zeros)."""
    divisor = kernel_area if ceil_mode else torch_divisor(count_include_pad)
    return avg_variant(divisor)(x, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_across_channels(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    pooled = ref.avg_pool2d(np.mean(x, axis=1, keepdims=True), kernel_size, stride, padding,
                            ceil_mode, count_include_pad)
    return np.repeat(pooled, x.shape[1], axis=1)


def with_square_kernel(a):
    k = first_of(a["kernel_size"])
    return {**a, "kernel_size": k, "stride": k if a["stride"] is None else a["stride"]}


AVG_POOL2D = [Wrong("avg_pool2d", regime, description, fn) for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1",
     avg_spoiled(lambda a: {**a, "stride": stride_none_is_one(a["stride"])})),
    (PAIR, "written for int arguments only", avg_int_only),
    ("non-square kernel (kH != kW)", "kernel_size[0] used for both sides",
     avg_spoiled(with_square_kernel)),
    ("a stride pair with sH != sW", "stride[0] used for both directions",
     avg_spoiled(lambda a: {**a, "stride": first_of(a["stride"])})),
    ("a padding pair with pH != pW", "padding[0] used on all four sides",
     avg_spoiled(lambda a: {**a, "padding": first_of(a["padding"])})),
    ("padding > 0 with count_include_pad=True", "always divided by the real pixels",
     avg_variant(real_count)),
    ("padding > 0 with count_include_pad=False", "count_include_pad=False ignored",
     avg_variant(torch_divisor(True))),
    (FLOOR, "output size always rounded up", avg_spoiled(lambda a: {**a, "ceil_mode": True})),
    (PARTIAL, "ceil_mode ignored", avg_spoiled(lambda a: {**a, "ceil_mode": False})),
    (PARTIAL, "the partial window divided by kH * kW", avg_partial_full_divisor),
    (OVERHANG_2, "ceil_mode's extra padding split between both sides (issue 14)",
     avg_variant(shift=split_overhang)),
    (EXACT, "ceil as (a + s) // s: one window too many when s divides",
     avg_variant(size=plus_stride_size)),
    ("channels > 1", "the channels averaged together", avg_across_channels),
    ("batch > 1", "only the first image pooled", first_image_only(ref.avg_pool2d)),
]]


# ---------------------------------------------------------------------------
# max_pool2d_backward and avg_pool2d_backward
# ---------------------------------------------------------------------------

def max_backward_variant(**switches):
    def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
        return pool_backward(grad_out, x, kernel_size, stride, padding, ceil_mode,
                             **{"weights": first_max, **switches})
    return max_pool2d_backward


def max_backward_spoiled(spoil):
    def max_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
        if spoil.get("int_only"):
            int_only(kernel_size, stride, padding)
        stride = spoil.get("stride", lambda s: s)(stride)
        return ref.max_pool2d_backward(grad_out, x, kernel_size, stride, padding,
                                       ceil_mode=ceil_mode)
    return max_pool2d_backward


def max_backward_ceil_ignored(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Only the windows of floor mode: the last row/column of grad_out never read."""
    return max_backward_variant()(grad_out, x, kernel_size, stride, padding, False)


def max_backward_first_image(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
    grad_x = ref.max_pool2d_backward(grad_out, x, kernel_size, stride, padding,
                                     ceil_mode=ceil_mode)
    grad_x[1:] = 0.0
    return grad_x


def landed_in_padded_coordinates(grad_out, x, kernel_size, stride=None, padding=0,
                                 ceil_mode=False):
    return max_backward_variant(land=hw(padding))(grad_out, x, kernel_size, stride, padding,
                                                  ceil_mode)


MAX_BACKWARD = [Wrong("max_pool2d_backward", regime, description, fn)
                for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1",
     max_backward_spoiled({"stride": stride_none_is_one})),
    (PAIR, "written for int arguments only", max_backward_spoiled({"int_only": True})),
    ("a stride pair with sH != sW", "stride[0] used for both directions",
     max_backward_spoiled({"stride": first_of})),
    ("stride < kernel_size: overlapping windows", "gradient assigned (=), not added",
     max_backward_variant(assign="set")),
    ("padding > 0", "positions left in padded coordinates (padding not cropped)",
     landed_in_padded_coordinates),
    ("tied maxima in a window", "every tied maximum gets the gradient",
     max_backward_variant(weights=every_max)),
    ("tied maxima in a window", "the last tied maximum gets the gradient",
     max_backward_variant(weights=last_max)),
    (NEGATIVE, "winner found with a running max started at 0",
     max_backward_variant(weights=lambda v, padded, total: first_max(v, padded, total, 0.0))),
    (PARTIAL, "ceil_mode's partial windows ignored", max_backward_ceil_ignored),
    (OVERHANG_2, "ceil_mode's extra padding split between both sides",
     max_backward_variant(shift=split_overhang)),
    ("batch > 1", "only the first image gets a gradient", max_backward_first_image),
]]


def avg_backward_variant(divisor=None, **switches):
    def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                            count_include_pad=True):
        weights = shares(divisor or torch_divisor(count_include_pad))
        return pool_backward(grad_out, x, kernel_size, stride, padding, ceil_mode,
                             weights=weights, **switches)
    return avg_pool2d_backward


def avg_backward_spoiled(spoil):
    def avg_pool2d_backward(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                            count_include_pad=True):
        if spoil.get("int_only"):
            int_only(kernel_size, stride, padding)
        stride = spoil.get("stride", lambda s: s)(stride)
        return ref.avg_pool2d_backward(grad_out, x, kernel_size, stride, padding, ceil_mode,
                                       count_include_pad)
    return avg_pool2d_backward


def avg_backward_partial_full_divisor(grad_out, x, kernel_size, stride=None, padding=0,
                                      ceil_mode=False, count_include_pad=True):
    divisor = kernel_area if ceil_mode else torch_divisor(count_include_pad)
    return avg_backward_variant(divisor)(grad_out, x, kernel_size, stride, padding, ceil_mode,
                                         count_include_pad)


def avg_backward_first_channel(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                               count_include_pad=True):
    """grad_out[n, 0] read for every channel (a loop indexing the wrong axis)."""
    first = np.repeat(np.asarray(grad_out)[:, :1], np.shape(grad_out)[1], axis=1)
    return ref.avg_pool2d_backward(first, x, kernel_size, stride, padding, ceil_mode,
                                   count_include_pad)


AVG_BACKWARD = [Wrong("avg_pool2d_backward", regime, description, fn)
                for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1",
     avg_backward_spoiled({"stride": stride_none_is_one})),
    (PAIR, "written for int arguments only", avg_backward_spoiled({"int_only": True})),
    ("a stride pair with sH != sW", "stride[0] used for both directions",
     avg_backward_spoiled({"stride": first_of})),
    ("stride < kernel_size: overlapping windows", "shares assigned (=), not added",
     avg_backward_variant(assign="set")),
    ("stride >= 2", "windows placed one pixel apart whatever the stride",
     avg_backward_variant(place=1)),
    ("padding > 0 with count_include_pad=True", "always divided by the real pixels",
     avg_backward_variant(real_count)),
    ("padding > 0 with count_include_pad=False", "count_include_pad=False ignored",
     avg_backward_variant(torch_divisor(True))),
    (PARTIAL, "the partial window's share divided by kH * kW", avg_backward_partial_full_divisor),
    (OVERHANG_2, "ceil_mode's extra padding split between both sides",
     avg_backward_variant(shift=split_overhang)),
    ("channels > 1", "the first channel's gradient used for every channel",
     avg_backward_first_channel),
]]


# ---------------------------------------------------------------------------
# Adaptive pooling and the pyramid
# ---------------------------------------------------------------------------

def torch_bins(a, n):
    return [(i * a // n, -(-(i + 1) * a // n)) for i in range(n)]


def floor_bins(a, n):
    return [(i * a // n, (i + 1) * a // n) for i in range(n)]


def paper_bins(a, n):
    window, stride = -(-a // n), a // n
    return [(i * stride, i * stride + window) for i in range(n)]


def adaptive(reduce, bins=torch_bins, sizes=None):
    """Adaptive pooling over bins(a, n); sizes(x, output_size) -> ((a_h, n_h), (a_w, n_w))."""
    def pool2d(x, output_size):
        x = np.asarray(x, dtype=np.float64)
        (a_h, n_h), (a_w, n_w) = (sizes or true_sizes)(x, output_size)
        out = np.zeros(x.shape[:2] + (n_h, n_w))
        for i, (r0, r1) in enumerate(bins(a_h, n_h)):
            for j, (c0, c1) in enumerate(bins(a_w, n_w)):
                out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
        return out
    return pool2d


def true_sizes(x, output_size):
    return tuple(zip(x.shape[2:], hw(output_size)))


def unpacked_sizes(x, output_size):
    """`out_h, out_w = output_size`: fails on an int."""
    out_h, out_w = output_size
    return (x.shape[2], out_h), (x.shape[3], out_w)


def square_output(x, output_size):
    n = first_of(output_size)
    return (x.shape[2], n), (x.shape[3], n)


def height_for_both(x, output_size):
    n_h, n_w = hw(output_size)
    return (x.shape[2], n_h), (x.shape[2], n_w)


def rejects_larger(reduce):
    def pool2d(x, output_size):
        if any(n > a for a, n in true_sizes(np.asarray(x), output_size)):
            raise ValueError("output_size must not exceed the input size")
        return adaptive(reduce)(x, output_size)
    return pool2d


def adaptive_catalog(name, reduce):
    return [Wrong(name, regime, description, fn) for regime, description, fn in [
        ("output_size an int", "`out_h, out_w = output_size` fails on an int",
         adaptive(reduce, sizes=unpacked_sizes)),
        ("a pair output_size with H_out != W_out", "output_size[0] used for both sides",
         adaptive(reduce, sizes=square_output)),
        ("non-square input (H != W)", "the height's bins used for the width too",
         adaptive(reduce, sizes=height_for_both)),
        ("bins that do not divide the input: a % n != 0", "bin ends rounded down",
         adaptive(reduce, bins=floor_bins)),
        ("bins that do not divide the input: a % n != 0", "the SPP paper's window and stride",
         adaptive(reduce, bins=paper_bins)),
        ("an output larger than the input (n > a)", "rejects an output larger than the input",
         rejects_larger(reduce)),
    ]]


def spp_spoiled(levels_used=None, mode_used=None, flatten=None, bins=torch_bins):
    """The pyramid with one thing spoiled: the levels, the mode, or how a level is flattened."""
    def spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max"):
        x = np.asarray(x, dtype=np.float64)
        reduce = np.max if (mode_used or mode) == "max" else np.mean
        parts = [adaptive(reduce, bins)(x, level) for level in (levels_used or levels)]
        if flatten is not None:
            return flatten(parts)
        return np.concatenate([p.reshape(len(x), -1) for p in parts], axis=1)
    return spatial_pyramid_pool2d


def channels_last(parts):
    return np.concatenate([p.transpose(0, 2, 3, 1).reshape(len(p), -1) for p in parts], axis=1)


def batch_mixed(parts):
    """Every level flattened whole, then cut into rows: images' features get mixed."""
    return np.concatenate([p.reshape(-1) for p in parts]).reshape(len(parts[0]), -1)


SPP = [Wrong("spatial_pyramid_pool2d", regime, description, fn) for regime, description, fn in [
    ("mode='avg'", "mode ignored (always max)", spp_spoiled(mode_used="max")),
    ("levels other than (1, 2, 4)", "levels ignored (always 1, 2, 4)",
     spp_spoiled(levels_used=(1, 2, 4))),
    ("channels > 1", "each level flattened channels-last", spp_spoiled(flatten=channels_last)),
    ("batch > 1", "levels flattened across the batch", spp_spoiled(flatten=batch_mixed)),
    ("a level that does not divide the input", "the SPP paper's window and stride",
     spp_spoiled(bins=paper_bins)),
]]


# ---------------------------------------------------------------------------
# The small steps: pad2d, pooling_window, max_pool2d_unpadded, create_mask_from_window,
# distribute_value (plain loops or one argument spoiled)
# ---------------------------------------------------------------------------

def pad2d_int_only(x, padding, value=0.0):
    """Written for an int: with a pair, np.pad gets nested widths and raises."""
    return np.pad(np.asarray(x, dtype=np.float64),
                  ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=value)


def pad2d_first_of_pair(x, padding, value=0.0):
    p = hw(padding)[0]
    return ref.pad2d(x, p, value)


def pad2d_zeros(x, padding, value=0.0):
    return ref.pad2d(x, padding)


def first_channel_everywhere(fn):
    def wrong(x, *args, **kwargs):
        x = np.asarray(x, dtype=np.float64)
        return np.repeat(fn(x[:, :1], *args, **kwargs), x.shape[1], axis=1)
    return wrong


def first_image_everywhere(fn):
    def wrong(x, *args, **kwargs):
        x = np.asarray(x, dtype=np.float64)
        return np.repeat(fn(x[:1], *args, **kwargs), x.shape[0], axis=0)
    return wrong


PAD2D = [Wrong("pad2d", regime, description, fn) for regime, description, fn in [
    ("padding given as a pair", "padding used as an int (a pair crashes)", pad2d_int_only),
    ("a padding pair with pH != pW", "padding[0] on every side", pad2d_first_of_pair),
    ("value other than 0 (e.g. -inf)", "always pads with zeros", pad2d_zeros),
    ("channels > 1", "the first channel padded and copied", first_channel_everywhere(ref.pad2d)),
    ("batch > 1", "the first image padded and copied", first_image_everywhere(ref.pad2d)),
]]


def window_loop(x, i, j, kernel_size, stride=None, *, start=None, size=None):
    """Window (i, j) with a loop; start(i, j, kernel, stride) -> (row, col), size(kernel)."""
    kernel = hw(kernel_size)
    stride = kernel if stride is None else hw(stride)
    r0, c0 = (i * stride[0], j * stride[1]) if start is None else start(i, j, kernel, stride)
    kh, kw = kernel if size is None else size(kernel)
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros(x.shape[:2] + (kh, kw))
    for r in range(kh):
        for c in range(kw):
            out[:, :, r, c] = x[:, :, r0 + r, c0 + c]
    return out


def window_int_only(x, i, j, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    return np.array(np.asarray(x, dtype=np.float64)[:, :, i * s:i * s + k, j * s:j * s + k])


def window_stride_none_one(x, i, j, kernel_size, stride=None):
    return ref.pooling_window(x, i, j, kernel_size, 1 if stride is None else stride)


POOLING_WINDOW = [Wrong("pooling_window", regime, description, fn)
                  for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1", window_stride_none_one),
    ("kernel_size or stride given as a pair", "kernel_size and stride used as ints (a pair "
     "crashes)", window_int_only),
    ("non-square kernel (kH != kW)", "a kH x kH window",
     lambda *a, **k: window_loop(*a, **k, size=lambda kernel: (kernel[0], kernel[0]))),
    ("sH != sW (a stride pair, or stride=None with a non-square kernel)",
     "sH used along both axes",
     lambda *a, **k: window_loop(*a, **k, start=lambda i, j, kr, s: (i * s[0], j * s[0]))),
    ("a window away from the top left with stride >= 2", "the window starts at (i, j)",
     lambda *a, **k: window_loop(*a, **k, start=lambda i, j, kr, s: (i, j))),
    ("i != j", "i and j swapped",
     lambda *a, **k: window_loop(*a, **k, start=lambda i, j, kr, s: (j * s[0], i * s[1]))),
    ("channels > 1", "the first channel's window for every channel",
     first_channel_everywhere(ref.pooling_window)),
    ("batch > 1", "the first image's window for every image",
     first_image_everywhere(ref.pooling_window)),
]]


def unpadded_stride_none_one(x, kernel_size, stride=None):
    return ref.max_pool2d(x, kernel_size, 1 if stride is None else stride)


def unpadded_int_only(x, kernel_size, stride=None):
    k = kernel_size
    s = k if stride is None else stride
    x = np.asarray(x, dtype=np.float64)
    h_out, w_out = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.full(x.shape[:2] + (h_out, w_out), -np.inf)
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out


def unpadded_square(x, kernel_size, stride=None):
    k = hw(kernel_size)[0]
    return ref.max_pool2d(x, k, k if stride is None else stride)


def unpadded_stride_h(x, kernel_size, stride=None):
    return ref.max_pool2d(x, kernel_size, None if stride is None else hw(stride)[0])


MAX_POOL2D_UNPADDED = [Wrong("max_pool2d_unpadded", regime, description, fn)
                       for regime, description, fn in [
    ("stride=None", "stride=None taken as stride 1", unpadded_stride_none_one),
    ("kernel_size, stride or padding given as a pair", "kernel_size and stride used as ints",
     unpadded_int_only),
    ("non-square kernel (kH != kW)", "a kH x kH window", unpadded_square),
    ("a stride pair with sH != sW", "sH used along both axes", unpadded_stride_h),
    ("a window whose pixels are all negative", "running maximum started from 0",
     lambda x, kernel_size, stride=None: np.maximum(ref.max_pool2d(x, kernel_size, stride), 0)),
    ("floor mode: a stride that does not divide, the last pixels are left out",
     "the output size rounded up",
     lambda x, kernel_size, stride=None: ref.max_pool2d(x, kernel_size, stride, ceil_mode=True)),
    ("channels > 1", "the first channel pooled and copied",
     first_channel_everywhere(ref.max_pool2d_unpadded)),
    ("batch > 1", "the first image pooled and copied",
     first_image_everywhere(ref.max_pool2d_unpadded)),
]]


def mask_loop(window, *, start=-np.inf, unravel_width=None, per_image=False):
    """First maximum by a loop over (r, c); start: the running maximum's first value."""
    window = np.asarray(window, dtype=np.float64)
    n, c, kh, kw = window.shape
    mask = np.zeros_like(window)
    width = kw if unravel_width is None else unravel_width(kh, kw)
    for b in range(n):
        if per_image:  # one maximum over all channels of an image
            flat = window[b].reshape(-1)
            k = int(np.argmax(flat))
            mask[b, k // (kh * kw), (k % (kh * kw)) // kw, k % kw] = 1
            continue
        for ch in range(c):
            best, where = start, None
            for k, value in enumerate(window[b, ch].reshape(-1)):
                if value > best:
                    best, where = value, k
            if where is not None:
                mask[b, ch, min(where // width, kh - 1), where % width] = 1
    return mask


def mask_every_tie(window):
    window = np.asarray(window, dtype=np.float64)
    return (window == window.max(axis=(2, 3), keepdims=True)).astype(np.float64)


CREATE_MASK = [Wrong("create_mask_from_window", regime, description, fn)
               for regime, description, fn in [
    ("tied maxima in a window", "window == window.max(): every tied maximum", mask_every_tie),
    ("a window whose maximum is 0 or negative", "running maximum started from 0",
     lambda w: mask_loop(w, start=0.0)),
    ("non-square window (kH != kW)", "flat index unravelled with kH columns",
     lambda w: mask_loop(w, unravel_width=lambda kh, kw: kh)),
    ("channels > 1", "one maximum over all channels of an image",
     lambda w: mask_loop(w, per_image=True)),
    ("batch > 1", "the first image's mask for every image",
     first_image_everywhere(ref.create_mask_from_window)),
]]


def distribute_int_only(g, kernel_size):
    k = kernel_size
    g = np.asarray(g, dtype=np.float64)
    return np.ones(g.shape + (k, k)) * g[:, :, None, None] / (k * k)


def distribute_square_divisor(g, kernel_size):
    kh, kw = hw(kernel_size)
    return ref.distribute_value(g, kernel_size) * (kw / kh)


def distribute_first(axis):
    def wrong(g, kernel_size):
        g = np.asarray(g, dtype=np.float64)
        first = g[:1] if axis == 0 else g[:, :1]
        return ref.distribute_value(np.repeat(first, g.shape[axis], axis=axis), kernel_size)
    return wrong


DISTRIBUTE_VALUE = [Wrong("distribute_value", regime, description, fn)
                    for regime, description, fn in [
    ("kernel_size given as a pair", "kernel_size used as an int (a pair crashes)",
     distribute_int_only),
    ("non-square kernel (kH != kW)", "divided by kH * kH", distribute_square_divisor),
    ("channels > 1", "the first channel's gradient for every channel", distribute_first(1)),
    ("batch > 1", "the first image's gradient for every image", distribute_first(0)),
]]


WRONG = (OUTPUT_SIZE + MAX_POOL2D + AVG_POOL2D + MAX_BACKWARD + AVG_BACKWARD
         + adaptive_catalog("adaptive_avg_pool2d", np.mean)
         + adaptive_catalog("adaptive_max_pool2d", np.max) + SPP
         + PAD2D + POOLING_WINDOW + MAX_POOL2D_UNPADDED + CREATE_MASK + DISTRIBUTE_VALUE)
