"""The hidden-test block of a graded cell in a source notebook: run its declared check in this kernel.

    ### BEGIN HIDDEN TESTS
    from autograder.hidden import check; check("one_hot_values", globals())
    ### END HIDDEN TESTS

This runs where the instructor's own notebooks run (`nbgrader validate` of `source/`, the
instructor's JupyterLab): trusted code, in process. During autograde the cell never runs: the
grader runs the same declared check against the learner's sandboxed kernel (`autograder.execute`).
"""
from __future__ import annotations

from workbook.record import NOT_ANSWERED
from workbook.testing import ChecksFailed, NotAnswered, show

from . import exercises
from .grade import InProcess, grader


def block(grade_id: str) -> str:
    """The hidden-test block's code for the graded cell `grade_id`."""
    return f'from autograder.hidden import check; check("{grade_id}", globals())'


def check(grade_id: str, namespace: dict) -> None:
    """Grade `grade_id` over `namespace` as autograde would; show the record; fail the cell unless it passed.

    It returns nothing: a value would become the cell's result, which nbgrader reads as a partial score.
    """
    notebook, declared = exercises.find(grade_id)
    record = grader(notebook.reference, tuple(notebook.variants)).grade(declared, InProcess(namespace))
    show(record)
    if not record.passed:
        raise (NotAnswered if record.status == NOT_ANSWERED else ChecksFailed)(record.summary())
