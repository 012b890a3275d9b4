"""`workbook autograde`: a whole class graded in parallel, with the real `nbgrader autograde` for each learner.

    workbook autograde [--jobs N] [--scheduler tcp://HOST:PORT] [--db-url URL] [--student ID ...] [--force]

One learner is one job, and one job is a pure function, `grade_one(job, base) -> Result`:
data in (the learner's submitted files and timestamp, the course's non-notebook source files,
a snapshot of the gradebook: the assignment's structure as SQLite bytes plus the learner's own
rows), data out (the autograded files and what nbgrader wrote for that learner). It runs
nbgrader's own `Autograde` converter with the course's nbgrader configuration (so each notebook
runs in its own sandbox, exactly as in `nbgrader autograde`) on a private course folder and a
private SQLite gradebook, in a long-lived worker process that imports nbgrader, torch and the
checks once. The same function runs in a local process pool (`--jobs N`) and as a task on a Dask
cluster (`--scheduler ADDRESS`): workers need the course's code, not its files.

The parent process is the only writer of the course's gradebook (SQLite by default, PostgreSQL
with `--db-url`/`WORKBOOK_DB_URL`): as each result arrives it merges it in one transaction
(`autograder.course.gradebook.merge`) and moves the autograded files into place. So an
interrupted run (Ctrl-C) leaves every learner either graded as before or graded anew, and a
re-run grades only what is missing or changed: a learner without an autograded folder or
without a submission in the gradebook, a newer submission (nbgrader's timestamp rule), or
submitted files that differ from those graded; `--force` grades everyone again.

Here: the parent's loop (`autograde_class`) and the command (`main`). The pieces: `worker` (one learner,
`grade_one`), `planning` (who needs grading, their `Job`s), `runners` (a local pool or a Dask cluster),
`saving` (a result into the gradebook and into place) and `report` (the summary).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections import deque
from dataclasses import asdict
from pathlib import Path

from . import ASSIGNMENT, REPO, db_url_of
from . import gradebook as gbk
from .planning import STATE, make_job, plan, source_files, submitted_learners
from .report import Outcome, Report, table
from .runners import Dask, Local
from .saving import install, save_log
from .worker import Job, Result, grade_one

__all__ = ["STATE", "Job", "Outcome", "Report", "Result", "autograde_class", "grade_one", "main", "plan", "table"]


def autograde_class(root: Path, *, jobs: int | None = None, scheduler=None, db_url: str | None = None,
                    students=None, force: bool = False, options: tuple[str, ...] = (), assignment: str = ASSIGNMENT,
                    progress: bool = True, on_result=None) -> Report:
    """Grade every learner of the course at `root` who needs it; the `Report` (see the module's docstring).

    `scheduler`: a Dask scheduler's address (tcp://..., tls://...), a scheduler file (*.json), or a
    `distributed.Client` or cluster object (dask-gateway's, dask-jobqueue's) to grade on; else `jobs` processes here.

    `on_result(outcome)` is called in the parent as each learner is done (tests use it to interrupt).
    """
    started = time.perf_counter()
    root = Path(root).resolve()
    db_url = db_url_of(root, db_url)
    base = gbk.structure(db_url, assignment)
    eng = gbk.engine(db_url)
    todo, outcomes = plan(root, db_url, assignment, students, force)
    done = {o.student: o for o in outcomes}
    runner, interrupted = None, False
    scratch = tempfile.mkdtemp(prefix="workbook-autograde-")
    bar = None
    try:
        if todo:
            source = source_files(root, assignment)
            if scheduler:
                runner = Dask(scheduler, base, tuple(options))
            else:
                runner = Local(max(1, min(jobs or os.cpu_count() or 1, len(todo))), base, scratch, tuple(options))
            from tqdm.auto import tqdm
            bar = tqdm(total=len(todo), desc="autograde", unit="learner", disable=not progress, file=sys.stderr,
                       dynamic_ncols=True)
            failures = 0
            pending, inflight, attempts = deque(todo), {}, {}
            window = 2 * runner.n
            while pending or inflight:
                while pending and len(inflight) < window:
                    s = pending.popleft()
                    job = make_job(root, db_url, s, source, assignment, options, eng)
                    inflight[runner.submit(job)] = job
                finished = runner.wait(inflight, timeout=1.0)
                for fut in finished:
                    job = inflight.pop(fut)
                    try:
                        result = runner.result(fut)
                    except Exception as exc:  # the worker died (a killed Dask worker, a broken pool)
                        if runner.broken(exc) and attempts.get(job.student, 0) < 1:
                            attempts[job.student] = attempts.get(job.student, 0) + 1
                            pending.appendleft(job.student)
                            continue
                        result = Result(job.student, ok=False, error=f"the grading process died ({type(exc).__name__}"
                                                                      f": {exc})"[:300], log=traceback.format_exc())
                    outcome = Outcome(job.student, "graded" if result.ok else "failed", result.error, result.seconds,
                                      cpu_seconds=result.cpu_seconds,
                                      worker_rss_mb=result.worker_rss_mb, kernel_rss_mb=result.kernel_rss_mb,
                                      host=result.host, pid=result.pid)
                    done[job.student] = outcome
                    if result.ok:
                        try:
                            install(root, db_url, job, result, eng)  # holds Ctrl-C until it is all in
                        except KeyboardInterrupt:
                            raise
                        except Exception as exc:
                            outcome.status, outcome.reason = "failed", f"its results could not be saved: {exc}"[:300]
                            result.log += "\n" + traceback.format_exc()
                    if outcome.status == "failed":
                        failures += 1
                        outcome.reason += f" (log: {save_log(root, assignment, result).relative_to(root)})"
                    if on_result:
                        on_result(outcome)
                    bar.update()
                    bar.set_postfix_str(f"failed {failures}")
                # a pool broken by a worker that died takes the others' jobs with it: make a new one
                if isinstance(runner, Local) and getattr(runner.pool, "_broken", False):
                    runner.close(kill=True)
                    for job in list(inflight.values()):
                        pending.appendleft(job.student)
                    inflight.clear()
                    runner = Local(runner.n, base, scratch, tuple(options))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
        if runner is not None:
            runner.close(kill=interrupted)
        eng.dispose()
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(root / "autograded" / STATE / "staging", ignore_errors=True)
    for s in todo:
        done.setdefault(s, Outcome(s, "interrupted", "not graded: the run was interrupted"))
    now = gbk.scores(db_url, assignment, [o.student for o in done.values() if o.status == "graded"])
    for o in done.values():
        if o.student in now and o.status == "graded":
            info = now[o.student]
            o.score, o.max_score = info["score"], info["max_score"]
            o.late_penalty, o.needs_manual_grade = info["late_penalty"], info["needs_manual_grade"]
    order = {s: i for i, s in enumerate(list(students or []) + submitted_learners(root, assignment))}
    outcomes = sorted(done.values(), key=lambda o: order.get(o.student, len(order)))
    return Report(outcomes, round(time.perf_counter() - started, 2), runner.n if runner else 0,
                  runner.where if runner else "local", interrupted)


# -- the command -----------------------------------------------------------------------------------
def _course_root() -> Path:
    return Path(os.environ.get("WORKBOOK_COURSE_ROOT") or REPO)


def main(argv: list[str] | None = None) -> int:
    """Autograde the class in parallel (a process pool, or a Dask cluster), with a progress bar and a summary."""
    parser = argparse.ArgumentParser(
        prog="workbook autograde", description=main.__doc__,
        epilog="Other options of the form --Class.trait=value are passed to nbgrader (e.g. --Execute.timeout=30). "
               "The gradebook is SQLite (<root>/gradebook.db) unless --db-url or WORKBOOK_DB_URL names another, "
               "e.g. postgresql+psycopg://grader@db.example.org/lesson5.")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help="learners graded at once on this machine (default: the number of CPUs)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on an existing Dask cluster instead, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--db-url", metavar="URL", help="the gradebook (default: WORKBOOK_DB_URL, else SQLite)")
    parser.add_argument("--student", action="extend", nargs="+", metavar="ID", help="grade only these learners")
    parser.add_argument("--force", action="store_true", help="grade again learners already graded and unchanged")
    parser.add_argument("--root", type=Path, default=None,
                        help="the course folder (default: WORKBOOK_COURSE_ROOT, else the repository)")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON lines instead of a table")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args, rest = parser.parse_known_args(argv)
    bad = [a for a in rest if not (a.startswith("--") and "." in a.split("=")[0])]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)}")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    root = (args.root or _course_root()).resolve()
    db_url = args.db_url or os.environ.get("WORKBOOK_DB_URL")
    try:
        report = autograde_class(root, jobs=args.jobs, scheduler=args.scheduler, db_url=db_url, students=args.student,
                                 force=args.force, options=tuple(rest), progress=not args.no_progress)
    except gbk.GradebookError as exc:
        print(f"workbook autograde: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for o in report.outcomes:
            print(json.dumps(asdict(o)))
    else:
        print(table(report))
    if report.interrupted:
        return 130
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
