"""A two-exercise toy lesson for testing the grading engine apart from the real lessons.

`scale(x, factor=2.0)` returns x * factor; `pair_sum(a, b)` returns (a + b, a - b).
"""
import numpy as np

from autograder.grading.spec import Case, Check, Exercise, Lesson, Misconception


def scale(x, factor=2.0):
    return np.asarray(x, dtype=np.float64) * factor


def pair_sum(a, b):
    return a + b, a - b


def _random_x(rng):
    return [Case((rng.standard_normal((2, 3)),), {"factor": 3.0}, note="random")]


SCALE = Exercise(
    name="scale", reference=scale,
    checks=[
        Check("shape", 1, lambda rng: [Case((np.ones((2, 2)),))], kind="shape"),
        Check("values", 2, lambda rng: [Case((np.arange(4.0),))] + _random_x(rng)),
        Check("input left unmodified", 1, lambda rng: [Case((np.arange(3.0),))], kind="unmodified"),
    ],
    misconceptions=[Misconception("squared", "you squared x instead of scaling it", lambda x, factor=2.0: x ** 2)],
)

PAIR_SUM = Exercise(
    name="pair_sum", reference=pair_sum, output_names=("total", "difference"),
    checks=[
        Check("total", 1, lambda rng: [Case((np.arange(3.0), np.ones(3)))], outputs=(0,)),
        Check("difference", 1, lambda rng: [Case((np.arange(3.0), np.ones(3)))], outputs=(1,)),
    ],
)

LESSON = Lesson("toy", "A toy lesson", [SCALE, PAIR_SUM])
