"""The demo's class, table and plot (the demo's nbgrader steps are those tests/test_grading.py proves)."""
from autograder import catalogue, course, demo

RELEASE = course.REPO / "release" / course.ASSIGNMENT


def _answers(nb):
    return {c.metadata.nbgrader.grade_id: c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")}


def test_the_class_has_reference_untouched_alternatives_and_mistakes():
    learners = demo.build_class(RELEASE)
    assert set(learners) == {"reference", "untouched", "alternatives", *demo.MISTAKE_LEARNERS}
    reference = course.reference_answers()
    for name, notebooks in learners.items():
        assert sorted(notebooks) == sorted(p.name for p in RELEASE.glob("*.ipynb"))
        answers = {k: v for nb in notebooks.values() for k, v in _answers(nb).items()}
        if name == "reference":
            assert answers == {k: v.strip() for k, v in reference.items()}
        elif name == "untouched":
            assert all("raise NotImplementedError()" in src for src in answers.values())
        else:
            sources = {v.source.strip() for v in catalogue.variants() if v.correct == (name == "alternatives")}
            assert any(src in sources for src in answers.values()), f"{name} holds no catalogued answer"


def test_grade_table_pass_rates_and_plot(tmp_path):
    rows = [{"learner": learner, "notebook": "01_embeddings", "cell": cell, "score": score, "max_score": 2.0,
             "passed": score == 2.0}
            for learner, scores in {"reference": (2.0, 2.0), "untouched": (0.0, 0.0), "ada": (2.0, 0.0)}.items()
            for cell, score in zip(("one_hot_values", "embedding_module"), scores)]
    table, rates = demo.grade_table(rows)
    assert "4/4" in table and "0/4" in table and "2/4" in table and "50.0" in table
    assert "67" in rates and "33" in rates
    png = demo.plot(rows, tmp_path / "grades.png")
    assert png.read_bytes().startswith(b"\x89PNG")
