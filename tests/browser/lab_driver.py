"""Drive JupyterLab in headless Chromium (Debian's /usr/bin/chromium, through Playwright).

Used by tests/test_lab_browser.py (a learner's JupyterLab, from the learner kit's environment:
`learner_lab`); also runs on its own, from the repository's environment, for a look:

    python tests/browser/lab_driver.py /tmp/labroot     # prepares the folder, validates, saves screenshots

Never runs `playwright install`: Playwright drives the system Chromium via `executable_path`.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

CHROMIUM = Path(os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release" / "lesson5"
SOURCE = REPO / "source" / "lesson5"
ANSWERED, UNANSWERED = "01_embeddings.ipynb", "01_embeddings_unanswered.ipynb"


def prepare(root: Path) -> Path:
    """A server root: the answered 01 notebook and an untouched copy; next to it an nbgrader exchange.

    The exchange holds lesson5 as if the instructor had released it, so the Assignment List
    has something to list; `jupyter_lab` points nbgrader at it through the user-level config.
    """
    from workbook.notebooks import fill_answers

    root.mkdir(parents=True, exist_ok=True)
    release = nbformat.read(RELEASE / ANSWERED, 4)
    nbformat.write(fill_answers(release, nbformat.read(SOURCE / ANSWERED, 4)), root / ANSWERED)
    shutil.copy(RELEASE / ANSWERED, root / UNANSWERED)
    outbound = _exchange(root) / "lesson5" / "outbound" / "lesson5"
    outbound.mkdir(parents=True, exist_ok=True)
    for nb in RELEASE.glob("*.ipynb"):
        shutil.copy(nb, outbound / nb.name)
    return root


def _exchange(root: Path) -> Path:
    return root.parent / f"{root.name}-exchange"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def page_url(self, path: str) -> str:
        return f"{self.url}/{path}?token={self.token}"


def _no_news(settings: Path) -> None:
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')  # no news pop-up


def _options(port: int, token: str) -> list[str]:
    return ["--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


@contextlib.contextmanager
def serve(cmd: list[str], cwd: Path, env: dict, log: Path, port: int, token: str, timeout: float = 90):
    """Run a `jupyter lab` command line until it answers on `port`; stop it afterwards."""
    with open(log, "w") as out:
        process = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, process, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(lab.page_url("api/status"), timeout=5) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter lab did not answer in {timeout} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield lab
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def jupyter_lab(root: Path, timeout: float = 90):
    """Start `jupyter lab` on loopback serving `root`, as the repository's `workbook lab` does
    (`workbook.lab.lab_command`, from the repository, so that the Validate button uses the course's
    nbgrader_config.py). The Assignment List reads the nbgrader_config.py in `root`'s config folder
    (the exchange); the user's own Jupyter config, settings and workspaces are kept out.
    """
    from workbook.lab import lab_command, lab_env

    port, token = free_port(), secrets.token_hex(16)
    home = root.parent / f"{root.name}-home"
    for sub in ("config", "runtime", "settings", "workspaces"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = lab_env({**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
                   "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (home / "config" / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(_exchange(root))!r}\n")
    _no_news(home / "settings")
    cmd = lab_command(root, [*_options(port, token), f"--LabApp.user_settings_dir={home / 'settings'}",
                             f"--LabApp.workspaces_dir={home / 'workspaces'}"])
    with serve(cmd, REPO, env, home / "jupyter-lab.log", port, token, timeout) as lab:
        yield lab


@contextlib.contextmanager
def learner_lab(home: Path, venv: Path, env: dict, timeout: float = 90):
    """A learner's JupyterLab: `workbook lab` of the learner kit's environment `venv`, started in their home
    (`env`: their process environment, HOME included), as the kit's README says."""
    port, token = free_port(), secrets.token_hex(16)
    _no_news(home / ".jupyter" / "lab" / "user-settings")
    cmd = [str(venv / "bin" / "workbook"), "lab", "--", *_options(port, token)]
    with serve(cmd, home, env, home.parent / f"{home.name}-jupyter-lab.log", port, token, timeout) as lab:
        yield lab


# --- the page -----------------------------------------------------------------------------

ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
PROMPTS = f"[...document.querySelectorAll('{ACTIVE} .jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim())"


def launch(playwright, profile: Path):
    """Headless Debian Chromium with a fresh, empty profile."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 900})


def wait_for_kernel_idle(page, timeout_ms: int = 90_000) -> None:
    """The status bar shows the notebook's kernel as Idle (started and ready)."""
    page.wait_for_selector(".jp-StatusBar-Widget:has-text('| Idle')", timeout=timeout_ms, state="attached")


def menu(page, menu_name: str, command: str, tries: int = 3) -> None:
    """Click a menu bar entry, then the (enabled) item that runs `command`.

    A click on the menu bar toggles its menu; on a busy machine the first may land while a menu
    is still closing, so the menu is opened again if its item does not show.
    """
    item = f"li.lm-Menu-item[data-command='{command}']:not(.lm-mod-disabled)"
    for attempt in range(tries):
        page.click(f"li.lm-MenuBar-item:has-text('{menu_name}')")
        try:
            page.wait_for_selector(item, state="visible", timeout=10_000)
            break
        except Exception:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            page.mouse.click(700, 500)
    page.click(item)


def open_notebook(page, lab: Lab, name: str) -> None:
    """Open `name`: by URL the first time, then from the file browser (no page reload)."""
    if not page.url.startswith(lab.url):
        page.goto(lab.page_url(f"lab/tree/{name}"))
    else:
        page.dblclick(f".jp-DirListing-item[title*='{name}']")
    page.wait_for_selector(f"li.lm-TabBar-tab.lm-mod-current:has-text('{name}')")
    page.wait_for_selector(f"{ACTIVE} .validate-button")
    wait_for_kernel_idle(page)


def run_all(page, until: str | None = None, timeout_s: float = 150) -> list[str]:
    """Run > Run All Cells; wait until every code cell has run, or until an output contains `until`."""
    menu(page, "Run", "runmenu:run-all")
    deadline = time.monotonic() + timeout_s
    while True:
        prompts = page.evaluate(PROMPTS)
        if until is not None:
            if page.query_selector(f"{ACTIVE} .jp-OutputArea-output:has-text('{until}')"):
                return prompts
        elif prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            return prompts
        if time.monotonic() > deadline:
            raise TimeoutError(f"Run All did not finish in {timeout_s} s; prompts: {prompts}")
        page.wait_for_timeout(500)


def validate(page, timeout_ms: int = 150_000) -> tuple[str, str]:
    """Press Validate in the notebook toolbar; return the result dialog's (outcome class, text)."""
    page.click(f"{ACTIVE} .validate-button")
    message = page.wait_for_selector(".jp-Dialog #validation-message", timeout=timeout_ms, state="attached")
    classes = message.get_attribute("class") or ""
    outcome = "success" if "validation-success" in classes else "failed" if "validation-failed" in classes else classes
    return outcome, message.inner_text()


def close_dialog(page) -> None:
    page.click(".jp-Dialog .jp-mod-accept")
    page.wait_for_selector(".jp-Dialog", state="detached")


def open_assignment_list(page, timeout_ms: int = 60_000) -> str:
    """Nbgrader > Assignment List; wait for the released list to load; return the panel's text."""
    menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    page.wait_for_selector("#nbgrader-assignment-list #released_assignments_list_loading[hidden]",
                           timeout=timeout_ms, state="attached")
    page.wait_for_selector("#nbgrader-assignment-list #released_assignments_list .list_item, "
                           "#nbgrader-assignment-list #released_assignments_list_error:not([hidden]), "
                           "#nbgrader-assignment-list #released_assignments_list_placeholder:not([hidden])",
                           timeout=timeout_ms, state="attached")
    return page.inner_text("#nbgrader-assignment-list")


def nbgrader_menu(page, shot: Path | None = None) -> list[str]:
    """The commands the Nbgrader menu shows (opened, read, closed; `shot`: a screenshot of it open).

    The menu lists every nbgrader command; those of a disabled extension are not registered, so
    Lumino hides their items (`lm-mod-hidden`).
    """
    page.click("li.lm-MenuBar-item:has-text('Nbgrader')")
    page.wait_for_selector("li.lm-Menu-item[data-command^='nbgrader:']", state="attached")
    commands = page.evaluate("[...document.querySelectorAll('li.lm-Menu-item[data-command^=\"nbgrader:\"]')]"
                             ".filter(e => !e.classList.contains('lm-mod-hidden') && e.offsetParent !== null)"
                             ".map(e => e.dataset.command)")
    if shot is not None:
        page.screenshot(path=str(shot))
    page.keyboard.press("Escape")
    page.wait_for_selector("li.lm-Menu-item[data-command='nbgrader:open-assignment-list']", state="hidden")
    return commands


def page_config(page) -> dict:
    return page.evaluate("JSON.parse(document.getElementById('jupyter-config-data').textContent)")


def _press(page, section: str, label: str, then: str, timeout_ms: int) -> None:
    page.click(f"#nbgrader-assignment-list #{section} .list_item button:has-text('{label}')")
    page.wait_for_selector(then, timeout=timeout_ms, state="attached")


def fetch_assignment(page, timeout_ms: int = 60_000) -> None:
    """Press Fetch next to the released assignment; wait until it is listed as downloaded."""
    _press(page, "released_assignments_list", "Fetch",
           "#nbgrader-assignment-list #fetched_assignments_list .list_item button:has-text('Submit')", timeout_ms)


def submit_assignment(page, timeout_ms: int = 60_000) -> str:
    """Press Submit; wait until the submission is listed; return the submitted list's text."""
    _press(page, "fetched_assignments_list", "Submit",
           "#nbgrader-assignment-list #submitted_assignments_list .list_item button:has-text('Fetch Feedback')",
           timeout_ms)
    return page.inner_text("#nbgrader-assignment-list #submitted_assignments_list")


def fetch_feedback(page, timeout_ms: int = 60_000) -> None:
    """Press Fetch Feedback; wait until the submission offers "(view feedback)"."""
    _press(page, "submitted_assignments_list", "Fetch Feedback",
           "#nbgrader-assignment-list #submitted_assignments_list a:has-text('view feedback')", timeout_ms)


def replace_cell(page, index: int, code: str) -> None:
    """Type `code` over the source of the notebook's code or markdown cell number `index` (0-based), and save."""
    editor = page.locator(f"{ACTIVE} .jp-Cell").nth(index).locator(".cm-content")
    editor.scroll_into_view_if_needed()
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.wait_for_selector("li.lm-TabBar-tab.lm-mod-current:not(.jp-mod-dirty)", state="attached")


def main(argv: list[str]) -> int:
    """Prepare a folder, validate both notebooks in the browser, save screenshots next to it."""
    from playwright.sync_api import sync_playwright

    base = Path(argv[0] if argv else "/tmp/workbook-lab-driver").resolve()
    root = prepare(base / "root")
    started = time.monotonic()
    with jupyter_lab(root) as lab, sync_playwright() as pw:
        context = launch(pw, base / "profile")
        page = context.new_page()
        page.set_default_timeout(60_000)
        for name, until in [(ANSWERED, None), (UNANSWERED, "not answered yet")]:
            open_notebook(page, lab, name)
            run_all(page, until)
            outcome, text = validate(page)
            page.screenshot(path=str(base / f"validate-{Path(name).stem}.png"))
            print(f"{time.monotonic() - started:5.1f} s  {name}: {outcome}: {' '.join(text.split())[:300]}")
            close_dialog(page)
        text = open_assignment_list(page)
        page.screenshot(path=str(base / "assignment-list.png"))
        print(f"{time.monotonic() - started:5.1f} s  Assignment List: {' '.join(text.split())[:300]}")
        context.close()
    print(f"screenshots in {base}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
