"""End to end with nbgrader in a throwaway copy of the course.

generate_assignment -> submissions (blank, solved, and tricky ones) -> autograde
-> export -> generate_feedback, for every lesson.
"""
import csv
import re
import subprocess
import sys

import nbformat
import pytest

from autograder.grading.lessons import get_lesson
from autograder.grading.notebook import nbgrader_meta
from conftest import copy_course, venv_env
from lesson_tools import LESSON_IDS, release_path, solved_release

pytestmark = pytest.mark.skipif(not LESSON_IDS, reason="no lessons in source/ yet")


def nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course,
                          env=venv_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def submit(course, student, lesson_id, notebook):
    folder = course / "submitted" / student / lesson_id
    folder.mkdir(parents=True)
    nbformat.write(notebook, str(folder / f"{lesson_id}.ipynb"))


def tricky_submissions(lesson_id):
    """Solved notebooks with tricks nbgrader's defaults would mis-score."""
    # A transformer that blanks every later cell: in a kernel the hidden cells would then
    # print nothing, which nbgrader counts as full credit.
    blanker = nbformat.read(str(release_path(lesson_id)), as_version=4)
    blanker.cells.insert(1, nbformat.v4.new_code_cell(
        "get_ipython().input_transformers_post.append(lambda lines: [])"))
    # A correct student whose code also writes a warning to stderr: nbgrader would give 0.
    noisy = solved_release(lesson_id)
    noisy.cells.insert(1, nbformat.v4.new_code_cell(
        "import sys, numpy as np\nprint('a warning', file=sys.stderr)\nnp.log(np.zeros(1))"))
    # Raising the points in a hidden cell's metadata must not raise the maximum.
    greedy = solved_release(lesson_id)
    for cell in greedy.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.metadata["nbgrader"]["points"] = 1000
    return {"blanker": blanker, "noisy": noisy, "greedy": greedy}


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_nbgrader_generate_autograde_export_feedback(lesson_id, tmp_path):
    course = copy_course(tmp_path / "course")
    nbgrader(course, "generate_assignment", lesson_id, "--force")
    submit(course, "blank", lesson_id, nbformat.read(str(release_path(lesson_id)), as_version=4))
    submit(course, "solved", lesson_id, solved_release(lesson_id))
    tricks = tricky_submissions(lesson_id) if lesson_id == LESSON_IDS[0] else {}
    for student, notebook in tricks.items():
        submit(course, student, lesson_id, notebook)

    nbgrader(course, "autograde", lesson_id)
    nbgrader(course, "export", "--to", str(tmp_path / "grades.csv"))
    nbgrader(course, "generate_feedback", lesson_id)

    with open(tmp_path / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    points = get_lesson(lesson_id).points
    expected = {"blank": 0.0, "solved": points, "blanker": 0.0, "noisy": points, "greedy": points}
    for student in ["blank", "solved", *tricks]:
        assert float(rows[student]["max_score"]) == points, student
        assert float(rows[student]["score"]) == expected[student], (student, rows[student])

    feedback = (course / "feedback" / "solved" / lesson_id / f"{lesson_id}.html").read_text()
    assert "seed" in feedback and "PASS" in feedback
    for student in ("blank", "solved"):
        assert_students_see_scores_not_hidden_code(course, student, lesson_id)
    assert_blank_feedback_fits_on_one_screen(course, lesson_id)


HIDDEN_CODE = ("BEGIN HIDDEN", "END HIDDEN", "check(", "autograder.", "import autograder")


def formgrader_view(course, student, lesson_id):
    """The page Formgrader shows for a submission: its autograded notebook through the 'formgrade' template."""
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    from autograder.nbgrader_plugin import FEEDBACK_TEMPLATE_DIRS
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS[:1]   # nbgrader's templates
    resources = {"assignment_id": lesson_id, "notebook_id": lesson_id, "submission_id": "s", "index": 0,
                 "total": 1, "base_url": "", "student": student, "last_name": "", "first_name": "",
                 "notebook_path": "n"}
    path = course / "autograded" / student / lesson_id / f"{lesson_id}.ipynb"
    return HTMLExporter(config=config).from_filename(str(path), resources=resources)[0]


def assert_students_see_scores_not_hidden_code(course, student, lesson_id):
    """Feedback HTML and Formgrader: each hidden-check cell's score and messages, never its code."""
    html = (course / "feedback" / student / lesson_id / f"{lesson_id}.html").read_text()
    formgrader = formgrader_view(course, student, lesson_id)
    for secret in HIDDEN_CODE:
        assert secret not in html, (student, secret)
        assert secret not in formgrader, (student, secret)
    # nothing from a CDN (formulas are MathML the browser draws), long lines wrap, no empty error boxes
    assert not re.search(r"https?://[^\"'\s]*(cdn|mathjax)", html, re.IGNORECASE)
    assert "<math" in html
    assert not re.search(r"<script[^>]*src=", html)
    assert "white-space: pre-wrap" in html
    assert not re.search(r"<pre>\s*</pre>", html)
    # the summary names each exercise's hidden checks, and no 0-point "Test cell" entries
    assert "Test cell" not in html
    for exercise in get_lesson(lesson_id).exercises:
        assert f'<a href="#{exercise.name}">{exercise.name}</a>: hidden checks (Score:' in html, exercise.name
        assert f"# hidden checks of {exercise.name} (" in html
        assert f"{exercise.name}: " in html   # the engine's messages, e.g. "max_pool2d: 0 / 10 points"


def assert_blank_feedback_fits_on_one_screen(course, lesson_id):
    notebook = nbformat.read(str(course / "autograded" / "blank" / lesson_id / f"{lesson_id}.ipynb"),
                             as_version=4)
    messages = [output.get("text", "") for cell in notebook.cells if nbgrader_meta(cell).get("points")
                for output in cell.get("outputs", []) if output.get("output_type") == "stream"]
    lines = "".join(messages).splitlines()
    assert len(lines) <= 2 * len(get_lesson(lesson_id).exercises), "\n".join(lines)


@pytest.mark.parametrize("lesson_id", LESSON_IDS[:1])
def test_validate_reports_failing_visible_tests_and_passes_a_solved_notebook(lesson_id, tmp_path):
    folder = copy_course(tmp_path / "course") / "release" / lesson_id
    nbformat.write(solved_release(lesson_id), str(folder / "solved.ipynb"))
    def validate(name):
        done = subprocess.run([sys.executable, "-m", "nbgrader", "validate", name], cwd=folder,
                              env=venv_env(), capture_output=True, text=True, timeout=300)
        return done.stdout + done.stderr
    blank = validate(f"{lesson_id}.ipynb")
    assert "VALIDATION FAILED" in blank, blank   # not "Success!" on an empty notebook
    solved = validate("solved.ipynb")
    assert "Success! Your notebook passes all the tests." in solved, solved
