"""Normalization layers: batch, layer, group and local response normalization.

Each forward function has the name, arguments and numbers of its
`torch.nn.functional` namesake and is followed by its `_backward`, which takes
the upstream gradient `grad_out` (shape of the forward output) and then the
forward's own arguments, and returns the gradient of each array input that
has one (None where that argument was None). Everything is computed in float64.

Layouts: x is (N, C) or (N, C, *spatial), e.g. (N, C, H, W). The statistics
are taken over
  batch_norm:  N and every spatial position, separately for each channel;
  layer_norm:  the last len(normalized_shape) axes, separately for each sample;
  group_norm:  C // num_groups channels and every spatial position, separately
               for each sample and each group of channels;
  local_response_norm: no statistics; each value is divided by a power of the
               sum of squares of its neighbouring channels at the same pixel.
"""
import numbers

import numpy as np

from ._util import as_float

__all__ = [
    "batch_norm",
    "batch_norm_backward",
    "layer_norm",
    "layer_norm_backward",
    "group_norm",
    "group_norm_backward",
    "local_response_norm",
    "local_response_norm_backward",
]


# ------------------------------------------------------------------- checks

def _check_x(x, op, min_ndim=2, layout="(N, C) or (N, C, *spatial)"):
    if np.ndim(x) < min_ndim:
        raise ValueError(f"{op}: x must be at least {min_ndim}-D {layout}, got shape {np.shape(x)}")


def _check_channel_vector(value, channels, name, op):
    """None, or a (C,) array: weight, bias, running_mean or running_var."""
    if value is not None and np.shape(value) != (channels,):
        raise ValueError(f"{op}: {name} must have shape ({channels},), one entry per channel, "
                         f"got {np.shape(value)}")


def _check_grad_out(grad_out, shape, op):
    if np.shape(grad_out) != tuple(shape):
        raise ValueError(f"{op}: grad_out must have the output shape {tuple(shape)}, got {np.shape(grad_out)}")


def _channel_view(vector, ndim):
    """A (C,) vector shaped (1, C, 1, ..., 1) to broadcast against an (N, C, *spatial) array."""
    return np.reshape(vector, (1, -1) + (1,) * (ndim - 2))


def _affine_grads(grad_out, x_hat, weight, bias, axes, shape):
    """grad_weight = sum(grad_out * x_hat) and grad_bias = sum(grad_out) over `axes`, or None."""
    grad_weight = None if weight is None else np.sum(grad_out * x_hat, axis=axes).reshape(shape)
    grad_bias = None if bias is None else np.sum(grad_out, axis=axes).reshape(shape)
    return grad_weight, grad_bias


def _normalize_backward(grad_x_hat, x_hat, inv_std, axes):
    """Gradient through x_hat = (x - mean(x)) * inv_std, with mean and variance taken over `axes`.

    Three paths lead from x to x_hat: directly, through the mean, and through the
    variance. Together they give the compact formula
        grad_x = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),   g = grad_x_hat,
    with both means over the same `axes` as the forward's statistics.
    """
    mean_g = np.mean(grad_x_hat, axis=axes, keepdims=True)
    mean_gx = np.mean(grad_x_hat * x_hat, axis=axes, keepdims=True)
    return inv_std * (grad_x_hat - mean_g - x_hat * mean_gx)


# --------------------------------------------------------------- batch norm

def _batch_norm_parts(x, running_mean, running_var, weight, bias, training, eps, op):
    """Check the arguments; return (x, axes, mean, inv_std) as used to normalize."""
    x = as_float(x)
    _check_x(x, op)
    channels = x.shape[1]
    for value, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                        (weight, "weight"), (bias, "bias")):
        _check_channel_vector(value, channels, name, op)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        for value, name in ((running_mean, "running_mean"), (running_var, "running_var")):
            if value is not None and not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
                raise ValueError(f"{op}: {name} must be a float ndarray (it is updated in place), "
                                 f"got {type(value).__name__}")
        count = x.size // channels
        if count < 2:
            # torch refuses too: a variance of one value is 0 and the output would be all bias.
            raise ValueError(f"{op}: training needs more than 1 value per channel, got x of shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)          # biased (divides by m), as torch normalizes
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: evaluation (training=False) needs running_mean and running_var, got None")
        mean = _channel_view(as_float(running_mean), x.ndim)
        var = _channel_view(as_float(running_var), x.ndim)
    return x, axes, mean, 1.0 / np.sqrt(var + eps)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalization, as F.batch_norm: per channel, over the batch and every pixel.

    x:            (N, C) or (N, C, *spatial), e.g. (N, C, H, W) (spatial batch norm)
    running_mean: (C,) or None (None only when training)
    running_var:  (C,) or None (None only when training)
    weight, bias: (C,) or None (gamma and beta; None means 1 and 0)
    training:     True: normalize with this batch's mean and biased variance over
                  (N, *spatial), and update the running statistics IN PLACE, as
                  torch does: running = (1 - momentum) * running + momentum * batch,
                  where the batch variance for the update is the unbiased one
                  (divided by m - 1, m = N * H * W values per channel).
                  False: normalize with running_mean and running_var, which stay unchanged.
    Returns: array of x's shape, weight * (x - mean) / sqrt(var + eps) + bias.
    """
    x, axes, mean, inv_std = _batch_norm_parts(x, running_mean, running_var, weight, bias, training, eps,
                                               "batch_norm")
    out = (x - mean) * inv_std
    if weight is not None:
        out = out * _channel_view(as_float(weight), x.ndim)
    if bias is not None:
        out = out + _channel_view(as_float(bias), x.ndim)
    if training:
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            unbiased = x.var(axis=axes, ddof=1)
            running_var *= 1 - momentum
            running_var += momentum * unbiased
    return out


def batch_norm_backward(grad_out, x, running_mean, running_var, weight=None, bias=None, training=False,
                        momentum=0.1, eps=1e-5):
    """Gradients of batch_norm with respect to x, weight and bias; the running statistics are not touched.

    grad_out: shape of x; the other arguments are batch_norm's.
    Returns (grad_x, grad_weight, grad_bias): grad_x of x's shape, grad_weight and
    grad_bias (C,) each (None where weight or bias is None).
    In training the gradient flows through the batch mean and variance too; in
    evaluation they are constants, so batch norm is a per-channel affine map and
    grad_x = grad_out * weight / sqrt(running_var + eps).
    """
    x, axes, mean, inv_std = _batch_norm_parts(x, running_mean, running_var, weight, bias, training, eps,
                                               "batch_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "batch_norm_backward")
    x_hat = (x - mean) * inv_std
    grad_x_hat = grad_out if weight is None else grad_out * _channel_view(as_float(weight), x.ndim)
    if training:
        grad_x = _normalize_backward(grad_x_hat, x_hat, inv_std, axes)
    else:
        grad_x = grad_x_hat * inv_std
    return (grad_x,) + _affine_grads(grad_out, x_hat, weight, bias, axes, (x.shape[1],))


# --------------------------------------------------------------- layer norm

def _layer_norm_parts(x, normalized_shape, weight, bias, eps, op):
    """Check the arguments; return (x, shape, axes, x_hat, inv_std)."""
    x = as_float(x)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    shape = tuple(int(s) for s in normalized_shape)
    if not shape or x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"{op}: normalized_shape {shape} must be the last axes of x, got x of shape {x.shape}")
    for value, name in ((weight, "weight"), (bias, "bias")):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{op}: {name} must have shape normalized_shape {shape}, got {np.shape(value)}")
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    return x, shape, axes, (x - mean) * inv_std, inv_std


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization, as F.layer_norm: each sample over its last len(normalized_shape) axes.

    x:                (*, *normalized_shape), e.g. (N, C, H, W) with normalized_shape (C, H, W)
    normalized_shape: an int or a tuple, the sizes of x's last axes
    weight, bias:     normalized_shape, or None (elementwise scale and shift)
    Returns: array of x's shape, weight * (x - mean) / sqrt(var + eps) + bias,
    with the mean and biased variance over the normalized axes. Nothing depends on the batch.
    """
    x, shape, axes, x_hat, _ = _layer_norm_parts(x, normalized_shape, weight, bias, eps, "layer_norm")
    out = x_hat
    if weight is not None:
        out = out * as_float(weight)
    if bias is not None:
        out = out + as_float(bias)
    return out


def layer_norm_backward(grad_out, x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Gradients of layer_norm with respect to x, weight and bias.

    grad_out: shape of x. Returns (grad_x, grad_weight, grad_bias): grad_x of x's shape,
    grad_weight and grad_bias of normalized_shape, summed over the leading axes (None
    where weight or bias is None).
    """
    x, shape, axes, x_hat, inv_std = _layer_norm_parts(x, normalized_shape, weight, bias, eps,
                                                       "layer_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "layer_norm_backward")
    grad_x_hat = grad_out if weight is None else grad_out * as_float(weight)
    grad_x = _normalize_backward(grad_x_hat, x_hat, inv_std, axes)
    leading = tuple(range(x.ndim - len(shape)))
    return (grad_x,) + _affine_grads(grad_out, x_hat, weight, bias, leading, shape)


# --------------------------------------------------------------- group norm

def _group_norm_parts(x, num_groups, weight, bias, eps, op):
    """Check the arguments; return (x, grouped x_hat (N, G, C/G * spatial), inv_std (N, G, 1))."""
    x = as_float(x)
    _check_x(x, op)
    channels = x.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"{op}: the {channels} channels must split into num_groups equal groups, "
                         f"got num_groups={num_groups!r}")
    _check_channel_vector(weight, channels, "weight", op)
    _check_channel_vector(bias, channels, "bias", op)
    grouped = x.reshape(x.shape[0], num_groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    inv_std = 1.0 / np.sqrt(grouped.var(axis=2, keepdims=True) + eps)
    return x, (grouped - mean) * inv_std, inv_std


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization, as F.group_norm: each sample, each group of C // num_groups channels.

    x:            (N, C) or (N, C, *spatial); C divisible by num_groups
    weight, bias: (C,) or None, one scale and shift per channel (not per group)
    Returns: array of x's shape. num_groups=1 is layer norm over (C, *spatial) with
    per-channel weight; num_groups=C is instance norm.
    """
    x, x_hat, _ = _group_norm_parts(x, num_groups, weight, bias, eps, "group_norm")
    out = x_hat.reshape(x.shape)
    if weight is not None:
        out = out * _channel_view(as_float(weight), x.ndim)
    if bias is not None:
        out = out + _channel_view(as_float(bias), x.ndim)
    return out


def group_norm_backward(grad_out, x, num_groups, weight=None, bias=None, eps=1e-5):
    """Gradients of group_norm with respect to x, weight and bias.

    grad_out: shape of x. Returns (grad_x, grad_weight, grad_bias): grad_x of x's shape,
    grad_weight and grad_bias (C,) summed over the batch and every pixel (None where
    weight or bias is None).
    """
    x, x_hat, inv_std = _group_norm_parts(x, num_groups, weight, bias, eps, "group_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "group_norm_backward")
    grad_x_hat = grad_out if weight is None else grad_out * _channel_view(as_float(weight), x.ndim)
    grouped = grad_x_hat.reshape(x_hat.shape)
    grad_x = _normalize_backward(grouped, x_hat, inv_std, axes=2).reshape(x.shape)
    axes = (0,) + tuple(range(2, x.ndim))
    return (grad_x,) + _affine_grads(grad_out, x_hat.reshape(x.shape), weight, bias, axes, (x.shape[1],))


# ---------------------------------------------------- local response norm

def _channel_window_sum(a, before, after):
    """out[:, c] = sum of a[:, c - before : c + after + 1] over existing channels (zeros beyond the edges).

    a: (N, C, *spatial). One vectorized add per window offset, as torch's
    avg_pool over the zero-padded channel axis does.
    """
    pad = [(0, 0)] * a.ndim
    pad[1] = (before, after)
    padded = np.pad(a, pad)
    channels = a.shape[1]
    out = np.zeros_like(a)
    for offset in range(before + after + 1):
        out += padded[:, offset:offset + channels]
    return out


def _lrn_parts(x, size, alpha, beta, k, op):
    """Check the arguments; return (x, div) with div = k + alpha / size * window sum of x**2."""
    x = as_float(x)
    _check_x(x, op, min_ndim=3, layout="(N, C, *spatial), as torch requires")
    if not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"{op}: size must be an int >= 1, got {size!r}")
    # torch pads size // 2 channels before and (size - 1) // 2 after: centred for odd size,
    # one more neighbour before than after for even size.
    window = _channel_window_sum(x * x, size // 2, (size - 1) // 2)
    # alpha is divided by size: torch averages the squares over the window (zeros included).
    return x, k + alpha / size * window


def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalization (AlexNet), as F.local_response_norm.

    x: (N, C, *spatial), at least 3-D.
    out[:, c] = x[:, c] / (k + alpha / size * sum of x[:, j]**2) ** beta, the sum over the
    channels j from c - size // 2 to c + (size - 1) // 2 that exist (missing ones count as 0).
    Returns: array of x's shape. Nothing is learned and nothing depends on the batch.
    """
    x, div = _lrn_parts(x, size, alpha, beta, k, "local_response_norm")
    return x * div ** -beta


def local_response_norm_backward(grad_out, x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Gradient of local_response_norm with respect to x.

    grad_out: shape of x. Returns grad_x of x's shape:
        grad_x[j] = grad_out[j] * div[j]**-beta
                    - 2 * beta * alpha / size * x[j] * sum over the channels c whose window holds j
                      of grad_out[c] * x[c] * div[c]**(-beta - 1).
    Channel c's window holds j when c - size // 2 <= j <= c + (size - 1) // 2, so that sum runs
    over the mirrored window, (size - 1) // 2 channels before j and size // 2 after.
    """
    x, div = _lrn_parts(x, size, alpha, beta, k, "local_response_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "local_response_norm_backward")
    through_div = _channel_window_sum(grad_out * x * div ** (-beta - 1), (size - 1) // 2, size // 2)
    return grad_out * div ** -beta - 2.0 * beta * alpha / size * x * through_div
