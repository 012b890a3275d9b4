"""`workbook autograde`'s results into place: one learner's gradebook merge and autograded files as one step.

The parent process is the only writer: the gradebook merge is `autograder.course.gradebook.merge`; here the
autograded files are staged, swapped in with it while Ctrl-C waits, and a failed learner's log is kept.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

from . import gradebook as gbk
from .planning import STATE, digest, state_folder
from .worker import Job, Result, write_tree


class _Deferred:
    """Hold Ctrl-C while a learner's results go in (gradebook and files), then raise it."""

    def __init__(self):
        self.hit = False

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            self.old = None
            return self
        self.old = signal.signal(signal.SIGINT, lambda *_: setattr(self, "hit", True))
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGINT, self.old)
        if self.hit and exc[0] is None:
            raise KeyboardInterrupt
        return False


def install(root: Path, db_url: str, job: Job, result: Result, eng=None) -> None:
    """Merge a good result into the gradebook and move its autograded files into place, as one step.

    Order: stage the files; remove the old autograded folder (from here on the learner reads as
    missing, so an interruption regrades them); commit the gradebook; move the staged files in.
    """
    state = state_folder(root, job.assignment)
    stage = root / "autograded" / STATE / "staging" / job.student
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    write_tree(stage, {rel: data for rel, (data, _) in result.files.items()})
    for rel, (_, mode) in result.files.items():
        os.chmod(stage / rel, mode)
    dest = root / "autograded" / job.student / job.assignment
    with _Deferred():
        if dest.exists():
            shutil.rmtree(dest)
        gbk.merge(db_url, job.assignment, job.student, result.results, eng)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(stage, dest)
        state.mkdir(parents=True, exist_ok=True)
        (state / f"{job.student}.json").write_text(json.dumps({"digest": digest(job.submitted),
                                                               "graded_at": time.time(), "host": result.host}))


def save_log(root: Path, assignment: str, result: Result) -> Path:
    folder = state_folder(root, assignment) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student}.log"
    path.write_text(result.log)
    return path
