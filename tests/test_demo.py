"""The demo's class, table and plot, and its course run through nbgrader's exchange, step by step.

The nbgrader steps themselves are proved by tests/test_exchange.py (the exchange round trip)
and tests/test_grading.py (autograde); here they are stand-ins, so the order and the wiring are
checked in a second: nothing is written into submitted/ by hand.
"""
import pytest

from autograder import catalogue, course
from autograder.course import demo, exchange, kit

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
        if name == "reference":  # (a notebook in source/ but not yet released has no answers here)
            assert answers and answers == {k: v.strip() for k, v in reference.items() if k in answers}
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


def test_the_demo_runs_its_class_through_the_exchange(tmp_path, monkeypatch, capsys):
    steps = []
    note = lambda *step: steps.append(step)  # noqa: E731
    rows = [{"learner": name, "notebook": "01_embeddings", "cell": "one_hot_values", "max_score": 2.0,
             "score": 0.0 if name == "untouched" else 2.0, "passed": name != "untouched"}
            for name in ("reference", "untouched", "alternatives", *demo.MISTAKE_LEARNERS)]
    monkeypatch.setattr(course, "new_course", lambda root: note("new_course") or root.mkdir(parents=True))
    monkeypatch.setattr(course, "release", lambda root, db_url=None: note("generate_assignment") or [1, 2])
    monkeypatch.setattr(course, "submit", lambda *a, **k: pytest.fail("the demo wrote into submitted/ by hand"))
    monkeypatch.setattr(demo, "build_class", lambda release: {r["learner"]: {"01_embeddings.ipynb": r["learner"]}
                                                              for r in rows})
    built = kit.Kit(tmp_path / "kit", tmp_path / "kit" / "k.whl", [], tmp_path / "kit" / "README.md")
    monkeypatch.setattr(kit, "build", lambda out, release_dir: note("kit", out.name) or built)
    monkeypatch.setattr(kit, "learner_env", lambda k, venv: note("learner_env") or kit.LearnerEnv(venv, 1.0, True))
    monkeypatch.setattr(exchange, "release_assignment", lambda root, ex, db_url=None: note("release_assignment", ex.root))
    monkeypatch.setattr(exchange, "collect", lambda root, ex, db_url=None: note("collect") or {
        r["learner"]: "new" for r in rows})
    monkeypatch.setattr(exchange, "release_feedback", lambda root, ex, db_url=None: note("release_feedback"))
    for step in ("setup", "fetch", "validate", "submit", "fetch_feedback"):
        monkeypatch.setattr(exchange.Learner, step, lambda self, *a, step=step, **k: note(step, self.name) or [1])
    monkeypatch.setattr(exchange.Learner, "work", lambda self, nbs: note("work", self.name, nbs))
    monkeypatch.setattr(course, "autograde", lambda root, db_url=None, progress=False: note("autograde"))
    monkeypatch.setattr(course, "feedback", lambda root, db_url=None: note("generate_feedback") or root / "feedback")
    monkeypatch.setattr(course, "export", lambda root, csv, db_url=None: note("export") or csv)
    monkeypatch.setattr(course, "grades", lambda db_url: rows)
    where = demo.run(tmp_path / "demo", venv=tmp_path / "venv", jobs=1)
    names = [s[0] for s in steps]
    order = ["new_course", "generate_assignment", "kit", "learner_env", "release_assignment", "setup", "collect",
             "autograde", "generate_feedback", "release_feedback", "fetch_feedback", "export"]
    firsts = [names.index(n) for n in order]
    assert firsts == sorted(firsts), [names[i] for i in sorted(firsts)]
    assert ("release_assignment", tmp_path / "demo" / "exchange") in steps
    for learner in (r["learner"] for r in rows):  # each learner's own half, in order, before the collect
        mine = [s[0] for s in steps if len(s) > 1 and s[1] == learner]
        assert mine == ["setup", "fetch", "work", "validate", "submit", "fetch_feedback"], (learner, mine)
        assert steps.index(("submit", learner)) < names.index("collect") < steps.index(("fetch_feedback", learner))
    out = capsys.readouterr().out
    assert "nbgrader release_assignment" in out and "nbgrader collect" in out and "fetch_feedback" in out
    assert where["exchange"] == tmp_path / "demo" / "exchange" and where["homes"] == tmp_path / "demo" / "homes"
