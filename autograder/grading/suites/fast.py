"""Hidden checks of lesson 5, making it fast (source/05_making_it_fast/05_making_it_fast.ipynb): 100 points.

What each exercise asks for is exactly what its docstring in the notebook promises:

    pool_windows(x, kernel_size, stride=None, padding=0, value=0.0)                10
    max_pool2d(x, kernel_size, stride=None, padding=0)          on pool_windows     8
    im2col(x, kernel_size, stride=1, padding=0, dilation=1)                        14
    col2im(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1)            12
    conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1)  on im2col     16
    conv2d_backward(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1)     16
    winograd_f23(d, g)                                                              8
    winograd_conv2d(x, w, padding=0)                                               16

max_pool2d, conv2d and conv2d_backward are built on the student's own
pool_windows, im2col and col2im: their expected results are the reference's,
or else the same computation on the student's pieces, so a bug in a piece is
charged once, where it is. conv2d also has a graded speed check (see
SPEED_LAYER): values right, and at least 1/12 of the speed of one np.matmul
with the same number of multiply-adds, timed in turn by the grader (the kernel's
account of the sandbox's CPU time, best of 7; grader.judge_speed); tests/test_speed_checks.py shows that it passes
vectorized solutions and fails Python loops over pixels, on a loaded machine.

The named misconceptions of the lesson: col2im overwriting instead of adding
where windows overlap, im2col's row order not matching w.reshape(C_out, -1),
padding applied after the window view. Each is produced by at least one check
(tests/test_suite_fast.py proves it). Inputs are small random numbers rounded
to one decimal; the max-pooling padding checks use all-negative windows so that
zero padding cannot pass for -inf padding.
"""

import numpy as np

from autograder.grading import compare
from autograder.reference import conv as ref_conv
from autograder.reference import fast as ref
from autograder.reference import pooling as ref_pooling

from ..spec import Case, Check, Exercise, Lesson, Misconception, Regime, Speed
from ..spec import case_arguments as arguments
from ..spec import regime_when as when
from .conv_regimes import is_pair as _is_pair
from .conv_regimes import per_axis as _pair

# ---------------------------------------------------------------------------
# Inputs and argument helpers
# ---------------------------------------------------------------------------


def randn(rng, *shape):
    """Standard normal values rounded to one decimal."""
    return np.round(rng.standard_normal(shape), 1)


def negative(rng, *shape):
    """Distinct negative numbers: a window of them never has a maximum of 0."""
    size = int(np.prod(shape))
    return -(rng.permutation(size) + 1).reshape(shape).astype(np.float64) / 2


def _all_close(got, expected):
    return len(got) == len(expected) and all(
        compare.close(np.asarray(g, dtype=np.float64), np.asarray(e, dtype=np.float64))
        for g, e in zip(got, expected))


def own_pieces(name, reference, chained, n_outputs=1):
    """An Exercise.expected: the reference's outputs, or those of `chained` built on the student's pieces.

    chained(case, student) computes the exercise from the student's own earlier
    functions. A student whose composite is right gets the reference; one whose
    composite agrees with their own (buggy) pieces gets that; only a wiring bug
    in the composite itself costs its points.
    """
    def expected(case, student):
        want = reference(*case.args, **case.kwargs)
        want = list(want) if n_outputs > 1 else [want]
        try:
            built = [np.asarray(v, dtype=np.float64) for v in chained(case, student)]
        except Exception:  # noqa: BLE001 - the pieces fail or disagree in shape: the reference stands
            return want
        if _all_close(built, want):
            return want
        try:
            got = student(name, *case.args, n_outputs=n_outputs, **case.kwargs)
        except RuntimeError:
            return want
        got = list(got) if n_outputs > 1 else [got]
        return want if _all_close(got, want) else built
    return expected


def _channels_per_group(a):
    return np.shape(a["x"])[1] // a.get("groups", 1)


def kernel_regimes(fn):
    """What every window operation's table has: kernel and stride kinds, padding, batch."""
    return [
        when(fn, "kernel_size a pair of unequal values",
             lambda a: _is_pair(a["kernel_size"]) and len(set(a["kernel_size"])) > 1),
        when(fn, "stride a pair", lambda a: _is_pair(a["stride"])),
        when(fn, "padding > 0", lambda a: any(_pair(a["padding"]))),
        when(fn, "batch N > 1", lambda a: _shape(a)[0] > 1),
    ]


def _windows_overlap(a):
    """Some axis steps by less than the window's span: d*(k - 1) + 1."""
    kernel = np.shape(a["w"])[2:] if "w" in a else _pair(a["kernel_size"])
    return any(s < d * (k - 1) + 1 for s, d, k in zip(_pair(a["stride"]), _pair(a["dilation"]), kernel))


def _shape(a):
    """(N, C, H, W) of the case: x's shape, or col2im's x_shape."""
    return tuple(a["x_shape"]) if "x_shape" in a else np.shape(a["x"])


# ---------------------------------------------------------------------------
# pool_windows
# ---------------------------------------------------------------------------

def pool_windows_padded_after(x, kernel_size, stride=None, padding=0, value=0.0):
    """Windows of the unpadded input, then `value` windows added around the grid of windows."""
    windows = ref.pool_windows(x, kernel_size, stride, 0)
    ph, pw = _pair(padding)
    return np.pad(windows, ((0, 0), (0, 0), (ph, ph), (pw, pw), (0, 0), (0, 0)), constant_values=value)


def pool_windows_stride_one(x, kernel_size, stride=None, padding=0, value=0.0):
    """stride=None read as 1 (convolution's default) instead of kernel_size (pooling's)."""
    return ref.pool_windows(x, kernel_size, 1 if stride is None else stride, padding, value)


def pool_windows_zero_padding(x, kernel_size, stride=None, padding=0, value=0.0):
    return ref.pool_windows(x, kernel_size, stride, padding, 0.0)


def pool_windows_transposed(x, kernel_size, stride=None, padding=0, value=0.0):
    """The window's axes in (kW, kH) order, as a strides tuple with the last two swapped gives."""
    return np.swapaxes(ref.pool_windows(x, kernel_size, stride, padding, value), -1, -2)


PADDED_AFTER = ("Padding was applied after the window view: pad the input first (np.pad with `value`), "
                "then take the windows; padding the grid of windows adds whole windows of padding "
                "instead of letting the border windows overhang the image.")
STRIDE_DEFAULT = ("stride=None was read as 1: in pooling, as in torch, stride defaults to kernel_size "
                  "(windows that tile the image).")

POOL_WINDOWS_MISCONCEPTIONS = [
    Misconception("padding applied after the window view", PADDED_AFTER, pool_windows_padded_after),
    Misconception("stride defaults to 1", STRIDE_DEFAULT, pool_windows_stride_one),
    Misconception("value ignored", "The padding was filled with 0 instead of `value` (max pooling "
                  "passes -inf so that padding never wins the max).", pool_windows_zero_padding),
    Misconception("kernel axes swapped", "The last two axes are (kW, kH): a window's rows must come "
                  "first, windows[n, c, i, j] = x_padded[n, c, i*sH : i*sH + kH, j*sW : j*sW + kW].",
                  pool_windows_transposed),
]


def pool_windows_cases_tiles(rng):
    return [Case((np.arange(16.0).reshape(1, 1, 4, 4), 2),
                 note="a 4x4 ramp in 2x2 windows: window (0, 0) is [[0, 1], [4, 5]]"),
            Case((randn(rng, 2, 3, 6, 4), 2))]


def pool_windows_cases_overlap(rng):
    return [Case((randn(rng, 1, 1, 5, 5), 3, 1), note="3x3 windows, stride 1: neighbours share 6 pixels"),
            Case((randn(rng, 1, 2, 7, 6), 3, 2))]


def pool_windows_cases_padding(rng):
    return [Case((randn(rng, 1, 1, 4, 4), 3, 1, 1), note="padding 1 with zeros"),
            Case((randn(rng, 1, 2, 5, 4), 2, 2, 1), {"value": -5.0}, note="padding with value=-5"),
            Case((randn(rng, 1, 1, 5, 5), 3, 1, 1), {"value": 9.0})]


def pool_windows_cases_leftover(rng):
    return [Case((randn(rng, 1, 1, 7, 5), 2, 3), note="stride 3 > kernel 2: pixels between windows"),
            Case((randn(rng, 2, 2, 6, 7), 3, 2)),
            Case((randn(rng, 1, 1, 5, 5), 1, 2))]


def pool_windows_cases_pairs(rng):
    return [Case((randn(rng, 2, 1, 5, 7), (2, 3), (1, 2)), note="non-square kernel and stride"),
            Case((randn(rng, 2, 2, 6, 7), (3, 2), (2, 3)), note="stride larger than the kernel along W"),
            Case((randn(rng, 1, 2, 5, 4), 2, 2, (1, 0)), {"value": -5.0}, note="padding rows only")]


POOL_WINDOWS = Exercise(
    name="pool_windows",
    reference=ref.pool_windows,
    checks=[
        Check("2x2 windows that tile the input (stride defaults to kernel_size)", 3, pool_windows_cases_tiles),
        Check("overlapping windows", 2, pool_windows_cases_overlap),
        Check("padding with `value`, before taking the windows", 2, pool_windows_cases_padding),
        Check("stride larger than the kernel, sizes that do not divide", 1, pool_windows_cases_leftover),
        Check("kernel_size, stride and padding as pairs (non-square)", 2, pool_windows_cases_pairs),
    ],
    misconceptions=POOL_WINDOWS_MISCONCEPTIONS,
    regimes=kernel_regimes(ref.pool_windows) + [
        when(ref.pool_windows, "stride omitted (defaults to kernel_size)", lambda a: a["stride"] is None),
        when(ref.pool_windows, "padding with a value other than 0",
             lambda a: any(_pair(a["padding"])) and a["value"] != 0),
        when(ref.pool_windows, "channels C > 1", lambda a: np.shape(a["x"])[1] > 1)],
)


# ---------------------------------------------------------------------------
# max_pool2d on pool_windows
# ---------------------------------------------------------------------------

def max_pool2d_lesson(x, kernel_size, stride=None, padding=0):
    """The reference max_pool2d with the lesson's arguments (no dilation, no ceil_mode)."""
    return ref_pooling.max_pool2d(x, kernel_size, stride, padding)


def max_pool2d_zero_padding(x, kernel_size, stride=None, padding=0):
    return ref.pool_windows(x, kernel_size, stride, padding, 0.0).max(axis=(-2, -1))


def max_pool2d_stride_one(x, kernel_size, stride=None, padding=0):
    return max_pool2d_lesson(x, kernel_size, 1 if stride is None else stride, padding)


def max_pool2d_on_own_windows(case, student):
    x, kernel_size, stride, padding = arguments(max_pool2d_lesson, case).values()
    windows = student("pool_windows", x, kernel_size, stride, padding, -np.inf)
    return [windows.max(axis=(-2, -1))]


MAX_POOL2D = Exercise(
    name="max_pool2d",
    reference=max_pool2d_lesson,
    expected=own_pieces("max_pool2d", max_pool2d_lesson, max_pool2d_on_own_windows),
    checks=[
        Check("2x2 windows, stride defaults to kernel_size", 2,
              lambda rng: [Case((randn(rng, 2, 3, 4, 6), 2)), Case((np.arange(16.0).reshape(1, 1, 4, 4), 2))]),
        Check("overlapping 3x3 windows with stride 2", 2,
              lambda rng: [Case((randn(rng, 1, 2, 7, 7), 3, 2)), Case((randn(rng, 2, 1, 5, 6), 3, 2))]),
        Check("padding never wins the max (all-negative windows)", 2,
              lambda rng: [Case((negative(rng, 1, 2, 4, 4), 2, 2, 1), note="every value is negative"),
                           Case((negative(rng, 1, 1, 5, 6), 3, 2, 1))]),
        Check("non-square kernel, stride and padding pairs", 2,
              lambda rng: [Case((negative(rng, 2, 1, 7, 5), (3, 2), (2, 1), (1, 0)))]),
    ],
    misconceptions=[
        Misconception("zero padding", "Max pooling padded with zeros: pad with -inf (pool_windows(..., "
                      "value=-np.inf)), so that a padded pixel never wins the max of negative numbers.",
                      max_pool2d_zero_padding),
        Misconception("stride defaults to 1", STRIDE_DEFAULT, max_pool2d_stride_one),
    ],
    regimes=[
        when(max_pool2d_lesson, "kernel_size a pair of unequal values",
             lambda a: _is_pair(a["kernel_size"]) and len(set(a["kernel_size"])) > 1),
        when(max_pool2d_lesson, "stride omitted (defaults to kernel_size)", lambda a: a["stride"] is None),
        when(max_pool2d_lesson, "padding > 0 with all-negative inputs",
             lambda a: any(_pair(a["padding"])) and np.max(a["x"]) < 0),
        when(max_pool2d_lesson, "batch N > 1", lambda a: np.shape(a["x"])[0] > 1)],
)


# ---------------------------------------------------------------------------
# im2col
# ---------------------------------------------------------------------------

def im2col_kernel_major(x, kernel_size, stride=1, padding=0, dilation=1):
    """Rows in (u, v, c) order: what reshaping the (..., kH, kW) window view without a transpose gives."""
    n, c = np.shape(x)[:2]
    kh, kw = _pair(kernel_size)
    cols = ref.im2col(x, kernel_size, stride, padding, dilation)
    return cols.reshape(n, c, kh, kw, -1).transpose(0, 2, 3, 1, 4).reshape(n, c * kh * kw, -1)


def im2col_columns_transposed(x, kernel_size, stride=1, padding=0, dilation=1):
    """Columns in (j, i) order: the output grid walked column by column."""
    n, c = np.shape(x)[:2]
    cols = ref.im2col(x, kernel_size, stride, padding, dilation)
    h_out = _conv_out(np.shape(x)[2], _pair(kernel_size)[0], _pair(stride)[0], _pair(padding)[0],
                      _pair(dilation)[0])
    return cols.reshape(n, cols.shape[1], h_out, -1).swapaxes(2, 3).reshape(cols.shape)


def im2col_padded_after(x, kernel_size, stride=1, padding=0, dilation=1):
    """Columns of the unpadded input, then zero columns added around the output grid."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    kh, kw = _pair(kernel_size)
    ph, pw = _pair(padding)
    cols = ref.im2col(x, kernel_size, stride, 0, dilation)
    h0 = _conv_out(x.shape[2], kh, _pair(stride)[0], 0, _pair(dilation)[0])
    grid = cols.reshape(n, cols.shape[1], h0, -1)
    return np.pad(grid, ((0, 0), (0, 0), (ph, ph), (pw, pw))).reshape(n, cols.shape[1], -1)


def im2col_dilation_ignored(x, kernel_size, stride=1, padding=0, dilation=1):
    return ref.im2col(x, kernel_size, stride, padding, 1)


def _conv_out(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


COLUMN_ORDER = ("The rows of each column are not in the order of w.reshape(C_out, -1): that order is "
                "channel-major, row (c*kH + u)*kW + v holds tap (u, v) of channel c. Transpose the "
                "window view to (N, C, kH, kW, H_out, W_out) before reshaping.")

IM2COL_MISCONCEPTIONS = [
    Misconception("column order not matching the weight reshape", COLUMN_ORDER, im2col_kernel_major),
    Misconception("padding applied after the window view", PADDED_AFTER.replace(" with `value`", ""),
                  im2col_padded_after),
    Misconception("output grid transposed", "Column l = i*W_out + j is output pixel (i, j), rows of the "
                  "output first: the columns were taken column by column.", im2col_columns_transposed),
    Misconception("dilation ignored", "Dilation was ignored: with dilation d, tap (u, v) reads pixel "
                  "(i*sH + u*dH, j*sW + v*dW).", im2col_dilation_ignored),
]


def im2col_cases_shape(rng):
    return [Case((randn(rng, 2, 3, 5, 6), 3)), Case((randn(rng, 1, 2, 7, 5), 2))]


def im2col_cases_one_channel(rng):
    return [Case((np.arange(9.0).reshape(1, 1, 3, 3), 2), note="the 3x3 ramp: columns [0,1,3,4], [1,2,4,5], ..."),
            Case((randn(rng, 2, 1, 4, 5), 3))]


def im2col_cases_channels(rng):
    return [Case((randn(rng, 1, 3, 3, 4), 2), note="rows: channel 0's 4 taps, then channel 1's, then 2's"),
            Case((randn(rng, 2, 2, 4, 5), 3))]


def im2col_cases_stride_padding(rng):
    return [Case((randn(rng, 1, 2, 5, 5), 3, 1, 1), note="padding 1: the border columns hold zeros"),
            Case((randn(rng, 1, 1, 7, 6), 3, 2, 1)),
            Case((randn(rng, 2, 2, 4, 5), 2, 3))]


def im2col_cases_dilation(rng):
    return [Case((randn(rng, 1, 1, 6, 6), 2, 1, 0, 2), note="dilation 2: taps 2 pixels apart"),
            Case((randn(rng, 1, 2, 7, 8), 3, 1, 0, 2))]


def im2col_cases_pairs(rng):
    return [Case((randn(rng, 1, 2, 7, 5), (2, 3), 2, 1), note="a 2x3 kernel"),
            Case((randn(rng, 1, 1, 7, 6), (3, 2), (2, 3), (1, 0))),
            Case((randn(rng, 2, 2, 4, 5), 2, 2, (0, 1))),
            Case((randn(rng, 1, 2, 7, 8), 3, 2, 1, (2, 1)), note="dilation 2 along H, 1 along W")]


IM2COL = Exercise(
    name="im2col",
    reference=ref.im2col,
    checks=[
        Check("shape (N, C*kH*kW, H_out*W_out)", 2, im2col_cases_shape, kind="shape"),
        Check("one channel: a column per window", 3, im2col_cases_one_channel),
        Check("several channels: rows in the order of w.reshape(C_out, -1)", 3, im2col_cases_channels),
        Check("stride and padding", 2, im2col_cases_stride_padding),
        Check("dilation", 2, im2col_cases_dilation),
        Check("kernel_size, stride, padding and dilation as pairs (non-square)", 2, im2col_cases_pairs),
    ],
    misconceptions=IM2COL_MISCONCEPTIONS,
    regimes=kernel_regimes(ref.im2col) + [
        when(ref.im2col, "dilation > 1", lambda a: any(d > 1 for d in _pair(a["dilation"]))),
        when(ref.im2col, "channels C > 1 and a kernel larger than 1x1",
             lambda a: np.shape(a["x"])[1] > 1 and _pair(a["kernel_size"]) != (1, 1))],
)


# ---------------------------------------------------------------------------
# col2im
# ---------------------------------------------------------------------------

def col2im_overwrite(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """x[...] = instead of +=: where windows overlap, the last window's value wins."""
    height, width = x_shape[2:]
    ph, pw = _pair(padding)
    canvas = _col2im_canvas(cols, x_shape, kernel_size, stride, padding, dilation, add=False)
    return canvas[:, :, ph:ph + height, pw:pw + width]


def col2im_averaged(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """The sum divided by the number of windows covering each pixel: an inverse of im2col, not its adjoint."""
    total = ref.col2im(cols, x_shape, kernel_size, stride, padding, dilation)
    ones = ref.im2col(np.ones(x_shape), kernel_size, stride, padding, dilation)
    counts = ref.col2im(ones, x_shape, kernel_size, stride, padding, dilation)
    return total / np.maximum(counts, 1)


def col2im_crop_end(cols, x_shape, kernel_size, stride=1, padding=0, dilation=1):
    """The padded canvas cropped at the start only ([:H, :W]), keeping the bottom/right padding."""
    height, width = x_shape[2:]
    full = _col2im_canvas(cols, x_shape, kernel_size, stride, padding, dilation)
    return full[:, :, :height, :width]


def _col2im_canvas(cols, x_shape, kernel_size, stride, padding, dilation, add=True):
    """col2im onto the padded canvas, nothing cropped; add=False overwrites instead of adding."""
    n, c, height, width = x_shape
    kh, kw = _pair(kernel_size)
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    h_out, w_out = _conv_out(height, kh, sh, ph, dh), _conv_out(width, kw, sw, pw, dw)
    cols = np.asarray(cols, dtype=np.float64).reshape(n, c, kh, kw, h_out, w_out)
    padded = np.zeros((n, c, height + 2 * ph, width + 2 * pw))
    for u in range(kh):
        for v in range(kw):
            target = (slice(None), slice(None), slice(u * dh, u * dh + sh * (h_out - 1) + 1, sh),
                      slice(v * dw, v * dw + sw * (w_out - 1) + 1, sw))
            padded[target] = padded[target] + cols[:, :, u, v] if add else cols[:, :, u, v]
    return padded


OVERWRITE = ("Where windows overlap, col2im overwrote (x[...] = ...) instead of adding (+=): a pixel "
             "read by several windows gets the sum of their column entries (col2im is im2col's "
             "adjoint, the scatter-add of the backward pass).")

COL2IM_MISCONCEPTIONS = [
    Misconception("col2im overwriting instead of adding", OVERWRITE, col2im_overwrite),
    Misconception("averaged", "The overlapping entries were averaged: col2im adds them. It is im2col's "
                  "adjoint (<im2col(x), c> = <x, col2im(c)>), not its inverse.", col2im_averaged),
    Misconception("cropped at one end", "Only the padding before the image was cropped: drop padding "
                  "rows and columns on all four sides, x = canvas[:, :, pH:pH + H, pW:pW + W].", col2im_crop_end),
]


def col2im_case(rng, x_shape, kernel_size, *args, note="", integer=False, **kwargs):
    """A Case of col2im with random columns of the right shape for x_shape and the window arguments."""
    shape = ref.im2col(np.zeros(x_shape), kernel_size, *args, **kwargs).shape
    cols = rng.integers(-3, 4, size=shape).astype(float) if integer else randn(rng, *shape)
    return Case((cols, tuple(x_shape), kernel_size) + args, kwargs, note)


def col2im_cases_tiles(rng):
    return [col2im_case(rng, (1, 1, 4, 4), 2, 2, note="2x2 windows with stride 2: each pixel in one window"),
            col2im_case(rng, (2, 3, 6, 4), 2, 2)]


def col2im_cases_overlap(rng):
    return [Case((np.ones((1, 9, 4)), (1, 1, 4, 4), 3), note="columns of ones: each pixel counts its windows"),
            col2im_case(rng, (1, 2, 5, 5), 3, 1, integer=True),
            col2im_case(rng, (2, 1, 6, 5), 3, 2)]


def col2im_cases_padding(rng):
    return [col2im_case(rng, (1, 1, 4, 4), 3, 1, 1, note="padding 1: entries on the padding are dropped"),
            col2im_case(rng, (1, 2, 5, 6), 2, 2, 1)]


def col2im_cases_dilation(rng):
    return [col2im_case(rng, (1, 1, 6, 6), 2, 1, 0, 2),
            col2im_case(rng, (2, 1, 7, 8), 3, 2, 0, 2)]


def col2im_cases_pairs(rng):
    return [col2im_case(rng, (2, 3, 6, 4), (3, 2), (3, 2), note="3x2 windows that tile the image"),
            col2im_case(rng, (2, 1, 6, 5), (3, 2), (2, 1), note="overlapping along H and W"),
            col2im_case(rng, (1, 2, 5, 6), (2, 3), 2, (1, 2)),
            col2im_case(rng, (2, 1, 7, 8), 3, (2, 3), 1, (2, 1))]


COL2IM = Exercise(
    name="col2im",
    reference=ref.col2im,
    checks=[
        Check("windows that tile the image", 2, col2im_cases_tiles),
        Check("overlapping windows add up", 4, col2im_cases_overlap),
        Check("padding dropped on all four sides", 2, col2im_cases_padding),
        Check("stride and dilation", 2, col2im_cases_dilation),
        Check("kernel_size, stride, padding and dilation as pairs (non-square)", 2, col2im_cases_pairs),
    ],
    misconceptions=COL2IM_MISCONCEPTIONS,
    regimes=kernel_regimes(ref.col2im) + [
        when(ref.col2im, "dilation > 1", lambda a: any(d > 1 for d in _pair(a["dilation"]))),
        when(ref.col2im, "stride < kernel span (windows overlap)", _windows_overlap)],
)


# ---------------------------------------------------------------------------
# conv2d and conv2d_backward on im2col / col2im
# ---------------------------------------------------------------------------

def _geometry(x, w, stride, padding, dilation):
    kh, kw = np.shape(w)[2:]
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    return (_conv_out(np.shape(x)[2], kh, sh, ph, dh), _conv_out(np.shape(x)[3], kw, sw, pw, dw))


def conv2d_from_columns(cols, w, b, groups, out_size):
    """out = w.reshape(g, C_out/g, -1) @ cols per group: (N, C_out, H_out, W_out)."""
    n = cols.shape[0]
    c_out = w.shape[0]
    out = w.reshape(groups, c_out // groups, -1) @ cols.reshape(n, groups, -1, cols.shape[-1])
    out = out.reshape(n, c_out, *out_size)
    return out if b is None else out + np.asarray(b).reshape(1, -1, 1, 1)


def conv2d_on_own_im2col(case, student):
    a = arguments(ref_conv.conv2d, case)
    x, w = a["x"], np.asarray(a["w"], dtype=np.float64)
    cols = student("im2col", x, tuple(w.shape[2:]), a["stride"], a["padding"], a["dilation"])
    return [conv2d_from_columns(cols, w, a["b"], a["groups"],
                                _geometry(x, w, a["stride"], a["padding"], a["dilation"]))]


def conv2d_backward_on_own_pieces(case, student):
    a = arguments(ref_conv.conv2d_backward, case)
    grad_out, x, w = (np.asarray(a[k], dtype=np.float64) for k in ("grad_out", "x", "w"))
    groups, kernel = a["groups"], tuple(w.shape[2:])
    window = (a["stride"], a["padding"], a["dilation"])
    n, c_out = grad_out.shape[:2]
    g = grad_out.reshape(n, groups, c_out // groups, -1)
    cols = student("im2col", x, kernel, *window)
    grad_w = (g @ cols.reshape(n, groups, -1, cols.shape[-1]).swapaxes(2, 3)).sum(axis=0).reshape(w.shape)
    grad_cols = (w.reshape(groups, c_out // groups, -1).swapaxes(1, 2) @ g).reshape(n, -1, g.shape[-1])
    grad_x = student("col2im", grad_cols, tuple(x.shape), kernel, *window)
    return [grad_x, grad_w, grad_out.sum(axis=(0, 2, 3))]


def conv2d_weight_kernel_major(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """w reshaped in (kH, kW, C) order while the columns are (C, kH, kW)."""
    w = np.asarray(w, dtype=np.float64)
    cols = ref.im2col(x, w.shape[2:], stride, padding, dilation)
    w_rows = w.transpose(0, 2, 3, 1).reshape(w.shape)    # the same numbers, read in the wrong order
    return conv2d_from_columns(cols, w_rows, b, groups, _geometry(x, w, stride, padding, dilation))


def conv2d_groups_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Every filter reads the first C_in / groups channels."""
    return ref_conv.conv2d(np.asarray(x)[:, :np.shape(w)[1]], w, b, stride, padding, dilation, 1)


def conv2d_no_bias(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return ref_conv.conv2d(x, w, None, stride, padding, dilation, groups)


WEIGHT_ORDER = ("w was reshaped in a different order from im2col's rows: w.reshape(C_out, -1) runs over "
                "(c, u, v), channel-major, and so must the rows of the columns it multiplies.")
GROUPS_IGNORED = ("groups was ignored: with groups = g, the columns split into g blocks of C_in/g "
                  "channels and block k is multiplied by the weights of output channels "
                  "k*C_out/g .. (k+1)*C_out/g - 1 only.")

CONV2D_MISCONCEPTIONS = [
    Misconception("im2col column order not matching the weight reshape", WEIGHT_ORDER, conv2d_weight_kernel_major),
    Misconception("groups ignored", GROUPS_IGNORED, conv2d_groups_ignored),
    Misconception("bias missing", "The bias was not added: b holds one number per output channel.",
                  conv2d_no_bias),
]


def conv2d_cases_one_channel(rng):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[None, None]
    return [Case((x, w), note="a 4x4 ramp and a Sobel kernel: every output is -8"),
            Case((randn(rng, 2, 1, 4, 6), randn(rng, 2, 1, 2, 3)))]


def conv2d_cases_channels(rng):
    return [Case((randn(rng, 1, 3, 4, 4), randn(rng, 2, 3, 3, 3), randn(rng, 2))),
            Case((randn(rng, 2, 2, 3, 5), randn(rng, 3, 2, 2, 2)), {"b": None})]


def conv2d_cases_geometry(rng):
    return [Case((randn(rng, 1, 2, 7, 6), randn(rng, 3, 2, 3, 2)), {"stride": 2, "padding": 1}),
            Case((randn(rng, 1, 1, 8, 7), randn(rng, 2, 1, 2, 3), randn(rng, 2)),
                 {"stride": 2, "padding": 1, "dilation": 2})]


def conv2d_cases_pairs(rng):
    return [Case((randn(rng, 1, 1, 8, 7), randn(rng, 2, 1, 2, 3), randn(rng, 2)),
                 {"stride": (2, 1), "padding": (1, 0), "dilation": (2, 1)})]


def conv2d_cases_groups(rng):
    return [Case((randn(rng, 1, 4, 4, 4), randn(rng, 4, 2, 3, 3)), {"groups": 2}),
            Case((randn(rng, 2, 3, 4, 3), randn(rng, 3, 1, 2, 2), randn(rng, 3)), {"groups": 3},
                 note="depthwise: one filter per channel")]


def conv_regimes(fn):
    """The regimes of conv2d and conv2d_backward."""
    return [
        when(fn, "stride > 1", lambda a: any(s > 1 for s in _pair(a["stride"]))),
        when(fn, "padding > 0", lambda a: any(_pair(a["padding"]))),
        when(fn, "dilation > 1", lambda a: any(d > 1 for d in _pair(a["dilation"]))),
        when(fn, "groups > 1", lambda a: a["groups"] > 1),
        when(fn, "C_in / groups > 1 and a kernel larger than 1x1",
             lambda a: _channels_per_group(a) > 1 and np.prod(np.shape(a["w"])[2:]) > 1),
        when(fn, "batch N > 1", lambda a: np.shape(a["x"])[0] > 1),
    ]


# The timed layer: an early layer of a CNN on a 64x64 image (8 -> 16 channels, 3x3, padding 1).
# Its 4.7 million multiply-adds are those of one (16, 72) @ (72, 4096) product: the GEMM that
# im2col turns it into, and the baseline timed beside it. One image with few channels is where a
# Python loop over the 4096 output pixels shows (each iteration does only 16 x 72 multiply-adds
# in a tiny product), so 1/12 sits about 2x from both sides. Measured in the sandbox with a busy
# loop on each core (one BLAS thread, CPU time, best of 7), as multiples of the matmul's time:
# im2col + one product 1.5, the 9-offset loop 3.7 (einsum with optimize=True) to 6.1 (without),
# a loop over output pixels 25; a loop over pixels and channels is hundreds. Timed by the grader
# since (the kernel's account of the child, the transfer taken off, the matmul into memory
# already mapped; 2026-11-29, two runs each, busy loops and a load average near 5): im2col
# 0-3, the 9-offset loop 6-8 (einsum without optimize), the loop over output pixels 36-39.
SPEED_LAYER = (1, 8, 16, 64, 3)
SPEED = Speed(baseline=(16, 8 * 3 * 3, 64 * 64), fraction=1 / 12)


def conv2d_cases_speed(rng):
    n, c_in, c_out, size, k = SPEED_LAYER
    x, w, b = rng.standard_normal((n, c_in, size, size)), rng.standard_normal((c_out, c_in, k, k)), rng.standard_normal(c_out)
    return [Case((x, w, b), {"padding": 1},
                 note="one 64x64 image, 8 -> 16 channels, 3x3: timed against one np.matmul of the same size")]


CONV2D = Exercise(
    name="conv2d",
    reference=ref_conv.conv2d,
    expected=own_pieces("conv2d", ref_conv.conv2d, conv2d_on_own_im2col),
    checks=[
        Check("one channel (cross-correlation, no flip)", 2, conv2d_cases_one_channel),
        Check("several channels and the bias", 4, conv2d_cases_channels),
        Check("stride, padding and dilation", 2, conv2d_cases_geometry),
        Check("stride, padding and dilation as pairs", 1, conv2d_cases_pairs),
        Check("groups", 3, conv2d_cases_groups),
        Check("speed: at least 1/12 of np.matmul's on a 64x64 layer", 4, conv2d_cases_speed, kind="speed",
              speed=SPEED),
    ],
    misconceptions=CONV2D_MISCONCEPTIONS,
    regimes=conv_regimes(ref_conv.conv2d) + [
        when(ref_conv.conv2d, "stride a pair of unequal values",
             lambda a: _is_pair(a["stride"]) and len(set(a["stride"])) > 1),
        when(ref_conv.conv2d, "non-square kernel", lambda a: len(set(np.shape(a["w"])[2:])) > 1),
        when(ref_conv.conv2d, "bias given", lambda a: a["b"] is not None)],
)


def backward_case(rng, x, w, note="", **kwargs):
    grad_out = randn(rng, *ref_conv.conv2d(x, w, **kwargs).shape)
    return Case((grad_out, x, w), kwargs, note)


def conv2d_backward_overwrite(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """grad_x scattered back with = instead of +=."""
    grad_x, grad_w, grad_b = ref_conv.conv2d_backward(grad_out, x, w, stride, padding, dilation, groups)
    n, c_out = np.shape(grad_out)[:2]
    w = np.asarray(w, dtype=np.float64)
    g = np.asarray(grad_out, dtype=np.float64).reshape(n, groups, c_out // groups, -1)
    grad_cols = (w.reshape(groups, c_out // groups, -1).swapaxes(1, 2) @ g).reshape(n, -1, g.shape[-1])
    grad_x = col2im_overwrite(grad_cols, np.shape(x), w.shape[2:], stride, padding, dilation)
    return grad_x, grad_w, grad_b


def conv2d_backward_weight_kernel_major(grad_out, x, w, stride=1, padding=0, dilation=1, groups=1):
    """grad_w reshaped from (C_out, C_in*kH*kW) in (kH, kW, C) order."""
    grad_x, grad_w, grad_b = ref_conv.conv2d_backward(grad_out, x, w, stride, padding, dilation, groups)
    c_out, c, kh, kw = grad_w.shape
    return grad_x, grad_w.reshape(c_out, -1).reshape(c_out, kh, kw, c).transpose(0, 3, 1, 2), grad_b


CONV2D_BACKWARD = Exercise(
    name="conv2d_backward",
    reference=ref_conv.conv2d_backward,
    output_names=("grad_x", "grad_w", "grad_b"),
    expected=own_pieces("conv2d_backward", ref_conv.conv2d_backward, conv2d_backward_on_own_pieces, 3),
    checks=[
        Check("grad_b", 2, lambda rng: [backward_case(rng, randn(rng, 2, 2, 4, 4), randn(rng, 3, 2, 3, 3))],
              outputs=(2,)),
        Check("grad_w (im2col's columns times grad_out)", 4,
              lambda rng: [backward_case(rng, randn(rng, 2, 3, 5, 4), randn(rng, 2, 3, 2, 3)),
                           backward_case(rng, randn(rng, 1, 2, 5, 5), randn(rng, 2, 2, 3, 3))],
              outputs=(1,)),
        Check("grad_x (col2im adds where windows overlap)", 4,
              lambda rng: [backward_case(rng, randn(rng, 1, 2, 5, 5), randn(rng, 2, 2, 3, 3)),
                           backward_case(rng, randn(rng, 2, 1, 4, 6), randn(rng, 3, 1, 2, 3))],
              outputs=(0,)),
        Check("stride, padding and dilation", 2,
              lambda rng: [backward_case(rng, randn(rng, 1, 2, 7, 6), randn(rng, 2, 2, 3, 2), stride=2, padding=1),
                           backward_case(rng, randn(rng, 1, 1, 7, 7), randn(rng, 2, 1, 2, 2), stride=2, dilation=2)]),
        Check("stride, padding and dilation as pairs", 1,
              lambda rng: [backward_case(rng, randn(rng, 1, 1, 7, 7), randn(rng, 2, 1, 2, 2),
                                         stride=(1, 2), padding=(1, 0), dilation=2)]),
        Check("groups", 3,
              lambda rng: [backward_case(rng, randn(rng, 1, 4, 4, 4), randn(rng, 4, 2, 3, 3), groups=2),
                           backward_case(rng, randn(rng, 2, 3, 3, 4), randn(rng, 3, 1, 2, 2), groups=3)]),
    ],
    misconceptions=[
        Misconception("col2im overwriting instead of adding", OVERWRITE, conv2d_backward_overwrite),
        Misconception("im2col column order not matching the weight reshape", WEIGHT_ORDER,
                      conv2d_backward_weight_kernel_major),
    ],
    regimes=conv_regimes(ref_conv.conv2d_backward) + [
        when(ref_conv.conv2d_backward, "stride < kernel span (windows overlap)", _windows_overlap)],
)


# ---------------------------------------------------------------------------
# Winograd
# ---------------------------------------------------------------------------

def winograd_f23_flipped(d, g):
    """A true convolution: the taps reversed."""
    return ref.winograd_f23(d, np.asarray(g, dtype=np.float64)[..., ::-1])


def winograd_f23_no_halves(d, g):
    """G's middle rows without the 1/2: (g0 + g1 + g2) instead of (g0 + g1 + g2) / 2."""
    d, g = np.asarray(d, dtype=np.float64), np.asarray(g, dtype=np.float64)
    g_no_halves = ref.WINOGRAD_G * np.array([1.0, 2.0, 2.0, 1.0])[:, None]
    return ((g @ g_no_halves.T) * (d @ ref.WINOGRAD_BT.T)) @ ref.WINOGRAD_AT.T


def f23_cases_one_tile(rng):
    return [Case((np.array([1.0, 2, 3, 4]), np.array([1.0, 0, -1])), note="y0 = 1 - 3 = -2, y1 = 2 - 4 = -2"),
            Case((randn(rng, 4), randn(rng, 3)))]


def f23_cases_batch(rng):
    return [Case((randn(rng, 5, 4), randn(rng, 3)), note="5 tiles, one filter"),
            Case((randn(rng, 2, 3, 4), randn(rng, 3)))]


def f23_cases_order(rng):
    return [Case((np.array([0.0, 1, 0, 0]), np.array([1.0, 2, 3])), note="an impulse: y = (g1, g0)"),
            Case((randn(rng, 3, 4), np.array([0.0, 0, 1.0]) + np.round(rng.uniform(1, 2, 3), 1) * [1, 0, 0]))]


WINOGRAD_F23 = Exercise(
    name="winograd_f23",
    reference=ref.winograd_f23,
    checks=[
        Check("one tile", 3, f23_cases_one_tile),
        Check("a batch of tiles (d of shape (..., 4))", 3, f23_cases_batch),
        Check("correlation: tap 0 meets the tile's first input", 2, f23_cases_order),
    ],
    misconceptions=[
        Misconception("filter flipped", "The filter was reversed (a true convolution): F(2, 3) here computes "
                      "y0 = d0 g0 + d1 g1 + d2 g2, as conv2d does.", winograd_f23_flipped),
        Misconception("no halves in G", "G's middle rows are (g0 + g1 + g2)/2 and (g0 - g1 + g2)/2: without "
                      "the halves the two middle products count twice.", winograd_f23_no_halves),
    ],
    regimes=[
        Regime("one tile (d of shape (4,))", lambda case: np.ndim(case.args[0]) == 1),
        Regime("a batch of tiles (d of shape (..., 4))", lambda case: np.ndim(case.args[0]) > 1),
        Regime("an asymmetric filter (g0 != g2)", lambda case: bool(np.any(case.args[1][..., 0] != case.args[1][..., 2]))),
    ],
)


def winograd_conv2d_flipped(x, w, padding=0):
    return ref.winograd_conv2d(x, np.asarray(w, dtype=np.float64)[..., ::-1, ::-1], padding)


def winograd_conv2d_even_only(x, w, padding=0):
    """Only whole 2x2 output tiles: an odd output size loses its last row or column."""
    out = ref.winograd_conv2d(x, w, padding)
    return out[:, :, :out.shape[2] // 2 * 2, :out.shape[3] // 2 * 2]


def winograd_conv2d_channels_separately(x, w, padding=0):
    """Each input channel convolved with filter channel 0: the sum over channels is missing a term."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    return ref.winograd_conv2d(x, np.broadcast_to(w[:, :1], w.shape).copy(), padding)


def winograd_conv2d_cases_even(rng):
    return [Case((np.arange(16.0).reshape(1, 1, 4, 4), np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[None, None]),
                 note="one 2x2 tile: the Sobel kernel on a ramp gives -8 everywhere"),
            Case((randn(rng, 2, 1, 6, 8), randn(rng, 1, 1, 3, 3)))]


def winograd_conv2d_cases_odd(rng):
    return [Case((randn(rng, 1, 1, 5, 5), randn(rng, 1, 1, 3, 3)), note="3x3 output: the last tile hangs over"),
            Case((randn(rng, 1, 1, 7, 6), randn(rng, 1, 1, 3, 3)))]


def winograd_conv2d_cases_padding(rng):
    return [Case((randn(rng, 1, 1, 4, 4), randn(rng, 1, 1, 3, 3)), {"padding": 1}),
            Case((randn(rng, 2, 1, 5, 4), randn(rng, 1, 1, 3, 3), 1))]


def winograd_conv2d_cases_padding_pair(rng):
    return [Case((randn(rng, 2, 1, 5, 4), randn(rng, 1, 1, 3, 3), (1, 0)), note="padding rows only")]


def winograd_conv2d_cases_channels(rng):
    return [Case((randn(rng, 1, 3, 4, 5), randn(rng, 2, 3, 3, 3))),
            Case((randn(rng, 2, 2, 6, 6), randn(rng, 3, 2, 3, 3)))]


WINOGRAD_CONV2D = Exercise(
    name="winograd_conv2d",
    reference=ref.winograd_conv2d,
    checks=[
        Check("one channel, whole 2x2 tiles", 4, winograd_conv2d_cases_even),
        Check("odd output sizes (the last tile hangs over)", 4, winograd_conv2d_cases_odd),
        Check("padding", 3, winograd_conv2d_cases_padding),
        Check("padding as a pair (pH, pW)", 1, winograd_conv2d_cases_padding_pair),
        Check("several input and output channels", 4, winograd_conv2d_cases_channels),
    ],
    misconceptions=[
        Misconception("kernel flipped", "The kernel was flipped: winograd_conv2d computes conv2d's "
                      "cross-correlation, U = G g G^T with g as given.", winograd_conv2d_flipped),
        Misconception("channels not summed", "Every input channel met filter channel 0: the sum over channels "
                      "is sum_c U[o, c] * V[c] with U of filter o's channel c.", winograd_conv2d_channels_separately),
    ],
    regimes=[
        Regime("odd output height or width",
               lambda case: any((n + 2 * p - 2) % 2 for n, p in zip(np.shape(case.args[0])[2:], _pair(
                   arguments(ref.winograd_conv2d, case)["padding"])))),
        Regime("padding > 0", lambda case: any(_pair(arguments(ref.winograd_conv2d, case)["padding"]))),
        Regime("channels C_in > 1", lambda case: np.shape(case.args[0])[1] > 1),
        Regime("C_out > 1", lambda case: np.shape(case.args[1])[0] > 1),
        Regime("batch N > 1", lambda case: np.shape(case.args[0])[0] > 1),
    ],
)


LESSON = Lesson(
    id="05_making_it_fast",
    title="Making it fast",
    exercises=[POOL_WINDOWS, MAX_POOL2D, IM2COL, COL2IM, CONV2D, CONV2D_BACKWARD, WINOGRAD_F23, WINOGRAD_CONV2D],
)
