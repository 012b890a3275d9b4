"""One learner's half of the course in a real JupyterLab, driven in headless Chromium.

The learner has a home of their own and the learner kit's environment (`tests/kit_env.py`);
their JupyterLab is the kit's `workbook lab`, started in their home, with
~/.jupyter/nbgrader_config.py naming the course's exchange. The instructor (this test, with
real nbgrader) releases 01_embeddings alone. In the browser the learner: sees nbgrader's
learner tools only (Assignment List, Validate; no Formgrader, Course List, Create Assignment);
fetches the assignment in the Assignment List; opens the notebook (the other answers already
written), types the last answer into its cell, saves and presses Validate; submits. The
instructor collects, autogrades, generates and releases feedback; the learner fetches the
feedback in the Assignment List and opens it.

The tests run in order and share the page. `test_the_learner_fetches_and_opens_the_feedback`
needs autograde's results.

Needs /usr/bin/chromium and the `playwright` Python package (`make test` installs both: .ci/install-debian and the test extra;
never `playwright install`). Screenshots go to tests/artifacts/lab_browser/ (git-ignored; set
WORKBOOK_ARTIFACTS to put them elsewhere); the test prints where.
"""
from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent / "browser"))
import kit_env  # noqa: E402
import lab_driver  # noqa: E402
from autograder import course  # noqa: E402
from autograder.course import exchange as X  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.embeddings]

ARTIFACTS = Path(os.environ.get("WORKBOOK_ARTIFACTS", Path(__file__).parent / "artifacts")) / "lab_browser"
NOTEBOOK = "01_embeddings.ipynb"
TYPED = "one_hot"  # the answer typed in the browser; the others are written before the notebook is opened


@pytest.fixture(scope="module")
def learner(tmp_path_factory):
    """The course (01 released to an exchange), the learner, and their JupyterLab in a Chromium page."""
    if not lab_driver.CHROMIUM.exists():
        pytest.skip(f"needs {lab_driver.CHROMIUM} (Debian's chromium): run .ci/install-debian chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package: "
                                   "pip install playwright (never `playwright install`)")
    _, env = kit_env.kit_and_env(tmp_path_factory)
    base = tmp_path_factory.mktemp("browser-course")
    root = kit_env.one_notebook_course(tmp_path_factory, base / "course", NOTEBOOK)
    ex = X.Exchange(base / "exchange")
    X.release_assignment(root, ex)
    ada = X.Learner("ada", base / "ada", env, ex)
    ada.setup()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with lab_driver.learner_lab(ada.home, env.venv, ada.environ()) as lab, sync_api.sync_playwright() as pw:
        context = lab_driver.launch(pw, base / "profile")
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.lab, page.course, page.learner = lab, (root, ex), ada
        try:
            yield page
        finally:
            context.close()
            (ARTIFACTS / "jupyter-lab.log").write_text(lab.log.read_text())
    print(f"\nscreenshots and the server log: {ARTIFACTS}")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _step(page, name: str, action):
    try:
        result = action()
        _shot(page, name)
        return result
    except Exception:
        _shot(page, f"failed-{name}")
        raise


def _answer_cells(path: Path) -> dict[str, int]:
    nb = nbformat.read(str(path), 4)
    return {c.metadata.nbgrader.grade_id: i for i, c in enumerate(nb.cells)
            if c.metadata.get("nbgrader", {}).get("solution")}


def test_the_learners_lab_has_the_learner_tools_only(learner):
    page = learner
    page.goto(page.lab.page_url("lab"))
    page.wait_for_selector("li.lm-MenuBar-item:has-text('Nbgrader')")
    disabled = set(lab_driver.page_config(page)["disabledExtensions"])
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
            "@jupyter/nbgrader:create-assignment"} <= disabled
    commands = _step(page, "lab", lambda: lab_driver.nbgrader_menu(page, ARTIFACTS / "nbgrader-menu.png"))
    assert "nbgrader:open-assignment-list" in commands
    assert not {"nbgrader:open-formgrader", "nbgrader:open-course-list", "nbgrader:open-create-assignment"} & set(
        commands)
    assert page.query_selector("#nbgrader-create_assignemnt") is None  # (sic) the Create Assignment panel
    assert page.request.get(page.lab.page_url("formgrader")).status == 404  # nor its server extension
    assert page.request.get(page.lab.page_url("formgraders")).status == 404


def test_fetch_in_the_assignment_list_then_edit_validate_and_submit(learner):
    page, ada = learner, learner.learner
    text = _step(page, "assignment-list", lambda: lab_driver.open_assignment_list(page))
    assert "lesson5" in text and "Fetch" in text
    _step(page, "fetched", lambda: lab_driver.fetch_assignment(page))
    fetched = ada.assignment / NOTEBOOK
    assert fetched.is_file()
    # The work done before: every answer but one, written into the fetched notebook.
    answers = course.reference_answers()
    cells = _answer_cells(fetched)
    assert TYPED in cells
    nbformat.write(course.fill(fetched, {k: v for k, v in answers.items() if k in cells and k != TYPED}),
                   str(fetched))
    page.goto(page.lab.page_url(f"lab/tree/{course.ASSIGNMENT}/{NOTEBOOK}"))
    page.wait_for_selector(f"li.lm-TabBar-tab.lm-mod-current:has-text('{NOTEBOOK}')")
    page.wait_for_selector(f"{lab_driver.ACTIVE} .validate-button")
    lab_driver.wait_for_kernel_idle(page)
    _step(page, "typed", lambda: lab_driver.replace_cell(page, cells[TYPED], answers[TYPED].strip()))
    saved = nbformat.read(str(fetched), 4).cells[cells[TYPED]].source
    assert ast.dump(ast.parse(saved)) == ast.dump(ast.parse(answers[TYPED]))  # typed as written, saved
    outcome, message = _step(page, "validate", lambda: lab_driver.validate(page))
    assert outcome == "success", message
    assert "Success! Your notebook passes all the tests." in message
    lab_driver.close_dialog(page)
    text = _step(page, "submitted", lambda: (lab_driver.open_assignment_list(page), lab_driver.submit_assignment(page))[1])
    assert "lesson5" in text
    assert [p.name.split("+")[0] for p in page.course[1].inbound.iterdir()] == ["ada"]


def test_the_learner_fetches_and_opens_the_feedback(learner):
    page, (root, ex) = learner, learner.course
    assert X.collect(root, ex) == {"ada": "new"}
    course.autograde(root)
    course.feedback(root)
    assert len(X.release_feedback(root, ex)) == 1
    page.goto(page.lab.page_url("lab"))
    _step(page, "feedback-ready", lambda: lab_driver.open_assignment_list(page))
    _step(page, "feedback-fetched", lambda: lab_driver.fetch_feedback(page))
    page.click("#nbgrader-assignment-list #submitted_assignments_list a:has-text('view feedback')")
    page.wait_for_selector(".jp-DirListing-item[title*='01_embeddings.html']")
    page.dblclick(".jp-DirListing-item[title*='01_embeddings.html']")
    full = sum(row["max_score"] for row in course.grades(course.db_url_of(root)))
    frame = page.frame_locator(".jp-HTMLViewer iframe")
    heading = frame.locator(f"text=01_embeddings (Score: {full:.1f} / {full:.1f})")
    _step(page, "feedback-open", lambda: heading.wait_for(timeout=30_000))
    assert heading.count() >= 1
    assert frame.locator("text=Test cell (Score:").count() >= 1
