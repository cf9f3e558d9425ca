"""Wrong-in-one-regime implementations of lesson 4's exercises (autograder/grading/suites/normalization.py).

Each is a small, plausible mistake that is right everywhere else: a 2-D special case,
a hard-coded default, a window clamped to the channels, a None taken for zeros.
batch_norm's entries follow the student's contract (return the output, update the
running statistics in place); the grader reads the statistics after the call.
"""
import numpy as np

from autograder.reference import normalization as ref
from wrong import Wrong


def _view(vector, ndim):
    return np.reshape(vector, (1, -1) + (1,) * (ndim - 2))


def _affine(out, weight, bias):
    if weight is not None:
        out = out * _view(weight, out.ndim)
    if bias is not None:
        out = out + _view(bias, out.ndim)
    return out


# ------------------------------------------------------------------ batch_norm

def batch_norm_variant(stat_axes=None, normalize_ddof=0, update_ddof=1, reverse_momentum=False,
                       eps_outside=False, batch_stats_in_eval=False, skip_update=lambda x: False,
                       weight_default=None, bias_default=None, ignore_weight=False, ignore_bias=False,
                       fixed_momentum=None):
    """batch_norm with one convention changed; the running statistics are always updated
    from the correct batch statistics unless the change is about them."""
    def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        x = np.asarray(x, dtype=np.float64)
        right = (0,) + tuple(range(2, x.ndim))
        axes = right if stat_axes is None else stat_axes(x)
        if training or batch_stats_in_eval:
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, ddof=normalize_ddof, keepdims=True)
        else:
            mean, var = _view(running_mean, x.ndim), _view(running_var, x.ndim)
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        if weight is None:
            weight = weight_default(x.shape[1]) if weight_default else None
        if bias is None:
            bias = bias_default(x.shape[1]) if bias_default else None
        out = _affine((x - mean) / std, None if ignore_weight else weight, None if ignore_bias else bias)
        if training and not skip_update(x):
            m = fixed_momentum if fixed_momentum is not None else momentum
            keep = m if reverse_momentum else 1 - m
            running_mean[...] = keep * running_mean + (1 - keep) * x.mean(axis=right)
            running_var[...] = keep * running_var + (1 - keep) * x.var(axis=right, ddof=update_ddof)
        return out
    return batch_norm


def _per_sample_2d(x):
    return (0, 2, 3) if x.ndim == 4 else (1,)


WRONG_BATCH_NORM = [
    Wrong("batch_norm", "training", "normalizes with the unbiased variance",
          batch_norm_variant(normalize_ddof=1)),
    Wrong("batch_norm", "training", "updates running_var with the biased variance",
          batch_norm_variant(update_ddof=0)),
    Wrong("batch_norm", "training", "applies momentum the other way round",
          batch_norm_variant(reverse_momentum=True)),
    Wrong("batch_norm", "evaluation", "uses the batch statistics in evaluation too",
          batch_norm_variant(batch_stats_in_eval=True)),
    Wrong("batch_norm", "x is (N, C)", "normalizes a 2-D input over each sample's features (axis 1)",
          batch_norm_variant(stat_axes=_per_sample_2d)),
    Wrong("batch_norm", "x is (N, C, H, W)", "normalizes each pixel separately, over the batch only",
          batch_norm_variant(stat_axes=lambda x: (0,))),
    Wrong("batch_norm", "several channels", "takes the statistics over all channels together",
          batch_norm_variant(stat_axes=lambda x: tuple(range(x.ndim)))),
    Wrong("batch_norm", "a batch of one image in training", "skips the running update for a batch of one",
          batch_norm_variant(skip_update=lambda x: x.shape[0] == 1)),
    Wrong("batch_norm", "eps not negligible against the variance", "adds eps outside the square root",
          batch_norm_variant(eps_outside=True)),
    Wrong("batch_norm", "weight None", "takes a None weight for zeros",
          batch_norm_variant(weight_default=np.zeros)),
    Wrong("batch_norm", "weight an array", "ignores the weight", batch_norm_variant(ignore_weight=True)),
    Wrong("batch_norm", "bias None", "takes a None bias for ones", batch_norm_variant(bias_default=np.ones)),
    Wrong("batch_norm", "bias an array", "ignores the bias", batch_norm_variant(ignore_bias=True)),
    Wrong("batch_norm", "momentum other than 0.1 in training", "hard-codes momentum 0.1",
          batch_norm_variant(fixed_momentum=0.1)),
]


# --------------------------------------------------------- batch_norm_backward

def batch_norm_backward_variant(x_hat_only=False, training_in_eval=False, param_axes=None, stat_axes=None,
                                eps_outside=False, zeros_for_none=False):
    def batch_norm_backward(grad_out, x, running_mean, running_var, weight=None, bias=None, training=False,
                            momentum=0.1, eps=1e-5):
        x = np.asarray(x, dtype=np.float64)
        right = (0,) + tuple(range(2, x.ndim))
        axes = right if stat_axes is None else stat_axes(x)
        batch = training or training_in_eval
        if batch:
            mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
        else:
            mean, var = _view(running_mean, x.ndim), _view(running_var, x.ndim)
        inv_std = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
        x_hat = (x - mean) * inv_std
        g = grad_out if weight is None else grad_out * _view(weight, x.ndim)
        if batch and not x_hat_only:
            grad_x = inv_std * (g - g.mean(axis=axes, keepdims=True)
                                - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
        else:
            grad_x = g * inv_std
        sums = right if param_axes is None else param_axes(x)
        grad_weight, grad_bias = np.sum(grad_out * x_hat, axis=sums), np.sum(grad_out, axis=sums)
        if not zeros_for_none:   # None in, None out; the mistake: zeros, a gradient of nothing
            grad_weight = None if weight is None else grad_weight
            grad_bias = None if bias is None else grad_bias
        else:
            grad_weight = np.zeros_like(grad_weight) if weight is None else grad_weight
            grad_bias = np.zeros_like(grad_bias) if bias is None else grad_bias
        return grad_x, grad_weight, grad_bias
    return batch_norm_backward


WRONG_BATCH_NORM_BACKWARD = [
    Wrong("batch_norm_backward", "training", "goes through x_hat only, mean and variance taken as constants",
          batch_norm_backward_variant(x_hat_only=True)),
    Wrong("batch_norm_backward", "evaluation", "uses the training formula (batch statistics) in evaluation",
          batch_norm_backward_variant(training_in_eval=True)),
    Wrong("batch_norm_backward", "x is (N, C, H, W)", "sums grad_weight and grad_bias over the batch only",
          batch_norm_backward_variant(param_axes=lambda x: 0)),
    Wrong("batch_norm_backward", "x is (N, C)", "hard-codes the axes (0, 2, 3) of a 4-D input",
          batch_norm_backward_variant(param_axes=lambda x: (0, 2, 3))),
    Wrong("batch_norm_backward", "several channels", "takes the statistics over all channels together",
          batch_norm_backward_variant(stat_axes=lambda x: tuple(range(x.ndim)))),
    Wrong("batch_norm_backward", "eps not negligible against the variance", "adds eps outside the square root",
          batch_norm_backward_variant(eps_outside=True)),
    Wrong("batch_norm_backward", "weight/bias None", "returns zeros for the gradient of a None weight or bias",
          batch_norm_backward_variant(zeros_for_none=True)),
]


# ----------------------------------------------------- local response norm

def lrn_variant(divide_by_size=True, before=lambda s: s // 2, after=lambda s: (s - 1) // 2, clamp=False,
                assume_4d=False, size_one_shortcut=False, fixed_k=None, fixed_beta=None, wrap=False):
    def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
        x = np.asarray(x, dtype=np.float64)
        k = k if fixed_k is None else fixed_k
        beta = beta if fixed_beta is None else fixed_beta
        if size_one_shortcut and size == 1:
            return x / k ** beta          # "one channel: no neighbours to normalize by"
        n = min(size, x.shape[1]) if clamp else size
        if wrap:
            # np.roll: the window of channel 0 takes the last channels instead of zeros
            window = sum(np.roll(x * x, shift, axis=1) for shift in range(-after(n), before(n) + 1))
        elif assume_4d:
            squares = np.pad(x * x, ((0, 0), (before(n), after(n)), (0, 0), (0, 0)))
            window = sum(squares[:, o:o + x.shape[1]] for o in range(n))
        else:
            window = ref._channel_window_sum(x * x, before(n), after(n))
        return x * (k + alpha / (n if divide_by_size else 1) * window) ** -beta
    return local_response_norm


WRONG_LRN = [
    Wrong("local_response_norm", "size > 1", "does not divide alpha by size", lrn_variant(divide_by_size=False)),
    Wrong("local_response_norm", "size even", "puts the extra channel of an even window after c",
          lrn_variant(before=lambda s: (s - 1) // 2, after=lambda s: s // 2)),
    Wrong("local_response_norm", "size 1", "skips the channel's own square when size is 1",
          lrn_variant(size_one_shortcut=True)),
    Wrong("local_response_norm", "size larger than C", "clamps size to the number of channels",
          lrn_variant(clamp=True)),
    Wrong("local_response_norm", "x is (N, C, L)", "pads as if x were always 4-D", lrn_variant(assume_4d=True)),
    Wrong("local_response_norm", "window overhangs the first or last channel",
          "wraps the window around the channel axis (np.roll) instead of padding with zeros",
          lrn_variant(wrap=True)),
    Wrong("local_response_norm", "k other than 1", "ignores k (uses 1)", lrn_variant(fixed_k=1.0)),
    Wrong("local_response_norm", "beta other than 0.75", "hard-codes beta 0.75", lrn_variant(fixed_beta=0.75)),
]


def lrn_backward_variant(divide_neighbour_term=True, mirrored=True, clamp=False, assume_4d=False):
    def local_response_norm_backward(grad_out, x, size, alpha=1e-4, beta=0.75, k=1.0):
        x = np.asarray(x, dtype=np.float64)
        if assume_4d and x.ndim != 4:
            raise ValueError("expected (N, C, H, W)")
        n = min(size, x.shape[1]) if clamp else size
        div = k + alpha / n * ref._channel_window_sum(x * x, n // 2, (n - 1) // 2)
        before, after = ((n - 1) // 2, n // 2) if mirrored else (n // 2, (n - 1) // 2)
        through = ref._channel_window_sum(grad_out * x * div ** (-beta - 1), before, after)
        scale = alpha / n if divide_neighbour_term else alpha
        return grad_out * div ** -beta - 2 * beta * scale * x * through
    return local_response_norm_backward


WRONG_LRN_BACKWARD = [
    Wrong("local_response_norm_backward", "size > 1", "forgets to divide alpha by size in the neighbour term",
          lrn_backward_variant(divide_neighbour_term=False)),
    Wrong("local_response_norm_backward", "size even", "sums over the forward's window, not its mirror image",
          lrn_backward_variant(mirrored=False)),
    Wrong("local_response_norm_backward", "size larger than C", "clamps size to the number of channels",
          lrn_backward_variant(clamp=True)),
    Wrong("local_response_norm_backward", "x is (N, C, L)", "accepts only 4-D input",
          lrn_backward_variant(assume_4d=True)),
]


# ---------------------------------------------------------------- group_norm

def group_norm_variant(stat_axes=None, interleaved=False, assume_4d=False, with_batch=False, weight_default=None,
                       bias_default=None, ignore_weight=False, ignore_bias=False):
    def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
        x = np.asarray(x, dtype=np.float64)
        n, c = x.shape[:2]
        if assume_4d:
            h, w = x.shape[2:]            # fails on (N, C)
            grouped = x.reshape(n, num_groups, c // num_groups * h * w)
        elif interleaved:
            grouped = x.reshape(n, c // num_groups, num_groups, -1).transpose(0, 2, 1, 3).reshape(n, num_groups, -1)
        else:
            grouped = x.reshape(n, num_groups, -1) if stat_axes is None else x
        axes = (0, 2) if with_batch else 2 if stat_axes is None else stat_axes(x)
        out = (grouped - grouped.mean(axis=axes, keepdims=True)) / np.sqrt(grouped.var(axis=axes, keepdims=True) + eps)
        if interleaved:
            out = out.reshape(n, num_groups, c // num_groups, -1).transpose(0, 2, 1, 3)
        if weight is None and weight_default:
            weight = weight_default(c)
        if bias is None and bias_default:
            bias = bias_default(c)
        return _affine(out.reshape(x.shape), None if ignore_weight else weight, None if ignore_bias else bias)
    return group_norm


WRONG_GROUP_NORM = [
    Wrong("group_norm", "groups > 1", "normalizes over the whole sample (layer norm)",
          group_norm_variant(stat_axes=lambda x: tuple(range(1, x.ndim)))),
    Wrong("group_norm", "groups < C", "normalizes each channel alone (instance norm)",
          group_norm_variant(stat_axes=lambda x: tuple(range(2, x.ndim)))),
    Wrong("group_norm", "1 < groups < C", "groups channels c, c + G, ... instead of consecutive ones",
          group_norm_variant(interleaved=True)),
    Wrong("group_norm", "x is (N, C)", "accepts only 4-D input", group_norm_variant(assume_4d=True)),
    Wrong("group_norm", "batch > 1", "pools each group's statistics over the whole batch",
          group_norm_variant(with_batch=True)),
    Wrong("group_norm", "weight None", "takes a None weight for zeros", group_norm_variant(weight_default=np.zeros)),
    Wrong("group_norm", "weight an array", "ignores the weight", group_norm_variant(ignore_weight=True)),
    Wrong("group_norm", "bias None", "takes a None bias for ones", group_norm_variant(bias_default=np.ones)),
    Wrong("group_norm", "bias an array", "ignores the bias", group_norm_variant(ignore_bias=True)),
]


WRONG = WRONG_BATCH_NORM + WRONG_BATCH_NORM_BACKWARD + WRONG_LRN + WRONG_LRN_BACKWARD + WRONG_GROUP_NORM
