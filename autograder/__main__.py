"""Command line: `python -m autograder grade|release ...` (see --help of each)."""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from .grading.lessons import SUITES

COURSE_ROOT = Path(__file__).resolve().parents[1]


class UsageError(Exception):
    """Unusable arguments: reported as one line, exit status 2."""


def print_report(result, stream=None):
    stream = stream or sys.stdout
    if result.error:
        print(f"not graded: {result.error}", file=stream)
        return
    for exercise in result.exercises:
        print(exercise.feedback(), file=stream)
    notes = result.notebook_notes()
    if notes:
        print("cells that did not run cleanly:\n" + notes, file=stream)
    print(f"total: {result.score:g} / {result.max_score:g}  (lesson {result.lesson}, seed "
          f"{result.seed}, sandbox: {result.sandbox})", file=stream)


def command_grade(args):
    from .grading.runner import Limits

    path = Path(args.submission)
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}")
    if args.output and not Path(args.output).resolve().parent.is_dir():
        raise UsageError(f"the folder of {args.output} does not exist")
    if args.lesson and args.lesson not in SUITES:
        raise UsageError(f"unknown lesson {args.lesson!r}; known: {', '.join(SUITES)}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    limits = Limits(cell_seconds=args.cell_timeout, call_seconds=args.call_timeout)
    if path.is_dir():
        return grade_folder(path, args, limits)
    from .grading.grader import grade_notebook
    result = grade_notebook(path, seed=args.seed, lesson_hint=args.lesson, limits=limits)
    print_report(result)
    if args.output:
        Path(args.output).write_text(json.dumps(result.to_gradescope(), indent=2) + "\n")
    return 0


def grade_folder(folder, args, limits):
    """Every submission in `folder`: a progress bar, a summary table and a CSV (-o, default grades.csv)."""
    from .grading import batch

    submissions = batch.find_submissions(folder)
    if not submissions:
        raise UsageError(f"no notebooks in {folder} (expected <student>.ipynb or "
                         "<student>/<lesson>/<notebook>.ipynb)")
    for submission in submissions:
        submission.lesson_hint = args.lesson or submission.lesson_hint
    graded = batch.grade_folder(submissions, jobs=args.jobs, limits=limits, seed=args.seed,
                                progress=sys.stderr.isatty() or args.progress)
    print(batch.summary_table(graded))
    csv_path = Path(args.output or "grades.csv")
    csv_path.write_text(batch.grades_csv(graded))
    print(f"per-exercise scores: {csv_path}")
    if args.results:
        count = batch.write_results(graded, folder, args.results)
        print(f"{count} results.json files (for `python -m autograder report`): {args.results}")
    return 0


def command_report(args):
    """The class report: an HTML page (figures inline) and a CSV of the student table."""
    from . import report

    if bool(args.gradebook) == bool(args.results):
        raise UsageError("give results (files or folders) or --gradebook DB --lesson L, not both or neither")
    if args.gradebook and not args.lesson:
        raise UsageError("--gradebook needs --lesson (the nbgrader assignment, e.g. 01_pooling)")
    if not Path(args.output).resolve().parent.is_dir():
        raise UsageError(f"the folder of {args.output} does not exist")
    progress = sys.stderr.isatty() or args.progress
    try:
        if args.gradebook:
            loaded = report.load_gradebook(args.gradebook, args.lesson, progress=progress)
        else:
            loaded = report.load_results(args.results, progress=progress)
    except report.ReportError as problem:
        raise UsageError(str(problem)) from None
    if not loaded.submissions:
        raise UsageError(f"none of the {len(loaded.problems)} results files could be read: "
                         + "; ".join(f"{f}: {r}" for f, r in loaded.problems[:3]))
    summary = report.summarize(loaded, anonymize=args.anonymize)
    html_path, csv_path = report.write_report(summary, args.output, args.csv)
    for problem in summary["problems"]:
        print(f"{problem['file']}: {problem['reason']}", file=sys.stderr)
    lessons = ", ".join(f"{k} ({v['students']} students)" for k, v in summary["lessons"].items())
    print(f"{html_path}: report on {lessons}; student table: {csv_path}")
    return 0


def command_gradescope(args):
    from .gradescope import build_bundle

    if args.lesson not in SUITES:
        raise UsageError(f"unknown lesson {args.lesson!r}; known: {', '.join(SUITES)}")
    try:
        count = build_bundle(args.lesson, args.output)
    except FileNotFoundError as problem:
        raise UsageError(str(problem)) from None
    print(f"{args.output}: Gradescope autograder for {args.lesson} ({count} files)")
    return 0


def command_autograde(args):
    from .nbgrader_parallel import autograde_parallel

    if not (COURSE_ROOT / "source" / args.lesson).is_dir():
        raise UsageError(f"no lesson folder source/{args.lesson}")
    failed = autograde_parallel(Path.cwd(), args.lesson, jobs=args.jobs, extra=args.nbgrader_args)
    return 1 if failed else 0


def command_release(args):
    """nbgrader generate_assignment for each lesson, from the course root."""
    lessons = args.lessons or sorted(p.name for p in (COURSE_ROOT / "source").iterdir() if p.is_dir())
    # nbgrader creates its gradebook with the `alembic` command from this environment's bin/
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    for lesson in lessons:
        if not (COURSE_ROOT / "source" / lesson).is_dir():
            raise UsageError(f"no lesson folder source/{lesson}")
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", lesson, "--force",
                   "--log-level=WARN"]
        done = subprocess.run(command, cwd=COURSE_ROOT, env=env)
        if done.returncode != 0:
            print(f"nbgrader generate_assignment {lesson} failed", file=sys.stderr)
            return done.returncode
        print(f"release/{lesson} regenerated")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade and release the CNN internals course.")
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade one notebook, or a folder of submissions")
    grade.add_argument("submission", help="a student's .ipynb, or a folder of them")
    grade.add_argument("-o", "--output", help="results.json for one notebook (Gradescope's format); "
                                              "the CSV for a folder (default grades.csv)")
    grade.add_argument("--jobs", "-j", type=int, default=1, help="notebooks graded at once (folders)")
    grade.add_argument("--progress", action="store_true", help="show the progress bar even when piped")
    grade.add_argument("--seed", type=int, help="seed of the random cases (default: from the code)")
    grade.add_argument("--lesson", help="lesson id, when the notebook does not say (e.g. 01_pooling)")
    grade.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell")
    grade.add_argument("--call-timeout", type=float, default=10.0, help="seconds per function call")
    grade.add_argument("--results", metavar="DIR", help="folders: also write each student's results.json "
                                                       "into DIR (the input of `report`)")
    grade.set_defaults(run=command_grade)

    report = commands.add_parser("report", help="class report: score distributions, common mistakes")
    report.add_argument("results", nargs="*", help="results.json files, folders of them, or grades CSVs")
    report.add_argument("-o", "--output", default="report.html", help="the HTML page to write")
    report.add_argument("--csv", help="the student table as CSV (default: the page's name with .csv)")
    report.add_argument("--gradebook", help="an nbgrader gradebook.db instead of results files")
    report.add_argument("--lesson", help="with --gradebook: the lesson (nbgrader assignment)")
    report.add_argument("--anonymize", action="store_true", help="pseudonyms instead of student names")
    report.add_argument("--progress", action="store_true", help="show the progress bar even when piped")
    report.set_defaults(run=command_report)

    release = commands.add_parser("release", help="regenerate release/ from source/ with nbgrader")
    release.add_argument("lessons", nargs="*", help="lesson ids (default: all)")
    release.set_defaults(run=command_release)

    gradescope = commands.add_parser("gradescope", help="build a Gradescope autograder zip")
    gradescope.add_argument("lesson", help="lesson id, e.g. 01_pooling")
    gradescope.add_argument("-o", "--output", default="autograder.zip", help="the zip to write")
    gradescope.set_defaults(run=command_gradescope)

    autograde = commands.add_parser(
        "autograde", help="nbgrader autograde, several students at once",
        usage="python -m autograder autograde LESSON [--jobs N] [-- NBGRADER_ARGUMENTS ...]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Everything after -- is passed on to each `nbgrader autograde`, for example:\n"
               "  python -m autograder autograde 01_pooling --jobs 2 -- --force")
    autograde.add_argument("lesson", help="lesson id (the nbgrader assignment)")
    autograde.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    autograde.set_defaults(run=command_autograde, nbgrader_args=[])
    return parser


def main(argv=None):
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # What follows `--` belongs to nbgrader. Split it off before argparse sees it:
    # argparse would not take options after a positional list (`autograde L --jobs 2 -- --force`).
    passed_on = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    try:
        args = parser.parse_args(argv)
        if passed_on and not hasattr(args, "nbgrader_args"):
            parser.error(f"{args.command} takes no arguments after --")
    except SystemExit as stop:  # argparse already printed its one-line usage error
        return 2 if stop.code else 0
    if passed_on:
        args.nbgrader_args = passed_on
    try:
        return args.run(args)
    except UsageError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
