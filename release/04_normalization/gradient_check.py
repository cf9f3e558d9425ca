# Course maintainers: edit this file in source/04_normalization/; release/04_normalization/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Check a backward function against a numerical gradient: the course's one gradient check.

The same numerical_gradient and relative_error as lesson 1's gradient_check.py, character
for character (tests/test_lessons.py keeps them equal). A backward function
`op_backward(grad_out, x, ...)` returns the gradient of the scalar
s(x) = sum(op(x) * grad_out) with respect to x, so you compare:

    from gradient_check import numerical_gradient, relative_error

    rng = np.random.default_rng(0)
    x, grad_out = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    mean, var = np.zeros(3), np.ones(3)
    s = lambda v: np.sum(batch_norm(v, mean.copy(), var.copy(), training=True) * grad_out)
    numeric = numerical_gradient(s, x)
    analytic = batch_norm_backward(grad_out, x, mean, var, training=True)[0]
    print(relative_error(analytic, numeric))

The forward is given copies of the running statistics: in training it updates them in
place, and the estimate calls it many times. The guideline, as in every lesson:

    about 1e-7 or less   right (the estimate's own error, for a smooth function in float64)
    around 1e-4          suspicious: look again (a kink crossed, a too large eps, or a bug)
    1e-2 or more         a bug
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
