"""The call inside every hidden-check cell of a source notebook.

    from autograder.hidden import check
    check("max_pool2d", globals())

In the instructor's source notebook it runs the exercise's hidden checks
in-process against the functions defined there and shows the score, so the
author (and nbval in CI) sees every check pass. When a submission is graded
the cell is never run in the student's kernel: the grading engine runs the
checks in its sandbox and writes this cell's output itself.
"""
import os

from .grading.grader import InProcessCaller, run_exercise
from .grading.lessons import available_lessons


def find_exercise(name, lesson=None):
    """The Exercise called `name`; `lesson` (an id) picks one when several lessons share the name.

    Without `lesson`, the name means the first lesson that has it: a later lesson
    that reuses a name (lesson 5's max_pool2d, lesson 1's) passes lesson=... in
    its cells, so the earlier lesson's notebooks stay as they are.
    """
    found = [(l.id, e) for l in available_lessons() for e in l.exercises
             if e.name == name and lesson in (None, l.id)]
    if not found:
        raise KeyError(f"no lesson of the course has an exercise named {name!r}"
                       + (f" (looked in {lesson})" if lesson else ""))
    return found[0][1]


def check(name, namespace, lesson=None, seed=0):
    """Run exercise `name`'s hidden checks on namespace[name]; print them, return the score."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        # Reaching this line means nbgrader executed the hidden cell in the student's
        # kernel, i.e. the course's nbgrader_config.py was not used: refuse to grade there.
        raise RuntimeError("hidden checks must be graded by the course engine; run nbgrader "
                           "from the course folder so that its nbgrader_config.py is loaded")
    result = run_exercise(find_exercise(name, lesson), InProcessCaller(namespace), seed)
    print(result.feedback())
    return result.points
