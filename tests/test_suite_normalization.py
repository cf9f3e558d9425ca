"""Lesson 4's hidden checks (autograder/grading/suites/normalization.py): right answers pass,
loop-based and float32 answers too, known mistakes fail with their sentence, and the running
statistics that batch_norm updates in place are graded."""
import numpy as np
import pytest

from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.suites import normalization as suite
from autograder.reference import normalization as ref
from naive_normalization import loop_batch_norm, loop_group_norm, loop_local_response_norm

SEEDS = range(4)
LESSON = suite.LESSON


def reference_namespace():
    return {e.name: e.reference for e in LESSON.exercises}


def grade(name, fn, seed=0):
    namespace = reference_namespace()
    namespace[name] = fn
    return run_exercise(LESSON.exercise(name), InProcessCaller(namespace), seed)


def test_lesson_order_and_points():
    assert [e.name for e in LESSON.exercises] == [
        "batch_norm", "batch_norm_backward", "local_response_norm", "local_response_norm_backward", "group_norm"]
    assert all(check.points > 0 for e in LESSON.exercises for check in e.checks)


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(seed):
    caller = InProcessCaller(reference_namespace())
    for exercise in LESSON.exercises:
        result = run_exercise(exercise, caller, seed)
        assert result.points == result.max_points, result.feedback()


def loop_lrn_backward(grad_out, x, size, alpha=1e-4, beta=0.75, k=1.0):
    """Numerical gradient of sum(lrn(x) * grad_out), one entry at a time: slow but independent."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += 1e-6
        minus[index] -= 1e-6
        grad[index] = np.sum((loop_local_response_norm(plus, size, alpha, beta, k)
                              - loop_local_response_norm(minus, size, alpha, beta, k)) * grad_out) / 2e-6
    return grad


def test_loop_implementations_score_full_marks():
    for name, fn in [("batch_norm", loop_batch_norm), ("group_norm", loop_group_norm),
                     ("local_response_norm", loop_local_response_norm),
                     ("local_response_norm_backward", loop_lrn_backward)]:
        result = grade(name, fn)
        assert result.points == result.max_points, result.feedback()


def float32_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                       eps=1e-5):
    """A student computing in float32 who writes the running statistics back into the given arrays."""
    single = [None if a is None else np.asarray(a, dtype=np.float32) for a in (running_mean, running_var)]
    out = ref.batch_norm(x.astype(np.float32), *single, weight, bias, training, momentum, eps)
    running_mean[...], running_var[...] = single
    return out.astype(np.float32)


def test_float32_batch_norm_keeps_full_marks():
    result = grade("batch_norm", float32_batch_norm)
    assert result.points == result.max_points, result.feedback()


def test_running_statistics_are_graded_as_outputs():
    # Right output, running statistics rebound to new arrays instead of updated in place: the
    # caller's arrays never change, so only the two running-statistics checks fail.
    def rebinds(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        running_mean = running_mean.copy()
        running_var = running_var.copy()
        return ref.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    result = grade("batch_norm", rebinds)
    failed = {c.name for c in result.checks if not c.passed}
    assert failed == {"running_mean updated in place", "running_var updated in place with the unbiased variance"}
    assert "running_mean and running_var were not updated in training" in result.feedback()


def test_eval_mode_must_leave_running_statistics_alone():
    def updates_in_eval(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
                        eps=1e-5):
        out = ref.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
        if not training:
            running_mean += 1.0
        return out
    result = grade("batch_norm", updates_in_eval)
    failed = {c.name for c in result.checks if not c.passed}
    assert failed == {"evaluation: running statistics used and left unchanged"}


def test_unmodified_check_ignores_the_running_statistics_but_not_x():
    def scales_x(x, *args, **kwargs):
        out = ref.batch_norm(x, *args, **kwargs)
        x *= 2
        return out
    result = grade("batch_norm", scales_x)
    assert {c.name for c in result.checks if not c.passed} == {"x, weight and bias left unmodified"}


def test_unimplemented_functions_score_zero():
    def missing(*args, **kwargs):
        raise NotImplementedError()
    for exercise in LESSON.exercises:
        assert grade(exercise.name, missing).points == 0


MISCONCEPTIONS = [(e, m) for e in LESSON.exercises for m in e.misconceptions]


def test_the_required_misconceptions_exist():
    names = {m.name for _, m in MISCONCEPTIONS}
    assert {"unbiased variance for normalizing", "biased variance for the running update",
            "momentum the other way round", "spatial batch norm per pixel", "all channels together",
            "eps outside the square root", "backward through x_hat only",
            "grad_weight and grad_bias summed over the batch only", "alpha not divided by size",
            "window not centred"} <= names


@pytest.mark.parametrize("exercise,misconception", MISCONCEPTIONS,
                         ids=[f"{e.name}:{m.name}" for e, m in MISCONCEPTIONS])
def test_each_misconception_fails_a_check_and_is_named(exercise, misconception):
    for seed in (0, 1):
        result = grade(exercise.name, misconception.fn, seed)
        assert result.points < result.max_points, f"seed {seed}: {misconception.name} passed every check"
        assert f"likely cause: {misconception.message}" in result.feedback(), (seed, result.feedback())


def _batch_norm_with_running_mean_update(update):
    """The reference batch_norm, then running_mean replaced by update(old running_mean, batch mean, momentum)."""
    def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
        old = None if running_mean is None else running_mean.copy()
        out = ref.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)
        if training and running_mean is not None:
            batch_mean = np.asarray(x).mean(axis=(0,) + tuple(range(2, np.ndim(x))))
            running_mean[...] = update(old, batch_mean, momentum)
        return out
    return batch_norm


def test_a_mistake_made_in_one_output_only_is_still_named():
    # momentum the other way round for running_mean alone; running_var right
    half = _batch_norm_with_running_mean_update(lambda old, mean, m: m * old + (1 - m) * mean)
    result = grade("batch_norm", half)
    assert result.points < result.max_points
    assert "likely cause: momentum was applied the other way round" in result.feedback(), result.feedback()
    # a running_mean wrong in another way is not given that name
    other = _batch_norm_with_running_mean_update(lambda old, mean, m: (1 - m) * old + 2 * m * mean)
    result = grade("batch_norm", other)
    assert result.points < result.max_points
    assert "likely cause" not in result.feedback(), result.feedback()


def test_hidden_cases_leave_no_trace():
    # Grading calls the reference on copies: the cases' running statistics are the same after grading.
    exercise = LESSON.exercise("batch_norm")
    check = exercise.checks[4]
    from autograder.grading.grader import check_rng
    cases = check.cases(check_rng(0, exercise.name, check.name))
    before = [c.args[1].copy() for c in cases]
    from autograder.grading import in_place
    for case in cases:
        in_place.graded_outputs(exercise, exercise.reference, case)
    assert all(np.array_equal(b, c.args[1]) for b, c in zip(before, cases))


def test_sandboxed_grading_reads_the_running_statistics_back(tmp_path):
    # The real path: the child sends batch_norm's array arguments back after the call. A solution
    # that rebinds running_mean (a new local array) keeps the caller's array unchanged and loses
    # exactly the running_mean check; running_var, still updated in place, keeps its points.
    import nbformat

    from autograder.grading.grader import grade_notebook
    from autograder.grading.notebook import nbgrader_meta
    from lesson_tools import solved_release
    notebook = solved_release("04_normalization")
    cell = next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == "batch_norm_solution")
    assert "running_mean *= 1 - momentum" in cell.source
    cell.source = cell.source.replace("running_mean *= 1 - momentum", "running_mean = running_mean * (1 - momentum)")
    path = tmp_path / "rebinds.ipynb"
    nbformat.write(notebook, str(path))
    result = grade_notebook(path)
    failed = {(e.name, c.name) for e in result.exercises for c in e.checks if not c.passed}
    assert failed == {("batch_norm", "running_mean updated in place")}, failed
    assert result.score == result.max_score - 2


def test_sandboxed_grading_tells_none_gradients_from_zeros(tmp_path):
    # The real path for None outputs: the solution's grad_weight and grad_bias are None for a None
    # weight or bias and come back as None; a solution that starts from zeros instead loses
    # exactly the check that passes None, with the reason in its feedback.
    import nbformat

    from autograder.grading.grader import grade_notebook
    from autograder.grading.notebook import nbgrader_meta
    from lesson_tools import solved_release
    notebook = solved_release("04_normalization")
    cell = next(c for c in notebook.cells if nbgrader_meta(c).get("grade_id") == "batch_norm_backward_solution")
    start = "    grad_x = grad_weight = grad_bias = None\n"
    assert start in cell.source
    cell.source = cell.source.replace(start, start + "    grad_weight = grad_bias = np.zeros(np.shape(x)[1])\n")
    path = tmp_path / "zeros.ipynb"
    nbformat.write(notebook, str(path))
    result = grade_notebook(path)
    lost = [(e.name, c.name) for e in result.exercises for c in e.checks if not c.passed]
    assert lost == [("batch_norm_backward", "weight and bias None: grad_weight and grad_bias are None")], lost
    assert result.score == result.max_score - 1
    feedback = result.exercises[1].feedback()
    assert "grad_weight: expected None because weight was None, got an array of shape (3,)" in feedback
