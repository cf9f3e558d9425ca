"""Wrong-in-one-regime implementations of lesson 3's exercises (autograder/grading/suites/variants.py).

Each is right except in its regime: int-only code meeting a pair, pair[0] used
on both axes, an argument ignored, a depthwise shortcut, a scatter that assigns
instead of adding, a `[p:-p]` crop. tests/test_regimes.py proves it.
"""
import numpy as np

from autograder.grading.suites import variants as suite
from autograder.reference import arithmetic
from autograder.reference import conv as ref
from autograder.reference import variants as ref_variants

from . import Wrong
from ._conv import (bias_not_checked, bias_on_last_axis, ceil_output_size, changed, crash_when,
                    first_image_only, first_of_pair, ignored, int_only, non_square_kernel_crash, output_square,
                    padded_by_slice_assignment, per_axis)


def _pair_mistakes(exercise, fn, names, word="pair"):
    """int-only code and pair[0] on every axis, for each argument in `names`."""
    entries = []
    for name in names:
        entries += [Wrong(exercise, f"{name} given as a {word}", f"int-only {name}", int_only(fn, name)),
                    Wrong(exercise, f"{name} a {word} of unequal values", f"{name}[0] on every axis",
                          first_of_pair(fn, name))]
    return entries


# ------------------------------------------------------------------- conv2d

def _conv2d_channel_zero(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Single-channel code: x[:, 0] and w[:, 0] only."""
    return ref.conv2d(np.asarray(x)[:, :1], np.asarray(w)[:, :1], b, stride, padding, dilation, groups)


def _conv2d_depthwise_shortcut(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """A special path for groups == C_in: output channel o filters input channel o % C_in."""
    if groups > 1 and groups == np.shape(x)[1]:
        return suite.conv2d_groups_round_robin(x, w, b, stride, padding, dilation, groups)
    return ref.conv2d(x, w, b, stride, padding, dilation, groups)


def _conv2d_groups_interleaved(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Group j takes input channels j, j + groups, ... (x[:, j::groups]) instead of a block."""
    c_in = np.shape(x)[1]
    order = np.arange(c_in).reshape(c_in // groups, groups).T.reshape(-1)
    return ref.conv2d(np.asarray(x)[:, order], w, b, stride, padding, dilation, groups)


CONV2D = [
    Wrong("conv2d", "stride > 1 on some axis", "stride ignored", ignored(ref.conv2d, "stride", 1)),
    Wrong("conv2d", "stride does not divide: pixels left over past the last window", "H_out rounded up",
          ceil_output_size(ref.conv2d)),
    Wrong("conv2d", "padding > 0 on some axis", "padding on the top and left only", suite.conv2d_padding_once),
    Wrong("conv2d", "padding 0 on some axis", "padded with xp[p:-p] = x (crashes at padding 0)",
          padded_by_slice_assignment(ref.conv2d)),
    Wrong("conv2d", "dilation > 1 on some axis", "dilation ignored", suite.conv2d_dilation_ignored),
    Wrong("conv2d", "dilation > 1 on some axis", "dilation applied as a stride", suite.conv2d_dilation_as_stride),
    Wrong("conv2d", "dilation > 1 on some axis", "taps d + 1 apart", suite.conv2d_dilation_plus_one),
    Wrong("conv2d", "non-square input", "W_out taken as H_out", output_square(ref.conv2d)),
    Wrong("conv2d", "non-square kernel", "kernel width taken as kH", non_square_kernel_crash(ref.conv2d)),
    Wrong("conv2d", "batch N > 1", "only the first image", first_image_only(ref.conv2d)),
    Wrong("conv2d", "several input channels", "only input channel 0", _conv2d_channel_zero),
    Wrong("conv2d", "several output channels", "out + b broadcasts b along W", bias_on_last_axis(ref.conv2d)),
    Wrong("conv2d", "bias None", "b used without checking for None", bias_not_checked(ref.conv2d)),
    Wrong("conv2d", "bias an array", "bias ignored", suite.conv2d_no_bias),
    Wrong("conv2d", "bias an array", "bias added to every product before summing", suite.conv2d_bias_per_product),
    Wrong("conv2d", "groups > 1", "groups ignored", suite.conv2d_groups_ignored),
    Wrong("conv2d", "groups > 1", "output channels dealt to groups in turn", suite.conv2d_groups_round_robin),
    Wrong("conv2d", "1 < groups < C_in: several channels per group", "groups take interleaved input channels",
          _conv2d_groups_interleaved),
    Wrong("conv2d", "groups = C_in > 1: depthwise", "depthwise path: output o filters channel o % C_in",
          _conv2d_depthwise_shortcut),
] + _pair_mistakes("conv2d", ref.conv2d, ("stride", "padding", "dilation"))


# ---------------------------------------------------------- receptive_field

def _strides_required(kernel_sizes, strides=None, dilations=None):
    """`np.prod(strides[:layer])` with strides=None raises TypeError."""
    if strides is None:
        raise TypeError("'NoneType' object is not subscriptable")
    return arithmetic.receptive_field(kernel_sizes, strides, dilations)


def _dilations_required(kernel_sizes, strides=None, dilations=None):
    if dilations is None:
        raise TypeError("'NoneType' object is not subscriptable")
    return arithmetic.receptive_field(kernel_sizes, strides, dilations)


RECEPTIVE_FIELD = [
    Wrong("receptive_field", "two or more layers", "kernel spans added up", suite.receptive_field_kernels_added),
    Wrong("receptive_field", "strides None", "strides=None not replaced by ones", _strides_required),
    Wrong("receptive_field", "some stride > 1", "strides ignored", suite.receptive_field_strides_ignored),
    Wrong("receptive_field", "some stride > 1", "each layer scaled by its own stride too",
          suite.receptive_field_own_stride),
    Wrong("receptive_field", "dilations None", "dilations=None not replaced by ones", _dilations_required),
    Wrong("receptive_field", "some dilation > 1", "dilations ignored", suite.receptive_field_dilation_ignored),
    Wrong("receptive_field", "some dilation > 1", "dilated span taken as d * k", suite.receptive_field_span_dk),
]


# ------------------------------------------------------------------- conv3d

def _conv3d_channel_zero(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return ref.conv3d(np.asarray(x)[:, :1], np.asarray(w)[:, :1], b, stride, padding, dilation, groups)


def _along_depth(name, default):
    """The depth entry of `name` replaced by its default: only H and W strided or padded."""
    def change(arguments):
        values = per_axis(arguments[name], 3)
        arguments[name] = (default,) + values[1:]
    return changed(ref.conv3d, change)


CONV3D = [
    Wrong("conv3d", "stride > 1 on some axis", "stride ignored", ignored(ref.conv3d, "stride", 1)),
    Wrong("conv3d", "stride does not divide: pixels left over past the last window", "output sizes rounded up",
          ceil_output_size(ref.conv3d, n=3)),
    Wrong("conv3d", "padding > 0 on some axis", "padding ignored", ignored(ref.conv3d, "padding", 0)),
    Wrong("conv3d", "padding 0 on some axis", "padded with xp[p:-p] = x (crashes at padding 0)",
          padded_by_slice_assignment(ref.conv3d, n=3)),
    Wrong("conv3d", "batch N > 1", "only the first volume", first_image_only(ref.conv3d)),
    Wrong("conv3d", "several input channels", "only input channel 0", _conv3d_channel_zero),
    Wrong("conv3d", "several output channels", "out + b broadcasts b along W", bias_on_last_axis(ref.conv3d)),
    Wrong("conv3d", "bias None", "b used without checking for None", bias_not_checked(ref.conv3d)),
    Wrong("conv3d", "bias an array", "bias ignored", ignored(ref.conv3d, "b", None)),
    Wrong("conv3d", "D_out > 1: the kernel slides along depth", "only the first depth position",
          suite.conv3d_first_depth_only),
    Wrong("conv3d", "D_out > 1: the kernel slides along depth", "the first depth position repeated",
          suite.conv3d_first_depth_repeated),
    Wrong("conv3d", "kD > 1: a kernel of several frames", "each frame filtered apart (depth slices summed)",
          suite.conv3d_frames_apart),
    Wrong("conv3d", "stride > 1 along depth", "no stride along depth", _along_depth("stride", 1)),
    Wrong("conv3d", "padding > 0 along depth", "no padding along depth", _along_depth("padding", 0)),
] + _pair_mistakes("conv3d", ref.conv3d, ("stride", "padding"), word="triple")


# --------------------------------------------------------- conv_transpose2d

def _transpose_scatter(x, w, b=None, stride=1, padding=0, output_padding=0, assign=False):
    """Scatter form, one input pixel at a time; `assign` overwrites where the copies overlap."""
    x = np.asarray(x, dtype=np.float64)
    (sh, sw), (ph, pw), (oh, ow) = per_axis(stride), per_axis(padding), per_axis(output_padding)
    kh, kw = np.shape(w)[2:]
    n, _, height, width = x.shape
    full = np.zeros((n, np.shape(w)[1], (height - 1) * sh + kh + oh, (width - 1) * sw + kw + ow))
    for i in range(height):
        for j in range(width):
            copy = np.einsum("nc,cokl->nokl", x[:, :, i, j], w)
            if assign:
                full[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] = copy
            else:
                full[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += copy
    return suite._with_bias(full[:, :, ph:full.shape[2] - ph, pw:full.shape[3] - pw], b)


def _transpose_assigned(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return _transpose_scatter(x, w, b, stride, padding, output_padding, assign=True)


def _transpose_crop_minus_pad(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """full[p:-p]: empty along an axis of padding 0."""
    (ph, pw) = per_axis(padding)
    full = suite._full_transpose(x, w, stride, output_padding)
    return suite._with_bias(full[:, :, ph:-ph, pw:-pw], b)


def _transpose_width_from_height(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """W_out = (H - 1) * sW - 2 pW + kW + opW: the input's height used for its width (cut or zero columns)."""
    out = np.asarray(ref.conv_transpose2d(x, w, b, stride, padding, output_padding), dtype=np.float64)
    sw, pw, ow = per_axis(stride)[1], per_axis(padding)[1], per_axis(output_padding)[1]
    width = (np.shape(x)[2] - 1) * sw - 2 * pw + np.shape(w)[3] + ow
    wrong = np.zeros(out.shape[:3] + (width,))
    keep = min(width, out.shape[3])
    wrong[..., :keep] = out[..., :keep]
    return wrong


def _transpose_channel_zero(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    return ref.conv_transpose2d(np.asarray(x)[:, :1], np.asarray(w)[:1], b, stride, padding, output_padding)


CONV_TRANSPOSE2D = [
    Wrong("conv_transpose2d", "stride > 1 on some axis", "stride ignored",
          ignored(ref.conv_transpose2d, "stride", 1)),
    Wrong("conv_transpose2d", "stride < kernel span on some axis (windows overlap)",
          "kernel copies assigned instead of added", _transpose_assigned),
    Wrong("conv_transpose2d", "padding > 0 on some axis", "2p cropped at the end", suite.conv_transpose2d_crop_end),
    Wrong("conv_transpose2d", "padding > 0 on some axis", "2p cropped at the start",
          suite.conv_transpose2d_crop_start),
    Wrong("conv_transpose2d", "padding > 0 on some axis", "padding added instead of cropped",
          suite.conv_transpose2d_padding_added),
    Wrong("conv_transpose2d", "padding 0 on some axis", "cropped with full[p:-p]", _transpose_crop_minus_pad),
    Wrong("conv_transpose2d", "non-square input", "W_out computed from H",
          _transpose_width_from_height),
    Wrong("conv_transpose2d", "non-square kernel", "kernel width taken as kH",
          non_square_kernel_crash(ref.conv_transpose2d)),
    Wrong("conv_transpose2d", "batch N > 1", "only the first image", first_image_only(ref.conv_transpose2d)),
    Wrong("conv_transpose2d", "several input channels", "only input channel 0 scatters", _transpose_channel_zero),
    Wrong("conv_transpose2d", "several output channels", "out + b broadcasts b along W",
          bias_on_last_axis(ref.conv_transpose2d)),
    Wrong("conv_transpose2d", "bias None", "b used without checking for None",
          bias_not_checked(ref.conv_transpose2d)),
    Wrong("conv_transpose2d", "bias an array", "bias ignored", ignored(ref.conv_transpose2d, "b", None)),
    Wrong("conv_transpose2d", "output_padding > 0 on some axis", "output_padding ignored",
          suite.conv_transpose2d_no_output_padding),
    Wrong("conv_transpose2d", "output_padding > 0 on some axis", "output_padding appended as zeros after the crop",
          suite.conv_transpose2d_output_padding_zeros),
    Wrong("conv_transpose2d", "output_padding > 0 on some axis", "output_padding added at the top and left",
          suite.conv_transpose2d_output_padding_before),
] + _pair_mistakes("conv_transpose2d", ref.conv_transpose2d, ("stride", "padding", "output_padding"))


# ------------------------------------------------------------ conv2d_matrix

_matrix = ref_variants.conv2d_matrix

CONV2D_MATRIX = [
    Wrong("conv2d_matrix", "stride > 1 on some axis", "stride ignored", ignored(_matrix, "stride", 1)),
    Wrong("conv2d_matrix", "padding > 0 on some axis", "padding ignored", ignored(_matrix, "padding", 0)),
    Wrong("conv2d_matrix", "dilation > 1 on some axis", "dilation ignored", ignored(_matrix, "dilation", 1)),
    Wrong("conv2d_matrix", "groups > 1", "groups ignored",
          crash_when(_matrix, lambda a: a["groups"] > 1, "shapes not aligned: w has C_in / groups channels")),
    Wrong("conv2d_matrix", "several input channels", "columns in (H, W, C_in) order",
          suite.conv2d_matrix_columns_pixel_major),
    Wrong("conv2d_matrix", "several output channels", "rows in (H_out, W_out, C_out) order",
          suite.conv2d_matrix_rows_pixel_major),
    Wrong("conv2d_matrix", "non-square kernel", "kernel width taken as kH", non_square_kernel_crash(_matrix)),
] + _pair_mistakes("conv2d_matrix", _matrix, ("stride", "padding"))


# ----------------------------------------------- depthwise_separable_conv2d

_separable = ref_variants.depthwise_separable_conv2d


def _separable_channel_zero(x, w_depthwise, w_pointwise, b_depthwise=None, b_pointwise=None, stride=1, padding=0,
                            dilation=1):
    return suite.separable_depthwise_ignores_groups(x, w_depthwise, w_pointwise, b_depthwise, b_pointwise,
                                                    stride, padding, dilation)


SEPARABLE = [
    Wrong("depthwise_separable_conv2d", "stride > 1 on some axis", "stride ignored", ignored(_separable, "stride", 1)),
    Wrong("depthwise_separable_conv2d", "padding > 0 on some axis", "padding ignored",
          ignored(_separable, "padding", 0)),
    Wrong("depthwise_separable_conv2d", "dilation > 1 on some axis", "dilation ignored",
          ignored(_separable, "dilation", 1)),
    Wrong("depthwise_separable_conv2d", "non-square kernel", "kernel width taken as kH",
          non_square_kernel_crash(_separable, w="w_depthwise")),
    Wrong("depthwise_separable_conv2d", "batch N > 1", "only the first image", first_image_only(_separable)),
    Wrong("depthwise_separable_conv2d", "several input channels", "depthwise filters all read channel 0",
          _separable_channel_zero),
    Wrong("depthwise_separable_conv2d", "several output channels", "out + b_pointwise broadcasts along W",
          bias_on_last_axis(_separable, b="b_pointwise")),
    Wrong("depthwise_separable_conv2d", "b_depthwise None", "b_depthwise used without checking for None",
          bias_not_checked(_separable, b="b_depthwise")),
    Wrong("depthwise_separable_conv2d", "b_depthwise an array", "b_depthwise ignored",
          suite.separable_no_depthwise_bias),
    Wrong("depthwise_separable_conv2d", "b_pointwise None", "b_pointwise used without checking for None",
          bias_not_checked(_separable, b="b_pointwise")),
    Wrong("depthwise_separable_conv2d", "b_pointwise an array", "b_pointwise ignored",
          suite.separable_no_pointwise_bias),
] + _pair_mistakes("depthwise_separable_conv2d", _separable, ("stride", "padding"))


# --------------------------------------------------------- flattened_conv2d

_flattened = ref_variants.flattened_conv2d


def _flattened_channel_zero(x, w_channel, w_vertical, w_horizontal, b=None, stride=1, padding=0):
    return _flattened(np.asarray(x)[:, :1], np.asarray(w_channel)[:, :1], w_vertical, w_horizontal, b, stride,
                      padding)


FLATTENED = [
    Wrong("flattened_conv2d", "stride > 1 on some axis", "stride applied on every pass",
          suite.flattened_stride_every_pass),
    Wrong("flattened_conv2d", "padding > 0 on some axis", "padding applied on every pass",
          suite.flattened_padding_every_pass),
    Wrong("flattened_conv2d", "bias an array", "bias added after every pass", suite.flattened_bias_every_pass),
    Wrong("flattened_conv2d", "bias an array", "bias ignored", suite.flattened_no_bias),
    Wrong("flattened_conv2d", "bias None", "b used without checking for None", bias_not_checked(_flattened)),
    Wrong("flattened_conv2d", "batch N > 1", "only the first image", first_image_only(_flattened)),
    Wrong("flattened_conv2d", "several input channels", "only input channel 0", _flattened_channel_zero),
    Wrong("flattened_conv2d", "several output channels", "out + b broadcasts b along W",
          bias_on_last_axis(_flattened)),
    Wrong("flattened_conv2d", "non-square kernel (kH != kW)", "kW taken from w_vertical",
          crash_when(_flattened, lambda a: suite._flattened_kernel(a)[0] != suite._flattened_kernel(a)[1],
                     "operands could not be broadcast together (kW taken as kH)")),
] + _pair_mistakes("flattened_conv2d", _flattened, ("stride", "padding"))


# ---------------------------------------------------------- channel_shuffle

def _shuffle_spatial_mixed(x, groups):
    """x.reshape(N, groups, -1): the pixels are shuffled with the channels (right only for 1x1 images)."""
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(len(x), groups, -1).transpose(0, 2, 1).reshape(x.shape)


def _shuffle_first_image(x, groups):
    return ref.channel_shuffle(np.asarray(x)[:1], groups)


CHANNEL_SHUFFLE = [
    Wrong("channel_shuffle", "1 < groups < C: channels move", "the inverse permutation",
          suite.channel_shuffle_inverse),
    Wrong("channel_shuffle", "1 < groups < C: channels move", "no transpose", suite.channel_shuffle_unchanged),
    Wrong("channel_shuffle", "batch N > 1", "only the first image", _shuffle_first_image),
    Wrong("channel_shuffle", "images larger than 1x1", "pixels reshaped together with the channels",
          _shuffle_spatial_mixed),
]


WRONG = (CONV2D + RECEPTIVE_FIELD + CONV3D + CONV_TRANSPOSE2D + CONV2D_MATRIX + SEPARABLE + FLATTENED
         + CHANNEL_SHUFFLE)
