"""Real servers for the tests of parallel grading: a PostgreSQL gradebook and a Dask cluster on 127.0.0.1.

    from servers import postgres, dask_cluster  # noqa: F401  (session fixtures)

`postgres` yields the URL of a new database on a PostgreSQL server started from Debian's
`postgresql` package (`initdb`, `pg_ctl`) in a temporary folder, on a free local port; as root
it runs as the `postgres` system user (initdb refuses root). `dask_cluster` yields the address
of a `dask scheduler` with two `dask worker` processes (one thread each). Both are skipped, with
what to install, where the programs are missing (`.ci/run` installs them).
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bindir() -> Path | None:
    """The folder of initdb and pg_ctl: Debian's /usr/lib/postgresql/<version>/bin (the newest), else PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_server_user(user: str | None) -> list[str]:
    if user is None:
        return []
    info = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={info.pw_uid}", f"--regid={info.pw_gid}", "--clear-groups", "--"]


@contextlib.contextmanager
def postgres_server(database: str = "lesson5"):
    """A PostgreSQL server of its own; yields the SQLAlchemy URL of `database` on it (user `grader`, trust)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does)")
    user = None
    if os.geteuid() == 0:  # initdb refuses to run as root: the package's `postgres` user, else nobody
        user = next((u for u in ("postgres", "nobody") if _exists(u)), None)
        if user is None or not shutil.which("setpriv"):
            pytest.skip("running as root without a `postgres` user or setpriv to start PostgreSQL as")
    folder = Path(tempfile.mkdtemp(prefix="workbook-pg-"))
    data, port = folder / "data", free_port()
    if user:
        info = pwd.getpwnam(user)
        os.chown(folder, info.pw_uid, info.pw_gid)
    run = _as_server_user(user)
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    try:
        subprocess.run(run + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust", "-E", "UTF8",
                              "--no-sync"], check=True, capture_output=True, env=env, cwd=folder)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off " \
                  f"-c synchronous_commit=off -c max_connections=50"
        subprocess.run(run + [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "server.log"),
                              "-w", "-t", "60", "start"], check=True, capture_output=True, env=env, cwd=folder)
        import psycopg
        with psycopg.connect(f"host=127.0.0.1 port={port} user=grader dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        yield f"postgresql+psycopg://grader@127.0.0.1:{port}/{database}"
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr.decode(errors='replace')}\n{log}") from exc
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(run + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           check=False, capture_output=True, env=env, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


def new_database(url: str, name: str) -> str:
    """A new empty database on the server of `url`; its URL."""
    import psycopg
    import sqlalchemy as sa
    u = sa.engine.make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@contextlib.contextmanager
def dask_cluster(workers: int = 2):
    """A real `dask scheduler` and `workers` `dask worker` processes (one thread each) on 127.0.0.1: its address."""
    pytest.importorskip("distributed", reason="Dask's distributed is not installed (pip install distributed)")
    folder = Path(tempfile.mkdtemp(prefix="workbook-dask-"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", str(port), "--no-dashboard"], cwd=REPO, env=_env(),
                                      stdout=open(folder / "scheduler.log", "wb"), stderr=subprocess.STDOUT))
        for i in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads",
                                           "1", "--name", f"grader-{i}", "--no-dashboard", "--memory-limit", "0",
                                           "--local-directory", str(folder / f"w{i}")], cwd=REPO, env=_env(),
                                          stdout=open(folder / f"worker-{i}.log", "wb"), stderr=subprocess.STDOUT))
        from distributed import Client
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(workers, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in sorted(folder.glob("*.log")))
                    raise RuntimeError(f"the Dask cluster did not start:\n{logs}")
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres():
    """The URL of a database on a real PostgreSQL server, for the whole session."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def dask_scheduler():
    """The address of a real Dask scheduler with two single-threaded workers, for the whole session."""
    with dask_cluster(2) as address:
        yield address


# -- a small class on notebook 01, for the grading tests -------------------------------------------
NOTEBOOK = "01_embeddings"
ON_TIME = "2026-11-28 12:00:00.000000 UTC"
DUE = "2026-11-29 00:00:00 UTC"
LATE_TIME = "2026-11-30 09:30:00.000000 UTC"
LATE_RULE = "--LateSubmissionPlugin.penalty_method=zero"  # a late notebook scores zero (nbgrader's own plugin)


def released_course(root: Path, db_url: str | None = None, due: str | None = DUE) -> Path:
    """A course at `root` holding only notebook 01, released (its gradebook: SQLite there, or `db_url`)."""
    from nbgrader.api import Gradebook

    from autograder import course
    course.new_course(root, notebooks=[NOTEBOOK])
    course.release(root, db_url=db_url)
    if due:
        with Gradebook(course.db_url_of(root, db_url)) as gb:
            gb.update_or_create_assignment(course.ASSIGNMENT, duedate=due)
    return root


def _variant(name: str):
    from autograder import catalogue
    return next(v for v in catalogue.variants(NOTEBOOK) if v.name == name)


def learners(root: Path) -> dict[str, tuple[dict, str, set[str] | None]]:
    """learner → (files, timestamp, the cells it must lose, or None when it is flagged/not comparable)."""
    from autograder import course
    release = root / "release" / course.ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    reference = course.reference_answers()
    name = release.name
    detached = _variant("detached rows (no gradient reaches the table)")
    forbidden = _variant("F.one_hot (forbidden)")
    all_cells = {c.metadata.nbgrader.grade_id for c in course.fill(release, {}).cells
                 if c.metadata.get("nbgrader", {}).get("grade")}
    return {
        "perfect": ({name: course.fill(release, reference)}, ON_TIME, set()),
        "untouched": ({name: course.fill(release, {})}, ON_TIME, all_cells),
        "mistake": ({name: course.fill(release, {**reference, detached.answer: detached.source})}, ON_TIME,
                    set(detached.loses)),
        "forbidden": ({name: course.fill(release, {**reference, forbidden.answer: forbidden.source})}, ON_TIME,
                      set(forbidden.loses)),
        "late": ({name: course.fill(release, reference)}, LATE_TIME, set()),
        "unreadable": ({name: b"{ this is not a notebook"}, ON_TIME, all_cells),
    }


def submit(root: Path, student: str, files: dict, timestamp: str = ON_TIME) -> Path:
    """Place a learner's files (notebooks or raw bytes) under submitted/, with `timestamp`."""
    from autograder import course
    folder = root / "submitted" / student / course.ASSIGNMENT
    course.submit(root, student, {k: v for k, v in files.items() if not isinstance(v, bytes)})
    for k, v in files.items():
        if isinstance(v, bytes):
            (folder / k).write_bytes(v)
    (folder / "timestamp.txt").write_text(timestamp)
    return folder


def comparable(nb) -> list:
    """A notebook as far as grading decides it: every cell, the graded cells' outputs exactly, the others' kinds.

    (Ungraded cells print timings, which differ from run to run.)"""
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        outputs = cell.get("outputs", [])
        out.append((cell.cell_type, cell.source, dict(meta), outputs if meta.get("grade") else
                    [(o.get("output_type"), o.get("name"), o.get("ename")) for o in outputs]))
    return out
