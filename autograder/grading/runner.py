"""The grader's side of a sandboxed run: cells and calls with deadlines, restarts after a crash.

A `Session` owns one child process at a time. Every request has a deadline;
a child that misses it, dies, or answers nonsense is killed, and a fresh one
is started and brought back to the same state by re-running the cells that
had succeeded before. So a hanging or crashing cell costs only that cell, and
a hanging call costs only that check.
"""
import json
import os
import select
import shutil
import signal
import struct
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import sandbox
from .child import MAX_FRAME_BYTES, MAX_TEXT, decode_npy, encode_value, join_none, write_message

MAX_IMAGE_CHARS = 2 * 2**20  # base64 of one figure; a larger "image" is not a plot


@dataclass
class Limits:
    """Resource limits of one submission's run (seconds, bytes)."""
    cell_seconds: float = 30.0
    call_seconds: float = 10.0
    start_seconds: float = 60.0
    memory_bytes: int = 4 * 2**30
    cpu_seconds: int = 600
    max_restarts: int = 6


@dataclass
class CellReport:
    index: int
    status: str              # "ok", "error", "timeout", "crashed", "skipped"
    stdout: str = ""
    stderr: str = ""
    ename: str = ""
    evalue: str = ""
    images: list = field(default_factory=list)
    traceback: str = ""      # IPython's, plain text; its "Cell In[k]" is the notebook's k-th cell


@dataclass
class CallReport:
    ok: bool
    outputs: list = field(default_factory=list)
    error: str = ""
    traceback: str = ""


class ChildFailed(Exception):
    """The child timed out, died or broke the protocol; the message says which."""


def innermost_process(pid):
    """The process at the end of pid's chain of only children (bwrap's init, then Python), or pid."""
    while True:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return pid
        if len(children) != 1:
            return pid
        pid = int(children[0])


def schedstat(path):
    """(nanoseconds on a CPU, nanoseconds waiting for one) from a /proc .../schedstat file.

    The kernel's own accounts: nothing a process runs can change them.
    """
    run, wait = Path(path).read_text().split()[:2]
    return int(run), int(wait)


def task_times(pid):
    """(CPU ns of all of pid's threads, ns pid's main thread waited for a CPU), or None off Linux."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                total += schedstat(f"/proc/{pid}/task/{task}/schedstat")[0]
            except OSError:  # a thread that ended meanwhile
                pass
        return total, schedstat(f"/proc/{pid}/task/{pid}/schedstat")[1]
    except (OSError, ValueError):
        return None


class Child:
    """One sandboxed child process and deadline-bound messaging with it."""

    def __init__(self, workdir, use_bwrap, limits, uid=None):
        self.uid, self.use_bwrap = uid, use_bwrap
        self.process = sandbox.start_child(workdir, use_bwrap, limits.memory_bytes, limits.cpu_seconds, uid)
        self.buffer = bytearray()
        try:
            self.receive(limits.start_seconds)  # the child's "ready" message
        except (ChildFailed, ValueError):
            self.kill()
            raise
        # Found before any student code runs, when the only process below bwrap is Python.
        # Not found (bwrap's own process): None, and a speed check falls back to the wall clock.
        self.python_pid = innermost_process(self.process.pid)
        if use_bwrap and self.python_pid == self.process.pid:
            self.python_pid = None

    def send(self, header, arrays=()):
        try:
            write_message(self.process.stdin, header, arrays)
        except (BrokenPipeError, OSError):
            raise ChildFailed(self.death_reason()) from None

    def receive(self, seconds):
        deadline = time.monotonic() + seconds
        self.reply_budget = MAX_FRAME_BYTES  # for the whole reply: the grader holds all of it
        header = json.loads(self._frame(deadline))
        if not isinstance(header, dict):  # whatever student code wrote on the pipe
            raise ChildFailed("answered with a malformed message")
        arrays = [decode_npy(self._frame(deadline)) for _ in range(int(header.get("n_arrays", 0)))]
        return header, arrays

    def _frame(self, deadline):
        size = struct.unpack(">I", self._read(4, deadline))[0]
        if size > self.reply_budget:
            raise ChildFailed(f"sent a reply of {size} bytes or more, larger than allowed")
        self.reply_budget -= size
        return self._read(size, deadline)

    def _read(self, n, deadline):
        stdout = self.process.stdout.fileno()
        while len(self.buffer) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                raise ChildFailed("timeout")
            chunk = os.read(stdout, max(n - len(self.buffer), 1 << 20))
            if not chunk:
                raise ChildFailed(self.death_reason())
            self.buffer += chunk  # a bytearray: appending to bytes would copy it every time
        with memoryview(self.buffer) as view:  # one copy of a large frame, not two
            data = bytes(view[:n])
        del self.buffer[:n]
        return data

    def death_reason(self):
        try:
            code = self.process.wait(timeout=2)
        except Exception:  # noqa: BLE001 - still running but not talking
            return "stopped answering"
        if self.use_bwrap and code > 128 and code - 128 in signal.valid_signals():
            code = 128 - code  # bwrap exits with 128 + n when its child died of signal n
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:  # a real-time signal has no name
                name = f"signal {-code}"
            hints = {"SIGKILL": " (killed: out of memory or CPU time?)",
                     "SIGSEGV": " (segmentation fault)", "SIGXFSZ": " (wrote too large a file)",
                     "SIGXCPU": " (used too much CPU time)"}
            return f"crashed with {name}{hints.get(name, '')}"
        return f"exited with code {code} (sys.exit or os._exit?)"

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        if self.uid is not None:
            # also what left the process group (os.setsid) or outlives it (fork bombs)
            sandbox.kill_processes_of(self.uid)
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


_unprivileged_child_works = {}


def child_uid(use_bwrap):
    """A fresh uid for the next child, or None when the child cannot drop root.

    None when the grader is not root (its child is unprivileged already), and
    when a child running as another uid cannot start: the Python installation
    is then not readable by other users (e.g. under /root without bubblewrap).
    Tried once per process and sandbox kind.
    """
    if os.geteuid() != 0:
        return None
    if use_bwrap not in _unprivileged_child_works:
        workdir = Path(tempfile.mkdtemp(prefix="autograder-probe-"))
        try:
            Child(workdir, use_bwrap, Limits(start_seconds=30), sandbox.new_child_uid()).kill()
            _unprivileged_child_works[use_bwrap] = True
        except (ChildFailed, OSError):
            _unprivileged_child_works[use_bwrap] = False
            if not use_bwrap:  # bubblewrap's user namespace would at least keep root in there
                message = ("student code runs as root, without bubblewrap: it could change anything on "
                           "this machine, the gradebook included (install bubblewrap, or make the Python "
                           "installation readable by other users)")
                warnings.warn(message, sandbox.SandboxUnavailable, stacklevel=2)
                print(f"WARNING: {message}", file=sys.stderr)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return sandbox.new_child_uid() if _unprivileged_child_works[use_bwrap] else None


class Session:
    """Run a submission's cells, then call its functions, surviving hangs and crashes."""

    def __init__(self, notebook_dir_files, limits=None, use_bwrap=None, figures=False):
        """notebook_dir_files: {file name: bytes} copied into the child's working directory."""
        self.limits = limits or Limits()
        self.use_bwrap = sandbox.choose_sandbox() if use_bwrap is None else use_bwrap
        self.figures = figures
        self.workdir = Path(tempfile.mkdtemp(prefix="autograder-"))
        for name, content in notebook_dir_files.items():
            (self.workdir / name).write_bytes(content)
        self.good_cells = []     # (source, count) of cells that ran without error, replayed after a restart
        self.restarts = 0
        self.seq = 0             # number of the last request; replies must echo it
        self.child = None
        self.dead_functions = {}  # name -> why its last call killed the child
        self.child_uids = set()   # "uid" or "root": how the children ran (see isolation())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.child is not None:
            self.child.kill()
            self.child = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ---------------------------------------------------------------- child life
    def _ensure_child(self):
        if self.child is not None:
            return
        if self.restarts > self.limits.max_restarts:
            raise ChildFailed(f"gave up after {self.limits.max_restarts} restarts of the sandbox")
        uid = child_uid(self.use_bwrap)
        self.child_uids.add("root" if uid is None and os.geteuid() == 0 else "uid")
        self.child = Child(self.workdir, self.use_bwrap, self.limits, uid)
        for source, count in list(self.good_cells):
            try:
                self._request({"op": "run_cell", "source": source, "count": count}, (),
                              self.limits.cell_seconds)
            except ChildFailed:
                self._drop_child()
                self.good_cells.remove((source, count))  # it behaved differently this time; leave it out
                return self._ensure_child()

    def _drop_child(self):
        if self.child is not None:
            self.child.kill()
            self.child = None
        self.restarts += 1

    def _request(self, header, arrays, seconds):
        self.seq += 1
        self.child.send(dict(header, seq=self.seq), arrays)
        try:
            reply, outputs = self.child.receive(seconds)
        except (ValueError, KeyError, TypeError, RecursionError) as error:  # RecursionError: [[[[...]]]]
            raise ChildFailed(f"answered with a malformed message ({str(error)[:200]})") from None
        if reply.get("seq") != self.seq:
            raise ChildFailed("answered out of turn (its code wrote on the grader's pipe)")
        return reply, outputs

    def isolation(self):
        """One line for the instructor: what kept student code from the grader's files."""
        if self.use_bwrap:
            return "bubblewrap (only the system, Python and the submission are visible)"
        if "root" in self.child_uids:
            return ("NONE: no bubblewrap, and student code ran as root; it could read every file, "
                    "the reference solutions included")
        if os.geteuid() == 0:
            return ("an unprivileged uid, without bubblewrap: student code could read only files "
                    "readable by every user")
        return ("none beyond the grader's own user: no bubblewrap, so student code could read "
                "every file this user can")

    # ------------------------------------------------------------------- requests
    def run_cell(self, index, source):
        """Execute one cell; its failure never stops the next one."""
        try:
            self._ensure_child()
            header, _ = self._request({"op": "run_cell", "source": source, "figures": self.figures,
                                       "count": index + 1}, (), self.limits.cell_seconds)
        except ChildFailed as failure:
            self._drop_child()
            status = "timeout" if str(failure) == "timeout" else "crashed"
            message = (f"did not finish within {self.limits.cell_seconds:g} s" if status == "timeout"
                       else f"the process running it {failure}")
            return CellReport(index, status, ename="CellTimeoutError" if status == "timeout"
                              else "KernelDied", evalue=message)
        if header.get("low_memory"):
            # Its data fills the process: start afresh without this cell.
            self._drop_child()
            header = dict(header, ok=False, ename="MemoryError", evalue=(
                "the cell left the process without free memory; it was restarted without this cell"))
        if header.get("ok"):
            self.good_cells.append((source, index + 1))
        images = header.get("images")
        # capped again here: the child is the student's, it may send anything
        return CellReport(index, "ok" if header.get("ok") else "error",
                          stdout=str(header.get("stdout", ""))[:MAX_TEXT + 100],
                          stderr=str(header.get("stderr", ""))[:MAX_TEXT + 100],
                          ename=str(header.get("ename", ""))[:100],
                          evalue=str(header.get("evalue", ""))[:2000],
                          traceback=str(header.get("traceback", ""))[:MAX_TEXT + 100],
                          images=[i for i in (images if isinstance(images, list) else [])[:3]
                                  if isinstance(i, str) and len(i) <= MAX_IMAGE_CHARS])

    def child_times(self):
        """task_times of the child's Python process (None without a child or off Linux)."""
        return None if self.child is None or self.child.python_pid is None else task_times(self.child.python_pid)

    def call(self, name, args=(), kwargs=None, output_names=("out",), return_args=False, kind="function"):
        """Call the student's `name` in the child; returns plain numeric arrays, or None for an
        output of several that the function returned as None."""
        if name in self.dead_functions:
            return CallReport(False, error=f"not called again: an earlier call {self.dead_functions[name]}")
        arrays = []
        header = {"op": "call", "name": name, "kind": kind, "output_names": list(output_names),
                  "args": encode_value(tuple(args), arrays),
                  "kwargs": encode_value(dict(kwargs or {}), arrays), "return_args": return_args}
        try:
            self._ensure_child()
            reply, outputs = self._request(header, arrays, self.limits.call_seconds)
        except ChildFailed as failure:
            self._drop_child()
            why = (f"did not return within {self.limits.call_seconds:g} s" if str(failure) == "timeout"
                   else f"failed: the process running it {failure}")
            self.dead_functions[name] = why
            return CallReport(False, error=f"{name} {why}")
        if not reply.get("ok"):
            return CallReport(False, error=str(reply.get("error", "failed"))[:1000],
                              traceback=str(reply.get("traceback", ""))[:2000])
        expected = len(output_names) + (sum(isinstance(a, np.ndarray) for a in args) if return_args else 0)
        try:
            # only an output of several may be None: a single one the child refuses, saying why
            outputs = join_none(outputs, reply.get("none_outputs", []),
                                len(output_names) if len(output_names) > 1 and kind == "function" else 0)
        except ValueError as error:  # a reply forged by the student's code
            return CallReport(False, error=f"{name}: the sandbox sent {error}")
        if len(outputs) != expected:  # a reply forged by the student's code
            return CallReport(False, error=f"{name}: the sandbox sent {len(outputs)} arrays "
                                           f"instead of {expected}")
        return CallReport(True, outputs=outputs)
