"""The learner kit and a learner environment, shared by tests/test_kit.py, test_exchange.py and test_lab_browser.py.

The kit is built once per test session (under pytest-xdist once for all workers: a lock and
a folder in the session's shared temporary directory). Its environment (`kit.learner_env`: a
virtual environment holding the kit's wheel, its requirements and PyTorch, nothing of the
course) is `build/learner-venv-tests/`, made on first use and reused by later sessions while
the kit's requirements stay the same (the wheel is reinstalled when it changes);
WORKBOOK_LEARNER_VENV puts it elsewhere. It lives in `OPEN`, a folder that learners who are
other Unix users can enter: the repository's build/ when they can reach it, otherwise (a
checkout inside a private folder, such as a `mktemp -d` clone) a folder of this checkout's own
under the system's temporary directory.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from autograder.course import kit
from autograder.course.exchange import closed_to_others


def _open_folder() -> Path:
    build = kit.REPO / "build"
    if closed_to_others(kit.REPO) is None:
        build.mkdir(exist_ok=True)
        return build
    tag = hashlib.sha256(str(kit.REPO).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"workbook-tests-{os.getuid()}-{tag}"
    folder.mkdir(mode=0o755, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o022:  # someone else's, or writable by others: not ours
        raise RuntimeError(f"{folder} is not a private folder of this user; remove it and rerun the tests")
    folder.chmod(0o755)
    return folder


OPEN = _open_folder()
VENV = Path(os.environ.get("WORKBOOK_LEARNER_VENV", OPEN / "learner-venv-tests"))


def shared_dir(tmp_path_factory) -> Path:
    """The session's temporary folder that every xdist worker sees."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def kit_and_env(tmp_path_factory) -> tuple[kit.Kit, kit.LearnerEnv]:
    """The session's learner kit and its environment (built on first call); prints how long each took."""
    shared = shared_dir(tmp_path_factory)
    started = time.monotonic()
    with kit.locked(shared / "kit.lock"):
        out = shared / "kit"
        if not (shared / "kit.built").exists():
            built = kit.build(out)
            (shared / "kit.built").write_text(f"{built.seconds:.1f}")
        built = kit.Kit.at(out)
    env = kit.learner_env(built, VENV)
    print(f"\nlearner kit {built.root} ({time.monotonic() - started - env.seconds:.1f} s); environment {env.venv} "
          f"({'made' if env.built else 'reused'} in {env.seconds:.1f} s)")
    return built, env


def one_notebook_course(tmp_path_factory, root: Path, notebook: str = "01_embeddings.ipynb") -> Path:
    """A course at `root` whose assignment is the repo's `notebook` alone, generated (nbgrader
    generate_assignment, with its gradebook) once per session and copied."""
    from autograder import course

    shared = shared_dir(tmp_path_factory)
    with kit.locked(shared / "course.lock"):
        made = shared / "one-notebook-course"
        if not (shared / "course.built").exists():
            shutil.rmtree(made, ignore_errors=True)
            (made / "source" / course.ASSIGNMENT).mkdir(parents=True)
            shutil.copy(course.REPO / "source" / course.ASSIGNMENT / notebook, made / "source" / course.ASSIGNMENT)
            course.release(made)
            (shared / "course.built").write_text(notebook)
    shutil.copytree(made, root)
    return root


def learner_environ(home: Path) -> dict:
    """A process environment for running the kit's commands as a learner whose home is `home`."""
    keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TZ", "TMPDIR")}
    return {**keep, "HOME": str(home), "PATH": f"{VENV / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
