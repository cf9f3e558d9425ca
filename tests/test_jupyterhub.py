"""deploy/ for real: a JupyterHub on 127.0.0.1, two students and an instructor, one lesson graded.

As root, the test creates three system users, runs deploy/install.sh (the instructor's
copy of the course, the course and student environments, the exchange) and starts
JupyterHub with deploy/jupyterhub_config.py (the dummy authenticator instead of PAM;
LocalProcessSpawner, so every server runs under its user's uid). Students work through
their own servers with their own API tokens, as the Assignments tab does: fetch, edit
the notebook (one solves every exercise, one only two), Validate, submit, fetch feedback. The
instructor runs the README's nbgrader commands in the course folder as the instructor
user. The gradebook must hold the expected scores, and a student must be unable to
import `autograder`, read the course's source/, list other submissions or open Formgrader.
"""
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
import requests

from deploy_tools import ROOT, base_python, build_env, run_folder
from lesson_tools import strip_markers

LESSON = "01_pooling"
COURSE_ID = "cnn-internals"
CHP = shutil.which("configurable-http-proxy")
# The partial student solves these exercises (and leaves the others as released).
PARTIAL = ("pool_output_size", "max_pool2d")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the test creates system users and "
                       "JupyterHub's LocalProcessSpawner starts servers under their uids"),
    pytest.mark.skipif(CHP is None, reason="configurable-http-proxy (JupyterHub's proxy, from npm: "
                       "`npm install -g configurable-http-proxy`, which .ci/run does) is not installed"),
]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sh(*command, timeout=120, **kwargs):
    """Run a command; fail the test with its output if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def as_user(user, *command, cwd="/", env=None, timeout=120):
    """Run a command as `user` with a clean environment (what that user's terminal would do)."""
    variables = {"HOME": f"/home/{user}", "USER": user, "PATH": "/usr/local/bin:/usr/bin:/bin",
                 "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(["runuser", "-u", user, "--", "env", "-i",
                           *[f"{k}={v}" for k, v in variables.items()], *command],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout)


def pids_of(uid):
    listing = subprocess.run(["ps", "-o", "pid=", "-u", str(uid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in listing.split()]


class Site:
    """The users, folders and hub of one test run; `close` removes all of them."""

    def __init__(self):
        tag = secrets.token_hex(3)
        self.instructor, self.students = f"cnn{tag}i", [f"cnn{tag}a", f"cnn{tag}b"]
        self.work = Path(f"/tmp/cnn-internals-hub-{tag}")
        self.prefix, self.exchange, self.state = self.work / "opt", self.work / "exchange", self.work / "state"
        self.course = Path(f"/home/{self.instructor}/cnn-internals")
        self.users, self.hub, self.log, self.student_venv = [], None, None, None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_token = secrets.token_hex(16)
        self.tokens = {}

        # The course environment lives with this run's other environments: install.sh builds
        # it the first time and brings it up to date (its `-e .` re-pointed at this course copy)
        # when a later test of the run, or of a rerun, finds it.
        self.course_venv = run_folder() / "course-hub"

    def add_users(self):
        for name in [self.instructor, *self.students]:
            sh("useradd", "--create-home", "--shell", "/bin/bash", name)
            self.users.append(name)

    def install(self, student_venv):
        self.student_venv = student_venv
        self.work.mkdir(mode=0o755)
        self.state.mkdir(mode=0o700)
        env = dict(os.environ, PYTHON=base_python(), **self.settings(student_venv))
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        sh(str(ROOT / "deploy" / "install.sh"), self.instructor, env=env, timeout=900)

    def settings(self, student_venv):
        """The environment variables deploy/jupyterhub_config.py and deploy/install.sh read."""
        return {"COURSE_INSTRUCTOR": self.instructor, "COURSE_STUDENTS": " ".join(self.students),
                "COURSE_PREFIX": str(self.prefix), "COURSE_DIR": str(self.course),
                "COURSE_EXCHANGE": str(self.exchange), "COURSE_STUDENT_VENV": str(student_venv),
                "COURSE_COURSE_VENV": str(self.course_venv),
                "COURSE_HUB_STATE": str(self.state)}

    def start_hub(self, student_venv):
        config = self.state / "test_config.py"
        config.write_text(f"""
c = get_config()
load_subconfig({str(self.course / 'deploy' / 'jupyterhub_config.py')!r})
c.JupyterHub.authenticator_class = "dummy"
c.JupyterHub.bind_url = "{self.url}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{CHP!r}]
c.JupyterHub.services = [{{"name": "course-test", "api_token": {self.service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-test", "services": ["course-test"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
""")
        env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(self.settings(student_venv), PATH=f"{self.course_venv}/bin:/usr/local/bin:/usr/bin:/bin")
        self.log = open(self.state / "hub.log", "w")
        self.hub = subprocess.Popen([str(self.course_venv / "bin" / "jupyterhub"), "-f", str(config)],
                                    cwd=self.state, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.wait_for(lambda: self.api("get", "/").ok, "the hub's API", 60)

    def hub_log(self):
        return (self.state / "hub.log").read_text()[-6000:] if self.log else ""

    def wait_for(self, ready, what, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.hub.poll() is None, f"the hub exited:\n{self.hub_log()}"
            try:
                if ready():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{what} not ready after {seconds} s:\n{self.hub_log()}")

    def api(self, method, path, **kwargs):
        """The hub's REST API as the test's admin service."""
        return requests.request(method, f"{self.url}/hub/api{path}", timeout=30,
                                headers={"Authorization": f"token {self.service_token}"}, **kwargs)

    def start_servers(self, users):
        """Start the users' servers (all at once) and give each user an API token of their own."""
        for user in users:
            started = self.api("post", f"/users/{user}/server")
            assert started.status_code in (201, 202), started.text
        for user in users:
            self.wait_for_server(user)

    def wait_for_server(self, user):
        self.wait_for(lambda: self.api("get", f"/users/{user}").json()["servers"].get("", {}).get("ready"),
                      f"{user}'s server", 90)
        token = self.api("post", f"/users/{user}/tokens", json={"note": "test", "expires_in": 900})
        assert token.status_code in (200, 201), token.text
        self.tokens[user] = token.json()["token"]

    def server(self, user, method, path, **kwargs):
        """`user`'s own server, through the hub's proxy, with `user`'s own token."""
        return requests.request(method, f"{self.url}/user/{user}{path}", timeout=120,
                                headers={"Authorization": f"token {self.tokens[user]}"}, **kwargs)

    def close(self):
        if self.hub is not None:
            if self.hub.poll() is None:
                self.hub.send_signal(signal.SIGTERM)  # the hub stops the servers and the proxy
                try:
                    self.hub.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.hub.pid, signal.SIGKILL)
                    self.hub.wait(10)
            self.log.close()
        for name in self.users:
            uid = pwd.getpwnam(name).pw_uid
            for pid in pids_of(uid):  # anything left of this user's server or kernels
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        # the proxy, if the hub could not stop it: its pid file names it
        pid_file = self.state / "jupyterhub-proxy.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture(scope="module")
def site():
    student_venv, _ = build_env("student", ROOT / "deploy" / "requirements-student.txt")
    site = Site()
    try:
        site.add_users()
        start = time.monotonic()
        site.install(student_venv)
        print(f"deploy/install.sh took {time.monotonic() - start:.0f} s")
        site.start_hub(student_venv)
        yield site
    finally:
        site.close()


def instructor(site, *command, timeout=300):
    """A command in the course folder as the instructor, with the course environment first on PATH
    and the exchange the instructor's server has (deploy/jupyterhub_config.py)."""
    done = as_user(site.instructor, *command, cwd=site.course, timeout=timeout,
                   env={"PATH": f"{site.course_venv}/bin:/usr/local/bin:/usr/bin:/bin",
                        "NBGRADER_EXCHANGE_ROOT": str(site.exchange)})
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def answers(site, solved):
    """Answer cells of the source notebook (read as root from the instructor's copy), by grade id."""
    source = nbformat.read(str(site.course / "source" / LESSON / f"{LESSON}.ipynb"), as_version=4)
    cells = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id", "")
        if meta.get("solution") and (solved is None or grade_id.removesuffix("_solution") in solved):
            cells[grade_id] = strip_markers(cell.source)
    return cells


def hidden_points(site):
    """{exercise: points} of the hidden-check cells, from the released notebook."""
    release = nbformat.read(str(site.course / "release" / LESSON / f"{LESSON}.ipynb"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"] for c in release.cells
            if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("points")}


def disabled_plugins(site, user):
    """The JupyterLab plugins `user`'s server tells the browser to leave out (its page config)."""
    page = site.server(user, "get", "/lab")
    assert page.status_code == 200, page.text[:2000]
    config = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page.text, re.S)
    return set(json.loads(config.group(1))["disabledExtensions"])


def assignment_action(site, user, action):
    done = site.server(user, "post", f"/assignments/{action}",
                       data={"course_id": COURSE_ID, "assignment_id": LESSON})
    assert done.status_code == 200, f"{action} as {user}: {done.status_code} {done.text[:2000]}"
    reply = done.json()
    assert reply.get("success"), f"{action} as {user}: {reply}"
    return reply["value"]


def test_a_graded_lesson_through_jupyterhub(site):
    first, second = site.students
    start = time.monotonic()

    def took(phase):
        print(f"\n{phase}: {time.monotonic() - start:.0f} s", end="")

    # ---- the instructor generates and releases the lesson (README's instructor path)
    instructor(site, "python", "-m", "autograder", "release", LESSON)
    instructor(site, "nbgrader", "release_assignment", LESSON)

    # ---- each student's server runs the student environment, without Formgrader
    took("lesson released")
    site.start_servers(site.students + [site.instructor])
    took("servers started")
    for user in site.students:
        commands = subprocess.run(["ps", "-ww", "-o", "args=", "-u", user], capture_output=True, text=True).stdout
        assert f"{site.student_venv}/bin/jupyterhub-singleuser" in commands, commands
        assert site.server(user, "get", "/formgrader").status_code == 404
        disabled = disabled_plugins(site, user)
        assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"} <= disabled, disabled
        assert "@jupyter/nbgrader:assignment-list" not in disabled
    assert site.server(site.instructor, "get", "/formgrader").status_code == 200
    assert "@jupyter/nbgrader:formgrader" not in disabled_plugins(site, site.instructor)

    # ---- students fetch, write their answers, submit
    total = sum(hidden_points(site).values())
    expected = {first: total, second: sum(p for e, p in hidden_points(site).items() if e in PARTIAL)}
    assert 0 < expected[second] < total
    for user, solved in ((first, None), (second, PARTIAL)):
        listed = site.server(user, "get", "/assignments", params={"course_id": COURSE_ID}).json()
        assert [a["assignment_id"] for a in listed["value"] if a["status"] == "released"] == [LESSON], listed
        assignment_action(site, user, "fetch")
        folder = site.server(user, "get", f"/api/contents/{LESSON}").json()
        assert {f"{LESSON}.ipynb", "gradient_check.py"} <= {item["name"] for item in folder["content"]}
        path = f"/api/contents/{LESSON}/{LESSON}.ipynb"
        notebook = site.server(user, "get", path).json()["content"]
        mine = answers(site, solved)
        for cell in notebook["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in mine:
                cell["source"] = mine[grade_id]
        saved = site.server(user, "put", path, json={"type": "notebook", "format": "json", "content": notebook})
        assert saved.status_code == 200, saved.text
        # Validate (the notebook run in the student's own kernel): all visible tests pass for the
        # student who solved everything; the other one is told that some fail.
        validated = site.server(user, "post", "/assignments/validate", data={"path": f"{LESSON}/{LESSON}.ipynb"})
        assert validated.status_code == 200 and validated.json()["success"], validated.text[:3000]
        failed = validated.json()["value"].get("failed", [])
        assert (len(failed) > 0) == (solved is not None), validated.json()["value"]
        assignment_action(site, user, "submit")

    took("submitted")
    # ---- what a student cannot do
    for python in (site.student_venv / "bin" / "python", site.course_venv / "bin" / "python"):
        tried = as_user(first, str(python), "-c", "import autograder.reference")
        assert tried.returncode != 0 and "Error" in tried.stderr, (python, tried.stdout, tried.stderr)
    for secret in (site.course / "source" / LESSON / f"{LESSON}.ipynb", site.course / "autograder" / "reference"):
        tried = as_user(first, "cat" if secret.suffix else "ls", str(secret))
        assert tried.returncode != 0 and "Permission denied" in tried.stderr, tried
    tried = as_user(first, "ls", str(site.exchange / COURSE_ID / "inbound"))
    assert tried.returncode != 0 and "Permission denied" in tried.stderr, "a student can list the submissions"

    # ---- the instructor collects, grades with the course engine, releases feedback
    instructor(site, "nbgrader", "collect", LESSON)
    instructor(site, "nbgrader", "autograde", LESSON, timeout=600)
    instructor(site, "nbgrader", "generate_feedback", LESSON)
    instructor(site, "nbgrader", "release_feedback", LESSON)

    took("graded, feedback released")
    scores = json.loads(as_user(site.instructor, str(site.course_venv / "bin" / "python"), "-c", f"""
import json
from nbgrader.api import Gradebook
with Gradebook("sqlite:///{site.course}/gradebook.db") as gb:
    print(json.dumps({{s.student.id: s.score for s in gb.assignment_submissions("{LESSON}")}}))
""", cwd=site.course).stdout)
    assert scores == pytest.approx(expected), scores

    # ---- students fetch their feedback into their own servers
    for user in site.students:
        assignment_action(site, user, "fetch_feedback")
        feedback = site.server(user, "get", f"/api/contents/{LESSON}/feedback").json()
        assert len(feedback["content"]) == 1, feedback      # one folder, named after the submission time
        html = site.server(user, "get", f"/api/contents/{feedback['content'][0]['path']}/{LESSON}.html").json()
        html = html["content"]
        assert f"{LESSON} (Score: {float(expected[user]):.1f} / {float(total):.1f})" in html, html[:3000]
        assert "BEGIN HIDDEN TESTS" not in html and 'check("' not in html  # no hidden-check code
    took("feedback fetched")
