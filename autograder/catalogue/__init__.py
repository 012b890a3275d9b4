"""Learner answers the grading is proven against, one module per notebook.

Each module lists `VARIANTS`: answers a learner could write for one exercise, each either
correct in another way (it must get full marks) or a plausible mistake (it must lose the
points of the graded cells it names). The demo builds its class of learners from them and
`tests/test_grading.py` runs every one through a real `nbgrader autograde`.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One answer to the exercise `answer` (its solution cell's grade_id).

    `loses` names the graded cells it must fail; empty means it is correct and must pass all.
    """
    answer: str
    name: str
    source: str
    loses: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return not self.loses


def pack(found: list[Variant]) -> list[list[Variant]]:
    """Group variants into submissions: one answer per exercise, disjoint lost cells in each,
    so each lost point in a submission is owed to exactly one variant."""
    packs: list[list[Variant]] = []
    for v in found:
        for p in packs:
            if all(v.answer != w.answer and not set(v.loses) & set(w.loses) for w in p):
                p.append(v)
                break
        else:
            packs.append([v])
    return packs


def submissions(release_dir, reference: dict[str, str]) -> dict[str, tuple[str, dict, list[Variant]]]:
    """learner → (notebook file, answers by grade_id, the variants in it), covering every variant."""
    from .. import authoring
    where = {}
    for path in authoring.notebooks(release_dir):
        for cell in authoring.read(path).cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                where[cell.metadata.nbgrader.grade_id] = path.name
    by_notebook: dict[str, list[Variant]] = {}
    for v in variants():
        if v.answer not in where:
            raise ValueError(f"catalogue answer {v.answer!r} is in no release notebook")
        by_notebook.setdefault(where[v.answer], []).append(v)
    learners = {}
    for notebook, found in sorted(by_notebook.items()):
        correct = pack([v for v in found if v.correct])
        wrong = pack([v for v in found if not v.correct])
        for i, p in enumerate(correct + wrong):
            learners[f"{notebook[:2]}-{i}"] = (notebook, {**reference, **{v.answer: v.source for v in p}}, p)
    return learners


def verdicts(learners: dict, scores: dict) -> list[dict]:
    """Per variant, from gradebook `scores` (learner → {(notebook, cell): (score, max_score)}):
    the cells it should have lost but kept (`missed`), and cells its submission lost that no
    variant in it owes (`unexpected`); `graded_right` when both are empty."""
    rows = []
    for learner, (notebook, _, found) in learners.items():
        lost = {cell for (nb, cell), (score, max_score) in scores.get(learner, {}).items()
                if nb == notebook.removesuffix(".ipynb") and (score or 0) < max_score}
        unexpected = lost - set().union(*(set(v.loses) for v in found))
        for v in found:
            missed = set(v.loses) - lost
            rows.append({"notebook": notebook, "answer": v.answer, "variant": v.name, "correct": v.correct,
                         "learner": learner, "missed": sorted(missed), "unexpected": sorted(unexpected),
                         "graded_right": not missed and not unexpected})
    return rows


def grade(folder, extra: dict | None = None, workers: int = 2) -> tuple[dict, dict, list]:
    """Autograde every catalogued variant, plus `extra` learners (name → {file: notebook}), for real.

    The submissions are spread over `workers` course folders under `folder`, autograded at once.
    Returns (the catalogue's submissions, scores: learner → {(notebook, cell): (score, max)}, the course roots).
    """
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from .. import course
    roots = [Path(folder) / f"course{i}" for i in range(workers)]
    for root in roots:
        course.new_course(root)
        course.release(root)
    release_dir = roots[0] / "release" / course.ASSIGNMENT
    learners = submissions(release_dir, course.reference_answers())
    jobs = [(name, {notebook: course.fill(release_dir / notebook, answers)})
            for name, (notebook, answers, _) in learners.items()] + list((extra or {}).items())
    for i, (name, notebooks) in enumerate(jobs):
        course.submit(roots[i % workers], name, notebooks)
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(course.autograde, roots))
    scores: dict[str, dict] = {}
    for root in roots:
        for row in course.grades(course.db_url_of(root)):
            scores.setdefault(row["learner"], {})[(row["notebook"], row["cell"])] = (row["score"], row["max_score"])
    return learners, scores, roots


def variants(notebook: str | None = None) -> list[Variant]:
    """Every catalogued variant, or those of one notebook module (`"embeddings"`)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if notebook in (None, info.name):
            found += importlib.import_module(f"{__name__}.{info.name}").VARIANTS
    return found
