"""`workbook autograde`: a class graded in parallel gives what a serial `nbgrader autograde` gives.

Fast: the gradebook's snapshot and merge (`autograder.course.gradebook`), the re-run rules and
the command line. Slow (real nbgrader, real sandboxes, notebook 01): one class graded serially
and with `--jobs 2` (scores, manual-grading flags, comments, late penalties and the autograded
notebooks compared); a learner whose grading fails, reported while the rest are graded; a run
interrupted with Ctrl-C, which leaves the gradebook consistent, and a re-run that grades only
what is missing or changed.
"""
import datetime
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc

from autograder import course
from autograder.course import gradebook as gbk
from autograder.course import parallel, planning, worker
from servers import LATE_RULE, ON_TIME, comparable, learners, released_course, submit

A = course.ASSIGNMENT
CLASS = ("perfect", "mistake", "forbidden", "late")  # a handful: each learner costs seconds of real grading


# -- the gradebook, without grading ----------------------------------------------------------------
def new_gradebook(url: str) -> None:
    """nbgrader's tables, stamped as nbgrader stamps them (without its `alembic heads` subprocess: seconds)."""
    import sqlalchemy as sa
    from nbgrader import api
    eng = sa.create_engine(url)
    api.Base.metadata.create_all(eng)
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    eng.dispose()


@pytest.fixture
def small_gradebook(tmp_path):
    """A SQLite gradebook with one assignment of two notebooks, and a learner `a` (manual score, extension)."""
    url = f"sqlite:///{tmp_path / 'course.db'}"
    new_gradebook(url)
    with Gradebook(url, "lesson5") as gb:
        gb.add_assignment(A, duedate="2026-11-29 00:00:00 UTC")
        gb.add_assignment("other")
        for nb in ("n1", "n2"):
            gb.add_notebook(nb, A)
            gb.add_grade_cell("g", nb, A, max_score=2, cell_type="code")
            gb.add_solution_cell("s", nb, A)
            gb.add_source_cell("s", nb, A, cell_type="code", source="x = 1")
            gb.add_source_cell("g", nb, A, cell_type="code", source="assert x == 1")
        for s in ("a", "b"):
            gb.add_student(s)
            gb.add_submission(A, s, timestamp="2026-11-28 12:00:00 UTC")
        gb.find_grade("g", "n1", A, "a").manual_score = 1.5
        gb.find_comment("s", "n1", A, "a").manual_comment = "well done"
        gb.db.commit()
        gb.grant_extension(A, "a", days=1)
    return url


def test_snapshot_holds_the_assignment_and_only_the_learners_own_rows(small_gradebook, tmp_path):
    base = gbk.structure(small_gradebook, A)
    url = gbk.restore(tmp_path / "snap.db", base, gbk.learner_rows(small_gradebook, A, "a"))
    with Gradebook(url, "lesson5") as gb:
        assert [a.name for a in gb.assignments] == [A]
        assert [s.id for s in gb.students] == ["a"]
        assert gb.find_grade("g", "n1", A, "a").manual_score == 1.5
        assert gb.find_submission(A, "a").extension == datetime.timedelta(days=1)
        assert gb.find_source_cell("g", "n2", A).source == "assert x == 1"
    empty = gbk.restore(tmp_path / "new.db", base, gbk.learner_rows(small_gradebook, A, "nobody"))
    with Gradebook(empty, "lesson5") as gb:
        assert gb.students == []


def _grade_snapshot(url, student, auto=1.0, stamp="2026-11-30 12:00:00 UTC"):
    """Stand in for nbgrader autograde on a snapshot: what it writes for one learner."""
    with Gradebook(url, "lesson5") as gb:
        gb.update_or_create_student(student)
        sub = gb.update_or_create_submission(A, student, timestamp=stamp)
        for nb in sub.notebooks:
            for g in nb.grades:
                g.auto_score, g.needs_manual_grade = auto, g.manual_score is not None
            for c in nb.comments:
                c.auto_comment = f"graded {nb.notebook.name}"
            nb.late_submission_penalty = 0.5
        gb.db.commit()
    return gbk.results(url, A, student)


def test_merge_writes_what_autograde_writes_and_keeps_what_graders_wrote(small_gradebook, tmp_path):
    base = gbk.structure(small_gradebook, A)
    url = gbk.restore(tmp_path / "snap.db", base, gbk.learner_rows(small_gradebook, A, "a"))
    res = _grade_snapshot(url, "a")
    with Gradebook(small_gradebook) as gb:  # a grader changes a manual score meanwhile
        gb.find_grade("g", "n2", A, "a").manual_score = 0.25
        gb.db.commit()
    gbk.merge(small_gradebook, A, "a", res)
    with Gradebook(small_gradebook) as gb:
        sub = gb.find_submission(A, "a")
        assert sub.timestamp == parse_utc("2026-11-30 12:00:00 UTC")
        assert sub.extension == datetime.timedelta(days=1)
        g1, g2 = gb.find_grade("g", "n1", A, "a"), gb.find_grade("g", "n2", A, "a")
        assert (g1.auto_score, g1.manual_score, g1.needs_manual_grade) == (1.0, 1.5, True)
        assert (g2.auto_score, g2.manual_score) == (1.0, 0.25)
        c1 = gb.find_comment("s", "n1", A, "a")
        assert (c1.auto_comment, c1.manual_comment) == ("graded n1", "well done")
        assert gb.find_submission_notebook("n1", A, "a").late_submission_penalty == 0.5
        assert gb.find_grade("g", "n1", A, "b").auto_score is None  # the other learner is untouched


def test_merge_creates_a_new_learner_and_is_all_or_nothing(small_gradebook, tmp_path):
    base = gbk.structure(small_gradebook, A)
    url = gbk.restore(tmp_path / "snap.db", base, gbk.learner_rows(small_gradebook, A, "c"))
    res = _grade_snapshot(url, "c", auto=2.0)
    gbk.merge(small_gradebook, A, "c", res)
    assert gbk.scores(small_gradebook, A, ["c"])["c"]["score"] == 4.0
    broken = dict(res, grades=res["grades"][:1])  # the assignment changed between snapshot and merge
    res2 = _grade_snapshot(gbk.restore(tmp_path / "snap2.db", base, gbk.learner_rows(small_gradebook, A, "d")), "d")
    with pytest.raises(gbk.GradebookError):
        gbk.merge(small_gradebook, A, "c", dict(broken, timestamp=parse_utc("2027-01-01 00:00:00 UTC")))
    with pytest.raises(gbk.GradebookError):
        gbk.merge(small_gradebook, A, "d", dict(res2, notebooks=res2["notebooks"][:1]))
    with Gradebook(small_gradebook) as gb:
        assert gb.find_submission(A, "c").timestamp == parse_utc("2026-11-30 12:00:00 UTC")
        assert "d" not in [s.id for s in gb.students]


def test_structure_says_what_is_missing(tmp_path):
    with pytest.raises(gbk.GradebookError, match="generate_assignment"):
        gbk.structure(f"sqlite:///{tmp_path / 'empty.db'}", A)


def test_plan_grades_what_is_missing_newer_or_changed(small_gradebook, tmp_path):
    root = tmp_path / "course"
    for s in ("a", "b", "new", "stale", "edited"):
        (root / "submitted" / s / A).mkdir(parents=True)
        (root / "submitted" / s / A / "n1.ipynb").write_text("{}")
        (root / "submitted" / s / A / "timestamp.txt").write_text(ON_TIME)
    for s in ("a", "b", "stale", "edited"):
        shutil.copytree(root / "submitted" / s, root / "autograded" / s)
        state = root / "autograded" / parallel.STATE / A
        state.mkdir(parents=True, exist_ok=True)
        (state / f"{s}.json").write_text(json.dumps({"digest": planning.digest(
            worker.read_tree(root / "submitted" / s / A))}))
    (root / "submitted" / "stale" / A / "timestamp.txt").write_text("2026-11-29 08:00:00.000000 UTC")
    (root / "submitted" / "edited" / A / "n1.ipynb").write_text('{"cells": []}')
    with Gradebook(small_gradebook) as gb:
        for s in ("stale", "edited"):
            gb.add_student(s)
            gb.add_submission(A, s)
    todo, skipped = parallel.plan(root, small_gradebook, A)
    assert todo == ["edited", "new", "stale"]
    assert [o.student for o in skipped] == ["a", "b"] and {o.status for o in skipped} == {"skipped"}
    assert parallel.plan(root, small_gradebook, A, students=["a", "ghost"])[1][0].status == "failed"
    assert parallel.plan(root, small_gradebook, A, force=True)[0] == ["a", "b", "edited", "new", "stale"]
    (root / "autograded" / "b").rename(root / "autograded" / "b-gone")  # graded, but its folder is missing
    assert "b" in parallel.plan(root, small_gradebook, A)[0]


def test_command_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        parallel.main(["--no-such-option"])
    with pytest.raises(SystemExit):
        parallel.main(["--jobs", "0"])
    (tmp_path / "submitted").mkdir()
    assert parallel.main(["--root", str(tmp_path), "--no-progress"]) == 2
    assert "generate_assignment" in capsys.readouterr().err
    from workbook import cli
    if "autograde" in cli.commands():  # registered in pyproject.toml (after `pip install -e .`)
        assert cli.commands()["autograde"].value == "autograder.course.parallel:main"


def test_bad_timestamp_is_the_learners_failure():
    job = parallel.Job("x", A, {"timestamp.txt": b"yesterday-ish"}, {}, {})
    result = parallel.grade_one(job, base=b"")
    assert not result.ok and "timestamp.txt is not a timestamp" in result.error


# -- a real class, graded twice ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(serial course, parallel course, the parallel run's report, the class): one class graded both ways."""
    tmp = tmp_path_factory.mktemp("parallel")
    base = released_course(tmp / "base")
    klass = {s: v for s, v in learners(base).items() if s in CLASS}
    for student, (files, stamp, _) in klass.items():
        submit(base, student, files, stamp)
    serial, par = tmp / "serial", tmp / "parallel"
    shutil.copytree(base, serial)
    shutil.copytree(base, par)
    submit(par, "badstamp", klass["perfect"][0], "the day before the deadline")
    course.autograde(serial, options=(LATE_RULE,))
    report = parallel.autograde_class(par, jobs=2, options=(LATE_RULE,), progress=False)
    return serial, par, report, klass


slow = pytest.mark.slow


@slow
def test_parallel_gradebook_is_the_serial_one(graded):
    serial, par, _, klass = graded
    want = gbk.rows(course.db_url_of(serial), A)
    got = [r for r in gbk.rows(course.db_url_of(par), A) if r["learner"] != "badstamp"]
    assert {r["learner"] for r in want} == set(klass)
    assert got == want
    late = [r for r in got if r["learner"] == "late" and r["kind"] == "notebook"]
    assert late and late[0]["late_submission_penalty"] == 11.0  # nbgrader's 'zero' rule: the whole score
    flagged = [r for r in got if r["learner"] == "forbidden" and r["kind"] == "grade" and r["needs_manual_grade"]]
    assert flagged, "the forbidden call is flagged for grading by hand"
    assert any(r["kind"] == "comment" and r["learner"] == "forbidden" and "flagged" in (r["auto_comment"] or "")
               for r in got)


@slow
def test_parallel_autograded_notebooks_are_the_serial_ones(graded):
    serial, par, _, klass = graded
    for student in klass:
        a, b = serial / "autograded" / student / A, par / "autograded" / student / A
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        for p in a.glob("*.ipynb"):
            q = b / p.name
            assert comparable(nbformat.read(str(p), 4)) == comparable(nbformat.read(str(q), 4)), student
            assert p.stat().st_mode == q.stat().st_mode
        assert (a / "timestamp.txt").read_text() == (b / "timestamp.txt").read_text()


@slow
def test_scores_are_the_catalogued_ones(graded):
    _, par, report, klass = graded
    lost = {}
    for r in course.grades(course.db_url_of(par)):
        if not r["passed"]:
            lost.setdefault(r["learner"], set()).add(r["cell"])
    for student, (_, _, loses) in klass.items():
        assert lost.get(student, set()) == loses, student
    by = {o.student: o for o in report.outcomes}
    assert by["perfect"].score == by["perfect"].max_score == 11
    assert by["late"].score == 11 and by["late"].late_penalty == 11


@slow
def test_one_failure_is_reported_and_the_rest_are_graded(graded):
    _, par, report, klass = graded
    by = {o.student: o for o in report.outcomes}
    assert by["badstamp"].status == "failed" and "timestamp.txt is not a timestamp" in by["badstamp"].reason
    assert {s for s, o in by.items() if o.status == "graded"} == set(klass)
    assert (par / "autograded" / parallel.STATE / A / "logs" / "badstamp.log").exists()
    assert not (par / "autograded" / "badstamp").exists()
    assert not report.ok and report.count("failed") == 1
    text = parallel.table(report)
    assert all(s in text for s in by) and "1 failed" in text and "timestamp.txt" in text


def _consistent(root: Path) -> None:
    """Each learner's autograded folder and gradebook agree: same timestamp, a score for every graded cell."""
    with Gradebook(course.db_url_of(root)) as gb:
        for folder in (root / "autograded").glob(f"[!.]*/{A}"):
            sub = gb.find_submission(A, folder.parent.name)
            assert sub.timestamp == parse_utc((folder / "timestamp.txt").read_text()), folder.parent.name
            assert all(g.auto_score is not None for nb in sub.notebooks for g in nb.grades)


@slow
def test_interrupted_run_is_consistent_and_a_rerun_grades_only_what_is_left(graded, tmp_path):
    _, par, _, klass = graded
    root = tmp_path / "course"
    shutil.copytree(par, root)
    (root / "submitted" / "badstamp" / A / "timestamp.txt").write_text(ON_TIME)         # missing: never graded
    (root / "submitted" / "perfect" / A / "timestamp.txt").write_text("2026-11-28 18:00:00.000000 UTC")  # newer
    edited = root / "submitted" / "mistake" / A / "01_embeddings.ipynb"                   # other files, same time
    nb = nbformat.read(str(edited), 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("I will try again tomorrow."))
    nbformat.write(nb, str(edited))
    assert parallel.plan(root, course.db_url_of(root), A)[0] == ["badstamp", "mistake", "perfect"]

    state = root / "autograded" / parallel.STATE / A
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "autograder.course.parallel", "--root", str(root), "--jobs", "1",
                             "--no-progress", LATE_RULE], cwd=course.REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    first = None
    while first is None and proc.poll() is None and time.time() - started < 400:
        for record in state.glob("*.json"):
            if json.loads(record.read_text())["graded_at"] > started:
                first = record.stem
        time.sleep(0.2)
    assert first, f"no learner was graded: {proc.communicate()[0] if proc.poll() is not None else ''}"
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, out
    assert "interrupted" in out
    _consistent(root)

    report = parallel.autograde_class(root, jobs=2, options=(LATE_RULE,), progress=False)
    status = {o.student: o.status for o in report.outcomes}
    left = {"badstamp", "mistake", "perfect"} - {first}
    assert {s for s, v in status.items() if v == "graded"} <= left
    assert {s for s, v in status.items() if v == "graded"} | {s for s, v in status.items() if v == "skipped"} == \
        set(klass) | {"badstamp"}
    assert left - {s for s, v in status.items() if v == "graded"} == set(), status
    _consistent(root)
    assert parallel.plan(root, course.db_url_of(root), A)[0] == []
    scores = gbk.scores(course.db_url_of(root), A)
    assert scores["badstamp"]["score"] == 11 and scores["perfect"]["score"] == 11


@slow
def test_rerun_with_nothing_changed_starts_no_worker(graded, tmp_path):
    par = graded[1]
    root = tmp_path / "course"
    shutil.copytree(par, root)
    shutil.rmtree(root / "submitted" / "badstamp")
    report = parallel.autograde_class(root, jobs=2, progress=False)
    assert report.workers == 0 and {o.status for o in report.outcomes} == {"skipped"}
    assert report.ok

