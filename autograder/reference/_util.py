"""Argument handling shared by every reference operation.

torch.nn.functional accepts an int or a tuple for every spatial hyperparameter;
these helpers turn both into tuples and raise one-line `ValueError`s that name
the offending argument and its value. `row_buffers` is a speed setting for
NumPy's iterator, shared by the references whose passes run over short rows.
"""
import contextlib

import numpy as np


def ntuple(value, n, name):
    """Return `value` as a tuple of `n` ints (an int is repeated n times).

    >>> ntuple(2, 2, "stride")
    (2, 2)
    """
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        values = tuple(int(v) for v in value)
    except TypeError:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}") from None
    if len(values) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
    return values


def pair(value, name):
    """`ntuple(value, 2, name)`: the (height, width) form of a 2-D hyperparameter."""
    return ntuple(value, 2, name)


def check_ndim(x, ndim, name, layout):
    """Raise ValueError unless `x` has `ndim` dimensions (layout is e.g. '(N, C, H, W)')."""
    if np.ndim(x) != ndim:
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {np.shape(x)}")


def check_positive(values, name):
    """Raise ValueError unless every entry of the tuple `values` is >= 1."""
    if any(v < 1 for v in values):
        raise ValueError(f"{name} must be positive, got {values}")


def check_non_negative(values, name):
    """Raise ValueError unless every entry of the tuple `values` is >= 0."""
    if any(v < 0 for v in values):
        raise ValueError(f"{name} must be non-negative, got {values}")


def as_float(x):
    """Return `x` as a float64 ndarray (the reference computes in float64)."""
    return np.asarray(x, dtype=np.float64)


@contextlib.contextmanager
def row_buffers(row):
    """Run the NumPy ufuncs inside with a buffer of `row` elements (rounded down to 16s).

    When an operation's arrays cannot be walked as one flat run (a slice of a bigger
    array, a factor broadcast per channel), NumPy 2's iterator lengthens each contiguous
    run shorter than its buffer (8192 elements by default) by copying runs through the
    buffer. For runs of 256 to 4096 values that copying costs as much as the arithmetic
    itself (measured 1.5-3x slower, numpy 2.4); a buffer the size of one run lets the
    iterator use the arrays where they are. The results are the same numbers (only the
    traversal changes), and np.setbufsize is context-local and restored on the way out.
    Outside 256 <= row < 8192 it changes nothing: shorter runs measured slower with it.
    """
    if not 256 <= row < np.getbufsize():
        yield
        return
    previous = np.setbufsize(row // 16 * 16)         # NumPy takes multiples of 16 only
    try:
        yield
    finally:
        np.setbufsize(previous)
