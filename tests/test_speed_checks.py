"""Graded speed (lesson 5's conv2d): fair to vectorized code, fatal to Python loops, on a busy machine.

Evidence: the engine's own sandbox (autograder.grading.runner.Session) times
conv2d written four ways while a busy-loop process runs on every core:
im2col with one matrix product and the loop over the 9 kernel offsets pass, a
Python loop over the output pixels (vectorized over images and channels
inside) fails, and the failure says how fast it was. The check's values part
is graded as any other: a fast wrong answer fails too.
"""
import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from autograder.grading.grader import run_exercise
from autograder.grading.runner import Session
from autograder.grading.suites import fast

CONV2D = fast.LESSON.exercise("conv2d")
SPEED_ONLY = dataclasses.replace(CONV2D, checks=[c for c in CONV2D.checks if c.kind == "speed"])

SETUP = """
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
"""

IM2COL = """
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))          # (N, C, H_out, W_out, kH, kW)
    h_out, w_out = windows.shape[2:4]
    cols = windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c_in * kh * kw, -1)
    out = (w.reshape(c_out, -1) @ cols).reshape(n, c_out, h_out, w_out)
    return out + b.reshape(1, -1, 1, 1)
"""

OFFSETS = """
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out, w_out = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for u in range(kh):
        for v in range(kw):
            out += np.einsum("oc,nchw->nohw", w[:, :, u, v], xp[:, :, u:u + h_out, v:v + w_out])
    return out + b.reshape(1, -1, 1, 1)
"""

PIXEL_LOOP = """
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    h_out, w_out = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1
    rows = w.reshape(c_out, -1).T
    out = np.zeros((n, c_out, h_out, w_out))
    for i in range(h_out):                      # one small product per output pixel
        for j in range(w_out):
            out[:, :, i, j] = xp[:, :, i:i + kh, j:j + kw].reshape(n, -1) @ rows
    return out + b.reshape(1, -1, 1, 1)
"""

FAST_BUT_WRONG = """
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return np.zeros((x.shape[0], w.shape[0], x.shape[2], x.shape[3]))
"""


@pytest.fixture(scope="module")
def busy_machine():
    """One busy-loop process per core for the duration of these tests (ended by their own pids)."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    try:
        yield len(busy)
    finally:
        for process in busy:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def session():
    with Session({}) as sandboxed:
        sandboxed.run_cell(0, SETUP)
        yield sandboxed


def speed_result(session, source, seed):
    report = session.run_cell(1, source)
    assert report.status == "ok", report.evalue
    return run_exercise(SPEED_ONLY, session, seed).checks[0]


@pytest.mark.parametrize("source", [IM2COL, OFFSETS], ids=["im2col + one product", "loop over 9 offsets"])
def test_vectorized_conv2d_passes_the_speed_check_on_a_busy_machine(busy_machine, session, source):
    for seed in range(2):
        result = speed_result(session, source, seed)
        assert result.passed, result.feedback


def test_loop_over_output_pixels_fails_the_speed_check_on_a_busy_machine(busy_machine, session):
    result = speed_result(session, PIXEL_LOOP, 0)
    assert not result.passed
    assert "too slow" in result.feedback and "GFLOP/s" in result.feedback
    assert "needed: at least 1/12 of the matmul's speed" in result.feedback


def test_the_speed_check_grades_values_first(session):
    result = speed_result(session, FAST_BUT_WRONG, 0)
    assert not result.passed and "too slow" not in result.feedback


def test_the_grader_times_the_calls_and_the_matmul_itself(session, monkeypatch):
    """The clock is the grader's, read around each round trip to the child; every timed call gets new values."""
    from autograder.grading import grader
    calls = []
    real_call = session.call
    monkeypatch.setattr(session, "call", lambda *a, **k: calls.append(a[1][0].copy()) or real_call(*a, **k))
    session.run_cell(1, IM2COL)
    result = run_exercise(SPEED_ONLY, session, 0).checks[0]
    assert result.passed, result.feedback
    timed_inputs = calls[1:]  # the first call is the values check on the case itself
    assert len(timed_inputs) >= 2
    assert not any(np.array_equal(timed_inputs[0], x) for x in timed_inputs[1:])
    assert not hasattr(grader, "time_call") and not hasattr(Session, "time")
    # the CPU time read is the Python process's, not bwrap's, which sleeps
    with open(f"/proc/{session.child.python_pid}/comm") as comm:
        assert comm.read().startswith("python")


# ----------------------------------------------------------------- hostile submissions
# The student's code runs in the child and can change anything there. None of it reaches
# the grader's measurement: the kernel's account of the child's CPU time, read by the grader,
# and a matmul timed in a sandbox of its own.

PATCH_THE_CLOCKS = """
import sys, time
child = sys.modules["__main__"]
for name in ("_cpu_clock", "_matmul"):   # the child's saved references of the old design
    setattr(child, name, (lambda *a, **k: 0.0) if name == "_cpu_clock" else (lambda a, b: time.sleep(1)))
for name in ("thread_time", "process_time", "perf_counter", "monotonic", "time"):
    setattr(time, name, lambda: 0.0)
_original_matmul = np.matmul
np.matmul = lambda *a, **k: (time.sleep(0.05), _original_matmul(*a, **k))[1]   # a slow baseline, if it ran here
"""

FAST_WHEN_TIMED = """
_calls = {"n": 0}
_slow = conv2d
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    _calls["n"] += 1
    if _calls["n"] > 1:         # the first call is the values check; after it, only timing
        return np.zeros((x.shape[0], w.shape[0], x.shape[2], x.shape[3]))
    return _slow(x, w, b, stride, padding, dilation, groups)
"""

CACHED = """
_cache = {}
_slow = conv2d
def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    key = (x.tobytes(), w.tobytes(), None if b is None else b.tobytes())
    if key not in _cache:       # only the values check's inputs come back: the timed ones are new
        _cache[key] = _slow(x, w, b, stride, padding, dilation, groups)
    return _cache[key]
"""


def hostile_result(*sources):
    with Session({}) as sandboxed:
        for count, source in enumerate((SETUP,) + sources):
            report = sandboxed.run_cell(count, source)
            assert report.status == "ok", report.evalue
        return run_exercise(SPEED_ONLY, sandboxed, 0).checks[0]


def test_patching_the_childs_clocks_and_matmul_does_not_make_a_loop_fast():
    result = hostile_result(PIXEL_LOOP, PATCH_THE_CLOCKS)
    assert not result.passed and "too slow" in result.feedback, result.feedback


def test_a_function_returning_garbage_when_timed_fails_on_its_values():
    result = hostile_result(PIXEL_LOOP, FAST_WHEN_TIMED)
    assert not result.passed
    assert "a timed call, on new values" in result.feedback and "too slow" not in result.feedback


def test_answers_cached_from_the_values_check_do_not_help():
    result = hostile_result(PIXEL_LOOP, CACHED)
    assert not result.passed and "too slow" in result.feedback, result.feedback
