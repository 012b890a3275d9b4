"""`workbook lab [FOLDER]`: open the workbook in JupyterLab, with nbgrader's Validate button.

    workbook lab                  # the notebooks in release/lesson5, where they are
    workbook lab ~/lesson5        # copies the release notebooks there first (never over your files)
    workbook lab -- --port 8899   # anything after `--` goes to `jupyter lab`

JupyterLab starts in the repository, so nbgrader's Validate button (in the notebook toolbar)
uses the course's `nbgrader_config.py` (its per-cell time limit), as `workbook check` does.
Running as root (a container)? Add `-- --allow-root`.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from workbook.check import RELEASE_DIR, REPO, _show


def copy_release(folder: Path) -> list[Path]:
    """Copy each release notebook that `folder` lacks into it; returns the copies made."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for nb in sorted(RELEASE_DIR.glob("*.ipynb")):
        target = folder / nb.name
        if not target.exists():
            shutil.copy2(nb, target)
            made.append(target)
    return made


def lab_command(folder: Path, extra: list[str]) -> list[str]:
    """The `jupyter lab` command line that serves `folder`.

    nbgrader's formgrader (the instructor's grading UI) is switched off: learners do not use it,
    and with the course root outside the served folder it logs an error at every start.
    """
    return [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={folder.resolve()}",
            "--ServerApp.jpserver_extensions", "nbgrader.server_extensions.formgrader=False", *extra]


def lab_main(argv: list[str] | None = None) -> int:
    """`workbook lab [FOLDER] [-- JUPYTER-LAB-OPTIONS]`; returns jupyter lab's exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[:argv.index("--")], argv[argv.index("--") + 1:]
    parser = argparse.ArgumentParser(
        prog="workbook lab", description="Open the lesson-5 workbook in JupyterLab. Check a notebook with the "
        "Validate button in its toolbar, or from a terminal with `workbook check`.")
    parser.add_argument("folder", nargs="?", type=Path, default=RELEASE_DIR,
                        help=f"where your notebooks live (default {_show(RELEASE_DIR)}); the release notebooks "
                             "it lacks are copied into it")
    args = parser.parse_args(argv)
    folder: Path = args.folder.expanduser()
    if folder.exists() and not folder.is_dir():
        parser.error(f"{folder} is a file: name the folder that holds your notebooks")
    if folder.resolve() != RELEASE_DIR.resolve():
        for made in copy_release(folder):
            print(f"copied {_show(made)} from {_show(RELEASE_DIR)}")
    return run(lab_command(folder, extra), cwd=REPO)


def run(cmd: list[str], cwd: Path) -> int:
    """Become `cmd` (POSIX), so that Ctrl-C and signals reach jupyter itself; elsewhere run and wait."""
    if os.name == "posix":
        os.chdir(cwd)
        sys.stdout.flush()
        os.execv(cmd[0], cmd)
    try:
        return subprocess.call(cmd, cwd=cwd)
    except KeyboardInterrupt:  # Ctrl-C reaches jupyter too, which shuts down on its own
        return 0


if __name__ == "__main__":
    sys.exit(lab_main())
