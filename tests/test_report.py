"""The class report (autograder/report.py) counts exactly what a synthetic class got wrong.

The class: lesson 1's solution from the source notebook, with, per student, known
mistakes injected from the misconception catalog of autograder/grading/suites/pooling.py
and some exercises left as stubs, in known proportions (student k gets a mistake when
k % m == r). 40 students are graded through the engine in-process (the same
run_exercise and results.json as the sandbox); a few more go through the real CLI
(`grade DIR --jobs 2 --results`) and through nbgrader's autograde and gradebook.
"""
import contextlib
import csv
import inspect
import io
import json
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest

from autograder.__main__ import main
from autograder.bench_report import synthetic_result, write_class
from autograder.grading.grader import GradeResult, InProcessCaller, run_exercise
from autograder.grading.lessons import get_lesson
from autograder.grading.suites import pooling
from autograder.report import load_gradebook, load_results, summarize
from conftest import ROOT, copy_course, venv_env
from lesson_tools import code_cells_for_grading, solved_release

LESSON = "01_pooling"
SEED = 7
STUDENTS = 40

# (exercise, misconception, m, r): student k has this mistake when k % m == r. Each of these
# is recognised as itself on every check it fails (not as another misconception), whatever the seed.
MISTAKES = [
    ("pool_output_size", "stride None = 1", 4, 0),       # 10 of 40
    ("max_pool2d", "ceil_mode ignored", 5, 1),           # 8
    ("max_pool2d", "channels mixed", 5, 2),              # 8
    ("avg_pool2d", "real count", 8, 3),                  # 5
    ("max_pool2d_backward", "stride ignored", 10, 4),    # 4
    ("avg_pool2d_backward", "copied", 3, 2),             # 13
    ("spatial_pyramid_pool2d", "channels last", 7, 5),   # 5
]
# (exercise, m, r): left as the release's stub (raise NotImplementedError) when k % m == r
STUBS = [("adaptive_max_pool2d", 6, 4), ("q_spp_length", 9, 0)]


def plan(k):
    """Student k's injected mistakes {exercise: misconception} and stubbed exercises."""
    mistakes = {exercise: name for exercise, name, m, r in MISTAKES if k % m == r}
    stubs = {exercise for exercise, m, r in STUBS if k % m == r}
    return mistakes, stubs


def misconception(exercise, name):
    (found,) = [m for m in get_lesson(LESSON).exercise(exercise).misconceptions if m.name == name]
    return found


def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(scope="module")
def solution():
    """The namespace of lesson 1's solved notebook, its code cells run once in this process."""
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.chdir(ROOT / "release" / LESSON):
        for source in code_cells_for_grading(solved_release(LESSON)):
            exec(compile(source, "<cell>", "exec"), namespace)  # noqa: S102 - the course's own solution
    import matplotlib.pyplot as plt
    plt.close("all")
    return namespace


def grade_in_process(namespace, mistakes, stubs, seed=SEED, student=None):
    """results.json (as `grade --results` writes it) of the solution with these changes."""
    saved = dict(namespace)
    lesson = get_lesson(LESSON)
    try:
        for exercise, name in mistakes.items():
            namespace[exercise] = misconception(exercise, name).fn
        for exercise in stubs:
            if lesson.exercise(exercise).kind == "value":
                namespace.pop(exercise)    # the answer cell raised before assigning it
            else:
                namespace[exercise] = stub
        result = GradeResult(lesson=LESSON, seed=seed, sandbox="in-process (test)")
        result.exercises = [run_exercise(e, InProcessCaller(namespace), seed) for e in lesson.exercises]
    finally:
        namespace.clear()
        namespace.update(saved)
    data = result.to_gradescope()
    if student:
        data["extra_data"]["student"] = student
    return data


def failed_checks(data):
    return {t["name"] for t in data["tests"] if t["status"] == "failed"}


@pytest.fixture(scope="module")
def one_mistake_checks(solution):
    """{(exercise, misconception or 'stub'): the sub-checks a student with only that change fails}."""
    found = {(e, n): failed_checks(grade_in_process(solution, {e: n}, set())) for e, n, _, _ in MISTAKES}
    found.update({(e, "stub"): failed_checks(grade_in_process(solution, {}, {e})) for e, _, _ in STUBS})
    return found


def expected_counts(students, one_mistake_checks):
    """What the report must say about these students (k values), from the plan alone.

    A stub also stops the exercises built on it (spatial_pyramid_pool2d calls the student's
    adaptive_max_pool2d): they count as not implemented too, as the one-stub grading shows.
    """
    wrong, stubbed, known, checks, scores, table = Counter(), Counter(), Counter(), Counter(), {}, {}
    points = {f"{e.name}: {c.name}": c.points for e in get_lesson(LESSON).exercises for c in e.checks}
    for k in students:
        mistakes, stubs = plan(k)
        failing = set().union(*[one_mistake_checks[e, n] for e, n in mistakes.items()],
                              *[one_mistake_checks[e, "stub"] for e in stubs])
        not_implemented = {name.split(": ")[0] for name in failing} - set(mistakes)
        wrong.update(mistakes.keys())
        stubbed.update(not_implemented)
        known.update(mistakes.items())
        checks.update(name for name in failing if name.split(": ")[0] in mistakes)
        scores[k] = get_lesson(LESSON).points - sum(points[name] for name in failing)
        table[k] = (sorted(mistakes), sorted(not_implemented))
    return wrong, stubbed, known, checks, scores, table


def assert_report_matches_plan(section, students, one_mistake_checks, name_of):
    """Every count of the lesson's report section equals the injected proportions."""
    wrong, stubbed, known, checks, scores, table = expected_counts(students, one_mistake_checks)
    assert section["students"] == len(students)
    for exercise in section["exercises"]:
        name = exercise["name"]
        assert (exercise["wrong"], exercise["not_attempted"]) == (wrong[name], stubbed[name]), name
        assert exercise["passed"] == len(students) - wrong[name] - stubbed[name], name
        assert {m["name"]: m["students"] for m in exercise["misconceptions"]} == \
            {m: n for (e, m), n in known.items() if e == name}, name
        for m in exercise["misconceptions"]:
            assert m["message"] == misconception(name, m["name"]).message
        counts = [m["students"] for m in exercise["misconceptions"]]
        assert counts == sorted(counts, reverse=True), "misconceptions ranked by students"
        failing = {c["name"]: c["failed"] for c in exercise["checks"] if c["failed"]}
        assert failing == {t.split(": ", 1)[1]: n for t, n in checks.items() if t.startswith(f"{name}: ")}, name
        assert all(c["attempted"] == len(students) - stubbed[name] for c in exercise["checks"])
        rates = [c["rate"] for c in exercise["checks"]]
        assert rates == sorted(rates, reverse=True), "sub-checks ranked by failure rate"
    rows = {row["student"]: row for row in section["table"]}
    for k in students:
        row = rows[name_of(k)]
        assert (sorted(row["failed"]), sorted(row["not_attempted"])) == table[k], name_of(k)
        assert row["score"] == scores[k], name_of(k)
    assert [r["score"] for r in section["table"]] == sorted(scores.values()), "lowest score first"
    assert section["median"] == statistics.median(scores.values())


@pytest.fixture(scope="module")
def class_results(solution, tmp_path_factory):
    """40 students' results.json files, graded in-process with seed 7."""
    folder = tmp_path_factory.mktemp("class") / "results"
    folder.mkdir()
    for k in range(STUDENTS):
        mistakes, stubs = plan(k)
        data = grade_in_process(solution, mistakes, stubs, student=f"s{k:02d}")
        (folder / f"s{k:02d}.json").write_text(json.dumps(data))
    return folder


def test_report_counts_equal_the_injected_mistakes_of_a_class_of_40(class_results, one_mistake_checks,
                                                                      tmp_path):
    # the proportions themselves: every mistake and stub occurs, none in every student
    assert all(0 < sum(1 for k in range(STUDENTS) if k % m == r) < STUDENTS for *_, m, r in MISTAKES)
    assert main(["report", str(class_results), "-o", str(tmp_path / "report.html")]) == 0
    summary = summarize(load_results([class_results]))
    assert list(summary["lessons"]) == [LESSON] and not summary["problems"]
    section = summary["lessons"][LESSON]
    assert_report_matches_plan(section, range(STUDENTS), one_mistake_checks, lambda k: f"s{k:02d}")
    assert section["seeds"] == [str(SEED)] and summary["engines"]

    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 3
    assert "http://" not in page and "https://" not in page and "<script" not in page, "self-contained"
    for exercise, name, *_ in MISTAKES:
        assert misconception(exercise, name).message.split(";")[0][:40] in page.replace("&#x27;", "'")
    rows = list(csv.DictReader(open(tmp_path / "report.csv")))
    assert [r["student"] for r in rows] == [r["student"] for r in section["table"]]
    assert rows[0].keys() >= {"student", "lesson", "score", "max_score", "failed", "not_attempted", "seed"}


def test_anonymize_replaces_every_name_in_the_page_and_the_csv(class_results, tmp_path):
    assert main(["report", str(class_results), "-o", str(tmp_path / "r.html"), "--anonymize"]) == 0
    page, table = (tmp_path / "r.html").read_text(), (tmp_path / "r.csv").read_text()
    text = re.sub(r'src="data:image/png;base64,[^"]*"', "", page)   # letters of the figures
    assert not re.search(r"\bs\d\d\b", text + table), "a student's name is left"
    assert main(["report", str(class_results), "-o", str(tmp_path / "named.html")]) == 0
    assert len(set(re.findall(r"\bs\d\d\b", (tmp_path / "named.html").read_text()))) == STUDENTS
    names = [row["student"] for row in csv.DictReader(io.StringIO(table))]
    assert len(set(names)) == STUDENTS and all(n.startswith("student-") and n in page for n in names)


# ------------------------------------------------------------- the real CLI and nbgrader
def injected_cell(mistakes, stubs):
    """Student code, appended to the solved notebook: the misconception's own source, with `ref`
    bound to this student's (correct) functions, since the sandbox cannot import the course."""
    lines = ["import types",
             f"ref = types.SimpleNamespace(**{{n: globals()[n] for n in {FUNCTIONS!r}}})"]
    for exercise, name in mistakes.items():
        fn = misconception(exercise, name).fn
        assert fn.__module__ == pooling.__name__ and fn.__qualname__ == fn.__name__, "a top-level function"
        assert not {n for n in fn.__code__.co_names if n in vars(pooling)} - {"np", "ref"}, "needs only np, ref"
        lines += [inspect.getsource(fn), f"{exercise} = {fn.__name__}"]
    for exercise in stubs:
        if get_lesson(LESSON).exercise(exercise).kind == "value":
            lines.append(f"del {exercise}")
        else:
            lines += [f"def {exercise}(*args, **kwargs):", "    raise NotImplementedError()"]
    return "\n".join(lines)


FUNCTIONS = tuple(e.name for e in get_lesson(LESSON).exercises if e.kind == "function")
# students of the sandboxed paths: k values of the plan whose mistakes' source runs on its own
# 1: max_pool2d ceil_mode ignored; 36: and pool_output_size stride None = 1, q_spp_length not answered;
# 22: max_pool2d channels mixed; 16: pool_output_size and max_pool2d, adaptive_max_pool2d a stub
SANDBOXED = {"ada": 1, "bob": 36, "cy": 22, "dan": 16}


def submitted_notebook(k):
    mistakes, stubs = plan(k)
    notebook = solved_release(LESSON)
    notebook.cells.append(nbformat.v4.new_code_cell(injected_cell(mistakes, stubs)))
    return notebook


def test_cli_results_and_grades_csv_give_the_same_counts(solution, one_mistake_checks, tmp_path):
    assert {plan(k)[0].get("max_pool2d") for k in SANDBOXED.values()} >= {"ceil_mode ignored"}
    folder = tmp_path / "submitted"
    folder.mkdir()
    for student, k in SANDBOXED.items():
        nbformat.write(submitted_notebook(k), str(folder / f"{student}.ipynb"))
    (folder / "eve.ipynb").write_text("{ not a notebook")
    results = tmp_path / "results"
    assert main(["grade", str(folder), "--jobs", "2", "--results", str(results),
                 "-o", str(tmp_path / "grades.csv")]) == 0
    (results / "mallory.json").write_text('{"score": 3, "tests": [')   # a corrupt results file

    # the sandbox's results.json equals the in-process one for the same student and seed
    for student, k in SANDBOXED.items():
        cli = json.loads((results / f"{student}.json").read_text())
        mine = grade_in_process(solution, *plan(k), seed=cli["extra_data"]["seed"])
        assert [(t["name"], t["status"], t["extra_data"]) for t in cli["tests"]] == \
            [(t["name"], t["status"], t["extra_data"]) for t in mine["tests"]], student

    assert main(["report", str(results), "-o", str(tmp_path / "report.html")]) == 0
    summary = summarize(load_results([results]))
    assert summary["problems"] == [{"file": str(results / "mallory.json"), "reason": "not valid JSON"}]
    section = summary["lessons"][LESSON]
    assert [n["student"] for n in section["not_graded"]] == ["eve"]
    graded = {**section, "students": section["students"] - 1,
              "table": [r for r in section["table"] if r["student"] != "eve"]}
    graded["median"] = statistics.median(r["score"] for r in graded["table"])
    assert_report_matches_plan(graded, SANDBOXED.values(), one_mistake_checks,
                               {k: s for s, k in SANDBOXED.items()}.get)
    assert "mallory.json" in (tmp_path / "report.html").read_text()

    # the grades CSV: the same scores and failed exercises, without sub-checks
    from_csv = summarize(load_results([tmp_path / "grades.csv"]))["lessons"][LESSON]
    by_name = {r["student"]: (r["score"], r["failed"] + r["not_attempted"]) for r in section["table"]}
    assert {r["student"]: (r["score"], r["failed"]) for r in from_csv["table"]} == by_name
    assert from_csv["with_details"] == 0 and all(not e["checks"] for e in from_csv["exercises"])


def test_gradebook_report_counts_the_same_as_the_plan(one_mistake_checks, tmp_path):
    course = copy_course(tmp_path / "course")
    run = dict(cwd=course, env=venv_env(), capture_output=True, text=True, timeout=600)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    done = subprocess.run([*nbgrader, "generate_assignment", LESSON, "--force"], **run)
    assert done.returncode == 0, done.stderr
    for student, k in SANDBOXED.items():
        folder = course / "submitted" / student / LESSON
        folder.mkdir(parents=True)
        nbformat.write(submitted_notebook(k), str(folder / f"{LESSON}.ipynb"))
    done = subprocess.run([sys.executable, "-m", "autograder", "autograde", LESSON, "--jobs", "2"], **run)
    assert done.returncode == 0, done.stdout + done.stderr

    loaded = load_gradebook(course / "gradebook.db", LESSON)
    assert not loaded.problems
    section = summarize(loaded)["lessons"][LESSON]
    assert_report_matches_plan(section, SANDBOXED.values(), one_mistake_checks,
                               {k: s for s, k in SANDBOXED.items()}.get)
    report = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "autograder", "report", "--gradebook", "gradebook.db",
                           "--lesson", LESSON, "-o", str(report)], **run)
    assert done.returncode == 0 and f"{len(SANDBOXED)} students" in done.stdout, done.stdout + done.stderr

    # an autograded notebook gone: that student keeps the gradebook's scores, the gap is named
    scores = [(r["student"], r["score"]) for r in section["table"]]
    (course / "autograded" / "bob" / LESSON / f"{LESSON}.ipynb").unlink()
    loaded = load_gradebook(course / "gradebook.db", LESSON)
    assert len(loaded.problems) == 1 and "bob" in loaded.problems[0][0]
    section = summarize(loaded)["lessons"][LESSON]
    assert (section["with_details"], section["students"]) == (len(SANDBOXED) - 1, len(SANDBOXED))
    assert [(r["student"], r["score"]) for r in section["table"]] == scores, "the gradebook's scores"


# ------------------------------------------------------------- inputs the report refuses or skips
def test_anonymize_also_hides_names_in_skipped_files_and_reasons(tmp_path):
    folder = write_class(tmp_path / "results", 3)
    (folder / "student-0001.json").write_text("{")           # corrupt: ada's name is only in the path
    (folder / "eve").mkdir()
    (folder / "eve" / "results.json").write_text(json.dumps(GradeResult(
        lesson=LESSON, error="eve.ipynb is not valid JSON").to_gradescope()))
    summary = summarize(load_results([folder]), anonymize=True)
    text = json.dumps(summary)
    assert not re.search(r"\bstudent-0001\b|\beve\b", text), "a name is left"
    named = json.dumps(summarize(load_results([folder])))
    assert re.search(r"\bstudent-0001\b", named) and re.search(r"\beve\b", named)
    assert summary["problems"][0]["file"].endswith(".json") and summary["problems"][0]["reason"] == "not valid JSON"
    (graded,) = summary["lessons"][LESSON]["not_graded"]
    assert graded["reason"] == f"{graded['student']}.ipynb is not valid JSON"


def test_every_kind_of_broken_results_file_is_named_and_skipped(tmp_path):
    folder = write_class(tmp_path / "results", 2)
    broken = {"a.json": "{", "b.json": "[]", "c.json": '{"score": 1, "tests": [{"score": 1}]}',
              "d.json": "[" * 100_000, "e.json": b"\xff\xfe".decode("latin-1"), "f.json": '{"score": "x"}'}
    for name, text in broken.items():
        (folder / name).write_text(text)
    loaded = load_results([folder])
    assert len(loaded.submissions) == 2
    assert sorted(Path(f).name for f, _ in loaded.problems) == sorted(broken)
    assert main(["report", str(folder), "-o", str(tmp_path / "r.html")]) == 0
    assert all(name in (tmp_path / "r.html").read_text() for name in broken)


def test_summarize_reads_paths_itself(class_results):
    assert summarize(class_results) == summarize(load_results([class_results]))


def test_report_needs_results_or_a_gradebook_with_a_lesson(tmp_path, capsys):
    assert main(["report", "-o", str(tmp_path / "r.html")]) == 2
    assert main(["report", "--gradebook", str(tmp_path / "gradebook.db"), "-o", str(tmp_path / "r.html")]) == 2
    assert "--gradebook needs --lesson" in capsys.readouterr().err
    assert main(["report", "--gradebook", str(tmp_path / "none.db"), "--lesson", LESSON]) == 2
    assert "no gradebook at" in capsys.readouterr().err


def test_a_folder_without_results_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html")]) == 2
    assert "no results in" in capsys.readouterr().err
    (tmp_path / "empty" / "a.json").write_text("[]")
    assert main(["report", str(tmp_path / "empty"), "-o", str(tmp_path / "r.html")]) == 2
    assert "could be read" in capsys.readouterr().err and not (tmp_path / "r.html").exists()


def test_a_mix_of_lessons_gives_one_section_per_lesson(tmp_path):
    import numpy as np
    folder = write_class(tmp_path / "results", 5)
    rng = np.random.default_rng(1)
    for k in range(3):
        data = synthetic_result(get_lesson("03_conv_variants"), rng, f"v{k}")
        (folder / f"v{k}.json").write_text(json.dumps(data))
    summary = summarize(load_results([folder]))
    assert {k: v["students"] for k, v in summary["lessons"].items()} == {LESSON: 5, "03_conv_variants": 3}
    assert main(["report", str(folder), "-o", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text()
    assert page.count("<h2>") == 2 and get_lesson("03_conv_variants").title in page
