"""`workbook check`: run a learner's notebooks as the autograder would and print one row per question.

    workbook check                                  # every notebook in release/lesson5
    workbook check release/lesson5/01_embeddings.ipynb --timeout 120
    workbook check --json                           # machine-readable

Each notebook runs top to bottom in a fresh `python3` kernel, in its own folder, with
``NBGRADER_EXECUTION=validate`` (as `nbgrader validate` and JupyterLab's Validate button do,
so the demonstrations shrink). A question is a graded test cell (nbgrader metadata
``grade: true``); its status comes from that cell's outputs:

- an error named ``NotAnswered``  → "not answered yet";
- any other error, or text on stderr (which the autograder scores as zero) → "failed",
  with the first ✗ line the visible tests printed, or else the error's first line;
- otherwise → "passed".

The exit status is 0 only when every visible test of every notebook passes. Notebooks that
cannot be checked (not found, not valid JSON, not a workbook notebook, test cells deleted)
get a message saying what to do, and the others are still checked. The points are what the
visible tests would give: the autograder also runs hidden tests, so passing here is
necessary for full marks but does not promise them.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

# jsonschema (through nbformat) imports the optional `rfc3987_syntax`, which builds a large
# grammar at import time (2-7 s; python-jsonschema/jsonschema#1392). nbformat's schema never
# uses the "iri" format it serves, so a learner's check need not wait for it.
if "rfc3987_syntax" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # `import` now raises ImportError

import nbformat  # noqa: E402


REPO = Path(__file__).resolve().parents[1]  # the repository (workbook/ is at its top)
RELEASE_DIR = REPO / "release" / "lesson5"
DEFAULT_TIMEOUT = 60  # seconds per cell, as nbgrader_config.py's c.Execute.timeout

PASSED, FAILED, NOT_ANSWERED, MISSING, BY_HAND = (
    "passed", "failed", "not answered yet", "test cell missing", "graded by hand")
_CROSS = "✗"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclasses.dataclass
class Row:
    """One question (graded cell) of a notebook."""

    question: str      # the cell's grade_id
    status: str        # PASSED, FAILED, NOT_ANSWERED, MISSING or BY_HAND
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

    @property
    def ok(self) -> bool:
        """True when the notebook was checked and every visible test passed."""
        return not self.problem and all(r.status in (PASSED, BY_HAND) for r in self.rows) and bool(self.rows)

    def to_dict(self) -> dict:
        return {"notebook": self.path, "ok": self.ok, "problem": self.problem or None, "notes": self.notes,
                "seconds": round(self.seconds, 2),
                "points": sum(r.points for r in self.rows), "max_points": sum(r.max_points for r in self.rows),
                "questions": [dataclasses.asdict(r) for r in self.rows]}


# --- reading a notebook -------------------------------------------------------------------

def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(nb) -> list:
    """The graded cells (nbgrader ``grade: true``), in notebook order."""
    return [c for c in nb.cells if _nbgrader(c).get("grade") and _nbgrader(c).get("grade_id")]


def _release_copy(path: Path) -> Path | None:
    """The release notebook of the same name, unless `path` is that notebook."""
    release = RELEASE_DIR / path.name
    try:
        if release.is_file() and release.resolve() != path.resolve():
            return release
    except OSError:
        pass
    return None


def _restore_hint(path: Path) -> str:
    release = _release_copy(path) or (RELEASE_DIR / path.name if (RELEASE_DIR / path.name).is_file() else None)
    if release is not None:
        return (f"get a fresh copy of {_show(release)} (or fetch the assignment again in the Assignment List), "
                "then copy your answers into it")
    return "get a fresh copy of the notebook (fetch the assignment again), then copy your answers into it"


def _show(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load(path: Path):
    """(notebook, "") or (None, a message saying what is wrong and what to do)."""
    if path.is_dir():
        return None, f"{_show(path)} is a folder, not a notebook: name the .ipynb files in it."
    if not path.exists():
        return None, f"{_show(path)} does not exist: check the name (notebooks end in .ipynb)."
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"{_show(path)} cannot be read ({type(exc).__name__}: {exc})."
    if not text.strip():
        return None, (f"{_show(path)} is empty: it may have been cut off while saving. "
                      f"Restore it: {_restore_hint(path)}.")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, (f"{_show(path)} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
                      "it may have been cut off while saving, or edited as text. Open it in JupyterLab's "
                      "text editor (right-click > Open With > Editor) to repair it, or restore it: "
                      f"{_restore_hint(path)}.")
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        return None, (f"{_show(path)} is JSON but not a Jupyter notebook (no list of cells). "
                      f"Restore it: {_restore_hint(path)}.")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # an old or damaged notebook format
        return None, (f"{_show(path)} is not a notebook nbformat can read ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''}). Restore it: {_restore_hint(path)}.")
    if not graded_cells(nb):
        release = _release_copy(path)
        lost = (" It has the name of a workbook notebook, so its nbgrader cell metadata was probably lost "
                "(copying cells into a new notebook, or a tool that strips metadata, does that)."
                if release else "")
        return None, (f"{_show(path)} is not a workbook notebook: it has no graded test cells "
                      f"(cells with nbgrader metadata).{lost} Check a notebook from {_show(RELEASE_DIR)}, "
                      f"or restore this one: {_restore_hint(path)}.")
    return nb, ""


def _cell_ids(nb, graded_only: bool) -> list[str]:
    ids = []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if cell.cell_type == "code" and meta.get("grade_id") and (
                meta.get("grade") or (not graded_only and meta.get("locked"))):
            ids.append(meta["grade_id"])
    return ids


def checksum(cell) -> str:
    """nbgrader's checksum of a cell (`nbgrader.utils.compute_checksum`), without importing nbgrader (seconds)."""
    meta = _nbgrader(cell)
    md5 = hashlib.md5()
    for part in (cell.source, cell.cell_type, str(meta.get("grade", False)), str(meta.get("solution", False)),
                 str(_locked(cell)), meta["grade_id"]):
        md5.update(part.encode("utf-8"))
    if meta.get("grade", False):
        md5.update(str(float(meta["points"])).encode("utf-8"))
    return md5.hexdigest()


def _locked(cell) -> bool:
    """As nbgrader's `is_locked`: graded cells are locked, answer cells never."""
    meta = _nbgrader(cell)
    return False if meta.get("solution", False) else True if meta.get("grade", False) else meta.get("locked", False)


def _edited(nb) -> list[str]:
    """grade_ids of locked or graded cells whose source no longer matches their nbgrader checksum."""
    return [_nbgrader(c)["grade_id"] for c in nb.cells
            if _nbgrader(c).get("checksum") and _locked(c) and _nbgrader(c).get("grade_id")
            and checksum(c) != _nbgrader(c)["checksum"]]


def _has_checksums(nb) -> bool:
    return any(_nbgrader(c).get("checksum") and _locked(c) for c in nb.cells)


def fill_answers(release_nb, source_nb):
    """The release notebook with each answer cell's source taken from `source_nb` (matched by grade_id).

    What a learner who wrote the reference answers would have: visible tests only, no hidden ones.
    Instructors and the project's tests use it to check the check.
    """
    answers = {_nbgrader(c)["grade_id"]: c.source for c in source_nb.cells
               if _nbgrader(c).get("solution") and _nbgrader(c).get("grade_id")}
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        gid = _nbgrader(cell).get("grade_id")
        if _nbgrader(cell).get("solution") and gid in answers:
            cell.source = answers[gid]
    return nb


# --- running it ---------------------------------------------------------------------------

def fresh_copy(nb):
    """A copy of `nb` with every code cell's outputs and execution count cleared."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def execute(nb, folder: Path, timeout: int = DEFAULT_TIMEOUT) -> str:
    """Run every cell of `nb` (in place) in a fresh python3 kernel, in `folder`, as `nbgrader validate` does.

    Errors do not stop the run; a cell past `timeout` seconds is interrupted and gets a
    CellTimeoutError output. If the kernel dies, nbclient's DeadKernelError propagates and the
    cells not reached keep ``execution_count None``. The kernel's own stderr (start-up
    warnings) is kept out of the learner's terminal and returned.
    """
    from nbclient import NotebookClient

    env = {**os.environ, "NBGRADER_EXECUTION": "validate", "NBGRADER_VALIDATING": "1"}
    quiet = logging.getLogger("workbook.check.kernel")  # timeouts and deaths are reported in the table instead
    quiet.propagate, quiet.level = False, logging.CRITICAL
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeoutError",
                          "evalue": f"this cell ran longer than {timeout} s and was stopped",
                          "traceback": [f"CellTimeoutError: this cell ran longer than {timeout} s"]},
        extra_arguments=["--HistoryManager.hist_file=:memory:"], record_timing=False,
        resources={"metadata": {"path": str(folder)}}, log=quiet)
    with tempfile.TemporaryFile(mode="w+") as kernel_stderr:
        try:
            client.execute(env=env, stderr=kernel_stderr)
        finally:
            kernel_stderr.seek(0)
            log = kernel_stderr.read()
    return log


def _text(output) -> str:
    text = output.get("text", "")
    return _ANSI.sub("", "".join(text) if isinstance(text, list) else text)


def _one_line(text: str) -> str:
    for line in _ANSI.sub("", text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _first_cross(text: str) -> str:
    for line in _ANSI.sub("", text).splitlines():
        line = line.strip()
        if line.startswith(_CROSS):
            return line[len(_CROSS):].strip()
    return ""


def _not_answered_message(text: str) -> str:
    """`one_hot: not answered yet. Replace `raise NotImplementedError()` in `one_hot` ...` → a short hint."""
    found = re.search(r"not answered yet\.?\s*Replace `raise NotImplementedError\(\)` in (`[^`]+`|your answer)",
                      _ANSI.sub("", text))
    where = found.group(1) if found else "your answer"
    return f"{where} still raises NotImplementedError"


def status_of(cell, timeout: int = DEFAULT_TIMEOUT) -> Row:
    """The row of a graded cell, from its outputs after execution (`timeout`: the per-cell limit it ran under)."""
    meta = _nbgrader(cell)
    max_points = float(meta.get("points", 0) or 0)
    question = meta.get("grade_id", "?")
    if cell.cell_type != "code" or meta.get("solution"):
        return Row(question, BY_HAND, 0.0, max_points, "the instructor grades this answer")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    printed = "".join(_text(o) for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    stderr = "".join(_text(o) for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
    crosses = [line.strip()[len(_CROSS):].strip() for line in printed.splitlines() if line.strip().startswith(_CROSS)]
    not_answered = [e for e in errors if e.ename == "NotAnswered"]
    if not_answered:
        return Row(question, NOT_ANSWERED, 0.0, max_points, _not_answered_message(not_answered[0].evalue))
    others = [e for e in errors if e.ename not in ("QuestionFailed", "AssertionError")]
    if crosses and all("not answered yet" in c for c in crosses) and not others:
        # a ✗ line saying so, even when the cell did not raise it
        return Row(question, NOT_ANSWERED, 0.0, max_points, _not_answered_message(crosses[0]))
    if any(e.ename in ("CellTimeoutError", "KeyboardInterrupt") for e in errors):
        return Row(question, FAILED, 0.0, max_points,
                   f"stopped: this cell ran longer than the {timeout} s allowed per cell (an endless loop? "
                   "a demonstration too big? `workbook check --timeout SECONDS` allows more)")
    if errors:
        error = errors[0]
        message = (crosses[0] if crosses else "") or _first_cross(error.evalue)
        if not message:
            first = _one_line(error.evalue)
            message = first if error.ename in ("QuestionFailed", "AssertionError") and first else (
                f"{error.ename}: {first}" if first else error.ename)
        details = "\n".join(f"{_CROSS} {c}" for c in crosses) if crosses else (
            f"{error.ename}: {_ANSI.sub('', error.evalue).strip()}")
        return Row(question, FAILED, 0.0, max_points, message, details)
    if crosses:  # a check failed, though the cell did not raise: still a failure
        return Row(question, FAILED, 0.0, max_points, crosses[0], "\n".join(f"{_CROSS} {c}" for c in crosses))
    if stderr.strip():
        return Row(question, FAILED, 0.0, max_points,
                   f"the cell wrote to stderr, which the autograder scores as 0: {_one_line(stderr)}", stderr.strip())
    return Row(question, PASSED, max_points, max_points)


def _answer_cell_notes(nb) -> list[str]:
    """Answer cells that raised something else than the stub's NotImplementedError."""
    notes = []
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or not meta.get("solution") or meta.get("grade"):
            continue
        for out in cell.outputs:
            if out.output_type == "error" and out.ename != "NotImplementedError":
                first = _one_line(out.evalue)
                notes.append(f"your answer cell `{meta.get('grade_id', '?')}` raised {out.ename}"
                             f"{': ' + first if first else ''}; fix it and run it before its tests.")
                break
    return notes


def check_notebook(path, timeout: int = DEFAULT_TIMEOUT) -> Report:
    """Check one notebook; never raises for a learner's problem (it goes into `Report.problem`)."""
    path = Path(path)
    started = time.monotonic()
    report = Report(_show(path))
    nb, report.problem = load(path)
    if nb is None:
        return report
    missing: list[str] = []
    points: dict[str, float] = {}
    release = _release_copy(path)
    if release is not None:
        released, _ = load(release)
        if released is not None:
            points = {_nbgrader(c)["grade_id"]: float(_nbgrader(c).get("points", 0) or 0)
                      for c in graded_cells(released)}
            have = set(_cell_ids(nb, graded_only=False))
            missing = [gid for gid in _cell_ids(released, graded_only=True) if gid not in have]
            lost_setup = [gid for gid in _cell_ids(released, graded_only=False)
                          if gid not in have and gid not in missing]
            if lost_setup:
                report.notes.append(f"locked cell{'s' if len(lost_setup) > 1 else ''} "
                                    f"{', '.join(f'`{g}`' for g in lost_setup)} deleted: the cells after "
                                    f"{'them' if len(lost_setup) > 1 else 'it'} may fail. Copy "
                                    f"{'them' if len(lost_setup) > 1 else 'it'} back from {_show(release)}.")
    if missing:
        report.problem = (f"test cell{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(f'`{g}`' for g in missing)} {'are' if len(missing) > 1 else 'is'} "
                          f"missing, so {'these questions' if len(missing) > 1 else 'this question'} cannot be "
                          f"checked. The autograder puts deleted test cells back, but check your work first: "
                          f"copy the cell{'s' if len(missing) > 1 else ''} back from {_show(release)} "
                          "(or Edit > Undo Delete Cell in JupyterLab).")
    if _has_checksums(nb):
        edited = _edited(nb)
        if edited:  # what passes here may not pass the original tests, which the autograder runs
            report.problem = "; ".join(filter(None, [report.problem, (
                f"test or locked cell{'s' if len(edited) > 1 else ''} {', '.join(f'`{g}`' for g in edited)} "
                f"{'were' if len(edited) > 1 else 'was'} edited: the autograder runs the original tests, so "
                "these results may differ from your grade. Undo the edits, or copy the original cells back "
                f"from {_show(release or RELEASE_DIR / path.name)}.")]))
    executed = fresh_copy(nb)
    try:
        execute(executed, path.resolve().parent, timeout)
    except Exception as exc:  # the kernel died or could not start: say so; cells not reached are "not run"
        detail = _one_line(str(exc)) or type(exc).__name__
        report.problem = "; ".join(filter(None, [report.problem, (
            f"the notebook could not be run to the end ({type(exc).__name__}: {_clip(detail, 160)}). If the kernel "
            "died, a cell may use too much memory or call exit(): run the notebook in JupyterLab to find it.")]))
    report.rows = [status_of(c, timeout) if c.cell_type != "code" or c.execution_count is not None or c.outputs
                   else Row(_nbgrader(c)["grade_id"], FAILED, 0.0, float(_nbgrader(c).get("points", 0) or 0),
                            "not run: the notebook stopped before this cell")
                   for c in graded_cells(executed)]
    report.rows += [Row(gid, MISSING, 0.0, points.get(gid, 0.0), "restore the test cell (see below)")
                    for gid in missing]
    report.notes += _answer_cell_notes(executed)
    report.seconds = time.monotonic() - started
    return report


# --- printing -----------------------------------------------------------------------------

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
        return "\n".join(lines)
    q_w = max([len("question")] + [len(r.question) for r in report.rows])
    s_w = max(len(s) for s in (PASSED, FAILED, NOT_ANSWERED, MISSING))
    p_w = max([len("points")] + [len(f"{_points(r.points)}/{_points(r.max_points)}") for r in report.rows])
    msg_w = max(width - (2 + q_w + 2 + s_w + 2 + p_w + 2), 40)
    row = f"  {{:<{q_w}}}  {{:<{s_w}}}  {{:>{p_w}}}  {{}}"
    lines.append(row.format("question", "status", "points", "first failure").rstrip())
    for r in report.rows:
        lines.append(row.format(r.question, r.status,
                                f"{_points(r.points)}/{_points(r.max_points)}",
                                _clip(r.message, msg_w)).rstrip())
    counts = {}
    for r in report.rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines.append(row.format("total", "", f"{_points(sum(r.points for r in report.rows))}/"
                                          f"{_points(sum(r.max_points for r in report.rows))}", summary).rstrip())
    for note in ([report.problem] if report.problem else []) + report.notes:
        lines.append(f"  ! {note}")
    return "\n".join(lines)


def default_notebooks() -> list[Path]:
    """Every notebook of the release folder, in order."""
    return sorted(RELEASE_DIR.glob("*.ipynb"))


def _expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir() and any(p.glob("*.ipynb")):
            out += sorted(p.glob("*.ipynb"))
        else:
            out.append(p)
    return out


def check_notebooks(paths, timeout: int = DEFAULT_TIMEOUT, jobs: int = 1) -> list[Report]:
    """`check_notebook` for each path (folders expand to their notebooks), `jobs` at a time."""
    paths = _expand([str(p) for p in paths]) if paths else default_notebooks()
    if jobs > 1 and len(paths) > 1:
        # spawn, not fork: the caller may hold threads (a kernel client, torch) that fork would break
        with ProcessPoolExecutor(max_workers=min(jobs, len(paths)), mp_context=get_context("spawn")) as pool:
            return list(pool.map(check_notebook, paths, [timeout] * len(paths)))
    return [check_notebook(p, timeout) for p in paths]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbook check",
        description="Run notebooks as the autograder would and show, per question, whether its visible tests "
                    "pass. Exit status 0 only when every visible test passes.",
        epilog="The autograder also runs hidden tests: passing here is needed for full marks but does not promise "
               "them. Same per-question checks as pytest tests: workbook check --pytest "
               "(or: pytest --pyargs workbook.learner_tests).")
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                        help=f"notebooks or folders to check (default: every notebook in {_show(RELEASE_DIR)})")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"time limit per cell (default {DEFAULT_TIMEOUT}, as the autograder's)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="notebooks checked at the same time, each in its own kernel (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    parser.add_argument("--pytest", action="store_true",
                        help="run the same checks as pytest tests, one per question (other arguments after "
                             "the notebooks go to pytest)")
    return parser


def check_main(argv: list[str] | None = None) -> int:
    """`workbook check [NOTEBOOK ...] [--timeout S] [--jobs N] [--json] [--pytest]`; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.pytest:
        return _run_pytest(args, rest)
    if rest:
        parser.error(f"unrecognised arguments: {' '.join(rest)}")
    if not args.notebooks and not default_notebooks():
        print(f"No notebooks found in {_show(RELEASE_DIR)}: name the notebooks to check.", file=sys.stderr)
        return 2
    reports = []
    paths = _expand(args.notebooks) if args.notebooks else default_notebooks()
    if args.json or args.jobs > 1:
        reports = check_notebooks(paths, args.timeout, args.jobs)
        if not args.json:
            for report in reports:
                print(format_report(report) + "\n", flush=True)
    else:  # one at a time, each table printed as soon as it is ready
        live = sys.stdout.isatty()
        for path in paths:
            if live:
                print(f"checking {_show(path)} ...", end="\r", flush=True)
            report = check_notebook(path, args.timeout)
            if live:
                print(" " * (len(_show(path)) + 15), end="\r")
            print(format_report(report) + "\n", flush=True)
            reports.append(report)
    ok = all(r.ok for r in reports)
    if args.json:
        print(json.dumps({"ok": ok, "notebooks": [r.to_dict() for r in reports]}, indent=1, ensure_ascii=False))
        return 0 if ok else 1
    bad = [r for r in reports if not r.ok]
    if ok:
        print(f"All visible tests pass in {len(reports)} notebook{'s' if len(reports) > 1 else ''}. "
              "The autograder also runs hidden tests.")
    else:
        print(f"{len(bad)} of {len(reports)} notebook{'s' if len(reports) > 1 else ''} "
              f"{'have' if len(bad) > 1 else 'has'} questions to finish or fix: "
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
        os.environ["WORKBOOK_CHECK_NOTEBOOKS"] = os.pathsep.join(str(p.resolve()) for p in _expand(args.notebooks))
    os.environ["WORKBOOK_CHECK_TIMEOUT"] = str(args.timeout)
    return int(pytest.main(["--pyargs", "workbook.learner_tests", "-p", "no:cacheprovider", *rest]))


def lab_main(argv: list[str] | None = None) -> int:
    """`workbook lab [FOLDER]`: see `workbook.lab` (here too, for `workbook.cli`)."""
    from workbook.lab import lab_main as main

    return main(argv)


if __name__ == "__main__":
    sys.exit(check_main())
