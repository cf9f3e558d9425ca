"""A check's name says everything its cases need, in every lesson (issue 14, "Honest check names").

A check earns its points only when all its cases pass, so a case that needs more
than the check's name says charges a student for something the name never
mentioned: int-only code losing "overlapping 3x3 windows" because one of its
cases strides by a pair. Two features are checked mechanically, across lessons:

- pairs: for an exercise whose reference takes int-or-pair window arguments
  (kernel_size, stride, padding, dilation, output_size, output_padding, found in
  its signature), a tuple or list among them appears only under a check whose
  name mentions "pair", "(kH, kW)", "non-square" or "triple";
- None weights: a weight=None or bias=None (an exercise with both arguments, as
  lesson 4's normalizations) appears only under a check whose name says "None".

Then the same rule as a student meets it: the reference made int-only (or unable
to take None) loses exactly the checks that name pairs (or None), and some.
Lesson 1 checks more words of its own (tests/test_suite_pooling.py).
"""
import dataclasses
import functools
import inspect

import pytest

from autograder.grading.grader import InProcessCaller, check_rng, run_exercise
from autograder.grading.lessons import available_lessons
from autograder.grading.spec import Case, Check, Exercise, case_arguments

SEEDS = range(5)
WINDOW_ARGUMENTS = ("kernel_size", "stride", "padding", "dilation", "output_size", "output_padding")
PAIR_WORDS = ("pair", "(kh, kw)", "non-square", "triple")
FUNCTION_EXERCISES = [(lesson, exercise) for lesson in available_lessons() for exercise in lesson.exercises
                      if exercise.kind == "function"]


def arguments(exercise, case):
    """The case's arguments by name, defaults included: an omitted weight is a None weight."""
    return case_arguments(exercise.reference, case)


def window_arguments(exercise):
    return [name for name in WINDOW_ARGUMENTS if name in inspect.signature(exercise.reference).parameters]


def takes_weight_and_bias(exercise):
    return {"weight", "bias"} <= set(inspect.signature(exercise.reference).parameters)


def unnamed_features(exercise, check, case):
    """The features this case uses that the check's name does not mention."""
    a = arguments(exercise, case)
    name = check.name.lower()
    missing = []
    pairs = [k for k in window_arguments(exercise) if isinstance(a.get(k), (tuple, list))]
    if pairs and not any(word in name for word in PAIR_WORDS):
        missing.append(f"pairs ({', '.join(f'{k}={a[k]}' for k in pairs)})")
    if takes_weight_and_bias(exercise) and "None" not in check.name:
        nones = [k for k in ("weight", "bias") if k in a and a[k] is None]
        if nones:
            missing.append(f"None ({' and '.join(nones)})")
    return missing


def dishonest_checks(exercise, seed):
    found = []
    for check in exercise.checks:
        for case in check.cases(check_rng(seed, exercise.name, check.name)):
            for feature in unnamed_features(exercise, check, case):
                found.append(f"{exercise.name}: '{check.name}' has a case with {feature}")
    return sorted(set(found))


@pytest.mark.parametrize("lesson, exercise", FUNCTION_EXERCISES,
                         ids=[f"{lesson.id}:{exercise.name}" for lesson, exercise in FUNCTION_EXERCISES])
def test_every_check_name_mentions_the_pairs_and_nones_of_its_cases(lesson, exercise):
    dishonest = sorted({line for seed in SEEDS for line in dishonest_checks(exercise, seed)})
    assert not dishonest, "\n".join(dishonest)


def test_the_rule_covers_every_lesson_with_window_arguments():
    # The rule must not pass by finding nothing to look at: lessons 1, 2, 3 and 5 take pairs
    # somewhere, lesson 4 takes weight and bias.
    with_pairs = {lesson.id for lesson, e in FUNCTION_EXERCISES if window_arguments(e)}
    with_none = {lesson.id for lesson, e in FUNCTION_EXERCISES if takes_weight_and_bias(e)}
    assert {"01_pooling", "02_cnn_backprop", "03_conv_variants", "05_making_it_fast"} <= with_pairs
    assert "04_normalization" in with_none


def refusing(exercise, test, message):
    """The reference, raising TypeError(message) on a case whose arguments pass test(arguments)."""
    @functools.wraps(exercise.reference)
    def wrapped(*args, **kwargs):
        if test(arguments(exercise, Case(args, kwargs))):
            raise TypeError(message)
        return exercise.reference(*args, **kwargs)
    return wrapped


def lost_checks(lesson, exercise, fn, seed=0):
    """Names of the checks `fn` fails when graded as the exercise (speed checks left out: timed elsewhere)."""
    namespace = {e.name: e.reference for e in lesson.exercises if e.kind == "function"}
    namespace[exercise.name] = fn
    exercise = dataclasses.replace(exercise, checks=[c for c in exercise.checks if c.kind != "speed"])
    result = run_exercise(exercise, InProcessCaller(namespace), seed)
    return [c.name for c in result.checks if not c.passed]


WITH_PAIRS = [(lesson, e) for lesson, e in FUNCTION_EXERCISES if window_arguments(e)]
WITH_NONE = [(lesson, e) for lesson, e in FUNCTION_EXERCISES if takes_weight_and_bias(e)]


@pytest.mark.parametrize("lesson, exercise", WITH_PAIRS, ids=[f"{l.id}:{e.name}" for l, e in WITH_PAIRS])
def test_int_only_code_loses_only_the_checks_that_name_pairs(lesson, exercise):
    def any_pair(a):
        return any(isinstance(a.get(k), (tuple, list)) for k in window_arguments(exercise))
    int_only = refusing(exercise, any_pair, "unsupported operand type(s) for *: 'int' and 'tuple'")
    lost = lost_checks(lesson, exercise, int_only)
    unnamed = [name for name in lost if not any(word in name.lower() for word in PAIR_WORDS)]
    assert not unnamed, f"int-only code lost checks that do not name pairs: {unnamed}"


@pytest.mark.parametrize("lesson, exercise", WITH_NONE, ids=[f"{l.id}:{e.name}" for l, e in WITH_NONE])
def test_code_that_cannot_take_none_loses_only_the_checks_that_name_none(lesson, exercise):
    def any_none(a):
        return a["weight"] is None or a["bias"] is None
    no_none = refusing(exercise, any_none, "unsupported operand type(s) for *: 'NoneType' and 'float'")
    lost = lost_checks(lesson, exercise, no_none)
    assert lost and all("None" in name for name in lost), lost


def _pool(x, kernel_size, stride=None, padding=0):
    return x


def _norm(x, weight=None, bias=None):
    return x


@pytest.mark.parametrize("name, case, expected", [
    ("overlapping 3x3 windows", Case((0, 3, (2, 1))), ["pairs (stride=(2, 1))"]),
    ("non-square kernel and stride", Case((0, (3, 2), (2, 1))), []),
    ("stride and padding pairs", Case((0, 3), {"padding": [1, 0]}), []),
    ("overlapping 3x3 windows", Case((0, 3, 2, 1)), []),
])
def test_a_pair_needs_a_name_that_says_so(name, case, expected):
    exercise = Exercise("pool", [], _pool)
    assert unnamed_features(exercise, Check(name, 1, None), case) == expected


@pytest.mark.parametrize("name, case, expected", [
    ("training", Case((0, None, 1)), ["None (weight)"]),
    ("training", Case((0,), {"bias": None}), ["None (weight and bias)"]),
    ("weight and bias, each an array or None", Case((0, None, None)), []),
    ("training", Case((0, 1, 1)), []),
])
def test_a_none_weight_or_bias_needs_a_name_that_says_so(name, case, expected):
    exercise = Exercise("norm", [], _norm)
    assert unnamed_features(exercise, Check(name, 1, None), case) == expected
