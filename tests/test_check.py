"""`workbook check`: per-question status, points and first failure from real executed notebooks (read from
each graded cell's `workbook.record.Record`, never from printed text), exit codes, and a plain message (no
traceback) for notebooks that cannot be checked: missing, damaged, renamed, from another course, test cells lost.

The three lesson notebooks below are executed once for the whole module, in parallel
(`check_notebooks(..., jobs=3)`); the command-line tests then reuse those reports.
"""
from __future__ import annotations

import json
import os
import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from workbook import check, lab, learner_tests, notebooks, record

RELEASE_NB = notebooks.RELEASE_DIR / "01_embeddings.ipynb"
SOURCE_NB = notebooks.REPO / "source" / "lesson5" / "01_embeddings.ipynb"
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

    put("answered", notebooks.fill_answers(release, source))           # the reference answers, visible tests only
    put("untouched", release)                                      # as downloaded
    deleted = notebooks.fill_answers(release, source)
    deleted.cells = [c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") != DELETED]
    edited = next(c for c in deleted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == EDITED)
    edited.source = "t = Test('one_hot')\nt.done()  # the checks were deleted"
    put("deleted", deleted)                                # answered, one test cell deleted, one emptied
    put("broken", text=RELEASE_NB.read_text()[:5000])               # cut off while saving
    plain = new_notebook(cells=[new_markdown_cell("# notes"), new_code_cell("x = 1")])
    put("plain", plain, name="my_notes.ipynb")                     # not a workbook notebook
    put("stripped", plain)                                         # a lesson notebook whose metadata was lost
    other = new_notebook(cells=[_graded("q1_squares", "assert True")])
    put("other", other)                                            # another course's notebook, our name
    put("renamed", release, name="my_embeddings.ipynb")            # ours, under another name
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
FULL = sum(float(c.metadata.nbgrader.points) for c in check.graded_cells(nbformat.read(RELEASE_NB, 4)))


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
    assert "`one_hot`" in report.rows[0].message and not report.rows[0].message.startswith("not answered")
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
    assert not any(reports[k].loaded for k in ("plain", "stripped", "broken"))


def test_another_courses_notebook_and_a_renamed_one_are_named(reports):
    other, renamed = reports["other"], reports["renamed"]
    assert "another course" in other.problem and "fresh copy of release/lesson5/01_embeddings.ipynb" in other.problem
    assert "under another name" in renamed.problem and "rename it back to 01_embeddings.ipynb" in renamed.problem
    assert not other.rows and not renamed.rows and not other.loaded and not renamed.loaded


def test_a_copy_next_to_the_original_and_a_foreign_notebook(tmp_path):
    shutil.copy(RELEASE_NB, tmp_path / RELEASE_NB.name)
    shutil.copy(RELEASE_NB, tmp_path / "01_embeddings-Copy1.ipynb")
    report, _, _, _ = check.inspect_notebook(tmp_path / "01_embeddings-Copy1.ipynb")
    assert "is a copy of 01_embeddings.ipynb" in report.problem and "put your answers there" in report.problem
    nbformat.write(new_notebook(cells=[_graded("q1_squares", "pass")]), tmp_path / "homework.ipynb")
    report, nb, _, _ = check.inspect_notebook(tmp_path / "homework.ipynb")  # not ours by name or content
    assert nb is not None and not report.problem and "not one of this workbook's notebooks" in report.notes[0]


def test_a_folder_missing_a_workbook_notebook(tmp_path, capsys):
    for nb in check.notebooks.released()[1:]:
        shutil.copy(nb, tmp_path / nb.name)
    assert check.check_main([str(tmp_path), "--no-run"]) == 1
    out = capsys.readouterr().out
    assert f"{RELEASE_NB.name} is missing from" in out and "by its name" in out and "rename it back" in out


# --- the command --------------------------------------------------------------------------

@pytest.mark.slow
def test_exit_status_is_zero_only_when_every_visible_test_passes(cached, capsys):
    assert check.check_main([str(cached["answered"])]) == 0
    out = capsys.readouterr().out
    assert "All visible tests pass" in out and f"{FULL:g}/{FULL:g}" in out
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
    assert f"0/{FULL:g}" in out and "Traceback" not in out


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
    assert answered["ok"] and answered["points"] == answered["max_points"] == FULL
    assert DELETED in deleted["problem"]
    assert {q["question"]: q["status"] for q in deleted["questions"]}[DELETED] == check.MISSING


def test_missing_file_and_folder(tmp_path, capsys):
    assert check.check_main([str(tmp_path / "nope.ipynb")]) == 1
    assert "does not exist" in capsys.readouterr().out
    assert check.check_main([str(tmp_path / RELEASE_NB.name)]) == 1
    assert "one of the workbook's notebooks: get a fresh copy" in capsys.readouterr().out
    report = check.check_notebook(tmp_path)
    assert "is a folder" in report.problem


def test_default_is_this_folder_then_lesson5_then_the_release(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(notebooks.REPO)  # the repository: release/lesson5
    assert notebooks.default_notebooks() == sorted(notebooks.RELEASE_DIR.glob("*.ipynb"))
    assert RELEASE_NB in notebooks.default_notebooks()
    (tmp_path / "lesson5").mkdir()
    shutil.copy(RELEASE_NB, tmp_path / "lesson5" / RELEASE_NB.name)
    monkeypatch.chdir(tmp_path)  # a learner's home after fetching: ./lesson5
    assert notebooks.default_notebooks() == [tmp_path / "lesson5" / RELEASE_NB.name]
    monkeypatch.chdir(tmp_path / "lesson5")  # in the assignment's folder
    assert notebooks.default_notebooks() == [tmp_path / "lesson5" / RELEASE_NB.name]
    assert check.check_main(["--no-run"]) == 1  # the other notebooks of the workbook are missing here
    assert "02_collab_bias.ipynb is missing" in capsys.readouterr().out


# --- statuses from outputs (no kernel) -----------------------------------------------------

def _ran(cell, *outputs):
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    cell.execution_count = 1
    return cell


def _err(ename, evalue):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": []}


def _out(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def _shown(rec: record.Record):
    return {"output_type": "display_data", "data": rec.bundle(), "metadata": {}}


def test_status_from_the_record_not_the_printed_text():
    q = lambda: _graded("q", "t.done()", points=3)  # noqa: E731
    passed = record.Record("q", "softmax", checks=2, passes=["a", "b"])
    assert check.status_of(_ran(q(), _out("  ✓ a\n  ✓ b\n"), _shown(passed))).status == check.PASSED
    failed = record.Record("q", "softmax", status=record.FAILED, checks=3, failures=[
        record.Comparison("shape", False, "expected (2, 3), got (3, 2)"), record.Comparison("dtype", False, "float64")])
    row = check.status_of(_ran(q(), _out("  ✓ a\n  ✗ shape\n  ✗ dtype\n"), _shown(failed),
                               _err("ChecksFailed", failed.summary())))
    assert (row.status, row.points, row.max_points) == (check.FAILED, 0, 3)
    assert row.message == "shape: expected (2, 3), got (3, 2)" and "✗ dtype: float64" in row.details
    unanswered = record.Record("q", "softmax", status=record.NOT_ANSWERED,
                               message="not answered yet. Replace `raise NotImplementedError()` in `softmax` with your "
                                       "code, run that cell, then run this test again.")
    row = check.status_of(_ran(q(), _shown(unanswered), _err("NotAnswered", unanswered.summary())))
    assert row.status == check.NOT_ANSWERED and row.message.startswith("Replace") and "`softmax`" in row.message
    # printed crosses without a failed record are just text: the record decides
    assert check.status_of(_ran(q(), _out("  ✗ looks like a failure\n"), _shown(passed))).status == check.PASSED
    flagged = record.Record("q", "softmax", status=record.FLAGGED, flags=["patches torch"])
    assert check.status_of(_ran(q(), _shown(flagged))).status == check.FLAGGED
    row = check.status_of(_ran(q(), _err("NameError", "name 'softmax' is not defined")))  # stopped before its record
    assert row.status == check.FAILED and row.message == "NameError: name 'softmax' is not defined"
    row = check.status_of(_ran(q(), _shown(passed), _out("UserWarning: careful\n", "stderr")))
    assert row.status == check.FAILED and "stderr" in row.message
    damaged = {"output_type": "display_data", "data": {record.MIME: {"grade_id": "q", "title": "t", "bogus": 1}},
               "metadata": {}}
    assert check.status_of(_ran(q(), damaged)).status == check.PASSED  # no readable record and no error
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
        _graded("unanswered", "from workbook.testing import Test\n"
                              "def f():\n    raise NotImplementedError()\n"
                              "t = Test('f')\nt.true(lambda: f(), 'f runs')\nt.done()"),
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
    assert status["unanswered"] == (check.NOT_ANSWERED, "Replace `raise NotImplementedError()` in `f` with your code, "
                                                        "run that cell, then run this test again.")
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
    assert "not answered yet: Replace `raise NotImplementedError()` in `one_hot` with your code" in out
    assert "not valid JSON" in out


def test_checksum_is_nbgraders():
    from nbgrader.utils import compute_checksum

    cells = [c for c in nbformat.read(RELEASE_NB, 4).cells if c.metadata.get("nbgrader", {}).get("grade_id")]
    assert cells and all(notebooks.checksum(c) == compute_checksum(c) for c in cells)
    assert all(notebooks.checksum(c) == c.metadata.nbgrader.checksum for c in cells
               if "checksum" in c.metadata.nbgrader)


def test_an_edited_test_cell_is_noted(tmp_path):
    nb = nbformat.read(RELEASE_NB, 4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "one_hot_values")
    cell.source = "pass  # tests removed"
    assert notebooks.edited(nb) == ["one_hot_values"]
    assert notebooks.edited(nbformat.read(RELEASE_NB, 4)) == []


def test_no_module_is_long_and_none_imports_in_a_loop():
    import ast

    modules = sorted((notebooks.REPO / "workbook").glob("*.py"))
    assert all(len(p.read_text().splitlines()) <= 400 for p in modules), [
        (p.name, len(p.read_text().splitlines())) for p in modules]
    graph = {}
    for p in modules:
        tree = ast.parse(p.read_text())
        graph[p.stem] = {(n.module or "").split(".")[0] or a.name for n in ast.walk(tree)
                         if isinstance(n, ast.ImportFrom) and n.level == 1 for a in n.names} | {
            n.module.split(".")[1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0
            and (n.module or "").startswith("workbook.")}
    assert "lab" not in graph["check"] and "check" not in graph["lab"]

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph.get(a, ()))
    assert not [m for m in graph if reaches(m, m)]


# --- workbook lab (without starting JupyterLab: tests/test_lab_browser.py does that) ----------

def test_lab_copies_the_release_once_and_starts_jupyter_in_the_repo(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(lab, "run", lambda cmd, cwd, env=None: calls.append((cmd, cwd, env)) or 0)
    mine = tmp_path / "lesson5"
    mine.mkdir()
    (mine / RELEASE_NB.name).write_text("my work")
    assert lab.lab_main([str(mine), "--", "--port", "8899"]) == 0
    assert (mine / RELEASE_NB.name).read_text() == "my work"  # never overwritten
    assert sorted(p.name for p in mine.glob("*.ipynb")) == sorted(p.name for p in notebooks.released())
    (cmd, cwd, env), = calls
    assert cwd == notebooks.REPO  # the course's nbgrader_config.py applies to the Validate button
    assert cmd[1:4] == ["-m", "jupyter", "lab"] and f"--ServerApp.root_dir={mine.resolve()}" in cmd
    assert cmd[-2:] == ["--port", "8899"]
    assert "nbgrader.server_extensions.formgrader=False" in cmd and "nbgrader.server_extensions.course_list=False" in cmd
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(lab.JUPYTER_CONFIG)
    calls.clear()
    assert lab.lab_main([]) == 0 and f"--ServerApp.root_dir={notebooks.RELEASE_DIR}" in calls[0][0]


def test_the_learners_jupyter_config_switches_off_the_instructor_parts():
    pages = json.loads((lab.JUPYTER_CONFIG / "labconfig" / "page_config.d" / "workbook-learner.json").read_text())
    assert {k for k, v in pages["disabledExtensions"].items() if v} == set(lab.INSTRUCTOR_PARTS)
    server = json.loads((lab.JUPYTER_CONFIG / "jupyter_server_config.d" / "workbook-learner.json").read_text())
    assert {k for k, v in server["ServerApp"]["jpserver_extensions"].items() if not v} == set(
        lab.INSTRUCTOR_SERVER_PARTS)
