"""JupyterHub for one run of the course: students and an instructor on one machine.

Every user is a real system user whose server JupyterHub's LocalProcessSpawner starts
under that user's uid (as The Littlest JupyterHub does), so file permissions keep
students out of the course folder. deploy/install.sh prepares what this file expects:

- students' servers run in the *student* environment (deploy/requirements-student.txt):
  JupyterLab with nbgrader's Assignments tab and Validate, no Formgrader, no
  `autograder` package, no reference solutions;
- the instructor's server runs in the *course* environment (requirements.txt) and opens
  in the instructor's copy of the course (source/, release/, gradebook.db,
  nbgrader_config.py), a folder only the instructor can read;
- nbgrader's exchange is a shared folder (release_assignment writes, students fetch and
  submit through the Assignments tab, collect reads).

Start the hub as root, from a folder only root can read (it keeps its database there):

    cd /srv/jupyterhub && /opt/cnn-internals/course-venv/bin/jupyterhub \
        -f /home/instructor/cnn-internals/deploy/jupyterhub_config.py

The settings below can be changed here or through the environment variables named.
Users log in with their system password (PAM, JupyterHub's default authenticator);
tests/test_jupyterhub.py runs this file with the dummy authenticator.
"""
import os

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

# ---------------------------------------------------------------- the site
INSTRUCTOR = os.environ.get("COURSE_INSTRUCTOR", "instructor")
# Students allowed to log in, separated by spaces (or list them here).
STUDENTS = set(os.environ.get("COURSE_STUDENTS", "").split())
PREFIX = os.environ.get("COURSE_PREFIX", "/opt/cnn-internals")       # holds both environments
COURSE_DIR = os.environ.get("COURSE_DIR", f"/home/{INSTRUCTOR}/cnn-internals")
EXCHANGE = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
STUDENT_VENV = os.environ.get("COURSE_STUDENT_VENV", os.path.join(PREFIX, "student-venv"))
COURSE_VENV = os.environ.get("COURSE_COURSE_VENV", os.path.join(PREFIX, "course-venv"))
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

# ---------------------------------------------------------------- users and servers
c.Authenticator.allowed_users = STUDENTS | {INSTRUCTOR}
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.default_url = "/lab"
c.Spawner.cmd = [os.path.join(STUDENT_VENV, "bin", "jupyterhub-singleuser")]
c.Spawner.environment = {
    # Terminals and nbgrader's own subprocesses find the student environment first.
    "PATH": os.path.join(STUDENT_VENV, "bin") + os.pathsep + SYSTEM_PATH,
}


def course_environment(spawner):
    """The instructor's server: the course environment, opened in the course folder."""
    if spawner.user.name != INSTRUCTOR:
        return
    spawner.cmd = [os.path.join(COURSE_VENV, "bin", "jupyterhub-singleuser")]
    spawner.notebook_dir = COURSE_DIR
    # nbgrader runs alembic from PATH; the course's nbgrader_config.py reads the exchange here.
    spawner.environment = {"PATH": os.path.join(COURSE_VENV, "bin") + os.pathsep + SYSTEM_PATH,
                           "NBGRADER_EXCHANGE_ROOT": EXCHANGE}


c.Spawner.pre_spawn_hook = course_environment

# ---------------------------------------------------------------- the hub's own files
STATE = os.environ.get("COURSE_HUB_STATE", "/srv/jupyterhub")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "jupyterhub-proxy.pid")
