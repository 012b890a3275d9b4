"""The instructor's job with real nbgrader: release, collect, autograde, feedback, export, report.

Every step shells out to the `nbgrader` of this environment with the repo's
`nbgrader_config.py`; `WORKBOOK_COURSE_ROOT` points it at a course directory (`demo/`,
or a test's temporary folder), and `WORKBOOK_DB_URL` at another gradebook if wanted.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from .. import authoring

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = "lesson5"


class NbgraderError(RuntimeError):
    """An nbgrader command failed; the message holds the end of its log."""


def _env(root: Path, db_url: str | None) -> dict:
    env = dict(os.environ, WORKBOOK_COURSE_ROOT=str(root))
    # nbgrader runs `alembic` from PATH to set up the gradebook: use this environment's.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if db_url:
        env["WORKBOOK_DB_URL"] = db_url
    return env


def nbgrader(root: Path, *args: str, db_url: str | None = None, on_line=None) -> str:
    """Run `nbgrader ARGS` on the course at `root`; return its log, raise NbgraderError on failure.

    `on_line(line)` is called with each log line as it arrives (for progress).
    """
    proc = subprocess.Popen([sys.executable, "-m", "nbgrader", *args], cwd=REPO, env=_env(root, db_url),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if on_line:
            on_line(line)
    log = "".join(lines)
    # nbgrader goes on past a notebook it could not process and exits 0; its log says which.
    failed = [line for line in lines if "There was an error processing" in line]
    if proc.wait() != 0 or failed:
        raise NbgraderError(f"nbgrader {' '.join(args)} failed (exit {proc.returncode}): {''.join(failed)}\n"
                            f"{log[-3000:]}")
    return log


def new_course(root: Path, notebooks: list[str] | None = None) -> None:
    """Make an empty course at `root` holding a copy of the repo's source notebooks (or of those named)."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(REPO / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in (root / "source" / ASSIGNMENT).glob("*.ipynb"):
        if notebooks is not None and path.stem not in notebooks:
            path.unlink()


def release(root: Path, db_url: str | None = None) -> list[Path]:
    """`nbgrader generate_assignment`: write the learners' notebooks under `root/release`."""
    nbgrader(root, "generate_assignment", ASSIGNMENT, "--force", db_url=db_url)
    return authoring.notebooks(root / "release" / ASSIGNMENT)


def reference_answers(source_dir: Path = REPO / "source" / ASSIGNMENT) -> dict[str, str]:
    """grade_id → the reference answer (solution markers removed) of every answer cell."""
    answers = {}
    for path in authoring.notebooks(source_dir):
        for cell in authoring.read(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("solution") and cell.cell_type == "code":
                answers[meta["grade_id"]] = authoring.strip_markers(cell.source)
    return answers


def fill(notebook: Path, answers: dict[str, str]):
    """The notebook with the answer cells named in `answers` (by grade_id) replaced by that code."""
    nb = authoring.read(notebook)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
            cell.source = answers[grade_id].strip()
    return nb


def submit(root: Path, student: str, notebooks: dict[str, "nbformat.NotebookNode"]) -> None:
    """Place a learner's notebooks (file name → notebook) where nbgrader collects them."""
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        nbformat.write(nb, str(folder / name))
    (folder / "timestamp.txt").write_text("2026-11-28 12:00:00.000000 UTC")


def autograde(root: Path, student: str | None = None, db_url: str | None = None, progress: bool = False,
              options: tuple[str, ...] = ()) -> str:
    """`nbgrader autograde` one learner's submission, or every submission (in one nbgrader run).

    `options` are extra nbgrader flags, e.g. `("--Execute.timeout=10",)`.
    """
    args = ["autograde", ASSIGNMENT, "--force", *options] + ([f"--student={student}"] if student else [])
    if not progress:
        return nbgrader(root, *args, db_url=db_url)
    from tqdm.auto import tqdm
    pattern = f"submitted/{student or '*'}/{ASSIGNMENT}/*.ipynb"
    with tqdm(total=len(list((root).glob(pattern))), desc="nbgrader autograde", unit="notebook") as bar:
        def on_line(line: str) -> None:
            if "Autograding " in line and line.rstrip().endswith(".ipynb"):
                bar.set_postfix_str(Path(line.split("Autograding ")[-1].strip()).parent.parent.name)
                bar.update()
        return nbgrader(root, *args, db_url=db_url, on_line=on_line)


def feedback(root: Path, db_url: str | None = None) -> Path:
    """`nbgrader generate_feedback` for every graded learner; returns the feedback folder."""
    nbgrader(root, "generate_feedback", ASSIGNMENT, "--force", db_url=db_url)
    return root / "feedback"


def export(root: Path, csv: Path, db_url: str | None = None) -> Path:
    """`nbgrader export` the gradebook to `csv`."""
    nbgrader(root, "export", f"--to={csv}", db_url=db_url)
    return csv


def db_url_of(root: Path, db_url: str | None = None) -> str:
    """The gradebook the course at `root` uses."""
    return db_url or os.environ.get("WORKBOOK_DB_URL") or f"sqlite:///{(root / 'gradebook.db').resolve()}"


def grades(db_url: str) -> list[dict]:
    """One row per (learner, notebook, graded cell): score, max_score, and whether it passed."""
    from nbgrader.api import Gradebook
    rows = []
    with Gradebook(db_url) as gb:
        for sub in gb.assignment_submissions(ASSIGNMENT):
            for nb in sub.notebooks:
                for grade in nb.grades:
                    score = grade.score
                    rows.append({"learner": sub.student.id, "notebook": nb.name, "cell": grade.name,
                                 "score": score, "max_score": grade.max_score,
                                 "passed": score == grade.max_score})
    return rows
