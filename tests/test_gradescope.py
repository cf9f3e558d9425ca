"""The Gradescope bundle: it grades the right notebook, says what it did, and keeps the reference secret.

The bundle runs in a simulated /autograder tree (AUTOGRADER_ROOT), as Gradescope
runs it: `run_autograder` as root, the course files in source/course.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.__main__ import main
from autograder.gradescope import pick_notebook
from autograder.grading.lessons import get_lesson
from conftest import ROOT, venv_env
from lesson_tools import release_path, solved_release

LESSON = "01_pooling"


def bundle_tree(parent, lesson=LESSON):
    """A simulated /autograder: the bundle unzipped in source/, an empty submission/."""
    bundle = parent / "autograder.zip"
    assert main(["gradescope", lesson, "-o", str(bundle)]) == 0
    root = parent / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for name in ("run_autograder", "setup.sh"):
            assert archive.getinfo(name).external_attr >> 16 & 0o111, f"{name} is not executable"
    (root / "submission").mkdir()
    return root


def run_bundle(root, python=sys.executable, **env):
    """run_autograder on the simulated tree; returns results.json."""
    env = dict(venv_env(), AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=str(python), **env)
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def write(notebook, path):
    nbformat.write(notebook, str(path))
    return path


# -------------------------------------------------------------- which file is graded
def test_the_lesson_notebook_is_graded_whatever_its_name_and_the_output_names_every_file(tmp_path):
    root = bundle_tree(tmp_path)
    shutil.copy(ROOT / "notebooks" / "00_start_here.ipynb", root / "submission")
    write(solved_release(LESSON), root / "submission" / f"{LESSON} (1).ipynb")
    results = run_bundle(root)
    assert results["score"] == results["max_score"] == get_lesson(LESSON).points, results["output"]
    output = results["output"]
    assert "00_start_here.ipynb" in output and f"Graded: {LESSON} (1).ipynb" in output, output
    assert "Isolation of student code:" in output, output
    # what students see holds no hidden-check code and no line of the reference's code
    shown = json.dumps(results)
    assert "HIDDEN TESTS" not in shown and "check(" not in shown and "autograder." not in shown
    reference = (ROOT / "autograder" / "reference" / "pooling.py").read_text().splitlines()
    code = [line.strip() for line in reference if line.strip().startswith(("def ", "return "))]
    assert code and not [line for line in code if line in shown]


def test_several_different_notebooks_of_the_lesson_are_not_graded(tmp_path):
    write(solved_release(LESSON), tmp_path / "mine.ipynb")
    write(nbformat.read(str(release_path(LESSON)), as_version=4), tmp_path / f"{LESSON}.ipynb")
    path, lines = pick_notebook(tmp_path, LESSON)
    assert path is None
    assert "Nothing was graded: 2 different notebooks" in lines[-1]
    assert "mine.ipynb" in lines[-1] and f"{LESSON}.ipynb" in lines[-1]


def test_identical_copies_count_as_one_notebook(tmp_path):
    write(solved_release(LESSON), tmp_path / f"{LESSON}.ipynb")
    shutil.copy(tmp_path / f"{LESSON}.ipynb", tmp_path / f"{LESSON} (1).ipynb")
    path, lines = pick_notebook(tmp_path, LESSON)
    assert path == tmp_path / f"{LESSON} (1).ipynb"  # sorted order; the same bytes either way
    assert f"{LESSON}.ipynb is an identical copy" in lines[-1]


def test_metadata_wins_over_the_file_name_and_over_notebooks_that_only_define_the_functions(tmp_path):
    other = nbformat.read(str(release_path("02_cnn_backprop")), as_version=4)
    write(other, tmp_path / f"{LESSON}.ipynb")              # lesson 2 under lesson 1's name
    scratch = solved_release(LESSON)
    scratch.metadata.pop("autograder")                     # defines the functions, names no lesson
    write(scratch, tmp_path / "scratch.ipynb")
    write(solved_release(LESSON), tmp_path / "homework.ipynb")
    path, lines = pick_notebook(tmp_path, LESSON)
    assert path == tmp_path / "homework.ipynb"
    assert f"{LESSON}.ipynb (lesson 02_cnn_backprop)" in lines[0], lines
    # without the metadata, the notebook defining the functions is taken, and the output says why
    (tmp_path / "homework.ipynb").unlink()
    path, lines = pick_notebook(tmp_path, LESSON)
    assert path == tmp_path / "scratch.ipynb" and "defines the lesson's functions" in lines[-1]


def test_no_notebook_of_the_lesson_scores_zero_and_says_what_to_upload(tmp_path):
    root = bundle_tree(tmp_path)
    (root / "submission" / "notes.txt").write_text("my answers are in my head")
    shutil.copy(ROOT / "notebooks" / "00_start_here.ipynb", root / "submission")
    results = run_bundle(root)
    assert results["score"] == 0 and results["max_score"] == get_lesson(LESSON).points
    output = results["output"]
    assert "notes.txt (not a notebook)" in output and "00_start_here.ipynb" in output, output
    assert f"none of these files is the notebook of lesson {LESSON}" in output, output


def test_setup_sh_says_what_it_needs(tmp_path):
    root = bundle_tree(tmp_path)
    setup = root / "source" / "setup.sh"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), PATH=str(bin_dir))
    done = subprocess.run(["/bin/bash", str(setup)], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "needs apt-get" in done.stderr, done.stderr
    # an image whose python3 is too old: apt-get "works", python3 says 3.8
    (bin_dir / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "python3").write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.8.10'\nexit 1\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    done = subprocess.run(["/bin/bash", str(setup)], env=env, capture_output=True, text=True)
    assert done.returncode != 0, done.stdout
    assert "needs Python 3.10 or newer, but python3 is Python 3.8.10" in done.stderr, done.stderr
    assert not (root / "venv").exists()


# ------------------------------------------------------- no reference for student code
ATTACK = '''
import os
ROOT = {root!r}
reached = []
# 1. import the course package, as a student with it installed would
try:
    from autograder.reference import pooling as reference
    globals().update({{name: getattr(reference, name) for name in reference.__all__}})
    reached.append("import autograder.reference")
except Exception:
    pass
# 2. open the reference by its path in the bundle
for path in [ROOT + "/source/course/autograder/reference/pooling.py",
             ROOT + "/source/course/autograder/grading/suites/pooling.py"]:
    try:
        reached.append(path + ": " + open(path).read()[:300])
    except Exception:
        pass
# 3. walk the tree for any Python file that holds a solution
for folder, _, files in os.walk(ROOT):
    for name in files:
        if name.endswith(".py"):
            try:
                text = open(os.path.join(folder, name)).read()
            except Exception:
                continue
            if "def max_pool2d" in text:
                reached.append(name + ": " + text[:300])
# 4. print whatever it got through an exception message, which the output shows
raise RuntimeError("LEAK " + repr(reached) + " CANARY " + open(ROOT + "/public.txt").read())
'''


def python_for_another_uid(folder):
    """A venv anyone can run: Debian's python3 of this minor version, with this venv's packages.

    The test's own interpreter may live where other users cannot read (e.g. pyenv
    under /root), so the child could not drop to an unprivileged uid with it. The
    course package is left out, as setup.sh leaves it out of /autograder/venv.
    """
    system_python = Path(f"/usr/bin/python3.{sys.version_info.minor}")
    if not system_python.exists():
        pytest.skip(f"needs {system_python} (a Python other users can run, of this test's version)")
    venv = folder / "venv"
    subprocess.run([str(system_python), "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / f"python3.{sys.version_info.minor}" / "site-packages"
    for package in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not package.name.startswith(("__editable__", "cnn_internals_autograder", "_distutils_hack")) \
                and package.suffix != ".pth":
            (site / package.name).symlink_to(package)
    return venv / "bin" / "python"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="Gradescope runs the bundle as root; only root can drop student code to "
                           "another uid and make the course files root-only")
def test_without_bubblewrap_student_code_cannot_read_the_reference():
    # A world-readable tree (pytest's tmp_path is private to root, which would hide everything anyway).
    folder = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        folder.chmod(0o755)
        python = python_for_another_uid(folder)
        root = bundle_tree(folder)
        root.chmod(0o755)
        (root / "public.txt").write_text("readable-by-all")
        (root / "public.txt").chmod(0o644)
        honest = nbformat.read(str(release_path(LESSON)), as_version=4)
        attacker = nbformat.read(str(release_path(LESSON)), as_version=4)
        attacker.cells.append(nbformat.v4.new_code_cell(ATTACK.format(root=str(root))))

        scores = {}
        for name, notebook in {"honest": honest, "attacker": attacker}.items():
            for old in (root / "submission").iterdir():
                old.unlink()
            write(notebook, root / "submission" / f"{LESSON}.ipynb")
            # the checkout on PYTHONPATH too, as an instructor's shell may have it:
            # the child's import path must still leave it out
            results = run_bundle(root, python, AUTOGRADER_NO_SANDBOX="1", PYTHONPATH=str(ROOT))
            scores[name] = results["score"]
        text = json.dumps(results)
        assert "CANARY readable-by-all" in text, "the attack's message must reach the output"
        assert "LEAK []" in text, text[:3000]
        assert "def max_pool2d" not in text
        assert scores["attacker"] <= scores["honest"], scores
        assert "an unprivileged uid, without bubblewrap" in results["output"], results["output"]
        assert "readable by root only" in results["output"], results["output"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("lesson", ["02_cnn_backprop", "03_conv_variants", "04_normalization",
                                    "05_making_it_fast"])
def test_each_lessons_bundle_gives_its_solution_full_marks_and_its_release_zero(tmp_path, lesson):
    # lesson 1 is graded through the bundle by the tests above
    root = bundle_tree(tmp_path, lesson)
    submission = write(solved_release(lesson), root / "submission" / f"{lesson}.ipynb")
    results = run_bundle(root)
    assert results["score"] == results["max_score"] == get_lesson(lesson).points, results["output"]
    shutil.copy(release_path(lesson), submission)
    results = run_bundle(root)
    assert results["score"] == 0 and results["max_score"] == get_lesson(lesson).points, results["output"]
