"""Hidden checks of Lesson 4, normalization (source/04_normalization): 50 points.

    batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5)                                                16
    batch_norm_backward(grad_out, x, running_mean, running_var, weight, bias,
                        training=False, momentum=0.1, eps=1e-5)                      14
    local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0)                        8
    local_response_norm_backward(grad_out, x, size, alpha=1e-4, beta=0.75, k=1.0)      6
    group_norm(x, num_groups, weight=None, bias=None, eps=1e-5)                        6

batch_norm updates running_mean and running_var in place, as torch does; the
exercise declares them `in_place`, so their values after the call are graded
as two more outputs (see autograder/grading/in_place.py). batch_norm_backward
returns None for the gradient of a weight or bias that was None, as torch does;
one check passes None and expects None back (the sandbox sends a None output
as an explicit marker, see grading/child.py). Local response norm uses alpha
near 1, not 1e-4, so that the neighbouring channels change the output by far
more than the tolerance.

Every misconception below is a small wrong implementation next to the one
sentence that names it; tests/test_suite_normalization.py makes sure some
check produces each of them. The regime tables list what changes the
arithmetic; tests/wrong/normalization.py has an implementation wrong in each.
"""

import numpy as np

from autograder.reference import normalization as ref

from ..spec import Case, Check, Exercise, Lesson, Misconception
from ..spec import regime_when as when

LESSON_ID = "04_normalization"


# ------------------------------------------------------------------ helpers

def channel_view(vector, ndim):
    return np.reshape(vector, (1, -1) + (1,) * (ndim - 2))


def statistics_axes(x):
    return (0,) + tuple(range(2, np.ndim(x)))


# --------------------------------------------------------------- batch_norm

def _vectors(rng, channels):
    """running_mean, running_var, weight, bias: (C,) each, weights away from 0."""
    return (rng.standard_normal(channels), rng.uniform(0.5, 2.0, channels),
            rng.uniform(0.5, 2.0, channels) * rng.choice([-1.0, 1.0], channels), rng.standard_normal(channels))


def bn_case(rng, shape, training, weight=True, bias=True, note="", scale=None, **kwargs):
    """x with a different scale and offset per channel, so per-channel statistics matter."""
    channels = shape[1]
    scale = rng.uniform(0.5, 3.0, channels) if scale is None else np.full(channels, scale)
    x = rng.standard_normal(shape) * channel_view(scale, len(shape)) + channel_view(
        rng.uniform(-2, 2, channels), len(shape))
    mean, var, w, b = _vectors(rng, channels)
    return Case((x, mean, var, w if weight else None, b if bias else None), dict(training=training, **kwargs), note)


def _worked_example(rng):
    """The lesson's worked example: one channel, values 1, 2, 3, 6 (mean 3, biased variance 3.5).

    weight 1 and bias 0 are given as arrays, not None: only the check named for None passes None.
    """
    x = np.array([[1.0], [2.0], [3.0], [6.0]])
    return Case((x, np.array([0.0]), np.array([1.0]), np.array([1.0]), np.array([0.0])), dict(training=True),
                "the lesson's example: mean 3, biased variance 3.5, unbiased 14 / 3")


def _bn_2d_cases(rng):
    return [_worked_example(rng), bn_case(rng, (5, 3), True),
            bn_case(rng, (4, 2), True, note="small batch of 4")]


def _bn_4d_cases(rng):
    return [bn_case(rng, (2, 3, 3, 4), True, note="statistics over N, H, W per channel"),
            bn_case(rng, (1, 2, 4, 3), True, note="a batch of one image: statistics over its pixels"),
            bn_case(rng, (3, 1, 2, 2), True, note="one channel")]


def _bn_affine_cases(rng):
    return [bn_case(rng, (4, 3), True, weight=True, bias=False),
            bn_case(rng, (2, 2, 2, 3), True, weight=False, bias=True),
            bn_case(rng, (3, 2, 2, 2), False, weight=False, bias=False, note="evaluation, no weight, no bias"),
            bn_case(rng, (3, 2, 2, 2), True)]


def _bn_running_cases(rng):
    return [_worked_example(rng), bn_case(rng, (4, 3), True, momentum=0.3),
            bn_case(rng, (2, 3, 2, 3), True, momentum=0.05),
            bn_case(rng, (1, 2, 3, 2), True, note="a batch of one image")]


def _bn_eval_cases(rng):
    return [bn_case(rng, (4, 3), False), bn_case(rng, (2, 3, 3, 2), False),
            bn_case(rng, (1, 2, 2, 2), False, note="evaluation works for a single image too")]


def _bn_eps_cases(rng):
    return [bn_case(rng, (4, 2), True, eps=0.5, note="large eps"),
            bn_case(rng, (2, 2, 2, 2), True, scale=0.01, note="tiny variance: eps=1e-5 is not negligible"),
            bn_case(rng, (3, 2), False, eps=0.5, note="large eps in evaluation")]


def _batch_stats(x, ddof=0):
    axes = statistics_axes(x)
    return x.mean(axis=axes), x.var(axis=axes, ddof=ddof)


def _affine(out, weight, bias):
    if weight is not None:
        out = out * channel_view(weight, out.ndim)
    if bias is not None:
        out = out + channel_view(bias, out.ndim)
    return out


def wrong_batch_norm(normalize_ddof=0, update_ddof=1, reverse_momentum=False, axes=None, eps_outside=False,
                     batch_stats_in_eval=False, update=True, running_in_training=False):
    """batch_norm with one of its conventions changed; the arguments name the change."""
    def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        x = np.asarray(x, dtype=np.float64)
        chosen = statistics_axes(x) if axes is None else axes(x)
        if (training and not running_in_training) or batch_stats_in_eval:
            mean = x.mean(axis=chosen, keepdims=True)
            var = x.var(axis=chosen, ddof=normalize_ddof, keepdims=True)
        else:
            mean, var = channel_view(running_mean, x.ndim), channel_view(running_var, x.ndim)
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        out = _affine((x - mean) / std, weight, bias)
        if training and update:
            batch_mean, batch_var = _batch_stats(x, update_ddof)
            keep = momentum if reverse_momentum else 1 - momentum
            running_mean[...] = keep * running_mean + (1 - keep) * batch_mean
            running_var[...] = keep * running_var + (1 - keep) * batch_var
        return out
    return batch_norm


RUNNING_HINT = ("running = (1 - momentum) * running + momentum * batch statistic, "
                "updated in place (running_mean[...] = ... or +=), as torch does")

BATCH_NORM_MISCONCEPTIONS = [
    Misconception("unbiased variance for normalizing",
                  "the batch was normalized with the unbiased variance (divided by m - 1); batch norm "
                  "normalizes with the biased one, mean((x - mean)**2), and uses the unbiased one only "
                  "for the running_var update", wrong_batch_norm(normalize_ddof=1)),
    Misconception("biased variance for the running update",
                  "running_var was updated with the biased batch variance; torch updates it with the "
                  "unbiased one, var * m / (m - 1), m = values per channel", wrong_batch_norm(update_ddof=0)),
    Misconception("momentum the other way round",
                  "momentum was applied the other way round: " + RUNNING_HINT,
                  wrong_batch_norm(reverse_momentum=True)),
    Misconception("spatial batch norm per pixel",
                  "spatial batch norm was normalized per pixel, over the batch only; the statistics of "
                  "channel c pool all N * H * W values of that channel (axes 0, 2, 3)",
                  wrong_batch_norm(axes=lambda x: (0,))),
    Misconception("all channels together",
                  "the statistics were taken over all channels together; each channel has its own mean "
                  "and variance (over N, H, W), and its own weight and bias",
                  wrong_batch_norm(axes=lambda x: tuple(range(x.ndim)))),
    Misconception("eps outside the square root",
                  "eps was added outside the square root; the denominator is sqrt(var + eps)",
                  wrong_batch_norm(eps_outside=True)),
    Misconception("running statistics not updated",
                  "running_mean and running_var were not updated in training: " + RUNNING_HINT,
                  wrong_batch_norm(update=False)),
    Misconception("batch statistics in evaluation",
                  "evaluation (training=False) used the batch's statistics; it must use running_mean "
                  "and running_var, so an image's output does not depend on the rest of the batch",
                  wrong_batch_norm(batch_stats_in_eval=True, update=False)),
    Misconception("running statistics in training",
                  "training normalized with the running statistics; it uses this batch's mean and "
                  "variance (and then updates the running ones)", wrong_batch_norm(running_in_training=True)),
]


def _bn_regimes(fn, grad=False):
    x = "x"

    def var_of(a):
        if a["training"]:
            return np.asarray(a[x]).var(axis=statistics_axes(a[x]))
        return np.asarray(a["running_var"])
    regimes = [
        when(fn, "training", lambda a: a["training"]),
        when(fn, "evaluation", lambda a: not a["training"]),
        when(fn, "x is (N, C)", lambda a: np.ndim(a[x]) == 2),
        when(fn, "x is (N, C, H, W)", lambda a: np.ndim(a[x]) == 4),
        when(fn, "several channels", lambda a: np.shape(a[x])[1] > 1),
        # eps outside the square root changes x_hat by about eps / std: within tolerance below this
        when(fn, "eps not negligible against the variance", lambda a: a["eps"] > 5e-5 * np.sqrt(np.min(var_of(a)))),
    ]
    if grad:
        # None in, None out: the gradient of an argument that was not given is None
        regimes += [when(fn, "weight/bias None", lambda a: a["weight"] is None or a["bias"] is None)]
    if not grad:
        regimes += [
            when(fn, "a batch of one image in training", lambda a: a["training"] and np.shape(a[x])[0] == 1),
            when(fn, "weight None", lambda a: a["weight"] is None),
            when(fn, "weight an array", lambda a: a["weight"] is not None),
            when(fn, "bias None", lambda a: a["bias"] is None),
            when(fn, "bias an array", lambda a: a["bias"] is not None),
            when(fn, "momentum other than 0.1 in training", lambda a: a["training"] and a["momentum"] != 0.1),
        ]
    return regimes


BATCH_NORM = Exercise(
    name="batch_norm", reference=ref.batch_norm, in_place=(("running_mean", 1), ("running_var", 2)),
    checks=[
        Check("output shape", 1, lambda rng: [bn_case(rng, (2, 3, 2, 2), True)], kind="shape", outputs=(0,)),
        Check("training on (N, C): normalized with the batch mean and biased variance", 2, _bn_2d_cases,
              outputs=(0,)),
        Check("training on (N, C, H, W): statistics per channel over N, H, W", 3, _bn_4d_cases, outputs=(0,)),
        Check("weight and bias, each an array or None", 2, _bn_affine_cases, outputs=(0,)),
        Check("running_mean updated in place", 2, _bn_running_cases, outputs=(1,)),
        Check("running_var updated in place with the unbiased variance", 2, _bn_running_cases, outputs=(2,)),
        Check("evaluation: running statistics used and left unchanged", 2, _bn_eval_cases),
        Check("eps inside the square root", 1, _bn_eps_cases, outputs=(0,)),
        Check("x, weight and bias left unmodified", 1, lambda rng: [bn_case(rng, (2, 2, 2, 2), True)],
              kind="unmodified"),
    ],
    misconceptions=BATCH_NORM_MISCONCEPTIONS,
    regimes=_bn_regimes(ref.batch_norm),
)


# ------------------------------------------------------- batch_norm_backward

def bn_backward_case(rng, shape, training, note="", **kwargs):
    case = bn_case(rng, shape, training, **kwargs)
    grad_out = rng.standard_normal(shape)
    return Case((grad_out,) + case.args, case.kwargs, note)


def _bnb_training_cases(rng):
    return [bn_backward_case(rng, (4, 3), True), bn_backward_case(rng, (2, 2, 3, 2), True),
            bn_backward_case(rng, (1, 2, 2, 3), True, note="a batch of one image")]


def _bnb_eval_cases(rng):
    return [bn_backward_case(rng, (3, 2), False), bn_backward_case(rng, (2, 3, 2, 2), False)]


def _bnb_param_cases(rng):
    return [bn_backward_case(rng, (5, 2), True), bn_backward_case(rng, (2, 3, 2, 3), True),
            bn_backward_case(rng, (2, 2, 3, 2), False)]


def _bnb_none_cases(rng):
    return [bn_backward_case(rng, (4, 3), True, weight=False, bias=False, note="no weight, no bias"),
            bn_backward_case(rng, (2, 2, 2, 3), False, weight=False, note="no weight, a bias"),
            bn_backward_case(rng, (3, 2, 2, 2), True, bias=False, note="a weight, no bias")]


def _bnb_eps_cases(rng):
    return [bn_backward_case(rng, (4, 2), True, eps=0.5), bn_backward_case(rng, (3, 2, 2, 2), False, eps=0.5)]


def wrong_bn_backward(x_hat_only=False, training_in_eval=False, sum_axes=None, grad_bias_mean=False,
                      zeros_for_none=False):
    def batch_norm_backward(grad_out, x, running_mean, running_var, weight=None, bias=None, training=False,
                            momentum=0.1, eps=1e-5):
        grad_x, grad_w, grad_b = ref.batch_norm_backward(grad_out, x, running_mean, running_var, weight, bias,
                                                         training or training_in_eval, momentum, eps)
        axes = statistics_axes(x)
        if x_hat_only and training:
            mean, var = _batch_stats(x)
            grad_x = grad_out * channel_view(weight / np.sqrt(var + eps), x.ndim)
        if sum_axes is not None:
            if training or training_in_eval:
                mean, var = _batch_stats(x)
            else:
                mean, var = running_mean, running_var
            x_hat = (x - channel_view(mean, x.ndim)) / np.sqrt(channel_view(var, x.ndim) + eps)
            grad_w = np.sum(grad_out * x_hat, axis=sum_axes(x))
            grad_b = np.sum(grad_out, axis=sum_axes(x))
        if grad_bias_mean:
            grad_b = grad_out.mean(axis=axes)
        if zeros_for_none:
            channels = np.shape(x)[1]
            grad_w = np.zeros(channels) if grad_w is None else grad_w
            grad_b = np.zeros(channels) if grad_b is None else grad_b
        return grad_x, grad_w, grad_b
    return batch_norm_backward


SUMMED_WRONG = ("grad_weight and grad_bias were summed over the wrong axes: both sum over every axis "
                "except the channel axis (N, H, W), leaving one entry per channel")

BATCH_NORM_BACKWARD = Exercise(
    name="batch_norm_backward", reference=ref.batch_norm_backward,
    output_names=("grad_x", "grad_weight", "grad_bias"),
    checks=[
        Check("grad_x in training: through x_hat, the mean and the variance", 5, _bnb_training_cases,
              outputs=(0,)),
        Check("grad_x in evaluation: a per-channel scale", 2, _bnb_eval_cases, outputs=(0,)),
        Check("grad_weight: sum of grad_out * x_hat per channel", 2, _bnb_param_cases, outputs=(1,)),
        Check("grad_bias: sum of grad_out per channel", 2, _bnb_param_cases, outputs=(2,)),
        Check("weight and bias None: grad_weight and grad_bias are None", 1, _bnb_none_cases, outputs=(1, 2)),
        Check("eps inside the square root", 1, _bnb_eps_cases),
        Check("inputs left unmodified, running statistics included", 1,
              lambda rng: [bn_backward_case(rng, (2, 2, 2, 2), True)], kind="unmodified"),
    ],
    misconceptions=[
        Misconception("backward through x_hat only",
                      "grad_x went through x_hat only, as if the batch mean and variance were constants; "
                      "in training they depend on x too: grad_x = weight / sqrt(var + eps) * (g - mean(g) "
                      "- x_hat * mean(g * x_hat)), means per channel over N, H, W",
                      wrong_bn_backward(x_hat_only=True)),
        Misconception("training gradient in evaluation",
                      "in evaluation the running statistics are constants, so grad_x = grad_out * weight / "
                      "sqrt(running_var + eps); the mean and variance paths exist only in training",
                      wrong_bn_backward(training_in_eval=True)),
        Misconception("grad_weight and grad_bias summed over the batch only", SUMMED_WRONG,
                      wrong_bn_backward(sum_axes=lambda x: 0)),
        Misconception("grad_weight and grad_bias summed over everything", SUMMED_WRONG,
                      wrong_bn_backward(sum_axes=lambda x: None)),
        Misconception("zeros for a None weight or bias",
                      "a gradient of an argument that was None must be None, as torch returns no gradient "
                      "for a weight or bias it was not given; zeros would be a gradient of a weight that "
                      "does not exist", wrong_bn_backward(zeros_for_none=True)),
        Misconception("grad_bias averaged",
                      "grad_bias was averaged; bias[c] is added to every value of channel c, so its "
                      "gradient is the sum of grad_out over N, H, W", wrong_bn_backward(grad_bias_mean=True)),
    ],
    regimes=_bn_regimes(ref.batch_norm_backward, grad=True),
)


# ----------------------------------------------------- local_response_norm

def lrn_case(rng, shape, size, note="", grad=False, **kwargs):
    kwargs.setdefault("alpha", round(float(rng.uniform(0.5, 2.0)), 2))
    x = rng.standard_normal(shape) * 1.5
    args = (x, size) if not grad else (rng.standard_normal(shape), x, size)
    return Case(args, kwargs, note)


def _lrn_alexnet(rng):
    # AlexNet's own values, scaled up so the neighbours matter: size 5, beta 0.75, k 2.
    x = np.zeros((1, 6, 1, 1))
    x[0, :, 0, 0] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    return Case((x, 5), dict(alpha=5.0, beta=0.75, k=2.0), "AlexNet's size 5, beta 0.75, k 2, with alpha 5")


def _lrn_odd_cases(rng, grad=False):
    cases = [lrn_case(rng, (2, 5, 3, 3), 3, grad=grad), lrn_case(rng, (1, 7, 2, 3), 5, grad=grad, beta=0.5, k=2.0)]
    return cases if grad else [_lrn_alexnet(rng)] + cases


def _lrn_even_cases(rng, grad=False):
    return [lrn_case(rng, (1, 6, 2, 3), 4, grad=grad, k=1.5, note="even size: one more neighbour before than after"),
            lrn_case(rng, (2, 4, 2, 2), 2, grad=grad)]


def _lrn_edge_cases(rng, grad=False):
    return [lrn_case(rng, (1, 3, 2, 2), 5, grad=grad, note="size larger than the number of channels"),
            lrn_case(rng, (2, 4, 5), 3, grad=grad, note="a 3-D input (N, C, L)"),
            lrn_case(rng, (2, 3, 2, 2), 1, grad=grad, note="size 1: each channel alone")]


def wrong_lrn(divide_by_size=True, before=lambda s: s // 2, after=lambda s: (s - 1) // 2, clamp=False):
    def local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
        x = np.asarray(x, dtype=np.float64)
        size_used = min(size, x.shape[1]) if clamp else size
        window = ref._channel_window_sum(x * x, before(size_used), after(size_used))
        return x * (k + alpha / (size_used if divide_by_size else 1) * window) ** -beta
    return local_response_norm


LOCAL_RESPONSE_NORM = Exercise(
    name="local_response_norm", reference=ref.local_response_norm,
    checks=[
        Check("odd size: the window centred on the channel", 3, _lrn_odd_cases),
        Check("even size: one more channel before than after", 2, _lrn_even_cases),
        Check("edges: size larger than C, 3-D input, size 1", 2, _lrn_edge_cases),
        Check("x left unmodified", 1, lambda rng: [lrn_case(rng, (1, 4, 2, 2), 3)], kind="unmodified"),
    ],
    misconceptions=[
        Misconception("alpha not divided by size",
                      "alpha was not divided by size: torch computes k + alpha / size * (sum of the squares "
                      "in the window), the average of the squares times alpha",
                      wrong_lrn(divide_by_size=False)),
        Misconception("even window mirrored",
                      "for an even size the window has one more channel before c than after it "
                      "(size // 2 before, (size - 1) // 2 after), as torch pads it",
                      wrong_lrn(before=lambda s: (s - 1) // 2, after=lambda s: s // 2)),
        Misconception("window not centred",
                      "the channel window was not centred: channel c sums the squares of channels "
                      "c - size // 2 to c + (size - 1) // 2 (those that exist)",
                      wrong_lrn(before=lambda s: 0, after=lambda s: s - 1)),
        Misconception("window as half-width",
                      "size is the whole window, not its half-width: channel c sums size channels around "
                      "it, from c - size // 2 to c + (size - 1) // 2",
                      wrong_lrn(before=lambda s: s, after=lambda s: s)),
    ],
    regimes=[
        when(ref.local_response_norm, "size > 1", lambda a: a["size"] > 1),
        when(ref.local_response_norm, "size even", lambda a: a["size"] % 2 == 0),
        when(ref.local_response_norm, "size 1", lambda a: a["size"] == 1),
        # with size > 1 the windows of the first and last channels reach past the channel axis
        when(ref.local_response_norm, "window overhangs the first or last channel", lambda a: a["size"] > 1),
        when(ref.local_response_norm, "size larger than C", lambda a: a["size"] > np.shape(a["x"])[1]),
        when(ref.local_response_norm, "x is (N, C, L)", lambda a: np.ndim(a["x"]) == 3),
        when(ref.local_response_norm, "k other than 1", lambda a: a["k"] != 1.0),
        when(ref.local_response_norm, "beta other than 0.75", lambda a: a["beta"] != 0.75),
    ],
)


def wrong_lrn_backward(direct_only=False, same_window=False):
    def local_response_norm_backward(grad_out, x, size, alpha=1e-4, beta=0.75, k=1.0):
        x = np.asarray(x, dtype=np.float64)
        div = k + alpha / size * ref._channel_window_sum(x * x, size // 2, (size - 1) // 2)
        if direct_only:
            return grad_out * div ** -beta
        before, after = (size // 2, (size - 1) // 2) if same_window else ((size - 1) // 2, size // 2)
        through = ref._channel_window_sum(grad_out * x * div ** (-beta - 1), before, after)
        return grad_out * div ** -beta - 2.0 * beta * alpha / size * x * through
    return local_response_norm_backward


LOCAL_RESPONSE_NORM_BACKWARD = Exercise(
    name="local_response_norm_backward", reference=ref.local_response_norm_backward,
    output_names=("grad_x",),
    checks=[
        Check("odd size", 2, lambda rng: _lrn_odd_cases(rng, grad=True)),
        Check("even size: the mirrored window", 2, lambda rng: _lrn_even_cases(rng, grad=True)),
        Check("edges: size larger than C, 3-D input, size 1", 1, lambda rng: _lrn_edge_cases(rng, grad=True)),
        Check("inputs left unmodified", 1, lambda rng: [lrn_case(rng, (1, 4, 2, 2), 3, grad=True)],
              kind="unmodified"),
    ],
    misconceptions=[
        Misconception("denominator treated as a constant",
                      "only the direct term grad_out * div**-beta was kept; each x[j] also enters the "
                      "denominators of its neighbouring channels, which adds "
                      "-2 beta alpha / size * x[j] * sum of grad_out[c] x[c] div[c]**(-beta - 1)",
                      wrong_lrn_backward(direct_only=True)),
        Misconception("window not mirrored in the backward",
                      "the backward summed over the forward's window; x[j] is in the windows of the "
                      "channels c from j - (size - 1) // 2 to j + size // 2, the mirror image, which "
                      "differs when size is even", wrong_lrn_backward(same_window=True)),
    ],
    regimes=[
        when(ref.local_response_norm_backward, "size > 1", lambda a: a["size"] > 1),
        when(ref.local_response_norm_backward, "size even", lambda a: a["size"] % 2 == 0),
        when(ref.local_response_norm_backward, "size larger than C", lambda a: a["size"] > np.shape(a["x"])[1]),
        when(ref.local_response_norm_backward, "x is (N, C, L)", lambda a: np.ndim(a["x"]) == 3),
    ],
)


# --------------------------------------------------------------- group_norm

def gn_case(rng, shape, groups, weight=True, bias=True, note="", **kwargs):
    channels = shape[1]
    x = rng.standard_normal(shape) * channel_view(rng.uniform(0.5, 3.0, channels), len(shape))
    _, _, w, b = _vectors(rng, channels)
    return Case((x, groups, w if weight else None, b if bias else None), kwargs, note)


def _gn_group_cases(rng):
    return [gn_case(rng, (2, 6, 2, 2), 3, note="3 groups of 2 channels"),
            gn_case(rng, (1, 4, 3, 2), 1, note="one group: layer norm over (C, H, W)"),
            gn_case(rng, (2, 3, 2, 3), 3, note="C groups: instance norm")]


def _gn_2d_cases(rng):
    return [gn_case(rng, (3, 4), 2, note="x is (N, C)"), gn_case(rng, (2, 6), 3)]


def _gn_affine_cases(rng):
    return [gn_case(rng, (2, 4, 2, 2), 2, bias=False), gn_case(rng, (2, 6, 1, 3), 2, weight=False),
            gn_case(rng, (1, 4, 2, 2), 2, weight=False, bias=False, note="no weight, no bias")]


def _gn_eps_cases(rng):
    return [gn_case(rng, (2, 6, 1, 3), 2, eps=0.5, note="large eps"), gn_case(rng, (3, 6), 2, eps=0.3)]


def wrong_group_norm(axes=None, interleaved=False):
    def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
        x = np.asarray(x, dtype=np.float64)
        n, c = x.shape[:2]
        if interleaved:
            grouped = x.reshape(n, c // num_groups, num_groups, -1).transpose(0, 2, 1, 3).reshape(n, num_groups, -1)
        else:
            grouped = x.reshape(n, num_groups, -1) if axes is None else x
        chosen = 2 if axes is None else axes(x)
        out = (grouped - grouped.mean(axis=chosen, keepdims=True)) / np.sqrt(
            grouped.var(axis=chosen, keepdims=True) + eps)
        if interleaved:
            out = out.reshape(n, num_groups, c // num_groups, -1).transpose(0, 2, 1, 3)
        return _affine(out.reshape(x.shape), weight, bias)
    return group_norm


GROUP_NORM = Exercise(
    name="group_norm", reference=ref.group_norm,
    checks=[
        Check("statistics per sample and group of channels", 2, _gn_group_cases),
        Check("x of shape (N, C)", 1, _gn_2d_cases),
        Check("weight and bias, each an array or None", 1, _gn_affine_cases),
        Check("eps inside the square root", 1, _gn_eps_cases),
        Check("x left unmodified", 1, lambda rng: [gn_case(rng, (2, 4, 2, 2), 2)], kind="unmodified"),
    ],
    misconceptions=[
        Misconception("statistics per channel",
                      "each channel was normalized on its own (instance norm); a group's statistics pool "
                      "its C // num_groups channels and all their pixels",
                      wrong_group_norm(axes=lambda x: tuple(range(2, x.ndim)))),
        Misconception("statistics over the whole sample",
                      "the statistics were taken over the whole sample (layer norm); each of the num_groups "
                      "groups of consecutive channels has its own mean and variance",
                      wrong_group_norm(axes=lambda x: tuple(range(1, x.ndim)))),
        Misconception("statistics over the batch",
                      "the statistics included the batch axis; group norm normalizes each sample on its own, "
                      "which is why it works for any batch size", wrong_group_norm(
                          axes=lambda x: (0,) + tuple(range(1, x.ndim)))),
        Misconception("interleaved groups",
                      "the groups were channels c, c + num_groups, ...; a group is C // num_groups "
                      "consecutive channels (x.reshape(N, num_groups, -1))", wrong_group_norm(interleaved=True)),
    ],
    regimes=[
        when(ref.group_norm, "groups > 1", lambda a: a["num_groups"] > 1),
        when(ref.group_norm, "groups < C", lambda a: a["num_groups"] < np.shape(a["x"])[1]),
        when(ref.group_norm, "1 < groups < C", lambda a: 1 < a["num_groups"] < np.shape(a["x"])[1]),
        when(ref.group_norm, "x is (N, C)", lambda a: np.ndim(a["x"]) == 2),
        when(ref.group_norm, "batch > 1", lambda a: np.shape(a["x"])[0] > 1),
        when(ref.group_norm, "weight None", lambda a: a["weight"] is None),
        when(ref.group_norm, "weight an array", lambda a: a["weight"] is not None),
        when(ref.group_norm, "bias None", lambda a: a["bias"] is None),
        when(ref.group_norm, "bias an array", lambda a: a["bias"] is not None),
    ],
)


LESSON = Lesson(LESSON_ID, "Normalization",
                [BATCH_NORM, BATCH_NORM_BACKWARD, LOCAL_RESPONSE_NORM, LOCAL_RESPONSE_NORM_BACKWARD, GROUP_NORM])
