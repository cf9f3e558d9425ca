"""Grade a folder of submissions in parallel: one worker process per job, a child per submission.

Two layouts are recognised:
    DIR/<student>.ipynb                          one notebook per student
    DIR/<student>/<lesson>/<notebook>.ipynb      nbgrader's submitted/ folder
Workers are processes (not threads) because starting a sandboxed child uses
`preexec_fn`, which is unsafe with threads; each grading is independent, so
N jobs on N cores grade about N times as fast.
"""
import csv
import io
import json
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from .grader import grade_notebook
from .runner import Limits


@dataclass
class Submission:
    student: str
    path: Path
    lesson_hint: str = None


def find_submissions(folder):
    """Every submission under `folder`, sorted by student, in either layout."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        parts = path.relative_to(folder).parts
        if ".ipynb_checkpoints" in parts:
            continue
        if len(parts) == 1:
            found.append(Submission(path.stem, path))
        elif len(parts) == 3:
            found.append(Submission(parts[0], path, lesson_hint=parts[1]))
    return found


def _grade_one(submission, limits, seed):
    result = grade_notebook(submission.path, seed=seed, lesson_hint=submission.lesson_hint, limits=limits)
    return submission, result


def grade_folder(submissions, jobs=1, limits=None, seed=None, progress=True):
    """[(Submission, GradeResult)] in the order of `submissions`, graded by `jobs` processes."""
    limits = limits or Limits()
    results = {}
    bar = _progress_bar(len(submissions), progress)
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(_grade_one, s, limits, seed) for s in submissions]
        for future in as_completed(futures):
            submission, result = future.result()
            results[submission.path] = result
            bar.update(1)
    bar.close()
    return [(s, results[s.path]) for s in submissions]


def _progress_bar(total, enabled):
    from tqdm import tqdm
    return tqdm(total=total, unit="notebook", disable=not enabled, desc="grading")


def exercise_names(graded):
    """Every exercise name in first-seen order across the results (the CSV's columns)."""
    names = []
    for _, result in graded:
        for exercise in result.exercises:
            if exercise.name not in names:
                names.append(exercise.name)
    return names


def grades_csv(graded):
    """CSV text: student, lesson, file, score, max_score, seed, then one column per exercise."""
    names = exercise_names(graded)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "lesson", "file", "score", "max_score", "seed", *names, "error"])
    for submission, result in graded:
        points = {e.name: f"{e.points:g}" for e in result.exercises}
        writer.writerow([submission.student, result.lesson, str(submission.path), f"{result.score:g}",
                         f"{result.max_score:g}", result.seed, *[points.get(n, "") for n in names],
                         result.error])
    return out.getvalue()


def write_results(graded, folder, destination):
    """Each student's results.json (Gradescope's format, plus the student's name) under `destination`,
    at the submission's path relative to `folder` with .json: ada.ipynb -> ada.json. Returns the count."""
    for submission, result in graded:
        data = result.to_gradescope()
        data["extra_data"]["student"] = submission.student
        data["extra_data"]["lesson"] = result.lesson or submission.lesson_hint or ""
        path = Path(destination) / Path(submission.path).relative_to(folder).with_suffix(".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n")
    return len(graded)


def summary_table(graded):
    """A fixed-width table of every student's total, for the terminal."""
    width = max([len(s.student) for s, _ in graded] + [7])
    lines = [f"{'student':<{width}}  {'lesson':<16}  {'score':>12}"]
    for submission, result in graded:
        score = f"{result.score:g} / {result.max_score:g}" if not result.error else "not graded"
        lines.append(f"{submission.student:<{width}}  {result.lesson or '-':<16}  {score:>12}")
    return "\n".join(lines)
