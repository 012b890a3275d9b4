"""`workbook check`: per-question status, points and first failure from real executed notebooks,
exit codes, and a plain message (no traceback) for notebooks that cannot be checked.

The three lesson notebooks below are executed once for the whole module, in parallel
(`check_notebooks(..., jobs=3)`); the command-line tests then reuse those reports.
"""
from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workbook import check, learner_tests

RELEASE_NB = check.RELEASE_DIR / "01_embeddings.ipynb"
SOURCE_NB = check.REPO / "source" / "lesson5" / "01_embeddings.ipynb"
DELETED = "embedding_lookup_gradient"  # the test cell removed from the "deleted" fixture
EDITED = "one_hot_values"              # the test cell emptied in it


def _graded(grade_id: str, source: str, points: float = 1, **extra) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                                 "solution": False, "schema_version": 3, **extra}
    return cell


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Learner notebooks, each in its own folder as a learner would keep it; the names match the release."""
    root = tmp_path_factory.mktemp("learner")
    release, source = nbformat.read(RELEASE_NB, 4), nbformat.read(SOURCE_NB, 4)
    paths = {}

    def put(kind: str, nb=None, text: str | None = None, name: str = RELEASE_NB.name):
        (root / kind).mkdir()
        paths[kind] = root / kind / name
        if text is not None:
            paths[kind].write_text(text)
        else:
            nbformat.write(nb, paths[kind])

    put("answered", check.fill_answers(release, source))           # the reference answers, visible tests only
    put("untouched", release)                                      # as downloaded
    deleted = check.fill_answers(release, source)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != DELETED]
    edited = next(c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == EDITED)
    edited.source = "t = Test('one_hot')\nt.done()  # the checks were deleted"
    put("deleted", deleted)                                # answered, one test cell deleted, one emptied
    put("broken", text=RELEASE_NB.read_text()[:5000])               # cut off while saving
    plain = new_notebook(cells=[new_markdown_cell("# notes"), new_code_cell("x = 1")])
    put("plain", plain, name="my_notes.ipynb")                     # not a workbook notebook
    put("stripped", plain)                                         # a lesson notebook whose metadata was lost
    return paths


@pytest.fixture(scope="module")
def reports(files):
    """Every fixture checked once (the three that run a kernel, in parallel)."""
    kinds = list(files)
    return dict(zip(kinds, check.check_notebooks([files[k] for k in kinds], jobs=3)))


@pytest.fixture
def cached(reports, files, monkeypatch):
    """`check_main` with each fixture's report taken from `reports` instead of running it again."""
    by_path = {str(files[k]): r for k, r in reports.items()}
    monkeypatch.setattr(check, "check_notebook", lambda path, timeout=60: by_path[str(path)])
    return files


RELEASE_IDS = [c.metadata.nbgrader.grade_id for c in check.graded_cells(nbformat.read(RELEASE_NB, 4))]


# --- statuses from real runs --------------------------------------------------------------

@pytest.mark.slow
def test_reference_answers_pass_every_question(reports):
    report = reports["answered"]
    assert [r.question for r in report.rows] == RELEASE_IDS
    assert {r.status for r in report.rows} == {check.PASSED}, check.format_report(report)
    assert all(r.points == r.max_points > 0 for r in report.rows)
    assert report.ok and not report.problem and not report.notes


@pytest.mark.slow
def test_untouched_release_is_not_answered_yet(reports):
    report = reports["untouched"]
    assert [r.question for r in report.rows] == RELEASE_IDS
    assert {r.status for r in report.rows} == {check.NOT_ANSWERED}, check.format_report(report)
    assert all(r.points == 0 and "NotImplementedError" in r.message for r in report.rows)
    assert "`one_hot`" in report.rows[0].message
    assert not report.ok


@pytest.mark.slow
def test_deleted_test_cell_is_named_with_what_to_do(reports):
    report = reports["deleted"]
    assert DELETED in report.problem and "01_embeddings.ipynb" in report.problem
    assert "copy the cell back" in report.problem
    missing = [r for r in report.rows if r.status == check.MISSING]
    assert [r.question for r in missing] == [DELETED] and missing[0].max_points == 1
    assert f"`{EDITED}` was edited" in report.problem  # it passes, but the autograder runs the original
    assert all(r.status == check.PASSED for r in report.rows if r.question != DELETED)
    assert not report.ok


def test_broken_json_says_what_to_do(reports):
    report = reports["broken"]
    assert not report.rows and not report.ok
    assert "not valid JSON" in report.problem and "cut off while saving" in report.problem
    assert "text editor" in report.problem and "release/lesson5/01_embeddings.ipynb" in report.problem


def test_non_workbook_notebook_is_refused_plainly(reports):
    assert "not a workbook notebook" in reports["plain"].problem
    assert "metadata was probably lost" not in reports["plain"].problem
    # the name of a lesson notebook, but no nbgrader metadata: say what probably happened
    assert "metadata was probably lost" in reports["stripped"].problem


# --- the command --------------------------------------------------------------------------

@pytest.mark.slow
def test_exit_status_is_zero_only_when_every_visible_test_passes(cached, capsys):
    assert check.check_main([str(cached["answered"])]) == 0
    out = capsys.readouterr().out
    assert "All visible tests pass" in out and "8/8" in out
    for kind in ("untouched", "deleted", "broken", "plain"):
        assert check.check_main([str(cached[kind])]) == 1, kind
    assert check.check_main([str(cached["answered"]), str(cached["untouched"])]) == 1


@pytest.mark.slow
def test_table_has_a_row_per_question(cached, capsys):
    assert check.check_main([str(cached["untouched"])]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "question" in lines[1] and "status" in lines[1] and "points" in lines[1]
    for gid in RELEASE_IDS:
        row = next(line for line in lines if line.strip().startswith(gid + " "))
        assert "not answered yet" in row and "0/" in row
    assert "0/8" in out and "Traceback" not in out


@pytest.mark.slow
def test_a_broken_notebook_does_not_stop_the_others(cached, capsys):
    code = check.check_main([str(cached["broken"]), str(cached["answered"]), str(cached["plain"])])
    out = capsys.readouterr().out
    assert code == 1
    assert "not valid JSON" in out and "not a workbook notebook" in out and "Traceback" not in out
    assert out.count("passed") >= len(RELEASE_IDS)  # the answered notebook's table is there
    assert "2 of 3 notebooks" in out


@pytest.mark.slow
def test_json_output(cached, capsys):
    assert check.check_main(["--json", str(cached["deleted"]), str(cached["answered"])]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    deleted, answered = data["notebooks"]
    assert answered["ok"] and answered["points"] == answered["max_points"] == 8
    assert DELETED in deleted["problem"]
    assert {q["question"]: q["status"] for q in deleted["questions"]}[DELETED] == check.MISSING


def test_missing_file_and_folder(tmp_path, capsys):
    assert check.check_main([str(tmp_path / "nope.ipynb")]) == 1
    assert "does not exist" in capsys.readouterr().out
    report = check.check_notebook(tmp_path)
    assert "is a folder" in report.problem


def test_default_is_every_release_notebook():
    assert check.default_notebooks() == sorted(check.RELEASE_DIR.glob("*.ipynb"))
    assert RELEASE_NB in check.default_notebooks()


# --- statuses from outputs (no kernel) -----------------------------------------------------

def _ran(cell, *outputs):
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    cell.execution_count = 1
    return cell


def _err(ename, evalue):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


def _out(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def test_status_from_outputs():
    q = lambda: _graded("q", "t.done()", points=3)  # noqa: E731
    assert check.status_of(_ran(q(), _out("  ✓ fine\nq: all 1 checks passed.\n"))).status == check.PASSED
    row = check.status_of(_ran(q(), _out("  ✓ a\n  ✗ shape: expected (2, 3), got (3, 2)\n  ✗ dtype\n"),
                               _err("QuestionFailed", "q: 2 of 3 checks failed.\n  ✗ shape: ...")))
    assert (row.status, row.points, row.max_points) == (check.FAILED, 0, 3)
    assert row.message == "shape: expected (2, 3), got (3, 2)" and "✗ dtype" in row.details
    row = check.status_of(_ran(q(), _err("NotAnswered", "q: not answered yet. Replace `raise NotImplementedError()` "
                                                         "in `softmax` with your code, run that cell, then run "
                                                         "this test again.")))
    assert row.status == check.NOT_ANSWERED and "`softmax`" in row.message
    row = check.status_of(_ran(q(), _err("NameError", "name 'softmax' is not defined")))
    assert row.status == check.FAILED and row.message == "NameError: name 'softmax' is not defined"
    row = check.status_of(_ran(q(), _out("UserWarning: careful\n", "stderr")))
    assert row.status == check.FAILED and "stderr" in row.message
    row = check.status_of(_ran(q(), _out("  ✗ a check failed\n")))  # a ✗ line fails the question even without error
    assert row.status == check.FAILED
    manual = new_markdown_cell("Explain.")
    manual.metadata["nbgrader"] = {"grade": True, "grade_id": "essay", "points": 2, "solution": True}
    assert check.status_of(manual).status == check.BY_HAND


def test_long_messages_are_cut_to_one_line():
    report = check.Report("nb.ipynb", [check.Row("q", check.FAILED, 0, 1, "word " * 100 + "\nsecond line")])
    lines = check.format_report(report, width=80).splitlines()
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)
    assert lines[2].endswith("…") and "second line" not in lines[2]


# --- a real run of the odd cases, in a tiny notebook (no torch) ----------------------------

@pytest.mark.slow
def test_timeouts_stderr_and_a_dead_kernel(tmp_path):
    nb = new_notebook(cells=[
        _graded("fine", "print('  ✓ ok')"),
        _graded("noisy", "import sys; print('careful', file=sys.stderr)"),
        _graded("unanswered", "from autograder.report import NotAnswered\n"
                              "raise NotAnswered('q: not answered yet. Replace `raise NotImplementedError()` in "
                              "`f` with your code')"),
        _graded("slow", "import time; time.sleep(60)"),
        new_code_cell("import os; os._exit(1)"),
        _graded("after", "pass"),
    ])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    report = check.check_notebook(path, timeout=6)  # room for IPython's first traceback on a busy machine
    status = {r.question: (r.status, r.message) for r in report.rows}
    assert status["fine"][0] == check.PASSED
    assert status["slow"][0] == check.FAILED and "longer than the 6 s allowed" in status["slow"][1]
    assert status["noisy"][0] == check.FAILED and "stderr" in status["noisy"][1]
    assert status["unanswered"][0] == check.NOT_ANSWERED
    assert status["after"] == (check.FAILED, "not run: the notebook stopped before this cell")
    assert "could not be run to the end" in report.problem and "DeadKernelError" in report.problem
    assert "Traceback" not in check.format_report(report)


def test_the_notebook_runs_in_its_folder_with_validate_set(tmp_path):
    (tmp_path / "data.txt").write_text("here")
    nb = new_notebook(cells=[_graded("cwd", "import os\nassert open('data.txt').read() == 'here'\n"
                                            "assert os.environ['NBGRADER_EXECUTION'] == 'validate'")])
    nbformat.write(nb, tmp_path / "cwd.ipynb")
    report = check.check_notebook(tmp_path / "cwd.ipynb")
    assert report.ok, check.format_report(report)


# --- pytest, one test per question ---------------------------------------------------------

@pytest.mark.slow
def test_pytest_gives_one_test_per_question(reports, files, monkeypatch, capsys):
    paths = [files["answered"], files["untouched"], files["broken"]]
    monkeypatch.setenv("WORKBOOK_CHECK_NOTEBOOKS", os.pathsep.join(map(str, paths)))
    for kind in ("answered", "untouched", "broken"):
        monkeypatch.setitem(learner_tests._REPORTS, str(files[kind]), reports[kind])
    code = pytest.main(["--pyargs", "workbook.learner_tests", "-q", "-p", "no:cacheprovider", "-rN",
                        "-W", "ignore::pytest.PytestAssertRewriteWarning"])
    out = capsys.readouterr().out
    n = len(RELEASE_IDS)
    assert code == 1
    assert f"{n + 1} failed, {n} passed" in out, out
    assert "not answered yet: `one_hot` still raises NotImplementedError" in out
    assert "not valid JSON" in out


def test_checksum_is_nbgraders():
    from nbgrader.utils import compute_checksum

    cells = [c for c in nbformat.read(RELEASE_NB, 4).cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    assert cells and all(check.checksum(c) == compute_checksum(c) for c in cells)
    assert all(check.checksum(c) == c.metadata.nbgrader.checksum for c in cells if "checksum" in c.metadata.nbgrader)


def test_an_edited_test_cell_is_noted(tmp_path):
    nb = nbformat.read(RELEASE_NB, 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "one_hot_values")
    cell.source = "pass  # tests removed"
    assert check._edited(nb) == ["one_hot_values"]
    assert check._edited(nbformat.read(RELEASE_NB, 4)) == []


# --- workbook lab (without starting JupyterLab: tests/test_lab_browser.py does that) ----------

def test_lab_copies_the_release_once_and_starts_jupyter_in_the_repo(tmp_path, monkeypatch):
    from workbook import lab

    calls = []
    monkeypatch.setattr(lab, "run", lambda cmd, cwd: calls.append((cmd, cwd)) or 0)
    mine = tmp_path / "lesson5"
    mine.mkdir()
    (mine / RELEASE_NB.name).write_text("my work")
    assert check.lab_main([str(mine), "--", "--port", "8899"]) == 0
    assert (mine / RELEASE_NB.name).read_text() == "my work"  # never overwritten
    assert sorted(p.name for p in mine.glob("*.ipynb")) == sorted(p.name for p in check.default_notebooks())
    (cmd, cwd), = calls
    assert cwd == check.REPO  # the course's nbgrader_config.py applies to the Validate button
    assert cmd[1:4] == ["-m", "jupyter", "lab"] and f"--ServerApp.root_dir={mine.resolve()}" in cmd
    assert cmd[-2:] == ["--port", "8899"]
    calls.clear()
    assert check.lab_main([]) == 0 and f"--ServerApp.root_dir={check.RELEASE_DIR}" in calls[0][0]
