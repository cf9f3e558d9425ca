"""Start the child process of a grading run inside a file-system sandbox.

With bubblewrap (`bwrap`, Debian package `bubblewrap`) the child sees only the
operating system's libraries, the Python installation and its packages
(read-only), and its own working directory holding the submission. The course
repository, the reference solutions, the gradebook and other submissions are
not mounted at all. It also gets no network, its own process namespace, and
dies with the grader.

Without bubblewrap the child still runs in a fresh process with the limits
below and a scrubbed import path, but a determined student could read files by
absolute path: the grader then warns loudly, once per run.
"""
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import warnings
from pathlib import Path

import autograder

CHILD_SCRIPT = Path(__file__).with_name("child.py")
PACKAGE_DIR = Path(autograder.__file__).resolve().parent
# An editable install runs from a course checkout: its root holds pyproject.toml.
REPO_ROOT = PACKAGE_DIR.parent if (PACKAGE_DIR.parent / "pyproject.toml").exists() else None


class SandboxUnavailable(UserWarning):
    pass


def bwrap_works():
    """True when bubblewrap is installed and can create namespaces on this machine."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return False
    probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-all", "true"],
                           capture_output=True, timeout=20)
    return probe.returncode == 0


def python_paths():
    """The directories Python needs: its installation and the environment's packages."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.update(p for p in sys.path if p and Path(p).is_dir() and not is_course_path(p))
    return sorted(paths)


def is_course_path(path):
    """True for the package and, in a course checkout, anything of the repository.

    A checkout holds source/ (solutions), tests/ (loop implementations) and maybe
    gradebook.db, so none of it may reach the child; only a virtual environment
    that happens to live inside the checkout is let through.
    """
    resolved = Path(path).resolve()
    if resolved == PACKAGE_DIR or PACKAGE_DIR in resolved.parents:
        return True
    if REPO_ROOT is not None and (resolved == REPO_ROOT or REPO_ROOT in resolved.parents):
        venv = Path(sys.prefix).resolve()
        return not (resolved == venv or venv in resolved.parents)
    return False


def child_sys_path():
    """sys.path for the child: the interpreter's and environment's, never the course repository."""
    keep = [p for p in sys.path if p and not is_course_path(p) and Path(p).exists()]
    keep += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(keep))


def bwrap_command(workdir):
    """The bwrap prefix that shows the child the system, Python, and `workdir` only."""
    command = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
               "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for system_dir in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc"):
        if os.path.exists(system_dir):
            command += ["--ro-bind", system_dir, system_dir]
    for path in python_paths():
        if not path.startswith(("/usr/", "/bin/", "/lib")):
            command += ["--ro-bind", path, path]
    # An ordinary (non-editable) install puts the package inside site-packages: hide it.
    if any(PACKAGE_DIR.is_relative_to(p) for p in python_paths()):
        command += ["--tmpfs", str(PACKAGE_DIR)]
    command += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return command


def child_environment(workdir):
    """A minimal environment: nothing of the grader's leaks, plots go to files."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(Path(workdir) / ".cache" / "matplotlib"),
        "IPYTHONDIR": str(Path(workdir) / ".cache" / "ipython"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # one BLAS thread per child: parallel grading runs one child per core
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join(child_sys_path()),
    }


def limit_resources(memory_bytes, cpu_seconds):
    """Runs in the child before exec: caps on memory, CPU time, file size and core dumps."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def start_child(workdir, use_bwrap, memory_bytes, cpu_seconds):
    """Start child.py in `workdir`; returns the Popen with pipes on stdin/stdout."""
    script = Path(workdir) / ".grader_child.py"
    shutil.copyfile(CHILD_SCRIPT, script)
    # -I ignores the grader's environment variables and user site; -S skips .pth
    # files, so an editable install's import hook for `autograder` never loads.
    command = [sys.executable, "-I", "-S", "-c",
               "import sys, os; sys.path[:0] = os.environ['PYTHONPATH'].split(os.pathsep); "
               f"exec(compile(open({str(script)!r}).read(), 'grader_child', 'exec'))"]
    if use_bwrap:
        command = bwrap_command(workdir) + command
    return subprocess.Popen(command, cwd=workdir, env=child_environment(workdir),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=limit_resources(memory_bytes, cpu_seconds),
                            start_new_session=True)


_warned = False


def choose_sandbox(require=False):
    """Decide once whether bubblewrap is used; warn loudly when it cannot be."""
    global _warned
    if os.environ.get("AUTOGRADER_NO_SANDBOX") != "1" and bwrap_works():
        return True
    message = ("bubblewrap is not available: student code runs WITHOUT file-system isolation "
               "and could read files by absolute path (install the Debian package 'bubblewrap')")
    if require:
        raise RuntimeError(message)
    if not _warned:
        warnings.warn(message, SandboxUnavailable, stacklevel=2)
        print(f"WARNING: {message}", file=sys.stderr)
        _warned = True
    return False
