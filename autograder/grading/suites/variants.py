"""Hidden checks of lesson 3, convolution variants (source/03_conv_variants/03_conv_variants.ipynb): 100 points.

What each exercise asks for is exactly what its docstring in the notebook promises:

    conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1)                   20
    receptive_field(kernel_sizes, strides=None, dilations=None)                        8
    conv3d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1)                   12
    conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1)                                            16
    conv2d_matrix(w, input_shape, stride=1, padding=0, dilation=1, groups=1)          12
    depthwise_separable_conv2d(x, w_depthwise, w_pointwise, b_depthwise=None,
                               b_pointwise=None, stride=1, padding=0, dilation=1)     12
    flattened_conv2d(x, w_channel, w_vertical, w_horizontal, b=None, stride=1,
                     padding=0)                                                       10
    channel_shuffle(x, groups)                                                        10

conv3d and conv_transpose2d keep torch's dilation and groups arguments, but
their docstrings ask only for the default 1 and no check changes them. Padding
is always an int or a pair (never 'same'/'valid'), and every call is valid:
the checks score results, not error messages.

conv2d's dilation and groups are separate checks, so the feedback says which of
the two is wrong. Every misconception of transposed convolution (padding
cropped on one side or added, output_padding ignored or misplaced, a flipped
kernel, conv2d's weight layout) and of channel shuffle (the inverse
permutation, no transpose) is produced by at least one case here; the suite's
tests (tests/test_suite_variants.py) prove it.

Values are small random numbers rounded to one decimal (readable feedback,
ties and cancellations practically impossible) except in the hand-checkable
examples, which use small integers.
"""
import numpy as np

from autograder.reference import arithmetic
from autograder.reference import conv as ref
from autograder.reference import variants as ref_variants

from ..spec import Case, Check, Exercise, Lesson, Misconception, Regime
from .conv_regimes import (any_axis, channel_regimes, conv_geometry_regimes, geometry, pair_kind, unequal_pair,
                           when, windows)

# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def randn(rng, *shape):
    """Standard normal values rounded to one decimal."""
    return np.round(rng.standard_normal(shape), 1)


def integers(rng, *shape, low=-3, high=4):
    return rng.integers(low, high, size=shape).astype(np.float64)


def _pair(value):
    return (int(value), int(value)) if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)


def _triple(value):
    return (int(value),) * 3 if isinstance(value, (int, np.integer)) else tuple(int(v) for v in value)


def _spatial_pad(a, before, after):
    """Zero rows/columns added before and after the last two axes: before/after are (rows, cols)."""
    return np.pad(a, ((0, 0), (0, 0), (before[0], after[0]), (before[1], after[1])))


# ---------------------------------------------------------------------------
# conv2d: channels, bias, stride, padding, dilation, groups
# ---------------------------------------------------------------------------

def conv2d_dilation_as_stride(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    step = tuple(s * d for s, d in zip(_pair(stride), _pair(dilation)))
    return ref.conv2d(x, w, b, step, padding, 1, groups)


def conv2d_dilation_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return ref.conv2d(x, w, b, stride, padding, 1, groups)


def conv2d_dilation_plus_one(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    gaps = tuple(d + 1 if d > 1 else d for d in _pair(dilation))
    return ref.conv2d(x, w, b, stride, padding, gaps, groups)


def conv2d_groups_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Every filter reads the first C_in / groups channels (w's channel count)."""
    return ref.conv2d(np.asarray(x)[:, :np.shape(w)[1]], w, b, stride, padding, dilation, 1)


def conv2d_groups_round_robin(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Output channel o reads input group o % groups instead of o // (C_out / groups)."""
    c_out = np.shape(w)[0]
    order = np.argsort(np.arange(c_out) % groups, kind="stable")  # channels of group 0 first
    w_blocks = np.asarray(w)[order]
    b_blocks = None if b is None else np.asarray(b)[order]
    blocked = ref.conv2d(x, w_blocks, b_blocks, stride, padding, dilation, groups)
    out = np.empty_like(blocked)
    out[:, order] = blocked
    return out


def conv2d_flipped(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return ref.conv2d(x, np.asarray(w)[..., ::-1, ::-1], b, stride, padding, dilation, groups)


def conv2d_no_bias(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return ref.conv2d(x, w, None, stride, padding, dilation, groups)


def conv2d_padding_once(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Zeros added only before the image (top and left), as np.pad(x, (p, 0)) would."""
    padded = _spatial_pad(np.asarray(x, dtype=np.float64), _pair(padding), (0, 0))
    return ref.conv2d(padded, w, b, stride, 0, dilation, groups)


DILATION_AS_STRIDE = ("Dilation was applied as a stride: dilation d spreads the kernel's taps d pixels "
                      "apart inside one window (span k + (k - 1)(d - 1)); the window still moves by `stride`.")
DILATION_IGNORED = ("Dilation was ignored: with dilation d the taps of the kernel read pixels d apart, "
                    "so the window spans k + (k - 1)(d - 1) pixels.")
DILATION_PLUS_ONE = ("The kernel's taps were placed d + 1 pixels apart: dilation d leaves d - 1 skipped "
                     "pixels between taps, so tap u reads pixel i*stride + u*d.")
GROUPS_IGNORED = ("groups was ignored: every filter read input channels 0 .. C_in/groups - 1. With "
                  "groups = g, output channel o reads only the input channels of its own group o // (C_out/g).")
GROUPS_ROUND_ROBIN = ("Output channels were dealt to the groups in turn (o % groups); each group owns a "
                      "consecutive block: output channels g*C_out/groups .. (g+1)*C_out/groups - 1 read "
                      "input group g.")
KERNEL_FLIPPED = ("The kernel was flipped (a true convolution); conv2d, like torch, computes "
                  "cross-correlation: tap (u, v) multiplies the pixel at offset (u, v) of the window.")
BIAS_MISSING = ("The bias was not added: b holds one number per output channel (per kernel), added to "
                "every pixel of that channel.")
PADDING_ONCE = ("Padding was added on one side only; padding p puts p zero rows (columns) above and below "
                "(left and right) the input.")

def conv2d_bias_per_product(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """b[o] added to every product x * w before summing: counted C_in/groups * kH * kW times."""
    out = ref.conv2d(x, w, None, stride, padding, dilation, groups)
    if b is None:
        return out
    return out + np.prod(np.shape(w)[1:]) * np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)


BIAS_PER_PRODUCT = ("The bias was added to every product x * w before summing, so it counts "
                    "C_in/groups * kH * kW times; b[o] is added once to each output pixel of channel o.")

CONV2D_MISCONCEPTIONS = [
    Misconception("bias added to every product", BIAS_PER_PRODUCT, conv2d_bias_per_product),
    Misconception("dilation as stride", DILATION_AS_STRIDE, conv2d_dilation_as_stride),
    Misconception("dilation ignored", DILATION_IGNORED, conv2d_dilation_ignored),
    Misconception("dilation + 1", DILATION_PLUS_ONE, conv2d_dilation_plus_one),
    Misconception("groups ignored", GROUPS_IGNORED, conv2d_groups_ignored),
    Misconception("groups round robin", GROUPS_ROUND_ROBIN, conv2d_groups_round_robin),
    Misconception("kernel flipped", KERNEL_FLIPPED, conv2d_flipped),
    Misconception("bias missing", BIAS_MISSING, conv2d_no_bias),
    Misconception("padding on one side", PADDING_ONCE, conv2d_padding_once),
]


def conv2d_cases_shape(rng):
    return [
        Case((randn(rng, 1, 3, 6, 6), randn(rng, 8, 3, 3, 3)), {"stride": 2},
             note="the seed's 3x6x6 input, stride 2: (6 - 3)/2 + 1 = 2.5 rounds down to 2"),
        Case((randn(rng, 2, 4, 7, 5), randn(rng, 6, 2, 3, 2), randn(rng, 6)),
             {"stride": (2, 1), "padding": (1, 0), "dilation": (2, 1), "groups": 2}),
        Case((randn(rng, 1, 2, 5, 6), randn(rng, 4, 2, 1, 1))),
    ]


def conv2d_cases_one_channel(rng):
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.array([[1.0, 0, -1], [2, 0, -2], [1, 0, -1]])[None, None]
    return [Case((x, w), note="a 4x4 ramp and a Sobel kernel"),
            Case((randn(rng, 1, 1, 4, 6), randn(rng, 1, 1, 2, 3)))]


def conv2d_cases_channels_bias(rng):
    return [
        Case((integers(rng, 1, 3, 3, 3), integers(rng, 2, 3, 2, 2), np.array([1.0, -2.0])),
             note="each kernel has one channel per input channel; one bias per kernel"),
        Case((randn(rng, 2, 3, 4, 4), randn(rng, 4, 3, 3, 3), randn(rng, 4))),
        Case((randn(rng, 1, 2, 3, 5), randn(rng, 3, 2, 2, 2)), {"b": None}),
    ]


def conv2d_cases_stride_padding(rng):
    return [
        Case((randn(rng, 1, 2, 7, 6), randn(rng, 3, 2, 3, 2)), {"stride": 2, "padding": 1}),
        Case((randn(rng, 1, 1, 6, 7), randn(rng, 2, 1, 2, 3), randn(rng, 2)),
             {"stride": 3, "padding": 2}, note="a stride that does not divide"),
        Case((randn(rng, 2, 1, 4, 4), randn(rng, 1, 1, 3, 3)), {"padding": 1}),
    ]


def conv2d_cases_dilation(rng):
    return [
        Case((randn(rng, 1, 1, 7, 7), randn(rng, 1, 1, 3, 3)), {"dilation": 2}),
        Case((randn(rng, 1, 2, 8, 7), randn(rng, 2, 2, 2, 3)), {"dilation": 3, "padding": 1}),
        Case((randn(rng, 1, 1, 9, 8), randn(rng, 1, 1, 3, 2)), {"stride": 2, "dilation": 2}),
    ]


def conv2d_cases_groups(rng):
    return [
        Case((randn(rng, 1, 4, 4, 4), randn(rng, 4, 2, 3, 3)), {"groups": 2}),
        Case((randn(rng, 1, 6, 4, 4), randn(rng, 6, 1, 3, 3), randn(rng, 6)), {"groups": 6},
             note="depthwise: one filter per channel"),
        Case((randn(rng, 2, 6, 3, 4), randn(rng, 9, 2, 2, 2), randn(rng, 9)), {"groups": 3}),
        Case((randn(rng, 1, 2, 4, 4), randn(rng, 4, 1, 3, 3), randn(rng, 4)), {"groups": 2},
             note="depthwise with two filters per channel: output channels 0, 1 read channel 0"),
    ]


def conv2d_cases_pairs(rng):
    return [Case((randn(rng, 1, 4, 7, 6), randn(rng, 6, 2, 3, 2), randn(rng, 6)),
                 {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}),
            Case((randn(rng, 1, 1, 6, 7), randn(rng, 2, 1, 2, 3), randn(rng, 2)),
                 {"stride": (2, 3), "padding": (0, 2)}, note="strides that do not divide"),
            Case((randn(rng, 1, 2, 8, 7), randn(rng, 2, 2, 2, 3)), {"dilation": (3, 2), "padding": (1, 1)})]


def conv2d_cases_unmodified(rng):
    return [Case((randn(rng, 1, 2, 4, 4), randn(rng, 2, 2, 3, 3), randn(rng, 2)), {"padding": 1})]


CONV2D = Exercise(
    name="conv2d",
    reference=ref.conv2d,
    checks=[
        Check("output shape (with pairs, dilation and groups)", 2, conv2d_cases_shape, kind="shape"),
        Check("one channel (cross-correlation, no flip)", 2, conv2d_cases_one_channel),
        Check("several channels and the bias", 3, conv2d_cases_channels_bias),
        Check("stride and padding (ints), non-square", 2, conv2d_cases_stride_padding),
        Check("dilation (an int)", 2, conv2d_cases_dilation),
        Check("groups", 4, conv2d_cases_groups),
        Check("stride, padding and dilation as pairs (height, width), with groups", 4, conv2d_cases_pairs),
        Check("the inputs are left unmodified", 1, conv2d_cases_unmodified, kind="unmodified"),
    ],
    misconceptions=CONV2D_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref.conv2d, [
        "stride > 1", "stride pair", "stride unequal", "not dividing", "padding > 0", "padding 0", "padding pair",
        "padding unequal", "dilation > 1", "dilation pair", "dilation unequal", "non-square input",
        "non-square kernel", "batch"]) + channel_regimes(ref.conv2d) + [
        when(ref.conv2d, "groups > 1", lambda a: a["groups"] > 1),
        when(ref.conv2d, "1 < groups < C_in: several channels per group",
             lambda a: 1 < a["groups"] < np.shape(a["x"])[1]),
        when(ref.conv2d, "groups = C_in > 1: depthwise", lambda a: 1 < a["groups"] == np.shape(a["x"])[1])],
)


# ---------------------------------------------------------------------------
# receptive_field
# ---------------------------------------------------------------------------

def _field(kernel_sizes, strides, dilations, span, jump_after):
    """1 + sum of span(k, d) - 1, each scaled by jump_after(strides, l)."""
    n = len(kernel_sizes)
    strides = [1] * n if strides is None else list(strides)
    dilations = [1] * n if dilations is None else list(dilations)
    field = 1
    for layer, (k, d) in enumerate(zip(kernel_sizes, dilations)):
        field += (span(k, d) - 1) * jump_after(strides, layer)
    return field


def _earlier_strides(strides, layer):
    return int(np.prod(strides[:layer]))


def receptive_field_strides_ignored(kernel_sizes, strides=None, dilations=None):
    return arithmetic.receptive_field(kernel_sizes, None, dilations)


def receptive_field_own_stride(kernel_sizes, strides=None, dilations=None):
    return _field(kernel_sizes, strides, dilations, arithmetic.effective_kernel_size,
                  lambda s, layer: int(np.prod(s[:layer + 1])))


def receptive_field_dilation_ignored(kernel_sizes, strides=None, dilations=None):
    return arithmetic.receptive_field(kernel_sizes, strides, None)


def receptive_field_span_dk(kernel_sizes, strides=None, dilations=None):
    return _field(kernel_sizes, strides, dilations, lambda k, d: d * k, _earlier_strides)


def receptive_field_kernels_added(kernel_sizes, strides=None, dilations=None):
    return _field(kernel_sizes, strides, dilations,
                  lambda k, d: arithmetic.effective_kernel_size(k, d) + 1, _earlier_strides) - 1


RECEPTIVE_FIELD_MISCONCEPTIONS = [
    Misconception("strides ignored", "Strides were ignored: after a layer with stride s, one step of every "
                  "later layer covers s input pixels, so a layer widens the field by (k_eff - 1) times the "
                  "product of the strides before it.", receptive_field_strides_ignored),
    Misconception("own stride", "Each layer's widening was multiplied by its own stride as well; only the "
                  "strides of the layers before it count (a layer's stride spaces its outputs, not its taps).",
                  receptive_field_own_stride),
    Misconception("dilation ignored", "Dilation was ignored: a layer with dilation d widens the field by "
                  "d(k - 1), its span k + (k - 1)(d - 1) minus one.", receptive_field_dilation_ignored),
    Misconception("span d*k", "The span of a dilated kernel was taken as d*k; it is k + (k - 1)(d - 1) = "
                  "d(k - 1) + 1 (a 3-tap kernel with d = 2 spans 5 pixels, not 6).", receptive_field_span_dk),
    Misconception("kernels added", "The kernel spans were added up; the field starts at 1 pixel and each "
                  "layer adds k_eff - 1 (two 3x3 layers see 5 pixels, not 6).", receptive_field_kernels_added),
]


def receptive_field_cases_stack(rng):
    depth = int(rng.integers(4, 7))
    return [Case(((3,),), note="one 3x3 layer"), Case(((3, 3),), note="two 3x3 layers: 5"),
            Case(((5, 3, 3),)), Case(((3,) * depth,))]


def receptive_field_cases_strides(rng):
    kernels = tuple(int(k) for k in rng.choice([2, 3, 5], size=4))
    strides = tuple(int(s) for s in rng.choice([1, 2], size=4))
    return [Case(((3, 2, 3), (1, 2, 1)), note="conv 3x3, 2x2 pooling with stride 2, conv 3x3"),
            Case(((7, 3, 3), (2, 2, 1))),
            Case((kernels, strides))]


def receptive_field_cases_dilations(rng):
    return [Case(((3, 3, 3),), {"dilations": (1, 2, 4)}, note="dilations 1, 2, 4 (WaveNet's doubling)"),
            Case(((2, 2, 2, 2), None, (1, 2, 4, 8))),
            Case(((3, 3, 3), (1, 2, 1), (1, 1, 2)), note="strides and dilations together"),
            Case((tuple(int(k) for k in rng.choice([2, 3, 5], size=3)), None,
                  tuple(int(d) for d in rng.choice([1, 2, 4], size=3))))]


RECEPTIVE_FIELD = Exercise(
    name="receptive_field",
    reference=arithmetic.receptive_field,
    checks=[
        Check("a stack of stride-1 layers", 2, receptive_field_cases_stack),
        Check("strides (a pooling layer in the stack)", 3, receptive_field_cases_strides),
        Check("dilations", 3, receptive_field_cases_dilations),
    ],
    misconceptions=RECEPTIVE_FIELD_MISCONCEPTIONS,
    regimes=[when(arithmetic.receptive_field, "two or more layers", lambda a: len(a["kernel_sizes"]) > 1),
             when(arithmetic.receptive_field, "strides None", lambda a: a["strides"] is None),
             when(arithmetic.receptive_field, "some stride > 1",
                  lambda a: a["strides"] is not None and max(a["strides"]) > 1),
             when(arithmetic.receptive_field, "dilations None", lambda a: a["dilations"] is None),
             when(arithmetic.receptive_field, "some dilation > 1",
                  lambda a: a["dilations"] is not None and max(a["dilations"]) > 1)],
)


# ---------------------------------------------------------------------------
# conv3d
# ---------------------------------------------------------------------------

def conv3d_first_depth_only(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The kernel slides over H and W at the first depth position only."""
    return ref.conv3d(x, w, b, stride, padding, dilation, groups)[:, :, :1]


def conv3d_first_depth_repeated(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Every depth position holds the result of the first one (the depth index never advances)."""
    out = ref.conv3d(x, w, b, stride, padding, dilation, groups)
    return np.broadcast_to(out[:, :, :1], out.shape).copy()


def conv3d_depth_stride_padding_ignored(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    (_, s_h, s_w), (_, p_h, p_w) = _triple(stride), _triple(padding)
    return ref.conv3d(x, w, b, (1, s_h, s_w), (0, p_h, p_w), dilation, groups)


def conv3d_frames_apart(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Each frame filtered by the sum of the kernel's depth slices (frames never combined)."""
    flat = np.asarray(w, dtype=np.float64).sum(axis=2, keepdims=True)
    s_d, s_h, s_w = _triple(stride)
    p_d, p_h, p_w = _triple(padding)
    return ref.conv3d(x, flat, b, (s_d, s_h, s_w), (p_d, p_h, p_w), dilation, groups)


DEPTH_FIXED = ("The kernel did not slide along depth: a 3-D kernel moves along D as well as H and W, giving "
               "D_out = floor((D + 2*pD - kD) / sD) + 1 depth positions, output frame t reading input frames "
               "t*sD .. t*sD + kD - 1.")
CONV3D_MISCONCEPTIONS = [
    Misconception("first depth only", DEPTH_FIXED, conv3d_first_depth_only),
    Misconception("first depth repeated", DEPTH_FIXED, conv3d_first_depth_repeated),
    Misconception("depth stride/padding ignored", "Stride and padding were applied to H and W only; along "
                  "depth the kernel also moves by sD, and pD zero frames go before and after the volume.",
                  conv3d_depth_stride_padding_ignored),
    Misconception("frames apart", "Each depth slice was filtered on its own (the kernel's depth slices "
                  "summed); a 3-D kernel combines kD neighbouring frames, tap (t, u, v) reading frame "
                  "d*sD + t.", conv3d_frames_apart),
]


def conv3d_cases_shape(rng):
    return [Case((randn(rng, 1, 2, 4, 5, 6), randn(rng, 3, 2, 2, 3, 3)), {"stride": (1, 2, 2)}),
            Case((randn(rng, 2, 1, 5, 4, 4), randn(rng, 2, 1, 3, 2, 2)), {"padding": (1, 0, 1)})]


def conv3d_cases_channels_bias(rng):
    return [Case((integers(rng, 1, 1, 2, 3, 3), integers(rng, 1, 1, 2, 2, 2)),
                 note="one channel, kD = D: the kernel fits once along depth"),
            Case((randn(rng, 2, 2, 3, 3, 4), randn(rng, 3, 2, 3, 2, 2), randn(rng, 3)))]


def conv3d_cases_depth(rng):
    return [Case((randn(rng, 1, 1, 5, 3, 3), randn(rng, 1, 1, 2, 3, 3)),
                 note="the kernel covers H and W and slides along depth only"),
            Case((randn(rng, 1, 2, 6, 3, 4), randn(rng, 2, 2, 3, 2, 2), randn(rng, 2)))]


def conv3d_cases_stride_padding(rng):
    return [Case((randn(rng, 1, 2, 5, 4, 4), randn(rng, 1, 2, 2, 2, 2), randn(rng, 1)), {"stride": 2, "padding": 1},
                 note="the stride does not divide: the last frame, row and column are read by no window")]


def conv3d_cases_triples(rng):
    return [Case((randn(rng, 1, 1, 7, 5, 5), randn(rng, 2, 1, 3, 3, 2)),
                 {"stride": (2, 1, 2), "padding": (1, 0, 1)}),
            Case((randn(rng, 2, 1, 4, 5, 4), randn(rng, 1, 1, 2, 2, 3)), {"stride": (1, 2, 1), "padding": (0, 1, 1)})]


def _depth_out(a):
    size, k, s, p, d = geometry(a, n=3)[0]
    return windows(size, k, s, p, d)[0]


CONV3D = Exercise(
    name="conv3d",
    reference=ref.conv3d,
    checks=[
        Check("output shape (with stride and padding triples)", 2, conv3d_cases_shape, kind="shape"),
        Check("several channels and the bias", 3, conv3d_cases_channels_bias),
        Check("the kernel slides along depth", 4, conv3d_cases_depth),
        Check("stride and padding (ints)", 1, conv3d_cases_stride_padding),
        Check("stride and padding as triples (depth, height, width)", 2, conv3d_cases_triples),
    ],
    misconceptions=CONV3D_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref.conv3d, [
        "stride > 1", "stride pair", "stride unequal", "not dividing", "padding > 0", "padding 0", "padding pair",
        "padding unequal", "batch"], n=3) + channel_regimes(ref.conv3d) + [
        when(ref.conv3d, "D_out > 1: the kernel slides along depth", lambda a: _depth_out(a) > 1),
        when(ref.conv3d, "kD > 1: a kernel of several frames", lambda a: np.shape(a["w"])[2] > 1),
        when(ref.conv3d, "stride > 1 along depth", lambda a: geometry(a, n=3)[0][2] > 1),
        when(ref.conv3d, "padding > 0 along depth", lambda a: geometry(a, n=3)[0][3] > 0)],
)


# ---------------------------------------------------------------------------
# conv_transpose2d
# ---------------------------------------------------------------------------

def _full_transpose(x, w, stride, output_padding):
    """The uncropped scatter (padding 0), output_padding zero rows/columns appended."""
    full = ref.conv_transpose2d(x, w, None, stride)
    return _spatial_pad(full, (0, 0), _pair(output_padding))


def _with_bias(out, b):
    return out if b is None else out + np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)


def _out_size(x, w, stride, padding, output_padding):
    return tuple(arithmetic.conv_transpose_output_size(n, k, s, p, op) for n, k, s, p, op in
                 zip(np.shape(x)[2:], np.shape(w)[2:], _pair(stride), _pair(padding), _pair(output_padding)))


def conv_transpose2d_crop_end(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """All 2p rows and columns cropped from the bottom and right."""
    h, w_out = _out_size(x, w, stride, padding, output_padding)
    return _with_bias(_full_transpose(x, w, stride, output_padding)[:, :, :h, :w_out], b)


def conv_transpose2d_crop_start(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """All 2p rows and columns cropped from the top and left."""
    h, w_out = _out_size(x, w, stride, padding, output_padding)
    full = _full_transpose(x, w, stride, output_padding)
    return _with_bias(full[:, :, full.shape[2] - h:, full.shape[3] - w_out:], b)


def conv_transpose2d_padding_added(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """p zero rows and columns added around the full output instead of cropped from it."""
    full = _full_transpose(x, w, stride, output_padding)
    return _with_bias(_spatial_pad(full, _pair(padding), _pair(padding)), b)


def conv_transpose2d_no_output_padding(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                                       dilation=1):
    return ref.conv_transpose2d(x, w, b, stride, padding)


def conv_transpose2d_output_padding_zeros(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                                          dilation=1):
    """Zero rows/columns appended after cropping (they hold kernel copies when padding > 0)."""
    cropped = ref.conv_transpose2d(x, w, None, stride, padding)
    return _with_bias(_spatial_pad(cropped, (0, 0), _pair(output_padding)), b)


def conv_transpose2d_output_padding_before(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1,
                                           dilation=1):
    cropped = ref.conv_transpose2d(x, w, None, stride, padding)
    return _with_bias(_spatial_pad(cropped, _pair(output_padding), (0, 0)), b)


def conv_transpose2d_flipped(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return ref.conv_transpose2d(x, np.asarray(w)[..., ::-1, ::-1], b, stride, padding, output_padding)


def conv_transpose2d_conv_layout(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """w read as conv2d's (C_out, C_in, kH, kW): w[o, i] taken as input i's kernel for output o."""
    return ref.conv_transpose2d(x, np.asarray(w).swapaxes(0, 1), b, stride, padding, output_padding)


CROPPED_ONE_SIDE = ("The padding was cropped from one side only: padding p removes p rows (columns) from the "
                    "top (left) and p from the bottom (right) of the full scattered output.")
TRANSPOSE_MISCONCEPTIONS = [
    Misconception("crop at the end", CROPPED_ONE_SIDE, conv_transpose2d_crop_end),
    Misconception("crop at the start", CROPPED_ONE_SIDE, conv_transpose2d_crop_start),
    Misconception("padding added", "Padding was added to the output instead of cropped from it: in a "
                  "transposed convolution padding p removes p rows and columns on each side, so "
                  "H_out = s(H - 1) + k - 2p + output_padding.", conv_transpose2d_padding_added),
    Misconception("output_padding ignored", "output_padding was ignored: it adds output_padding rows "
                  "(columns) at the bottom (right), choosing which of the input sizes that the strided "
                  "convolution maps to H the output should have.", conv_transpose2d_no_output_padding),
    Misconception("output_padding as zeros", "output_padding was appended as zeros after cropping; it "
                  "extends the output before the crop, so with padding > 0 its rows (columns) hold the "
                  "kernel copies that the padding would otherwise have cut off.",
                  conv_transpose2d_output_padding_zeros),
    Misconception("output_padding before", "output_padding was added at the top (left); it extends the "
                  "output at the bottom (right).", conv_transpose2d_output_padding_before),
    Misconception("kernel flipped", "The kernel was rotated by 180 degrees: a transposed convolution "
                  "scatters each input value times the kernel as it is; the rotation belongs only to the "
                  "equivalent convolution of the zero-stuffed input.", conv_transpose2d_flipped),
    Misconception("conv weight layout", "w was read in conv2d's layout (C_out, C_in, kH, kW); a transposed "
                  "convolution's weight is (C_in, C_out, kH, kW): w[i, o] is the kernel that input channel i "
                  "scatters into output channel o.", conv_transpose2d_conv_layout),
]

SEED_2X2 = np.array([[1.0, 2.0], [3.0, 4.0]])[None, None]


def transpose_cases_seed(rng):
    kernel = np.array([[1.0, 0, 2], [0, 1, 0], [-1, 0, 1]])[None, None]
    return [Case((SEED_2X2, kernel), note="the seed's 2x2 input and 3x3 kernel: a 4x4 output"),
            Case((randn(rng, 1, 1, 2, 2), randn(rng, 1, 1, 3, 3)))]


def transpose_cases_shape(rng):
    return [Case((randn(rng, 1, 1, 3, 4), randn(rng, 1, 2, 3, 2)), {"stride": 2, "padding": 1}),
            Case((randn(rng, 2, 2, 2, 3), randn(rng, 2, 1, 4, 4)),
                 {"stride": (3, 2), "padding": (1, 0), "output_padding": (2, 1)})]


def transpose_cases_stride(rng):
    return [Case((SEED_2X2, np.arange(1.0, 10.0).reshape(1, 1, 3, 3)), {"stride": 2},
                 note="copies of the kernel 2 apart overlap in one row and column"),
            Case((randn(rng, 1, 1, 3, 2), randn(rng, 1, 1, 2, 3)), {"stride": 3},
                 note="stride 3 > kernel height 2: rows between the copies stay 0")]


def transpose_cases_padding(rng):
    return [Case((randn(rng, 1, 1, 3, 4), randn(rng, 1, 1, 3, 3)), {"padding": 1},
                 note="stride 1, padding 1: the output has the input's size"),
            Case((randn(rng, 1, 1, 3, 3), randn(rng, 1, 1, 3, 5)), {"stride": 2, "padding": 2})]


def transpose_cases_output_padding(rng):
    return [Case((randn(rng, 1, 1, 3, 3), randn(rng, 1, 1, 3, 3)),
                 {"stride": 2, "padding": 1, "output_padding": 1},
                 note="3x3 -> 6x6: the 6x6 that a stride-2 conv maps to 3x3 (5x5 maps there too)"),
            Case((randn(rng, 1, 1, 2, 3), randn(rng, 1, 1, 2, 2)), {"stride": 3, "output_padding": 2})]


def transpose_cases_pairs(rng):
    return [Case((randn(rng, 1, 1, 3, 2), randn(rng, 1, 1, 2, 3)), {"stride": (3, 2)}),
            Case((randn(rng, 1, 1, 3, 3), randn(rng, 1, 1, 3, 5)), {"stride": 2, "padding": (1, 2)}),
            Case((randn(rng, 1, 1, 2, 3), randn(rng, 1, 1, 2, 2)), {"stride": 3, "output_padding": (2, 1)}),
            Case((randn(rng, 1, 1, 2, 2), randn(rng, 1, 1, 4, 4)),
                 {"stride": 3, "padding": 2, "output_padding": (1, 2)})]


def transpose_cases_channels(rng):
    return [Case((randn(rng, 1, 2, 3, 2), randn(rng, 2, 2, 3, 2), randn(rng, 2)), {"padding": 1},
                 note="w is (C_in, C_out, kH, kW): w[i, o] is scattered by input channel i into output o"),
            Case((randn(rng, 2, 3, 2, 3), randn(rng, 3, 2, 2, 2), randn(rng, 2)), {"stride": 2},
                 note="every input channel scatters into every output channel")]


def transpose_cases_unmodified(rng):
    return [Case((randn(rng, 1, 2, 2, 2), randn(rng, 2, 1, 3, 3), randn(rng, 1)),
                 {"stride": 2, "padding": 1, "output_padding": 1})]


CONV_TRANSPOSE2D = Exercise(
    name="conv_transpose2d",
    reference=ref.conv_transpose2d,
    checks=[
        Check("the seed's 2x2 input with a 3x3 kernel", 2, transpose_cases_seed),
        Check("output shape (with stride, padding and output_padding pairs)", 2, transpose_cases_shape,
              kind="shape"),
        Check("stride (an int): kernel copies placed stride apart", 2, transpose_cases_stride),
        Check("padding (an int) is cropped from both sides", 3, transpose_cases_padding),
        Check("output_padding (an int)", 2, transpose_cases_output_padding),
        Check("stride, padding and output_padding as pairs (height, width)", 2, transpose_cases_pairs),
        Check("channels, batch and the bias", 2, transpose_cases_channels),
        Check("the inputs are left unmodified", 1, transpose_cases_unmodified, kind="unmodified"),
    ],
    misconceptions=TRANSPOSE_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref.conv_transpose2d, [
        "stride > 1", "stride pair", "stride unequal", "overlap", "padding > 0", "padding 0", "padding pair",
        "padding unequal", "non-square input", "non-square kernel", "batch"])
    + channel_regimes(ref.conv_transpose2d, out_axis=1) + [
        any_axis(ref.conv_transpose2d, "output_padding > 0 on some axis", "output_padding", lambda p: p > 0),
        pair_kind(ref.conv_transpose2d, "output_padding"), unequal_pair(ref.conv_transpose2d, "output_padding")],
)


# ---------------------------------------------------------------------------
# conv2d_matrix
# ---------------------------------------------------------------------------

def conv2d_matrix_transposed(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    return ref_variants.conv2d_matrix(w, input_shape, stride, padding, dilation, groups).T


def conv2d_matrix_flipped(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    return ref_variants.conv2d_matrix(np.asarray(w)[..., ::-1, ::-1], input_shape, stride, padding,
                                      dilation, groups)


def _output_shape(w, input_shape, stride, padding, dilation):
    return (np.shape(w)[0],) + tuple(arithmetic.conv_output_size(n, k, s, p, d) for n, k, s, p, d in zip(
        input_shape[1:], np.shape(w)[2:], _pair(stride), _pair(padding), _pair(dilation)))


def conv2d_matrix_rows_pixel_major(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """Rows ordered (H_out, W_out, C_out) instead of out.ravel()'s (C_out, H_out, W_out)."""
    m = ref_variants.conv2d_matrix(w, input_shape, stride, padding, dilation, groups)
    shape = _output_shape(w, input_shape, stride, padding, dilation)
    return m.reshape(*shape, -1).transpose(1, 2, 0, 3).reshape(m.shape)


def conv2d_matrix_columns_pixel_major(w, input_shape, stride=1, padding=0, dilation=1, groups=1):
    """Columns ordered (H, W, C_in) instead of x.ravel()'s (C_in, H, W)."""
    m = ref_variants.conv2d_matrix(w, input_shape, stride, padding, dilation, groups)
    return m.reshape(m.shape[0], *input_shape).transpose(0, 2, 3, 1).reshape(m.shape)


MATRIX_MISCONCEPTIONS = [
    Misconception("transposed", "The matrix is transposed: M has one row per output value "
                  "(C_out*H_out*W_out rows) and one column per input value (C_in*H*W columns), so that "
                  "M @ x.ravel() is the output.", conv2d_matrix_transposed),
    Misconception("kernel flipped", "The kernel's taps were placed in reverse order (a flipped kernel); "
                  "row r of M holds w as it is, tap (u, v) in the column of the pixel it multiplies.",
                  conv2d_matrix_flipped),
    Misconception("rows pixel-major", "The rows are not in out.ravel() order: row r belongs to output "
                  "value out[0].ravel()[r], i.e. channel first, then row, then column.",
                  conv2d_matrix_rows_pixel_major),
    Misconception("columns pixel-major", "The columns are not in x.ravel() order: column k belongs to input "
                  "value x.ravel()[k], i.e. channel first, then row, then column.",
                  conv2d_matrix_columns_pixel_major),
]


def matrix_cases_seed(rng):
    kernel = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    return [Case((kernel, (1, 4, 4)), note="a 3x3 kernel on a 4x4 input: a 4 x 16 matrix"),
            Case((randn(rng, 1, 1, 2, 3), (1, 3, 5)))]


def matrix_cases_stride_padding(rng):
    return [Case((randn(rng, 1, 1, 3, 3), (1, 5, 5)), {"stride": 2, "padding": 1}),
            Case((randn(rng, 1, 1, 2, 2), (1, 4, 5)), {"stride": 3, "padding": 1})]


def matrix_cases_pairs(rng):
    return [Case((randn(rng, 1, 1, 2, 2), (1, 4, 5)), {"stride": (2, 1), "padding": (0, 1)})]


def matrix_cases_channels(rng):
    return [Case((randn(rng, 2, 3, 2, 2), (3, 3, 3)), note="rows: channel, then row, then column"),
            Case((randn(rng, 3, 2, 1, 2), (2, 2, 3)))]


def matrix_cases_dilation_groups(rng):
    return [Case((randn(rng, 1, 1, 2, 2), (1, 5, 4)), {"dilation": 2}),
            Case((randn(rng, 2, 1, 2, 2), (2, 3, 3)), {"groups": 2})]


CONV2D_MATRIX = Exercise(
    name="conv2d_matrix",
    reference=ref_variants.conv2d_matrix,
    output_names=("M",),
    checks=[
        Check("a 3x3 kernel on a 4x4 input: the 4 x 16 matrix", 3, matrix_cases_seed),
        Check("stride and padding (ints)", 2, matrix_cases_stride_padding),
        Check("stride and padding as pairs (height, width)", 1, matrix_cases_pairs),
        Check("several channels: row and column order", 3, matrix_cases_channels),
        Check("dilation and groups", 3, matrix_cases_dilation_groups),
    ],
    misconceptions=MATRIX_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref_variants.conv2d_matrix, [
        "stride > 1", "stride pair", "stride unequal", "padding > 0", "padding pair", "padding unequal",
        "dilation > 1", "non-square kernel"]) + [
        when(ref_variants.conv2d_matrix, "groups > 1", lambda a: a["groups"] > 1),
        when(ref_variants.conv2d_matrix, "several input channels", lambda a: a["input_shape"][0] > 1),
        when(ref_variants.conv2d_matrix, "several output channels", lambda a: np.shape(a["w"])[0] > 1)],
)


# ---------------------------------------------------------------------------
# depthwise_separable_conv2d
# ---------------------------------------------------------------------------

def separable_depthwise_ignores_groups(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                                       stride=1, padding=0, dilation=1):
    """Every depthwise filter reads channel 0 (conv2d with groups = 1 on a one-channel kernel)."""
    hidden = ref.conv2d(np.asarray(x)[:, :1], w_depthwise, b_depthwise, stride, padding, dilation)
    return ref.conv2d(hidden, w_pointwise, b_pointwise)


def separable_steps_swapped(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                            stride=1, padding=0, dilation=1):
    mixed = ref.conv2d(x, w_pointwise, b_pointwise)
    return ref.conv2d(mixed, w_depthwise, b_depthwise, stride, padding, dilation, groups=np.shape(mixed)[1])


def separable_no_depthwise_bias(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                                stride=1, padding=0, dilation=1):
    return ref_variants.depthwise_separable_conv2d(x, w_depthwise, w_pointwise, None, b_pointwise,
                                                   stride, padding, dilation)


def separable_no_pointwise_bias(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                                stride=1, padding=0, dilation=1):
    return ref_variants.depthwise_separable_conv2d(x, w_depthwise, w_pointwise, b_depthwise, None,
                                                   stride, padding, dilation)


def separable_geometry_twice(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None,
                             stride=1, padding=0, dilation=1):
    """stride and padding passed to the pointwise step as well."""
    hidden = ref.conv2d(x, w_depthwise, b_depthwise, stride, padding, dilation, groups=np.shape(x)[1])
    return ref.conv2d(hidden, w_pointwise, b_pointwise, stride, padding)


SEPARABLE_MISCONCEPTIONS = [
    Misconception("depthwise without groups", "The depthwise step ignored groups: every depthwise filter read "
                  "input channel 0; filter c must filter channel c alone (groups = C_in).",
                  separable_depthwise_ignores_groups),
    Misconception("steps swapped", "The two steps ran in the wrong order: first the depthwise kH x kW filters "
                  "(one per input channel), then the 1x1 pointwise convolution that mixes channels.",
                  separable_steps_swapped),
    Misconception("depthwise bias missing", "b_depthwise was not added: it is added to the depthwise output, "
                  "channel by channel, before the pointwise step mixes the channels.",
                  separable_no_depthwise_bias),
    Misconception("pointwise bias missing", "b_pointwise was not added: it is added to the final output, one "
                  "number per output channel.", separable_no_pointwise_bias),
    Misconception("stride/padding twice", "Stride and padding were applied to the pointwise step too; they "
                  "belong to the depthwise step only (a 1x1 kernel needs no padding and uses stride 1).",
                  separable_geometry_twice),
]


def _identity_pointwise(channels):
    return np.eye(channels).reshape(channels, channels, 1, 1)


def separable_cases_shape(rng):
    return [Case((randn(rng, 1, 3, 5, 5), randn(rng, 3, 1, 3, 3), randn(rng, 4, 3, 1, 1))),
            Case((randn(rng, 2, 2, 6, 5), randn(rng, 2, 1, 3, 2), randn(rng, 5, 2, 1, 1)),
                 {"stride": 2, "padding": 1})]


def separable_cases_depthwise(rng):
    return [Case((randn(rng, 1, 3, 4, 4), randn(rng, 3, 1, 3, 3), _identity_pointwise(3)),
                 note="w_pointwise is the identity: the output is the depthwise step alone"),
            Case((randn(rng, 1, 2, 4, 5), randn(rng, 2, 1, 2, 3), randn(rng, 3, 2, 1, 1)))]


def separable_cases_pointwise(rng):
    return [Case((randn(rng, 2, 3, 3, 4), randn(rng, 3, 1, 2, 2), randn(rng, 3, 3, 1, 1)),
                 note="C_in = C_out: the order of the steps matters"),
            Case((randn(rng, 1, 2, 3, 3), np.ones((2, 1, 1, 1)), randn(rng, 3, 2, 1, 1)),
                 note="1x1 depthwise kernels of ones: the output is the pointwise step alone")]


def separable_cases_biases(rng):
    return [Case((randn(rng, 1, 2, 4, 4), randn(rng, 2, 1, 3, 3), randn(rng, 3, 2, 1, 1)),
                 {"b_depthwise": randn(rng, 2), "b_pointwise": randn(rng, 3)}),
            Case((randn(rng, 1, 3, 3, 3), randn(rng, 3, 1, 2, 2), randn(rng, 2, 3, 1, 1), randn(rng, 3)),
                 note="b_depthwise only")]


def separable_cases_geometry(rng):
    return [Case((randn(rng, 1, 2, 5, 6), randn(rng, 2, 1, 3, 3), randn(rng, 3, 2, 1, 1)),
                 {"stride": 2, "padding": 1}),
            Case((randn(rng, 1, 2, 6, 5), randn(rng, 2, 1, 2, 2), randn(rng, 2, 2, 1, 1)),
                 {"padding": 1, "dilation": 2})]


def separable_cases_pairs(rng):
    return [Case((randn(rng, 1, 2, 6, 5), randn(rng, 2, 1, 2, 2), randn(rng, 2, 2, 1, 1)),
                 {"padding": (1, 0), "dilation": 2}),
            Case((randn(rng, 1, 2, 5, 6), randn(rng, 2, 1, 3, 3), randn(rng, 3, 2, 1, 1)),
                 {"stride": (2, 1), "padding": (1, 0)})]


def separable_cases_unmodified(rng):
    return [Case((randn(rng, 1, 2, 4, 4), randn(rng, 2, 1, 3, 3), randn(rng, 3, 2, 1, 1),
                  randn(rng, 2), randn(rng, 3)), {"padding": 1})]


DEPTHWISE_SEPARABLE = Exercise(
    name="depthwise_separable_conv2d",
    reference=ref_variants.depthwise_separable_conv2d,
    checks=[
        Check("output shape", 2, separable_cases_shape, kind="shape"),
        Check("depthwise step: one filter per channel", 3, separable_cases_depthwise),
        Check("pointwise step: a 1x1 convolution mixes the channels", 2, separable_cases_pointwise),
        Check("both biases", 2, separable_cases_biases),
        Check("stride, padding and dilation (ints)", 1, separable_cases_geometry),
        Check("stride and padding as pairs (height, width)", 1, separable_cases_pairs),
        Check("the inputs are left unmodified", 1, separable_cases_unmodified, kind="unmodified"),
    ],
    misconceptions=SEPARABLE_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref_variants.depthwise_separable_conv2d, [
        "stride > 1", "stride pair", "stride unequal", "padding > 0", "padding pair", "padding unequal",
        "dilation > 1", "non-square kernel", "batch"], w="w_depthwise")
    + channel_regimes(ref_variants.depthwise_separable_conv2d, w="w_pointwise", b=None) + [
        when(ref_variants.depthwise_separable_conv2d, f"{b} {kind}", test)
        for b in ("b_depthwise", "b_pointwise")
        for kind, test in (("None", lambda a, b=b: a[b] is None), ("an array", lambda a, b=b: a[b] is not None))],
)


# ---------------------------------------------------------------------------
# flattened_conv2d
# ---------------------------------------------------------------------------

def _flattened_passes(x, w_channel, w_vertical, w_horizontal, biases, strides, paddings):
    """1x1, then kH x 1, then 1 x kW, each pass with its own bias, stride and padding."""
    c_out = np.shape(w_channel)[0]
    out = ref.conv2d(x, w_channel, biases[0], strides[0], paddings[0])
    out = ref.conv2d(out, w_vertical, biases[1], strides[1], paddings[1], groups=c_out)
    return ref.conv2d(out, w_horizontal, biases[2], strides[2], paddings[2], groups=c_out)


def flattened_bias_every_pass(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    s_h, s_w = _pair(stride)
    return _flattened_passes(x, w_channel, w_vertical, w_horizontal, (b, b, b),
                             (1, (s_h, 1), (1, s_w)), (padding, 0, 0))


def flattened_padding_every_pass(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    s_h, s_w = _pair(stride)
    return _flattened_passes(x, w_channel, w_vertical, w_horizontal, (None, None, b),
                             (1, (s_h, 1), (1, s_w)), (padding,) * 3)


def flattened_stride_every_pass(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    return _flattened_passes(x, w_channel, w_vertical, w_horizontal, (None, None, b),
                             (stride,) * 3, (padding, 0, 0))


def flattened_no_bias(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    return ref_variants.flattened_conv2d(x, w_channel, w_vertical, w_horizontal, None, stride, padding)


FLATTENED_MISCONCEPTIONS = [
    Misconception("bias every pass", "The bias was added after every pass; it belongs once, at the end (a "
                  "bias added earlier is filtered again by the later passes).", flattened_bias_every_pass),
    Misconception("padding every pass", "Padding was applied on every pass; pad once (before the first pass) "
                  "so that H_out = floor((H + 2p - kH) / s) + 1 as for the full kernel.",
                  flattened_padding_every_pass),
    Misconception("stride every pass", "The stride was applied on every pass; each axis is strided once: rows "
                  "on the kH x 1 pass, columns on the 1 x kW pass (the 1x1 pass keeps every pixel).",
                  flattened_stride_every_pass),
    Misconception("bias missing", "The bias was not added: one number per output channel, added at the end.",
                  flattened_no_bias),
]


def _flattened_weights(rng, c_out, c_in, kh, kw):
    return randn(rng, c_out, c_in, 1, 1), randn(rng, c_out, 1, kh, 1), randn(rng, c_out, 1, 1, kw)


def flattened_cases_shape(rng):
    return [Case((randn(rng, 1, 3, 5, 6),) + _flattened_weights(rng, 2, 3, 3, 2)),
            Case((randn(rng, 2, 2, 6, 6),) + _flattened_weights(rng, 3, 2, 3, 3), {"stride": 2, "padding": 1})]


def flattened_cases_one_filter(rng):
    ramp = np.arange(20.0).reshape(1, 1, 4, 5)
    weights = (np.array([2.0]).reshape(1, 1, 1, 1), np.array([1.0, 2, 1]).reshape(1, 1, 3, 1),
               np.array([-1.0, 0, 1]).reshape(1, 1, 1, 3))
    return [Case((ramp,) + weights, note="one channel, 2 x [1,2,1]^T x [-1,0,1]: twice a Sobel kernel"),
            Case((randn(rng, 1, 2, 4, 4),) + _flattened_weights(rng, 1, 2, 2, 3))]


def flattened_cases_channels_bias(rng):
    return [Case((randn(rng, 2, 3, 4, 4),) + _flattened_weights(rng, 2, 3, 3, 3) + (randn(rng, 2),)),
            Case((randn(rng, 1, 2, 3, 5),) + _flattened_weights(rng, 3, 2, 2, 2), {"b": randn(rng, 3)})]


def flattened_cases_geometry(rng):
    return [Case((randn(rng, 1, 1, 5, 5),) + _flattened_weights(rng, 1, 1, 2, 2), {"stride": 2}),
            Case((randn(rng, 1, 2, 5, 5),) + _flattened_weights(rng, 2, 2, 3, 3), {"stride": 2, "padding": 1})]


def flattened_cases_pairs(rng):
    return [Case((randn(rng, 1, 1, 6, 5),) + _flattened_weights(rng, 2, 1, 3, 2) + (randn(rng, 2),),
                 {"stride": (2, 3), "padding": (0, 1)})]


def _flattened_kernel(a):
    return np.shape(a["w_vertical"])[2], np.shape(a["w_horizontal"])[3]


def flattened_cases_unmodified(rng):
    return [Case((randn(rng, 1, 2, 4, 4),) + _flattened_weights(rng, 2, 2, 3, 3) + (randn(rng, 2),),
                 {"padding": 1})]


FLATTENED = Exercise(
    name="flattened_conv2d",
    reference=ref_variants.flattened_conv2d,
    checks=[
        Check("output shape", 2, flattened_cases_shape, kind="shape"),
        Check("one output channel: the three 1-D filters", 2, flattened_cases_one_filter),
        Check("several channels and the bias", 3, flattened_cases_channels_bias),
        Check("stride and padding (ints)", 1, flattened_cases_geometry),
        Check("stride and padding as pairs (height, width)", 1, flattened_cases_pairs),
        Check("the inputs are left unmodified", 1, flattened_cases_unmodified, kind="unmodified"),
    ],
    misconceptions=FLATTENED_MISCONCEPTIONS,
    regimes=conv_geometry_regimes(ref_variants.flattened_conv2d, [
        "stride > 1", "stride pair", "stride unequal", "padding > 0", "padding pair", "padding unequal", "batch"])
    + channel_regimes(ref_variants.flattened_conv2d, w="w_channel") + [
        when(ref_variants.flattened_conv2d, "non-square kernel (kH != kW)",
             lambda a: len(set(_flattened_kernel(a))) > 1)],
)


# ---------------------------------------------------------------------------
# channel_shuffle
# ---------------------------------------------------------------------------

def channel_shuffle_inverse(x, groups):
    """Reshape to (C // groups, groups) then transpose: the inverse permutation."""
    return ref.channel_shuffle_backward(x, x, groups)


def channel_shuffle_unchanged(x, groups):
    """Reshape to (groups, C // groups) and back without the transpose."""
    return np.array(x, dtype=np.float64)


SHUFFLE_MISCONCEPTIONS = [
    Misconception("inverse", "The shuffle was inverted: view the channels as (groups, C // groups), then "
                  "transpose, so that output channel k*groups + g comes from group g; viewing them as "
                  "(C // groups, groups) first gives the inverse permutation.", channel_shuffle_inverse),
    Misconception("no transpose", "The channels came back in their original order: reshaping to "
                  "(groups, C // groups) and back changes nothing without the transpose in between.",
                  channel_shuffle_unchanged),
]


def _labelled(channels, batch=1, height=1, width=1):
    """Channel c holds the value c everywhere (plus 100 per batch item): the order is visible."""
    x = np.arange(channels, dtype=np.float64).reshape(1, channels, 1, 1) + 100.0 * np.arange(batch).reshape(-1, 1, 1, 1)
    return np.broadcast_to(x, (batch, channels, height, width)).copy()


def shuffle_cases_seed(rng):
    return [Case((_labelled(6), 2), note="channels 0..5, 2 groups: the order becomes 0, 3, 1, 4, 2, 5"),
            Case((randn(rng, 1, 6, 2, 2), 2))]


def shuffle_cases_groups(rng):
    return [Case((_labelled(12), 3)), Case((_labelled(12), 4)),
            Case((randn(rng, 1, 8, 1, 2), 1), note="one group: nothing moves"),
            Case((randn(rng, 1, 4, 2, 1), 4), note="groups = C: nothing moves")]


def shuffle_cases_batch(rng):
    return [Case((_labelled(6, batch=2, height=2, width=3), 3)),
            Case((randn(rng, 3, 8, 2, 2), 2))]


def shuffle_cases_unmodified(rng):
    return [Case((randn(rng, 1, 6, 2, 2), 3))]


CHANNEL_SHUFFLE = Exercise(
    name="channel_shuffle",
    reference=ref.channel_shuffle,
    checks=[
        Check("6 channels in 2 groups", 3, shuffle_cases_seed),
        Check("other numbers of groups", 3, shuffle_cases_groups),
        Check("batch, height and width are kept", 3, shuffle_cases_batch),
        Check("the input is left unmodified", 1, shuffle_cases_unmodified, kind="unmodified"),
    ],
    misconceptions=SHUFFLE_MISCONCEPTIONS,
    regimes=[Regime("1 < groups < C: channels move", lambda case: 1 < case.args[1] < np.shape(case.args[0])[1]),
             Regime("batch N > 1", lambda case: np.shape(case.args[0])[0] > 1),
             Regime("images larger than 1x1", lambda case: np.prod(np.shape(case.args[0])[2:]) > 1)],
)


LESSON = Lesson(
    id="03_conv_variants",
    title="Convolution variants",
    exercises=[CONV2D, RECEPTIVE_FIELD, CONV3D, CONV_TRANSPOSE2D, CONV2D_MATRIX, DEPTHWISE_SEPARABLE,
               FLATTENED, CHANNEL_SHUFFLE],
)
