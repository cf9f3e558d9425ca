"""The catalog of hostile and broken submissions, one case each, on the toy lesson.

Every case must end with a result and a line saying what happened, earn
exactly what its honest part earns, and leave the grader unharmed: a file the
grader owns outside the sandbox is unchanged, nothing escaped to disk, and the
next student's submission, graded right after, gets its normal score.

The toy lesson (tests/toy_suite.py) is worth 6 points: scale 4 (shape 1,
values 2, input left unmodified 1) and pair_sum 2. So a correct notebook
earns 6, one whose scale returns zeros of the right shape earns 4, and one
whose scale fails outright earns 2.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import nbformat
import pytest

from autograder.grading.child import MAX_PROCESSES, MAX_TEXT
from autograder.grading.grader import grade_notebook
from autograder.grading.notebook import nbgrader_meta
from autograder.grading.runner import Limits, child_uid
from conftest import CORRECT_TOY, HAVE_BWRAP, ROOT, copy_course, make_notebook, requires_bwrap
from lesson_tools import LESSON_IDS, release_path, solved_release

# Small limits keep every case fast; 512 MiB is far above what the child needs (~120 MB).
LIMITS = Limits(cell_seconds=2, call_seconds=1, memory_bytes=512 * 2**20)

SANDBOXED = HAVE_BWRAP and os.environ.get("AUTOGRADER_NO_SANDBOX") != "1"  # what grading will use
requires_unprivileged_child = pytest.mark.skipif(
    child_uid(SANDBOXED) is None,
    reason="the child cannot run as an unprivileged uid here (grader not root, or Python not readable "
           "by other users): its processes and scratch space cannot be capped")

WRONG_SCALE = CORRECT_TOY.replace("return x * factor", "return x * 0")  # honest part: 3 points (an untouched input counts only beside a right value)
ZEROS = "got out = [0., 0., 0., 0.]"  # the values check's feedback when scale returns x * 0


@dataclass
class Case:
    cells: tuple                       # the student's code cells
    score: float                       # what the honest part of it earns
    says: str                          # text the student is told (feedback, notes or output)
    hidden: tuple = ()                 # hidden-check cells added after the code, as released
    edit: Optional[Callable] = None    # changes to the notebook before it is submitted
    limits: Optional[Limits] = None    # LIMITS unless the case needs others


def spy(attempt):
    """A student who tries `attempt` to collect loot and scales by 0 unless it got some.

    A cheat that worked would return x * factor and earn the 2 values points:
    the score would be 6, not 4.
    """
    return (textwrap.dedent(attempt) + textwrap.dedent("""
        import numpy as np
        def scale(x, factor=2.0):
            return x * factor if stolen else x * 0
        def pair_sum(a, b):
            return a + b, a - b
        print("found:", stolen)
        """),)


GRAB = """
import glob, os
stolen = []
def grab(path):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(100)
        stolen.append(path)
    except OSError:
        pass
"""

FIND_THE_PIPE = """
import json, struct, sys
def harness_local(name):
    frame = sys._getframe()
    while name not in frame.f_locals:
        frame = frame.f_back
    return frame.f_locals[name]
"""


def hidden_cells(notebook):
    return [cell for cell in notebook.cells if nbgrader_meta(cell).get("grade")]


def set_meta(key, value):
    def edit(notebook):
        for cell in hidden_cells(notebook):
            cell.metadata["nbgrader"][key] = value
    return edit


def strip_meta(notebook):
    for cell in hidden_cells(notebook):
        del cell.metadata["nbgrader"]


def delete_hidden(notebook):
    notebook.cells = [cell for cell in notebook.cells if not nbgrader_meta(cell).get("grade")]


def print_a_pass(notebook):
    for cell in hidden_cells(notebook):
        cell.source = 'print("all tests passed")'


BOTH = ("scale", "pair_sum")

CATALOG = {
    # ------------------------------------------------------------- runaway code
    "correct function then while True": Case(
        (CORRECT_TOY, "while True:\n    pass"), 6, "cell 2 of 2: CellTimeoutError: did not finish within 2 s"),
    "loop that catches KeyboardInterrupt": Case((CORRECT_TOY, """
import time
while True:
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        print("you cannot stop me")
"""), 6, "did not finish within 2 s"),
    "sys.exit()": Case((CORRECT_TOY, "import sys\nsys.exit()"), 6, "cell 2 of 2: SystemExit"),
    "os._exit(0)": Case((CORRECT_TOY, "import os\nos._exit(0)"), 6, "exited with code 0"),
    "segfault through ctypes": Case((CORRECT_TOY, "import ctypes\nctypes.string_at(0)"), 6,
                                    "crashed with SIGSEGV (segmentation fault)"),
    "segfault inside a graded function": Case((CORRECT_TOY + """
import ctypes
def scale(x, factor=2.0):
    ctypes.string_at(0)
""",), 2, "scale failed: the process running it crashed with SIGSEGV"),
    "memory bomb": Case((CORRECT_TOY, """
hoard = []
for size in (2**20, 2**12, 64):  # down to the last crumbs, so later calls would fail
    try:
        while True:
            hoard.append(bytearray(size))
    except MemoryError:
        pass
"""), 6, "cell 2 of 2: MemoryError: the cell left the process without free memory"),
    "memory bomb inside a graded function": Case((CORRECT_TOY + """
def scale(x, factor=2.0):
    return np.ones(2**40)
""",), 2, "MemoryError"),
    "filling the sandbox's /tmp, which is RAM": Case((CORRECT_TOY, """
chunk = bytes(2**25)
for i in range(40):  # 1.25 GiB if nothing stopped it
    with open(f"/tmp/fill{i}", "wb") as handle:
        handle.write(chunk)
"""), 6, "No space left on device"),
    "printing 100 MB": Case((CORRECT_TOY, """
import sys
print("x" * 100_000_000)
for _ in range(1000):
    sys.stderr.write("y" * 100_000)
"""), 6, "more characters of output not shown"),
    "printing 100 MB inside a graded function": Case((CORRECT_TOY + """
def scale(x, factor=2.0):
    print("x" * 100_000_000)
    return x * factor
""",), 6, "[PASS] values"),
    "writing files outside its folder": Case(("""
wrote = []
for target in [GRADER_FILE, "../escaped.txt", "/tmp/escaped.txt", REPO + "/escaped.txt"]:
    try:
        with open(target, "w") as handle:
            handle.write("overwritten by a student")
        wrote.append(target)
    except OSError:
        pass
print("wrote:", wrote)
""", CORRECT_TOY), 6, "wrote:"),  # what counts is checked outside: see assert_grader_unharmed
    "garbage written on the grader's pipe": Case((CORRECT_TOY, FIND_THE_PIPE + """
outbox = harness_local("outbox")
outbox.write(b"\\xff" * 64)
outbox.flush()
"""), 6, "cell 2 of 2: KernelDied: the process running it sent a reply of 4294967295 bytes or more"),
    "deeply nested JSON written on the grader's pipe": Case((CORRECT_TOY, FIND_THE_PIPE + """
nested = b"[" * 100_000 + b"]" * 100_000
outbox = harness_local("outbox")
outbox.write(struct.pack(">I", len(nested)) + nested)
outbox.flush()
"""), 6, "cell 2 of 2: KernelDied: the process running it answered with a malformed message"),
    "a flood of large arrays written on the grader's pipe": Case((CORRECT_TOY + FIND_THE_PIPE + """
import io
def scale(x, factor=2.0):
    data = np.zeros(25 * 2**20)  # 200 MiB, announced 100 times: 20 GiB for the grader to hold
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(head, np.lib.format.header_data_from_array_1_0(data))
    fake = json.dumps({"ok": True, "n_arrays": 100, "seq": harness_local("header")["seq"]}).encode()
    outbox = harness_local("outbox")
    outbox.write(struct.pack(">I", len(fake)) + fake)
    for _ in range(100):
        outbox.write(struct.pack(">I", len(head.getvalue()) + data.nbytes) + head.getvalue())
        outbox.write(memoryview(data).cast("B"))
    outbox.flush()
""",), 2, "larger than allowed", limits=Limits(cell_seconds=2, call_seconds=10)),  # 256 MB to read first
    "a reply forged on the grader's pipe": Case((CORRECT_TOY + FIND_THE_PIPE + """
def scale(x, factor=2.0):
    fake = json.dumps({"ok": True, "n_arrays": 0, "seq": harness_local("header")["seq"]}).encode()
    outbox = harness_local("outbox")
    outbox.write(struct.pack(">I", len(fake)) + fake)
    outbox.flush()
    return x * factor
""",), 2, "the sandbox sent 0 arrays instead of 1"),

    # ------------------------------------------------------------- fake results
    "__eq__ always true": Case((CORRECT_TOY.replace(
        "return x * factor", "return type('Liar', (), {'__eq__': lambda s, o: True})()"),),
        2, "expected a NumPy array"),
    "ndarray subclass lying in comparisons and ufuncs": Case((CORRECT_TOY + """
class Liar(np.ndarray):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array_ufunc__(self, *args, **kwargs): return True
    def __array_function__(self, *args, **kwargs): return True
def scale(x, factor=2.0):
    return np.zeros_like(x).view(Liar)
""",), 3, ZEROS),
    "NaN": Case((CORRECT_TOY.replace("return x * factor", "return np.full(x.shape, np.nan)"),),
                3, "got out = [nan, nan, nan, nan]"),
    "inf": Case((CORRECT_TOY.replace("return x * factor", "return np.full(x.shape, np.inf)"),),
                3, "got out = [inf, inf, inf, inf]"),
    "list of strings": Case((CORRECT_TOY.replace("return x * factor",
                                                 "return [str(v) for v in x * factor]"),),
                            2, "has dtype <U"),
    "object dtype": Case((CORRECT_TOY.replace("return x * factor",
                                              "return np.array(list(x * factor) + [None])[:-1]"),),
                         2, "has dtype object"),
    "complex dtype": Case((CORRECT_TOY.replace("return x * factor", "return (x * factor).astype(complex)"),),
                          2, "complex dtype"),

    # ----------------------------------------------------- reaching for the answers
    "importing autograder": Case(spy("""
stolen = []
for name in ("autograder", "autograder.reference", "autograder.grading.suites.variants"):
    try:
        __import__(name)
        stolen.append(name)
    except ImportError:
        pass
"""), 3, "found: []"),
    "importing the reference by its path on disk": Case(spy("""
import sys
sys.path[:0] = [REPO, REPO + "/tests"]
stolen = []
for name in ("autograder.reference", "toy_suite"):
    try:
        __import__(name)
        stolen.append(name)
    except ImportError:
        pass
"""), 3, "found: []"),
    "reading the reference source by absolute path": Case(spy(GRAB + """
grab(REPO + "/autograder/reference/__init__.py")
grab(REPO + "/autograder/reference/conv.py")
grab(REPO + "/tests/toy_suite.py")
"""), 3, "found: []"),
    "reading gradebook.db and source/": Case(spy(GRAB + """
grab(REPO + "/gradebook.db")
grab(REPO + "/source")
grab(REPO + "/source/03_conv_variants/03_conv_variants.ipynb")
"""), 3, "found: []"),
    "reading other students' submissions": Case(spy(GRAB + """
grab("../alice/toy/toy.ipynb")          # relative, from where the notebook was
grab("../../alice/toy/toy.ipynb")
grab(SIBLING)                           # absolute
grab(os.path.dirname(os.path.dirname(SIBLING)))
for folder in glob.glob("/tmp/autograder-*"):  # other submissions being graded
    if not os.path.samefile(folder, "."):
        grab(folder)
"""), 3, "found: []"),
    "inspecting the grader's frames": Case(("""
import gc, inspect, sys
import numpy as np
def grader_traces():
    traces = [name for name in sys.modules if name.startswith(("autograder", "toy_suite"))]
    frame = sys._getframe()
    while frame is not None:
        traces += [n for n in frame.f_locals if n in ("expected", "reference", "exercise", "lesson")]
        frame = frame.f_back
    traces += [f.filename for f in inspect.stack() if "toy_suite" in f.filename or "/grading/" in f.filename]
    traces += [repr(o) for o in gc.get_objects()
               if callable(o) and str(getattr(o, "__module__", "")).startswith(("autograder", "toy_suite"))]
    return traces
stolen = grader_traces()
print("found:", stolen)
def scale(x, factor=2.0):
    stolen.extend(grader_traces())  # at call time the grader is the caller, if anywhere
    return x * factor if stolen else x * 0
def pair_sum(a, b):
    return a + b, a - b
""",), 3, "found: []"),
    "monkeypatching numpy and builtins": Case((WRONG_SCALE, """
import builtins
np.allclose = np.array_equal = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), bool)
np.testing.assert_allclose = np.testing.assert_array_equal = lambda *args, **kwargs: None
builtins.abs = lambda value: 0
"""), 3, ZEROS),
    "IPython input transformer blanking the checks": Case((WRONG_SCALE, """
get_ipython().input_transformers_post.append(
    lambda lines: ["pass\\n"] if any("check(" in line for line in lines) else lines)
"""), 3, ZEROS, hidden=BOTH),
    "custom exception handlers": Case((CORRECT_TOY.replace(
        "return x * factor", "raise ValueError('boom')"), """
import sys
get_ipython().set_custom_exc((BaseException,), lambda shell, etype, value, tb, tb_offset=None: None)
sys.excepthook = lambda *args: None
"""), 2, "ValueError: boom"),
    "hidden checks edited to print a pass": Case((WRONG_SCALE,), 3, ZEROS, hidden=BOTH, edit=print_a_pass),
    "hidden checks deleted": Case((WRONG_SCALE,), 3, ZEROS, hidden=BOTH, edit=delete_hidden),
    "hidden checks' grade_id renamed": Case((WRONG_SCALE,), 3, ZEROS, hidden=BOTH,
                                            edit=set_meta("grade_id", "my_own")),
    "hidden checks' nbgrader metadata removed": Case((WRONG_SCALE,), 3, "NameError", hidden=BOTH,
                                                     edit=strip_meta),
    "hidden checks turned into answer cells": Case((WRONG_SCALE,), 3, "NameError", hidden=BOTH,
                                                   edit=set_meta("solution", True)),
    "points raised in the metadata": Case((WRONG_SCALE,), 3, ZEROS, hidden=BOTH,
                                          edit=set_meta("points", 1000)),
}

MARKS = {name: [requires_bwrap] for name in (
    "writing files outside its folder", "importing the reference by its path on disk",
    "reading the reference source by absolute path", "reading gradebook.db and source/",
    "reading other students' submissions")}
MARKS["filling the sandbox's /tmp, which is RAM"] = [requires_bwrap, requires_unprivileged_child]


@pytest.fixture
def course_files(tmp_path):
    """Files around the submission: one the grader owns, and another student's notebook."""
    grader_file = tmp_path / "grader_owned.txt"
    grader_file.write_text("the grader's own data")
    for student in ("alice", "bob"):
        (tmp_path / "submitted" / student / "toy").mkdir(parents=True)
    sibling = make_notebook(tmp_path / "submitted" / "alice" / "toy" / "toy.ipynb", CORRECT_TOY)
    return {"GRADER_FILE": grader_file, "SIBLING": sibling, "REPO": ROOT,
            "student": tmp_path / "submitted" / "bob" / "toy" / "toy.ipynb"}


def submission(case, files):
    """Write the case's notebook where bob's submission would be, with the paths filled in."""
    sources = list(case.cells)
    for name in ("GRADER_FILE", "SIBLING", "REPO"):
        sources = [s.replace(name, repr(str(files[name]))) for s in sources]
    path = make_notebook(files["student"], *sources, hidden=case.hidden)
    if case.edit:
        notebook = nbformat.read(str(path), as_version=4)
        case.edit(notebook)
        nbformat.write(notebook, str(path))
    return path


def told(result):
    """Everything the student is told: the error, each check's feedback, cell notes and outputs."""
    parts = [result.error, result.notebook_notes(), *(e.feedback() for e in result.exercises)]
    parts += [cell.stdout + cell.stderr + cell.traceback for cell in result.cells]
    return "\n".join(parts)


ESCAPES = [Path("/tmp/escaped.txt"), ROOT / "escaped.txt"]


def assert_grader_unharmed(files):
    escaped = [p for p in ESCAPES + [files["student"].parent.parent / "escaped.txt"] if p.exists()]
    for path in escaped:  # removed first, so a failure here does not fail the next case too
        path.unlink()
    assert not escaped, f"student code wrote outside the sandbox: {escaped}"
    assert files["GRADER_FILE"].read_text() == "the grader's own data"
    sibling = grade_notebook(files["SIBLING"], limits=LIMITS)
    assert sibling.score == 6, told(sibling)


@pytest.mark.parametrize("name", [pytest.param(name, marks=MARKS.get(name, [])) for name in CATALOG])
def test_hostile_submission_earns_its_honest_score_and_harms_nothing(name, toy_lesson, course_files):
    case = CATALOG[name]
    result = grade_notebook(submission(case, course_files), limits=case.limits or LIMITS)
    text = told(result)
    assert (result.score, result.max_score) == (case.score, 6), text
    assert case.says in text, text
    assert len(text) < 10 * MAX_TEXT, "the feedback must stay readable whatever the code printed"
    assert_grader_unharmed(course_files)


# ------------------------------------------------------------------ process bombs
BOMB = """
import os
forked = 0
for _ in range(1000):   # bounded: the test must not endanger the machine if containment fails
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        os.setsid()     # out of the child's session: killing its process group misses these
        os.execv("/bin/sleep", ["sleep", "MARK"])
    forked += 1
print("forked:", forked)
"""


def sleepers(mark):
    """Pids of the `sleep <mark>` processes still running on the machine."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes() == f"sleep\0{mark}\0".encode():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def run_bomb(tmp_path, mark):
    path = make_notebook(tmp_path / "bomb.ipynb", CORRECT_TOY, BOMB.replace("MARK", mark))
    try:
        result = grade_notebook(path, limits=LIMITS)
        deadline = time.monotonic() + 5  # the kernel reaps a dead namespace's processes quickly
        while sleepers(mark) and time.monotonic() < deadline:
            time.sleep(0.1)
        return result, sleepers(mark)
    finally:
        for pid in sleepers(mark):  # only if containment failed: end what this test started
            os.kill(pid, 9)


@pytest.mark.skipif(not SANDBOXED and child_uid(False) is None,
                    reason="neither bubblewrap's process namespace nor an unprivileged uid is available "
                           "to find the processes that left the child's session")
def test_a_bounded_fork_bomb_leaves_no_process_behind(toy_lesson, tmp_path):
    result, left = run_bomb(tmp_path, "4321.125")
    assert result.score == 6, told(result)  # the bomb's cell may time out: it costs that cell only
    assert not left, f"{len(left)} processes of the student outlived its grading"


@requires_unprivileged_child
def test_a_fork_bomb_is_capped_at_the_process_limit(toy_lesson, tmp_path):
    result, left = run_bomb(tmp_path, "4321.25")
    forked = int(re.search(r"forked: (\d+)", told(result)).group(1))
    assert forked < MAX_PROCESSES, f"the child forked {forked} processes"
    assert result.score == 6 and not left


# ------------------------------------------------------------------ broken files
def as_json(notebook):
    return json.dumps(notebook).encode()


def toy_json(change=None):
    """The correct toy notebook as a dict, changed by `change`, as bytes."""
    notebook = json.loads(nbformat.writes(nbformat.v4.new_notebook(
        metadata={"autograder": {"lesson": "toy"}}, cells=[nbformat.v4.new_code_cell(CORRECT_TOY)])))
    if change:
        change(notebook)
    return as_json(notebook)


def nbformat3_toy():
    v3 = nbformat.v3
    worksheet = v3.new_worksheet(cells=[v3.new_code_cell(input=CORRECT_TOY)])
    notebook = v3.new_notebook(worksheets=[worksheet], metadata={"autograder": {"lesson": "toy"}})
    return nbformat.writes(notebook, version=3).encode()


def duplicate_ids(notebook):
    notebook["cells"] += [dict(notebook["cells"][0], source="x = 1")]
    for cell in notebook["cells"]:
        cell["id"] = "same"


def drop_ids(notebook):
    for cell in notebook["cells"]:
        del cell["id"]


@pytest.mark.parametrize("content, reason", [
    (b"{not json", "is not valid JSON"),
    (b"", "is empty (0 bytes)"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply"),
    (toy_json(lambda nb: nb["cells"][0].pop("cell_type")), "cell 0 is not a notebook cell (no cell_type)"),
    (toy_json(lambda nb: nb.pop("nbformat")), "has nbformat None"),
], ids=["not JSON", "empty", "nested too deeply", "cell without a type", "no nbformat version"])
def test_a_corrupt_file_gets_zero_and_a_one_line_reason(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    result = grade_notebook(path)
    assert result.score == 0 and reason in result.error and "\n" not in result.error


@pytest.mark.parametrize("content", [
    nbformat3_toy(), toy_json(drop_ids), toy_json(duplicate_ids),
    toy_json(lambda nb: nb["cells"][0]["metadata"].update(tags="skip-grading")),
], ids=["nbformat 3 (upgraded)", "missing cell ids", "duplicated cell ids", "tags not a list"])
def test_a_readable_but_unusual_file_is_graded_normally(toy_lesson, tmp_path, content, capfd):
    path = tmp_path / "odd.ipynb"
    path.write_bytes(content)
    result = grade_notebook(path, limits=LIMITS)
    assert result.score == 6, told(result)
    assert "Warning" not in capfd.readouterr().err  # nbformat's id warnings are not the student's news


def test_a_50_mb_notebook_is_graded_in_bounded_time(toy_lesson, tmp_path):
    """Under MAX_NOTEBOOK_BYTES (100 MB) a notebook is graded, not refused: only its code
    cells travel to the sandbox, so a big output costs reading the JSON (a second or two)."""
    notebook = nbformat.v4.new_notebook(metadata={"autograder": {"lesson": "toy"}})
    plot = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo" * (50 * 2**20 // 11)})
    notebook.cells = [nbformat.v4.new_code_cell(CORRECT_TOY), nbformat.v4.new_code_cell("1", outputs=[plot])]
    path = tmp_path / "big.ipynb"
    nbformat.write(notebook, str(path))
    assert path.stat().st_size > 50 * 2**20
    start = time.monotonic()
    result = grade_notebook(path, limits=LIMITS)
    assert result.score == 6, told(result)
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("content, reason", [(b"", "is empty"), (b"\x89PNG\r\n", "is not valid JSON")])
def test_cli_reports_a_corrupt_file_in_one_line_with_exit_zero(tmp_path, content, reason):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(content)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "-o",
                           str(tmp_path / "results.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("not graded:") and reason in done.stdout
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 0


# ------------------------------------------------------------- nbgrader autograde
NBGRADER_LESSON = "02_cnn_backprop"


def nbgrader(course, *args):
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course,
                          env=dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep
                                   + os.environ.get("PATH", "")),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def tamper_with_hidden_cells(notebook):
    """Delete the first hidden cell, rename the second's grade_id, make the third an answer cell.

    Each alone made nbgrader fail the whole submission (rename: CheckCellMetadata;
    answer flag: inconsistent checksums) or silently drop the cell's points (delete).
    """
    first, second, third = hidden_cells(notebook)[:3]
    notebook.cells.remove(first)
    second.metadata.nbgrader["grade_id"] = "my_own_check"
    third.metadata.nbgrader["solution"] = True


NBGRADER_SPY = """
import os
imported, found = [], [p for p in ("source", "gradebook.db", "submitted") if os.path.exists(COURSE + "/" + p)]
try:
    import autograder  # nbgrader puts the course folder on sys.path: it must not reach the sandbox
    imported.append("autograder")
except ImportError:
    pass
print("imported:", imported, "found:", found)
"""


def hostile_nbgrader_submissions(lesson_id, course):
    """Solved notebooks made hostile (worth full points all the same), and a corrupt file."""
    hangs, tampered = solved_release(lesson_id), solved_release(lesson_id)
    hangs.cells.insert(1, nbformat.v4.new_code_cell("while True:\n    pass"))
    hangs.cells.insert(1, nbformat.v4.new_code_cell(NBGRADER_SPY.replace("COURSE", repr(str(course)))))
    tamper_with_hidden_cells(tampered)
    return {"hangs": nbformat.writes(hangs).encode(), "tampered": nbformat.writes(tampered).encode(),
            "corrupt": b"{not a notebook"}


@pytest.mark.skipif(NBGRADER_LESSON not in LESSON_IDS, reason=f"lesson {NBGRADER_LESSON} is not in source/")
def test_nbgrader_autograde_grades_hostile_and_corrupt_submissions(tmp_path):
    from nbgrader.api import Gradebook
    course = copy_course(tmp_path / "course")
    config = course / "nbgrader_config.py"
    assert "RepairGradeCells" in config.read_text() and "replace_unreadable_submissions" in config.read_text(), \
        "nbgrader_config.py must wire in the repairs of autograder/nbgrader_plugin.py (see its docstring)"
    config.write_text(config.read_text() + "\nc.GradeWithEngine.cell_timeout = 2\n"
                                           "c.GradeWithEngine.call_timeout = 2\n")
    nbgrader(course, "generate_assignment", NBGRADER_LESSON, "--force")
    submissions = hostile_nbgrader_submissions(NBGRADER_LESSON, course)
    for student, content in submissions.items():
        folder = course / "submitted" / student / NBGRADER_LESSON
        folder.mkdir(parents=True)
        (folder / f"{NBGRADER_LESSON}.ipynb").write_bytes(content)

    nbgrader(course, "autograde", NBGRADER_LESSON)  # exit 0: no submission broke the run

    released = nbformat.read(str(release_path(NBGRADER_LESSON)), as_version=4)
    full = sum(float(nbgrader_meta(cell)["points"]) for cell in hidden_cells(released))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = {student: gradebook.find_submission(NBGRADER_LESSON, student) for student in submissions}
        scores = {student: (s.score, s.max_score) for student, s in graded.items()}
    assert scores == {"hangs": (full, full), "tampered": (full, full), "corrupt": (0, full)}
    def autograded(student):
        return nbformat.read(str(course / "autograded" / student / NBGRADER_LESSON
                                 / f"{NBGRADER_LESSON}.ipynb"), as_version=4)

    notice = autograded("corrupt").cells[0].source
    assert "could not be graded:** " in notice and "not valid JSON" in notice
    spied = autograded("hangs").cells[1].outputs[0]["text"]
    assert "imported: []" in spied
    if SANDBOXED:  # without bubblewrap every readable file is readable: the README says so
        assert "found: []" in spied
