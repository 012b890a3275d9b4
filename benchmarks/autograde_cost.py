"""Autograde cost per notebook against the floor (target ≤ 2.0).

In one run: the time `nbgrader autograde` takes on one notebook holding the reference answers,
divided by its time on a notebook that only imports torch (same course, same machine).
"""
import json
import sys
import tempfile
import time
from pathlib import Path

from autograder import authoring, course

FLOOR = "00_floor.ipynb"


def timed_autograde(root: Path, student: str) -> float:
    start = time.perf_counter()
    course.autograde(root, student)
    return time.perf_counter() - start


def main() -> None:
    answers = course.reference_answers()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course.new_course(root)
        authoring.save(authoring.new_notebook(cells=[authoring.code("import torch")]),
                       root / "source" / course.ASSIGNMENT / FLOOR)
        release = root / "release" / course.ASSIGNMENT
        course.release(root)
        for path in authoring.notebooks(release):
            if path.name == FLOOR:
                continue
            course.submit(root, f"ref-{path.stem}", {path.name: course.fill(path, answers)})
            course.submit(root, f"floor-{path.stem}", {FLOOR: authoring.read(release / FLOOR)})
            # Best of two each: a busy moment on the machine should not decide the figure.
            ref = min(timed_autograde(root, f"ref-{path.stem}") for _ in range(2))
            floor = min(timed_autograde(root, f"floor-{path.stem}") for _ in range(2))
            print(json.dumps({"benchmark": "autograde_cost", "notebook": path.stem, "seconds": round(ref, 1),
                              "floor_seconds": round(floor, 1), "ratio": round(ref / floor, 2),
                              "target_ratio": 2.0, "ok": ref / floor <= 2.0}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
