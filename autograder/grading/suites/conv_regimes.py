"""Regimes shared by the convolution exercises of lessons 2 and 3 (issue 14).

A regime's `hit` reads the case's own arguments, bound to the reference's
signature so defaults count: `stride_pair = pair_kind(conv2d, "stride")` is hit
by every case whose stride is a tuple, whatever the check that drew it.
"""
import numpy as np

from ..spec import regime_when as when


def is_pair(value):
    return isinstance(value, (tuple, list))


def per_axis(value, n=2):
    """An int or a sequence as a tuple of n ints."""
    return tuple(int(v) for v in value) if is_pair(value) else (int(value),) * n


def pair_kind(fn, arg, word="pair"):
    return when(fn, f"{arg} given as a {word}", lambda a: is_pair(a[arg]))


def unequal_pair(fn, arg, word="pair"):
    return when(fn, f"{arg} a {word} of unequal values", lambda a: is_pair(a[arg]) and len(set(a[arg])) > 1)


def any_axis(fn, name, arg, test, n=2):
    """Hit when some axis of `arg` passes `test` (e.g. stride > 1 along H or W)."""
    return when(fn, name, lambda a: any(test(v) for v in per_axis(a[arg], n)))


def spatial(a, key):
    """The spatial shape of the array argument `key`."""
    return np.shape(a[key])[2:]


def windows(size, kernel, stride, padding, dilation=1):
    """(number of windows, pixels left over past the last window) along one axis."""
    span = dilation * (kernel - 1) + 1
    return (size + 2 * padding - span) // stride + 1, (size + 2 * padding - span) % stride


def geometry(a, x="x", w="w", n=2):
    """Per axis: (size, kernel, stride, padding, dilation) of a conv case's arguments."""
    sizes, kernels = np.shape(a[x])[2:], np.shape(a[w])[2:]
    dilation = per_axis(a.get("dilation", 1), n)
    return list(zip(sizes, kernels, per_axis(a["stride"], n), per_axis(a["padding"], n), dilation))


def conv_geometry_regimes(fn, keys, x="x", w="w", n=2):
    """The regimes named by `keys` (see GEOMETRY) for a strided, padded convolution `fn`."""
    def axes(a):
        return geometry(a, x, w, n)

    def non_square(key):
        return lambda a: len(set(spatial(a, key))) > 1

    word = "pair" if n == 2 else "triple"

    table = {
        "stride > 1": lambda: any_axis(fn, "stride > 1 on some axis", "stride", lambda s: s > 1, n),
        "stride >= 3": lambda: any_axis(fn, "stride >= 3 on some axis", "stride", lambda s: s >= 3, n),
        "stride pair": lambda: pair_kind(fn, "stride", word),
        "stride unequal": lambda: unequal_pair(fn, "stride", word),
        "overlap": lambda: when(fn, "stride < kernel span on some axis (windows overlap)",
                                lambda a: any(s < d * (k - 1) + 1 for _, k, s, _, d in axes(a))),
        "not dividing": lambda: when(
            fn, "stride does not divide: pixels left over past the last window",
            lambda a: any(windows(size, k, s, p, d)[1] > 0 for size, k, s, p, d in axes(a))),
        "padding > 0": lambda: any_axis(fn, "padding > 0 on some axis", "padding", lambda p: p > 0, n),
        "padding 0": lambda: any_axis(fn, "padding 0 on some axis", "padding", lambda p: p == 0, n),
        "padding maximal": lambda: when(fn, "padding maximal (k - 1) on some axis",
                                        lambda a: any(p > 0 and p == d * (k - 1) for _, k, _, p, d in axes(a))),
        "padding pair": lambda: pair_kind(fn, "padding", word),
        "padding unequal": lambda: unequal_pair(fn, "padding", word),
        "dilation > 1": lambda: any_axis(fn, "dilation > 1 on some axis", "dilation", lambda d: d > 1, n),
        "dilation pair": lambda: pair_kind(fn, "dilation", word),
        "dilation unequal": lambda: unequal_pair(fn, "dilation", word),
        "non-square input": lambda: when(fn, "non-square input", non_square(x)),
        "non-square kernel": lambda: when(fn, "non-square kernel", non_square(w)),
        "batch": lambda: when(fn, "batch N > 1", lambda a: np.shape(a[x])[0] > 1),
    }
    return [table[key]() for key in keys]


def channel_regimes(fn, x="x", w="w", b="b", out_axis=0):
    """Channel counts and the bias: C_in > 1, C_out > 1, b None / an array."""
    def c_out(a):
        return np.shape(a[w])[out_axis]
    regimes = [when(fn, "several input channels", lambda a: np.shape(a[x])[1] > 1),
               when(fn, "several output channels", lambda a: c_out(a) > 1)]
    if b is not None:
        regimes += [when(fn, "bias None", lambda a: a[b] is None),
                    when(fn, "bias an array", lambda a: a[b] is not None)]
    return regimes
