"""nbgrader configuration of the course; nbgrader loads it when run from this folder.

The course root is this folder: lessons in source/<lesson>/, student versions
in release/<lesson>/ (committed), submissions in submitted/, and the gradebook
in gradebook.db (the last three are ignored by git).
"""
import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cnn-internals"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))

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
    "nbgrader.preprocessors.OverwriteCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.GradeWithEngine.cell_timeout = 30
c.GradeWithEngine.call_timeout = 10

# Validate (the student's button) runs the notebook in the student's own kernel;
# slow cells such as training get a generous limit.
c.Execute.timeout = 120
