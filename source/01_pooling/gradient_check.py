# Course maintainers: edit this file in source/01_pooling/; release/01_pooling/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Check a backward function against a numerical gradient: the course's one gradient check.

A backward function `op_backward(grad_out, x, ...)` returns the gradient of the
scalar  s(x) = sum(op(x) * grad_out)  with respect to x. `numerical_gradient`
estimates the gradient of any scalar function by nudging one entry of x at a time
(lesson 2 asks you to write it yourself, with this very signature), so you compare:

    from gradient_check import numerical_gradient, relative_error

    x = np.random.default_rng(0).permutation(16).reshape(1, 1, 4, 4) / 4
    grad_out = np.random.default_rng(1).normal(size=(1, 1, 2, 2))
    numeric = numerical_gradient(lambda v: np.sum(max_pool2d(v, 2) * grad_out), x)
    analytic = max_pool2d_backward(grad_out, x, 2)
    print(relative_error(analytic, numeric))

One definition and one guideline for every lesson (lessons 2 and 3's gradient_check.py
have this very relative_error, character for character; tests/test_lessons.py keeps them
equal):

    about 1e-7 or less   right (the estimate's own error, for a smooth function in float64)
    around 1e-4          suspicious: look again (a kink crossed, a too large eps, or a bug)
    1e-2 or more         a bug

Max pooling has kinks where two values of a window tie, and the estimate is
wrong near them: test it with values that are distinct and further apart than eps.
"""
import numpy as np


def numerical_gradient(f, x, eps=1e-6):
    """Centred-difference gradient of a scalar function f at x.

    f:   a function that takes an array of x's shape and returns a number
    x:   an array of any shape; it is copied, never changed
    eps: the step taken on each side; the estimate's error shrinks like eps**2 until
         round-off (about 1e-16 / eps) takes over, so 1e-6 suits float64
    Returns grad of x's shape, with grad[k] = (f(x + eps * e_k) - f(x - eps * e_k)) / (2 * eps)
    for every index k, where e_k is 1 at index k and 0 elsewhere.
    """
    x = np.array(x, dtype=np.float64)  # our own copy: nudged in place below
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        above = f(x)
        x[index] = saved - eps
        below = f(x)
        x[index] = saved
        grad[index] = (above - below) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """Worst relative error over the entries of two gradients of one shape (CS231n's definition).

    analytic, numeric: arrays of the same shape, e.g. a backward's result and a numerical gradient
    Returns max over k of |a_k - n_k| / max(|a_k| + |n_k|, 1e-8), a float in [0, 1]:
        about 1e-7 or less, right; around 1e-4, suspicious; 1e-2 or more, a bug.
        The floor 1e-8 makes entries that are 0 in both (a pixel no window read) count as equal;
        an empty pair gives 0.
    Raises ValueError when the shapes differ: a backward returns an array of its input's shape.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"the gradients have different shapes: {a.shape} and {n.shape}")
    if a.size == 0:
        return 0.0
    # Entry by entry, so one wrong entry among many large right ones is not averaged away.
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)))
