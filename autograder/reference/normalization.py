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

from ._util import as_float, row_buffers

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


def _check_channel_vectors(channels, op, **vectors):
    """Each of the named values is None or a (C,) array: weight, bias, running_mean, running_var.

    One call for all of them: on batch_norm's (N, C) inputs a call per vector shows in the time.
    """
    for name, value in vectors.items():
        # an ndarray's own .shape: np.shape's dispatch costs about as much as the check
        shape = value.shape if isinstance(value, np.ndarray) else np.shape(value)
        if value is not None and shape != (channels,):
            raise ValueError(f"{op}: {name} must have shape ({channels},), one entry per channel, "
                             f"got {np.shape(value)}")


def _check_grad_out(grad_out, shape, op):
    if np.shape(grad_out) != tuple(shape):
        raise ValueError(f"{op}: grad_out must have the output shape {tuple(shape)}, got {np.shape(grad_out)}")


def _per_channel(vector):
    """A (C,) vector as (C, 1), to broadcast against an (N, C, M) view."""
    return np.asarray(vector, dtype=np.float64)[:, None]


def _channels_view(a):
    """(N, C, *spatial) as (N, C, M), M the number of pixels (1 for (N, C)); a view, no copy."""
    return a.reshape(a.shape[0], a.shape[1], -1)


def _channel_rows(vector, pixels):
    """A (C,) vector (an array or a list) as (C * M,), each entry repeated once per pixel, against x as (N, C * M).

    NumPy runs (N, C * M) with (C * M,) as N long contiguous loops. The (N, C, M) view with a
    (C, 1) column is the same arithmetic, but NumPy lengthens its short inner loops (rows of M
    pixels, M < 8192) by copying through its buffers: about 2x slower for M = 1024 (measured).
    """
    return vector if pixels == 1 else np.repeat(vector, pixels)


def _scale_shift(rows, pixels, scale, shift, out):
    """rows * scale + shift per channel into out, returned: rows and out (N, C * M), scale and shift (C,).

    shift may be None; out may be rows itself. Rows of 256 pixels or more broadcast (C, 1)
    columns against (N, C, M), with a NumPy buffer the size of one row (`row_buffers`: NumPy
    would copy the rows through its own); shorter rows take the factors repeated per pixel
    (`_channel_rows`). For 8x32x32x32 the columns skip two repeats of C * M values: about 25% faster.
    """
    if pixels == 1:
        # (N, C): nothing to repeat, and two calls fewer count on 16K values
        np.multiply(rows, scale, out=out)
        if shift is not None:
            out += shift
        return out
    if pixels >= 256:
        rows, out = (a.reshape(a.shape[0], -1, pixels) for a in (rows, out))
        with row_buffers(pixels):
            np.multiply(rows, scale[:, None], out=out)
            if shift is not None:
                out += as_float(shift)[:, None]
        return out.reshape(out.shape[0], -1)
    np.multiply(rows, _channel_rows(scale, pixels), out=out)
    if shift is not None:
        out += _channel_rows(shift, pixels)
    return out


def _row_dots(a, b):
    """sum(a * b) along the last axis, (A, B, S) x (A, B, S) -> (A, B, 1).

    As a batch of (1, S) @ (S, 1) products: BLAS's dot reads both once, about 4x faster
    than np.einsum("abs,abs->ab") here.
    """
    return np.matmul(a[..., None, :], b[..., :, None])[..., 0]


def _standardize_rows(v, eps):
    """(v - mean) / sqrt(var + eps) along the last axis of v, (A, B, S) -> (x_hat, inv_std (A, B, 1)).

    Two passes (the mean, then the squares of the deviations), never E[x^2] - E[x]^2,
    which cancels badly when the mean is large.
    """
    x_hat = v - v.mean(axis=-1, keepdims=True)
    var = _row_dots(x_hat, x_hat) / v.shape[-1]
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std
    return x_hat, inv_std


def _standardize_rows_backward(grad_x_hat, x_hat, inv_std):
    """Gradient through x_hat = (x - mean(x)) * inv_std, mean and variance along the last axis.

    Three paths lead from x to x_hat: directly, through the mean, and through the
    variance. Together they give the compact formula
        grad_x = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),   g = grad_x_hat.
    x_hat is overwritten (the callers' own array): a temporary less is a good part of the speed.
    """
    count = x_hat.shape[-1]
    mean_g = grad_x_hat.sum(axis=-1, keepdims=True) / count
    mean_gx = _row_dots(grad_x_hat, x_hat) / count
    grad_x = grad_x_hat * inv_std
    x_hat *= inv_std * mean_gx
    grad_x -= x_hat
    grad_x -= inv_std * mean_g
    return grad_x


# --------------------------------------------------------------- batch norm

def _batch_norm_parts(x, running_mean, running_var, weight, bias, training, op):
    """Check the arguments; return (rows, pixels, mean, var, deviation).

    rows is x as (N, C * M), M = pixels per channel (1 for (N, C)); mean and var are per
    channel (C,): this batch's (training) or the running statistics (evaluation).
    deviation is x - mean as (N, C * M), a new array the caller may overwrite (training), or None.
    (N, C) with 256 channels is a common fully connected layer and only 16K values, where every
    NumPy or Python call shows: hence one call checks all four vectors.
    """
    x = as_float(x)
    if x.ndim < 2:
        raise ValueError(f"{op}: x must be at least 2-D (N, C) or (N, C, *spatial), got shape {x.shape}")
    samples, channels = x.shape[:2]
    _check_channel_vectors(channels, op, running_mean=running_mean, running_var=running_var,
                           weight=weight, bias=bias)
    rows = x if x.ndim == 2 else x.reshape(samples, -1)
    pixels = rows.shape[1] // max(channels, 1)
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: evaluation (training=False) needs running_mean and running_var, got None")
        return rows, pixels, as_float(running_mean), as_float(running_var), None
    for value, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if value is not None and not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
            raise ValueError(f"{op}: {name} must be a float ndarray (it is updated in place), "
                             f"got {type(value).__name__}")
    if samples * pixels < 2:
        # torch refuses too: a variance of one value is 0 and the output would be all bias.
        raise ValueError(f"{op}: training needs more than 1 value per channel, got x of shape {x.shape}")
    return (rows, pixels) + _batch_statistics(rows, pixels)


def _batch_statistics(rows, pixels):
    """Per-channel mean and biased variance of rows (N, C * M) over N and M, and rows - mean.

    Two passes (the mean, then the squares of the deviations), never E[x^2] - E[x]^2,
    which cancels badly when the mean is large. The deviation, (N, C * M), is a new array.
    """
    samples = rows.shape[0]
    count = samples * pixels
    if pixels == 1:
        # (N, C): small enough (16K values for 64x256) that every call counts. Both sums over
        # the batch are BLAS products with a vector of 1 / count, each about 1.3x faster than
        # its einsum; np.full would be a Python function around these two calls.
        average = np.empty(samples)
        average.fill(1.0 / count)
        mean = average @ rows
        deviation = rows - mean
        var = average @ np.square(deviation)        # biased (divides by m), as torch
        return mean, var, deviation
    v = rows.reshape(samples, -1, pixels)
    mean = np.einsum("ncm->c", v) / count
    deviation = rows - _channel_rows(mean, pixels)
    d = deviation.reshape(v.shape)
    if pixels >= 64:
        # a BLAS dot per (sample, channel) row reads both once; einsum is about 2.5x slower here
        var = _row_dots(d, d).sum(axis=0)[:, 0]
    else:
        # rows of a few pixels: one BLAS call per row would cost more than the row
        var = np.einsum("ncm,ncm->c", d, d)
    var /= count                                    # biased (divides by m), as torch
    return mean, var, deviation


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
    rows, pixels, mean, var, deviation = _batch_norm_parts(x, running_mean, running_var, weight, bias,
                                                           training, "batch_norm")
    # One multiply and one add per value, both per channel. (The ufuncs convert a list weight or bias.)
    scale = var + eps
    np.sqrt(scale, out=scale)
    np.divide(1.0 if weight is None else weight, scale, out=scale)
    if training:
        # (x - mean) * scale + bias, on the deviations the statistics already needed
        out = _scale_shift(deviation, pixels, scale, bias, out=deviation)
        count = rows.shape[0] * pixels
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            var *= momentum * count / (count - 1)          # the unbiased variance, times momentum
            running_var += var
    else:
        # x * scale + shift, shift = bias - mean * scale
        shift = mean * scale
        np.subtract(0.0 if bias is None else bias, shift, out=shift)
        out = _scale_shift(rows, pixels, scale, shift, out=np.empty(rows.shape))
    return out if out.ndim == np.ndim(x) else out.reshape(np.shape(x))


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
    rows, pixels, mean, var, _ = _batch_norm_parts(x, running_mean, running_var, weight, bias, training,
                                                   "batch_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, np.shape(x), "batch_norm_backward")
    v = rows.reshape(rows.shape[0], -1, pixels)
    g = _channels_view(grad_out)
    count = v.shape[0] * pixels
    inv_std = 1.0 / np.sqrt(var + eps)
    sum_g = np.einsum("ncm->c", g)
    # sum of g * x_hat without forming x_hat: inv_std * (sum of g * x - mean * sum of g)
    sum_g_x_hat = inv_std * (np.einsum("ncm,ncm->c", g, v) - mean * sum_g)
    gain = inv_std if weight is None else inv_std * as_float(weight)
    grad_x = g * _per_channel(gain)
    if training:
        # grad_x = gain * (g - mean(g) - x_hat * mean(g * x_hat)), x_hat = (x - mean) * inv_std,
        # written as g * gain + x * slope + offset, per channel
        slope = -gain * inv_std * sum_g_x_hat / count
        grad_x += v * _per_channel(slope)
        grad_x += _per_channel(-gain * sum_g / count - mean * slope)
    grad_weight = None if weight is None else sum_g_x_hat
    grad_bias = None if bias is None else sum_g
    return grad_x.reshape(np.shape(x)), grad_weight, grad_bias


# --------------------------------------------------------------- layer norm

def _layer_norm_parts(x, normalized_shape, weight, bias, eps, op):
    """Check the arguments; return (x, shape, x_hat, inv_std) with x_hat and inv_std as (L, 1, S) views."""
    x = as_float(x)
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (int(normalized_shape),)
    shape = tuple(int(s) for s in normalized_shape)
    if not shape or x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"{op}: normalized_shape {shape} must be the last axes of x, got x of shape {x.shape}")
    for value, name in ((weight, "weight"), (bias, "bias")):
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"{op}: {name} must have shape normalized_shape {shape}, got {np.shape(value)}")
    size = int(np.prod(shape))
    x_hat, inv_std = _standardize_rows(x.reshape(-1, 1, size), eps)
    return x, shape, x_hat, inv_std


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization, as F.layer_norm: each sample over its last len(normalized_shape) axes.

    x:                (*, *normalized_shape), e.g. (N, C, H, W) with normalized_shape (C, H, W)
    normalized_shape: an int or a tuple, the sizes of x's last axes
    weight, bias:     normalized_shape, or None (elementwise scale and shift)
    Returns: array of x's shape, weight * (x - mean) / sqrt(var + eps) + bias,
    with the mean and biased variance over the normalized axes. Nothing depends on the batch.
    """
    x, shape, out, _ = _layer_norm_parts(x, normalized_shape, weight, bias, eps, "layer_norm")
    if weight is not None:
        out *= as_float(weight).reshape(-1)
    if bias is not None:
        out += as_float(bias).reshape(-1)
    return out.reshape(x.shape)


def layer_norm_backward(grad_out, x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Gradients of layer_norm with respect to x, weight and bias.

    grad_out: shape of x. Returns (grad_x, grad_weight, grad_bias): grad_x of x's shape,
    grad_weight and grad_bias of normalized_shape, summed over the leading axes (None
    where weight or bias is None).
    """
    x, shape, x_hat, inv_std = _layer_norm_parts(x, normalized_shape, weight, bias, eps, "layer_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "layer_norm_backward")
    g = grad_out.reshape(x_hat.shape)
    grad_weight = None if weight is None else np.einsum("lis,lis->s", g, x_hat).reshape(shape)
    grad_bias = None if bias is None else np.einsum("lis->s", g).reshape(shape)
    grad_x_hat = g if weight is None else g * as_float(weight).reshape(-1)
    grad_x = _standardize_rows_backward(grad_x_hat, x_hat, inv_std).reshape(x.shape)
    return grad_x, grad_weight, grad_bias


# --------------------------------------------------------------- group norm

def _group_norm_parts(x, num_groups, weight, bias, eps, op):
    """Check the arguments; return (x, x - mean (N, G, C/G * M), inv_std (N, G, 1)).

    The deviations are returned unscaled: callers fold inv_std into their own per-channel
    factors, which saves a pass over the values.
    """
    x = as_float(x)
    _check_x(x, op)
    channels = x.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups < 1 or channels % num_groups:
        raise ValueError(f"{op}: the {channels} channels must split into num_groups equal groups, "
                         f"got num_groups={num_groups!r}")
    _check_channel_vectors(channels, op, weight=weight, bias=bias)
    # channels are consecutive in memory, so each group's values line up on the last axis
    rows = x.reshape(x.shape[0], num_groups, -1)
    mean = rows.mean(axis=-1, keepdims=True)
    with row_buffers(rows.shape[-1]):        # one mean per row: NumPy would copy short rows
        deviation = rows - mean
    var = _row_dots(deviation, deviation) / rows.shape[-1]    # two passes, as _standardize_rows
    return x, deviation, 1.0 / np.sqrt(var + eps)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization, as F.group_norm: each sample, each group of C // num_groups channels.

    x:            (N, C) or (N, C, *spatial); C divisible by num_groups
    weight, bias: (C,) or None, one scale and shift per channel (not per group)
    Returns: array of x's shape. num_groups=1 is layer norm over (C, *spatial) with
    per-channel weight; num_groups=C is instance norm.
    """
    x, deviation, inv_std = _group_norm_parts(x, num_groups, weight, bias, eps, "group_norm")
    n, channels = x.shape[:2]
    # inv_std (per sample and group) and weight (per channel) as one factor per (sample, channel):
    # one pass over the values instead of two
    scale = np.repeat(inv_std.reshape(n, num_groups), channels // num_groups, axis=1)
    if weight is not None:
        scale *= as_float(weight)
    out = _channels_view(deviation.reshape(x.shape))
    with row_buffers(out.shape[-1]):
        out *= scale[..., None]
    if bias is not None:
        out = out.reshape(n, -1)
        out += _channel_rows(as_float(bias), out.shape[1] // channels)
    return out.reshape(x.shape)


def group_norm_backward(grad_out, x, num_groups, weight=None, bias=None, eps=1e-5):
    """Gradients of group_norm with respect to x, weight and bias.

    grad_out: shape of x. Returns (grad_x, grad_weight, grad_bias): grad_x of x's shape,
    grad_weight and grad_bias (C,) summed over the batch and every pixel (None where
    weight or bias is None).
    """
    x, deviation, inv_std = _group_norm_parts(x, num_groups, weight, bias, eps, "group_norm_backward")
    grad_out = as_float(grad_out)
    _check_grad_out(grad_out, x.shape, "group_norm_backward")
    n, channels = x.shape[:2]
    per_group = channels // num_groups
    count = deviation.shape[-1]
    g = _channels_view(grad_out)
    d = _channels_view(deviation.reshape(x.shape))         # x - mean, x_hat = d * inv_std
    inv = np.repeat(inv_std.reshape(n, num_groups), per_group, axis=1)       # (N, C)
    # per (sample, channel) sums of g and of g * x_hat; everything else is built from them
    sum_g = np.einsum("ncm->nc", g)
    sum_g_x_hat = _row_dots(g, d)[..., 0] * inv
    w = np.ones(channels) if weight is None else as_float(weight)

    def group_mean(per_channel):                            # (N, C) -> (N, C), the mean over its group
        sums = per_channel.reshape(n, num_groups, per_group).sum(axis=2) / count
        return np.repeat(sums, per_group, axis=1)
    # the compact formula per group, with g_hat = g * weight:
    # grad_x = inv_std * (g_hat - mean(g_hat) - x_hat * mean(g_hat * x_hat)), means over the group,
    # with x_hat = d * inv_std: three per-(sample, channel) factors times g, d and 1
    with row_buffers(g.shape[-1]):            # factors per (sample, channel) row, as in group_norm
        grad_x = g * (inv * w)[..., None]
        d *= (inv * inv * group_mean(sum_g_x_hat * w))[..., None]    # our own deviations: no temporary
        grad_x -= d
        grad_x -= (inv * group_mean(sum_g * w))[..., None]
    grad_weight = None if weight is None else sum_g_x_hat.sum(axis=0)
    grad_bias = None if bias is None else sum_g.sum(axis=0)
    return grad_x.reshape(x.shape), grad_weight, grad_bias


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
