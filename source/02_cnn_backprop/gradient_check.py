# Course maintainers: edit this file in source/02_cnn_backprop/; release/02_cnn_backprop/ holds a
# copy made by `python -m autograder release` (see release/README.md).
"""Compare an analytic gradient with a numerical one: the course's one relative error.

Every lesson checks gradients the same way (lessons 1 and 3's gradient_check.py have this
very function, character for character; tests/test_lessons.py keeps them equal):

    error = relative_error(analytic, numeric)

    about 1e-7 or less   right (the estimate's own error, for a smooth function in float64)
    around 1e-4          suspicious: look again (a kink crossed, a too large eps, or a bug)
    1e-2 or more         a bug

Writing the numerical gradient itself is this lesson's exercise `numerical_gradient`.
"""
import numpy as np


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
