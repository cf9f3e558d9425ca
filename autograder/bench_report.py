"""How fast the class report is: `python -m autograder.bench_report [--students 1000]`.

Writes that many synthetic results.json files (lesson 1's real exercises, sub-checks
and misconceptions; each student's mistakes drawn at random) into a temporary
folder, then times `python -m autograder report FOLDER -o report.html` in this
process: reading, summarizing, drawing the figures, writing the page and the CSV.
Target: under 10 s for 1,000 results. The time is printed, never asserted.
"""
import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from .grading.grader import NOT_IMPLEMENTED, CheckResult, ExerciseResult, Failure, GradeResult
from .grading.lessons import get_lesson


def synthetic_result(lesson, rng, student):
    """A results.json dict as `grade` writes it, with random failures and misconceptions."""
    result = GradeResult(lesson=lesson.id, seed=int(rng.integers(2**32)), sandbox="bubblewrap")
    for exercise in lesson.exercises:
        fate = rng.choice(["passed", "wrong", "not implemented"], p=[0.6, 0.3, 0.1])
        wrong = set(rng.choice(len(exercise.checks), size=int(rng.integers(1, len(exercise.checks) + 1)),
                               replace=False)) if fate == "wrong" else set()
        known = exercise.misconceptions[min(int(rng.geometric(0.5)) - 1, len(exercise.misconceptions) - 1)] \
            if fate == "wrong" and exercise.misconceptions else None
        if fate == "not implemented":
            failure = Failure(cause=NOT_IMPLEMENTED, label="error", whole=True)
        elif known:
            failure = Failure(cause=known.message, label="likely cause", misconception=known.name)
        else:
            failure = Failure(cause="wrong values (no known mistake matches them)", label="failed")
        checks = []
        for i, check in enumerate(exercise.checks):
            failed = fate == "not implemented" or i in wrong
            checks.append(CheckResult(exercise.name, check.name, 0.0 if failed else float(check.points),
                                      check.points, "    feedback" if failed else "",
                                      failure if failed else None))
        result.exercises.append(ExerciseResult(exercise.name, checks))
    data = result.to_gradescope()
    data["extra_data"]["student"] = student
    return data


def write_class(folder, students, lesson_id="01_pooling", seed=0):
    """`students` results files in `folder` (student-0001.json, ...); returns the folder."""
    lesson, rng = get_lesson(lesson_id), np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(students):
        name = f"student-{k:04d}"
        (folder / f"{name}.json").write_text(json.dumps(synthetic_result(lesson, rng, name)))
    return folder


def main(argv=None):
    from .__main__ import main as cli

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_class(Path(tmp) / "results", args.students)
        started = time.perf_counter()
        status = cli(["report", str(folder), "-o", str(Path(tmp) / "report.html")])
        seconds = time.perf_counter() - started
        size = (Path(tmp) / "report.html").stat().st_size
    print(f"report over {args.students} results: {seconds:.2f} s (target < 10 s), "
          f"page {size / 1024:.0f} KiB, exit status {status}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
