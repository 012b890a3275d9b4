"""The workbook's visible tests as pytest tests: one test per question (graded cell).

    pytest --pyargs workbook.learner_tests                 # the notebooks `workbook check` takes by default
    workbook check --pytest                                 # the same
    workbook check --pytest my/01_embeddings.ipynb -x -q    # some notebooks; pytest options after them
    WORKBOOK_CHECK_NOTEBOOKS=a.ipynb:b.ipynb pytest --pyargs workbook.learner_tests

Each notebook runs once per pytest session, as `workbook check` runs it (a fresh kernel, in its
folder, as the autograder's validation does); each question's test then reads its cell's result.
A question not answered yet FAILS, with the message "not answered yet: ...": a pass would claim
work that is not done, and a skip is easy to overlook. A notebook that cannot be checked (not
valid JSON, not a workbook notebook) gives one failing test saying what to do; a deleted test
cell gives a failing test under its question's name.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook import check
from workbook import notebooks as nbs

_NOTEBOOKS = "WORKBOOK_CHECK_NOTEBOOKS"  # os.pathsep-separated notebooks (default: as `workbook check`)
_TIMEOUT = "WORKBOOK_CHECK_TIMEOUT"      # seconds per cell


def notebooks() -> list[Path]:
    """The notebooks to test: $WORKBOOK_CHECK_NOTEBOOKS, else those `workbook check` takes by default."""
    named = [p for p in os.environ.get(_NOTEBOOKS, "").split(os.pathsep) if p]
    return [Path(p) for p in named] if named else nbs.default_notebooks()


def _questions() -> list:
    """pytest params (notebook, question), read from the files without running them."""
    params = []
    for path in notebooks():
        nb, problem = nbs.load(path)
        if nb is None:
            params.append(pytest.param(str(path), None, id=f"{path.stem}::notebook"))
            continue
        ids = [nbs.meta(c)["grade_id"] for c in nbs.graded_cells(nb)]
        release = nbs.release_copy(path)
        released = nbs.read(release) if release is not None else None
        if released is not None:
            ids += [i for i in nbs.cell_ids(released, graded_only=True) if i not in ids]
        params += [pytest.param(str(path), q, id=f"{path.stem}::{q}") for q in ids]
    return params


_REPORTS: dict[str, check.Report] = {}  # notebook path → its report, once per session


def _report(path: str) -> check.Report:
    """Run each notebook once per session."""
    if path not in _REPORTS:
        _REPORTS[path] = check.check_notebook(Path(path), int(os.environ.get(_TIMEOUT, check.DEFAULT_TIMEOUT)))
    return _REPORTS[path]


def pytest_generate_tests(metafunc):
    """Parametrise at collection time, so that $WORKBOOK_CHECK_NOTEBOOKS is read then."""
    if {"notebook", "question"} <= set(metafunc.fixturenames):
        metafunc.parametrize("notebook, question", _questions())


def test_question(notebook: str, question: str | None) -> None:
    """The question's visible tests pass in a fresh run of its notebook."""
    report = _report(notebook)
    if question is None:  # the notebook itself cannot be checked
        pytest.fail(report.problem, pytrace=False)
    row = next((r for r in report.rows if r.question == question), None)
    if row is None:
        pytest.fail(report.problem or f"{question}: no result (the notebook stopped before it?)", pytrace=False)
    if row.status == check.NOT_ANSWERED:
        pytest.fail(f"not answered yet: {row.message}", pytrace=False)
    if row.status == check.MISSING:
        pytest.fail(report.problem, pytrace=False)
    if row.status in (check.FAILED, check.FLAGGED):
        pytest.fail(f"{question} failed:\n{row.details or row.message}", pytrace=False)
