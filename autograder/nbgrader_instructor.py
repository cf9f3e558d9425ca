"""Two fixes to nbgrader's instructor commands, wired in by nbgrader_config.py.

`RestoreHiddenTests` (an autograde sanitize preprocessor, just before nbgrader's
OverwriteCells): generate_assignment records a hidden-check cell's checksum *with*
its hidden tests but releases the cell without them, so OverwriteCells finds every
hidden-check cell of every student "changed" and logs "Attribute 'checksum' for
cell X has changed!" for each (nbgrader issue #1961), which buries the warnings
that matter. A cell whose source is exactly as released gets its hidden tests back
here, so OverwriteCells stays silent; a cell a student edited is left alone, and
OverwriteCells still warns about it and restores it.

`ReleaseFeedback` (nbgrader's release_feedback exchange step): nbgrader addresses
feedback to the submission's secret, written by `nbgrader submit`. A submission
copied into submitted/<student>/<lesson>/ by hand has none, and nbgrader stopped
with "FileNotFoundError ... timestamp.txt" before the other students. Here such a
student is skipped with a warning saying where the feedback is, and every student
who submitted through the exchange gets theirs.
"""
import glob
import os

from nbformat.v4 import new_code_cell
from nbgrader.api import Gradebook
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from .grading.notebook import nbgrader_meta


class RestoreHiddenTests(NbGraderPreprocessor):
    """Locked cells left as released get the gradebook's source (with hidden tests) back."""

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            notebook = gradebook.find_notebook(info["notebook"], info["assignment"])
            recorded = {cell.name: cell.source for cell in notebook.source_cells if cell.locked}
        # the same delimiters (and so the same result) as generate_assignment used
        clear = ClearHiddenTests(config=self.config)
        for cell in nb.cells:
            grade_id = nbgrader_meta(cell).get("grade_id")
            if not isinstance(grade_id, str) or grade_id not in recorded:
                continue
            released = new_code_cell(recorded[grade_id])
            try:
                had_hidden_tests = clear._remove_hidden_test_region(released)
            except RuntimeError:  # unbalanced markers in the source: leave it to OverwriteCells
                continue
            if had_hidden_tests and cell.source == released.source:
                cell.source = recorded[grade_id]
        return nb, resources


class ReleaseFeedback(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, which skips (and names) submissions copied in by hand."""

    def copy_files(self):
        by_hand = sorted({os.path.basename(os.path.dirname(folder))
                          for folder in glob.glob(self.src_path)
                          if not os.path.isfile(os.path.join(folder, "submission_secret.txt"))})
        for student in by_hand:
            self.log.warning(
                "Feedback for student '%s' not released: the submission was copied into submitted/ "
                "by hand, not submitted through the exchange, so nbgrader cannot address it (no "
                "submission_secret.txt). Send them %s yourself.", student,
                self.coursedir.format_path(self.coursedir.feedback_directory, student,
                                           self.coursedir.assignment_id))
        excluded = self.coursedir.student_id_exclude
        self.coursedir.student_id_exclude = ",".join(filter(None, [excluded, *by_hand]))
        try:
            super().copy_files()
        finally:
            self.coursedir.student_id_exclude = excluded
