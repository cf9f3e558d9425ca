"""None outputs (issue 13): a backward returns None for the gradient of an argument that was None.

The child sends such an output as its position in the reply's header, never as an
object; the parent puts None back there and refuses positions that could not have
come from the child. The comparison takes None to equal None only, and says why
None (or an array) was expected.
"""
import numpy as np
import pytest

from autograder.grading import compare
from autograder.grading.child import join_none, outputs_as_arrays, split_none
from autograder.grading.grader import InProcessCaller, run_exercise
from autograder.grading.runner import Limits, Session
from autograder.grading.suites import normalization as suite

FAST = Limits(cell_seconds=5, call_seconds=3)

GRADIENTS = """
import numpy as np
def gradients(x, weight=None, bias=None):
    return (2 * x, None if weight is None else x.sum(axis=0), None if bias is None else x.sum(axis=0))
def scale(x):
    x *= 3
    return None
"""


def test_none_outputs_round_trip_through_the_sandbox():
    x = np.arange(6.0).reshape(2, 3)
    with Session({}, FAST) as session:
        assert session.run_cell(0, GRADIENTS).status == "ok"
        names = ("grad_x", "grad_weight", "grad_bias")
        report = session.call("gradients", (x, None, np.ones(3)), output_names=names)
        assert report.ok, report.error
        assert report.outputs[1] is None
        assert np.array_equal(report.outputs[0], 2 * x) and np.array_equal(report.outputs[2], [3.0, 5.0, 7.0])
        # the arguments sent back after the call follow the outputs, None or not
        report = session.call("gradients", (x, None, None), output_names=names, return_args=True)
        assert report.ok, report.error
        assert report.outputs[1] is None and report.outputs[2] is None
        assert len(report.outputs) == 4 and np.array_equal(report.outputs[3], x)
        # a single output that is None is still an error saying why, not a None to compare
        report = session.call("scale", (x,))
        assert not report.ok and "is None (did the function reach its return" in report.error


def test_only_positions_the_child_could_send_are_accepted():
    arrays = [np.zeros(2), np.ones(2)]
    assert [a is None for a in join_none(arrays, [1], 3)] == [False, True, False]
    assert [a is None for a in join_none(arrays[:1], [0, 2], 3)] == [True, False, True]
    for forged in ([3], [-1], [True], [1, 1], ["1"], [1.0], {"0": 1}, "0", None, [[0]]):
        with pytest.raises(ValueError, match="malformed None positions"):
            join_none(arrays, forged, 3)
    with pytest.raises(ValueError):
        join_none(arrays, [0], 0)   # a single output is never None


def test_the_child_keeps_none_apart_and_still_refuses_other_objects():
    outputs = outputs_as_arrays((np.ones(2), None, [1.0, 2.0]), ("a", "b", "c"))
    arrays, positions = split_none(outputs)
    assert positions == [1] and len(arrays) == 2
    assert all(type(a) is np.ndarray for a in arrays)
    with pytest.raises(TypeError, match="b is a object"):
        outputs_as_arrays((np.ones(2), object(), np.ones(2)), ("a", "b", "c"))
    with pytest.raises(TypeError, match="b has dtype object"):
        outputs_as_arrays((np.ones(2), [None], np.ones(2)), ("a", "b", "c"))


def test_none_equals_none_only():
    assert compare.close(None, None)
    assert not compare.close(None, np.zeros(3)) and not compare.close(np.zeros(3), None)
    assert compare.describe_difference(None, None, "grad_bias") == []
    assert compare.describe_difference(np.zeros(3), None, "grad_weight", "weight was None") == [
        "    grad_weight: expected None because weight was None, got an array of shape (3,)"]
    assert compare.describe_difference(None, np.zeros(2), "grad_bias", "bias is an array") == [
        "    grad_bias: expected an array of shape (2,) because bias is an array, got None"]


def bn_backward_with(change):
    def batch_norm_backward(grad_out, x, running_mean, running_var, weight=None, bias=None, **kwargs):
        grads = suite.ref.batch_norm_backward(grad_out, x, running_mean, running_var, weight, bias, **kwargs)
        return change(grads, x)
    return batch_norm_backward


def grade_backward(fn, seed=0):
    namespace = {e.name: e.reference for e in suite.LESSON.exercises}
    namespace["batch_norm_backward"] = fn
    return run_exercise(suite.LESSON.exercise("batch_norm_backward"), InProcessCaller(namespace), seed)


NONE_CHECK = "weight and bias None: grad_weight and grad_bias are None"


def test_zeros_for_a_none_weight_lose_the_none_check_only_and_say_why():
    zeros = bn_backward_with(lambda g, x: tuple(np.zeros(x.shape[1]) if v is None else v for v in g))
    result = grade_backward(zeros)
    lost = [c.name for c in result.checks if not c.passed]
    assert lost == [NONE_CHECK]
    feedback = result.feedback()
    assert "grad_weight: expected None because weight was None, got an array of shape (3,)" in feedback
    assert "likely cause: a gradient of an argument that was None must be None" in feedback


def test_none_where_an_array_is_expected_says_which_argument_was_given():
    always_none = bn_backward_with(lambda g, x: (g[0], None, None))
    result = grade_backward(always_none)
    lost = {c.name for c in result.checks if not c.passed}
    assert lost == {"grad_weight: sum of grad_out * x_hat per channel", "grad_bias: sum of grad_out per channel",
                    "eps inside the square root", NONE_CHECK}
    assert "expected an array of shape (2,) because weight is an array, got None" in result.feedback()
