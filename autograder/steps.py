"""The course's own steps in nbgrader's autograde, so that one submission can only cost its own points.

- `SafeNotebookExporter` reads a submitted file; one that is not a notebook (or is too large)
  becomes an empty notebook that says why, graded like an empty one, and flagged for review.
- `Quarantine` (first of the sanitize steps) repairs or drops nbgrader metadata that would make
  nbgrader abort the whole class (a wrong `schema_version`, a malformed dict, an unknown id).
- `DropEmptyMetadata` (after `DeduplicateIds`) turns a de-duplicated test cell into an ordinary
  cell (nbgrader 0.9 leaves it with empty metadata, on which `OverwriteCells` crashes).
- `FlagForReview` (after `SaveAutoGrades`) marks each graded cell that the trusted grader flagged
  as needing manual grading, with the reason in the answer cell's comment.
"""
from __future__ import annotations

import os

import nbformat
from nbconvert.exporters import NotebookExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.nbgraderformat import MetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

from workbook.record import FLAGGED, from_outputs

UNREADABLE = "unreadable"  # notebook metadata["workbook"][UNREADABLE]: why the submitted file could not be read


class SafeNotebookExporter(NotebookExporter):
    """nbconvert's notebook exporter, which never fails on what a learner handed in."""

    max_bytes = Integer(50 * 2**20, help="Largest notebook file read; a larger one is graded as empty.").tag(
        config=True)

    def from_filename(self, filename, resources=None, **kw):
        try:
            size = os.path.getsize(filename)
            if size > self.max_bytes:
                raise ValueError(f"the file is {size / 2**20:.0f} MB, over the limit of {self.max_bytes / 2**20:.0f} MB")
            nb = nbformat.read(filename, as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # not JSON, not a notebook, unreadable: the learner's file, kept as it is
            reason = f"{os.path.basename(filename)} could not be read as a notebook ({type(exc).__name__}: {exc})"[:500]
            self.log.error("%s; grading the released notebook, unanswered, in its place", reason)
            nb = _released(resources, reason)
        return self.from_notebook_node(nb, resources=resources, **kw)


def _released(resources, reason: str):
    """The released notebook's graded and answer cells (stubs), from the gradebook, marked with `reason`."""
    nb = new_notebook(cells=[new_markdown_cell(f"**Not graded automatically:** {reason}.")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                                "workbook": {UNREADABLE: reason}})
    try:
        gb, notebook, assignment, _ = _gradebook(resources)
        with gb:
            source = gb.find_notebook(notebook, assignment)
            graded = {c.name: c.max_score for c in source.grade_cells}
            solutions = {c.name for c in source.solution_cells}
            for c in source.source_cells:
                meta = {"grade": c.name in graded, "grade_id": c.name, "locked": c.locked, "schema_version": 3,
                        "solution": c.name in solutions, "task": False, "checksum": c.checksum,
                        **({"points": graded[c.name]} if c.name in graded else {})}
                cell = (new_code_cell if c.cell_type == "code" else new_markdown_cell)(c.source)
                cell.metadata["nbgrader"] = meta
                nb.cells.append(cell)
    except (KeyError, MissingEntry):  # no gradebook in the resources: the note alone
        pass
    return nb


def _gradebook(resources):
    nbg = resources["nbgrader"]
    return Gradebook(nbg["db_url"]), nbg["notebook"], nbg["assignment"], nbg.get("student")


class Quarantine(NbGraderPreprocessor):
    """Repair nbgrader metadata that nbgrader would abort on: from the gradebook for a known id, else drop it."""

    def preprocess(self, nb, resources):
        gb, notebook, assignment, _ = _gradebook(resources)
        with gb:
            source = gb.find_notebook(notebook, assignment)
            known = {c.name: c for c in source.source_cells}
            graded = {c.name: c.max_score for c in source.grade_cells}
            solutions = {c.name for c in source.solution_cells}
            tasks = {c.name for c in source.task_cells}
        validator = MetadataValidator()
        for cell in nb.cells:
            if "nbgrader" not in cell.metadata:
                continue
            meta = cell.metadata["nbgrader"]
            try:
                validator.validate_cell(cell)
                continue
            except Exception as exc:  # nbgrader's schema errors, jsonschema's, a meta that is not a dict
                why = exc
            grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
            if isinstance(grade_id, str) and grade_id in known:
                self.log.warning("Cell %r had broken nbgrader metadata (%s): restored from the gradebook", grade_id, why)
                cell.metadata["nbgrader"] = {
                    "grade": grade_id in graded, "grade_id": grade_id, "locked": known[grade_id].locked,
                    "schema_version": validator.schema_version, "solution": grade_id in solutions,
                    "task": grade_id in tasks, **({"points": graded[grade_id]} if grade_id in graded else {})}
            else:
                self.log.warning("A cell had broken nbgrader metadata (%s): it is graded as an ordinary cell", why)
                del cell.metadata["nbgrader"]
        return nb, resources


class DropEmptyMetadata(NbGraderPreprocessor):
    """Remove `metadata.nbgrader` where it is empty, making the cell an ordinary one."""

    def preprocess_cell(self, cell, resources, cell_index):
        if "nbgrader" in cell.metadata and not cell.metadata.nbgrader:
            del cell.metadata["nbgrader"]
        return cell, resources


class FlagForReview(NbGraderPreprocessor):
    """Mark the graded cells the trusted grader flagged as needing manual grading, with its reasons."""

    def preprocess(self, nb, resources):
        from . import exercises
        flagged = []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            record = from_outputs(cell.get("outputs", [])) if meta.get("grade") and cell.cell_type == "code" else None
            if record is not None and record.status == FLAGGED:
                flagged.append((meta["grade_id"], record))
        if not flagged:
            return nb, resources
        gb, notebook, assignment, student = _gradebook(resources)
        solutions = [c.metadata.nbgrader["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
        with gb:
            for grade_id, record in flagged:
                grade = gb.find_grade(grade_id, notebook, assignment, student)
                grade.needs_manual_grade = True
                try:
                    answer = exercises.find(grade_id)[1].answers[0]
                except KeyError:
                    answer = solutions[0] if solutions else None
                if answer in solutions:
                    try:
                        comment = gb.find_comment(answer, notebook, assignment, student)
                    except MissingEntry:
                        continue
                    note = f"{record.title}: flagged for grading by hand: {'; '.join(record.flags)}."
                    if note not in (comment.auto_comment or ""):
                        comment.auto_comment = "\n".join(filter(None, [comment.auto_comment, note]))
                self.log.warning("%s flagged for grading by hand: %s", grade_id, "; ".join(record.flags))
            gb.db.commit()
        return nb, resources
