"""Start the child process of a grading run inside a file-system sandbox.

With bubblewrap (`bwrap`, Debian package `bubblewrap`) the child sees only the
operating system's libraries, the Python installation and its packages
(read-only), and its own working directory holding the submission. The course
repository, the reference solutions, the gradebook and other submissions are
not mounted at all. It also gets no network, its own process namespace, and
dies with the grader.

When the grader runs as root (CI, grading containers), the child also becomes
a fresh unprivileged uid of its own before any student code runs: root is
exempt from RLIMIT_NPROC, so only then can a fork bomb be capped, and every
process of that uid can be killed afterwards. It cannot write to anything it
does not own either.

Without bubblewrap the child still runs in a fresh process with the limits
below and a scrubbed import path, but a determined student could read files by
absolute path: the grader then warns loudly, once per run.
"""
import os
import resource
import secrets
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


def python_prefixes():
    return sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})


def python_paths():
    """The directories Python needs: its installation and the environment's packages."""
    paths = set(python_prefixes())
    paths.update(p for p in sys.path if p and Path(p).is_dir() and not is_course_path(p))
    return sorted(paths)


def course_roots():
    """Folders of which nothing may reach the child.

    The checkout holding the package (or whatever folder it is imported from,
    when that is not site-packages), and the folder the grader was started in:
    `nbgrader autograde` runs from the course root, which holds source/,
    gradebook.db and submitted/, and nbgrader puts that folder on sys.path.
    """
    try:
        roots = {Path.cwd().resolve()}
    except OSError:  # the folder was deleted under us: nothing to hide there
        roots = set()
    if REPO_ROOT is not None:
        roots.add(REPO_ROOT)
    if PACKAGE_DIR.parent.name not in ("site-packages", "dist-packages"):
        roots.add(PACKAGE_DIR.parent)
    return roots


def is_inside(path, folder):
    return path == folder or folder in path.parents


def is_course_path(path):
    """True for the package, for anything in a course folder (see course_roots), and
    for any other folder holding a copy of the course package (`autograder/reference`).

    Only the Python installation and environment are let through, even when they
    live inside such a folder (a virtual environment in the checkout).
    """
    resolved = Path(path).resolve()
    if is_inside(resolved, PACKAGE_DIR):
        return True
    if any(is_inside(resolved, Path(prefix).resolve()) for prefix in python_prefixes()):
        return False
    if (resolved / "autograder" / "reference").is_dir():  # another copy of the course, e.g. on PYTHONPATH
        return True
    return any(is_inside(resolved, root) for root in course_roots())


def child_sys_path():
    """sys.path for the child: the interpreter's and environment's, never the course repository."""
    keep = [p for p in sys.path if p and not is_course_path(p) and Path(p).exists()]
    keep += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(keep))


SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin", "/etc")


def bwrap_command(workdir, uid=None):
    """The bwrap prefix that shows the child the system, Python, and `workdir` only.

    With `uid` the child drops to that uid itself (child.py), which needs uids
    other than its own to exist: so, as root, no user namespace (bwrap's would
    map root alone). Without `uid` a root grader keeps the user namespace, so
    the child is root only inside it, never on the machine. The options only
    the `uid` branch uses (--perms, --size: bubblewrap 0.6) are tried by
    runner.child_uid, which falls back to the plain branch if they fail.
    """
    if uid is not None:
        # The uid may write in small scratch folders only (multiprocessing needs
        # /dev/shm); their size is RAM that RLIMIT_AS does not count.
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                      "--unshare-cgroup-try"]
        scratch = ["--perms", "1777", "--size", str(128 * 2**20), "--tmpfs", "/tmp",
                   "--perms", "1777", "--size", str(64 * 2**20), "--tmpfs", "/dev/shm"]
    else:
        namespaces, scratch = ["--unshare-all"], ["--tmpfs", "/tmp"]
    command = ["bwrap", *namespaces, "--die-with-parent", "--new-session",
               "--proc", "/proc", "--dev", "/dev", *scratch]
    for system_dir in SYSTEM_DIRS:
        if os.path.exists(system_dir):
            command += ["--ro-bind", system_dir, system_dir]
    extra = [p for p in python_paths() if not p.startswith(("/usr/", "/bin/", "/lib"))]
    if uid is not None:
        # bwrap makes the missing parents of a mount point mode 0700, which the
        # uid could not pass through (e.g. /root/.pyenv/versions/3.11).
        parents = {str(parent) for p in extra for parent in Path(p).parents
                   if parent != Path("/") and not str(parent).startswith(SYSTEM_DIRS)}
        for parent in sorted(parents, key=lambda d: d.count("/")):
            command += ["--perms", "0755", "--dir", parent]
    for path in extra:
        command += ["--ro-bind", path, path]
    # An ordinary (non-editable) install puts the package inside site-packages: hide it.
    if any(PACKAGE_DIR.is_relative_to(p) for p in python_paths()):
        command += ["--tmpfs", str(PACKAGE_DIR)]
    command += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return command


def child_environment(workdir, uid=None):
    """A minimal environment: nothing of the grader's leaks, plots go to files."""
    environment = {
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
    if uid is not None:
        environment["AUTOGRADER_CHILD_UID"] = str(uid)  # read by child.drop_privileges
    return environment


def limit_resources(memory_bytes, cpu_seconds):
    """Runs in the child before exec: caps on memory, CPU time, file size and core dumps."""
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def new_child_uid():
    """A uid no account uses (2**30 and up), different for every child.

    A uid of its own makes RLIMIT_NPROC count this child's processes only, and
    lets `kill_processes_of` end them all, even those that left its session.
    """
    return 2**30 + secrets.randbelow(2**30)


def kill_processes_of(uid):
    """SIGKILL every process of `uid`: kill(-1) sent as that uid reaches exactly those.

    `user=` makes subprocess switch uid in C between fork and exec, which is
    safe in a grader with threads (nbgrader's), unlike a preexec_fn.
    """
    subprocess.run(["/bin/sh", "-c", "kill -9 -1"], user=uid, group=uid, extra_groups=[],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=20, check=False)


def start_child(workdir, use_bwrap, memory_bytes, cpu_seconds, uid=None):
    """Start child.py in `workdir`; returns the Popen with pipes on stdin/stdout.

    With `uid` (the grader must be root), the child switches to that uid before
    running student code, and `workdir` is handed over to it.
    """
    script = Path(workdir) / ".grader_child.py"
    shutil.copyfile(CHILD_SCRIPT, script)
    if uid is not None:
        for path in [Path(workdir), *Path(workdir).iterdir()]:
            os.chown(path, uid, uid)
    # -I ignores the grader's environment variables and user site; -S skips .pth
    # files, so an editable install's import hook for `autograder` never loads.
    command = [sys.executable, "-I", "-S", "-c",
               "import sys, os; sys.path[:0] = os.environ['PYTHONPATH'].split(os.pathsep); "
               f"exec(compile(open({str(script)!r}).read(), 'grader_child', 'exec'))"]
    if use_bwrap:
        command = bwrap_command(workdir, uid) + command
    return subprocess.Popen(command, cwd=workdir, env=child_environment(workdir, uid),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            preexec_fn=limit_resources(memory_bytes, cpu_seconds),
                            start_new_session=True)


_warned = False


def choose_sandbox(require=False):
    """Decide once whether bubblewrap is used; warn loudly when it cannot be."""
    global _warned
    turned_off = os.environ.get("AUTOGRADER_NO_SANDBOX") == "1"
    if not turned_off and bwrap_works():
        return True
    why = ("bubblewrap is turned off (AUTOGRADER_NO_SANDBOX=1)" if turned_off else
           "bubblewrap is not available (install the Debian package 'bubblewrap')")
    message = (f"{why}: student code runs WITHOUT file-system isolation and could read files "
               "by absolute path")
    if require:
        raise RuntimeError(message)
    if not _warned:
        warnings.warn(message, SandboxUnavailable, stacklevel=2)
        print(f"WARNING: {message}", file=sys.stderr)
        _warned = True
    return False
