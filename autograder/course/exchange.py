"""nbgrader's exchange, end to end: the instructor releases and collects, learners fetch, submit and get feedback.

    instructor                                   learner (own home, an environment with only the kit)
    nbgrader generate_assignment   course.release
    nbgrader release_assignment    release_assignment  →  exchange/lesson5/outbound/lesson5/
                                                          Learner.fetch()     nbgrader fetch_assignment
                                                          Learner.work(...)   answers into ~/lesson5/
                                                          Learner.validate()  workbook check
                                   exchange/lesson5/inbound/  ←  Learner.submit()  nbgrader submit
    nbgrader collect               collect
    nbgrader autograde             course.autograde
    nbgrader generate_feedback     course.feedback
    nbgrader release_feedback      release_feedback  →  exchange/lesson5/feedback/
                                                          Learner.fetch_feedback()  nbgrader fetch_feedback

The exchange is a folder (nbgrader's `c.Exchange.root`; here passed on each command line, and
written into each learner's ~/.jupyter/nbgrader_config.py). The instructor's commands run with
the course's nbgrader_config.py (`course.nbgrader`); a learner's run in their home, with
HOME pointing there, in the learner environment (`kit.learner_env`) and nothing of the course
on any path. A learner may be another Unix user (`uid`, needs root), as on a shared server.

Bad input raises `ExchangeError` with what to do.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import string
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from . import ASSIGNMENT, NbgraderError, REPO, nbgrader
from .kit import LearnerEnv

LEARNER_CONFIG = REPO / "kit" / "learner_nbgrader_config.py"


class ExchangeError(RuntimeError):
    """A step of the exchange could not be done; the message says why and what to do."""


def closed_to_others(path: Path) -> Path | None:
    """The first folder on the way to `path` (itself included) that other Unix users cannot enter, or None.

    A learner who is another Unix user needs execute permission for "others" on every folder
    above their environment, their home and the exchange (a `mktemp -d` folder is 0700).
    """
    for folder in [*reversed(Path(path).absolute().parents), Path(path).absolute()]:
        if folder.is_dir() and not folder.stat().st_mode & 0o001:
            return folder
    return None


@dataclasses.dataclass
class Exchange:
    """nbgrader's exchange directory for the course `course_id`."""

    root: Path
    course_id: str = ASSIGNMENT
    check_owner: bool = False  # nbgrader collect warns when a submission's Unix owner is not its learner

    def args(self) -> list[str]:
        return [f"--Exchange.root={self.root}", f"--CourseDirectory.course_id={self.course_id}"]

    @property
    def outbound(self) -> Path:
        return Path(self.root) / self.course_id / "outbound" / ASSIGNMENT

    @property
    def inbound(self) -> Path:
        return Path(self.root) / self.course_id / "inbound"

    @property
    def feedback(self) -> Path:
        return Path(self.root) / self.course_id / "feedback"

    def prepare(self) -> Path:
        """Make the exchange directory as nbgrader's release_assignment does: writable by everyone (drwxrwxrwx)."""
        self.check_writable()
        Path(self.root).chmod(0o777)
        return Path(self.root)

    def check_writable(self) -> None:
        """Raise ExchangeError unless the instructor can create or write the exchange directory."""
        root = Path(self.root)
        probe = root
        while not probe.exists():
            probe = probe.parent
        ok = probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
        if ok:
            try:
                root.mkdir(parents=True, exist_ok=True)
                (root / ".workbook-write-test").touch()
                (root / ".workbook-write-test").unlink()
            except OSError:
                ok = False
        if not ok:
            raise ExchangeError(
                f"The exchange directory {root} is not writable by you ({probe} is not a folder you can write). "
                "Make it (as its owner: mkdir -p ROOT && chmod 777 ROOT, or a group-shared folder, see "
                "docs/jupyterhub.md), or choose another: c.Exchange.root in nbgrader_config.py, or "
                "`exchange.Exchange(root=...)`.")


def _fail(exc: NbgraderError, what: str, exchange: Exchange) -> ExchangeError:
    """nbgrader's failure, with what to do (from nbgrader's own messages)."""
    log = str(exc)
    if "Unwritable directory" in log or "Could not create" in log or "permission denied" in log.lower():
        return ExchangeError(f"{what} failed: the exchange directory {exchange.root} is not writable. Fix its "
                             f"permissions (chmod 777 {exchange.root}) or set c.Exchange.root to another.\n{log[-800:]}")
    return ExchangeError(f"{what} failed:\n{log[-2000:]}")


# --- the instructor -----------------------------------------------------------------------------------

def set_due_date(root: Path, duedate: datetime | str, db_url: str | None = None) -> None:
    """nbgrader's due date of the assignment (`nbgrader db assignment add --duedate`).

    A submission later than it is late: nbgrader records by how much, and the late penalty
    (`c.LateSubmissionPlugin.penalty_method`: "none", the default, or "zero") applies at autograde.
    """
    if isinstance(duedate, datetime):
        duedate = duedate.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    nbgrader(root, "db", "assignment", "add", ASSIGNMENT, f"--duedate={duedate}", db_url=db_url)


def release_assignment(root: Path, exchange: Exchange, db_url: str | None = None) -> list[Path]:
    """`nbgrader release_assignment`: the course's release/ into the exchange (replacing an earlier release)."""
    exchange.check_writable()
    if not any((Path(root) / "release" / ASSIGNMENT).glob("*.ipynb")):
        raise ExchangeError(f"nothing to release in {root}/release/{ASSIGNMENT}: run `nbgrader generate_assignment "
                            f"{ASSIGNMENT}` (course.release) first")
    try:
        nbgrader(root, "release_assignment", ASSIGNMENT, "--force", *exchange.args(), db_url=db_url)
    except NbgraderError as exc:
        raise _fail(exc, "nbgrader release_assignment", exchange) from None
    return sorted(exchange.outbound.glob("*.ipynb"))


def collect(root: Path, exchange: Exchange, db_url: str | None = None) -> dict[str, str]:
    """`nbgrader collect --update`: each learner's latest submission into submitted/; learner → "new"/"updated"/"same"."""
    args = ["collect", ASSIGNMENT, "--update", *exchange.args(), f"--ExchangeCollect.check_owner={exchange.check_owner}"]
    try:
        log = nbgrader(root, *args, db_url=db_url)
    except NbgraderError as exc:
        raise _fail(exc, "nbgrader collect", exchange) from None
    found = {}
    for kind, word in (("new", "Collecting submission"), ("updated", "Updating submission"),
                       ("same", "No newer submission to collect")):
        for learner in re.findall(rf"{word}: (\S+) {ASSIGNMENT}", log):
            found[learner] = kind
    return found


def release_feedback(root: Path, exchange: Exchange, db_url: str | None = None) -> list[Path]:
    """`nbgrader release_feedback`: the generated feedback into the exchange, where each learner can fetch their own."""
    try:
        nbgrader(root, "release_feedback", ASSIGNMENT, *exchange.args(), db_url=db_url)
    except NbgraderError as exc:
        raise _fail(exc, "nbgrader release_feedback", exchange) from None
    return sorted(exchange.feedback.glob("*.html"))


def lateness(db_url: str) -> dict[str, float]:
    """learner → seconds their graded submission was late (0 when on time), from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gb:
        return {sub.student.id: float(sub.total_seconds_late or 0) for sub in gb.assignment_submissions(ASSIGNMENT)}


# --- a learner ------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Submission:
    timestamp: str
    earlier: list[str]   # timestamps of this learner's earlier submissions, all kept in the exchange

    def message(self) -> str:
        if not self.earlier:
            return f"submitted {ASSIGNMENT} at {self.timestamp}."
        return (f"submitted {ASSIGNMENT} again at {self.timestamp}: this latest submission is the one graded; the "
                f"earlier one{'s' if len(self.earlier) > 1 else ''} ({', '.join(self.earlier)}) "
                "stay in the exchange, as nbgrader keeps every submission.")


@dataclasses.dataclass
class Learner:
    """One learner: a name, a home directory, the learner environment, and the course's exchange."""

    name: str
    home: Path
    env: LearnerEnv
    exchange: Exchange
    uid: int | None = None        # run as this Unix user (needs root); None: as the current user
    gid: int | None = None
    login_name: bool = False       # nbgrader takes the student id from the login (JupyterHub); else from config
    passwd: Path | None = None     # an /etc/passwd naming `uid`, bound over the real one (bubblewrap) for the login

    def __post_init__(self):
        self.home = Path(self.home)

    @property
    def assignment(self) -> Path:
        """Where nbgrader fetches the assignment: ~/lesson5."""
        return self.home / ASSIGNMENT

    @property
    def cache(self) -> Path:
        """nbgrader's record of this learner's submissions (~/.local/share/jupyter/nbgrader_cache/lesson5)."""
        return self.home / ".local" / "share" / "jupyter" / "nbgrader_cache" / self.exchange.course_id

    def setup(self) -> Path:
        """Make the home directory and ~/.jupyter/nbgrader_config.py (course id, exchange root); returns the config."""
        config = self.home / ".jupyter" / "nbgrader_config.py"
        config.parent.mkdir(parents=True, exist_ok=True)
        text = string.Template(LEARNER_CONFIG.read_text()).substitute(
            course_id=self.exchange.course_id, exchange=str(self.exchange.root))
        if not self.login_name:  # several learners under one Unix user: say who this one is
            text += ("# Several learners share this Unix user here, so say who you are (on JupyterHub, leave it\n"
                     "# out: nbgrader takes your login name).\n"
                     f"c.CourseDirectory.student_id = {self.name!r}\n")
        config.write_text(text)
        if self.uid is not None:  # a home of their own, as on a shared server: nobody else may look in
            self._check_reachable()
            for path in [self.home, *self.home.rglob("*")]:
                os.chown(path, self.uid, self.gid if self.gid is not None else self.uid)
            self.home.chmod(0o700)
        return config

    def _check_reachable(self) -> None:
        for what, path in (("the learner environment", self.env.bin), ("the exchange", self.exchange.root),
                           ("the folder of their home", self.home.parent)):
            closed = closed_to_others(path)
            if closed is not None:
                raise ExchangeError(
                    f"{self.name} runs as Unix user {self.uid}, who cannot reach {what} ({path}): {closed} is closed "
                    f"to other users (mode {closed.stat().st_mode & 0o777:o}). Let them in (chmod o+x {closed}) "
                    "or put the learner environment, the exchange and the homes under a folder every learner "
                    "can enter.")

    def environ(self) -> dict:
        """The environment of the learner's commands: their home, the learner environment, nothing of the course."""
        keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TZ", "TERM")}
        return {**keep, "HOME": str(self.home), "USER": self.name, "LOGNAME": self.name,
                "PATH": os.pathsep.join([str(self.env.bin), "/usr/local/bin", "/usr/bin", "/bin"]),
                "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}

    def command(self, *cmd: str) -> list[str]:
        """`cmd` as this learner would run it (as their Unix user when `uid` is set)."""
        if self.uid is None:
            return list(cmd)
        gid = self.gid if self.gid is not None else self.uid
        user = ["setpriv", f"--reuid={self.uid}", f"--regid={gid}", "--clear-groups", "--", *cmd]
        if self.passwd is None:
            return user
        return ["bwrap", "--dev-bind", "/", "/", "--ro-bind", str(self.passwd), "/etc/passwd", "--", *user]

    def run(self, *cmd: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run `cmd` (a program of the learner environment, by name) in the learner's home."""
        program = str(self.env.bin / cmd[0]) if (self.env.bin / cmd[0]).exists() else cmd[0]
        done = subprocess.run(self.command(program, *cmd[1:]), cwd=self.home, env=self.environ(),
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise ExchangeError(f"{self.name}: `{' '.join(cmd)}` failed (exit {done.returncode}):\n"
                                f"{(done.stdout + done.stderr)[-2000:]}")
        return done

    def nbgrader(self, *args: str) -> str:
        """`nbgrader ARGS` as this learner; its log, or ExchangeError saying what to do."""
        done = self.run("nbgrader", *args, check=False)
        log = done.stdout + done.stderr
        if done.returncode == 0:
            return log
        root = self.exchange.root
        if "Unwritable directory" in log and not Path(root).is_dir():
            raise ExchangeError(
                f"{self.name}: the exchange {root} does not exist: nothing has been released there yet, or "
                f"c.Exchange.root in {self.home}/.jupyter/nbgrader_config.py is not the folder your instructor "
                "gave you.")
        if "Unwritable directory" in log or "don't have write permissions" in log:
            raise ExchangeError(
                f"{self.name}: the exchange {root} is not writable by you, so `nbgrader {args[0]}` cannot work. "
                "Ask your instructor to check its permissions (the exchange must be drwxrwxrwx, its "
                f"{self.exchange.course_id}/inbound drwx-wx-wx), and that c.Exchange.root in "
                f"{self.home}/.jupyter/nbgrader_config.py is the folder they gave you.\n{log[-600:]}")
        if "Assignment not found" in log or "Course not found" in log:
            raise ExchangeError(
                f"{self.name}: {ASSIGNMENT} has not been released to the exchange {root} (nothing at "
                f"{self.exchange.outbound}). Ask your instructor whether it is released yet, and check "
                f"c.Exchange.root and the course id ({self.exchange.course_id}) in "
                f"{self.home}/.jupyter/nbgrader_config.py.\n{log[-600:]}")
        if "You already have a copy of the assignment" in log:
            raise ExchangeError(
                f"{self.name}: you have already fetched {ASSIGNMENT}: your work is in {self.assignment}. To start "
                "afresh, move that folder aside and fetch again.")
        if "missing notebooks for the submission" in log:
            raise ExchangeError(
                f"{self.name}: nbgrader refused the submission: a notebook is missing or renamed (the autograder "
                f"grades each notebook by its name). Rename it back, or copy it again from the kit.\n{log[-1200:]}")
        raise ExchangeError(f"{self.name}: `nbgrader {' '.join(args)}` failed (exit {done.returncode}):\n{log[-2000:]}")

    # -- the learner's steps ------------------------------------------------------------------------
    def fetch(self) -> list[Path]:
        """`nbgrader fetch_assignment` (what the Assignment List's Fetch button does); the notebooks fetched."""
        self.nbgrader("fetch_assignment", ASSIGNMENT)
        return sorted(self.assignment.glob("*.ipynb"))

    def work(self, notebooks: dict[str, "nbformat.NotebookNode"]) -> None:
        """Save these notebooks (file name → notebook) into ~/lesson5, as the learner's work."""
        for name, nb in notebooks.items():
            path = self.assignment / name
            nbformat.write(nb, str(path))
            if self.uid is not None:
                os.chown(path, self.uid, self.gid if self.gid is not None else self.uid)

    def validate(self, run: bool = True, jobs: int = 1) -> dict:
        """`workbook check --json` on ~/lesson5 (with `run=False`, `--no-run`: only the files); its JSON."""
        args = ["workbook", "check", ASSIGNMENT, "--json", *(["--no-run"] if not run else []), f"--jobs={jobs}"]
        done = self.run(*args, check=False)
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError:
            raise ExchangeError(f"{self.name}: `{' '.join(args)}` gave no report (exit {done.returncode}):\n"
                                f"{(done.stdout + done.stderr)[-2000:]}") from None

    def _submissions(self) -> list[str]:
        pattern = re.compile(rf"^(?P<student>[^+]+)\+{ASSIGNMENT}\+(?P<timestamp>[^+]+)$")
        found = [pattern.match(p.name) for p in self.cache.glob(f"*+{ASSIGNMENT}+*")] if self.cache.is_dir() else []
        return sorted(m.group("timestamp") for m in found if m)

    def submit(self, check: bool = True) -> Submission:
        """`nbgrader submit` (the Assignment List's Submit button), after checking that every notebook is there
        and is this course's (with `check`: `workbook check --no-run`)."""
        if not self.assignment.is_dir():
            raise ExchangeError(f"{self.name}: there is no {self.assignment} to submit: fetch the assignment first "
                                "(Assignment List > Fetch, or `nbgrader fetch_assignment lesson5`).")
        released = {p.name for p in self.exchange.outbound.glob("*.ipynb")}
        mine = {p.name for p in self.assignment.glob("*.ipynb")}
        if released and released - mine:
            extra = sorted(mine - released)
            raise ExchangeError(
                f"{self.name}: not submitted: {', '.join(sorted(released - mine))} "
                f"{'is' if len(released - mine) == 1 else 'are'} missing from {self.assignment}"
                + (f" (renamed to {', '.join(extra)}?)" if extra else "")
                + ". The autograder grades each notebook by its name: rename it back, or copy it again from the kit.")
        if check:  # a notebook of the right name that is not this course's, or cannot be read
            report = self.validate(run=False)
            refused = [nb for nb in report["notebooks"] if nb["problem"] and not nb.get("loaded", True)
                       and Path(nb["notebook"]).name in mine]
            if refused:
                raise ExchangeError(f"{self.name}: not submitted: " + " ".join(nb["problem"] for nb in refused))
        before = self._submissions()
        self.nbgrader("submit", ASSIGNMENT)
        after = [t for t in self._submissions() if t not in before]
        return Submission(after[-1] if after else "?", before)

    def fetch_feedback(self) -> list[Path]:
        """`nbgrader fetch_feedback` (the Assignment List's Fetch Feedback); the feedback pages, newest last."""
        self.nbgrader("fetch_feedback", ASSIGNMENT)
        return sorted((self.assignment / "feedback").glob("*/*.html"))
