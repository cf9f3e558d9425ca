"""nbgrader configuration of the course; nbgrader loads it when run from this folder.

The course root is this folder: lessons in source/<lesson>/, student versions
in release/<lesson>/ (committed), submissions in submitted/, and the gradebook
in gradebook.db (the last three are ignored by git).
"""
import os
import warnings

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cnn-internals"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

# nbgrader's exchange: release_assignment puts lessons there for students to fetch,
# students submit there, collect and release_feedback read and write it. By default
# exchange/ in this folder, so the README's instructor path works on one machine; a
# shared server names its shared folder in NBGRADER_EXCHANGE_ROOT (deploy/).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT") or os.path.join(c.CourseDirectory.root, "exchange")
# SQLAlchemy's "Object of type <SubmittedNotebook> not in session" on every autograde is
# about nbgrader's own bookkeeping; hidden, it no longer buries the warnings that matter.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session")
# release_feedback skips (and names) submissions copied into submitted/ by hand,
# instead of stopping at the first one (autograder/nbgrader_instructor.py).
c.ExchangeFactory.release_feedback = "autograder.nbgrader_instructor.ReleaseFeedback"

# Release notebooks open with a note saying they are generated.
c.IncludeHeaderFooter.header = os.path.join(c.CourseDirectory.root, "autograder", "templates",
                                            "release_header.ipynb")

# Autograde with the course engine instead of nbgrader's in-kernel Execute:
# student code runs sandboxed, hidden checks run in the grader's process, and
# every hidden-check cell gets an explicit partial-credit score (see
# autograder/nbgrader_plugin.py for why nbgrader's defaults are not fair here).
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugin.GradeWithEngine",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Before grading, put back hidden cells a student deleted, renamed or re-flagged
# (from the gradebook), and turn an unreadable file into a notebook that says why
# instead of an autograde crash.
from autograder.nbgrader_plugin import replace_unreadable_submissions  # noqa: E402

c.Autograde.pre_convert_hook = replace_unreadable_submissions
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.nbgrader_plugin.RepairGradeCells",
    # hidden-check cells left as released get their hidden tests back, so OverwriteCells
    # warns only about cells a student really changed (nbgrader #1961)
    "autograder.nbgrader_instructor.RestoreHiddenTests",
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradeWithEngine.cell_timeout = 30
c.GradeWithEngine.call_timeout = 10

# Feedback HTML for students: the course's template (autograder/templates/nbconvert/course_feedback)
# loads nothing from a CDN (formulas as MathML), wraps long output lines and lists the hidden checks
# by exercise.
# Scoped to GenerateFeedback so that Formgrader keeps its own template.
from autograder.nbgrader_plugin import FEEDBACK_TEMPLATE_DIRS  # noqa: E402

c.GenerateFeedback.HTMLExporter.template_name = "course_feedback"
c.GenerateFeedback.HTMLExporter.template_file = "course_feedback.html.j2"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = FEEDBACK_TEMPLATE_DIRS
# Formulas become MathML at feedback time, which browsers draw themselves (autograder/feedback_math.py).
c.GenerateFeedback.HTMLExporter.filters = {"markdown2html": "autograder.feedback_math.markdown2html"}

# Validate (the student's button) runs the notebook in the student's own kernel;
# slow cells such as training get a generous limit.
c.Execute.timeout = 120
