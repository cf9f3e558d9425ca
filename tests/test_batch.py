"""Grading at scale: folders with --jobs, parallel nbgrader autograde (the Gradescope bundle: test_gradescope.py)."""
import csv
import io
import subprocess
import sys

import nbformat
import pytest

from autograder.__main__ import main
from autograder.grading.batch import find_submissions, grade_folder, grades_csv
from autograder.grading.lessons import get_lesson
from conftest import CORRECT_TOY, copy_course, make_notebook, venv_env
from lesson_tools import LESSON_IDS, solved_release, release_path


def toy_class(folder):
    """Three students: full marks, half marks (a wrong pair_sum), and a corrupt file."""
    folder.mkdir()
    make_notebook(folder / "ada.ipynb", CORRECT_TOY)
    make_notebook(folder / "bob.ipynb", CORRECT_TOY.replace("a - b", "a + b"))
    (folder / "eve.ipynb").write_text("{ not a notebook")
    return folder


def test_a_folder_is_graded_in_parallel_with_a_csv_of_exercise_scores(toy_lesson, tmp_path):
    graded = grade_folder(find_submissions(toy_class(tmp_path / "class")), jobs=2, progress=False)
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(grades_csv(graded)))}
    assert (rows["ada"]["score"], rows["ada"]["scale"], rows["ada"]["pair_sum"]) == ("6", "4", "2")
    assert (rows["bob"]["score"], rows["bob"]["pair_sum"]) == ("5", "1")
    assert rows["eve"]["score"] == "0" and "not valid JSON" in rows["eve"]["error"]


def test_cli_grades_a_folder_into_a_csv(toy_lesson, tmp_path, capsys):
    folder = toy_class(tmp_path / "class")
    assert main(["grade", str(folder), "--jobs", "2", "-o", str(tmp_path / "grades.csv")]) == 0
    table = capsys.readouterr().out
    assert "ada" in table and "6 / 6" in table and "not graded" in table
    assert (tmp_path / "grades.csv").read_text().startswith("student,lesson,file,score,max_score,seed")


def test_nbgrader_layout_gives_student_and_lesson(tmp_path):
    notebook = tmp_path / "submitted" / "ada" / "01_pooling" / "01_pooling.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    (found,) = find_submissions(tmp_path / "submitted")
    assert (found.student, found.lesson_hint, found.path) == ("ada", "01_pooling", notebook)


@pytest.mark.skipif(not LESSON_IDS, reason="no lessons yet")
def test_parallel_nbgrader_autograde_fills_the_same_gradebook(tmp_path):
    lesson = LESSON_IDS[-1]
    course = copy_course(tmp_path / "course")
    run = dict(cwd=course, env=venv_env(), capture_output=True, text=True)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    assert subprocess.run([*nbgrader, "generate_assignment", lesson, "--force"], **run).returncode == 0
    blank = nbformat.read(str(release_path(lesson)), as_version=4)
    for student, notebook in {"s1": solved_release(lesson), "s2": blank, "s3": solved_release(lesson)}.items():
        folder = course / "submitted" / student / lesson
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / f"{lesson}.ipynb"))
    done = subprocess.run([sys.executable, "-m", "autograder", "autograde", lesson, "--jobs", "2"], **run)
    assert done.returncode == 0, done.stdout + done.stderr
    assert subprocess.run([*nbgrader, "export", "--to", "grades.csv"], **run).returncode == 0
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(course / "grades.csv"))}
    points = get_lesson(lesson).points
    assert rows == {"s1": points, "s2": 0.0, "s3": points}
