"""A sanitize step nbgrader's autograde lacks: after `DeduplicateIds`, drop the emptied metadata.

nbgrader 0.9 keeps the last copy of a duplicated graded cell and empties the others' `nbgrader`
metadata; with `OverwriteCells.add_missing_cells` on, that empty metadata then crashes
autograding (KeyError 'grade_id'), so a learner who duplicated a test cell would get no grade at all.
"""
from nbgrader.preprocessors import NbGraderPreprocessor


class DropEmptyMetadata(NbGraderPreprocessor):
    """Remove `metadata.nbgrader` where it is empty, making the cell an ordinary one."""

    def preprocess_cell(self, cell, resources, cell_index):
        if "nbgrader" in cell.metadata and not cell.metadata.nbgrader:
            del cell.metadata["nbgrader"]
        return cell, resources
