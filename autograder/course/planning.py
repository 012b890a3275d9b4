"""`workbook autograde`'s plan: which learners a run grades, by nbgrader's rules and ours, and each one's `Job`.

A learner is graded again when their submission is newer than the one graded (nbgrader's timestamp rule)
or its files differ from those graded: the digest of the graded files is kept under `autograded/.workbook/`.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import ASSIGNMENT
from . import gradebook as gbk
from .report import Outcome
from .worker import Job, read_tree

STATE = ".workbook"       # root/autograded/.workbook/: what was graded (digests), failure logs, staging


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def _timestamp(folder: Path):
    from nbgrader.utils import parse_utc
    try:
        text = (folder / "timestamp.txt").read_text().strip()
        return parse_utc(text) if text else None
    except (OSError, ValueError):
        return None


def state_folder(root: Path, assignment: str) -> Path:
    return root / "autograded" / STATE / assignment


def submitted_learners(root: Path, assignment: str = ASSIGNMENT) -> list[str]:
    folder = root / "submitted"
    return sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def plan(root: Path, db_url: str, assignment: str = ASSIGNMENT, students=None, force: bool = False
         ) -> tuple[list[str], list[Outcome]]:
    """(learners to grade, outcomes of those skipped or without a submission), by nbgrader's rules and ours.

    Graded: `force`; no autograded folder; no submission in the gradebook; a newer timestamp than the one
    graded (nbgrader's rule); submitted files other than those graded (a digest kept at grading).
    """
    present = submitted_learners(root, assignment)
    wanted = present if not students else list(dict.fromkeys(students))
    outcomes = [Outcome(s, "failed", f"no submission: nothing under submitted/{s}/{assignment}")
                for s in wanted if s not in present]
    wanted = [s for s in wanted if s in present]
    in_gradebook = set(gbk.scores(db_url, assignment, wanted))
    todo = []
    for s in wanted:
        src, dest = root / "submitted" / s / assignment, root / "autograded" / s / assignment
        record = state_folder(root, assignment) / f"{s}.json"
        graded = json.loads(record.read_text()).get("digest") if record.is_file() else None
        new, old = _timestamp(src), _timestamp(dest)
        if force or not dest.is_dir() or s not in in_gradebook or (new and old and new > old) or \
                (graded is not None and graded != digest(read_tree(src))):
            todo.append(s)
        else:
            outcomes.append(Outcome(s, "skipped", "already graded (unchanged since; --force grades it again)"))
    return todo, outcomes


def source_files(root: Path, assignment: str = ASSIGNMENT) -> dict[str, bytes]:
    """The assignment's non-notebook source files (nbgrader copies them over each submission)."""
    folder = root / "source" / assignment
    return {k: v for k, v in read_tree(folder).items() if not k.endswith(".ipynb")} if folder.is_dir() else {}


def make_job(root: Path, db_url: str, student: str, source: dict, assignment: str = ASSIGNMENT,
             options: tuple[str, ...] = (), eng=None) -> Job:
    if eng is not None:
        with eng.connect() as conn:
            rows = gbk.learner_rows(db_url, assignment, student, conn)
    else:
        rows = gbk.learner_rows(db_url, assignment, student)
    return Job(student, assignment, read_tree(root / "submitted" / student / assignment), source, rows,
               tuple(options))
