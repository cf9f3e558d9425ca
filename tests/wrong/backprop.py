"""Wrong-in-one-regime implementations of lesson 2's exercises (autograder/grading/suites/backprop.py).

Each one is right everywhere except in its regime, where it makes a mistake
found in student or library code: int-only stride and padding, `[pad:-pad]`
crops, zeros inserted with np.insert, scatters that assign instead of add.
tests/test_regimes.py proves it.
"""
import numpy as np

from autograder.grading.suites import backprop as suite
from autograder.reference._util import pair
from autograder.reference.conv import conv2d, conv2d_backward
from autograder.reference.network import (cross_entropy, cross_entropy_backward, linear, linear_backward,
                                          relu, relu_backward)
from autograder.reference.pooling import max_pool2d, max_pool2d_backward

from . import Wrong
from ._conv import (bias_not_checked, bias_on_last_axis, ceil_output_size, crash_when, first_image_only,
                    first_of_pair, ignored, int_only, non_square_kernel_crash, output_square,
                    padded_by_slice_assignment, per_axis)


# ------------------------------------------------------------------- conv2d

def _bias_per_product(x, w, b=None, stride=1, padding=0):
    return suite._conv2d_bias_per_product(x, w, b, stride, padding)


def _channel_zero_only(x, w, b=None, stride=1, padding=0):
    """Single-channel code: x[:, 0] and w[:, 0] only."""
    return conv2d(np.asarray(x)[:, :1], np.asarray(w)[:, :1], b, stride, padding)


CONV2D = [
    Wrong("conv2d", "stride > 1 on some axis", "stride ignored", ignored(conv2d, "stride", 1)),
    Wrong("conv2d", "stride given as a pair", "int-only stride", int_only(conv2d, "stride")),
    Wrong("conv2d", "stride a pair of unequal values", "stride[0] on both axes", first_of_pair(conv2d, "stride")),
    Wrong("conv2d", "stride does not divide: pixels left over past the last window",
          "H_out rounded up", ceil_output_size(conv2d)),
    Wrong("conv2d", "padding > 0 on some axis", "padding ignored", ignored(conv2d, "padding", 0)),
    Wrong("conv2d", "padding > 0 on some axis", "padding on the top and left only",
          suite._conv2d_padding_one_side),
    Wrong("conv2d", "padding 0 on some axis", "padded with xp[p:-p] = x (crashes at padding 0)",
          padded_by_slice_assignment(conv2d)),
    Wrong("conv2d", "padding given as a pair", "int-only padding", int_only(conv2d, "padding")),
    Wrong("conv2d", "padding a pair of unequal values", "padding[0] on both axes",
          first_of_pair(conv2d, "padding")),
    Wrong("conv2d", "non-square input", "W_out taken as H_out", output_square(conv2d)),
    Wrong("conv2d", "non-square kernel", "kernel width taken as kH", non_square_kernel_crash(conv2d)),
    Wrong("conv2d", "batch N > 1", "only the first image", first_image_only(conv2d)),
    Wrong("conv2d", "several input channels", "only input channel 0", _channel_zero_only),
    Wrong("conv2d", "several output channels", "out + b broadcasts b along W", bias_on_last_axis(conv2d)),
    Wrong("conv2d", "bias None", "b used without checking for None", bias_not_checked(conv2d)),
    Wrong("conv2d", "bias an array", "bias ignored", ignored(conv2d, "b", None)),
    Wrong("conv2d", "bias an array", "bias added to every product before summing", _bias_per_product),
]


# ---------------------------------------------------------- conv2d_backward

def _scatter(grad_out, w, padded_size, strides, assign=False):
    """Window (i, j) of the padded input gets grad_out[:, :, i, j] times the kernel, added (or assigned)."""
    sh, sw = strides
    kh, kw = w.shape[2:]
    grad = np.zeros((grad_out.shape[0], w.shape[1]) + tuple(padded_size))
    for i in range(grad_out.shape[2]):
        for j in range(grad_out.shape[3]):
            window = np.einsum("no,ocuv->ncuv", grad_out[:, :, i, j], w)
            if assign:
                grad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] = window
            else:
                grad[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw] += window
    return grad


def _crop(grad, padding):
    ph, pw = pair(padding, "padding")
    return grad[:, :, ph:grad.shape[2] - ph, pw:grad.shape[3] - pw]


def _padded_size(x, padding):
    ph, pw = pair(padding, "padding")
    return x.shape[2] + 2 * ph, x.shape[3] + 2 * pw


def _grad_x_one_zero_inserted(grad_out, x, w, stride, padding):
    """np.insert(g, positions, 0) puts one zero between entries whatever the stride: right for 2 only."""
    strides = tuple(min(s, 2) for s in pair(stride, "stride"))
    return _crop(_scatter(grad_out, w, _padded_size(x, padding), strides), padding)


def _grad_x_assigned(grad_out, x, w, stride, padding):
    """grad[window] = ... instead of +=: where windows overlap the last one wins."""
    return _crop(_scatter(grad_out, w, _padded_size(x, padding), pair(stride, "stride"), assign=True), padding)


def _grad_x_not_padded_back(grad_out, x, w, stride, padding):
    """The full convolution has (H_out - 1) * s + kH rows: the rows no window read are missing."""
    grad_x = conv2d_backward(grad_out, x, w, stride, padding)[0]
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(padding, "padding")
    kh, kw = w.shape[2:]
    rows = (grad_out.shape[2] - 1) * sh + kh - 2 * ph
    cols = (grad_out.shape[3] - 1) * sw + kw - 2 * pw
    return grad_x[:, :, :rows, :cols]


def _grad_x_first_filter(grad_out, x, w, stride, padding):
    """Single-filter code: grad_out[:, 0] and w[0] only."""
    return conv2d_backward(grad_out[:, :1], x, w[:1], stride, padding)[0]


def _grad_x_channel_zero_kernel(grad_out, x, w, stride, padding):
    """Every input channel gets the gradient through w[:, 0], the kernel of channel 0."""
    same = np.repeat(w[:, :1], w.shape[1], axis=1)
    return conv2d_backward(grad_out, x, same, stride, padding)[0]


def _grad_w_first_image(grad_out, x, w, stride, padding):
    """Code for one image: x[0] and grad_out[0] only, as if the batch had one image."""
    return conv2d_backward(grad_out[:1], x[:1], w, stride, padding)[1]


def _grad_b_first_image(grad_out, x, w, stride, padding):
    return grad_out[0].sum(axis=(1, 2))


def _maximal_padding_crash(a):
    """The direct form pads grad_out by q = k - 1 - p with gp[q:-q] = g: empty at q = 0."""
    kernels = np.shape(a["w"])[2:]
    return any(p > 0 and p == k - 1 for p, k in zip(per_axis(a["padding"]), kernels))


_backward = suite._wrong_backward
_square_input = crash_when(conv2d_backward, lambda a: np.shape(a["x"])[2] != np.shape(a["x"])[3],
                           "could not broadcast: grad_x allocated as (N, C_in, H, H)")

CONV2D_BACKWARD = [
    Wrong("conv2d_backward", "stride > 1 on some axis", "grad_x: grad_out not spread apart by the stride",
          _backward(grad_x=suite._grad_x_stride_ignored)),
    Wrong("conv2d_backward", "stride > 1 on some axis", "grad_w: stride ignored",
          _backward(grad_w=suite._grad_w_stride_ignored)),
    Wrong("conv2d_backward", "stride >= 3 on some axis", "np.insert puts one zero between grad_out entries",
          _backward(grad_x=_grad_x_one_zero_inserted)),
    Wrong("conv2d_backward", "stride given as a pair", "int-only stride", int_only(conv2d_backward, "stride")),
    Wrong("conv2d_backward", "stride a pair of unequal values", "stride[0] on both axes",
          first_of_pair(conv2d_backward, "stride")),
    Wrong("conv2d_backward", "stride < kernel span on some axis (windows overlap)",
          "scatter assigns instead of adding", _backward(grad_x=_grad_x_assigned)),
    Wrong("conv2d_backward", "stride does not divide: pixels left over past the last window",
          "full convolution not padded back to H", _backward(grad_x=_grad_x_not_padded_back)),
    Wrong("conv2d_backward", "padding > 0 on some axis", "grad_x not cropped",
          _backward(grad_x=suite._grad_x_uncropped)),
    Wrong("conv2d_backward", "padding 0 on some axis", "grad_x cropped with [pad:-pad]",
          _backward(grad_x=suite._grad_x_cropped_minus_pad)),
    Wrong("conv2d_backward", "padding maximal (k - 1) on some axis",
          "grad_out padded by k - 1 - p with gp[q:-q] = g (crashes at q = 0)",
          crash_when(conv2d_backward, _maximal_padding_crash,
                     "could not broadcast input array into shape with a 0-length axis")),
    Wrong("conv2d_backward", "padding given as a pair", "int-only padding", int_only(conv2d_backward, "padding")),
    Wrong("conv2d_backward", "padding a pair of unequal values", "padding[0] on both axes",
          first_of_pair(conv2d_backward, "padding")),
    Wrong("conv2d_backward", "non-square input", "grad_x allocated as H x H", _square_input),
    Wrong("conv2d_backward", "non-square kernel", "kernel width taken as kH",
          non_square_kernel_crash(conv2d_backward)),
    Wrong("conv2d_backward", "batch N > 1", "grad_w from the first image only",
          _backward(grad_w=_grad_w_first_image)),
    Wrong("conv2d_backward", "batch N > 1", "grad_b from the first image only",
          _backward(grad_b=_grad_b_first_image)),
    Wrong("conv2d_backward", "several output channels", "grad_x from filter 0 only",
          _backward(grad_x=_grad_x_first_filter)),
    Wrong("conv2d_backward", "several input channels", "grad_x of every channel through w[:, 0]",
          _backward(grad_x=_grad_x_channel_zero_kernel)),
]


# -------------------------------------------------- conv2d_backward_stride1

def _stride1(wrong_general):
    """A wrong conv2d_backward used at stride 1, no padding: the ladder's first step with the same bug."""
    return lambda grad_out, x, w: wrong_general(grad_out, x, w, 1, 0)


CONV2D_BACKWARD_STRIDE1 = [
    Wrong("conv2d_backward_stride1", "non-square input", "grad_x allocated as H x H",
          crash_when(suite.conv2d_backward_stride1, lambda a: np.shape(a["x"])[2] != np.shape(a["x"])[3],
                     "could not broadcast: grad_x allocated as (N, C_in, H, H)")),
    Wrong("conv2d_backward_stride1", "non-square kernel", "kernel width taken as kH",
          non_square_kernel_crash(suite.conv2d_backward_stride1)),
    Wrong("conv2d_backward_stride1", "batch N > 1", "grad_w from the first image only",
          _stride1(_backward(grad_w=_grad_w_first_image))),
    Wrong("conv2d_backward_stride1", "batch N > 1", "grad_b from the first image only",
          _stride1(_backward(grad_b=_grad_b_first_image))),
    Wrong("conv2d_backward_stride1", "several output channels", "grad_x from filter 0 only",
          _stride1(_backward(grad_x=_grad_x_first_filter))),
    Wrong("conv2d_backward_stride1", "several input channels", "grad_x of every channel through w[:, 0]",
          _stride1(_backward(grad_x=_grad_x_channel_zero_kernel))),
]


# ------------------------------------------------------- numerical_gradient

def _rows_perturbed(f, x, eps=1e-6):
    """`for i in range(len(x)): x[i] += eps`: on a 2-D x that moves a whole row at once."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(len(x)):
        saved = x[i].copy()
        x[i] = saved + eps
        plus = f(x)
        x[i] = saved - eps
        minus = f(x)
        x[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


NUMERICAL_GRADIENT = [
    Wrong("numerical_gradient", "x with 2 or more axes", "loops over len(x), moving whole rows", _rows_perturbed),
]


# --------------------------------------------------- network_loss_and_grads

def _network_flattened_channels_last(x, y, w_conv, b_conv, w_fc, b_fc):
    """Flattened in (H, W, F) order: a permutation of w_fc's columns, so right only for one filter."""
    conv_out = conv2d(x, w_conv, b_conv, stride=1, padding=1)
    activated = relu(conv_out)
    pooled = max_pool2d(activated, 2)
    flat = pooled.transpose(0, 2, 3, 1).reshape(len(x), -1)
    scores = linear(flat, w_fc, b_fc)
    loss = cross_entropy(scores, y)
    grad_flat, grad_w_fc, grad_b_fc = linear_backward(cross_entropy_backward(1.0, scores, y), flat, w_fc)
    n, f, h, w = pooled.shape
    grad_pooled = grad_flat.reshape(n, h, w, f).transpose(0, 3, 1, 2)
    grad_conv_out = relu_backward(max_pool2d_backward(grad_pooled, activated, 2), conv_out)
    _, grad_w_conv, grad_b_conv = conv2d_backward(grad_conv_out, x, w_conv, stride=1, padding=1)
    return loss, grad_w_conv, grad_b_conv, grad_w_fc, grad_b_fc


NETWORK = [
    Wrong("network_loss_and_grads", "batch N > 1", "loss summed over the batch", suite._summed_loss),
    Wrong("network_loss_and_grads", "ReLU closed at some conv outputs (conv output <= 0)",
          "ReLU's backward skipped", suite._relu_gradient_skipped),
    Wrong("network_loss_and_grads", "several conv filters F > 1", "flattened in (H, W, F) order",
          _network_flattened_channels_last),
]


WRONG = CONV2D + CONV2D_BACKWARD_STRIDE1 + CONV2D_BACKWARD + NUMERICAL_GRADIENT + NETWORK
