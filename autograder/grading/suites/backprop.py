"""Hidden checks of Lesson 2, backpropagation through a CNN (source/02_cnn_backprop).

Exercises in notebook order: three short answers on shapes and costs, `conv2d`,
`conv2d_backward_stride1` (the first step of the ladder: stride 1, no padding),
`conv2d_backward`, `numerical_gradient` and the composite
`network_loss_and_grads`. Every misconception below is a small wrong
implementation next to the one sentence that names it; the tests in
tests/test_suite_backprop.py make sure some check produces each of them.

The composite is graded on its wiring: its expected result chains the
student's own `conv2d` and `conv2d_backward` with the reference pieces the
student did not write, so a bug in those two costs their points only.
"""
import numpy as np

from autograder.grading import compare
from autograder.grading.spec import Case, Check, Exercise, Lesson, Misconception, Regime, named_function
from autograder.grading.suites.conv_regimes import channel_regimes, conv_geometry_regimes
from autograder.reference import arithmetic
from autograder.reference._util import pair
from autograder.reference.conv import conv2d, conv2d_backward
from autograder.reference.network import (cross_entropy, cross_entropy_backward, linear, linear_backward,
                                          relu, relu_backward)
from autograder.reference.pooling import max_pool2d, max_pool2d_backward

LESSON_ID = "02_cnn_backprop"

# The seed's 5x5 binary image and 3x3 filter (its first output is the 4 of the seed's figure).
SEED_IMAGE = np.array([[1, 1, 1, 0, 0],
                       [0, 1, 1, 1, 0],
                       [0, 0, 1, 1, 1],
                       [0, 0, 1, 1, 0],
                       [0, 1, 1, 0, 0]], dtype=np.float64)
SEED_FILTER = np.array([[1, 0, 1],
                        [0, 1, 0],
                        [1, 0, 1]], dtype=np.float64)


# ------------------------------------------------------------ short answers

def _value_exercise(name, answer, check_name):
    return Exercise(name=name, kind="value", reference=answer,
                    checks=[Check(check_name, 1, lambda rng: [])])


# The counting scenario of the notebook: a 3x32x32 image, a conv layer of 64
# 3x3 filters with padding 1 (output 64x32x32) against a fully connected layer
# from the 3072 input numbers to 100 outputs, both with bias.
PARAM_COUNTS = (arithmetic.conv2d_param_count(3, 64, 3), arithmetic.linear_param_count(3 * 32 * 32, 100))
MULT_ADDS = (arithmetic.conv2d_mult_adds(3, 64, 3, 32), arithmetic.linear_mult_adds(3 * 32 * 32, 100))

Q_STRIDED_SHAPE = _value_exercise(
    "q_strided_output_shape", (64, 2, 2),
    "output shape for a (3, 6, 6) input, 64 filters of (3, 3, 3), stride 2")
Q_PARAMS = _value_exercise("q_param_counts", PARAM_COUNTS,
                           "parameters of the conv layer and of the fully connected layer")
Q_MULT_ADDS = _value_exercise("q_mult_adds", MULT_ADDS,
                              "multiply-adds of the conv layer and of the fully connected layer")


# --------------------------------------------------------------------- conv2d

def _conv_case(rng, x_shape, w_shape, bias=True, note="", **kwargs):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    args = (x, w, rng.standard_normal(w_shape[0])) if bias else (x, w)
    return Case(args, kwargs, note)


def _seed_image_case():
    return Case((SEED_IMAGE[None, None], SEED_FILTER[None, None]), {},
                "the 5x5 image and 3x3 filter of the lesson")


def _rot180(w):
    return w[..., ::-1, ::-1]


def _flipped_conv2d(x, w, b=None, stride=1, padding=0):
    return conv2d(x, _rot180(w), b, stride, padding)


def _conv2d_without_bias(x, w, b=None, stride=1, padding=0):
    return conv2d(x, w, None, stride, padding)


def _conv2d_stride_ignored(x, w, b=None, stride=1, padding=0):
    return conv2d(x, w, b, 1, padding)


def _conv2d_padding_one_side(x, w, b=None, stride=1, padding=0):
    ph, pw = pair(padding, "padding")
    return conv2d(np.pad(x, ((0, 0), (0, 0), (ph, 0), (pw, 0))), w, b, stride, 0)


def _conv2d_bias_per_product(x, w, b=None, stride=1, padding=0):
    """b[o] added to every product x * w before summing: counted C_in * kH * kW times."""
    out = conv2d(x, w, None, stride, padding)
    if b is None:
        return out
    return out + np.prod(w.shape[1:]) * np.asarray(b, dtype=np.float64).reshape(1, -1, 1, 1)


def _conv2d_channel_cases(rng):
    return [_conv_case(rng, (1, 3, 4, 4), (2, 3, 3, 3), note="channels summed, one bias per filter"),
            _conv_case(rng, (2, 2, 4, 5), (3, 2, 2, 2), note="batch of 2"),
            _conv_case(rng, (2, 2, 3, 4), (2, 2, 2, 2), bias=False, note="b=None: no bias")]


def _conv2d_stride_cases(rng):
    return [_conv_case(rng, (1, 1, 5, 5), (1, 1, 3, 3), stride=2),
            _conv_case(rng, (1, 2, 6, 6), (2, 2, 3, 3), stride=2, note="stride does not divide"),
            _conv_case(rng, (1, 1, 7, 7), (2, 1, 2, 2), bias=False, stride=3,
                       note="stride 3 > kernel 2: some pixels are read by no window")]


def _conv2d_padding_cases(rng):
    return [_conv_case(rng, (1, 1, 4, 4), (1, 1, 3, 3), padding=1, note="output as large as the input"),
            _conv_case(rng, (1, 2, 3, 4), (2, 2, 3, 3), bias=False, padding=2,
                       note="padding 2 = kernel - 1: the corner windows read one pixel")]


def _conv2d_pair_cases(rng):
    return [_conv_case(rng, (2, 2, 5, 7), (3, 2, 3, 2), stride=(2, 3), padding=(1, 0)),
            _conv_case(rng, (1, 3, 6, 5), (2, 3, 2, 3), stride=(3, 2), padding=(0, 1)),
            _conv_case(rng, (1, 1, 5, 7), (2, 1, 2, 2), bias=False, stride=(1, 3)),
            _conv_case(rng, (1, 2, 3, 4), (2, 2, 2, 3), bias=False, padding=(2, 1)),
            _conv_case(rng, (1, 1, 4, 4), (1, 1, 2, 2), stride=(2, 2), padding=(1, 1),
                       note="equal pairs: the same as stride=2, padding=1")]


CONV2D_REGIMES = (conv_geometry_regimes(conv2d, ["stride > 1", "stride pair", "stride unequal", "not dividing",
                                                  "padding > 0", "padding 0", "padding pair", "padding unequal",
                                                  "non-square input", "non-square kernel", "batch"])
                  + channel_regimes(conv2d))

CONV2D = Exercise(
    name="conv2d", reference=conv2d,
    checks=[
        Check("output shape for a (3, 6, 6) input, 64 filters of (3, 3, 3), stride 2", 1,
              lambda rng: [_conv_case(rng, (1, 3, 6, 6), (64, 3, 3, 3), bias=False, stride=2,
                                      note="(6 - 3) / 2 + 1 = 2.5, rounded down")], kind="shape"),
        Check("one channel, one filter (square and non-square kernels)", 2,
              lambda rng: [_seed_image_case(),
                           _conv_case(rng, (1, 1, 4, 5), (1, 1, 2, 3), bias=False, note="asymmetric kernel")]),
        Check("several channels and filters, a batch, with and without bias", 2, _conv2d_channel_cases),
        Check("stride (an int)", 2, _conv2d_stride_cases),
        Check("padding (an int)", 2, _conv2d_padding_cases),
        Check("stride and padding as pairs (sH, sW), (pH, pW), non-square input and kernel", 2,
              _conv2d_pair_cases),
        Check("input left unmodified", 1,
              lambda rng: [_conv_case(rng, (1, 2, 4, 4), (2, 2, 3, 3), stride=2, padding=1)], kind="unmodified"),
    ],
    regimes=CONV2D_REGIMES,
    misconceptions=[
        Misconception("flipped kernel",
                      "the kernel was rotated by 180 degrees (true convolution); conv2d, like "
                      "torch, is cross-correlation: out[i, j] = sum of x[i + a, j + b] * w[a, b], no flip",
                      _flipped_conv2d),
        Misconception("bias ignored", "the bias b was not added: every output channel o gets + b[o]",
                      _conv2d_without_bias),
        Misconception("stride ignored",
                      "stride was ignored: the window moves `stride` pixels between outputs, so output "
                      "(i, j) starts at input row i * stride and column j * stride",
                      _conv2d_stride_ignored),
        Misconception("padding on one side",
                      "padding was added only before the input (top/left); `padding` zeros go on both sides",
                      _conv2d_padding_one_side),
        Misconception("bias added to every product",
                      "the bias was added to every product x * w before summing, so it counts "
                      "C_in * kH * kW times; b[o] is added once to each output pixel of filter o",
                      _conv2d_bias_per_product),
    ],
)


# ------------------------------------------------------------ conv2d_backward

def _backward_case(rng, x_shape, w_shape, note="", **kwargs):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    grad_out = rng.standard_normal(conv2d(x, w, None, **kwargs).shape)
    return Case((grad_out, x, w), kwargs, note)


def _seed_backward_cases(rng):
    """The derivation of the lesson (from the seed): a 3x3 input and a 2x2 kernel give a 2x2 output."""
    x = rng.standard_normal((1, 1, 3, 3))
    w = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    one_hot = np.zeros((1, 1, 2, 2))
    one_hot[0, 0, 0, 0] = 1.0
    return [Case((one_hot, x, w), {}, "grad_out is 1 at the top-left output, 0 elsewhere"),
            _backward_case(rng, (1, 1, 3, 3), (1, 1, 2, 2), note="3x3 input, 2x2 kernel")]


def _batch_channel_cases(rng):
    return [_backward_case(rng, (2, 2, 4, 4), (2, 2, 3, 3), note="as many filters as input channels"),
            _backward_case(rng, (2, 3, 4, 5), (2, 3, 2, 2))]


def _stride_cases(rng):
    return [_backward_case(rng, (1, 1, 5, 5), (1, 1, 3, 3), stride=2),
            _backward_case(rng, (1, 2, 6, 6), (2, 2, 3, 3), stride=2,
                           note="stride does not divide: the last row and column get no gradient"),
            _backward_case(rng, (2, 1, 7, 7), (1, 1, 2, 2), stride=3,
                           note="stride 3 > kernel 2: pixels between windows get no gradient")]


def _padding_cases(rng):
    return [_backward_case(rng, (1, 2, 3, 4), (2, 2, 3, 3), padding=1),
            _backward_case(rng, (2, 1, 3, 3), (1, 1, 3, 3), padding=2,
                           note="padding 2 = kernel - 1: the corner windows read one pixel")]


def _together_cases(rng):
    return [_backward_case(rng, (2, 2, 5, 6), (3, 2, 3, 2), stride=(2, 1), padding=(1, 0)),
            _backward_case(rng, (1, 3, 6, 5), (2, 3, 2, 3), stride=(3, 2), padding=(0, 1)),
            _backward_case(rng, (2, 1, 5, 7), (1, 1, 2, 2), stride=(2, 3)),
            _backward_case(rng, (2, 1, 3, 3), (1, 1, 3, 2), padding=(2, 1))]


def _wrong_backward(**replacements):
    """conv2d_backward with some of (grad_x, grad_w, grad_b) computed by a wrong function.

    Each replacement takes (grad_out, x, w, stride, padding) and returns one array.
    """
    def wrong(grad_out, x, w, stride=1, padding=0):
        grads = dict(zip(("grad_x", "grad_w", "grad_b"), conv2d_backward(grad_out, x, w, stride, padding)))
        for name, replacement in replacements.items():
            grads[name] = replacement(grad_out, x, w, stride, padding)
        return grads["grad_x"], grads["grad_w"], grads["grad_b"]
    return wrong


def _grad_x_unrotated(grad_out, x, w, stride, padding):
    return conv2d_backward(grad_out, x, _rot180(w), stride, padding)[0]


def _grad_x_channels_not_swapped(grad_out, x, w, stride, padding):
    # Only possible when C_in == C_out: w used as if its axes were (C_in, C_out, ...).
    return conv2d_backward(grad_out, x, w.transpose(1, 0, 2, 3), stride, padding)[0]


def _grad_x_uncropped(grad_out, x, w, stride, padding):
    ph, pw = pair(padding, "padding")
    return conv2d_backward(grad_out, np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))), w, stride, 0)[0]


def _grad_x_cropped_minus_pad(grad_out, x, w, stride, padding):
    """The padded input's gradient cropped with [ph:-ph, pw:-pw]: empty along an axis of padding 0."""
    ph, pw = pair(padding, "padding")
    full = _grad_x_uncropped(grad_out, x, w, stride, padding)
    return full[:, :, ph:-ph, pw:-pw]


def _scatter_without_stride(grad_out, w, size, padding):
    """grad_out entry (i, j) adds w times it at rows i.., columns j.. (not i*stride), then crop."""
    ph, pw = pair(padding, "padding")
    kh, kw = w.shape[2:]
    h_out, w_out = grad_out.shape[2:]
    grad = np.zeros((grad_out.shape[0], w.shape[1]) + tuple(size))
    for a in range(kh):
        for b in range(kw):
            grad[:, :, a:a + h_out, b:b + w_out] += np.einsum("nohw,oc->nchw", grad_out, w[:, :, a, b])
    return grad[:, :, ph:grad.shape[2] - ph, pw:grad.shape[3] - pw]


def _grad_x_stride_ignored(grad_out, x, w, stride, padding):
    """Scatter form: grad_out not spread apart, into an array of the padded input's size."""
    ph, pw = pair(padding, "padding")
    return _scatter_without_stride(grad_out, w, (x.shape[2] + 2 * ph, x.shape[3] + 2 * pw), padding)


def _grad_x_full_conv_stride_ignored(grad_out, x, w, stride, padding):
    """Full-convolution form: grad_out not spread apart, so the result is too small."""
    h_out, w_out = grad_out.shape[2:]
    kh, kw = w.shape[2:]
    return _scatter_without_stride(grad_out, w, (h_out + kh - 1, w_out + kw - 1), padding)


def _grad_w_stride_ignored(grad_out, x, w, stride, padding):
    ph, pw = pair(padding, "padding")
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h_out, w_out = grad_out.shape[2:]
    grad_w = np.zeros(w.shape)
    for a in range(w.shape[2]):
        for b in range(w.shape[3]):
            grad_w[:, :, a, b] = np.einsum("nohw,nchw->oc", grad_out, xp[:, :, a:a + h_out, b:b + w_out])
    return grad_w


def _grad_w_rotated(grad_out, x, w, stride, padding):
    return _rot180(conv2d_backward(grad_out, x, w, stride, padding)[1])


def _grad_w_rotated_grad_out(grad_out, x, w, stride, padding):
    return conv2d_backward(_rot180(grad_out), x, w, stride, padding)[1]


def _grad_w_per_sample(grad_out, x, w, stride, padding):
    return np.stack([conv2d_backward(grad_out[n:n + 1], x[n:n + 1], w, stride, padding)[1]
                     for n in range(len(x))])


STRIDE_IGNORED = ("stride was ignored in the backward pass: spread grad_out apart first, "
                  "putting stride - 1 zeros between its entries, so each entry returns to the "
                  "window it came from (output (i, j) read input rows from i * stride)")
GRAD_W_ROTATED = ("grad_w was rotated by 180 degrees: the weight gradient correlates the input "
                  "with grad_out, grad_w[a, b] = sum over (i, j) of x[i + a, j + b] * grad_out[i, j], "
                  "with no flip; only grad_x uses the rotated kernel")

CONV2D_BACKWARD = Exercise(
    name="conv2d_backward", reference=conv2d_backward, output_names=("grad_x", "grad_w", "grad_b"),
    checks=[
        # The stride-1 cases are worth less here than before conv2d_backward_stride1 (6 points)
        # took them over; stride, padding and pairs keep their weight (total 20 -> 14).
        Check("grad_x on a 3x3 input and a 2x2 kernel", 1, _seed_backward_cases, outputs=(0,)),
        Check("grad_w on a 3x3 input and a 2x2 kernel", 1, _seed_backward_cases, outputs=(1,)),
        Check("grad_b: one sum per filter over the batch and all output pixels", 1,
              lambda rng: [_backward_case(rng, (2, 2, 4, 4), (3, 2, 2, 2)),
                           _backward_case(rng, (1, 1, 3, 4), (2, 1, 2, 2), stride=2)], outputs=(2,)),
        Check("grad_x with a batch, several channels and filters", 1, _batch_channel_cases, outputs=(0,)),
        Check("grad_w with a batch, several channels and filters", 1, _batch_channel_cases, outputs=(1,)),
        Check("stride (an int): grad_x", 2, _stride_cases, outputs=(0,)),
        Check("stride (an int): grad_w", 2, _stride_cases, outputs=(1,)),
        Check("padding (an int): grad_x and grad_w", 2, _padding_cases, outputs=(0, 1)),
        Check("stride and padding as pairs (sH, sW), (pH, pW), non-square input and kernel", 2,
              _together_cases),
        Check("inputs left unmodified", 1,
              lambda rng: [_backward_case(rng, (1, 2, 4, 4), (2, 2, 3, 3), stride=2, padding=1)],
              kind="unmodified"),
    ],
    regimes=conv_geometry_regimes(conv2d_backward, [
        "stride > 1", "stride >= 3", "stride pair", "stride unequal", "overlap", "not dividing", "padding > 0",
        "padding 0", "padding maximal", "padding pair", "padding unequal", "non-square input",
        "non-square kernel", "batch"]) + channel_regimes(conv2d_backward, b=None),
    misconceptions=[
        Misconception("grad_x cropped with [pad:-pad]",
                      "grad_x was cropped with [pad:-pad], which is empty when the padding is 0 "
                      "(x[0:-0] keeps nothing); crop with [pad:pad + H] (and [pad:pad + W]) instead",
                      _wrong_backward(grad_x=_grad_x_cropped_minus_pad)),
        Misconception("grad_x kernel not rotated",
                      "grad_x used the kernel as it is; it is the full convolution of grad_out with "
                      "the kernel rotated by 180 degrees (w[..., ::-1, ::-1])",
                      _wrong_backward(grad_x=_grad_x_unrotated)),
        Misconception("grad_x channels not swapped",
                      "grad_x used w as if it were (C_in, C_out, kH, kW); input channel c collects "
                      "grad_out[:, o] through w[o, c] from every filter o, so swap the kernel's first two axes",
                      _wrong_backward(grad_x=_grad_x_channels_not_swapped)),
        Misconception("grad_x not cropped",
                      "grad_x still has the padding border: crop `padding` rows and columns from "
                      "each side so it has the shape of x",
                      _wrong_backward(grad_x=_grad_x_uncropped)),
        Misconception("stride ignored in grad_x", STRIDE_IGNORED,
                      _wrong_backward(grad_x=_grad_x_stride_ignored)),
        Misconception("stride ignored in grad_x (full convolution)", STRIDE_IGNORED,
                      _wrong_backward(grad_x=_grad_x_full_conv_stride_ignored)),
        Misconception("stride ignored in grad_w", STRIDE_IGNORED,
                      _wrong_backward(grad_w=_grad_w_stride_ignored)),
        Misconception("stride ignored in grad_x and grad_w", STRIDE_IGNORED,
                      _wrong_backward(grad_x=_grad_x_stride_ignored, grad_w=_grad_w_stride_ignored)),
        Misconception("grad_w rotated", GRAD_W_ROTATED, _wrong_backward(grad_w=_grad_w_rotated)),
        Misconception("grad_w from a rotated grad_out", GRAD_W_ROTATED,
                      _wrong_backward(grad_w=_grad_w_rotated_grad_out)),
        Misconception("grad_w not summed over the batch",
                      "grad_w was not summed over the batch: every image used the same w, so their "
                      "contributions add up to one (C_out, C_in, kH, kW) array",
                      _wrong_backward(grad_w=_grad_w_per_sample)),
        Misconception("grad_b averaged",
                      "grad_b was averaged; it is the sum of grad_out over the batch and every output "
                      "pixel of the filter, because b[o] is added to each of them",
                      _wrong_backward(grad_b=lambda g, *rest: g.mean(axis=(0, 2, 3)))),
        Misconception("grad_b not summed over the batch",
                      "grad_b was summed over the wrong axes: sum grad_out over the batch and both "
                      "spatial axes, (N, H_out, W_out), keeping one entry per filter",
                      _wrong_backward(grad_b=lambda g, *rest: g.sum(axis=(2, 3)))),
        Misconception("grad_b counted once per product",
                      "grad_b was multiplied by C_in * kH * kW, as if the bias were added to every product "
                      "x * w; it is added once per output pixel, so grad_b[o] is just the sum of grad_out[:, o]",
                      _wrong_backward(grad_b=lambda g, x, w, *rest: np.prod(w.shape[1:]) * g.sum(axis=(0, 2, 3)))),
        Misconception("grad_b summed over everything",
                      "grad_b was summed over the wrong axes: sum grad_out over the batch and both "
                      "spatial axes, (N, H_out, W_out), keeping one entry per filter",
                      _wrong_backward(grad_b=lambda g, *rest: g.sum())),
    ],
)


# ---------------------------------------------------- conv2d_backward_stride1

def conv2d_backward_stride1(grad_out, x, w):
    """The first step of the lesson's ladder: conv2d_backward for stride 1 and no padding.

    grad_out: (N, C_out, H - kH + 1, W - kW + 1); x: (N, C_in, H, W); w: (C_out, C_in, kH, kW).
    Returns (grad_x, grad_w, grad_b), as conv2d_backward(grad_out, x, w) (no torch counterpart).
    """
    return conv2d_backward(grad_out, x, w, 1, 0)


def _stride1_case(rng, x_shape, w_shape, note=""):
    return _backward_case(rng, x_shape, w_shape, note)


def _stride1_seed_cases(rng):
    return _seed_backward_cases(rng)


def _stride1_batch_channel_cases(rng):
    return [_stride1_case(rng, (2, 2, 4, 4), (2, 2, 3, 3), note="as many filters as input channels"),
            _stride1_case(rng, (2, 3, 4, 6), (2, 3, 2, 3), note="non-square input and kernel"),
            _stride1_case(rng, (2, 3, 5, 3), (3, 3, 3, 1), note="a 3x1 kernel on a 5x3 input")]


def _wrong_stride1(**replacements):
    """conv2d_backward_stride1 with some of its outputs from conv2d_backward's wrong replacements."""
    wrong = _wrong_backward(**replacements)
    return lambda grad_out, x, w: wrong(grad_out, x, w, 1, 0)


CONV2D_BACKWARD_STRIDE1 = Exercise(
    name="conv2d_backward_stride1", reference=conv2d_backward_stride1,
    output_names=("grad_x", "grad_w", "grad_b"),
    checks=[
        Check("grad_x on a 3x3 input and a 2x2 kernel", 1, _stride1_seed_cases, outputs=(0,)),
        Check("grad_w on a 3x3 input and a 2x2 kernel", 1, _stride1_seed_cases, outputs=(1,)),
        Check("grad_b: one sum per filter over the batch and all output pixels", 1,
              lambda rng: [_stride1_case(rng, (2, 2, 4, 4), (3, 2, 2, 2)),
                           _stride1_case(rng, (1, 1, 3, 4), (2, 1, 2, 2))], outputs=(2,)),
        Check("grad_x with a batch, several channels and filters, non-square input and kernel", 1,
              _stride1_batch_channel_cases, outputs=(0,)),
        Check("grad_w with a batch, several channels and filters, non-square input and kernel", 1,
              _stride1_batch_channel_cases, outputs=(1,)),
        Check("inputs left unmodified", 1,
              lambda rng: [_stride1_case(rng, (1, 2, 4, 4), (2, 2, 3, 3))], kind="unmodified"),
    ],
    regimes=(conv_geometry_regimes(conv2d_backward_stride1, ["non-square input", "non-square kernel", "batch"])
             + channel_regimes(conv2d_backward_stride1, b=None)),
    misconceptions=[
        Misconception("grad_x kernel not rotated",
                      "grad_x used the kernel as it is; it is the full cross-correlation of grad_out with "
                      "the kernel rotated by 180 degrees (w[..., ::-1, ::-1])",
                      _wrong_stride1(grad_x=_grad_x_unrotated)),
        Misconception("grad_x channels not swapped",
                      "grad_x used w as if it were (C_in, C_out, kH, kW); input channel c collects "
                      "grad_out[:, o] through w[o, c] from every filter o, so swap the kernel's first two axes",
                      _wrong_stride1(grad_x=_grad_x_channels_not_swapped)),
        Misconception("grad_w rotated", GRAD_W_ROTATED, _wrong_stride1(grad_w=_grad_w_rotated)),
        Misconception("grad_w from a rotated grad_out", GRAD_W_ROTATED,
                      _wrong_stride1(grad_w=_grad_w_rotated_grad_out)),
        Misconception("grad_w not summed over the batch",
                      "grad_w was not summed over the batch: every image used the same w, so their "
                      "contributions add up to one (C_out, C_in, kH, kW) array",
                      _wrong_stride1(grad_w=_grad_w_per_sample)),
        Misconception("grad_b averaged",
                      "grad_b was averaged; it is the sum of grad_out over the batch and every output "
                      "pixel of the filter, because b[o] is added to each of them",
                      _wrong_stride1(grad_b=lambda g, *rest: g.mean(axis=(0, 2, 3)))),
    ],
)


# --------------------------------------------------------- numerical_gradient

def centred_difference(f, x, eps=1e-6):
    """The reference numerical gradient: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) per entry."""
    return _difference(f, x, eps, forward=False)


def _difference(f, x, eps, forward):
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = f(x)
        x[index] = saved if forward else saved - eps
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (eps if forward else 2 * eps)
    return grad


def _forward_difference(f, x, eps=1e-6):
    return _difference(f, x, eps, forward=True)


def _divided_by_eps(f, x, eps=1e-6):
    return 2 * centred_difference(f, x, eps)


def _analytic_gradient(f, x):
    """The exact gradient of each test function of autograder/grading/child.py."""
    if f.name == "cubic":
        (a,) = f.params
        return 3 * a * x ** 2
    if f.name == "weighted_square_sum":
        a, b = f.params
        return 2 * a * x + b
    if f.name == "tanh_of_linear":
        (w,) = f.params
        t = np.tanh(w @ x.reshape(-1))
        return (w.T @ (1 - t ** 2)).reshape(x.shape)
    if f.name == "log_sum_exp":
        e = np.exp(x - x.max())
        return e / e.sum()
    raise KeyError(f"no analytic gradient for {f.name}")


def _expected_gradient(case, student):
    return [_analytic_gradient(*case.args[:2])]


def _cubic_case(rng, shape, note=""):
    return Case((named_function("cubic", rng.uniform(-1, 1, shape)), rng.uniform(-2, 2, shape)), {}, note)


def _any_shape_cases(rng):
    x = rng.standard_normal((2, 3))
    y = rng.standard_normal((1, 2, 2, 2))
    return [Case((named_function("weighted_square_sum", rng.standard_normal((2, 3)),
                                 rng.standard_normal((2, 3))), x), {}, "a (2, 3) array"),
            Case((named_function("tanh_of_linear", 0.5 * rng.standard_normal((3, 8))), y), {},
                 "a (1, 2, 2, 2) array"),
            Case((named_function("log_sum_exp"), rng.standard_normal((2, 3))), {},
                 "its gradient is the softmax of x")]


def _eps_cases(rng):
    a = rng.uniform(0.5, 2.0, 4)
    return [Case((named_function("weighted_square_sum", a, rng.standard_normal(4)), rng.standard_normal(4)),
                 {"eps": 0.01}, "a quadratic, where the centred difference is exact for any eps")]


NUMERICAL_GRADIENT = Exercise(
    name="numerical_gradient", reference=centred_difference, expected=_expected_gradient,
    checks=[
        Check("cubic function of a vector", 2, lambda rng: [_cubic_case(rng, (5,))]),
        Check("arrays of any shape", 2, _any_shape_cases),
        Check("uses the given eps with a centred difference", 2, _eps_cases),
        Check("x left unmodified", 1, lambda rng: [_cubic_case(rng, (2, 3))], kind="unmodified"),
    ],
    regimes=[Regime("x with 2 or more axes", lambda case: np.ndim(case.args[1]) >= 2)],
    misconceptions=[
        Misconception("forward difference",
                      "this is the one-sided difference (f(x + eps) - f(x)) / eps, whose error grows "
                      "like eps; the centred difference (f(x + eps) - f(x - eps)) / (2 eps) errs like eps**2",
                      _forward_difference),
        Misconception("divided by eps",
                      "the centred difference was divided by eps; the two points are 2 * eps apart, "
                      "so divide by 2 * eps",
                      _divided_by_eps),
    ],
)


# ---------------------------------------------------- network_loss_and_grads

def network_loss_and_grads(x, y, w_conv, b_conv, w_fc, b_fc, conv=conv2d, conv_backward=conv2d_backward,
                           relu_grad=True):
    """The reference composite: conv 3x3 pad 1 -> ReLU -> 2x2 max pool -> flatten -> linear -> cross-entropy.

    x: (N, C_in, H, W), H and W even; y: (N,) classes; w_conv: (F, C_in, 3, 3); b_conv: (F,);
    w_fc: (K, F * H/2 * W/2); b_fc: (K,).
    Returns (loss, grad_w_conv, grad_b_conv, grad_w_fc, grad_b_fc).
    `conv`, `conv_backward` and `relu_grad` let the grading swap in other pieces.
    """
    conv_out = np.asarray(conv(x, w_conv, b_conv, stride=1, padding=1), dtype=np.float64)
    activated = relu(conv_out)
    pooled = max_pool2d(activated, 2)
    flat = pooled.reshape(len(x), -1)
    scores = linear(flat, w_fc, b_fc)
    loss = cross_entropy(scores, y)

    grad_scores = cross_entropy_backward(1.0, scores, y)
    grad_flat, grad_w_fc, grad_b_fc = linear_backward(grad_scores, flat, w_fc)
    grad_activated = max_pool2d_backward(grad_flat.reshape(pooled.shape), activated, 2)
    grad_conv_out = relu_backward(grad_activated, conv_out) if relu_grad else grad_activated
    _, grad_w_conv, grad_b_conv = conv_backward(grad_conv_out, x, w_conv, stride=1, padding=1)
    return loss, grad_w_conv, grad_b_conv, grad_w_fc, grad_b_fc


NETWORK_OUTPUTS = ("loss", "grad_w_conv", "grad_b_conv", "grad_w_fc", "grad_b_fc")


def _all_close(got, expected):
    return len(got) == len(expected) and all(
        compare.close(np.asarray(g, dtype=np.float64), np.asarray(e, dtype=np.float64))
        for g, e in zip(got, expected))


def _expected_network(case, student):
    """The composite's expected outputs, built on the student's own conv2d and conv2d_backward.

    A composite wired correctly to a buggy conv2d is right *for that conv2d*, and a
    composite that is right outright is right too; only a wiring bug costs points here.
    """
    reference = network_loss_and_grads(*case.args)
    try:
        chained = network_loss_and_grads(
            *case.args,
            conv=lambda *args, **kwargs: student("conv2d", *args, **kwargs),
            conv_backward=lambda *args, **kwargs: student("conv2d_backward", *args, n_outputs=3, **kwargs))
    except Exception:  # noqa: BLE001 - the student's pieces fail or have wrong shapes: use the reference
        return reference
    if _all_close(chained, reference):
        return reference
    try:
        got = student("network_loss_and_grads", *case.args, n_outputs=len(NETWORK_OUTPUTS))
    except RuntimeError:
        return chained
    return reference if _all_close(got, reference) else chained


def _network_case(rng, n, c_in, h, w, filters, classes, note=""):
    x = rng.standard_normal((n, c_in, h, w))
    y = rng.integers(0, classes, n)
    w_conv = 0.5 * rng.standard_normal((filters, c_in, 3, 3))
    b_conv = 0.1 * rng.standard_normal(filters)
    # Filter 0 is shut by ReLU everywhere, so its gradient must be exactly 0: a
    # missing ReLU backward shows whatever the random draws are.
    b_conv[0] = -20.0
    w_fc = 0.5 * rng.standard_normal((classes, filters * h * w // 4))
    b_fc = 0.1 * rng.standard_normal(classes)
    return Case((x, y, w_conv, b_conv, w_fc, b_fc), {}, note)


def _network_cases(rng):
    closed = "; filter 0's bias keeps its ReLU closed everywhere"
    return [_network_case(rng, 2, 1, 4, 4, 3, 3, "a batch of 2 one-channel 4x4 images" + closed),
            _network_case(rng, 3, 2, 4, 6, 2, 4, "a batch of 3 two-channel 4x6 images" + closed)]


def _summed_loss(x, y, *params):
    return tuple(len(x) * np.asarray(v) for v in network_loss_and_grads(x, y, *params))


def _relu_gradient_skipped(x, y, *params):
    return network_loss_and_grads(x, y, *params, relu_grad=False)


NETWORK = Exercise(
    name="network_loss_and_grads", reference=network_loss_and_grads, output_names=NETWORK_OUTPUTS,
    expected=_expected_network,
    checks=[
        Check("loss", 2, _network_cases, outputs=(0,)),
        Check("grad_w_fc and grad_b_fc", 2, _network_cases, outputs=(3, 4)),
        Check("grad_w_conv and grad_b_conv", 3, _network_cases, outputs=(1, 2)),
        Check("inputs left unmodified", 1, lambda rng: _network_cases(rng)[:1], kind="unmodified"),
    ],
    regimes=[Regime("batch N > 1", lambda case: len(case.args[0]) > 1),
             Regime("several conv filters F > 1", lambda case: len(case.args[2]) > 1),
             Regime("ReLU closed at some conv outputs (conv output <= 0)",
                    lambda case: bool(np.any(conv2d(*case.args[:1], *case.args[2:4], padding=1) <= 0)))],
    misconceptions=[
        Misconception("loss summed",
                      "the loss was summed over the batch (and the gradients with it); it is the mean, "
                      "so cross_entropy_backward already divides by N",
                      _summed_loss),
        Misconception("ReLU gradient skipped",
                      "the gradient skipped ReLU's backward: where the conv output was <= 0 the "
                      "gradient must be 0 (relu_backward(grad, conv_out))",
                      _relu_gradient_skipped),
    ],
)


LESSON = Lesson(LESSON_ID, "Backpropagation through a CNN",
                [Q_STRIDED_SHAPE, Q_PARAMS, Q_MULT_ADDS, CONV2D, CONV2D_BACKWARD_STRIDE1, CONV2D_BACKWARD,
                 NUMERICAL_GRADIENT, NETWORK])
