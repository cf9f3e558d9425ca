# Course maintainers: edit this file in source/04_normalization/; release/04_normalization/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Check a backward function against a numerical gradient.

A backward function `op_backward(grad_out, x, ...)` returns the gradient of the
scalar  s(x) = sum(op(x) * grad_out)  with respect to x. This module estimates
that same gradient by nudging one entry of x at a time, so you can compare:

    from gradient_check import numerical_gradient, relative_error

    rng = np.random.default_rng(0)
    x, grad_out = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    mean, var = np.zeros(3), np.ones(3)
    numeric = numerical_gradient(lambda x: batch_norm(x, mean.copy(), var.copy(), training=True),
                                 x, grad_out)
    analytic = batch_norm_backward(grad_out, x, mean, var, training=True)[0]
    print(relative_error(analytic, numeric))   # about 1e-10 when the backward is right

The forward is given copies of the running statistics: in training it updates
them in place, and the estimate calls it many times.
"""
import numpy as np


def numerical_gradient(f, x, grad_out, eps=1e-6):
    """Centred-difference estimate of the gradient of sum(f(x) * grad_out) with respect to x.

    f:        a function of one array, returning an array of grad_out's shape
    x:        the input array, any shape; it is copied, never changed
    grad_out: the upstream gradient, f(x)'s shape
    eps:      the nudge; the estimate's error shrinks like eps**2 until round-off
              (about 1e-16 / eps) takes over, so 1e-6 suits float64
    Returns an array of x's shape whose entry p is
        (s(x + eps at p) - s(x - eps at p)) / (2 * eps),  s(x) = sum(f(x) * grad_out).
    """
    x = np.array(x, dtype=np.float64)  # our own copy: nudged in place below
    grad_out = np.asarray(grad_out, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        above = np.sum(f(x) * grad_out)
        x[index] = saved - eps
        below = np.sum(f(x) * grad_out)
        x[index] = saved
        grad[index] = (above - below) / (2 * eps)
    return grad


def relative_error(a, b):
    """How far apart two gradients are, relative to their size: |a - b| / (|a| + |b|).

    |.| is the Euclidean norm over all entries. 0 means equal; below about 1e-7
    the two agree up to the numerical estimate's own error; above 1e-3 one of
    them is wrong. Two all-zero arrays give 0. Raises ValueError when the shapes
    differ (a backward must return an array of its input's shape).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"the gradients have different shapes: {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)
