"""`nbgrader autograde` for many students at once, into the same gradebook.

nbgrader grades its students one after another (its issue #174). Here each
student is one `nbgrader autograde LESSON --student S` process, with `jobs` of
them running together. They share nbgrader's SQLite gradebook, whose writes
are short transactions behind SQLite's own lock; a student whose run still
fails (for example "database is locked" under heavy load) is retried alone
at the end, so the gradebook ends up exactly as a serial run leaves it.
"""
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def students_with_submissions(course_root, lesson):
    submitted = Path(course_root) / "submitted"
    return sorted(p.name for p in submitted.glob("*") if (p / lesson).is_dir())


def _command(lesson, student, extra):
    return [sys.executable, "-m", "nbgrader", "autograde", lesson, f"--student={student}",
            "--log-level=WARN", *extra]


def _environment():
    # nbgrader creates its gradebook with `alembic` from this environment's bin/
    return dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))


def autograde_parallel(course_root, lesson, jobs=2, extra=(), log=print):
    """Autograde every student of `lesson`; returns the students that still failed."""
    pending = students_with_submissions(course_root, lesson)
    running, failed = {}, []
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < max(1, jobs):
            student = pending.pop(0)
            # nbgrader's warnings (a hidden cell a student changed ...) are shown once it is done;
            # a file, not a pipe, so a talkative run never blocks on a full pipe
            messages = tempfile.TemporaryFile(mode="w+")
            running[student] = (subprocess.Popen(_command(lesson, student, extra), cwd=course_root,
                                                 env=_environment(), stdout=subprocess.DEVNULL,
                                                 stderr=messages), messages)
        for student, (process, messages) in list(running.items()):
            if process.poll() is None:
                continue
            del running[student]
            messages.seek(0)
            said = messages.read().strip()
            messages.close()
            if process.returncode != 0:
                failed.append(student)  # its messages come from the retry below
                log(f"{student}: failed, will retry alone")
            else:
                log(f"{student}: done" + "".join(f"\n  {line}" for line in said.splitlines()))
        time.sleep(0.05)
    still_failing = []
    for student in failed:
        done = subprocess.run(_command(lesson, student, extra), cwd=course_root, env=_environment(),
                              capture_output=True, text=True)
        if done.returncode != 0:
            still_failing.append(student)
            log(f"{student}: failed again:\n{done.stderr.strip()[-2000:]}")
    log(f"autograded {lesson} in {time.monotonic() - started:.1f} s with {jobs} jobs")
    return still_failing
