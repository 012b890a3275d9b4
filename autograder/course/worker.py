"""`workbook autograde`'s worker: one learner graded with the real `nbgrader autograde`, `grade_one(job, base)`.

A worker process imports nbgrader, torch and the checks once (`warm`) and grades one learner at a time on a
private course folder and a private SQLite gradebook restored from the structure snapshot it is given; what
goes in (`Job`) and what comes out (`Result`) is plain data, so a worker may be on another machine.
"""
from __future__ import annotations

import io
import logging
import os
import signal
import socket
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from . import ASSIGNMENT, REPO
from . import gradebook as gbk


# -- data in, data out -----------------------------------------------------------------------------
@dataclass
class Job:
    """Everything needed to grade one learner, as plain data (it may travel to another machine)."""
    student: str
    assignment: str
    submitted: dict[str, bytes]          # the learner's submitted folder: relative path → bytes (timestamp.txt too)
    source: dict[str, bytes]             # the course's non-notebook source files of the assignment
    rows: dict[str, list[dict]]          # the learner's own gradebook rows (gradebook.learner_rows)
    options: tuple[str, ...] = ()        # nbgrader options, e.g. ("--Execute.timeout=10",)


@dataclass
class Result:
    """What grading one learner gave: the autograded files and the gradebook results, or why it failed."""
    student: str
    ok: bool
    error: str = ""                       # one line: why it failed
    log: str = ""                         # nbgrader's log of this learner (kept in full on failure)
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # autograded folder: path → (bytes, mode)
    results: dict | None = None           # gradebook.results(): what nbgrader wrote for this learner
    seconds: float = 0.0
    cpu_seconds: float = 0.0              # CPU time of the grading process and its sandboxed kernels (sampled)
    worker_rss_mb: float = 0.0            # peak resident memory of the grading process so far
    kernel_rss_mb: float = 0.0            # peak resident memory of a sandboxed kernel
    host: str = ""
    pid: int = 0                          # the grading process


# -- files as data ---------------------------------------------------------------------------------
SKIP_DIRS = {".ipynb_checkpoints", "__pycache__"}


def write_tree(folder: Path, files: dict[str, bytes]) -> None:
    """Write `files` (relative path → bytes) under `folder`; a name that leaves the folder is refused."""
    for rel, data in files.items():
        path = (folder / rel).resolve()
        if folder.resolve() not in path.parents:
            raise ValueError(f"a file name leaves its folder: {rel!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_tree(folder: Path) -> dict[str, bytes]:
    """The files under `folder` as relative path → bytes (no links, no checkpoints or caches)."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink() and not SKIP_DIRS & set(path.relative_to(folder).parts):
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


# -- the worker process ----------------------------------------------------------------------------
_APPS: dict = {}                  # nbgrader options → an initialised AutogradeApp (the course's configuration)
_LOCK = threading.Lock()          # nbgrader chdirs and sets environment variables: one learner per process at once
_BASE: bytes | None = None        # the structure snapshot, handed to each local worker once
_SCRATCH: str | None = None


def autograde_app(options: tuple[str, ...]):
    """nbgrader's AutogradeApp, initialised as `nbgrader autograde` is from the repository: same config files."""
    if options not in _APPS:
        from nbgrader.apps.autogradeapp import AutogradeApp
        cwd = os.getcwd()
        os.chdir(REPO)  # nbgrader reads ./nbgrader_config.py (the course's) besides Jupyter's config folders
        try:
            app = AutogradeApp()
            app.initialize([ASSIGNMENT, *options])
        finally:
            os.chdir(cwd)
        app.log.handlers[:] = []  # each job captures its own log
        app.log.propagate = False
        _APPS[options] = app
    return _APPS[options]


def _cpu() -> float:
    """CPU seconds of this process."""
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


class _Descendants(threading.Thread):
    """CPU seconds of every process started under this one while it runs (the sandboxed kernels), sampled:
    a kernel is killed at the end of its notebook, so its time never reaches this process's rusage."""

    def __init__(self, every: float = 0.2):
        super().__init__(daemon=True)
        self.every, self.seen, self.stop = every, {}, threading.Event()
        self.peak_rss = 0

    def run(self) -> None:
        try:
            import psutil
            me = psutil.Process()
        except Exception:  # psutil comes with distributed; without it the kernels' time is not counted
            return
        while not self.stop.wait(self.every):
            for p in me.children(recursive=True):
                try:
                    with p.oneshot():
                        t = p.cpu_times()
                        self.seen[(p.pid, p.create_time())] = t.user + t.system
                        self.peak_rss = max(self.peak_rss, p.memory_info().rss)
                except Exception:  # it ended meanwhile
                    continue

    def total(self) -> float:
        self.stop.set()
        self.join(2)
        return sum(self.seen.values())


def _peak_mb(who) -> float:
    import resource
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)



def _reason(log: str, exc: BaseException | None) -> str:
    """One line saying why a learner could not be graded, from nbgrader's log or the exception."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip()]
    if isinstance(exc, SubmissionError):
        return str(exc)
    if exc is not None and not lines:
        return f"{type(exc).__name__}: {exc}"[:300]
    # nbgrader logs a traceback after "There was an error processing assignment"; its last line says what failed
    for i, ln in enumerate(lines):
        if "There was an error processing assignment" in ln:
            tail = [x for x in lines[i + 1:] if not x.startswith("[") and not x.startswith("File ")]
            if tail:
                return tail[-1][:300]
    errors = [ln for ln in lines if "ERROR" in ln[:20]]
    return (errors[-1] if errors else f"{type(exc).__name__}: {exc}" if exc else lines[-1])[:300]


class SubmissionError(ValueError):
    """The submission cannot be graded as it is (the message says why)."""


def _check_timestamp(data: bytes | None) -> None:
    """nbgrader fails a learner whose timestamp.txt is not a timestamp with a message that does not say so."""
    if data is None or not data.strip():
        return
    from nbgrader.utils import parse_utc
    try:
        parse_utc(data.decode("utf-8", "replace").strip())
    except (ValueError, OverflowError) as exc:
        raise SubmissionError(f"timestamp.txt is not a timestamp: {data[:60]!r}") from exc


def grade_one(job: Job, base: bytes | None = None, scratch: str | None = None) -> Result:
    """Grade one learner with the real `nbgrader autograde`, on a private course folder and gradebook.

    Pure in its data: reads nothing of the course but what `job` and `base` (the structure snapshot,
    `gradebook.structure`) carry, writes nothing outside a temporary folder, returns a `Result`.
    """
    base = base if base is not None else _BASE
    started, cpu = time.perf_counter(), _cpu()
    kernels = _Descendants()
    kernels.start()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("[%(levelname)s] %(message)s"))
    with _LOCK, tempfile.TemporaryDirectory(prefix="workbook-grade-", dir=scratch or _SCRATCH) as tmp:
        exc = None
        result = Result(job.student, ok=False, host=socket.gethostname(), pid=os.getpid())
        try:
            from nbgrader.converters import Autograde, NbGraderException
            from nbgrader.coursedir import CourseDirectory
            if base is None:
                raise ValueError("no gradebook snapshot was given")
            root = Path(tmp)
            _check_timestamp(job.submitted.get("timestamp.txt"))
            write_tree(root / "submitted" / job.student / job.assignment, job.submitted)
            (root / "source" / job.assignment).mkdir(parents=True)
            write_tree(root / "source" / job.assignment, job.source)
            db_url = gbk.restore(root / "gradebook.db", base, job.rows)
            app = autograde_app(tuple(job.options))
            app.log.addHandler(handler)
            try:
                coursedir = CourseDirectory(parent=app)
                coursedir.root, coursedir.db_url = str(root), db_url
                coursedir.assignment_id, coursedir.student_id = job.assignment, job.student
                converter = Autograde(coursedir=coursedir, parent=app)
                converter.force, converter.create_student = True, True
                try:
                    converter.start()
                except NbGraderException as e:
                    exc = e
            finally:
                app.log.removeHandler(handler)
            log = buffer.getvalue()
            dest = root / "autograded" / job.student / job.assignment
            if exc is None and "There was an error processing" not in log and dest.is_dir():
                result.files = {rel: (data, os.stat(dest / rel).st_mode & 0o777) for rel, data in read_tree(dest).items()}
                result.results = gbk.results(db_url, job.assignment, job.student)
                result.ok = True
        except (Exception, SystemExit) as e:  # one learner's failure is that learner's: reported, never raised
            exc = e
            buffer.write("\n" + traceback.format_exc())
        result.log = buffer.getvalue()
        if not result.ok:
            result.error = _reason(result.log, exc) or "nbgrader wrote no autograded notebooks"
        else:
            result.log = result.log[-20_000:]
    import resource
    result.seconds = round(time.perf_counter() - started, 2)
    result.cpu_seconds = round(_cpu() - cpu + kernels.total(), 2)
    result.worker_rss_mb = _peak_mb(resource.RUSAGE_SELF)
    result.kernel_rss_mb = round(max(kernels.peak_rss / 2**20, _peak_mb(resource.RUSAGE_CHILDREN)), 1)
    return result


def warm(options: tuple[str, ...] = ()) -> str:
    """Load the course's nbgrader configuration (and so nbgrader, torch, the checks) in this process; its host."""
    with _LOCK:
        autograde_app(tuple(options))
    return socket.gethostname()


def init_worker(base: bytes, scratch: str, threads: int, options: tuple[str, ...]) -> None:
    """A local worker: ignore Ctrl-C (the parent decides), send its and its kernels' noise to a log, warm up."""
    global _BASE, _SCRATCH
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _BASE, _SCRATCH = base, scratch
    log = os.open(os.path.join(scratch, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    if threads:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        import torch
        torch.set_num_threads(threads)
    warm(options)
