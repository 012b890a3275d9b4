"""How fast a learner gets an answer: `workbook check` against `nbgrader validate`, and one question's tests.

Prints JSON lines:
- `check_vs_validate`: wall time of `workbook check NB` and of `nbgrader validate NB` on the same
  notebook (the release notebook with the reference answers), run alternately, best of `--runs`
  each, and their ratio (target ≤ 1.0); also the CPU seconds each used with its kernel, steadier
  than wall time on a shared machine;
- `visible_test_in_kernel`: per graded cell, the time to re-run its visible tests in a kernel that
  has already run the notebook (best of `--runs`; target ≤ 1 s), and the slowest of them.

    python benchmarks/check_speed.py [--notebook release/lesson5/01_embeddings.ipynb] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import torch

from workbook import check

REPO = check.REPO


def answered_copy(release_nb: Path, folder: Path) -> Path:
    """The release notebook with the reference answers from source/, written into `folder`."""
    source = REPO / "source" / "lesson5" / release_nb.name
    nb = check.fill_answers(nbformat.read(release_nb, 4), nbformat.read(source, 4))
    path = folder / release_nb.name
    nbformat.write(nb, path)
    return path


def wall(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds a command takes, CPU seconds it and its kernel used, and its exit status.

    Run from the repo, so that the course's nbgrader_config.py applies, as for a learner there.
    CPU time is steadier than wall time on a shared machine.
    """
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    before, start = os.times(), time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds, after = time.perf_counter() - start, os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return seconds, cpu, done.returncode


def check_vs_validate(path: Path, runs: int) -> dict:
    workbook_cmd = [sys.executable, "-m", "workbook.check", str(path)]
    validate_cmd = [shutil.which("nbgrader", path=str(Path(sys.executable).parent)) or "nbgrader",
                    "validate", str(path)]
    names = ("workbook_check", "nbgrader_validate")
    times: dict[str, list[float]] = {k: [] for k in names}
    cpus: dict[str, list[float]] = {k: [] for k in names}
    codes: dict[str, set[int]] = {k: set() for k in names}
    for _ in range(runs):  # alternate, so that drifting machine load hits both alike
        for name, cmd in zip(names, (workbook_cmd, validate_cmd)):
            seconds, cpu, code = wall(cmd)
            times[name].append(seconds)
            cpus[name].append(cpu)
            codes[name].add(code)
    best = {k: min(v) for k, v in times.items()}
    cpu = {k: min(v) for k, v in cpus.items()}
    return {"benchmark": "check_vs_validate", "notebook": path.name, "runs": runs,
            "workbook_check_s": round(best["workbook_check"], 2),
            "nbgrader_validate_s": round(best["nbgrader_validate"], 2),
            "ratio": round(best["workbook_check"] / best["nbgrader_validate"], 3), "target": "ratio <= 1.0",
            "workbook_check_cpu_s": round(cpu["workbook_check"], 2),
            "nbgrader_validate_cpu_s": round(cpu["nbgrader_validate"], 2),
            "cpu_ratio": round(cpu["workbook_check"] / cpu["nbgrader_validate"], 3),
            "exit_status": {k: sorted(v) for k, v in codes.items()},
            "all_s": {k: [round(t, 2) for t in v] for k, v in times.items()}}


def visible_tests_in_kernel(path: Path, runs: int) -> list[dict]:
    """Run the notebook once in a kernel, then time re-running each graded cell."""
    from nbclient import NotebookClient

    nb = check.fresh_copy(nbformat.read(path, 4))
    client = NotebookClient(nb, timeout=check.DEFAULT_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    rows = []
    os.environ["NBGRADER_EXECUTION"] = "validate"
    try:
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, index)
            for index, cell in enumerate(nb.cells):
                if cell in check.graded_cells(nb):
                    best = float("inf")
                    for _ in range(runs):
                        start = time.perf_counter()
                        client.execute_cell(cell, index)
                        best = min(best, time.perf_counter() - start)
                    row = check.status_of(cell)
                    rows.append({"benchmark": "visible_test_in_kernel", "notebook": path.name,
                                 "question": row.question, "status": row.status, "seconds": round(best, 3),
                                 "target": "seconds <= 1.0"})
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
    rows.append({"benchmark": "visible_test_in_kernel_max", "notebook": path.name,
                 "seconds": max(r["seconds"] for r in rows), "target": "seconds <= 1.0"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", type=Path, default=check.RELEASE_DIR / "01_embeddings.ipynb",
                        help="a release notebook; its answers are filled in from source/lesson5")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    machine = {"benchmark": "machine", "cpu_count": os.cpu_count(), "python": platform.python_version(),
               "torch": torch.__version__, "cuda": torch.cuda.is_available(),
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
               "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None}
    print(json.dumps(machine), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = answered_copy(args.notebook.resolve(), Path(tmp))
        print(json.dumps(check_vs_validate(path, args.runs)), flush=True)
        for row in visible_tests_in_kernel(path, args.runs):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
