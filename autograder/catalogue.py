"""The catalogue: the learner answers the grading is proven against, read off the declarations.

Each notebook's declarations (`autograder.exercises`) list its `VARIANTS`: answers a learner
could write, each either correct in another way (it must get full marks) or a plausible mistake
(it must lose the points of the graded cells it names). The demo builds its class of learners
from them, and `tests/test_grading.py` runs every one through a real `nbgrader autograde`.
"""
from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from . import authoring, course, exercises
from .exercise import Variant


def expected_losses(v: Variant) -> set[str]:
    """The graded cells `v` must lose on this machine (a `cuda_only` mistake loses none without a GPU)."""
    return set() if v.cuda_only and not torch.cuda.is_available() else set(v.loses)


def pack(found: list[Variant]) -> list[list[Variant]]:
    """Group variants into submissions: one answer per exercise, disjoint lost cells in each,
    so each lost point in a submission is owed to exactly one variant."""
    packs: list[list[Variant]] = []
    for v in found:
        for p in packs:
            if all(v.answer != w.answer and not expected_losses(v) & expected_losses(w) for w in p):
                p.append(v)
                break
        else:
            packs.append([v])
    return packs


def submissions(release_dir, reference: dict[str, str]) -> dict[str, tuple[str, dict, list[Variant]]]:
    """learner → (notebook file, answers by grade_id, the variants in it), covering every variant."""
    where = {}
    for path in authoring.notebooks(release_dir):
        for cell in authoring.read(path).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                where[cell.metadata.nbgrader.grade_id] = path.name
    by_notebook: dict[str, list[Variant]] = {}
    present = [nb for nb in exercises.notebooks() if (Path(release_dir) / f"{nb.name}.ipynb").exists()]
    for v in (v for nb in present for v in nb.variants):
        if v.answer not in where:
            raise ValueError(f"catalogue answer {v.answer!r} is in no release notebook")
        by_notebook.setdefault(where[v.answer], []).append(v)
    learners = {}
    for notebook, found in sorted(by_notebook.items()):
        correct = pack([v for v in found if not expected_losses(v)])
        wrong = pack([v for v in found if expected_losses(v)])
        for i, p in enumerate(correct + wrong):
            learners[f"{notebook[:2]}-{i}"] = (notebook, {**reference, **{v.answer: v.source for v in p}}, p)
    return learners


def proves(v: Variant) -> set[tuple[str, bool]]:
    """What grading `v` right proves: (graded cell, True) for each cell a correct answer gets full marks on,
    (graded cell, False) for each cell a mistake must lose."""
    if not v.correct:
        return {(cell, False) for cell in expected_losses(v)}
    return {(c.grade_id, True) for nb in exercises.notebooks() for c in nb.checks if v.answer in c.answers}


def covering(learners: dict) -> dict:
    """The fewest of `learners` (from `submissions`) in which every graded cell meets at least one correct answer
    and at least one mistake that must lose it: the real-nbgrader proof that fits in a test run. Every variant is
    graded in-process by the same grader in tests/test_exercises.py; `python -m autograder.catalogue` (`make
    catalogue`) runs all of them through nbgrader."""
    proof = {name: set().union(*map(proves, found)) for name, (_, _, found) in learners.items()}
    left, chosen = set().union(*proof.values()), []
    while left:  # greedy set cover, in a fixed order: the same learners on every run
        best = max(sorted(proof), key=lambda name: len(proof[name] & left))
        chosen.append(best)
        left -= proof[best]
    return {name: learners[name] for name in sorted(chosen)}


def verdicts(learners: dict, scores: dict) -> list[dict]:
    """Per variant, from gradebook `scores` (learner → {(notebook, cell): (score, max_score)}):
    the cells it should have lost but kept (`missed`), and cells its submission lost that no
    variant in it owes (`unexpected`); `graded_right` when both are empty."""
    rows = []
    for learner, (notebook, _, found) in learners.items():
        lost = {cell for (nb, cell), (score, max_score) in scores.get(learner, {}).items()
                if nb == notebook.removesuffix(".ipynb") and (score or 0) < max_score}
        unexpected = lost - set().union(*(expected_losses(v) for v in found))
        for v in found:
            missed = expected_losses(v) - lost
            rows.append({"notebook": notebook, "answer": v.answer, "variant": v.name, "correct": v.correct,
                         "learner": learner, "missed": sorted(missed), "unexpected": sorted(unexpected), "proves": proves(v),
                         "graded_right": not missed and not unexpected})
    return rows


def grade(folder, extra: dict | None = None, workers: int = 2, notebooks: list[str] | None = None,
          sample: bool = False) -> tuple[dict, dict, list]:
    """Autograde every catalogued variant (of `notebooks`, default all; with `sample`, the `covering` learners
    only), plus `extra` learners (name → {file: notebook}), for real.

    The submissions are spread over `workers` course folders under `folder`, autograded at once.
    Returns (the catalogue's submissions, scores: learner → {(notebook, cell): (score, max)}, the course roots).
    """
    roots = [Path(folder) / f"course{i}" for i in range(workers)]
    for root in roots:
        course.new_course(root, notebooks)
        course.release(root)
    release_dir = roots[0] / "release" / course.ASSIGNMENT
    learners = submissions(release_dir, course.reference_answers())
    if sample:
        learners = covering(learners)
    jobs = [(name, {notebook: course.fill(release_dir / notebook, answers)})
            for name, (notebook, answers, _) in learners.items()] + list((extra or {}).items())
    for i, (name, files) in enumerate(jobs):
        course.submit(roots[i % workers], name, files)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(course.autograde, roots))
    scores: dict[str, dict] = {}
    for root in roots:
        for row in course.grades(course.db_url_of(root)):
            scores.setdefault(row["learner"], {})[(row["notebook"], row["cell"])] = (row["score"], row["max_score"])
    return learners, scores, roots


def variants(notebook: str | None = None) -> list[Variant]:
    """Every catalogued variant, or those of one notebook ("01_embeddings")."""
    return exercises.variants(notebook)


def main(argv: list[str] | None = None) -> int:
    """`python -m autograder.catalogue [NOTEBOOK ...]`: grade the catalogue through real nbgrader, print verdicts."""
    names = list(sys.argv[1:] if argv is None else argv) or None
    with tempfile.TemporaryDirectory() as folder:
        learners, scores, _ = grade(folder, notebooks=names)
        rows = verdicts(learners, scores)
    for r in rows:
        status = "ok " if r["graded_right"] else "BAD"
        print(f"{status} {r['notebook']} {r['answer']}: {r['variant']}  (kept {r['missed']}, also lost {r['unexpected']})"
              if not r["graded_right"] else f"{status} {r['notebook']} {r['answer']}: {r['variant']}")
    bad = sum(not r["graded_right"] for r in rows)
    print(f"{len(rows) - bad} of {len(rows)} variants graded as declared")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
