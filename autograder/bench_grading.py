"""How fast grading is: `python -m autograder.bench_grading [--submissions 20]`.

Prints, for each lesson:
  - the time to grade its solved notebook in the sandbox (running the cells,
    then the hidden checks), against the budget of 10 s per notebook;
  - the hidden checks' time when the exercises are written with plain Python
    loops (tests/naive_pooling.py and tests/naive_conv.py pasted into the
    notebook), against the budget of 3 s;
and then the speed-up of `grade DIR --jobs 2` over `--jobs 1` on a class of
submissions (target: at least 1.8x on 2 cores for 20 or more).
Timings are printed, never asserted: these machines are noisy.
"""
import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .grading.batch import Submission, grade_folder
from .grading.grader import grade_notebook
from .grading.lessons import available_lessons

ROOT = Path(__file__).resolve().parents[1]
LOOP_MODULES = [ROOT / "tests" / "naive_pooling.py", ROOT / "tests" / "naive_conv.py"]


def solved_notebook(lesson_id, folder):
    """The release notebook with the source's solutions filled in (as a student would)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from lesson_tools import solved_release
    path = Path(folder) / f"{lesson_id}.ipynb"
    nbformat.write(solved_release(lesson_id), str(path))
    return path


def with_loop_versions(path, lesson):
    """A copy of the notebook whose exercise functions are replaced by plain-loop versions."""
    notebook = nbformat.read(str(path), as_version=4)
    replaced = []
    for module in LOOP_MODULES:
        text = module.read_text()
        names = [e.name for e in lesson.exercises if f"def {e.name}(" in text]
        if names:
            notebook.cells.append(nbformat.v4.new_code_cell(text))
            replaced += names
    loop_path = path.with_name(f"loops_{path.name}")
    nbformat.write(notebook, str(loop_path))
    return loop_path, replaced


def bench_lessons(folder):
    print(f"{'lesson':<18} {'variant':<8} {'cells s':>8} {'checks s':>9} {'total s':>8}  score")
    for lesson in available_lessons():
        path = solved_notebook(lesson.id, folder)
        loop_path, replaced = with_loop_versions(path, lesson)
        for variant, notebook in (("solved", path), ("loops", loop_path)):
            start = time.perf_counter()
            result = grade_notebook(notebook)
            total = time.perf_counter() - start
            print(f"{lesson.id:<18} {variant:<8} {result.seconds.get('cells', 0):8.2f} "
                  f"{result.seconds.get('checks', 0):9.2f} {total:8.2f}  {result.score:g}/{result.max_score:g}")
        print(f"{'':<18} loops replaced: {', '.join(replaced) or 'none'}")


def bench_parallel(folder, count):
    lessons = available_lessons()
    paths = [solved_notebook(lesson.id, folder) for lesson in lessons]
    submissions = [Submission(f"student{i:03d}", paths[i % len(paths)]) for i in range(count)]
    times = {}
    for jobs in (1, 2):
        start = time.perf_counter()
        grade_folder(submissions, jobs=jobs, progress=False)
        times[jobs] = time.perf_counter() - start
        print(f"{count} submissions, --jobs {jobs}: {times[jobs]:.1f} s "
              f"({times[jobs] / count:.2f} s per submission)")
    print(f"speed-up with 2 jobs: {times[1] / times[2]:.2f}x (target >= 1.8x on 2 cores)")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.bench_grading")
    parser.add_argument("--submissions", type=int, default=20, help="class size for the parallel run")
    parser.add_argument("--skip-parallel", action="store_true")
    args = parser.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d')}  {platform.machine()}  {os.cpu_count()} cores  "
          f"Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        bench_lessons(folder)
        if not args.skip_parallel:
            bench_parallel(folder, args.submissions)


if __name__ == "__main__":
    main()
