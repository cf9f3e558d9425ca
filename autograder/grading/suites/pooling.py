"""Hidden checks of lesson 1, pooling (source/01_pooling/01_pooling.ipynb): 70 points.

What each exercise asks for is exactly what its docstring in the notebook promises:

    pool_output_size(n, kernel_size, stride=None, padding=0, ceil_mode=False)       6
    pad2d(x, padding, value=0.0)                                      a step:       2
    pooling_window(x, i, j, kernel_size, stride=None)                 a step:       2
    max_pool2d_unpadded(x, kernel_size, stride=None)                  a step:       3
    max_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False)            10
    avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True)        ceil_mode only without padding        8
    create_mask_from_window(window)                                   a step:       2
    max_pool2d_backward(grad_out, x, <max_pool2d's arguments>)                     10
    distribute_value(g, kernel_size)                                  a step:       1
    avg_pool2d_backward(grad_out, x, <avg_pool2d's arguments>)                      9
    adaptive_avg_pool2d(x, output_size), adaptive_max_pool2d(x, output_size)      5 + 5
    spatial_pyramid_pool2d(x, levels=(1, 2, 4), mode="max")                         5
    q_output_shape, q_spp_length (short answers)                                  1 + 1

No check passes dilation or divisor_override (the notebook's signatures have
neither), ceil_mode is passed by keyword (it sits after dilation in the
reference), and avg_pool2d never meets ceil_mode together with padding.

Each exercise's regime table (`regimes=`) lists the parts of its contract that
change the arithmetic: int or pair arguments, stride=None, ceil_mode's last
window overhanging by 0, 1 or >= 2 pixels or dropped, all-negative windows,
ties, bins that do not divide, .... tests/test_regimes.py proves that every
seed's cases hit each one and that tests/wrong/pooling.py holds a mistake wrong
there only, which loses points. A check's name says everything its cases need
(pairs, padding, ceil_mode, batch, channels, ...; tests/test_suite_pooling.py
enforces it), so int-only or single-image code loses only the checks that say so.

The worked examples (3x3 input 0..8, 4x4 input 0..15, the padding and the
3-channel examples) come from seed 004, the 2.5 -> 2 case from seed 002.
Inputs for max pooling are distinct integers (no ties, readable feedback)
except in the check about ties; the padding checks use negative numbers so
that zero padding cannot pass for -inf padding. A misconception is named in
feedback when its output equals the student's; the first match in list order
wins, so the more specific ones come first.
"""
import warnings

import numpy as np

from autograder.reference import pooling as ref

from ..spec import Case, Check, Exercise, Lesson, Misconception
from ..spec import regime_when as _regime

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

SEED_3X3 = np.arange(9.0).reshape(1, 1, 3, 3)                  # seed 004: 0..8
SEED_4X4 = np.arange(16.0).reshape(1, 1, 4, 4)                 # seed 004: 0..15
SEED_3_CHANNELS = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]],
                            [[10, 20, 30], [40, 50, 60], [70, 80, 90]],
                            [[11, 22, 33], [44, 55, 66], [77, 88, 99]]], dtype=float)[None]
PEAK_3X3 = np.array([[1, 2, 1], [2, 9, 2], [1, 2, 1]], dtype=float)[None, None]


def distinct(rng, shape):
    """Distinct integers centred on zero: no ties, about half of them negative."""
    size = int(np.prod(shape))
    return (rng.permutation(size) - size // 2).reshape(shape).astype(np.float64)


def negative(rng, shape):
    """Distinct negative integers: a window of them never has a maximum of 0."""
    size = int(np.prod(shape))
    return -(rng.permutation(size) + 1).reshape(shape).astype(np.float64)


def integers(rng, shape, low=-5, high=6):
    return rng.integers(low, high, size=shape).astype(np.float64)


def with_peak(rng, shape):
    """Distinct values plus one pixel larger than all: it wins every window around it."""
    x = distinct(rng, shape)
    x[..., shape[-2] // 2, shape[-1] // 2] = x.max() + 10
    return x


def grad_for(forward, x, rng, *args, **kwargs):
    """An upstream gradient of the forward output's shape: small nonzero integers."""
    shape = forward(x, *args, **kwargs).shape
    return rng.integers(1, 6, size=shape).astype(np.float64) * rng.choice([-1.0, 1.0], size=shape)


def backward_case(forward, x, rng, *args, note="", **kwargs):
    """A Case of `<forward>_backward(grad_out, x, *args, **kwargs)` with a random grad_out."""
    return Case((grad_for(forward, x, rng, *args, **kwargs), x) + args, kwargs, note)


# ---------------------------------------------------------------------------
# Windows, for the misconceptions (plain loops: they only run on small failing cases)
# ---------------------------------------------------------------------------

def _pair(value):
    return (value, value) if isinstance(value, (int, np.integer)) else tuple(value)


def _geometry(x_shape, kernel_size, stride, padding, ceil_mode, size=ref.pool_output_size):
    """kernel, stride, padding pairs and (H_out, W_out), the sizes from `size`."""
    kernel = _pair(kernel_size)
    stride, padding = (kernel if stride is None else _pair(stride)), _pair(padding)
    out = tuple(size(n, k, s, p, ceil_mode=ceil_mode)
                for n, k, s, p in zip(x_shape[2:], kernel, stride, padding))
    return kernel, stride, padding, out


def _ceil_size(n, k, s, p, ceil_mode=False):
    """The output size rounded up, without torch's drop rule."""
    return -(-(n + 2 * p - k) // s) + 1


def _window_cells(i, j, kernel, stride, padding):
    """(row, col) input coordinates of window (i, j); they may lie in the padding or beyond."""
    r0, c0 = i * stride[0] - padding[0], j * stride[1] - padding[1]
    return [(r, c) for r in range(r0, r0 + kernel[0]) for c in range(c0, c0 + kernel[1])]


def _pool_loop(x, kernel_size, stride, padding, ceil_mode, reduce, size=ref.pool_output_size,
               split=False):
    """Loop pooling: out[..., i, j] = reduce(real pixels, cells, (H, W), padding) of window i, j.

    split: move every window up/left by half (rounded down) of ceil_mode's overhang,
    as code does that splits the extra padding between both sides.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding, ceil_mode,
                                                size)
    out = np.zeros(x.shape[:2] + out_hw)
    height, width = x.shape[2:]
    shifted = tuple(p + (max((o - 1) * s + k - n - 2 * p, 0) // 2 if split else 0)
                    for n, k, s, p, o in zip(x.shape[2:], kernel, stride, padding, out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            cells = _window_cells(i, j, kernel, stride, shifted)
            real = [(r, c) for r, c in cells if 0 <= r < height and 0 <= c < width]
            rows, cols = [r for r, _ in real], [c for _, c in real]
            out[:, :, i, j] = reduce(x[:, :, rows, cols], cells, (height, width), padding)
    return out


def _max_fill(fill):
    """Max over the real pixels and, if the window reaches past them, `fill`."""
    def reduce(values, cells, hw, padding):
        best = values.max(axis=-1)
        return np.maximum(best, fill) if values.shape[-1] < len(cells) else best
    return reduce


def _mean_over(divisor):
    """Sum of the real pixels divided by divisor(cells, (H, W), padding)."""
    def reduce(values, cells, hw, padding):
        return values.sum(axis=-1) / divisor(cells, hw, padding)
    return reduce


def _count_all(cells, hw, padding):
    return len(cells)


def _count_real(cells, hw, padding):
    return sum(1 for r, c in cells if 0 <= r < hw[0] and 0 <= c < hw[1])


# ---------------------------------------------------------------------------
# Regimes: what a case's own arguments say about it (tests/test_regimes.py)
# ---------------------------------------------------------------------------

def _is_pair(value):
    return isinstance(value, (tuple, list))


def _uneven(value):
    """A pair with two different values (a non-square kernel, unequal strides)."""
    return _is_pair(value) and value[0] != value[1]


def _dims(a):
    """(n, k, s, p) of the height and of the width of a pooling call's arguments `a`."""
    kernel = _pair(a["kernel_size"])
    stride = kernel if a["stride"] is None else _pair(a["stride"])
    return list(zip(a["x"].shape[2:], kernel, stride, _pair(a["padding"])))


def _overhang(n, k, s, p, ceil_mode):
    """How many pixels the last window reaches past the padded input (<= 0: it fits)."""
    return (ref.pool_output_size(n, k, s, p, ceil_mode=ceil_mode) - 1) * s + k - (n + 2 * p)


def _dims_where(test):
    """a -> whether test(n, k, s, p, ceil_mode) holds along the height or the width."""
    return lambda a: any(test(n, k, s, p, a["ceil_mode"]) for n, k, s, p in _dims(a))


# the relations along one dimension that change the arithmetic
def _rounds_down(n, k, s, p, ceil):
    return not ceil and (n + 2 * p - k) % s != 0


def _partial(n, k, s, p, ceil):
    return ceil and _overhang(n, k, s, p, ceil) >= 1


def _overhang_2(n, k, s, p, ceil):
    return ceil and _overhang(n, k, s, p, ceil) >= 2


def _exact(n, k, s, p, ceil):
    return ceil and (n + 2 * p - k) % s == 0


def _dropped(n, k, s, p, ceil):
    return ceil and _ceil_size(n, k, s, p) != ref.pool_output_size(n, k, s, p, ceil_mode=True)


def _windows(a):
    """(N*C, pixels) values of the real pixels of every window, and whether it reaches past x."""
    x = a["x"]
    kernel, stride, padding, out = _geometry(x.shape, a["kernel_size"], a["stride"],
                                             a["padding"], a["ceil_mode"])
    height, width = x.shape[2:]
    for i, j in np.ndindex(*out):
        cells = _window_cells(i, j, kernel, stride, padding)
        real = [(r, c) for r, c in cells if 0 <= r < height and 0 <= c < width]
        values = x[:, :, [r for r, _ in real], [c for _, c in real]]
        yield values.reshape(-1, len(real)), len(real) < len(cells)


def _negative_window(a, past_edge=False):
    return any((values < 0).all(axis=1).any() for values, outside in _windows(a)
               if outside or not past_edge)


def _tied_window(a):
    return any(((values == values.max(axis=1, keepdims=True)).sum(axis=1) > 1).any()
               for values, _ in _windows(a))


def _window_regimes(function, *names, defaults=None):
    """The regimes called `names` of a sliding-window pooling function (forward or backward)."""
    table = {
        "stride=None": lambda a: a["stride"] is None,
        "kernel_size, stride or padding given as a pair":
            lambda a: any(_is_pair(a[k]) for k in ("kernel_size", "stride", "padding")),
        "non-square kernel (kH != kW)": lambda a: _uneven(a["kernel_size"]),
        "a stride pair with sH != sW": lambda a: _uneven(a["stride"]),
        "a padding pair with pH != pW": lambda a: _uneven(a["padding"]),
        "stride < kernel_size: overlapping windows":
            lambda a: any(s < k for n, k, s, p in _dims(a)),
        "stride >= 2": lambda a: any(s >= 2 for n, k, s, p in _dims(a)),
        "padding > 0": lambda a: any(p > 0 for n, k, s, p in _dims(a)),
        "padding > 0 with count_include_pad=True":
            lambda a: a["count_include_pad"] and any(p > 0 for n, k, s, p in _dims(a)),
        "padding > 0 with count_include_pad=False":
            lambda a: not a["count_include_pad"] and any(p > 0 for n, k, s, p in _dims(a)),
        "a window whose pixels are all negative": _negative_window,
        "a window reaching past the input whose pixels are all negative":
            lambda a: _negative_window(a, past_edge=True),
        "tied maxima in a window": _tied_window,
        "floor mode: a stride that does not divide, the last pixels are left out":
            _dims_where(_rounds_down),
        "ceil_mode: a partial last window overhangs by >= 1 pixel": _dims_where(_partial),
        "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)":
            _dims_where(_overhang_2),
        "ceil_mode: the stride divides, no partial window (overhang 0)": _dims_where(_exact),
        "ceil_mode: a last window that would start in the padding is dropped":
            _dims_where(_dropped),
        "channels > 1": lambda a: a["x"].shape[1] > 1,
        "batch > 1": lambda a: a["x"].shape[0] > 1,
    }
    return [_regime(function, name, table[name], defaults) for name in names]


# ---------------------------------------------------------------------------
# pool_output_size
# ---------------------------------------------------------------------------

def pool_output_size_ceil(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _ceil_size(n, kernel_size, kernel_size if stride is None else stride, padding)


def pool_output_size_padding_once(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n - padding, kernel_size, stride, padding, ceil_mode=ceil_mode)


def pool_output_size_no_plus_one(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, stride, padding, ceil_mode=ceil_mode) - 1


def pool_output_size_stride_one(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, 1 if stride is None else stride, padding,
                                ceil_mode=ceil_mode)


def pool_output_size_ceil_ignored(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.pool_output_size(n, kernel_size, stride, padding)


def pool_output_size_no_drop(n, kernel_size, stride=None, padding=0, ceil_mode=False):
    if not ceil_mode:
        return ref.pool_output_size(n, kernel_size, stride, padding)
    return _ceil_size(n, kernel_size, kernel_size if stride is None else stride, padding)


ROUNDED_UP = ("The output size was rounded up; pooling keeps only whole windows, so "
              "(n + 2*padding - kernel_size) / stride rounds down (floor) unless ceil_mode=True.")
STRIDE_ONE = ("stride=None was treated as stride 1; it means stride = kernel_size, "
              "non-overlapping windows, as in torch.")
CEIL_IGNORED = ("ceil_mode=True was ignored; it rounds the division up so that one last, "
                "partial window covers the leftover rows or columns.")


def output_size_cases_worked(rng):
    return [Case((6, 3, 2), note="(6 - 3)/2 + 1 = 2.5 rounds down to 2"),
            Case((32, 2, 2), note="32x32 with 2x2 windows, stride 2"),
            Case((3, 2, 1), note="3x3 input, 2x2 windows, stride 1"),
            # every check draws a case of its own, so answers copied from feedback do not pass
            Case((int(rng.integers(4, 40)), int(rng.integers(2, 4)), int(rng.integers(1, 4))))]


def output_size_cases_not_dividing(rng):
    cases = [Case((7, 2, 2)), Case((10, 3, 3))]
    while len(cases) < 4:
        n, k, s = int(rng.integers(6, 30)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
        if (n - k) % s:
            cases.append(Case((n, k, s)))
    return cases


def output_size_cases_padding(rng):
    return [Case((3, 2, 1, 1), note="3x3 input with padding 1"), Case((5, 3, 2, 1)),
            Case((int(rng.integers(8, 20)), 5, int(rng.integers(1, 4)), 2))]


def output_size_cases_stride_none(rng):
    return [Case((6, 2)), Case((7, 3)), Case((9, 3), {"padding": 1}),
            Case((int(rng.integers(6, 40)), int(rng.integers(2, 6))))]


def output_size_cases_ceil(rng):
    """ceil_mode cases where no window starts in the padding (torch's drop rule is idle)."""
    cases = [Case((6, 3, 2), {"ceil_mode": True}, "2.5 rounds up to 3"),
             Case((7, 2, 2), {"ceil_mode": True}), Case((6, 3, 2, 1), {"ceil_mode": True}),
             Case((7, 3, 2), {"ceil_mode": True}, "(7 - 3)/2 + 1 = 3 exactly: nothing to round")]
    while len(cases) < 6:
        n, k, s, p = (int(rng.integers(5, 25)), int(rng.integers(2, 6)), int(rng.integers(2, 4)),
                      int(rng.integers(0, 2)))
        if _ceil_size(n, k, s, p) == ref.pool_output_size(n, k, s, p, ceil_mode=True) \
                and (n + 2 * p - k) % s:
            cases.append(Case((n, k, s, p), {"ceil_mode": True}))
    return cases


def output_size_cases_ceil_drop(rng):
    return [Case((5, 2, 2, 1), {"ceil_mode": True}, "the 4th window would start in the padding"),
            Case((3, 2, 2, 1), {"ceil_mode": True}, "the 3rd window would start in the padding"),
            _ceil_drop_case(rng)]


def _ceil_drop_case(rng):
    """A random ceil_mode case whose rounded-up last window would start in the padding."""
    while True:
        k, s = int(rng.integers(2, 6)), int(rng.integers(2, 5))
        n, p = int(rng.integers(3, 30)), int(rng.integers(1, k // 2 + 1))  # torch: p <= k / 2
        if n + 2 * p >= k and _ceil_size(n, k, s, p) != ref.pool_output_size(n, k, s, p, ceil_mode=True):
            return Case((n, k, s, p), {"ceil_mode": True})


POOL_OUTPUT_SIZE = Exercise(
    name="pool_output_size",
    reference=ref.pool_output_size,
    checks=[
        Check("the worked examples", 1, output_size_cases_worked),
        Check("a stride that does not divide rounds down", 1, output_size_cases_not_dividing),
        Check("padding on both sides", 1, output_size_cases_padding),
        Check("stride=None means stride = kernel_size, with and without padding", 1,
              output_size_cases_stride_none),
        Check("ceil_mode rounds up (nothing to round when the stride divides), with and "
              "without padding", 1, output_size_cases_ceil),
        Check("ceil_mode drops a last window that would start in the padding", 1,
              output_size_cases_ceil_drop),
    ],
    regimes=[
        _regime(ref.pool_output_size, name, lambda a, test=test: test(
            a["n"], a["kernel_size"], a["kernel_size"] if a["stride"] is None else a["stride"],
            a["padding"], a["ceil_mode"]))
        for name, test in [
            ("floor mode: a stride that does not divide, the last pixels are left out",
             _rounds_down),
            ("ceil_mode: a partial last window overhangs by >= 1 pixel", _partial),
            ("ceil_mode: the stride divides, no partial window (overhang 0)", _exact),
            ("ceil_mode: a last window that would start in the padding is dropped", _dropped),
            ("padding > 0", lambda n, k, s, p, ceil: p > 0)]
    ] + [_regime(ref.pool_output_size, "stride=None", lambda a: a["stride"] is None)],
    # the first one whose output equals the student's is named in feedback: the ceil_mode
    # ones come first because their outputs can coincide with "rounded up" and "no + 1"
    misconceptions=[
        Misconception("ceil_mode ignored", CEIL_IGNORED, pool_output_size_ceil_ignored),
        Misconception("ceil_mode without drop", "With ceil_mode=True a last window that would "
                      "start in the right padding (or beyond) is dropped: if (out - 1) * stride "
                      ">= n + padding, out is one less.", pool_output_size_no_drop),
        Misconception("rounded up", ROUNDED_UP, pool_output_size_ceil),
        Misconception("padding once", "The padding was added once; it is added on both sides, "
                      "so the padded size is n + 2*padding.", pool_output_size_padding_once),
        Misconception("no + 1", "The + 1 is missing: the window at position 0 counts too, so "
                      "there is one more window than strides.", pool_output_size_no_plus_one),
        Misconception("stride None = 1", STRIDE_ONE, pool_output_size_stride_one),
    ],
)


# ---------------------------------------------------------------------------
# max_pool2d
# ---------------------------------------------------------------------------

def max_pool2d_zero_padding(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode, _max_fill(0.0))


def max_pool2d_rounded_up(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode, _max_fill(-np.inf),
                      size=_ceil_size)


def max_pool2d_rounded_up_zero_fill(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode, _max_fill(0.0), size=_ceil_size)


def max_pool2d_split_ceil(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode, _max_fill(-np.inf), split=True)


def max_pool2d_stride_one(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, 1 if stride is None else stride, padding,
                          ceil_mode=ceil_mode)


def max_pool2d_ceil_ignored(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return ref.max_pool2d(x, kernel_size, stride, padding)


def max_pool2d_across_channels(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    pooled = ref.max_pool2d(np.max(x, axis=1, keepdims=True), kernel_size, stride, padding,
                            ceil_mode=ceil_mode)
    return np.repeat(pooled, np.shape(x)[1], axis=1)


def max_pool2d_first_image(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    pooled = ref.max_pool2d(np.asarray(x)[:1], kernel_size, stride, padding, ceil_mode=ceil_mode)
    return np.repeat(pooled, np.shape(x)[0], axis=0)


SPLIT_CEIL = ("With ceil_mode the last window hangs over the end (right and bottom) only; "
              "splitting the extra padding between both sides moves every window up and left "
              "(this shows when it overhangs by 2 pixels or more).")
ZERO_PADDING = ("Max pooling padded with zeros; it pads with -inf so that padding never wins "
                "the max (this shows only when negative inputs sit next to the padding).")
CHANNELS_MIXED = ("The channels were mixed: pooling works on each channel on its own, so the "
                  "output keeps the input's channel count.")
BATCH_MIXED = "Only the first image of the batch was pooled; every image is pooled on its own."
MAX_MISCONCEPTIONS = [
    Misconception("zero padding", ZERO_PADDING, max_pool2d_zero_padding),
    Misconception("rounded up", ROUNDED_UP, max_pool2d_rounded_up),
    Misconception("rounded up, zero fill", ROUNDED_UP, max_pool2d_rounded_up_zero_fill),
    Misconception("stride None = 1", STRIDE_ONE, max_pool2d_stride_one),
    Misconception("ceil_mode ignored", CEIL_IGNORED, max_pool2d_ceil_ignored),
    Misconception("ceil padding split", SPLIT_CEIL, max_pool2d_split_ceil),
    Misconception("channels mixed", CHANNELS_MIXED, max_pool2d_across_channels),
    Misconception("first image only", BATCH_MIXED, max_pool2d_first_image),
]


def _shuffled_3x3(rng):
    """The worked 3x3 example's numbers in a random order: answers copied from it do not pass."""
    return rng.permutation(9).astype(np.float64).reshape(1, 1, 3, 3)


def max_cases_worked(rng):
    return [Case((SEED_3X3, 2), {"stride": 1}, "3x3 input 0..8"),
            Case((SEED_4X4, 2), {"stride": 2}, "4x4 input 0..15"),
            Case((SEED_3_CHANNELS, 2), {"stride": 1}, "3 channels, each pooled on its own"),
            Case((_shuffled_3x3(rng), 2), {"stride": 1}, "the 3x3 example with 0..8 shuffled")]


def max_cases_padding(rng):
    return [Case((-1 - SEED_3X3, 2), {"stride": 1, "padding": 1},
                 "3x3 input with padding 1, made negative"),
            Case((negative(rng, (1, 1, 5, 5)), 3), {"stride": 2, "padding": 1}),
            Case((distinct(rng, (1, 1, 4, 5)), 3), {"stride": 1, "padding": 1})]


def max_cases_not_dividing(rng):
    return [Case((distinct(rng, (1, 1, 6, 6)), 3), {"stride": 2}, "(6 - 3)/2 + 1 = 2.5 -> 2"),
            Case((distinct(rng, (1, 1, 5, 7)), 2), {"stride": 2}),
            Case((distinct(rng, (1, 1, 7, 8)), 3), {"stride": 3})]


def max_cases_pairs(rng):
    return [Case((distinct(rng, (1, 1, 5, 6)), (3, 2)), {"stride": (2, 1)}),
            Case((distinct(rng, (1, 1, 6, 5)), (2, 3)), {"stride": (1, 2)}),
            Case((negative(rng, (1, 1, 4, 5)), (2, 3)), {"stride": (2, 2), "padding": (1, 1)}),
            Case((negative(rng, (1, 1, 5, 4)), (3, 2)), {"stride": (2, 2), "padding": (1, 0)})]


def max_cases_batch(rng):
    return [Case((distinct(rng, (2, 3, 4, 4)), 2), {"stride": 2}),
            Case((distinct(rng, (3, 2, 5, 4)), 2), {"stride": 1})]


def max_cases_stride_none(rng):
    return [Case((distinct(rng, (1, 1, 4, 6)), 2)), Case((distinct(rng, (1, 1, 6, 6)), 3)),
            Case((distinct(rng, (1, 1, 6, 9)), 3))]


def max_cases_ceil(rng):
    """Last windows overhanging by 1 (stride 2) and by 2 (stride 3 or 4), and fitting exactly."""
    return [Case((distinct(rng, (1, 1, 5, 5)), 2), {"stride": 2, "ceil_mode": True},
                 "the last window overhangs by 1"),
            Case((negative(rng, (1, 1, 7, 7)), 3), {"stride": 3, "ceil_mode": True},
                 "the last window overhangs by 2"),
            Case((distinct(rng, (1, 1, 5, 9)), 3), {"stride": 4, "ceil_mode": True},
                 "the last windows overhang by 2"),
            Case((negative(rng, (1, 1, 7, 6)), 3), {"stride": 2, "ceil_mode": True},
                 "7 rows fit exactly; 6 columns leave a partial window")]


def max_cases_ceil_padding(rng):
    return [Case((negative(rng, (1, 1, 5, 5)), 2), {"stride": 2, "padding": 1, "ceil_mode": True},
                 "a 4th window would start in the padding: dropped"),
            Case((negative(rng, (1, 1, 6, 7)), 3), {"stride": 2, "padding": 1, "ceil_mode": True}),
            Case((distinct(rng, (1, 1, 6, 7)), 4), {"stride": 3, "padding": 1, "ceil_mode": True},
                 "the last windows overhang the padding by 2 and 1")]


def max_cases_unmodified(rng):
    return [Case((distinct(rng, (1, 1, 5, 5)), 3), {"stride": 2, "padding": 1}),
            Case((distinct(rng, (1, 1, 4, 4)), 2), {"stride": 2})]


MAX_POOL2D = Exercise(
    name="max_pool2d",
    reference=ref.max_pool2d,
    checks=[
        Check("the worked examples (3x3, 4x4, 3 channels)", 1, max_cases_worked),
        Check("padding is -inf (negative inputs next to the padding)", 2, max_cases_padding),
        Check("a stride that does not divide: the output size rounds down", 1,
              max_cases_not_dividing),
        Check("pairs (kH, kW): non-square kernel, stride and padding", 1, max_cases_pairs),
        Check("batch and channels, each pooled on its own", 1, max_cases_batch),
        Check("stride=None means stride = kernel_size", 1, max_cases_stride_none),
        Check("ceil_mode without padding: last windows overhanging by 0, 1 and 2 pixels", 1,
              max_cases_ceil),
        Check("ceil_mode with padding: a last window starting in the padding is dropped", 1,
              max_cases_ceil_padding),
        Check("the input is left unmodified (with and without padding)", 1, max_cases_unmodified,
              kind="unmodified"),
    ],
    misconceptions=MAX_MISCONCEPTIONS,
    regimes=_window_regimes(
        ref.max_pool2d, "stride=None", "kernel_size, stride or padding given as a pair",
        "non-square kernel (kH != kW)", "a stride pair with sH != sW",
        "a padding pair with pH != pW",
        "a window whose pixels are all negative",
        "a window reaching past the input whose pixels are all negative",
        "floor mode: a stride that does not divide, the last pixels are left out",
        "ceil_mode: a partial last window overhangs by >= 1 pixel",
        "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)",
        "ceil_mode: the stride divides, no partial window (overhang 0)",
        "ceil_mode: a last window that would start in the padding is dropped",
        "channels > 1", "batch > 1"),
)


# ---------------------------------------------------------------------------
# avg_pool2d
# ---------------------------------------------------------------------------

def _avg_loop(x, kernel_size, stride, padding, ceil_mode, divisor, size=ref.pool_output_size):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode, _mean_over(divisor), size)


def _count_in_padded(cells, hw, padding):
    """torch's count_include_pad divisor: the window clipped to the padded input."""
    return sum(1 for r, c in cells if -padding[0] <= r < hw[0] + padding[0]
               and -padding[1] <= c < hw[1] + padding[1])


def _torch_divisor(count_include_pad):
    return _count_in_padded if count_include_pad else _count_real


def avg_pool2d_rounded_up(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                          count_include_pad=True):
    return _avg_loop(x, kernel_size, stride, padding, ceil_mode,
                     _torch_divisor(count_include_pad), size=_ceil_size)


def avg_pool2d_rounded_up_full_divisor(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                                       count_include_pad=True):
    return _avg_loop(x, kernel_size, stride, padding, ceil_mode, _count_all, size=_ceil_size)


def avg_pool2d_partial_window_full_divisor(x, kernel_size, stride=None, padding=0,
                                           ceil_mode=False, count_include_pad=True):
    divisor = _count_all if ceil_mode else _torch_divisor(count_include_pad)
    return _avg_loop(x, kernel_size, stride, padding, ceil_mode, divisor)


def avg_pool2d_always_kernel_area(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                                  count_include_pad=True):
    return _avg_loop(x, kernel_size, stride, padding, ceil_mode, _count_all)


def avg_pool2d_always_real_count(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                                 count_include_pad=True):
    return _avg_loop(x, kernel_size, stride, padding, ceil_mode, _count_real)


def avg_pool2d_split_ceil(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                          count_include_pad=True):
    return _pool_loop(x, kernel_size, stride, padding, ceil_mode,
                      _mean_over(_torch_divisor(count_include_pad)), split=True)


def avg_pool2d_stride_one(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                          count_include_pad=True):
    return ref.avg_pool2d(x, kernel_size, 1 if stride is None else stride, padding, ceil_mode,
                          count_include_pad)


def avg_pool2d_ceil_ignored(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                            count_include_pad=True):
    return ref.avg_pool2d(x, kernel_size, stride, padding, False, count_include_pad)


def avg_pool2d_across_channels(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                               count_include_pad=True):
    pooled = ref.avg_pool2d(np.mean(x, axis=1, keepdims=True), kernel_size, stride, padding,
                            ceil_mode, count_include_pad)
    return np.repeat(pooled, np.shape(x)[1], axis=1)


KERNEL_AREA = ("The sum was always divided by the full window size; with "
               "count_include_pad=False only the real (non-padding) pixels of the window count.")
REAL_COUNT = ("The sum was always divided by the number of real pixels; with "
              "count_include_pad=True (the default) the padding zeros count too, so a border "
              "window of a 2x2 kernel is divided by 4.")
PARTIAL_WINDOW = ("With ceil_mode=True the last, partial window was divided by the full window "
                  "size; it averages only the pixels it covers.")
# Order matters (the first match is named): the rounded-up variants last, because where the
# output size happens to be the same they coincide with the divisor mistakes.
AVG_MISCONCEPTIONS = [
    Misconception("partial window", PARTIAL_WINDOW, avg_pool2d_partial_window_full_divisor),
    Misconception("kernel area", KERNEL_AREA, avg_pool2d_always_kernel_area),
    Misconception("real count", REAL_COUNT, avg_pool2d_always_real_count),
    Misconception("stride None = 1", STRIDE_ONE, avg_pool2d_stride_one),
    Misconception("ceil_mode ignored", CEIL_IGNORED, avg_pool2d_ceil_ignored),
    Misconception("ceil padding split", SPLIT_CEIL, avg_pool2d_split_ceil),
    Misconception("channels mixed", CHANNELS_MIXED, avg_pool2d_across_channels),
    Misconception("rounded up", ROUNDED_UP, avg_pool2d_rounded_up),
    Misconception("rounded up, full divisor", ROUNDED_UP, avg_pool2d_rounded_up_full_divisor),
]


def avg_cases_worked(rng):
    return [Case((SEED_3X3, 2), {"stride": 1}, "3x3 input 0..8"),
            Case((SEED_4X4, 2), {"stride": 2}, "4x4 input 0..15"),
            Case((SEED_3_CHANNELS, 2), {"stride": 1}, "3 channels, each pooled on its own"),
            Case((_shuffled_3x3(rng), 2), {"stride": 1}, "the 3x3 example with 0..8 shuffled")]


def avg_cases_not_dividing(rng):
    return [Case((integers(rng, (1, 1, 6, 6)), 3), {"stride": 2}, "(6 - 3)/2 + 1 = 2.5 -> 2"),
            Case((integers(rng, (1, 1, 5, 7)), 2), {"stride": 2})]


def avg_cases_pad_included(rng):
    return [Case((SEED_3X3, 2), {"stride": 1, "padding": 1}, "3x3 input with padding 1"),
            Case((integers(rng, (1, 1, 5, 5)), 3), {"stride": 2, "padding": 1}),
            Case((integers(rng, (1, 1, 4, 5)), 3), {"stride": 1, "padding": 1,
                                                    "count_include_pad": True})]


def avg_cases_pad_excluded(rng):
    return [Case((SEED_3X3, 2), {"stride": 1, "padding": 1, "count_include_pad": False},
                 "3x3 input with padding 1"),
            Case((integers(rng, (1, 1, 5, 5)), 3), {"stride": 2, "padding": 1,
                                                    "count_include_pad": False}),
            Case((integers(rng, (1, 1, 4, 6)), 3), {"stride": 1, "padding": 1,
                                                    "count_include_pad": False})]


def avg_cases_pairs(rng):
    return [Case((integers(rng, (1, 1, 5, 6)), (3, 2)), {"stride": (2, 1)}),
            Case((integers(rng, (1, 1, 6, 5)), (2, 3)), {"stride": (1, 2)}),
            Case((integers(rng, (1, 1, 4, 5)), (2, 3)), {"stride": (2, 2), "padding": (1, 1),
                                                         "count_include_pad": False}),
            Case((integers(rng, (1, 1, 5, 4)), (3, 2)), {"stride": (2, 2), "padding": (1, 0)})]


def avg_cases_batch(rng):
    return [Case((integers(rng, (2, 3, 4, 4)), 2), {"stride": 2}),
            Case((integers(rng, (2, 2, 6, 6)), 3), note="stride=None"),
            Case((integers(rng, (1, 1, 4, 6)), 2), note="stride=None")]


def avg_cases_ceil(rng):
    """Last windows overhanging by 1 (stride 2) and by 2 (stride 3 or 4), and fitting exactly."""
    return [Case((integers(rng, (1, 1, 5, 5)), 2), {"stride": 2, "ceil_mode": True},
                 "the last window overhangs by 1"),
            Case((integers(rng, (1, 1, 7, 7)), 3), {"stride": 3, "ceil_mode": True,
                                                    "count_include_pad": False},
                 "the last window overhangs by 2"),
            Case((integers(rng, (1, 1, 5, 9)), 3), {"stride": 4, "ceil_mode": True},
                 "the last windows overhang by 2"),
            Case((integers(rng, (1, 1, 7, 6)), 3), {"stride": 2, "ceil_mode": True},
                 "7 rows fit exactly; 6 columns leave a partial window")]


def avg_cases_unmodified(rng):
    return [Case((integers(rng, (1, 1, 5, 5)), 3), {"stride": 2, "padding": 1}),
            Case((integers(rng, (1, 1, 4, 4)), 2), {"stride": 2})]


AVG_POOL2D = Exercise(
    name="avg_pool2d",
    reference=ref.avg_pool2d,
    checks=[
        Check("the worked examples (3x3, 4x4, 3 channels)", 1, avg_cases_worked),
        Check("a stride that does not divide: the output size rounds down", 1,
              avg_cases_not_dividing),
        Check("padding counted in the average (count_include_pad=True)", 1,
              avg_cases_pad_included),
        Check("padding left out of the average (count_include_pad=False)", 1,
              avg_cases_pad_excluded),
        Check("pairs (kH, kW): non-square kernel, stride and padding (count_include_pad=False)",
              1, avg_cases_pairs),
        Check("batch and channels, stride=None", 1, avg_cases_batch),
        Check("ceil_mode without padding (either count_include_pad): last windows overhanging "
              "by 0, 1 and 2 pixels", 1, avg_cases_ceil),
        Check("the input is left unmodified (with and without padding)", 1, avg_cases_unmodified,
              kind="unmodified"),
    ],
    misconceptions=AVG_MISCONCEPTIONS,
    regimes=_window_regimes(
        ref.avg_pool2d, "stride=None", "kernel_size, stride or padding given as a pair",
        "non-square kernel (kH != kW)", "a stride pair with sH != sW",
        "a padding pair with pH != pW",
        "padding > 0 with count_include_pad=True", "padding > 0 with count_include_pad=False",
        "floor mode: a stride that does not divide, the last pixels are left out",
        "ceil_mode: a partial last window overhangs by >= 1 pixel",
        "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)",
        "ceil_mode: the stride divides, no partial window (overhang 0)",
        "channels > 1", "batch > 1"),
)


# ---------------------------------------------------------------------------
# max_pool2d_backward
# ---------------------------------------------------------------------------

def _max_backward_loop(grad_out, x, kernel_size, stride, padding, ceil_mode, route="first",
                       assign="add", backward_stride=None, padding_shift=True):
    """Loop gradient of max pooling with a switch for every known mistake.

    route:  which pixels of a window get its gradient: "first" or "last" of the tied
            maxima, "ties" all of them, "window" every pixel of the window
    assign: "add" accumulates (right); "cell" overwrites the chosen pixels' entries;
            "window" overwrites the whole window with mask * g (CS231n-style slicing)
    backward_stride: windows placed with this stride instead of the forward's
    padding_shift:   False leaves positions in padded coordinates (off by `padding`)
    """
    x = np.asarray(x, dtype=np.float64)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding, ceil_mode)
    place = stride if backward_stride is None else _pair(backward_stride)
    offset = (0, 0) if padding_shift else padding
    height, width = x.shape[2:]
    grad_x = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*x.shape[:2], *out_hw):
        cells = [(r, q) for r, q in _window_cells(i, j, kernel, place, padding)
                 if 0 <= r < height and 0 <= q < width]
        values = [x[n, c, r, q] for r, q in cells]
        tied = [cell for cell, v in zip(cells, values) if v == max(values)]
        chosen = {"first": tied[:1], "last": tied[-1:], "ties": tied, "window": cells}[route]
        g = grad_out[n, c, i, j]
        for r, q in (cells if assign == "window" else chosen):
            target = (n, c, r + offset[0], q + offset[1])
            if not (target[2] < height and target[3] < width):
                continue  # a shifted position fell off the edge
            if assign == "add":
                grad_x[target] += g
            else:
                grad_x[target] = g if (r, q) in chosen else 0.0
    return grad_x


def _offset_assign(x, padding, out_hw, kernel, stride, value_at):
    """The vectorised overwrite: `grad_xp[window slice] = value_at(k, current)` per offset k.

    Offsets are visited in row-major order on a zero array of the padded input's
    shape (with room for ceil_mode's overhang); returns the crop to x's shape.
    """
    height, width = x.shape[2:]
    grad_xp = np.zeros(x.shape[:2] + (height + 2 * padding[0] + 2 * kernel[0],
                                      width + 2 * padding[1] + 2 * kernel[1]))
    for a in range(kernel[0]):
        for b in range(kernel[1]):
            view = (Ellipsis, slice(a, a + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
                    slice(b, b + stride[1] * (out_hw[1] - 1) + 1, stride[1]))
            grad_xp[view] = value_at(a * kernel[1] + b, grad_xp[view])
    return grad_xp[:, :, padding[0]:padding[0] + height, padding[1]:padding[1] + width]


def _max_backward_offset_overwrite(keep_others):
    """Max pooling's gradient assigned (=) through each offset's slice instead of added."""
    def variant(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
        x = np.asarray(x, dtype=np.float64)
        geometry = _geometry(x.shape, kernel_size, stride, padding, ceil_mode)
        winner = _first_max_offsets(x, kernel_size, stride, padding, ceil_mode)
        kernel, stride_, padding_, out_hw = geometry
        return _offset_assign(x, padding_, out_hw, kernel, stride_, lambda k, current: np.where(
            winner == k, grad_out, current if keep_others else 0.0))
    return variant


def _first_max_offsets(x, kernel_size, stride, padding, ceil_mode):
    """(N, C, H_out, W_out) offset a * kW + b of each window's first maximum."""
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding, ceil_mode)
    winner = np.zeros(x.shape[:2] + out_hw, dtype=int)
    height, width = x.shape[2:]
    for n, c, i, j in np.ndindex(*winner.shape):
        best = -np.inf
        for k, (r, q) in enumerate(_window_cells(i, j, kernel, stride, padding)):
            if 0 <= r < height and 0 <= q < width and x[n, c, r, q] > best:
                best, winner[n, c, i, j] = x[n, c, r, q], k
    return winner


def _max_backward_variant(**switches):
    def variant(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False):
        return _max_backward_loop(grad_out, x, kernel_size, stride, padding, ceil_mode, **switches)
    return variant


def _max_backward_stride_ignored(grad_out, x, kernel_size, stride=None, padding=0,
                                 ceil_mode=False):
    return _max_backward_loop(grad_out, x, kernel_size, stride, padding, ceil_mode,
                              backward_stride=1)


OVERWRITTEN = ("Where windows overlap, a later window's gradient overwrote an earlier one's; "
               "a pixel that is the max of several windows must receive the sum (use +=).")
MAX_BACKWARD = Exercise(
    name="max_pool2d_backward",
    reference=ref.max_pool2d_backward,
    output_names=("grad_x",),
    checks=[
        Check("the 4x4 example: each window's gradient goes to its maximum", 1,
              lambda rng: [Case((np.array([[1.0, 2.0], [3.0, 4.0]])[None, None], SEED_4X4, 2),
                                {"stride": 2}, "4x4 input 0..15"),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 4, 4)), rng, 2,
                                         stride=2),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 6, 6)), rng, 3,
                                         stride=3)]),
        Check("overlapping windows add up at a shared maximum", 2,
              lambda rng: [Case((np.array([[1.0, 2.0], [3.0, 4.0]])[None, None], PEAK_3X3, 2),
                                {"stride": 1}, "the 9 is the max of all four windows"),
                           backward_case(ref.max_pool2d, with_peak(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=1),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 7, 7)), rng, 3,
                                         stride=2)]),
        Check("padding and negative inputs", 1,
              lambda rng: [backward_case(ref.max_pool2d, negative(rng, (1, 1, 4, 4)), rng, 3,
                                         stride=1, padding=1),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 5, 5)), rng, 2,
                                         stride=2, padding=1)]),
        Check("a stride that does not divide: pixels outside every window get zero", 1,
              lambda rng: [backward_case(ref.max_pool2d, distinct(rng, (1, 1, 5, 5)), rng, 2,
                                         stride=2),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 6, 7)), rng, 3,
                                         stride=2),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 7, 7)), rng, 2,
                                         stride=3, note="stride > kernel: gaps between windows")]),
        Check("ties: only the first maximum (row-major) gets the gradient", 1,
              lambda rng: [Case((np.ones((1, 1, 2, 2)), np.zeros((1, 1, 4, 4)), 2),
                                {"stride": 2}, "every value is 0"),
                           backward_case(ref.max_pool2d, integers(rng, (1, 1, 5, 5), 0, 2), rng,
                                         3, stride=1),
                           backward_case(ref.max_pool2d, integers(rng, (1, 1, 4, 6), 0, 2), rng,
                                         2, stride=2)]),
        Check("pairs (kH, kW): non-square windows and strides, batch and channels", 1,
              lambda rng: [backward_case(ref.max_pool2d, distinct(rng, (2, 3, 4, 6)), rng,
                                         (2, 3), stride=(2, 1)),
                           backward_case(ref.max_pool2d, distinct(rng, (2, 1, 6, 5)), rng,
                                         (3, 2), stride=(3, 1))]),
        Check("stride=None means stride = kernel_size", 1,
              lambda rng: [backward_case(ref.max_pool2d, distinct(rng, (1, 1, 4, 6)), rng, 2),
                           backward_case(ref.max_pool2d, distinct(rng, (1, 1, 6, 6)), rng, 3)]),
        Check("ceil_mode, with and without padding: last windows overhanging by 1 and 2 pixels",
              1, lambda rng: [
                  backward_case(ref.max_pool2d, negative(rng, (1, 1, 5, 5)), rng, 2, stride=2,
                                ceil_mode=True, note="the last window overhangs by 1"),
                  backward_case(ref.max_pool2d, distinct(rng, (1, 1, 7, 5)), rng, 3, stride=3,
                                ceil_mode=True, note="the last windows overhang by 2 and 1"),
                  backward_case(ref.max_pool2d, distinct(rng, (1, 1, 6, 7)), rng, 3, stride=2,
                                padding=1, ceil_mode=True),
                  backward_case(ref.max_pool2d, negative(rng, (1, 1, 6, 7)), rng, 4, stride=3,
                                padding=1, ceil_mode=True,
                                note="the last windows overhang the padding by 2 and 1")]),
        Check("the inputs are left unmodified (with padding)", 1,
              lambda rng: [backward_case(ref.max_pool2d, distinct(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=1, padding=1)], kind="unmodified"),
    ],
    regimes=_window_regimes(
        ref.max_pool2d_backward, "stride=None", "kernel_size, stride or padding given as a pair",
        "a stride pair with sH != sW", "stride < kernel_size: overlapping windows",
        "padding > 0", "tied maxima in a window", "a window whose pixels are all negative",
        "ceil_mode: a partial last window overhangs by >= 1 pixel",
        "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)", "batch > 1"),
    misconceptions=[
        Misconception("overwritten (cell)", OVERWRITTEN, _max_backward_variant(assign="cell")),
        Misconception("overwritten (window slice)", OVERWRITTEN,
                      _max_backward_variant(assign="window")),
        Misconception("overwritten (offset slice)", OVERWRITTEN,
                      _max_backward_offset_overwrite(keep_others=False)),
        Misconception("overwritten (offset slice, winners only)", OVERWRITTEN,
                      _max_backward_offset_overwrite(keep_others=True)),
        Misconception("every tied max", "The gradient went to every tied maximum of a window; "
                      "only the first one (in row-major order) gets it, as in torch, so that "
                      "the window passes on exactly its own gradient.",
                      _max_backward_variant(route="ties")),
        Misconception("last tied max", "The gradient went to the last of tied maxima; the "
                      "first one in row-major order gets it (a scan that replaces the running "
                      "max only on a strictly larger value, or np.argmax).",
                      _max_backward_variant(route="last")),
        Misconception("whole window", "The gradient was copied to every pixel of the window; "
                      "max pooling sends it only to the pixel that won the max.",
                      _max_backward_variant(route="window")),
        Misconception("stride ignored", "The backward pass ignored the stride: window (i, j) "
                      "starts at row i * stride and column j * stride of the padded input, as in "
                      "the forward pass.", _max_backward_stride_ignored),
        Misconception("padding offset", "Gradients landed `padding` pixels off: a position in "
                      "the padded input is `padding` more than the same position in x, so crop "
                      "the padding off before returning.",
                      _max_backward_variant(padding_shift=False)),
    ],
)


# ---------------------------------------------------------------------------
# avg_pool2d_backward
# ---------------------------------------------------------------------------

def _avg_backward_loop(grad_out, x, kernel_size, stride, padding, ceil_mode, count_include_pad,
                       divisor=None, copy=False, overwrite=False, backward_stride=None):
    """Loop gradient of average pooling with switches for the known mistakes."""
    x = np.asarray(x, dtype=np.float64)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding, ceil_mode)
    place = stride if backward_stride is None else _pair(backward_stride)
    divisor = divisor or _torch_divisor(count_include_pad)
    height, width = x.shape[2:]
    grad_x = np.zeros_like(x)
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            cells = _window_cells(i, j, kernel, place, padding)
            share = grad_out[:, :, i, j] if copy else \
                grad_out[:, :, i, j] / divisor(cells, (height, width), padding)
            for r, q in cells:
                if 0 <= r < height and 0 <= q < width:
                    if overwrite:
                        grad_x[:, :, r, q] = share
                    else:
                        grad_x[:, :, r, q] += share
    return grad_x


def _avg_backward_offset_overwrite(grad_out, x, kernel_size, stride=None, padding=0,
                                   ceil_mode=False, count_include_pad=True):
    """Average pooling's shares assigned (=) through each offset's slice instead of added."""
    x = np.asarray(x, dtype=np.float64)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding, ceil_mode)
    divisor = np.array([[_torch_divisor(count_include_pad)(
        _window_cells(i, j, kernel, stride, padding), x.shape[2:], padding)
        for j in range(out_hw[1])] for i in range(out_hw[0])])
    share = np.asarray(grad_out, dtype=np.float64) / divisor
    return _offset_assign(x, padding, out_hw, kernel, stride, lambda k, current: share)


def _avg_backward_variant(**switches):
    def variant(grad_out, x, kernel_size, stride=None, padding=0, ceil_mode=False,
                count_include_pad=True):
        return _avg_backward_loop(grad_out, x, kernel_size, stride, padding, ceil_mode,
                                  count_include_pad, **switches)
    return variant


AVG_OVERWRITTEN = ("Where windows overlap, a later window's share overwrote an earlier one's; a "
                   "pixel in several windows must receive the sum of their shares (use +=).")
COPIED = ("The gradient was copied to every pixel of the window; average pooling shares it, "
          "so each pixel gets grad / (window size) and the total gradient is preserved.")
AVG_BACKWARD = Exercise(
    name="avg_pool2d_backward",
    reference=ref.avg_pool2d_backward,
    output_names=("grad_x",),
    checks=[
        Check("the 4x4 example: each window shares its gradient equally", 1,
              lambda rng: [Case((np.ones((1, 1, 2, 2)), SEED_4X4, 2), {"stride": 2},
                                "4x4 input 0..15"),
                           Case((np.array([[1.0, 2.0], [3.0, 4.0]])[None, None], SEED_4X4, 2),
                                {"stride": 2}),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 6, 6)), rng, 3,
                                         stride=3)]),
        Check("overlapping windows add up", 2,
              lambda rng: [Case((np.ones((1, 1, 2, 2)), SEED_3X3, 2), {"stride": 1},
                                "3x3 input 0..8"),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=1),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 7, 7)), rng, 3,
                                         stride=2)]),
        Check("padding counted in the average (count_include_pad=True)", 1,
              lambda rng: [backward_case(ref.avg_pool2d, SEED_3X3, rng, 2, stride=1, padding=1),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=2, padding=1)]),
        Check("padding left out of the average (count_include_pad=False)", 1,
              lambda rng: [backward_case(ref.avg_pool2d, SEED_3X3, rng, 2, stride=1, padding=1,
                                         count_include_pad=False),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=2, padding=1, count_include_pad=False)]),
        Check("pairs (kH, kW): non-square windows and strides, batch and channels", 1,
              lambda rng: [backward_case(ref.avg_pool2d, integers(rng, (2, 3, 5, 6)), rng,
                                         (2, 3), stride=(2, 1)),
                           backward_case(ref.avg_pool2d, integers(rng, (2, 1, 6, 5)), rng,
                                         (3, 2), stride=(3, 2))]),
        Check("stride=None means stride = kernel_size", 1,
              lambda rng: [backward_case(ref.avg_pool2d, integers(rng, (1, 1, 4, 6)), rng, 2),
                           backward_case(ref.avg_pool2d, integers(rng, (1, 1, 6, 6)), rng, 3)]),
        Check("ceil_mode without padding (either count_include_pad): last windows overhanging "
              "by 1 and 2 pixels", 1, lambda rng: [
                  backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 5)), rng, 2, stride=2,
                                ceil_mode=True, note="the last window overhangs by 1"),
                  backward_case(ref.avg_pool2d, integers(rng, (1, 1, 7, 5)), rng, 3, stride=3,
                                ceil_mode=True, note="the last windows overhang by 2 and 1"),
                  backward_case(ref.avg_pool2d, integers(rng, (1, 1, 6, 7)), rng, 3, stride=2,
                                ceil_mode=True, count_include_pad=False),
                  backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 9)), rng, 3, stride=4,
                                ceil_mode=True, note="stride > kernel; overhangs of 2")]),
        Check("the inputs are left unmodified (with padding)", 1,
              lambda rng: [backward_case(ref.avg_pool2d, integers(rng, (1, 1, 5, 5)), rng, 3,
                                         stride=1, padding=1)], kind="unmodified"),
    ],
    regimes=_window_regimes(
        ref.avg_pool2d_backward, "stride=None", "kernel_size, stride or padding given as a pair",
        "a stride pair with sH != sW", "stride < kernel_size: overlapping windows",
        "stride >= 2", "padding > 0 with count_include_pad=True",
        "padding > 0 with count_include_pad=False",
        "ceil_mode: a partial last window overhangs by >= 1 pixel",
        "ceil_mode: the last window overhangs by >= 2 pixels (stride >= 3)", "channels > 1"),
    misconceptions=[
        Misconception("copied", COPIED, _avg_backward_variant(copy=True)),
        Misconception("overwritten", AVG_OVERWRITTEN, _avg_backward_variant(overwrite=True)),
        Misconception("overwritten (offset slice)", AVG_OVERWRITTEN,
                      _avg_backward_offset_overwrite),
        Misconception("kernel area", KERNEL_AREA, _avg_backward_variant(divisor=_count_all)),
        Misconception("real count", REAL_COUNT, _avg_backward_variant(divisor=_count_real)),
        Misconception("stride ignored", "The backward pass ignored the stride: window (i, j) "
                      "starts at row i * stride and column j * stride of the padded input, as in "
                      "the forward pass.", _avg_backward_variant(backward_stride=1)),
    ],
)


# ---------------------------------------------------------------------------
# Adaptive pooling
# ---------------------------------------------------------------------------

def _bins_floor(n, out):
    """Bin ends rounded down: bins never overlap and some are too short."""
    i = np.arange(out)
    return (i * n) // out, ((i + 1) * n) // out


def _bins_spp_paper(n, out):
    """The SPP paper's window ceil(n/out) and stride floor(n/out)."""
    window, stride = ref.spp_window_stride(n, out)
    start = np.arange(out) * stride
    return start, start + window


def _adaptive_loop(x, output_size, bins, reduce):
    x = np.asarray(x, dtype=np.float64)
    out_hw = _pair(output_size)
    (r0, r1), (c0, c1) = bins(x.shape[2], out_hw[0]), bins(x.shape[3], out_hw[1])
    out = np.zeros(x.shape[:2] + out_hw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # floor bins can be empty: nan, quietly
        for i in range(out_hw[0]):
            for j in range(out_hw[1]):
                out[:, :, i, j] = reduce(x[:, :, r0[i]:r1[i], c0[j]:c1[j]], axis=(2, 3))
    return out


def _adaptive_variant(bins, reduce):
    def variant(x, output_size):
        return _adaptive_loop(x, output_size, bins, reduce)
    return variant


FLOOR_BINS = ("The bin ends were rounded down; bin i runs from floor(i*a/n) to "
              "ceil((i+1)*a/n), so neighbouring bins may share a pixel and none is too short.")
PAPER_BINS = ("These are the SPP paper's windows (size ceil(a/n), stride floor(a/n)), which can "
              "leave the last pixels out; adaptive pooling's bin i runs from floor(i*a/n) to "
              "ceil((i+1)*a/n).")


def adaptive_checks():
    """The checks shared by adaptive average and max pooling."""
    return [
        Check("global pooling (output_size=1), batch and channels", 1,
              lambda rng: [Case((distinct(rng, (1, 2, 3, 3)), 1)),
                           Case((distinct(rng, (2, 1, 4, 5)), 1))]),
        Check("bins that divide the input evenly", 1,
              lambda rng: [Case((SEED_4X4, 2), note="4x4 input 0..15"),
                           Case((distinct(rng, (1, 1, 6, 6)), 3)),
                           Case((distinct(rng, (1, 1, 4, 6)), 2))]),
        Check("bins that do not divide: floor(i*a/n) to ceil((i+1)*a/n)", 1,
              lambda rng: [Case((distinct(rng, (1, 1, 5, 5)), 3)),
                           Case((distinct(rng, (1, 1, 10, 10)), 4), note="a = 10, n = 4"),
                           Case((distinct(rng, (1, 1, 13, 13)), 2), note="a = 13, n = 2")]),
        Check("a pair output_size, non-square input, batch and channels", 1,
              lambda rng: [Case((distinct(rng, (2, 2, 5, 7)), (2, 3))),
                           Case((distinct(rng, (1, 2, 7, 4)), (3, 3)))]),
        Check("an output larger than the input: bins share pixels", 1,
              lambda rng: [Case((distinct(rng, (1, 1, 2, 3)), 4), note="a = 2 and 3, n = 4"),
                           Case((distinct(rng, (1, 1, 3, 3)), 5))]),
    ]


def _adaptive_regimes(function):
    def sizes(a):
        """(input size, output size) of the height and of the width."""
        return list(zip(a["x"].shape[2:], _pair(a["output_size"])))
    return [_regime(function, name, test) for name, test in [
        ("output_size an int", lambda a: not _is_pair(a["output_size"])),
        ("a pair output_size with H_out != W_out", lambda a: _uneven(a["output_size"])),
        ("non-square input (H != W)", lambda a: a["x"].shape[2] != a["x"].shape[3]),
        ("bins that do not divide the input: a % n != 0",
         lambda a: any(size % out for size, out in sizes(a))),
        ("an output larger than the input (n > a)",
         lambda a: any(out > size for size, out in sizes(a))),
    ]]


def _adaptive_exercise(name, reference, reduce):
    return Exercise(
        name=name,
        reference=reference,
        checks=adaptive_checks(),
        regimes=_adaptive_regimes(reference),
        misconceptions=[
            Misconception("floor bins", FLOOR_BINS, _adaptive_variant(_bins_floor, reduce)),
            Misconception("paper bins", PAPER_BINS, _adaptive_variant(_bins_spp_paper, reduce)),
        ],
    )


ADAPTIVE_AVG = _adaptive_exercise("adaptive_avg_pool2d", ref.adaptive_avg_pool2d, np.mean)
ADAPTIVE_MAX = _adaptive_exercise("adaptive_max_pool2d", ref.adaptive_max_pool2d, np.max)


# ---------------------------------------------------------------------------
# Spatial pyramid pooling
# ---------------------------------------------------------------------------

ADAPTIVE_BY_MODE = {"max": ("adaptive_max_pool2d", ref.adaptive_max_pool2d),
                    "avg": ("adaptive_avg_pool2d", ref.adaptive_avg_pool2d)}


def spp_expected(case, student):
    """The pyramid built from the student's own adaptive pooling, so a bug there costs once.

    A level the student's adaptive function cannot produce (it raises, or returns
    the wrong shape) falls back to the reference for that level.
    """
    x = case.args[0]
    levels = case.kwargs.get("levels", (1, 2, 4))
    name, reference = ADAPTIVE_BY_MODE[case.kwargs.get("mode", "max")]
    parts = []
    for level in levels:
        pooled = reference(x, level)
        try:
            own = student(name, x, level)
        except RuntimeError:
            own = None
        if own is not None and own.shape == pooled.shape:
            pooled = own
        parts.append(pooled.reshape(x.shape[0], -1))
    return [np.concatenate(parts, axis=1)]


def spp_channels_last(x, levels=(1, 2, 4), mode="max"):
    pool = ADAPTIVE_BY_MODE[mode][1]
    return np.concatenate([pool(x, level).transpose(0, 2, 3, 1).reshape(len(x), -1)
                           for level in levels], axis=1)


def spp_mode_ignored(x, levels=(1, 2, 4), mode="max"):
    return ref.spatial_pyramid_pool2d(x, levels, "max")


def spp_paper_bins(x, levels=(1, 2, 4), mode="max"):
    reduce = np.max if mode == "max" else np.mean
    pool = _adaptive_variant(_bins_spp_paper, reduce)
    return np.concatenate([pool(x, level).reshape(len(x), -1) for level in levels], axis=1)


SPP = Exercise(
    name="spatial_pyramid_pool2d",
    reference=ref.spatial_pyramid_pool2d,
    expected=spp_expected,
    checks=[
        Check("the same length C * 21 for 13x13, 10x10 and 7x9 inputs with 1 to 3 channels", 2,
              lambda rng: [Case((distinct(rng, (1, 1, 13, 13)),), note="13x13"),
                           Case((distinct(rng, (1, 2, 10, 10)),), note="10x10"),
                           Case((distinct(rng, (1, 3, 7, 9)),))], kind="shape"),
        Check("values: levels (1, 2, 4) in order, each flattened channel by channel", 1,
              lambda rng: [Case((distinct(rng, (1, 2, 8, 8)),)),
                           Case((distinct(rng, (1, 2, 10, 10)),), note="a = 10, n = 4")]),
        Check("mode='avg' and other levels", 1,
              lambda rng: [Case((integers(rng, (1, 1, 6, 6)),), {"levels": (1, 3), "mode": "avg"}),
                           Case((distinct(rng, (1, 1, 5, 7)),), {"levels": (2, 1), "mode": "max"}),
                           Case((integers(rng, (1, 1, 9, 9)),), {"levels": (1, 2, 4),
                                                                 "mode": "avg"})]),
        Check("a batch of several images with 2 channels", 1,
              lambda rng: [Case((distinct(rng, (3, 2, 6, 5)),)),
                           Case((integers(rng, (2, 2, 4, 4)),))]),
    ],
    regimes=[_regime(ref.spatial_pyramid_pool2d, name, test) for name, test in [
        ("mode='avg'", lambda a: a["mode"] == "avg"),
        ("levels other than (1, 2, 4)", lambda a: tuple(a["levels"]) != (1, 2, 4)),
        ("channels > 1", lambda a: a["x"].shape[1] > 1),
        ("batch > 1", lambda a: a["x"].shape[0] > 1),
        ("a level that does not divide the input",
         lambda a: any(size % level for level in a["levels"] for size in a["x"].shape[2:])),
    ]],
    misconceptions=[
        Misconception("channels last", "Each level was flattened in (height, width, channel) "
                      "order; flatten the pooled (N, C, l, l) array as it is, channel by "
                      "channel, as torch's .flatten(1) does.", spp_channels_last),
        Misconception("mode ignored", "mode='avg' was ignored: it asks for adaptive average "
                      "pooling at every level.", spp_mode_ignored),
        Misconception("paper bins", PAPER_BINS, spp_paper_bins),
    ],
)


# ---------------------------------------------------------------------------
# The small steps before max_pool2d and the backward passes (issue 15)
# ---------------------------------------------------------------------------
# pad2d -> pooling_window -> max_pool2d_unpadded -> max_pool2d, and
# create_mask_from_window -> max_pool2d_backward, distribute_value -> avg_pool2d_backward,
# as deeplearning.ai's "Convolution model step by step" climbs to pool_forward/pool_backward.

def pad2d_every_axis(x, padding, value=0.0):
    return np.pad(np.asarray(x, dtype=np.float64), padding, constant_values=value)


def pad2d_value_ignored(x, padding, value=0.0):
    return ref.pad2d(x, padding)


def pad2d_one_side(x, padding, value=0.0):
    ph, pw = _pair(padding)
    return np.pad(np.asarray(x, dtype=np.float64), ((0, 0), (0, 0), (0, 2 * ph), (0, 2 * pw)),
                  constant_values=value)


def pad_cases_int(rng):
    return [Case((SEED_3X3, 1), note="the 3x3 example with zero padding 1"),
            Case((-1 - SEED_3X3, 1), {"value": -np.inf}, "-inf padding, as max pooling pads"),
            Case((distinct(rng, (1, 1, 3, 4)), 2), {"value": -np.inf}),
            Case((distinct(rng, (1, 1, int(rng.integers(2, 5)), int(rng.integers(2, 5)))),
                  int(rng.integers(1, 3))), {"value": float(rng.choice([0.0, -np.inf, 5.0]))})]


def pad_cases_pairs(rng):
    return [Case((distinct(rng, (2, 3, 3, 3)), (1, 2)), note="a batch of 2 images, 3 channels"),
            Case((distinct(rng, (1, 2, 2, 3)), (0, 1)), {"value": -np.inf}),
            Case((distinct(rng, (3, 1, 2, 2)), (2, 2)), {"value": 7.0}),
            Case((distinct(rng, (2, 2, 3, 2)), (int(rng.integers(1, 3)), int(rng.integers(0, 2)))),
                 {"value": float(rng.choice([0.0, -np.inf]))})]


PAD2D = Exercise(
    name="pad2d",
    reference=ref.pad2d,
    checks=[
        Check("int padding of one image, with zeros, -inf and another value", 1, pad_cases_int),
        Check("padding given as a pair (pH, pW), a batch with several channels", 1,
              pad_cases_pairs),
    ],
    regimes=[_regime(ref.pad2d, name, test) for name, test in [
        ("padding given as a pair", lambda a: _is_pair(a["padding"])),
        ("a padding pair with pH != pW", lambda a: _uneven(a["padding"])),
        ("value other than 0 (e.g. -inf)", lambda a: a["value"] != 0),
        ("channels > 1", lambda a: a["x"].shape[1] > 1),
        ("batch > 1", lambda a: a["x"].shape[0] > 1),
    ]],
    misconceptions=[
        Misconception("every axis padded", "np.pad(x, padding) padded every axis, the batch and "
                      "channel axes too; pad only the last two, np.pad(x, ((0, 0), (0, 0), "
                      "(pH, pH), (pW, pW)), constant_values=value).", pad2d_every_axis),
        Misconception("value ignored", "The padding was filled with zeros whatever `value` "
                      "said; max pooling pads with value=-inf.", pad2d_value_ignored),
        Misconception("one side", "The padding went on one side only; it goes on both sides, "
                      "top and bottom, left and right.", pad2d_one_side),
    ],
)


def pooling_window_no_stride(x, i, j, kernel_size, stride=None):
    kh, kw = _pair(kernel_size)
    return np.array(np.asarray(x, dtype=np.float64)[:, :, i:i + kh, j:j + kw])


def window_cases_int(rng):
    x = distinct(rng, (1, 1, 7, 7))
    return [Case((SEED_4X4, 1, 1, 2), {"stride": 2}, "4x4 input 0..15, window (1, 1)"),
            Case((SEED_3X3, 0, 1, 2), {"stride": 1}, "3x3 input 0..8, overlapping windows"),
            Case((x, 1, 2, 3), {"stride": 2}),
            Case((x, int(rng.integers(0, 3)), int(rng.integers(0, 3)), 3), {"stride": 2})]


def window_cases_pairs(rng):
    return [Case((distinct(rng, (1, 1, 6, 7)), 1, 1, (3, 2)), {"stride": (2, 3)}),
            Case((distinct(rng, (2, 3, 4, 6)), 1, 2, 2), {"stride": None},
                 "stride=None: windows side by side"),
            Case((distinct(rng, (1, 2, 6, 6)), 2, 1, (2, 3)), {"stride": None}),
            Case((distinct(rng, (2, 1, 5, 7)), int(rng.integers(0, 2)), int(rng.integers(0, 3)),
                  (2, 3)), {"stride": (3, 2)})]


def _window_start(a):
    kernel = _pair(a["kernel_size"])
    stride = kernel if a["stride"] is None else _pair(a["stride"])
    return a["i"] * stride[0], a["j"] * stride[1], kernel, stride


POOLING_WINDOW = Exercise(
    name="pooling_window",
    reference=ref.pooling_window,
    checks=[
        Check("int kernel_size and stride, one image", 1, window_cases_int),
        Check("pairs (kH, kW) and (sH, sW), stride=None, a batch with channels", 1,
              window_cases_pairs),
    ],
    regimes=[_regime(ref.pooling_window, name, test) for name, test in [
        ("stride=None", lambda a: a["stride"] is None),
        ("kernel_size or stride given as a pair",
         lambda a: _is_pair(a["kernel_size"]) or _is_pair(a["stride"])),
        ("non-square kernel (kH != kW)", lambda a: _uneven(a["kernel_size"])),
        ("sH != sW (a stride pair, or stride=None with a non-square kernel)",
         lambda a: _window_start(a)[3][0] != _window_start(a)[3][1]),
        ("a window away from the top left with stride >= 2",
         lambda a: any(start > index for start, index in zip(_window_start(a)[:2],
                                                             (a["i"], a["j"])))),
        ("i != j", lambda a: a["i"] != a["j"]),
        ("channels > 1", lambda a: a["x"].shape[1] > 1),
        ("batch > 1", lambda a: a["x"].shape[0] > 1),
    ]],
    misconceptions=[
        Misconception("stride ignored", "The window started at row i and column j; window "
                      "(i, j) starts at row i * stride and column j * stride.",
                      pooling_window_no_stride),
    ],
)


def max_unpadded_from_zero(x, kernel_size, stride=None):
    return np.maximum(ref.max_pool2d(x, kernel_size, stride), 0.0)


FROM_ZERO = ("The running maximum started from 0, so a window of negative numbers came out as "
             "0; start from -inf (np.full(..., -np.inf)) or from the window's first pixel.")


def unpadded_cases_worked(rng):
    return [Case((SEED_3X3, 2), {"stride": 1}, "3x3 input 0..8"),
            Case((SEED_4X4, 2), {"stride": 2}, "4x4 input 0..15"),
            Case((_shuffled_3x3(rng), 2), {"stride": 1}, "the 3x3 example with 0..8 shuffled"),
            Case((negative(rng, (1, 1, 5, 5)), 3), {"stride": 2}, "all pixels negative")]


def unpadded_cases_not_dividing(rng):
    return [Case((distinct(rng, (1, 1, 6, 6)), 3), {"stride": 2}, "(6 - 3)/2 + 1 = 2.5 -> 2"),
            Case((distinct(rng, (1, 1, 5, 7)), 2), {"stride": 2}),
            Case((negative(rng, (1, 1, 7, 8)), 3), {"stride": 3})]


def unpadded_cases_pairs(rng):
    return [Case((distinct(rng, (1, 1, 5, 6)), (3, 2)), {"stride": (2, 1)}),
            Case((distinct(rng, (2, 3, 4, 4)), 2), {"stride": None}),
            Case((distinct(rng, (1, 2, 6, 6)), 3), {"stride": None}),
            Case((distinct(rng, (3, 1, 6, 5)), (2, 3)), {"stride": (1, 2)})]


MAX_POOL2D_UNPADDED = Exercise(
    name="max_pool2d_unpadded",
    reference=ref.max_pool2d_unpadded,
    checks=[
        Check("the worked examples and windows of negative numbers (int kernel and stride)", 1,
              unpadded_cases_worked),
        Check("a stride that does not divide: the output size rounds down", 1,
              unpadded_cases_not_dividing),
        Check("pairs (kH, kW) and (sH, sW), stride=None, a batch with channels", 1,
              unpadded_cases_pairs),
    ],
    regimes=_window_regimes(
        ref.max_pool2d_unpadded, "stride=None", "kernel_size, stride or padding given as a pair",
        "non-square kernel (kH != kW)", "a stride pair with sH != sW",
        "a window whose pixels are all negative",
        "floor mode: a stride that does not divide, the last pixels are left out",
        "channels > 1", "batch > 1",
        defaults={"padding": 0, "ceil_mode": False, "count_include_pad": True}),
    misconceptions=[
        Misconception("running max from 0", FROM_ZERO, max_unpadded_from_zero),
        Misconception("rounded up", ROUNDED_UP, max_pool2d_rounded_up),
        Misconception("stride None = 1", STRIDE_ONE, max_pool2d_stride_one),
        Misconception("channels mixed", CHANNELS_MIXED, max_pool2d_across_channels),
        Misconception("first image only", BATCH_MIXED, max_pool2d_first_image),
    ],
)


def mask_every_tie(window):
    window = np.asarray(window, dtype=np.float64)
    return (window == window.max(axis=(-2, -1), keepdims=True)).astype(np.float64)


def mask_from_zero(window):
    """A running maximum started at 0: a window of negative numbers gets no 1."""
    window = np.asarray(window, dtype=np.float64)
    mask = ref.create_mask_from_window(window)
    return mask * (window.max(axis=(-2, -1), keepdims=True) > 0)  # "value > best" never held


EVERY_TIE = ("Every pixel equal to the window's maximum got a 1 (window == window.max()); only "
             "the first one in row-major order does, as in torch, so a window with tied maxima "
             "passes its gradient on once, not twice.")


def mask_cases_one(rng):
    return [Case((PEAK_3X3,), note="one peak in the middle"),
            Case((negative(rng, (1, 1, 2, 2)),), note="all pixels negative"),
            Case((distinct(rng, (1, 1, 2, 3)),), note="a 2x3 window"),
            Case((distinct(rng, (1, 1, int(rng.integers(2, 4)), int(rng.integers(2, 4)))),))]


def mask_cases_ties(rng):
    return [Case((np.array([[[[1.0, 3.0], [3.0, 0.0]]]]),), note="two tied maxima"),
            Case((integers(rng, (1, 1, 3, 3), 1, 4),), note="9 pixels of 3 values: ties"),
            Case((distinct(rng, (2, 3, 2, 2)),), note="a batch of 2 images, 3 channels"),
            Case((integers(rng, (2, 2, 2, 3), 1, 3),))]


def _ties(window):
    flat = window.reshape(window.shape[:2] + (-1,))
    return ((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).any()


CREATE_MASK = Exercise(
    name="create_mask_from_window",
    reference=ref.create_mask_from_window,
    checks=[
        Check("one window's maximum gets 1, every other pixel 0 (negative and 2x3 windows)", 1,
              mask_cases_one),
        Check("ties: only the first maximum in row-major order; a batch with channels", 1,
              mask_cases_ties),
    ],
    regimes=[_regime(ref.create_mask_from_window, name, test) for name, test in [
        ("tied maxima in a window", lambda a: _ties(a["window"])),
        ("a window whose maximum is 0 or negative",
         lambda a: (a["window"].max(axis=(-2, -1)) <= 0).any()),
        ("non-square window (kH != kW)", lambda a: a["window"].shape[2] != a["window"].shape[3]),
        ("channels > 1", lambda a: a["window"].shape[1] > 1),
        ("batch > 1", lambda a: a["window"].shape[0] > 1),
    ]],
    misconceptions=[
        Misconception("every tied max", EVERY_TIE, mask_every_tie),
        Misconception("running max from 0", "The maximum was searched from 0, so a window of "
                      "negative numbers got no 1 at all; start from -inf or from the window's "
                      "first pixel (np.argmax does).", mask_from_zero),
    ],
)


def distribute_copied(g, kernel_size):
    kh, kw = _pair(kernel_size)
    return np.broadcast_to(np.asarray(g, dtype=np.float64)[:, :, None, None],
                           np.shape(g) + (kh, kw)).copy()


def distribute_cases_int(rng):
    return [Case((np.array([[4.0]]), 2), note="a window of 2x2: each pixel gets 4 / 4"),
            Case((np.array([[-9.0]]), 3)),
            Case((integers(rng, (1, 1), 1, 10), int(rng.integers(1, 5))))]


def distribute_cases_pairs(rng):
    return [Case((np.array([[6.0]]), (2, 3)), note="a 2x3 window: each pixel gets 6 / 6"),
            Case((integers(rng, (2, 3), 1, 10), 2), note="a batch of 2 images, 3 channels"),
            Case((integers(rng, (3, 2), -9, 10), (3, 1))),
            Case((integers(rng, (2, 2), 1, 10), (int(rng.integers(1, 4)), 2)))]


DISTRIBUTE_VALUE = Exercise(
    name="distribute_value",
    reference=ref.distribute_value,
    checks=[
        Check("each pixel gets g / (kH*kW): int and pair kernel_size, a batch with channels", 1,
              lambda rng: distribute_cases_int(rng) + distribute_cases_pairs(rng)),
    ],
    regimes=[_regime(ref.distribute_value, name, test) for name, test in [
        ("kernel_size given as a pair", lambda a: _is_pair(a["kernel_size"])),
        ("non-square kernel (kH != kW)", lambda a: _uneven(a["kernel_size"])),
        ("channels > 1", lambda a: np.shape(a["g"])[1] > 1),
        ("batch > 1", lambda a: np.shape(a["g"])[0] > 1),
    ]],
    misconceptions=[
        Misconception("copied", "The gradient was copied to every pixel of the window instead "
                      "of divided by the window size: a mean of kH*kW pixels changes by "
                      "1 / (kH*kW) when one of them changes by 1.", distribute_copied),
    ],
)


# ---------------------------------------------------------------------------
# Short answers
# ---------------------------------------------------------------------------

def no_cases(rng):
    return []


Q_OUTPUT_SHAPE = Exercise(
    name="q_output_shape",
    kind="value",
    reference=(8, 3, 16, 16),
    checks=[Check("the shape of the pooled batch", 1, no_cases)],
)

Q_SPP_LENGTH = Exercise(
    name="q_spp_length",
    kind="value",
    reference=256 * (1 + 4 + 16),
    checks=[Check("the length of the pyramid vector", 1, no_cases)],
)


LESSON = Lesson(
    id="01_pooling",
    title="Pooling: forward, backward, adaptive and spatial pyramid pooling",
    exercises=[POOL_OUTPUT_SIZE, PAD2D, POOLING_WINDOW, MAX_POOL2D_UNPADDED, MAX_POOL2D,
               AVG_POOL2D, Q_OUTPUT_SHAPE, CREATE_MASK, MAX_BACKWARD, DISTRIBUTE_VALUE,
               AVG_BACKWARD, ADAPTIVE_AVG, ADAPTIVE_MAX, SPP, Q_SPP_LENGTH],
)
