"""Gradescope: build a lesson's autograder bundle, and grade a submission inside it.

The zip holds what Gradescope's image needs at its top level:
    setup.sh         run once, as root, while Gradescope builds the image: checks that
                     it has apt-get and Python >= 3.10, installs bubblewrap and the
                     grader environment (deploy/requirements-grader.txt) into
                     /autograder/venv, and makes the course files readable by root only
    run_autograder   run, as root, for every submission: `python -m autograder.gradescope
                     LESSON`, from /autograder/source/course
    course/          this package, pyproject.toml, deploy/requirements-grader.txt and
                     release/<lesson>/ (the helper files the notebook imports)

Which file is graded (`pick_notebook`): the notebook whose own metadata names the
lesson (`metadata.autograder.lesson`, set in every release notebook), whatever its
file name. When no notebook carries that metadata, a notebook that defines the
lesson's exercise functions is taken instead. Exactly one such notebook is graded;
several different ones are not graded at all (score 0, the output lists them and
asks for one), and identical copies count as one. The visible `output` of
results.json names every file received, the one graded, and the isolation student
code ran under.

Isolation: the grader runs as root. With bubblewrap, student code sees only the
system, Python and the submission. Where bubblewrap cannot create namespaces
(common inside Docker), student code still runs as a fresh unprivileged uid
(autograder.grading.runner), and the bundle's files, reference solutions and
hidden checks included, are readable by root only: the course package is run from
/autograder/source/course (mode 0700), never installed into the shared venv.

`run_autograder` honours AUTOGRADER_ROOT (default /autograder) and AUTOGRADER_PYTHON,
so the bundle can be tried on a simulated tree (tests/test_gradescope.py).
"""
import argparse
import json
import os
import stat
import sys
import zipfile
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[1]
GRADER_REQUIREMENTS = Path("deploy") / "requirements-grader.txt"
MAX_LISTED = 40  # files named in the output; an upload of a whole folder is summed up after that

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the autograder image.
# Needs: a Debian or Ubuntu base image (apt-get) whose python3 is 3.10 or newer
# (Gradescope's Ubuntu 22.04 image or newer). Installs bubblewrap and only the
# grader environment (no JupyterLab, no browser).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
fail() { echo "setup.sh: $*" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 ||
    fail "needs apt-get (a Debian or Ubuntu base image) to install python3, python3-venv and bubblewrap"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip bubblewrap
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    fail "needs Python 3.10 or newer, but python3 is $(python3 --version 2>&1); choose Gradescope's Ubuntu 22.04 (or newer) base image"
python3 -m venv "$ROOT/venv"
# The course package itself is not installed: run_autograder runs it from
# source/course, which only root can read, so student code cannot import it.
grep -v -E '^[[:space:]]*(-e[[:space:]]|\\.[[:space:]]*$|\\.\\[)' \\
    "$ROOT/source/course/deploy/requirements-grader.txt" > "$ROOT/requirements-grader.txt"
"$ROOT/venv/bin/pip" install -q -r "$ROOT/requirements-grader.txt"
chmod -R go-rwx "$ROOT/source"
# student code runs as another uid: it must reach the venv's Python and packages
chmod go+rx "$ROOT"
chmod -R go+rX "$ROOT/venv"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this, as root, for every submission.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
# reference solutions and hidden checks: root only (again, in case the image lost the modes)
chmod -R go-rwx "$ROOT/source"
cd "$ROOT/source/course" || exit 1
exec "$PYTHON" -m autograder.gradescope {lesson} --root "$ROOT"
"""


# ------------------------------------------------------------------ building
def course_files(lesson):
    """(path on disk, path in the zip) of everything the bundle carries."""
    files = [(COURSE_ROOT / name, f"course/{name}") for name in ("pyproject.toml", GRADER_REQUIREMENTS)]
    for path in sorted((COURSE_ROOT / "autograder").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append((path, f"course/{path.relative_to(COURSE_ROOT)}"))
    for path in sorted((COURSE_ROOT / "release" / lesson).glob("*")):
        if path.is_file():
            files.append((path, f"course/{path.relative_to(COURSE_ROOT)}"))
    return files


def build_bundle(lesson, output):
    """Write the zip for `lesson` to `output`; returns the number of files in it."""
    if not (COURSE_ROOT / "release" / lesson).is_dir():
        raise FileNotFoundError(f"no release/{lesson}: run `python -m autograder release {lesson}` first")
    if not (COURSE_ROOT / GRADER_REQUIREMENTS).is_file():
        raise FileNotFoundError(f"no {GRADER_REQUIREMENTS}: the grader environment setup.sh installs")
    files = course_files(lesson)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(lesson=lesson))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope requires
            bundle.writestr(info, text)
        for path, arcname in files:
            bundle.write(path, str(arcname))
    return len(files) + 2


# ------------------------------------------------------------------- grading
def files_received(submission):
    """Every file uploaded (relative paths, sorted), without editor checkpoints."""
    return sorted(p.relative_to(submission).as_posix() for p in submission.rglob("*")
                  if p.is_file() and ".ipynb_checkpoints" not in p.parts)


def lesson_of(path):
    """(lesson id or None, how it was recognised or why not) for one uploaded file."""
    from .grading.notebook import NotANotebook, metadata_of, read_notebook, recognise_lesson

    if path.suffix != ".ipynb":
        return None, "not a notebook"
    try:
        notebook = read_notebook(path)
    except NotANotebook as problem:
        return None, str(problem)
    declared = metadata_of(notebook).get("autograder", {})
    if isinstance(declared, dict) and declared.get("lesson"):
        return str(declared["lesson"]), "metadata"
    try:
        return recognise_lesson(notebook).id, "functions"
    except NotANotebook:
        return None, "a notebook of no lesson"


def pick_notebook(submission, lesson_id):
    """(path to grade or None, lines for the output): see the module docstring for the rule."""
    names = files_received(submission)
    found = {name: lesson_of(submission / name) for name in names}
    described = []
    for name in names:
        lesson, how = found[name]
        described.append(f"{name} ({'lesson ' + lesson if lesson else how})")
    if len(described) > MAX_LISTED:
        described[MAX_LISTED:] = [f"and {len(described) - MAX_LISTED} more"]
    lines = [f"Files received: {', '.join(described) if described else 'none'}."]
    chosen = [n for n in names if found[n] == (lesson_id, "metadata")]
    how = "its metadata names the lesson"
    if not chosen:
        chosen = [n for n in names if found[n] == (lesson_id, "functions")]
        how = "it defines the lesson's functions (its metadata names no lesson)"
    if len(chosen) > 1 and len({(submission / n).read_bytes() for n in chosen}) == 1:
        how += f"; {', '.join(chosen[1:])} {'is an identical copy' if len(chosen) == 2 else 'are identical copies'}"
        chosen = chosen[:1]
    if len(chosen) == 1:
        return submission / chosen[0], lines + [f"Graded: {chosen[0]} ({how})."]
    if chosen:
        return None, lines + [f"Nothing was graded: {len(chosen)} different notebooks of lesson {lesson_id} "
                              f"were uploaded ({', '.join(chosen)}). Upload exactly one and resubmit."]
    return None, lines + [f"Nothing was graded: none of these files is the notebook of lesson {lesson_id}. "
                          f"Upload your {lesson_id}.ipynb (the one you fetched or downloaded, with "
                          f"your answers) and resubmit."]


def course_files_private():
    """True when the course folder and its parent are closed to every user but the owner."""
    return all(stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0 for folder in (COURSE_ROOT, COURSE_ROOT.parent))


def grade_submission(root, lesson_id):
    """results.json's content for the submission in root/submission."""
    from .grading.grader import grade_notebook
    from .grading.lessons import get_lesson

    lesson = get_lesson(lesson_id)
    path, lines = pick_notebook(Path(root) / "submission", lesson_id)
    if path is None:
        return {"score": 0, "max_score": lesson.points, "output": "\n".join(lines), "tests": []}
    result = grade_notebook(path, lesson_hint=lesson_id)
    results = result.to_gradescope()
    privacy = ("; the course files (reference solutions, hidden checks) are readable by root only"
               if course_files_private() else "; the course files are readable by other users")
    lines.append(f"Isolation of student code: {result.sandbox or 'none (nothing ran)'}{privacy}.")
    results["output"] = "\n".join(lines + [results["output"]])
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope",
                                     description="Grade root/submission into root/results/results.json.")
    parser.add_argument("lesson", help="lesson id, e.g. 01_pooling")
    parser.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    args = parser.parse_args(argv)
    results = grade_submission(args.root, args.lesson)
    folder = Path(args.root) / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(results["output"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
