"""The README's instructor path, run as written in a fresh copy of the course.

The commands are read from the first fenced block under "## Instructor path" in
README.md. Before `nbgrader collect`, two students fetch the lesson from the
exchange and submit through it (one solved, one solved who also edited a
hidden-check cell), and a blank submission is copied into submitted/ by hand.
"""
import csv
import re
import shlex
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.grading.lessons import get_lesson
from autograder.grading.notebook import is_hidden_check, nbgrader_meta
from conftest import ROOT, copy_course, venv_env
from lesson_tools import LESSON_IDS, solved_release

pytestmark = pytest.mark.skipif("01_pooling" not in LESSON_IDS, reason="lesson 01_pooling is not in source/")

LESSON = "01_pooling"
COURSE_ID = "cnn-internals"


def readme_instructor_commands():
    """The instructor path's commands, each split into arguments, comments removed."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Instructor path", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S).group(1)
    commands = []
    for line in block.splitlines():
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            commands.append(shlex.split(line))
    return commands


def run(command, cwd, env):
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def tamper_hidden_cell(notebook):
    """A solved notebook whose first hidden-check cell the student edited."""
    cell = next(c for c in notebook.cells if is_hidden_check(c))
    cell.source += "\nprint('my own check')"
    return nbgrader_meta(cell)["grade_id"], notebook


def student_submits(name, notebook, course, home):
    """What a student does in the Assignments tab: fetch, work, submit (here with nbgrader's CLI)."""
    folder = home / name
    folder.mkdir(parents=True)
    env = dict(venv_env(), JUPYTER_DATA_DIR=str(folder / ".jupyter-data"))  # the student's nbgrader cache
    where = [f"--Exchange.root={course / 'exchange'}", f"--CourseDirectory.course_id={COURSE_ID}"]
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "fetch_assignment", LESSON, *where], folder, env)
    nbformat.write(notebook, str(folder / LESSON / f"{LESSON}.ipynb"))
    run([*nbgrader, "submit", LESSON, f"--student={name}", *where], folder, env)
    return folder, env, where


def test_the_readme_instructor_path_runs_as_written(tmp_path):
    commands = readme_instructor_commands()
    names = [" ".join(command[:4]) for command in commands]
    for expected in ("nbgrader release_assignment", "nbgrader collect", "nbgrader release_feedback",
                     "nbgrader export"):
        assert any(name.startswith(expected) for name in names), (expected, names)
    course = copy_course(tmp_path / "course")
    home = tmp_path / "students"
    env = venv_env()  # `python` and `nbgrader` are this environment's
    grade_id, tampered = tamper_hidden_cell(solved_release(LESSON))
    outputs, students = {}, {}
    for command in commands:
        if command[:2] == ["nbgrader", "collect"]:
            students["ada"] = student_submits("ada", solved_release(LESSON), course, home)
            students["eve"] = student_submits("eve", tampered, course, home)
            by_hand = course / "submitted" / "carl" / LESSON  # carl e-mailed the blank lesson
            by_hand.mkdir(parents=True)
            shutil.copy(ROOT / "release" / LESSON / f"{LESSON}.ipynb", by_hand)
        outputs[" ".join(command)] = run(command, course, env)

    points = get_lesson(LESSON).points
    with open(course / "grades.csv") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert scores == {"ada": points, "eve": points, "carl": 0.0}

    autograde = next(text for name, text in outputs.items() if " autograde " in f" {name} ")
    warned = re.findall(r"Attribute 'checksum' for cell (\S+) has changed", autograde)
    assert warned == [grade_id], autograde  # eve's edited cell, and nothing for the others

    released = next(text for name, text in outputs.items() if "release_feedback" in name)
    assert "carl" in released and "by hand" in released, released
    folder, student_env, where = students["ada"]
    run([sys.executable, "-m", "nbgrader", "fetch_feedback", LESSON, *where], folder, student_env)
    feedback = list((folder / LESSON / "feedback").glob(f"*/{LESSON}.html"))
    assert len(feedback) == 1 and "PASS" in feedback[0].read_text()


@pytest.mark.parametrize("argv", [
    ["autograde", LESSON, "--jobs", "2", "--", "--force"],
    ["autograde", "--jobs", "2", LESSON, "--", "--force"],
    ["autograde", "-j", "2", LESSON, "--", "--force"],
])
def test_the_parallel_autograde_takes_its_options_in_any_order(argv, monkeypatch):
    import autograder.nbgrader_parallel
    from autograder.__main__ import main

    calls = []
    monkeypatch.setattr(autograder.nbgrader_parallel, "autograde_parallel",
                        lambda root, lesson, jobs, extra: calls.append((lesson, jobs, extra)) or [])
    assert main(argv) == 0
    assert calls == [(LESSON, 2, ["--force"])]


def test_arguments_after_double_dash_are_refused_where_nothing_takes_them(capsys):
    from autograder.__main__ import main

    assert main(["gradescope", LESSON, "--", "--force"]) == 2
    assert "takes no arguments after --" in capsys.readouterr().err
