"""Grading proven through a real `nbgrader autograde` of the course.

One course, autograded once per session: the reference answers (full marks), the untouched
release (zero), and every catalogued variant (`autograder.catalogue`) packed into submissions
whose variants touch disjoint graded cells, so each score says which variant caused it.
"""
import pytest

from autograder import catalogue, course

pytestmark = pytest.mark.slow


def pack(variants):
    """Group variants into submissions: one answer per exercise, disjoint lost cells in each."""
    packs: list[list] = []
    for v in variants:
        for p in packs:
            if all(v.answer != w.answer and not set(v.loses) & set(w.loses) for w in p):
                p.append(v)
                break
        else:
            packs.append([v])
    return packs


def _notebook_of(answer: str, release_dir) -> str:
    for path in sorted(release_dir.glob("*.ipynb")):
        for cell in course.authoring.read(path).cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == answer:
                return path.name
    raise AssertionError(f"catalogue answer {answer!r} is in no release notebook")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """(expected, actual) per learner: graded-cell scores from the real gradebook."""
    root = tmp_path_factory.mktemp("course")
    course.new_course(root)
    release_dir = root / "release" / course.ASSIGNMENT
    course.release(root)
    reference = course.reference_answers()
    all_notebooks = sorted(p.name for p in release_dir.glob("*.ipynb"))
    learners = {"reference": ({n: reference for n in all_notebooks}, []),
                "untouched": ({n: {} for n in all_notebooks}, [])}
    by_notebook: dict[str, list] = {}
    for v in catalogue.variants():
        by_notebook.setdefault(_notebook_of(v.answer, release_dir), []).append(v)
    for nb_name, variants in by_notebook.items():
        for i, p in enumerate(pack([v for v in variants if v.correct]) + pack([v for v in variants if not v.correct])):
            answers = {**reference, **{v.answer: v.source for v in p}}
            learners[f"{nb_name[:2]}-{i}"] = ({nb_name: answers}, p)
    for learner, (notebooks, _) in learners.items():
        course.submit(root, learner, {n: course.fill(release_dir / n, a) for n, a in notebooks.items()})
    course.autograde(root)
    scores: dict[str, dict] = {}
    for row in course.grades(course.db_url_of(root)):
        scores.setdefault(row["learner"], {})[(row["notebook"], row["cell"])] = (row["score"], row["max_score"])
    return learners, scores, root


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
    wrong = []
    for learner, (notebooks, variants) in learners.items():
        if not variants:
            continue
        (nb_name,) = notebooks
        lost_expected = {c for v in variants for c in v.loses}
        for (notebook, cell), (score, max_score) in scores[learner].items():
            if notebook != nb_name.removesuffix(".ipynb"):
                continue
            if (cell in lost_expected) != (score < max_score):
                culprit = [v.name for v in variants if cell in v.loses] or [v.name for v in variants]
                wrong.append(f"{notebook}/{cell}: {score}/{max_score} with {culprit}")
    assert not wrong, "variants graded against the catalogue:\n" + "\n".join(wrong)


def test_feedback_and_export_work_on_the_graded_course(graded):
    _, scores, root = graded
    course.feedback(root)
    html = list((root / "feedback" / "reference" / course.ASSIGNMENT).glob("*.html"))
    assert html, "no feedback was generated"
    csv = course.export(root, root / "grades.csv").read_text()
    assert "reference" in csv and "untouched" in csv
