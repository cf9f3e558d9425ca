#!/usr/bin/env bash
# Prepare one machine for deploy/jupyterhub_config.py (run as root, from the course root):
#
#   deploy/install.sh INSTRUCTOR
#
# 1. copies the course into the instructor's home (COURSE_DIR, default
#    /home/INSTRUCTOR/cnn-internals), owned by the instructor, mode 0700: students cannot
#    read source/, the gradebook or the reference solutions;
# 2. builds the course environment (requirements.txt, with the course package installed
#    from that copy) and the student environment (deploy/requirements-student.txt) under
#    PREFIX (default /opt/cnn-internals), readable by everyone; an existing one is reused
#    and brought up to date;
# 3. tells nbgrader in both environments the course id and where the exchange is, and
#    creates the exchange (EXCHANGE, default /srv/nbgrader/exchange), owned by the
#    instructor, mode 1777 like /tmp (nbgrader requires everyone to be able to write there;
#    the sticky bit keeps students from removing what the instructor made): nbgrader's
#    release_assignment creates the course's outbound/ (students read), inbound/ (students
#    write, cannot list) and feedback/ (students read what they know the name of) in it.
#
# Users are system users: create the instructor and the students first
# (`useradd -m NAME`), then list the students in COURSE_STUDENTS when starting the hub.
# Needs Python >= 3.10 with its venv module (PYTHON, default python3) that every user can
# run, i.e. not one installed in root's home.
set -euo pipefail

INSTRUCTOR=${1:?usage: deploy/install.sh INSTRUCTOR}
PYTHON=${PYTHON:-python3}
PREFIX=${COURSE_PREFIX:-/opt/cnn-internals}
COURSE_DIR=${COURSE_DIR:-/home/$INSTRUCTOR/cnn-internals}
EXCHANGE=${COURSE_EXCHANGE:-/srv/nbgrader/exchange}
STUDENT_VENV=${COURSE_STUDENT_VENV:-$PREFIX/student-venv}
COURSE_VENV=${COURSE_COURSE_VENV:-$PREFIX/course-venv}
COURSE_ID=cnn-internals   # c.CourseDirectory.course_id in nbgrader_config.py

cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "deploy/install.sh: run as root (it creates files for other users)" >&2; exit 2; }
id "$INSTRUCTOR" >/dev/null 2>&1 || { echo "deploy/install.sh: no user '$INSTRUCTOR'; useradd -m $INSTRUCTOR first" >&2; exit 2; }
"$PYTHON" -c 'import sys, venv; assert sys.version_info >= (3, 10)' 2>/dev/null \
    || { echo "deploy/install.sh: needs Python >= 3.10 with venv as \$PYTHON (now: $PYTHON)" >&2; exit 2; }

echo "== course folder $COURSE_DIR (owner $INSTRUCTOR, mode 0700)"
if [ ! -e "$COURSE_DIR/nbgrader_config.py" ]; then
    install -d -o "$INSTRUCTOR" -m 0700 "$COURSE_DIR"
    cp -r autograder source release notebooks deploy docs nbgrader_config.py pyproject.toml \
        requirements.txt README.md "$COURSE_DIR"/
    find "$COURSE_DIR" -name __pycache__ -prune -exec rm -rf {} +
fi
chown -R "$INSTRUCTOR": "$COURSE_DIR"
chmod 0700 "$COURSE_DIR"

# Both environments are built from the instructor's copy, so `-e .` points there.
build_env() {  # venv requirements-file
    [ -x "$1/bin/python" ] || "$PYTHON" -m venv "$1"
    (cd "$COURSE_DIR" && "$1/bin/pip" install -q -r "$2")
    chmod -R go+rX "$1"
}
echo "== course environment $COURSE_VENV"
build_env "$COURSE_VENV" requirements.txt
echo "== student environment $STUDENT_VENV"
build_env "$STUDENT_VENV" deploy/requirements-student.txt

# nbgrader reads <env>/etc/jupyter/nbgrader_config.py before the course folder's own file.
for venv in "$STUDENT_VENV" "$COURSE_VENV"; do
    install -d -m 0755 "$venv/etc/jupyter"
    cat > "$venv/etc/jupyter/nbgrader_config.py" <<EOF
# Written by deploy/install.sh: the course and its exchange on this machine.
c = get_config()
c.CourseDirectory.course_id = "$COURSE_ID"
c.Exchange.root = "$EXCHANGE"
EOF
    chmod 0644 "$venv/etc/jupyter/nbgrader_config.py"
done

echo "== exchange $EXCHANGE (owner $INSTRUCTOR, mode 1777)"
install -d -m 0755 "$(dirname "$EXCHANGE")"
install -d -o "$INSTRUCTOR" -m 1777 "$EXCHANGE"

echo "done. Start the hub as root, e.g.:"
echo "  mkdir -p -m 0700 /srv/jupyterhub && cd /srv/jupyterhub && COURSE_STUDENTS='alice bob' \\"
echo "    $COURSE_VENV/bin/jupyterhub -f $COURSE_DIR/deploy/jupyterhub_config.py"
