"""Each release notebook, filled in with the reference answers, run top to bottom (target ≤ 60 s on a 2-core CPU).

Prints one JSON object per notebook: normal run and run under grading (NBGRADER_EXECUTION=autograde).
"""
import json
import os
import sys
import tempfile
import time

from nbclient import NotebookClient

from autograder import authoring, course


def run(nb, env_grading: bool) -> float:
    previous = os.environ.pop("NBGRADER_EXECUTION", None)
    if env_grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": tmp}}).execute()
            return time.perf_counter() - start
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if previous:
            os.environ["NBGRADER_EXECUTION"] = previous


def main() -> None:
    answers = course.reference_answers()
    for path in authoring.notebooks(course.REPO / "release" / course.ASSIGNMENT):
        normal = run(course.fill(path, answers), env_grading=False)
        grading = run(course.fill(path, answers), env_grading=True)
        print(json.dumps({"benchmark": "notebook_runtime", "notebook": path.stem, "seconds": round(normal, 1),
                          "seconds_under_grading": round(grading, 1), "target_seconds": 60,
                          "cpu_count": os.cpu_count(), "ok": normal <= 60}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
