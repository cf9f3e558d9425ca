"""Comparing a student's arrays with the expected ones, and describing the difference.

The tolerance accepts any correct implementation: float32 results, a different
summation order (loops, im2col, einsum), while every known misconception is off
by far more than it.
"""
import numpy as np

RTOL = 1e-4           # float32 round-off after a few hundred additions stays below this
ATOL_SCALE = 1e-5     # absolute slack, relative to the largest expected magnitude
SMALL = 64            # arrays up to this many entries are printed in full


def tolerance(expected):
    # -inf (max pooling's padding) must not make the slack infinite: an infinite atol
    # would accept any number anywhere; infinities themselves are compared exactly
    finite = np.abs(expected[np.isfinite(expected)]) if expected.size else np.zeros(0)
    scale = float(np.max(finite)) if finite.size else 1.0
    return ATOL_SCALE * max(1.0, scale)


def close(got, expected):
    """True when `got` has the expected shape and values within tolerance; None equals None only."""
    if got is None or expected is None:
        return got is None and expected is None
    if got.shape != expected.shape:
        return False
    got = got.astype(np.float64)
    return bool(np.allclose(got, expected, rtol=RTOL, atol=tolerance(expected)))


def first_mismatch(got, expected):
    """Index of the first entry (row-major) outside tolerance, or None."""
    bad = ~np.isclose(got.astype(np.float64), expected, rtol=RTOL, atol=tolerance(expected))
    if not bad.any():
        return None
    return tuple(int(i) for i in np.unravel_index(np.argmax(bad), bad.shape))


def show_array(array, name):
    """`name = [...]` in full when small, else its shape and value range."""
    if array.size <= SMALL:
        body = np.array2string(np.asarray(array, dtype=np.float64), precision=4, suppress_small=True,
                               separator=", ", max_line_width=100)
        # numpy separates the blocks of a 3-D or 4-D array with blank lines, which makes a
        # (1, 6, 1, 1) array twelve lines tall; the brackets already show the blocks
        rows = [row for row in body.split("\n") if row.strip()]
        body = ("\n" + " " * (len(name) + 7)).join(rows)
        return f"    {name} = {body}"
    return (f"    {name}: shape {array.shape}, values from {np.min(array):.4g} to {np.max(array):.4g}"
            " (too large to print)")


def describe_none(got, expected, name="out", reason=""):
    """The line for an output that is None on one side only; `reason`: "weight was None" or ""."""
    because = f" because {reason}" if reason else ""
    if expected is None:
        return f"    {name}: expected None{because}, got an array of shape {got.shape}"
    return f"    {name}: expected an array of shape {expected.shape}{because}, got None"


def describe_difference(got, expected, name="out", reason=""):
    """Lines of feedback saying how `got` differs from `expected` (either may be None)."""
    if got is None or expected is None:
        return [] if got is expected else [describe_none(got, expected, name, reason)]
    if got.shape != expected.shape:
        return [f"    {name}: expected shape {expected.shape}, got shape {got.shape}"]
    lines = [show_array(expected, f"expected {name}"), show_array(got, f"got {name}")]
    index = first_mismatch(got, expected)
    if index is not None:
        lines.append(f"    first mismatch at index {index}: expected {expected[index]:.6g}, "
                     f"got {float(got[index]):.6g}")
    return lines


# ------------------------------------------------- inputs as code a student can paste
MAX_LITERAL_CHARS = 4000   # longer than this, an array is described instead of printed
WIDTH = 100


def array_assignment(name, array):
    """`name = <NumPy code>` that rebuilds `array` exactly, or None when too long to read.

    Floats are printed with as many digits as they need to round-trip, so the
    student's copy holds the very numbers the grader used.
    """
    array = np.asarray(array)
    dtype = "" if array.dtype in (np.float64, np.int64, np.bool_) else f", dtype=np.{array.dtype}"
    shape = tuple(int(n) for n in array.shape)
    head = f"{name} = "
    if array.size == 0:
        return f"{head}np.zeros({shape}{dtype})"
    if array.ndim > 0 and array.dtype.kind == "f" and array.size > 1:
        flat = array.reshape(-1)
        if np.all(flat == flat[0]):
            return f"{head}np.full({shape}, {flat[0].item()!r}{dtype})"
        if np.array_equal(flat, np.arange(array.size)):
            reshape = f".reshape{shape}" if array.ndim > 1 else ""
            return f"{head}np.arange({float(array.size)!r}{dtype}){reshape}"
    text = _literal(head, array, dtype, shape, floatmode="unique")
    if len(text) > MAX_LITERAL_CHARS and array.dtype.kind == "f":
        # still enough to reproduce a failure, in a third of the room
        text = _literal(head, array, dtype, shape, floatmode="maxprec", precision=6) + \
            "    # rounded to 6 decimals"
    return None if len(text) > MAX_LITERAL_CHARS else text


def _literal(head, array, dtype, shape, **options):
    options = dict(options, separator=", ", threshold=array.size + 1, max_line_width=WIDTH - len(head) - 9)
    if array.ndim <= 1 or array.size <= SMALL:
        return f"{head}np.array({_rows(np.array2string(array, **options), len(head) + 9)}{dtype})"
    body = _rows(np.array2string(array.reshape(-1), **options), len(head) + 9)
    return f"{head}np.array({body}{dtype}).reshape{shape}"


def _rows(body, indent):
    """numpy's rows re-indented under a prefix; no blank lines between the blocks of a 3-D array."""
    rows = [row.rstrip() for row in body.split("\n") if row.strip()]
    return ("\n" + " " * indent).join(rows)
