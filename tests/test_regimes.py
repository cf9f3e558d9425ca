"""Coverage of every exercise's contract, for every lesson (issue 14).

Each function exercise keeps a regime table (`Exercise.regimes`): the regions of
its docstring's contract that change the arithmetic, each a predicate on a
case's own arguments. Each suite module has a catalog of wrong-in-one-regime
implementations in tests/wrong/<suite module>.py. Evidence, for the seeds a
student could meet:

- the hidden cases of every exercise hit every regime of its table, whatever
  the seed (random draws never are the only, unreliable, way to a regime);
- every regime has a wrong implementation in the catalog, and every catalog
  entry names an existing exercise and regime;
- each wrong implementation agrees with the reference on every hidden case
  outside its regime, differs on some case inside it, and loses points;
- correct implementations that round differently (float32 outputs) keep full
  marks. Loop twins and the notebooks' own solutions are graded in
  tests/test_suite_<suite>.py and tests/test_lessons.py.
"""
import importlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from autograder.grading import compare, in_place
from autograder.grading.grader import InProcessCaller, as_output_list, check_rng, run_exercise
from autograder.grading.lessons import SUITES, available_lessons, get_lesson
from autograder.grading.spec import Regime

WRONG_DIR = Path(__file__).resolve().parent / "wrong"
SEEDS = range(5)            # what students meet: every seed must hit every regime
GRADING_SEEDS = range(3)    # wrong implementations are graded (and compared) on these
LESSONS = available_lessons()


def catalog_module(lesson):
    """tests/wrong/<suite module>.py's name for this lesson, or None when there is none yet."""
    name = SUITES[lesson.id].rsplit(".", 1)[-1]
    return name if (WRONG_DIR / f"{name}.py").exists() else None


def catalog(lesson):
    """The lesson's entries of its suite's catalog (entries may pin a lesson with `lesson=`)."""
    name = catalog_module(lesson)
    if name is None:
        return []
    entries = importlib.import_module(f"wrong.{name}").WRONG
    return [w for w in entries if w.lesson in (None, lesson.id)]


FUNCTION_EXERCISES = [(lesson, exercise) for lesson in LESSONS for exercise in lesson.exercises
                      if exercise.kind == "function"]
ENTRIES = [(lesson, entry) for lesson in LESSONS for entry in catalog(lesson)]


ARITHMETIC = ("values", "shape")  # not "unmodified" (compares the inputs) nor "speed" (times)


def graded_cases(exercise, seed):
    """(check, case) of every check that compares outputs, drawn as the grader draws them."""
    for check in exercise.checks:
        if check.kind not in ARITHMETIC:
            continue
        for case in check.cases(check_rng(seed, exercise.name, check.name)):
            yield check, case


# ---------------------------------------------------------------------------
# The tables are complete and every seed's cases hit every regime
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("lesson, exercise", FUNCTION_EXERCISES,
                         ids=[f"{l.id}:{e.name}" for l, e in FUNCTION_EXERCISES])
def test_every_regime_is_hit_by_the_hidden_cases_of_every_seed(lesson, exercise):
    assert exercise.regimes, f"{exercise.name} has no regime table"
    names = [regime.name for regime in exercise.regimes]
    assert len(set(names)) == len(names), f"{exercise.name}: two regimes share a name"
    for seed in SEEDS:
        missed = missed_regimes(exercise, seed)
        assert not missed, f"{exercise.name}, seed {seed}: no hidden case hits {missed}"


def missed_regimes(exercise, seed):
    cases = [case for _, case in graded_cases(exercise, seed)]
    return [r.name for r in exercise.regimes if not any(r.hit(case) for case in cases)]


def test_a_regime_no_case_hits_is_reported():
    max_pool2d = get_lesson("01_pooling").exercise("max_pool2d")
    dilated = Regime("dilation > 1", lambda case: case.kwargs.get("dilation", 1) > 1)
    assert missed_regimes(replace(max_pool2d, regimes=max_pool2d.regimes + [dilated]), 0) == [
        "dilation > 1"]


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.id for l in LESSONS])
def test_every_regime_has_a_wrong_implementation_and_every_entry_a_regime(lesson):
    tables = {e.name: {r.name for r in e.regimes} for e in lesson.exercises
              if e.kind == "function"}
    entries = catalog(lesson)
    assert entries, f"no catalog tests/wrong/{SUITES[lesson.id].rsplit('.', 1)[-1]}.py"
    for entry in entries:
        assert entry.exercise in tables, f"{entry.description}: no exercise {entry.exercise!r}"
        assert entry.regime in tables[entry.exercise], (
            f"{entry.description}: {entry.exercise} has no regime {entry.regime!r}")
    covered = {(w.exercise, w.regime) for w in entries}
    bare = [f"{name}: {regime}" for name, regimes in tables.items() for regime in regimes
            if (name, regime) not in covered]
    assert not bare, "regimes no wrong implementation is wrong in: " + "; ".join(bare)


def test_the_catalog_has_at_least_60_entries_across_lessons_1_to_4():
    first_four = [l for l in LESSONS if l.id[:2] in ("01", "02", "03", "04")]
    assert len(first_four) == 4
    assert sum(1 for l, _ in ENTRIES if l in first_four) >= 60


# ---------------------------------------------------------------------------
# Each wrong implementation is wrong in its regime only, and loses points
# ---------------------------------------------------------------------------

def outputs(exercise, fn, case):
    """fn's outputs on the case as float64 arrays, or the exception it raised.

    For an exercise with `in_place` arguments (batch_norm's running statistics) the
    outputs go on with those arguments after the call, as the grader sees them.
    """
    try:
        if exercise.in_place:
            graded, _ = in_place.graded(exercise, None)
            return as_output_list(in_place.graded_outputs(exercise, fn, case), graded.output_names)
        return as_output_list(fn(*case.args, **case.kwargs), exercise.output_names)
    except Exception as error:  # noqa: BLE001 - a crash is a wrong answer
        return error


def same(got, expected, indices=None):
    if isinstance(got, Exception) or isinstance(expected, Exception) or len(got) != len(expected):
        return False
    indices = range(len(expected)) if indices is None else indices
    return all(compare.close(got[i], expected[i]) for i in indices)


def reference_namespace(lesson):
    return {e.name: e.reference for e in lesson.exercises}


def problems(lesson, entry):
    """What is untrue of a catalog entry: wrong outside its regime, never wrong, or full marks."""
    exercise = lesson.exercise(entry.exercise)
    regime = next(r for r in exercise.regimes if r.name == entry.regime)
    found, differs = [], 0
    for seed in GRADING_SEEDS:
        for check, case in graded_cases(exercise, seed):
            expected = outputs(exercise, exercise.reference, case)
            got = outputs(exercise, entry.fn, case)
            if regime.hit(case):
                differs += not same(got, expected, check.outputs)
            elif not same(got, expected):
                found.append(f"'{entry.description}' is wrong outside its regime "
                             f"'{regime.name}': seed {seed}, check '{check.name}', "
                             f"{case.args!r} {case.kwargs!r}")
        namespace = reference_namespace(lesson)
        namespace[exercise.name] = entry.fn
        # the arithmetic checks only: a speed check would time slow wrong code on big inputs
        arithmetic = replace(exercise, checks=[c for c in exercise.checks if c.kind in ARITHMETIC])
        result = run_exercise(arithmetic, InProcessCaller(namespace), seed)
        if result.points == result.max_points:
            found.append(f"'{entry.description}' keeps all {result.max_points:g} points "
                         f"with seed {seed}")
    if not differs:
        found.append(f"'{entry.description}' is right on every case of its regime "
                     f"'{regime.name}'")
    return found


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # wrong code may average empty bins
@pytest.mark.parametrize("lesson, entry", ENTRIES,
                         ids=[f"{l.id}:{w.exercise}:{w.description}" for l, w in ENTRIES])
def test_wrong_implementation_is_wrong_in_its_regime_only_and_loses_points(lesson, entry):
    found = problems(lesson, entry)
    assert not found, found[0]


def test_a_mislabelled_or_harmless_entry_is_caught():
    """The judge above can fail: wrong in another regime, or not wrong at all."""
    lesson = get_lesson("01_pooling")
    ceil_ignored = next(w for w in catalog(lesson) if w.exercise == "avg_pool2d"
                        and w.description == "ceil_mode ignored")
    mislabelled = replace(ceil_ignored, regime="channels > 1")
    assert any("wrong outside its regime" in p for p in problems(lesson, mislabelled))
    harmless = replace(ceil_ignored, fn=lesson.exercise("avg_pool2d").reference)
    found = problems(lesson, harmless)
    assert any("keeps all" in p for p in found) and any("right on every case" in p for p in found)


# ---------------------------------------------------------------------------
# Correct alternatives keep full marks
# ---------------------------------------------------------------------------

def in_float32(fn):
    """fn computed on float32 inputs with float32 outputs, as a float32 student would."""
    def single(value):
        floating = isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)
        return value.astype(np.float32) if floating else value  # integer labels stay integers

    def wrapped(*args, **kwargs):
        singles = [single(a) for a in args]
        result = fn(*singles, **{k: single(v) for k, v in kwargs.items()})
        for original, copy in zip(args, singles):
            # an argument the function updates in place (batch_norm's running statistics):
            # a float32 student writes the new values into the array it was given
            if copy is not original and not np.array_equal(copy, single(original)):
                original[...] = copy
        if isinstance(result, tuple):
            return tuple(None if r is None else single(np.asarray(r)) for r in result)  # None grads stay None
        return single(np.asarray(result)) if isinstance(result, np.ndarray) else result
    return wrapped


@pytest.mark.parametrize("lesson, exercise", FUNCTION_EXERCISES,
                         ids=[f"{l.id}:{e.name}" for l, e in FUNCTION_EXERCISES])
def test_float32_outputs_keep_full_marks(lesson, exercise):
    namespace = reference_namespace(lesson)
    namespace[exercise.name] = in_float32(exercise.reference)
    for seed in (0, 1):
        result = run_exercise(exercise, InProcessCaller(namespace), seed)
        assert result.points == result.max_points, result.feedback()
