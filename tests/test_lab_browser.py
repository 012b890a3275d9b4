"""End to end in JupyterLab: nbgrader's Validate button and Assignment List, driven in headless Chromium.

Starts `jupyter lab` on loopback (a free port, a token, no browser) serving a temporary folder
with the answered 01 notebook (the release notebook with the reference answers) and an
untouched copy, then with Playwright and Debian's /usr/bin/chromium: opens each notebook, runs
all cells, presses Validate and reads the result dialog; then opens Nbgrader > Assignment List,
with an exchange that holds lesson5 as released.

Needs /usr/bin/chromium and the `playwright` Python package (`.ci/install-browser` installs both;
never `playwright install`). Screenshots go to tests/artifacts/lab_browser/ (git-ignored; set
WORKBOOK_ARTIFACTS to put them elsewhere); the test prints where.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "browser"))
import lab_driver  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.embeddings]

ARTIFACTS = Path(os.environ.get("WORKBOOK_ARTIFACTS", Path(__file__).parent / "artifacts")) / "lab_browser"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """A Chromium page and the JupyterLab server it talks to."""
    if not lab_driver.CHROMIUM.exists():
        pytest.skip(f"needs {lab_driver.CHROMIUM} (Debian's chromium): run .ci/install-browser")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package: "
                                   "run .ci/install-browser (pip install playwright; no `playwright install`)")
    base = tmp_path_factory.mktemp("lab")
    root = lab_driver.prepare(base / "root")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with lab_driver.jupyter_lab(root) as lab, sync_api.sync_playwright() as pw:
        context = lab_driver.launch(pw, base / "profile")
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.lab = lab
        try:
            yield page
        finally:
            context.close()
            (ARTIFACTS / "jupyter-lab.log").write_text(lab.log.read_text())
    print(f"\nscreenshots and the server log: {ARTIFACTS}")


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_validate_button_passes_the_answered_notebook(page):
    lab_driver.open_notebook(page, page.lab, lab_driver.ANSWERED)
    try:
        prompts = lab_driver.run_all(page)
        assert page.query_selector(f"{lab_driver.ACTIVE} .jp-OutputArea-output:has-text('checks passed')")
        outcome, text = lab_driver.validate(page)
        _shot(page, "validate-answered")
    except Exception:
        _shot(page, "failed-validate-answered")
        raise
    assert outcome == "success", text
    assert "Success! Your notebook passes all the tests." in text
    assert len(prompts) > 5
    lab_driver.close_dialog(page)


def test_validate_button_fails_the_unanswered_notebook(page):
    lab_driver.open_notebook(page, page.lab, lab_driver.UNANSWERED)
    try:
        lab_driver.run_all(page, until="not answered yet")  # the visible test says so in the notebook
        outcome, text = lab_driver.validate(page)
        _shot(page, "validate-unanswered")
    except Exception:
        _shot(page, "failed-validate-unanswered")
        raise
    assert outcome == "failed", text
    assert "The following cell failed" in text and "not answered yet" in text
    lab_driver.close_dialog(page)


def test_assignment_list_opens_and_lists_the_release(page):
    try:
        if not page.url.startswith(page.lab.url):
            page.goto(page.lab.page_url("lab"))
        text = lab_driver.open_assignment_list(page)
        _shot(page, "assignment-list")
    except Exception:
        _shot(page, "failed-assignment-list")
        raise
    assert "Released assignments" in text and "lesson5" in text and "Fetch" in text
    assert page.query_selector("#released_assignments_list_error:not([hidden])") is None
    assert "exchange directory does not exist" not in text
