# Course maintainers: edit this file in source/01_pooling/; release/01_pooling/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Check a backward function against a numerical gradient.

A backward function `op_backward(grad_out, x, ...)` returns the gradient of the
scalar  s(x) = sum(op(x) * grad_out)  with respect to x. This module estimates
that same gradient by nudging one entry of x at a time, so you can compare:

    from gradient_check import numerical_gradient, relative_error

    x = np.random.default_rng(0).permutation(16).reshape(1, 1, 4, 4) / 4
    grad_out = np.random.default_rng(1).normal(size=(1, 1, 2, 2))
    numeric = numerical_gradient(lambda x: max_pool2d(x, 2), x, grad_out)
    analytic = max_pool2d_backward(grad_out, x, 2)
    print(relative_error(analytic, numeric))   # about 1e-10 when the backward is right

Max pooling has kinks where two values of a window tie, and the estimate is
wrong near them: test it with values that are distinct and further apart than eps.
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
