"""Fresh virtual environments built from the course's requirement files, as an instructor would.

Each environment is built once per test run (`python -m venv` + one `pip install -r`, with
pip's cache) and shared by the tests of that run, also across xdist workers: a file lock
lets one worker build it while the others wait. Environments of earlier runs are removed.
They live under /tmp, readable by everyone, because tests/test_jupyterhub.py runs
students' servers from the student environment under the students' own uids.
"""
import fcntl
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = Path("/tmp/cnn-internals-test-envs")
# CNN_TEST_ENVS_RUN names a run to reuse its environments while working on these tests.
RUN = (os.environ.get("CNN_TEST_ENVS_RUN") or os.environ.get("PYTEST_XDIST_TESTRUNUID")
       or f"pid{os.getpid()}")
PIP_TIMEOUT = 900


def runnable_by_everyone(path):
    """True if every user can run `path` (each folder above it searchable, the file executable)."""
    path = Path(path).resolve()
    if not path.exists() or not path.stat().st_mode & stat.S_IXOTH:
        return False
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def base_python():
    """A Python >= 3.10 with venv that other users can run: this one, else Debian's python3.

    An interpreter under root's home (pyenv) works for root only, and the students'
    servers of tests/test_jupyterhub.py run as the students.
    """
    candidates = [getattr(sys, "_base_executable", sys.executable), sys.executable,
                  shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")]
    for candidate in candidates:
        if candidate and runnable_by_everyone(candidate):
            probe = subprocess.run([candidate, "-c", "import sys, venv, ensurepip; "
                                    "assert sys.version_info >= (3, 10)"], capture_output=True)
            if probe.returncode == 0:
                return str(Path(candidate).resolve())
    raise RuntimeError("no Python >= 3.10 with venv and ensurepip that every user can run "
                       "(tried %s); install Debian's python3-venv" % ", ".join(map(str, candidates)))


def remove_old_runs(keep):
    """Delete the environments of runs untouched for two hours (each is several hundred MB)."""
    for run in BASE.glob("*"):
        if run.name != keep and run.is_dir() and time.time() - run.stat().st_mtime > 2 * 3600:
            shutil.rmtree(run, ignore_errors=True)


def run_folder():
    """This run's folder of environments (created, readable by everyone)."""
    BASE.mkdir(mode=0o755, exist_ok=True)
    run = BASE / RUN
    run.mkdir(mode=0o755, exist_ok=True)
    os.utime(run)  # in use: another run's clean-up leaves it alone
    return run


def build_env(name, requirements, cwd=ROOT):
    """The venv `name` of this run with `pip install -r requirements` done in `cwd`.

    Returns (path, seconds the install took; 0.0 when an earlier test of this run built it).
    """
    run = run_folder()
    venv = run / name
    with open(run / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = venv / "installed-in-seconds"
        if done.exists():
            return venv, 0.0
        remove_old_runs(keep=RUN)
        shutil.rmtree(venv, ignore_errors=True)
        start = time.monotonic()
        subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, timeout=120)
        install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                                  "-r", str(requirements)], cwd=cwd, capture_output=True, text=True,
                                 timeout=PIP_TIMEOUT)
        assert install.returncode == 0, f"pip install -r {requirements} failed:\n{install.stderr[-3000:]}"
        seconds = time.monotonic() - start
        done.write_text(f"{seconds:.1f}\n")
        print(f"{name} environment: pip install -r {requirements} took {seconds:.0f} s")
        return venv, seconds


def run_in(venv, *args, timeout=120, **kwargs):
    """Run a command of the environment `venv` (its bin/ first on PATH); returns CompletedProcess."""
    env = dict(os.environ, PATH=f"{venv}/bin" + os.pathsep + "/usr/local/bin:/usr/bin:/bin",
               VIRTUAL_ENV=str(venv))
    env.pop("PYTHONPATH", None)
    env.update(kwargs.pop("env", {}))
    command = [str(venv / "bin" / args[0]), *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, **kwargs)
