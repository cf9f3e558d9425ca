"""The class report: what a whole class got wrong, at a glance.

    python -m autograder report results/ -o report.html            # results.json files, or grades.csv
    python -m autograder report --gradebook gradebook.db --lesson 01_pooling -o report.html

    from autograder.report import load_results, summarize
    loaded = load_results(["results/"])
    summary = summarize(loaded)              # plain dicts, lists and numbers
    summary["lessons"]["01_pooling"]["exercises"][1]["misconceptions"]

Inputs, all read into the same `Submission` records:
- results.json files (Gradescope's format, written by `grade ... -o` or by
  `grade DIR --jobs N --results OUT`): every sub-check, whether it was not
  implemented, and the misconception its output matched (each test's
  `extra_data`);
- the CSV of `grade DIR --jobs N`: per-exercise points only (no sub-checks);
- an nbgrader gradebook: scores from the gradebook (the authority: it holds
  manual adjustments), sub-checks from the autograded notebooks beside it
  (`autograded/<student>/<lesson>/*.ipynb`, whose metadata the course's
  nbgrader plugin fills with the same results.json).

Several lessons in one input give one section per lesson. A file that cannot
be read is named, skipped and counted in the report; it never stops it.
"""
import base64
import csv
import hashlib
import html
import io
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .grading.lessons import SUITES, get_lesson


class ReportError(Exception):
    """Input the report cannot be made from at all (nothing to read): one line for the user."""


@dataclass
class CheckRecord:
    name: str
    passed: bool
    not_implemented: bool = False
    misconception: str = ""
    message: str = ""


@dataclass
class ExerciseRecord:
    name: str
    points: float
    max_points: float
    checks: list = None   # [CheckRecord], None when the input has no sub-checks (a CSV)

    @property
    def status(self):
        """'passed', 'not attempted' (every sub-check not implemented) or 'wrong'."""
        if self.points >= self.max_points:
            return "passed"
        if self.checks and all(c.passed or c.not_implemented for c in self.checks) \
                and any(c.not_implemented for c in self.checks):
            return "not attempted"
        return "wrong"


@dataclass
class Submission:
    """One student's graded lesson."""
    student: str
    lesson: str
    score: float
    max_score: float
    seed: object = None
    engine: str = ""
    error: str = ""
    source: str = ""
    exercises: list = field(default_factory=list)   # [ExerciseRecord] in notebook order


@dataclass
class Loaded:
    submissions: list
    problems: list = field(default_factory=list)   # [(file, reason)] skipped inputs


# ------------------------------------------------------------------ reading
def submission_from_results(data, student, source=""):
    """A Submission from a results.json dict (Gradescope's format with the engine's extra_data)."""
    if not isinstance(data, dict) or not isinstance(data.get("tests", []), list) or "score" not in data:
        raise ValueError("not a results.json of this course (no score and tests)")
    extra = data.get("extra_data") or {}
    exercises = {}
    for test in data.get("tests", []):
        details = test.get("extra_data") or {}
        name, _, check = str(test["name"]).partition(": ")
        if name == "notebook":   # cells that did not run cleanly: not an exercise
            continue
        exercise = exercises.setdefault(details.get("exercise", name),
                                        ExerciseRecord(details.get("exercise", name), 0.0, 0.0, []))
        exercise.points += float(test["score"])
        exercise.max_points += float(test["max_score"])
        exercise.checks.append(CheckRecord(details.get("check", check), test.get("status") == "passed",
                                           bool(details.get("not_implemented")),
                                           details.get("misconception") or "",
                                           details.get("misconception_message") or ""))
    return Submission(student=str(extra.get("student") or student), lesson=str(extra.get("lesson") or ""),
                      score=float(data["score"]), max_score=float(data.get("max_score") or 0),
                      seed=extra.get("seed"), engine=str(extra.get("engine") or ""),
                      error=str(extra.get("error") or ""), source=source,
                      exercises=list(exercises.values()))


def student_from_path(path):
    """ada.json -> ada; ada/results.json -> ada; ada/01_pooling/01_pooling.json -> ada."""
    path = Path(path)
    if path.stem in ("results", *SUITES) and path.parent.name:
        parent = path.parent
        return parent.parent.name if parent.name in SUITES and parent.parent.name else parent.name
    return path.stem


def read_results_file(path):
    data = json.loads(Path(path).read_text())
    return submission_from_results(data, student_from_path(path), str(path))


def read_grades_csv(path):
    """Submissions from the CSV of `grade DIR --jobs N`: per-exercise points, no sub-checks."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "student" not in rows[0] or "score" not in rows[0]:
        raise ValueError("not a grades CSV of `python -m autograder grade DIR` (no student and score columns)")
    return [submission_from_csv_row(row, str(path)) for row in rows]


def submission_from_csv_row(row, source):
    lesson = row.get("lesson") or ""
    exercises = []
    if lesson in SUITES:
        for exercise in get_lesson(lesson).exercises:
            if row.get(exercise.name) not in (None, ""):
                exercises.append(ExerciseRecord(exercise.name, float(row[exercise.name]), exercise.points))
    return Submission(student=row["student"], lesson=lesson, score=float(row["score"] or 0),
                      max_score=float(row.get("max_score") or 0), seed=row.get("seed") or None,
                      error=row.get("error") or "", source=source, exercises=exercises)


def results_files(paths):
    """Every results file named or under a named folder, sorted; ReportError when there is none."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.json") if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            found.append(path)
        else:
            raise ReportError(f"no such file or folder: {path}")
    if not found:
        raise ReportError(f"no results in {', '.join(map(str, paths))} (expected results .json files "
                          "written by `python -m autograder grade`, or its grades CSV)")
    return found


def load_results(paths, progress=False):
    """Loaded submissions from results.json files, folders of them, or grades CSVs.

    A file that cannot be read is recorded in `problems` with the reason and skipped.
    """
    from tqdm import tqdm

    loaded = Loaded([])
    for path in tqdm(results_files(paths), unit="file", desc="reading results", disable=not progress):
        try:
            if path.suffix.lower() == ".csv":
                loaded.submissions += read_grades_csv(path)
            else:
                loaded.submissions.append(read_results_file(path))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as problem:
            loaded.problems.append((str(path), unreadable_reason(problem)))
    return loaded


def unreadable_reason(problem):
    """One line saying why a results file was skipped."""
    if isinstance(problem, json.JSONDecodeError):
        return "not valid JSON"
    if isinstance(problem, KeyError):
        return f"a test without the field {problem}"
    if isinstance(problem, RecursionError):
        return "nested too deeply to be a results.json"
    return str(problem) or type(problem).__name__


def load_gradebook(database, lesson, progress=False):
    """Loaded submissions of `lesson` from an nbgrader gradebook and the autograded notebooks beside it."""
    from nbgrader.api import Gradebook, MissingEntry
    from tqdm import tqdm

    database = Path(database)
    if not database.is_file():
        raise ReportError(f"no gradebook at {database}")
    loaded = Loaded([])
    with Gradebook(f"sqlite:///{database.resolve()}") as gradebook:
        try:
            assignment = gradebook.find_assignment(lesson)
        except MissingEntry:
            known = ", ".join(a.name for a in gradebook.assignments) or "none"
            raise ReportError(f"the gradebook {database} has no assignment {lesson!r} (it has: {known})") from None
        submitted = list(assignment.submissions)
        if not submitted:
            raise ReportError(f"no submissions of {lesson} in the gradebook {database}")
        for submission in tqdm(submitted, unit="student", desc="reading gradebook", disable=not progress):
            loaded.submissions.append(gradebook_submission(submission, lesson, database.parent, loaded.problems))
    return loaded


def gradebook_submission(submission, lesson, course_root, problems):
    """One student's Submission: gradebook scores, sub-checks from the autograded notebook(s)."""
    student = submission.student.id
    details, seed, engine, error = {}, None, "", ""
    for notebook in submission.notebooks:
        path = course_root / "autograded" / student / lesson / f"{notebook.name}.ipynb"
        record = autograded_results(path, student, problems)
        if record:
            details.update({e.name: e for e in record.exercises})
            seed, engine, error = record.seed, record.engine, record.error
    exercises = []
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.max_score == 0 and grade.name not in details:
                continue   # visible tests: 0-point grade cells
            checks = details[grade.name].checks if grade.name in details else None
            exercises.append(ExerciseRecord(grade.name, float(grade.score), float(grade.max_score), checks))
    return Submission(student=student, lesson=lesson, score=float(submission.score),
                      max_score=float(submission.max_score), seed=seed, engine=engine, error=error,
                      source=f"gradebook: {student}", exercises=exercises)


def autograded_results(path, student, problems):
    """The results the course's nbgrader plugin stored in an autograded notebook, or None."""
    if not path.is_file():
        problems.append((str(path), "no autograded notebook: scores only, no sub-checks"))
        return None
    try:
        data = json.loads(path.read_text())["metadata"]["autograder"]["results"]
        return submission_from_results(data, student, str(path))
    except (OSError, ValueError, KeyError, TypeError) as problem:
        problems.append((str(path), f"no engine results in its metadata ({type(problem).__name__}): "
                                    "scores only, no sub-checks"))
        return None


# ------------------------------------------------------------------ summarizing
def quartiles(values):
    """(Q1, median, Q3) of a list of numbers, None for an empty list."""
    if not len(values):
        return None
    q1, median, q3 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return float(q1), float(median), float(q3)


def pseudonyms(students, key=None):
    """{student: 'student-1a2b3c4d'}: a keyed hash, so the roster cannot be hashed to undo it."""
    key = key if key is not None else secrets.token_hex(16)
    return {s: "student-" + hashlib.sha256(f"{key}:{s}".encode()).hexdigest()[:8] for s in students}


def by_lesson(submissions):
    """{lesson: [Submission]}; a result without a lesson (an unreadable notebook) joins the only
    lesson if there is exactly one, else a section '(unknown lesson)'."""
    groups = {}
    for submission in submissions:
        if submission.lesson:
            groups.setdefault(submission.lesson, []).append(submission)
    for submission in submissions:
        if not submission.lesson:
            lesson = next(iter(groups)) if len(groups) == 1 else "(unknown lesson)"
            groups.setdefault(lesson, []).append(submission)
    return dict(sorted(groups.items()))


def summarize(loaded, anonymize=False, key=None):
    """The whole report as plain data: {"problems", "engines", "lessons": {lesson: {...}}}.

    `loaded` is a Loaded, a list of Submission, or results paths (files, folders, CSVs)
    to read with load_results. Per lesson: students, score statistics, per exercise
    its statistics, sub-checks ranked by failure rate and misconceptions ranked by
    students, and the student table sorted by score.
    """
    if isinstance(loaded, (str, Path)) or (isinstance(loaded, (list, tuple))
                                          and all(isinstance(p, (str, Path)) for p in loaded)):
        loaded = load_results([loaded] if isinstance(loaded, (str, Path)) else loaded)
    if isinstance(loaded, (list, tuple)):
        loaded = Loaded(list(loaded))
    # a skipped file's name usually holds a student's name too (ada.json, autograded/ada/...)
    students = {s.student for s in loaded.submissions} | {student_from_path(f) for f, _ in loaded.problems}
    names = pseudonyms(sorted(students), key) if anonymize else {}
    lessons = {}
    for lesson, group in by_lesson(loaded.submissions).items():
        lessons[lesson] = summarize_lesson(lesson, dedupe(group, loaded.problems), names)
    problems = [{"file": path_without_names(file, names), "reason": names_in(reason, names)}
                for file, reason in loaded.problems]
    return {"engines": sorted({s.engine for s in loaded.submissions if s.engine}),
            "problems": problems, "anonymized": bool(anonymize), "lessons": lessons}


def names_in(text, names):
    """`text` with every student's name, as a whole word, replaced by their pseudonym."""
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", names[name], text)
    return text


def path_without_names(file, names):
    """A path whose folders and file stems that are students' names become their pseudonyms."""
    parts = []
    for part in Path(file).parts:
        stem, suffix = os.path.splitext(part)
        parts.append(names[part] if part in names else names[stem] + suffix if stem in names else part)
    return str(Path(*parts)) if parts else file


def dedupe(group, problems):
    """One submission per student: a second result for the same student is skipped and named."""
    seen, kept = {}, []
    for submission in group:
        if submission.student in seen:
            problems.append((submission.source, f"a second result for {submission.student} in "
                                                f"{submission.lesson}; {seen[submission.student]} is used"))
            continue
        seen[submission.student] = submission.source
        kept.append(submission)
    return kept


def summarize_lesson(lesson, group, names):
    graded = [s for s in group if not s.error]
    order = exercise_order(lesson, graded)
    scores = [s.score for s in group]
    stats = quartiles(scores)
    return {
        "lesson": lesson,
        "title": get_lesson(lesson).title if lesson in SUITES else lesson,
        "students": len(group),
        "not_graded": [{"student": names.get(s.student, s.student), "reason": names_in(s.error, names)}
                       for s in group if s.error],
        "max_score": max([s.max_score for s in group] or [0]),
        "scores": scores,
        "q1": stats and stats[0], "median": stats and stats[1], "q3": stats and stats[2],
        "mean": float(np.mean(scores)) if scores else None,
        "seeds": sorted({str(s.seed) for s in group if s.seed is not None}),
        "engines": sorted({s.engine for s in group if s.engine}),
        "with_details": sum(1 for s in graded if s.exercises and all(e.checks is not None for e in s.exercises)),
        "exercises": [summarize_exercise(name, graded) for name in order],
        "table": student_table(group, names),
    }


def exercise_order(lesson, submissions):
    """Exercise names in the lesson's notebook order, then any others in first-seen order."""
    order = [e.name for e in get_lesson(lesson).exercises] if lesson in SUITES else []
    seen = {e.name for s in submissions for e in s.exercises}
    order = [n for n in order if n in seen]
    for submission in submissions:
        order += [e.name for e in submission.exercises if e.name not in order]
    return order


def summarize_exercise(name, submissions):
    records = [e for s in submissions for e in s.exercises if e.name == name]
    points = [e.points for e in records]
    stats = quartiles(points)
    statuses = [e.status for e in records]
    return {
        "name": name,
        "max_points": max([e.max_points for e in records] or [0]),
        "points": points,
        "q1": stats and stats[0], "median": stats and stats[1], "q3": stats and stats[2],
        "passed": statuses.count("passed"),
        "wrong": statuses.count("wrong"),
        "not_attempted": statuses.count("not attempted"),
        "checks": rank_checks(records),
        "misconceptions": rank_misconceptions(records),
    }


def rank_checks(records):
    """Sub-checks by failure rate among the students who attempted the exercise (highest first)."""
    attempted = [e for e in records if e.checks is not None and e.status != "not attempted"]
    checks = {}
    for exercise in attempted:
        for check in exercise.checks:
            counts = checks.setdefault(check.name, [0, 0])
            counts[0] += not check.passed
            counts[1] += 1
    ranked = [{"name": name, "failed": failed, "attempted": total, "rate": failed / total}
              for name, (failed, total) in checks.items()]
    return sorted(ranked, key=lambda c: -c["rate"])   # stable: ties keep the notebook's order


def rank_misconceptions(records):
    """Known mistakes by the number of students whose code matched them on at least one sub-check."""
    found = {}
    for exercise in records:
        for name, message in {(c.misconception, c.message) for c in exercise.checks or () if c.misconception}:
            entry = found.setdefault(name, {"name": name, "message": message, "students": 0})
            entry["students"] += 1
    return sorted(found.values(), key=lambda m: (-m["students"], m["name"]))


def student_table(group, names):
    """One row per student, lowest score first (those to help), then by name."""
    rows = []
    for s in group:
        rows.append({"student": names.get(s.student, s.student), "score": s.score, "max_score": s.max_score,
                     "failed": [e.name for e in s.exercises if e.status == "wrong"],
                     "not_attempted": [e.name for e in s.exercises if e.status == "not attempted"],
                     "seed": s.seed, "not_graded": names_in(s.error, names)})
    return sorted(rows, key=lambda r: (r["score"], r["student"]))


# ------------------------------------------------------------------ writing
def table_csv(summary):
    """The student tables of every lesson as CSV text, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["student", "lesson", "score", "max_score", "failed", "not_attempted", "seed", "not_graded"])
    for lesson, section in summary["lessons"].items():
        for row in section["table"]:
            writer.writerow([row["student"], lesson, f"{row['score']:g}", f"{row['max_score']:g}",
                             "; ".join(row["failed"]), "; ".join(row["not_attempted"]), row["seed"],
                             row["not_graded"]])
    return out.getvalue()


def write_report(summary, html_path, csv_path=None):
    """Write the HTML page (and the CSV beside it, same name with .csv); return both paths."""
    html_path = Path(html_path)
    csv_path = Path(csv_path) if csv_path else html_path.with_suffix(".csv")
    html_path.write_text(render_html(summary))
    csv_path.write_text(table_csv(summary))
    return html_path, csv_path


def figure_png(figure):
    """A matplotlib figure as an inline <img> (base64 PNG): the page needs no other file."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)   # fixed margins: "tight" would draw twice
    plt.close(figure)
    data = base64.b64encode(buffer.getvalue()).decode()
    return f'<img class="figure" alt="figure" src="data:image/png;base64,{data}">'


def score_bins(top, most):
    """One bar per whole point up to `most` points (centred on it), else `most` equal bins."""
    if top <= most:
        return np.arange(0, top + 1.5) - 0.5
    return np.linspace(0, top, most + 1)


def score_histogram(section):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 2.8))
    figure.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.2)
    axes = figure.subplots()
    top = section["max_score"] or 1
    axes.hist(section["scores"], bins=score_bins(top, 30), color="#4c78a8")
    for value, style in ((section["q1"], ":"), (section["median"], "-"), (section["q3"], ":")):
        if value is not None:
            axes.axvline(value, color="#d62728", linestyle=style)
    axes.set(xlabel=f"score (of {top:g}); red: median, dotted: quartiles", ylabel="students",
             xlim=(-0.5, top + 0.5) if top <= 30 else (0, top), title=f"{section['lesson']}: total scores")
    return figure_png(figure)


def exercise_bars(section):
    """Per exercise, stacked: passed, attempted and wrong, not attempted."""
    from matplotlib.figure import Figure

    exercises = section["exercises"]
    height = 0.35 * len(exercises) + 1
    figure = Figure(figsize=(6, height))
    figure.subplots_adjust(left=0.33, right=0.97, top=1 - 0.45 / height, bottom=0.6 / height)
    axes = figure.subplots()
    labels = [e["name"] for e in exercises][::-1]
    left = np.zeros(len(labels))
    for key, color, label in (("passed", "#59a14f", "passed"), ("wrong", "#e15759", "attempted, wrong"),
                              ("not_attempted", "#bab0ac", "not attempted")):
        values = np.array([e[key] for e in exercises][::-1], dtype=float)
        axes.barh(labels, values, left=left, color=color, label=label)
        left += values
    axes.set(xlabel="students")
    axes.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=3, fontsize=8, frameon=False)
    return figure_png(figure)


def exercise_histograms(section):
    """Small multiples: the distribution of each exercise's points."""
    from matplotlib.figure import Figure

    exercises = section["exercises"]
    columns = 4
    rows = max(1, -(-len(exercises) // columns))
    figure = Figure(figsize=(9, 1.9 * rows))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, exercise in zip(axes, exercises):
        top = exercise["max_points"] or 1
        ax.hist(exercise["points"], bins=score_bins(top, 10), color="#4c78a8")
        if exercise["median"] is not None:
            ax.axvline(exercise["median"], color="#d62728")
        ax.set_title(exercise["name"], fontsize=8)
        ax.set_xlim(-0.5, top + 0.5) if top <= 10 else ax.set_xlim(0, top)
        ax.tick_params(labelsize=7)
    for ax in axes[len(exercises):]:
        ax.set_visible(False)
    figure.subplots_adjust(left=0.05, right=0.98, top=1 - 0.35 / rows, bottom=0.25 / rows,
                           hspace=0.6, wspace=0.3)
    return figure_png(figure)


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #e15759; height: 0.8em; display: inline-block; }
.figure { max-width: 100%; margin: 0.5em 1em 0.5em 0; }
.note { color: #666; font-size: 0.9em; }
.problem { color: #a00; }
details { margin: 0.3em 0 0.8em; }
summary { cursor: pointer; font-weight: 600; }
"""


def esc(value):
    return html.escape(str(value))


def fmt(value):
    return "-" if value is None else f"{value:.3g}"


def render_html(summary):
    """The report page: self-contained (inline CSS and PNG figures), opens offline."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Class report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>Class report</h1>", render_overview(summary)]
    for section in summary["lessons"].values():
        parts.append(render_lesson(section))
    parts.append("</body></html>")
    return "\n".join(parts)


def render_overview(summary):
    lines = [f"<p>{len(summary['lessons'])} lesson(s): "
             + ", ".join(f"{esc(k)} ({v['students']} students)" for k, v in summary["lessons"].items())
             + f". Graded by engine version {esc(', '.join(summary['engines']) or 'unknown')}."
             + (" Student names are pseudonymised." if summary["anonymized"] else "") + "</p>"]
    if summary["problems"]:
        lines.append(f'<p class="problem">{len(summary["problems"])} input(s) skipped or incomplete:</p><ul>')
        lines += [f"<li><code>{esc(p['file'])}</code>: {esc(p['reason'])}</li>" for p in summary["problems"]]
        lines.append("</ul>")
    return "\n".join(lines)


def render_lesson(section):
    seeds = section["seeds"]
    seed_text = (f"every student with seed {esc(seeds[0])}" if len(seeds) == 1 else
                 f"{len(seeds)} seeds, one per submission (in the table; "
                 "<code>grade --seed N</code> reproduces a grade)")
    parts = [f"<h2>{esc(section['title'])} <small>({esc(section['lesson'])})</small></h2>",
             f"<p>{section['students']} students; median {fmt(section['median'])} of "
             f"{section['max_score']:g}, quartiles {fmt(section['q1'])} - {fmt(section['q3'])}, mean "
             f"{fmt(section['mean'])}. Random cases: {seed_text}.</p>"]
    if section["not_graded"]:
        parts.append(f"<p class='problem'>{len(section['not_graded'])} not graded (score 0): "
                     + "; ".join(f"{esc(n['student'])}: {esc(n['reason'])}" for n in section["not_graded"])
                     + "</p>")
    missing = section["students"] - len(section["not_graded"]) - section["with_details"]
    if missing:
        parts.append(f"<p class='note'>{missing} graded students have per-exercise points only (no "
                     "sub-checks or misconceptions): a grades CSV, or autograded notebooks missing.</p>")
    if section["scores"]:
        parts.append(score_histogram(section))
    if section["exercises"]:
        parts += [exercise_bars(section), exercise_histograms(section), render_exercise_table(section),
                  "<p class='note'>Not attempted: every failing call raised NotImplementedError (the "
                  "release's stub, also when reached through another exercise's stub), or the function or "
                  "answer is missing. Sub-checks below are ranked by how many of the students who "
                  "attempted the exercise failed them; misconceptions by how many students' code matched "
                  "them on at least one sub-check.</p>"]
        parts += [render_exercise(e) for e in section["exercises"]]
    parts.append(render_students(section))
    return "\n".join(parts)


def render_exercise_table(section):
    rows = ["<table><tr><th>exercise</th><th>points</th><th>median</th><th>quartiles</th>"
            "<th>passed</th><th>attempted, wrong</th><th>not attempted</th></tr>"]
    for e in section["exercises"]:
        rows.append(f"<tr><td>{esc(e['name'])}</td><td class=n>{e['max_points']:g}</td>"
                    f"<td class=n>{fmt(e['median'])}</td><td class=n>{fmt(e['q1'])} - {fmt(e['q3'])}</td>"
                    f"<td class=n>{e['passed']}</td><td class=n>{e['wrong']}</td>"
                    f"<td class=n>{e['not_attempted']}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def render_exercise(e):
    parts = [f"<details open><summary>{esc(e['name'])}: {e['passed']} passed, {e['wrong']} attempted and "
             f"wrong, {e['not_attempted']} not attempted</summary>"]
    failing = [c for c in e["checks"] if c["failed"]]
    if failing:
        parts.append("<table><tr><th>sub-check</th><th>failed</th><th>of attempting</th><th></th></tr>")
        parts += [f"<tr><td>{esc(c['name'])}</td><td class=n>{c['failed']}</td>"
                  f"<td class=n>{c['attempted']}</td><td><span class=bar style='width:"
                  f"{100 * c['rate']:.0f}px'></span> {100 * c['rate']:.0f}%</td></tr>" for c in failing]
        parts.append("</table>")
    if e["misconceptions"]:
        parts.append("<table><tr><th>misconception</th><th>students</th><th>what it is</th></tr>")
        parts += [f"<tr><td>{esc(m['name'])}</td><td class=n>{m['students']}</td><td>{esc(m['message'])}</td></tr>"
                  for m in e["misconceptions"]]
        parts.append("</table>")
    if not failing and not e["misconceptions"]:
        parts.append("<p class='note'>no sub-check failed by a student who attempted it</p>")
    parts.append("</details>")
    return "\n".join(parts)


def render_students(section):
    rows = ["<h3>Students, lowest score first</h3>",
            "<table><tr><th>student</th><th>score</th><th>attempted, wrong</th><th>not attempted</th>"
            "<th>seed</th></tr>"]
    for r in section["table"]:
        failed = esc(", ".join(r["failed"])) + (f" <em>not graded: {esc(r['not_graded'])}</em>"
                                                 if r["not_graded"] else "")
        rows.append(f"<tr><td>{esc(r['student'])}</td><td class=n>{r['score']:g} / {r['max_score']:g}</td>"
                    f"<td>{failed}</td><td>{esc(', '.join(r['not_attempted']))}</td>"
                    f"<td class=n>{esc(r['seed'])}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)
