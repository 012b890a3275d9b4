"""Mistakes caught / tried and alternatives accepted / tried, per exercise (targets 100% and 100%).

Every variant of `autograder.catalogue` goes through a real `nbgrader autograde`, as in
tests/test_grading.py; one JSON object per exercise.
"""
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from autograder import catalogue


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        learners, scores, _ = catalogue.grade(Path(tmp))
    tally = defaultdict(lambda: {"mistakes_tried": 0, "mistakes_caught": 0, "alternatives_tried": 0,
                                 "alternatives_accepted": 0, "wrongly_graded": []})
    for r in catalogue.verdicts(learners, scores):
        t = tally[(r["notebook"], r["answer"])]
        kind = "alternatives" if r["correct"] else "mistakes"
        t[f"{kind}_tried"] += 1
        t[f"{kind}_{'accepted' if r['correct'] else 'caught'}"] += r["graded_right"]
        if not r["graded_right"]:
            t["wrongly_graded"].append(r["variant"])
    for (notebook, answer), t in sorted(tally.items()):
        print(json.dumps({"benchmark": "grading_coverage", "notebook": notebook, "exercise": answer, **t}))


if __name__ == "__main__":
    sys.exit(main())
