"""What a lesson's hidden checks are made of: Lesson -> Exercise -> Check -> Case.

A lesson's suite module (autograder/grading/suites/<lesson>.py) builds one
`Lesson`. The engine never runs student code in its own process: it asks the
sandboxed child to call the student's function on each case's arguments, gets
plain arrays back, and compares them here with the reference's outputs.

Scoring: a check earns its points only if every one of its cases passes, so a
check's name ("stride and padding") says exactly what was earned or lost.
"""
import inspect
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from .child import NamedFunction as named_function  # noqa: F401 - re-exported for suites


@dataclass
class Case:
    """One call of the student's function.

    args/kwargs: what is passed; arrays, ints, floats, bools, None, strings and
    tuples of those (nothing else crosses the process boundary).
    note:        a short description shown in feedback ("ceil_mode with a window
                 hanging over the edge"), optional.
    """
    args: tuple
    kwargs: dict = field(default_factory=dict)
    note: str = ""


@dataclass
class Misconception:
    """A known wrong implementation and the one sentence that names the mistake.

    fn has the exercise's signature. When a failed case's output matches
    fn's output (and not the reference's), feedback adds `message`; with several
    outputs, also when each output is either fn's or the reference's.
    """
    name: str
    message: str
    fn: Callable


@dataclass
class Check:
    """A sub-check worth `points`, passed when all its cases pass.

    cases:   rng -> list of Case. Fixed edge cases plus random ones drawn from
             rng (a numpy Generator seeded per submission and per check).
    kind:    "values"     outputs equal the expected ones (shapes included);
             "shape"      only output shapes are compared;
             "unmodified" the array arguments are unchanged after the call;
             "speed"      values as "values", then the call is timed (see `Speed`).
    outputs: indices of the outputs compared, e.g. (1,) for grad_w of
             conv2d_backward; None compares all of them.
    speed:   a `Speed`, for kind "speed" only.
    """
    name: str
    points: float
    cases: Callable
    kind: str = "values"
    outputs: Optional[Sequence[int]] = None
    speed: Optional["Speed"] = None


@dataclass
class Speed:
    """A graded speed: the student's function against one np.matmul (grader.judge_speed).

    The grader reads the child's CPU time from the kernel around each call, on
    fresh values each time, and times the matmul in a sandbox without student code.
    baseline: (m, k, n) of the matmul, whose m*k*n multiply-adds equal the timed case's.
    fraction: the check passes when the student's best CPU time is at most the
              matmul's best divided by `fraction` (1/12: within 12 times its time).
    repeats:  runs of each, timed in turn; the best of each counts. The check's
              cases function is drawn again for every run, so its arrays must come
              from its rng.
    budget:   seconds of CPU after which no further repeat starts.
    """
    baseline: tuple
    fraction: float
    repeats: int = 7
    budget: float = 2.0


@dataclass
class Regime:
    """One region of an exercise's contract that changes the arithmetic.

    name: short, e.g. "ceil_mode: last window overhangs by >= 2 pixels".
    hit:  Case -> bool, computed from the case's own arguments (shapes, kwargs, values),
          never declared by hand.
    """
    name: str
    hit: Callable


def case_arguments(fn, case):
    """A case's arguments by `fn`'s parameter names, defaults filled in ({"x": ..., "stride": 1, ...})."""
    bound = inspect.signature(fn).bind(*case.args, **case.kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def regime_when(fn, name, test, defaults=None):
    """A Regime named `name`, hit when test(the case's arguments by name) is true.

    defaults: values of arguments `fn` does not take (padding=0 for max_pool2d_unpadded).
    """
    return Regime(name, lambda case: bool(test({**(defaults or {}), **case_arguments(fn, case)})))


@dataclass
class Exercise:
    """One graded function of a lesson; `name` is used everywhere.

    reference:    the reference function with the same signature.
    output_names: names of the returned arrays, e.g. ("grad_x", "grad_w",
                  "grad_b"); its length is the number of outputs expected.
    expected:     optional (case, student) -> list of arrays, for composite
                  exercises whose expected result is built from the student's
                  own earlier functions, so a bug there is not charged twice:
                  student(name, *args, n_outputs=1, **kwargs) calls the
                  student's `name` in the sandbox and returns its array(s),
                  raising RuntimeError when that call fails.
    kind:         "function" (call it) or "value" (read a variable named
                  `name`, for short answers that are numbers or shapes; then
                  `reference` is the expected value and checks need no cases).
    regimes:      the contract as a table of `Regime`s (argument kinds, edge
                  relations that change the arithmetic); tests/test_regimes.py
                  proves the hidden cases hit every one.
    in_place:     (name, argument position) of each array argument the function
                  updates in place, as torch's batch_norm updates running_mean;
                  their values after the call are graded as extra outputs named
                  after them, following output_names (see grading/in_place.py).
    """
    name: str
    checks: list
    reference: object
    output_names: tuple = ("out",)
    misconceptions: list = field(default_factory=list)
    expected: Optional[Callable] = None
    kind: str = "function"
    regimes: list = field(default_factory=list)
    in_place: tuple = ()

    @property
    def points(self):
        return sum(check.points for check in self.checks)


@dataclass
class Lesson:
    """A lesson: its id (the folder name under source/), title and exercises in notebook order."""
    id: str
    title: str
    exercises: list

    def exercise(self, name):
        for exercise in self.exercises:
            if exercise.name == name:
                return exercise
        raise KeyError(f"lesson {self.id} has no exercise named {name!r}")

    @property
    def points(self):
        return sum(exercise.points for exercise in self.exercises)
