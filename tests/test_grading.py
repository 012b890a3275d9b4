"""Grading proven through a real `nbgrader autograde` of the course.

One course, autograded once per session: the reference answers (full marks), the untouched
release (zero), and catalogued variants (`autograder.catalogue`) packed into submissions
whose variants touch disjoint graded cells, so each score says which variant caused it.
The suite grades the submissions that give every graded cell a correct answer and a mistake
(`catalogue.covering`); WORKBOOK_FULL_CATALOGUE=1 grades every variant (`make catalogue` does too).
"""
import os

import pytest

from autograder import catalogue, course

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """(catalogue submissions, gradebook scores, course roots), with a reference and an untouched learner."""
    release_dir = course.REPO / "release" / course.ASSIGNMENT
    reference = course.reference_answers()
    notebooks = sorted(release_dir.glob("*.ipynb"))
    extra = {"reference": {p.name: course.fill(p, reference) for p in notebooks},
             "untouched": {p.name: course.fill(p, {}) for p in notebooks}}
    return catalogue.grade(tmp_path_factory.mktemp("grading"), extra,
                           sample=os.environ.get("WORKBOOK_FULL_CATALOGUE") != "1")


def test_reference_answers_get_full_marks(graded):
    _, scores, _ = graded
    lost = {cell: s for cell, s in scores["reference"].items() if s[0] != s[1]}
    assert not lost, f"the reference answers lose points on {lost}"


def test_untouched_release_gets_zero(graded):
    _, scores, _ = graded
    earned = {cell: s for cell, s in scores["untouched"].items() if s[0]}
    assert not earned, f"the untouched release earns points on {earned}"


def test_every_variant_is_graded_as_catalogued(graded):
    learners, scores, _ = graded
    wrong = [f"{r['notebook']} {r['answer']} '{r['variant']}' ({r['learner']}): kept {r['missed']}, "
             f"also lost {r['unexpected']}" for r in catalogue.verdicts(learners, scores) if not r["graded_right"]]
    assert not wrong, "variants graded against the catalogue:\n" + "\n".join(wrong)


def test_every_graded_cell_meets_a_correct_answer_and_a_mistake_through_nbgrader(graded):
    learners, scores, _ = graded
    proved = set().union(*(r["proves"] for r in catalogue.verdicts(learners, scores) if r["graded_right"]))
    every = set().union(*map(catalogue.proves, catalogue.variants()))
    assert not every - proved, f"(graded cell, correct?) never proven through nbgrader: {sorted(every - proved)}"


def test_every_exercise_has_alternatives_and_mistakes(graded):
    reference = course.reference_answers()
    have = {(v.answer, v.correct) for v in catalogue.variants()}
    missing = [f"{a} ({kind})" for a in reference for kind, flag in (("a correct variant", True), ("a mistake", False))
               if (a, flag) not in have]
    assert not missing, "exercises without catalogued answers: " + ", ".join(missing)


def test_feedback_and_export_work_on_the_graded_course(graded):
    _, _, roots = graded
    csv = ""
    for root in roots:
        csv += course.export(root, root / "grades.csv").read_text()
        if (root / "submitted" / "reference").exists():
            course.feedback(root)
            assert list((root / "feedback" / "reference" / course.ASSIGNMENT).glob("*.html")), "no feedback"
    assert "reference" in csv and "untouched" in csv
