"""`workbook lab [FOLDER]`: open the workbook in JupyterLab, with the learner's nbgrader tools only.

    workbook lab                  # repository: release/lesson5, where it is; learner kit: this folder
    workbook lab ~/lesson5        # copies the untouched notebooks there first (never over your files)
    workbook lab -- --port 8899   # anything after `--` goes to `jupyter lab`

The learner's tools are nbgrader's Assignment List (fetch, submit, fetch feedback) and the
Validate button; the instructor's (Formgrader, Course List, Create Assignment) are switched off
through the Jupyter configuration in `workbook/jupyter/` (put first on JUPYTER_CONFIG_PATH; the
learner kit also installs it into its environment, so a plain `jupyter lab` there is the same).
In the repository JupyterLab starts there, so that the Validate button uses the course's
`nbgrader_config.py`; in the kit it starts in FOLDER, and nbgrader reads ~/.jupyter/nbgrader_config.py.
Running as root (a container)? Add `-- --allow-root`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .notebooks import IN_KIT, RELEASE_DIR, REPO, released, show

JUPYTER_CONFIG = Path(__file__).resolve().parent / "jupyter"  # labconfig/ and jupyter_server_config.d/
INSTRUCTOR_PARTS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                    "@jupyter/nbgrader:create-assignment")
INSTRUCTOR_SERVER_PARTS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def copy_release(folder: Path) -> list[Path]:
    """Copy each untouched notebook that `folder` lacks into it; returns the copies made."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for nb in released():
        target = folder / nb.name
        if not target.exists():
            shutil.copy2(nb, target)
            made.append(target)
    return made


def lab_command(folder: Path, extra: list[str]) -> list[str]:
    """The `jupyter lab` command line that serves `folder`, without nbgrader's instructor server extensions."""
    off = [arg for name in INSTRUCTOR_SERVER_PARTS for arg in ("--ServerApp.jpserver_extensions", f"{name}=False")]
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={Path(folder).resolve()}", *off, *extra]


def lab_env(env: dict | None = None) -> dict:
    """`env` (default os.environ) with the learner's Jupyter configuration first on JUPYTER_CONFIG_PATH."""
    env = dict(os.environ if env is None else env)
    rest = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and p != str(JUPYTER_CONFIG)]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(JUPYTER_CONFIG), *rest])
    return env


def default_folder() -> Path:
    """Where `workbook lab` opens by default: release/lesson5 in the repository, else the current folder."""
    return Path.cwd() if IN_KIT or not RELEASE_DIR.is_dir() else RELEASE_DIR


def lab_main(argv: list[str] | None = None) -> int:
    """Open the workbook in JupyterLab (Assignment List and Validate button; no instructor tools)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    here = default_folder()
    parser = argparse.ArgumentParser(
        prog="workbook lab", description="Open the lesson-5 workbook in JupyterLab. Check a notebook with the "
        "Validate button in its toolbar, or from a terminal with `workbook check`; fetch and submit the "
        "assignment in Nbgrader > Assignment List.")
    parser.add_argument("folder", nargs="?", type=Path, default=None,
                        help=f"where your notebooks live (default {show(here)}); when you name one, the workbook "
                             "notebooks it lacks are copied into it")
    args = parser.parse_args(argv)
    folder: Path = (args.folder or here).expanduser()
    if folder.exists() and not folder.is_dir():
        parser.error(f"{folder} is a file: name the folder that holds your notebooks")
    if args.folder is not None and folder.resolve() != RELEASE_DIR.resolve():
        for made in copy_release(folder):
            print(f"copied {show(made)} from {show(RELEASE_DIR)}")
    # The repository's nbgrader_config.py (limits) applies from the repository; a learner's from their folder.
    cwd = folder if IN_KIT or not (REPO / "nbgrader_config.py").is_file() else REPO
    return run(lab_command(folder, extra), cwd=cwd, env=lab_env())


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> int:
    """Become `cmd` (POSIX), so that Ctrl-C and signals reach jupyter itself; elsewhere run and wait."""
    env = dict(os.environ if env is None else env)
    if os.name == "posix":
        os.chdir(cwd)
        sys.stdout.flush()
        os.execve(cmd[0], cmd, env)
    try:
        return subprocess.call(cmd, cwd=cwd, env=env)
    except KeyboardInterrupt:  # Ctrl-C reaches jupyter too, which shuts down on its own
        return 0


if __name__ == "__main__":
    sys.exit(lab_main())
