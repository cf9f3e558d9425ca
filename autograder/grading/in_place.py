"""Grading arguments that a function updates in place, such as batch_norm's running statistics.

torch's F.batch_norm returns only the normalized array; in training it also
updates `running_mean` and `running_var`, the caller's own arrays. An exercise
with `Exercise.in_place = (("running_mean", 1), ("running_var", 2))` has those
arguments' values after the call graded as extra outputs, named after them and
placed after `output_names`:

- the student's function is called as usual (returning only its own outputs),
  with the child sending back its array arguments after the call;
- the reference and the misconceptions are called on copies of the case's
  arrays, so the case itself never changes, and their updated copies are the
  expected values;
- an "unmodified" check leaves the in-place arguments out: they are supposed
  to change.

`graded(exercise, caller)` returns the exercise and caller the engine then uses
unchanged (`grader.run_exercise` calls it); exercises without `in_place` pass
through untouched.
"""
import dataclasses
import functools

import numpy as np


def _copied(args):
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def graded_outputs(exercise, fn, case):
    """fn's return value followed by the in-place arguments after the call, on copies of the case."""
    args = _copied(case.args)
    value = fn(*args, **case.kwargs)
    values = list(value) if len(exercise.output_names) > 1 else [value]
    return tuple(values + [args[position] for _, position in exercise.in_place])


def _with_updates(exercise, fn):
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        from .spec import Case
        return graded_outputs(exercise, fn, Case(args, kwargs))
    return wrapped


def graded(exercise, caller):
    """(exercise, caller) as the engine grades them: in-place arguments become extra outputs."""
    if not exercise.in_place:
        return exercise, caller
    view = dataclasses.replace(
        exercise, reference=_with_updates(exercise, exercise.reference),
        output_names=tuple(exercise.output_names) + tuple(name for name, _ in exercise.in_place),
        misconceptions=[dataclasses.replace(m, fn=_with_updates(exercise, m.fn)) for m in exercise.misconceptions],
        in_place=())
    return view, InPlaceCaller(caller, exercise)


class InPlaceCaller:
    """A caller whose calls of `exercise` also return the in-place arguments after the call."""

    def __init__(self, caller, exercise):
        self.caller, self.exercise = caller, exercise
        self.positions = [position for _, position in exercise.in_place]

    def call(self, name, args=(), kwargs=None, output_names=("out",), return_args=False, kind="function"):
        if name != self.exercise.name or kind != "function":
            return self.caller.call(name, args, kwargs, output_names, return_args, kind)
        n_returned = len(self.exercise.output_names)
        report = self.caller.call(name, args, kwargs, tuple(output_names)[:n_returned], True, kind)
        if not report.ok:
            return report
        arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        returned, after = report.outputs[:n_returned], report.outputs[n_returned:]
        missing = [p for p in self.positions if p not in arrays]
        if missing or len(after) != len(arrays):
            raise ValueError(f"{name}: in-place argument(s) at position(s) {missing} are not arrays in this case")
        outputs = returned + [after[arrays.index(p)] for p in self.positions]
        if return_args:
            # in-place arguments are meant to change: show them to an "unmodified" check as they were
            outputs += [args[i] if i in self.positions else a for i, a in zip(arrays, after)]
        return dataclasses.replace(report, outputs=outputs)
