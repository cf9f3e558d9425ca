"""Mistakes every strided, padded convolution exercise can make, as wrappers of its reference.

Each wrapper takes the reference `ref` and returns a function with its
signature that is right except in one regime: int-only code meeting a pair,
the first entry of a pair used on both axes, an argument ignored, a padded
array filled by `xp[p:-p] = x` (empty, so a crash, at padding 0).
"""
import inspect

import numpy as np


def bound(ref, args, kwargs):
    """The call's arguments by name, defaults included."""
    arguments = inspect.signature(ref).bind(*args, **kwargs)
    arguments.apply_defaults()
    return dict(arguments.arguments)


def is_pair(value):
    return isinstance(value, (tuple, list))


def per_axis(value, n=2):
    return tuple(int(v) for v in value) if is_pair(value) else (int(value),) * n


def changed(ref, change):
    """ref called with its arguments as change(arguments) rewrites them (a dict, in place)."""
    def wrong(*args, **kwargs):
        arguments = bound(ref, args, kwargs)
        change(arguments)
        return ref(**arguments)
    return wrong


def first_of_pair(ref, name):
    """A pair (a, b) read as the int a on every axis: `s = stride[0]`."""
    def change(arguments):
        if is_pair(arguments[name]):
            arguments[name] = int(arguments[name][0])
    return changed(ref, change)


def int_only(ref, name):
    """Code written for an int: `i * stride` with a tuple raises (or repeats the tuple)."""
    def change(arguments):
        if is_pair(arguments[name]):
            raise TypeError(f"unsupported operand type(s) for +: 'int' and 'tuple' ({name}={arguments[name]!r})")
    return changed(ref, change)


def ignored(ref, name, default):
    """The argument is never used: the default always applies."""
    def change(arguments):
        arguments[name] = default
    return changed(ref, change)


def crash_when(ref, test, message):
    """Right, except that it raises where test(arguments) holds (a broadcast or index error)."""
    def wrong(*args, **kwargs):
        if test(bound(ref, args, kwargs)):
            raise ValueError(message)
        return ref(*args, **kwargs)
    return wrong


def padded_by_slice_assignment(ref, n=2):
    """`xp = np.zeros(...); xp[:, :, p:-p, p:-p] = x`: empty at padding 0, so numpy cannot broadcast."""
    return crash_when(ref, lambda a: 0 in per_axis(a["padding"], n),
                      "could not broadcast input array into shape with a 0-length axis (xp[p:-p] = x, p = 0)")


def non_square_kernel_crash(ref, w="w"):
    """kH used for both kernel axes (`k = w.shape[2]`): window and kernel no longer broadcast."""
    return crash_when(ref, lambda a: np.shape(a[w])[-2] != np.shape(a[w])[-1],
                      "operands could not be broadcast together (kernel width taken as kH)")


def output_square(ref, x="x"):
    """The output allocated (H_out, H_out): W_out computed from H (zeros or cut columns)."""
    def wrong(*args, **kwargs):
        out = np.asarray(ref(*args, **kwargs), dtype=np.float64)
        h_out, w_out = out.shape[-2:]
        square = np.zeros(out.shape[:-1] + (h_out,))
        square[..., :min(h_out, w_out)] = out[..., :min(h_out, w_out)]
        return square
    return wrong


def first_image_only(ref, x="x"):
    """Code for one image: x[0] filtered, the result given a batch axis of 1."""
    def wrong(*args, **kwargs):
        arguments = bound(ref, args, kwargs)
        arguments[x] = np.asarray(arguments[x])[:1]
        return ref(**arguments)
    return wrong


def bias_on_last_axis(ref, b="b"):
    """`out + b`: numpy broadcasts b along W, not along the channels (right only for one channel)."""
    def wrong(*args, **kwargs):
        arguments = bound(ref, args, kwargs)
        bias, arguments[b] = arguments[b], None
        out = ref(**arguments)
        return out if bias is None else out + np.asarray(bias)
    return wrong


def bias_not_checked(ref, b="b"):
    """`out + b.reshape(1, -1, 1, 1)` without `if b is not None`."""
    def wrong(*args, **kwargs):
        if bound(ref, args, kwargs)[b] is None:
            raise AttributeError("'NoneType' object has no attribute 'reshape'")
        return ref(*args, **kwargs)
    return wrong


def ceil_output_size(ref, n=2):
    """H_out rounded up: the last window runs past the padded input, reading zeros there."""
    def wrong(*args, **kwargs):
        arguments = bound(ref, args, kwargs)
        x, w = np.asarray(arguments["x"], dtype=np.float64), np.asarray(arguments["w"])
        strides, pads = per_axis(arguments["stride"], n), per_axis(arguments["padding"], n)
        dilations = per_axis(arguments.get("dilation", 1), n)
        widths = []
        for size, k, s, p, d in zip(x.shape[2:], w.shape[2:], strides, pads, dilations):
            span = d * (k - 1) + 1
            count = -(-(size + 2 * p - span) // s) + 1
            widths.append((p, p + (count - 1) * s + span - (size + 2 * p)))
        arguments["x"] = np.pad(x, ((0, 0), (0, 0)) + tuple(widths))
        arguments["padding"] = 0
        return ref(**arguments)
    return wrong
