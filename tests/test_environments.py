"""The student and grader environments, each installed fresh by one `pip install -r`.

The course environment (requirements.txt) is the one every other test runs in (.ci/run
builds it fresh). These tests build deploy/requirements-student.txt and
deploy/requirements-grader.txt in new virtual environments and check what each holds:
the student's runs every release notebook and Validate but has no grader, reference or
Formgrader; the grader's grades a notebook but has no JupyterLab.
"""
import json
import re
import shutil

import nbformat
import pytest

from deploy_tools import ROOT, build_env, run_in
from lesson_tools import LESSON_IDS, solved_release

# Lessons with a release folder (a lesson being written may not have one yet).
RELEASED = [lesson_id for lesson_id in LESSON_IDS if (ROOT / "release" / lesson_id / f"{lesson_id}.ipynb").exists()]
STUDENT_REQUIREMENTS = ROOT / "deploy" / "requirements-student.txt"
GRADER_REQUIREMENTS = ROOT / "deploy" / "requirements-grader.txt"


@pytest.fixture(scope="module")
def student_env():
    venv, _ = build_env("student", STUDENT_REQUIREMENTS)
    return venv


@pytest.fixture(scope="module")
def grader_env():
    venv, _ = build_env("grader", GRADER_REQUIREMENTS)
    return venv


def imports(venv, module):
    """True if `module` imports in the environment (run from /, away from the course folder)."""
    return run_in(venv, "python", "-c", f"import {module}", cwd="/").returncode == 0


def test_student_env_has_the_lessons_libraries_and_no_grader(student_env):
    for module in ("numpy", "matplotlib", "ipywidgets", "sklearn", "tqdm", "jupyterlab", "nbgrader",
                   "jupyterhub"):
        assert imports(student_env, module), f"the student environment cannot import {module}"
    for module in ("autograder", "autograder.reference", "autograder.hidden"):
        assert not imports(student_env, module), f"the student environment can import {module}"
    installed = run_in(student_env, "pip", "list", "--format=json", cwd="/").stdout
    names = {package["name"].lower() for package in json.loads(installed)}
    assert "cnn-internals-autograder" not in names
    leaked = [path for path in student_env.rglob("*.py") if path.name in ("pooling.py", "hidden.py")
              and "autograder" in path.parts]
    assert not leaked, f"reference or hidden-check files in the student environment: {leaked}"


def extension_states(output):
    """{name: "enabled" | "disabled"} from `jupyter server/labextension list` (colours removed)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return dict(re.findall(r"^\s*(\S+)(?: v\S+)? (enabled|disabled)\b", text, re.M))


def test_student_env_has_assignments_and_validate_but_no_formgrader(student_env):
    listing = run_in(student_env, "jupyter", "server", "extension", "list", cwd="/")
    servers = extension_states(listing.stdout + listing.stderr)
    assert servers.get("nbgrader.server_extensions.assignment_list") == "enabled", servers
    assert servers.get("nbgrader.server_extensions.validate_assignment") == "enabled", servers
    assert servers.get("nbgrader.server_extensions.formgrader") == "disabled", servers
    assert servers.get("nbgrader.server_extensions.course_list") == "disabled", servers

    listing = run_in(student_env, "jupyter", "labextension", "list", cwd="/")
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    assert re.search(r"@jupyter/nbgrader v\S+ enabled", text), text
    disabled = text.split("Disabled extensions:")[-1] if "Disabled extensions:" in text else ""
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
        assert plugin in disabled, f"{plugin} is not disabled in the student's JupyterLab:\n{text}"
    for plugin in ("@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"):
        assert plugin not in disabled


@pytest.fixture(scope="module")
def solved_lessons(tmp_path_factory):
    """Each lesson's release folder (notebook and helper files) with every exercise solved."""
    folder = tmp_path_factory.mktemp("solved")
    for lesson_id in RELEASED:
        shutil.copytree(ROOT / "release" / lesson_id, folder / lesson_id)
        nbformat.write(solved_release(lesson_id), str(folder / lesson_id / f"{lesson_id}.ipynb"))
    return folder


@pytest.mark.parametrize("lesson_id", RELEASED)
def test_release_notebooks_need_nothing_beyond_the_student_env(student_env, solved_lessons, lesson_id):
    # Every cell, in order, stops at the first error: the lesson's imports, figures, visible
    # tests and training run with the student environment and the helper files beside it.
    folder = solved_lessons / lesson_id
    executed = run_in(student_env, "jupyter", "nbconvert", "--to", "notebook", "--execute",
                      "--ExecutePreprocessor.timeout=300", "--output", "executed.ipynb",
                      f"{lesson_id}.ipynb", cwd=folder, timeout=600)
    assert executed.returncode == 0, executed.stderr[-3000:]


def test_validate_works_in_the_student_env(student_env, solved_lessons):
    folder = solved_lessons / RELEASED[0]
    validated = run_in(student_env, "nbgrader", "validate", f"{RELEASED[0]}.ipynb", cwd=folder, timeout=300)
    assert "Success! Your notebook passes all the tests." in validated.stdout, validated.stdout + validated.stderr


def test_grader_env_grades_a_notebook_and_has_no_jupyterlab(grader_env, tmp_path):
    for module in ("jupyterlab", "notebook", "nbgrader", "playwright", "pytest"):
        assert not imports(grader_env, module), f"the grader environment can import {module}"
    lesson_id = RELEASED[0]
    nbformat.write(solved_release(lesson_id), str(tmp_path / "submission.ipynb"))
    graded = run_in(grader_env, "python", "-m", "autograder", "grade", "submission.ipynb",
                    "-o", "results.json", cwd=tmp_path, timeout=300)
    assert graded.returncode == 0, graded.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["tests"], results
    assert results["score"] == results["max_score"] == sum(t["max_score"] for t in results["tests"]) > 0
