"""nbgrader's exchange end to end, through real nbgrader: two learners, each with their own home and the kit's environment.

The course is the repo's 01 notebook alone (one notebook to autograde per learner keeps it
short; the flow is the same for six). Where this machine allows it (root, with setpriv and
bubblewrap), the two learners are different Unix users with their login names, as on a shared
server or JupyterHub: each home is private, and neither can list the exchange's inbound. Else
they share the current user and say who they are in ~/.jupyter/nbgrader_config.py.

Which tests need autograde's results: `test_collect_autograde_and_feedback_reach_each_learner`
(scores and feedback pages). The others stop before autograde.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

import kit_env
from autograder import course
from autograder.course import exchange as X

NOTEBOOK = "01_embeddings.ipynb"
UIDS = {"ada": 61001, "bob": 61002, "cy": 61003}


def _multi_user() -> bool:
    return (os.geteuid() == 0 and shutil.which("setpriv") is not None and shutil.which("bwrap") is not None
            and subprocess.run(["bwrap", "--dev-bind", "/", "/", "true"], capture_output=True).returncode == 0)


MULTI_USER = _multi_user()


# --- fast -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_a_missing_exchange_says_what_to_do(tmp_path):
    env = type("Env", (), {"bin": Path(sys.executable).parent})()
    learner = X.Learner("ada", tmp_path / "ada", env, X.Exchange(tmp_path / "nowhere"))
    learner.setup()
    with pytest.raises(X.ExchangeError, match="does not exist") as err:
        learner.fetch()
    assert "nothing has been released there yet" in str(err.value) and "c.Exchange.root" in str(err.value)


def test_an_exchange_that_cannot_be_written_says_what_to_do(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(X.ExchangeError, match="not writable") as err:
        X.Exchange(tmp_path / "a-file" / "exchange").check_writable()
    assert "c.Exchange.root" in str(err.value) and "chmod 777" in str(err.value)
    X.Exchange(tmp_path / "fine" / "exchange").check_writable()  # made when missing
    assert (tmp_path / "fine" / "exchange").is_dir()


def test_a_learner_config_names_the_course_and_the_exchange(tmp_path):
    ex = X.Exchange(tmp_path / "exchange")
    env = type("Env", (), {"bin": tmp_path / "venv" / "bin"})()
    config = X.Learner("ada", tmp_path / "ada", env, ex).setup().read_text()
    assert config.startswith('"""My nbgrader settings') and 'course_id = "lesson5"' in config
    assert f'c.Exchange.root = "{tmp_path / "exchange"}"' in config and "student_id = 'ada'" in config
    config = X.Learner("ada", tmp_path / "ada2", env, ex, login_name=True).setup().read_text()
    assert "student_id" not in config.replace("leave it", "")


def test_a_learner_who_cannot_reach_the_environment_is_told_which_folder_to_open(tmp_path):
    private = tmp_path / "private"
    (private / "venv" / "bin").mkdir(parents=True)
    private.chmod(0o700)
    closed = X.closed_to_others(tmp_path) or private  # pytest's own temporary folder is private too
    assert X.closed_to_others(private / "venv" / "bin") == closed
    assert X.closed_to_others(Path("/usr/bin")) is None
    env = type("Env", (), {"bin": private / "venv" / "bin"})()
    learner = X.Learner("ada", tmp_path / "homes" / "ada", env, X.Exchange(tmp_path / "exchange"), uid=61001)
    with pytest.raises(X.ExchangeError, match="cannot reach the learner environment") as err:
        learner.setup()
    assert f"chmod o+x {closed}" in str(err.value) and "mode 700" in str(err.value)


def test_a_second_submission_says_the_first_is_kept():
    assert X.Submission("t2", []).message() == "submitted lesson5 at t2."
    message = X.Submission("t2", ["t1"]).message()
    assert "again" in message and "latest" in message and "t1" in message and "stay in the exchange" in message


# --- the class, through real nbgrader (slow) ------------------------------------------------------------

@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """A course releasing 01 alone, an exchange, and three learners (ada, bob, cy) in their own homes."""
    _, env = kit_env.kit_and_env(tmp_path_factory)
    # Other Unix users cannot enter pytest's private temporary folder: use one they can.
    base = Path(tempfile.mkdtemp(prefix="workbook-exchange-", dir=kit_env.OPEN))
    base.chmod(0o755)
    root = kit_env.one_notebook_course(tmp_path_factory, base / "course", NOTEBOOK)
    ex = X.Exchange(base / "exchange")
    (base / "homes").mkdir()
    (base / "homes").chmod(0o755)
    passwd = None
    if MULTI_USER:
        passwd = base / "passwd"
        passwd.write_text(Path("/etc/passwd").read_text() + "".join(
            f"{name}:x:{uid}:{uid}:{name}:{base / 'homes' / name}:/bin/sh\n" for name, uid in UIDS.items()))
    learners = {name: X.Learner(name, base / "homes" / name, env, ex, uid=uid if MULTI_USER else None,
                                login_name=MULTI_USER, passwd=passwd)
                for name, uid in UIDS.items()}
    for learner in learners.values():
        learner.setup()
    yield root, ex, learners
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def submitted(klass):
    """Release; everyone fetches; ada submits the reference answers, bob an untouched copy and then (after the
    due date) the reference answers; returns the submissions and the due date."""
    root, ex, learners = klass
    ada, bob = learners["ada"], learners["bob"]
    ex.prepare()  # the instructor sets the exchange up, then releases
    with pytest.raises(X.ExchangeError) as never:
        ada.fetch()
    X.release_assignment(root, ex)
    with ThreadPoolExecutor(3) as pool:  # each waits on its own nbgrader
        fetched = dict(zip(learners, pool.map(X.Learner.fetch, learners.values())))
    with pytest.raises(X.ExchangeError) as again:
        ada.fetch()
    answers = course.reference_answers()
    ada.work({NOTEBOOK: course.fill(ada.assignment / NOTEBOOK, answers)})
    report = ada.validate()
    first = ada.submit()
    bob_first = bob.submit()
    due = datetime.now(timezone.utc)
    X.set_due_date(root, due)
    bob.work({NOTEBOOK: course.fill(bob.assignment / NOTEBOOK, answers)})
    bob_second = bob.submit()
    return {"never": str(never.value), "again": str(again.value), "fetched": fetched, "report": report,
            "ada": first, "bob": (bob_first, bob_second), "due": due}


@pytest.mark.slow
def test_learners_fetch_validate_and_submit(klass, submitted):
    root, ex, learners = klass
    assert "has not been released" in submitted["never"] and "c.Exchange.root" in submitted["never"]
    assert "already fetched" in submitted["again"] and "move that folder aside" in submitted["again"]
    for name, paths in submitted["fetched"].items():
        assert [p.name for p in paths] == [NOTEBOOK] and paths[0].parent == learners[name].home / "lesson5"
    # (the kit holds six notebooks, this course releases one: the report also names the five others as missing)
    notebook, = [nb for nb in submitted["report"]["notebooks"] if nb["notebook"].endswith(NOTEBOOK)]
    assert notebook["ok"] and {q["status"] for q in notebook["questions"]} == {"passed"}, notebook
    assert not submitted["ada"].earlier
    first, second = submitted["bob"]
    assert second.earlier == [first.timestamp] and "again" in second.message()
    inbound = sorted(p.name.split("+")[0] for p in ex.inbound.iterdir())
    assert inbound == ["ada", "bob", "bob"]  # nbgrader keeps every submission


@pytest.mark.slow
def test_a_missing_renamed_or_foreign_notebook_is_not_submitted(klass, submitted):
    _, ex, learners = klass
    cy = learners["cy"]
    own = cy.assignment / NOTEBOOK
    renamed = cy.assignment / "my_embeddings.ipynb"
    own.rename(renamed)
    with pytest.raises(X.ExchangeError, match="missing") as err:
        cy.submit()
    assert "renamed to my_embeddings.ipynb" in str(err.value) and "rename it back" in str(err.value)
    renamed.rename(own)
    foreign = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("assert True")])
    foreign.cells[0].metadata["nbgrader"] = {"grade": True, "grade_id": "q1_squares", "points": 1, "locked": True,
                                             "solution": False, "schema_version": 3}
    keep = own.read_bytes()
    cy.work({NOTEBOOK: foreign})
    with pytest.raises(X.ExchangeError, match="another course"):
        cy.submit()
    own.write_bytes(keep)
    assert not any(p.name.startswith("cy+") for p in ex.inbound.iterdir())


@pytest.mark.slow
@pytest.mark.skipif(not MULTI_USER, reason="needs root, setpriv and bubblewrap: learners as other Unix users")
def test_learners_are_other_unix_users_who_cannot_see_each_other(klass, submitted):
    _, ex, learners = klass
    ada, bob = learners["ada"], learners["bob"]
    assert ex.inbound.stat().st_mode & 0o7777 == 0o2733  # nbgrader's inbound: write, no read for learners
    looks = ada.run("python", "-c", f"import os; os.listdir({str(ex.inbound)!r})", check=False)
    assert looks.returncode == 1 and "PermissionError" in looks.stderr
    looks = ada.run("python", "-c", f"import os; os.listdir({str(bob.home)!r})", check=False)
    assert looks.returncode == 1 and "PermissionError" in looks.stderr
    owners = {p.name.split("+")[0]: p.stat().st_uid for p in ex.inbound.iterdir()}
    assert owners == {"ada": UIDS["ada"], "bob": UIDS["bob"]}  # the login name, from the Unix user
    closed = X.Exchange(ex.root.parent / "closed-exchange")
    closed.root.mkdir(mode=0o755)
    shut = X.Learner("ada", ada.home.parent / "ada-elsewhere", ada.env, closed, uid=ada.uid, passwd=ada.passwd,
                     login_name=True)  # another home, whose config names the closed exchange
    shut.setup()
    with pytest.raises(X.ExchangeError, match="not writable by you") as err:
        shut.fetch()
    assert "ask your instructor" in str(err.value).lower() and "c.Exchange.root" in str(err.value)


@pytest.mark.slow
def test_collect_autograde_and_feedback_reach_each_learner(klass, submitted):
    root, ex, learners = klass
    ada, bob = learners["ada"], learners["bob"]
    assert X.collect(root, ex) == {"ada": "new", "bob": "new"}
    assert (root / "submitted" / "bob" / "lesson5" / "timestamp.txt").read_text() == submitted["bob"][1].timestamp
    course.autograde(root)
    course.feedback(root)
    assert len(X.release_feedback(root, ex)) == 2
    late = X.lateness(course.db_url_of(root))
    assert late["ada"] == 0 and late["bob"] > 0  # bob's latest came after the due date
    totals: dict[str, list[float]] = {}
    for row in course.grades(course.db_url_of(root)):
        got = totals.setdefault(row["learner"], [0.0, 0.0])
        got[0], got[1] = got[0] + (row["score"] or 0), got[1] + row["max_score"]
    full = totals["ada"][1]
    assert full > 0 and totals["ada"] == totals["bob"] == [full, full]  # bob's latest was graded; no penalty set
    for learner in (ada, bob):
        pages = learner.fetch_feedback()
        assert [p.name for p in pages] == ["01_embeddings.html"]
        assert pages[0].parent.name == (submitted["ada"] if learner is ada else submitted["bob"][1]).timestamp
        html = pages[0].read_text()
        assert "one_hot_values" in html and f"Score: {full:.1f} / {full:.1f}" in html
    assert X.collect(root, ex) == {"ada": "same", "bob": "same"}
