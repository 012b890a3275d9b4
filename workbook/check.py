"""`workbook check`: run a learner's notebooks as the autograder would and print one row per question.

    workbook check                                  # the notebooks here (or in ./lesson5, or release/lesson5)
    workbook check lesson5/01_embeddings.ipynb --timeout 120
    workbook check --json                           # machine-readable
    workbook check --no-run                         # only look at the files (names, test cells), quickly

Each notebook runs top to bottom in a fresh `python3` kernel, in its own folder, with
``NBGRADER_EXECUTION=validate`` (as `nbgrader validate` and JupyterLab's Validate button do,
so the demonstrations shrink). A question is a graded test cell (nbgrader metadata
``grade: true``); its status comes from the `workbook.record.Record` that cell shows (its
``application/vnd.workbook.record+json`` output), never from the text it prints:

- record "not answered"                    → "not answered yet";
- record "failed", or any error, or text on stderr (which the autograder scores as zero) → "failed",
  with the first failure;
- record "passed" (or no record and no error) → "passed".

The exit status is 0 only when every visible test of every notebook passes. Notebooks that
cannot be checked (not found, not valid JSON, not a workbook notebook, renamed, from another
course, test cells deleted) get a message saying what to do, and the others are still checked.
The points are what the visible tests would give: the autograder also runs hidden tests, so
passing here is necessary for full marks but does not promise them.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from . import notebooks, record
from .notebooks import DEFAULT_TIMEOUT, graded_cells, load, show
from .run import TIMEOUT_ERROR, execute, fresh_copy

PASSED, FAILED, NOT_ANSWERED, MISSING, BY_HAND, FLAGGED = (
    "passed", "failed", "not answered yet", "test cell missing", "graded by hand", "flagged")


@dataclasses.dataclass
class Row:
    """One question (graded cell) of a notebook."""

    question: str      # the cell's grade_id
    status: str        # PASSED, FAILED, NOT_ANSWERED, MISSING, BY_HAND or FLAGGED
    points: float      # earned by the visible tests: max_points when passed, else 0
    max_points: float
    message: str = ""  # the first failure, in one line ("" when passed)
    details: str = ""  # every failure the cell reported, one per line


@dataclasses.dataclass
class Report:
    """What `check_notebook` found in one notebook."""

    path: str
    rows: list[Row] = dataclasses.field(default_factory=list)
    problem: str = ""   # why the notebook could not be checked (fully), with what to do
    notes: list[str] = dataclasses.field(default_factory=list)  # worth knowing, not failures by themselves
    seconds: float = 0.0
    loaded: bool = True  # False: missing, unreadable, not a workbook notebook, renamed, another course's

    @property
    def ok(self) -> bool:
        """True when the notebook was checked and every visible test passed."""
        return not self.problem and all(r.status in (PASSED, BY_HAND) for r in self.rows) and bool(self.rows)

    def to_dict(self) -> dict:
        return {"notebook": self.path, "ok": self.ok, "loaded": self.loaded, "problem": self.problem or None,
                "notes": self.notes,
                "seconds": round(self.seconds, 2),
                "points": sum(r.points for r in self.rows), "max_points": sum(r.max_points for r in self.rows),
                "questions": [dataclasses.asdict(r) for r in self.rows]}


# --- a graded cell's status, from its outputs ---------------------------------------------------

def _text(output) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def _one_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def record_of(cell) -> record.Record | None:
    """The `Record` a graded cell showed, or None (it did not get that far, or the record is damaged)."""
    try:
        return record.from_outputs(cell.get("outputs", []))
    except (TypeError, ValueError):
        return None


def _not_answered(rec: record.Record) -> str:
    """`not answered yet. Replace ... in `one_hot` ...` → `Replace ... in `one_hot` ...` (the status says the rest)."""
    message = rec.message or rec.summary()
    lead = "not answered yet."
    return message[len(lead):].strip() if message.lower().startswith(lead) else message


def status_of(cell, timeout: int = DEFAULT_TIMEOUT) -> Row:
    """The row of a graded cell, from its outputs after execution (`timeout`: the per-cell limit it ran under)."""
    m = notebooks.meta(cell)
    max_points, question = float(m.get("points", 0) or 0), m.get("grade_id", "?")
    if cell.cell_type != "code" or m.get("solution"):
        return Row(question, BY_HAND, 0.0, max_points, "the instructor grades this answer")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    stderr = "".join(_text(o) for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
    rec = record_of(cell)
    if any(e.ename in (TIMEOUT_ERROR, "KeyboardInterrupt") for e in errors):
        return Row(question, FAILED, 0.0, max_points,
                   f"stopped: this cell ran longer than the {timeout} s allowed per cell (an endless loop? "
                   "a demonstration too big? `workbook check --timeout SECONDS` allows more)")
    if rec is not None and rec.status == record.NOT_ANSWERED:
        return Row(question, NOT_ANSWERED, 0.0, max_points, _not_answered(rec))
    if rec is not None and rec.status == record.FLAGGED:
        return Row(question, FLAGGED, 0.0, max_points, rec.summary(), "\n".join(rec.details()))
    if rec is not None and rec.status == record.FAILED:
        first = rec.failures[0].text() if rec.failures else rec.summary()
        return Row(question, FAILED, 0.0, max_points, first, "\n".join(line.strip() for line in rec.details()))
    if errors:  # the cell stopped before its record (a NameError, say), or raised after it
        error = errors[0]
        first = _one_line(error.evalue)
        return Row(question, FAILED, 0.0, max_points, f"{error.ename}: {first}" if first else error.ename,
                   f"{error.ename}: {error.evalue.strip()}")
    if stderr.strip():
        return Row(question, FAILED, 0.0, max_points,
                   f"the cell wrote to stderr, which the autograder scores as 0: {_one_line(stderr)}", stderr.strip())
    return Row(question, PASSED, max_points, max_points)


def _answer_cell_notes(nb) -> list[str]:
    """Answer cells that raised something else than the stub's NotImplementedError."""
    notes = []
    for cell in nb.cells:
        m = notebooks.meta(cell)
        if cell.cell_type != "code" or not m.get("solution") or m.get("grade"):
            continue
        for out in cell.outputs:
            if out.output_type == "error" and out.ename != "NotImplementedError":
                first = _one_line(out.evalue)
                notes.append(f"your answer cell `{m.get('grade_id', '?')}` raised {out.ename}"
                             f"{': ' + first if first else ''}; fix it and run it before its tests.")
                break
    return notes


# --- one notebook ---------------------------------------------------------------------------------

def inspect_notebook(path) -> tuple[Report, object, list[str], dict[str, float]]:
    """Read a notebook without running it: (report with its problems and notes, notebook or None, missing, points)."""
    path = Path(path)
    report = Report(show(path))
    nb, report.problem = load(path)
    if nb is None:
        report.loaded = False
        return report, None, [], {}
    missing, report.notes, points, report.problem = notebooks.inspect(path, nb)
    return report, nb, missing, points


def check_notebook(path, timeout: int = DEFAULT_TIMEOUT) -> Report:
    """Check one notebook; never raises for a learner's problem (it goes into `Report.problem`)."""
    started = time.monotonic()
    report, nb, missing, points = inspect_notebook(path)
    if nb is None:
        return report
    executed = fresh_copy(nb)
    try:
        execute(executed, Path(path).resolve().parent, timeout)
    except Exception as exc:  # the kernel died or could not start: say so; cells not reached are "not run"
        detail = _one_line(str(exc)) or type(exc).__name__
        report.problem = "; ".join(filter(None, [report.problem, (
            f"the notebook could not be run to the end ({type(exc).__name__}: {_clip(detail, 160)}). If the kernel "
            "died, a cell may use too much memory or call exit(): run the notebook in JupyterLab to find it.")]))
    report.rows = [status_of(c, timeout) if c.cell_type != "code" or c.execution_count is not None or c.outputs
                   else Row(notebooks.meta(c)["grade_id"], FAILED, 0.0, float(notebooks.meta(c).get("points", 0) or 0),
                            "not run: the notebook stopped before this cell")
                   for c in graded_cells(executed)]
    report.rows += [Row(gid, MISSING, 0.0, points.get(gid, 0.0), "restore the test cell (see below)")
                    for gid in missing]
    report.notes += _answer_cell_notes(executed)
    report.seconds = time.monotonic() - started
    return report


def _missing_notebook(name: str, problem: str) -> Report:
    return Report(name, problem=problem, loaded=False)


def check_notebooks(paths, timeout: int = DEFAULT_TIMEOUT, jobs: int = 1) -> list[Report]:
    """`check_notebook` for each path (folders expand to their notebooks), `jobs` at a time."""
    paths = notebooks.expand([str(p) for p in paths]) if paths else notebooks.default_notebooks()
    if jobs > 1 and len(paths) > 1:
        # spawn, not fork: the caller may hold threads (a kernel client, torch) that fork would break
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=get_context("spawn")) as pool:
            return list(pool.map(check_notebook, paths, [timeout] * len(paths)))
    return [check_notebook(p, timeout) for p in paths]


# --- printing -------------------------------------------------------------------------------------

def _points(x: float) -> str:
    return f"{x:g}"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:max(width - 1, 1)].rstrip() + "…"


def format_report(report: Report, width: int | None = None) -> str:
    """The table of one notebook, as plain text, fitted to `width` columns (the terminal's by default)."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    lines = [report.path]
    if report.problem and not report.rows:
        lines.append(f"  ✗ {report.problem}")
        lines += [f"  ! {note}" for note in report.notes]
        return "\n".join(lines)
    if not report.rows:  # looked at, not run (--no-run)
        lines += [f"  ! {note}" for note in report.notes] or ["  ✓ the file looks fine"]
        return "\n".join(lines)
    q_w = max([len("question")] + [len(r.question) for r in report.rows])
    s_w = max(len(s) for s in (PASSED, FAILED, NOT_ANSWERED, MISSING))
    p_w = max([len("points")] + [len(f"{_points(r.points)}/{_points(r.max_points)}") for r in report.rows])
    msg_w = max(width - (2 + q_w + 2 + s_w + 2 + p_w + 2), 40)
    row = f"  {{:<{q_w}}}  {{:<{s_w}}}  {{:>{p_w}}}  {{}}"
    lines.append(row.format("question", "status", "points", "first failure").rstrip())
    for r in report.rows:
        lines.append(row.format(r.question, r.status, f"{_points(r.points)}/{_points(r.max_points)}",
                                _clip(r.message, msg_w)).rstrip())
    counts: dict[str, int] = {}
    for r in report.rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines.append(row.format("total", "", f"{_points(sum(r.points for r in report.rows))}/"
                                          f"{_points(sum(r.max_points for r in report.rows))}", summary).rstrip())
    lines += [f"  ! {note}" for note in ([report.problem] if report.problem else []) + report.notes]
    return "\n".join(lines)


# --- the command ----------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    folder = notebooks.default_folder()
    parser = argparse.ArgumentParser(
        prog="workbook check",
        description="Run notebooks as the autograder would and show, per question, whether its visible tests "
                    "pass. Exit status 0 only when every visible test passes.",
        epilog="The autograder also runs hidden tests: passing here is needed for full marks but does not promise "
               "them. Same per-question checks as pytest tests: workbook check --pytest "
               "(or: pytest --pyargs workbook.learner_tests).")
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                        help="notebooks or folders to check (default: the notebooks in this folder, else in "
                             f"./{notebooks.ASSIGNMENT}" + (f"; here: {show(folder)}" if folder else "") + ")")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"time limit per cell (default {DEFAULT_TIMEOUT}, as the autograder's)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="notebooks checked at the same time, each in its own kernel (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    parser.add_argument("--no-run", action="store_true",
                        help="only read the files (missing, renamed or damaged notebooks, deleted or edited test "
                             "cells), in a second; run nothing")
    parser.add_argument("--pytest", action="store_true",
                        help="run the same checks as pytest tests, one per question (other arguments after "
                             "the notebooks go to pytest)")
    return parser


def _targets(named: list[str]) -> tuple[list[Path], list[Report]]:
    """The notebooks to check, and a report for each workbook notebook a checked folder lacks."""
    folders = [Path(p) for p in named if Path(p).is_dir()] if named else (
        [notebooks.default_folder()] if notebooks.default_folder() else [])
    paths = notebooks.expand(named) if named else notebooks.default_notebooks()
    absent = [_missing_notebook(show(folder / name), problem) for folder in folders
              for name, problem in notebooks.folder_problems(folder).items()]
    return paths, absent


def check_main(argv: list[str] | None = None) -> int:
    """Check your notebooks' visible tests: a table per notebook, exit status 0 only when all pass."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.pytest:
        return _run_pytest(args, rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    paths, reports = _targets(args.notebooks)
    if not paths and not reports:
        print(f"No notebooks found here or in ./{notebooks.ASSIGNMENT}: name the notebooks to check "
              "(workbook check FOLDER_OR_NOTEBOOK ...), or run it in the folder that holds them.", file=sys.stderr)
        return 2
    if args.no_run:
        reports = [inspect_notebook(p)[0] for p in paths] + reports
    elif args.json or args.jobs > 1:
        reports = check_notebooks(paths, args.timeout, args.jobs) + reports
    else:  # one at a time, each table printed as soon as it is ready
        live, done = sys.stdout.isatty(), []
        for path in paths:
            if live:
                print(f"checking {show(path)} ...", end="\r", flush=True)
            report = check_notebook(path, args.timeout)
            if live:
                print(" " * (len(show(path)) + 15), end="\r")
            print(format_report(report) + "\n", flush=True)
            done.append(report)
        for report in reports:
            print(format_report(report) + "\n", flush=True)
        reports = done + reports
    if args.no_run:
        ok = all(not r.problem for r in reports)
    else:
        ok = all(r.ok for r in reports)
    if args.json:
        print(json.dumps({"ok": ok, "notebooks": [r.to_dict() for r in reports]}, indent=1, ensure_ascii=False))
        return 0 if ok else 1
    if args.no_run or args.jobs > 1:
        for report in reports:
            print(format_report(report) + "\n", flush=True)
    bad = [r for r in reports if (r.problem if args.no_run else not r.ok)]
    n, s = len(reports), "s" if len(reports) > 1 else ""
    if args.no_run:
        print(f"{n} notebook{s} read, none run: " + ("the files look fine." if ok else
              f"{len(bad)} need{'s' if len(bad) == 1 else ''} fixing: " + ", ".join(Path(r.path).name for r in bad)))
    elif ok:
        print(f"All visible tests pass in {n} notebook{s}. The autograder also runs hidden tests.")
    else:
        print(f"{len(bad)} of {n} notebook{s} {'have' if len(bad) > 1 else 'has'} questions to finish or fix: "
              + ", ".join(Path(r.path).name for r in bad) + ". Each test cell, run in JupyterLab, prints "
              "what passed and failed.")
    return 0 if ok else 1


def _run_pytest(args, rest: list[str]) -> int:
    try:
        import pytest
    except ImportError:
        print("--pytest needs pytest: pip install pytest", file=sys.stderr)
        return 2
    if args.notebooks:
        os.environ["WORKBOOK_CHECK_NOTEBOOKS"] = os.pathsep.join(
            str(p.resolve()) for p in notebooks.expand(args.notebooks))
    os.environ["WORKBOOK_CHECK_TIMEOUT"] = str(args.timeout)
    return int(pytest.main(["--pyargs", "workbook.learner_tests", "-p", "no:cacheprovider", *rest]))


if __name__ == "__main__":
    sys.exit(check_main())
