"""Build a Gradescope autograder bundle for one lesson.

The zip holds what Gradescope's image needs at its top level:
    setup.sh         installs Python, bubblewrap and the course's requirements
    run_autograder   grades /autograder/submission/*.ipynb into /autograder/results/results.json
    course/          this package, pyproject.toml, requirements.txt and release/<lesson>/
`run_autograder` honours AUTOGRADER_ROOT (default /autograder) so the bundle can
be tried on a simulated tree.
"""
import zipfile
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parents[1]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once while building the autograder image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
cd /autograder/source/course
/autograder/venv/bin/pip install -q -r requirements.txt
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
mkdir -p "$ROOT/results"
notebook=$(find "$ROOT/submission" -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | sort | head -n 1)
if [ -z "$notebook" ]; then
    echo '{{"score": 0, "output": "No .ipynb file was submitted: upload your {lesson}.ipynb.", "tests": []}}' \\
        > "$ROOT/results/results.json"
    exit 0
fi
cd "$ROOT/source/course"
"$PYTHON" -m autograder grade "$notebook" --lesson {lesson} -o "$ROOT/results/results.json"
"""


def course_files(lesson):
    """(path on disk, path in the zip) of everything the bundle carries."""
    files = [(COURSE_ROOT / name, f"course/{name}") for name in ("pyproject.toml", "requirements.txt")]
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
    files = course_files(lesson)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER.format(lesson=lesson))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope requires
            bundle.writestr(info, text)
        for path, arcname in files:
            bundle.write(path, arcname)
    return len(files) + 2
