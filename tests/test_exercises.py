"""Every declared exercise grades as declared, in process and fast (the nbgrader suite repeats it for real).

The reference passes every check; each correct alternative passes every check it meets; each
mistake loses exactly the graded cells it names, and, where its answer runs and its values show
the mistake, the learner's message names it. The declarations agree with the source notebooks.
"""
import pytest
import torch

from autograder import authoring, course, exercises
from autograder.grade import Grader, InProcess, namespace
from workbook.record import FAILED, PASSED

NOTEBOOKS = exercises.notebooks()
CUDA = torch.cuda.is_available()
SOURCE = course.REPO / "source" / course.ASSIGNMENT


def _mark(nb):
    return getattr(pytest.mark, nb.name[3:])


@pytest.fixture(scope="module")
def graders():
    return {nb.name: Grader(nb.reference, nb.variants) for nb in NOTEBOOKS}


@pytest.mark.parametrize("nb, check", [pytest.param(nb, c, id=c.grade_id, marks=_mark(nb))
                                       for nb in NOTEBOOKS for c in nb.checks])
def test_the_reference_passes(graders, nb, check):
    record = graders[nb.name].grade(check, InProcess(namespace(nb.reference)))
    assert record.status == PASSED and record.checks > 0, record.render()


def _expected_losses(v):
    return set() if v.cuda_only and not CUDA else set(v.loses)


@pytest.mark.parametrize("nb, v", [pytest.param(nb, v, id=f"{v.answer}: {v.name}", marks=_mark(nb))
                                   for nb in NOTEBOOKS for v in nb.variants])
def test_each_variant_is_graded_as_declared(graders, nb, v):
    runner = InProcess(namespace(nb.reference, (v,)))
    records = {c.grade_id: graders[nb.name].grade(c, runner) for c in nb.checks
               if v.answer in c.answers or c.grade_id in v.loses}
    lost = {g for g, r in records.items() if not r.passed}
    assert lost == _expected_losses(v), "\n\n".join(r.render() for r in records.values() if not r.passed)
    for g in lost:
        check = nb.check(g)  # a question names the wrong answers declared with it
        r, compared = records[g], check.variants or all(case.expect is None for case in check.cases())
        ran = r.status == FAILED and not any("raised" in f.message for f in r.failures)
        if compared and ran and r.failed == r.checks:  # every case shows the mistake: the learner is told which
            assert r.mistake and v.name in r.mistake, f"{g} does not name the mistake:\n{r.render()}"


@pytest.mark.parametrize("nb", [pytest.param(nb, id=nb.name, marks=_mark(nb)) for nb in NOTEBOOKS])
def test_declarations_match_the_source_notebook(nb):
    cells = authoring.read(SOURCE / f"{nb.name}.ipynb").cells
    graded = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    answers = {c.metadata.nbgrader.grade_id for c in cells if c.metadata.get("nbgrader", {}).get("solution")}
    assert graded == {c.grade_id: c.points for c in nb.checks}, "graded cells and declared checks differ"
    assert {a for c in nb.checks for a in c.answers} <= answers, "a check grades an answer cell that does not exist"
    assert {v.answer for v in nb.variants} <= answers
    have = {(v.answer, v.correct) for v in nb.variants}
    missing = [f"{a} ({'an alternative' if ok else 'a mistake'})" for a in sorted(answers) for ok in (True, False)
               if (a, ok) not in have]
    assert not missing, "answers without catalogued variants: " + ", ".join(missing)


@pytest.mark.parametrize("nb", [pytest.param(nb, id=nb.name, marks=_mark(nb)) for nb in NOTEBOOKS])
def test_the_source_notebook_is_in_step_with_its_declarations(nb):
    source = authoring.read(SOURCE / f"{nb.name}.ipynb")
    changed = authoring.sync(source, nb)
    assert not changed, f"{nb.name}: cells {changed} are out of step with the declarations: run `make release`"
