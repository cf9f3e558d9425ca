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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox
from .child import MAX_FRAME_BYTES, decode_npy, encode_value, write_message


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


@dataclass
class CallReport:
    ok: bool
    outputs: list = field(default_factory=list)
    error: str = ""
    traceback: str = ""


class ChildFailed(Exception):
    """The child timed out, died or broke the protocol; the message says which."""


class Child:
    """One sandboxed child process and deadline-bound messaging with it."""

    def __init__(self, workdir, use_bwrap, limits):
        self.process = sandbox.start_child(workdir, use_bwrap, limits.memory_bytes, limits.cpu_seconds)
        self.buffer = b""
        self.receive(limits.start_seconds)  # the child's "ready" message

    def send(self, header, arrays=()):
        try:
            write_message(self.process.stdin, header, arrays)
        except (BrokenPipeError, OSError):
            raise ChildFailed(self.death_reason()) from None

    def receive(self, seconds):
        deadline = time.monotonic() + seconds
        header = json.loads(self._frame(deadline))
        arrays = [decode_npy(self._frame(deadline)) for _ in range(int(header.get("n_arrays", 0)))]
        return header, arrays

    def _frame(self, deadline):
        size = struct.unpack(">I", self._read(4, deadline))[0]
        if size > MAX_FRAME_BYTES:
            raise ChildFailed(f"sent a reply of {size} bytes, more than allowed")
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
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def death_reason(self):
        try:
            code = self.process.wait(timeout=2)
        except Exception:  # noqa: BLE001 - still running but not talking
            return "stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
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
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


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
        self.good_cells = []     # sources that ran without error, replayed after a restart
        self.restarts = 0
        self.child = None
        self.dead_functions = {}  # name -> why its last call killed the child

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
        self.child = Child(self.workdir, self.use_bwrap, self.limits)
        for source in list(self.good_cells):
            try:
                self._request({"op": "run_cell", "source": source}, (), self.limits.cell_seconds)
            except ChildFailed:
                self._drop_child()
                self.good_cells.remove(source)  # it behaved differently this time; leave it out
                return self._ensure_child()

    def _drop_child(self):
        if self.child is not None:
            self.child.kill()
            self.child = None
        self.restarts += 1

    def _request(self, header, arrays, seconds):
        self.child.send(header, arrays)
        try:
            return self.child.receive(seconds)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError) as error:
            raise ChildFailed(f"answered with a malformed message ({error})") from None

    # ------------------------------------------------------------------- requests
    def run_cell(self, index, source):
        """Execute one cell; its failure never stops the next one."""
        try:
            self._ensure_child()
            header, _ = self._request({"op": "run_cell", "source": source, "figures": self.figures},
                                      (), self.limits.cell_seconds)
        except ChildFailed as failure:
            self._drop_child()
            status = "timeout" if str(failure) == "timeout" else "crashed"
            message = (f"did not finish within {self.limits.cell_seconds:g} s" if status == "timeout"
                       else f"the process running it {failure}")
            return CellReport(index, status, ename="CellTimeoutError" if status == "timeout"
                              else "KernelDied", evalue=message)
        if header.get("ok"):
            self.good_cells.append(source)
        return CellReport(index, "ok" if header.get("ok") else "error",
                          stdout=str(header.get("stdout", "")), stderr=str(header.get("stderr", "")),
                          ename=str(header.get("ename", "")), evalue=str(header.get("evalue", "")),
                          images=[i for i in header.get("images", []) if isinstance(i, str)][:3])

    def call(self, name, args=(), kwargs=None, output_names=("out",), return_args=False, kind="function"):
        """Call the student's `name` in the child; returns plain numeric arrays only."""
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
                   else f"made the process running it {failure}".replace("it crashed", "crash"))
            self.dead_functions[name] = why
            return CallReport(False, error=f"{name} {why}")
        except ValueError as error:  # an array that is not plain numeric
            return CallReport(False, error=str(error))
        if not reply.get("ok"):
            return CallReport(False, error=str(reply.get("error", "failed"))[:1000],
                              traceback=str(reply.get("traceback", ""))[:2000])
        return CallReport(True, outputs=outputs)
