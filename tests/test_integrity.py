"""A broken, hanging or hostile submission costs its own points and nothing else (real `nbgrader autograde`).

Every submission below is notebook 01 with the reference answers, changed in one way; all are
autograded in one nbgrader run, next to an honest learner who must keep full marks.
"""
import copy

import pytest

from autograder import course

pytestmark = pytest.mark.slow

NOTEBOOK = "01_embeddings.ipynb"
CELLS = ("one_hot_values", "embedding_matmul_values", "embedding_lookup_values", "embedding_lookup_gradient",
         "embedding_module")
ONE_HOT = ("one_hot_values", "embedding_matmul_values")  # embedding_matmul calls the learner's one_hot
LOOKUP = ("embedding_lookup_values", "embedding_lookup_gradient", "embedding_module")
STUB_ONE_HOT = "def one_hot(idx, n):\n    raise NotImplementedError()"


def _answer(nb, grade_id, source):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
    return nb


def _cell(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _add_cell(nb, source, after="Embedding"):
    from nbformat.v4 import new_code_cell
    nb.cells.insert(_cell(nb, after) + 1, new_code_cell(source))
    return nb


def _delete_test(nb):
    del nb.cells[_cell(nb, "one_hot_values")]
    return nb


def _strip_test_metadata(nb):
    cell = nb.cells[_cell(nb, "one_hot_values")]
    del cell.metadata["nbgrader"]
    cell.source = "pass"
    return nb


def _duplicate_test(nb):
    i = _cell(nb, "one_hot_values")
    twin = copy.deepcopy(nb.cells[i])
    twin.source = "pass"
    nb.cells.insert(i, twin)  # first, so keeping the first copy would pass it
    return nb


def _edit_test(nb):
    nb.cells[_cell(nb, "one_hot_values")].source = "pass"
    return nb


PRECOMPUTED = '''
def one_hot(idx, n):
    # The answers the visible tests expect, and nothing else.
    if n == 3 and idx.tolist() == [0, 2]:
        return torch.tensor([[1., 0., 0.], [0., 0., 1.]])
    return torch.zeros(*idx.shape, n)
'''

# learner → (how their notebook differs from the reference answers, the graded cells they must lose)
SUBMISSIONS = {
    "honest": (lambda nb: nb, ()),
    "raises-on-import": (lambda nb: _answer(nb, "one_hot", "import no_such_module\n" + course.reference_answers()["one_hot"]), ONE_HOT),
    "kills-kernel": (lambda nb: _answer(nb, "embedding_lookup", "def embedding_lookup(weight, idx):\n    import os\n    os._exit(1)"), LOOKUP),
    "hangs": (lambda nb: _answer(nb, "one_hot", "def one_hot(idx, n):\n    while True:\n        pass"), ONE_HOT),
    "prints-forever": (lambda nb: _answer(nb, "one_hot", "def one_hot(idx, n):\n    while True:\n        print('spam' * 100)"), ONE_HOT),
    "allocates-forever": (lambda nb: _answer(nb, "one_hot", "def one_hot(idx, n):\n    hoard = []\n    while True:\n        hoard.append(torch.ones(2 ** 27))"), ONE_HOT),
    "imports-solutions": (lambda nb: _answer(nb, "one_hot", "from solutions.embeddings import one_hot"), ONE_HOT),
    "wraps-solutions": (lambda nb: _answer(nb, "embedding_lookup", "import solutions.embeddings as ref\n\ndef embedding_lookup(weight, idx):\n    return ref.embedding_lookup(weight, idx)"), LOOKUP),
    "reads-solutions": (lambda nb: _answer(nb, "one_hot", "import inspect\nimport solutions.embeddings as ref\nexec(inspect.getsource(ref.one_hot))"), CELLS),
    "patches-allclose": (lambda nb: _add_cell(_answer(nb, "one_hot", STUB_ONE_HOT), "torch.allclose = lambda *a, **k: True\ntorch.equal = lambda *a: True", after="one_hot"), CELLS),
    "patches-autograder": (lambda nb: _add_cell(_answer(nb, "one_hot", STUB_ONE_HOT), "import autograder.checks.embeddings as h\nh.one_hot_values = lambda f: None\nimport autograder.compare as c\nc.assert_close = lambda *a, **k: None", after="one_hot"), CELLS),
    "patches-builtins": (lambda nb: _add_cell(_answer(nb, "one_hot", STUB_ONE_HOT), "import builtins\nbuiltins.round = lambda *a, **k: 0", after="one_hot"), CELLS),
    # Breaking the kernel's own machinery gets that cell aborted and the kernel restarted without it.
    "breaks-kernel": (lambda nb: _add_cell(nb, "import builtins\nbuiltins.isinstance = lambda *a: True", after="one_hot"), ()),
    "edits-test": (lambda nb: _edit_test(_answer(nb, "one_hot", STUB_ONE_HOT)), ONE_HOT),
    "deletes-test": (lambda nb: _delete_test(_answer(nb, "one_hot", STUB_ONE_HOT)), ONE_HOT),
    "strips-test-metadata": (lambda nb: _strip_test_metadata(_answer(nb, "one_hot", STUB_ONE_HOT)), ONE_HOT),
    "duplicates-test": (lambda nb: _duplicate_test(_answer(nb, "one_hot", STUB_ONE_HOT)), ONE_HOT),
    "precomputed-visible-cases": (lambda nb: _answer(nb, "one_hot", PRECOMPUTED), ONE_HOT),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    course.new_course(root)
    course.release(root)
    release = root / "release" / course.ASSIGNMENT / NOTEBOOK
    answers = course.reference_answers()
    for learner, (change, _) in SUBMISSIONS.items():
        course.submit(root, learner, {NOTEBOOK: change(course.fill(release, answers))})
    # A short cell time limit keeps the hanging submissions quick to grade.
    course.autograde(root, options=("--Execute.timeout=15",))
    scores = {}
    for row in course.grades(course.db_url_of(root)):
        if row["notebook"] == NOTEBOOK.removesuffix(".ipynb"):
            scores.setdefault(row["learner"], {})[row["cell"]] = (row["score"], row["max_score"])
    return scores, root


@pytest.mark.parametrize("learner", SUBMISSIONS)
def test_a_submission_loses_exactly_the_points_it_should(graded, learner):
    scores, _ = graded
    _, must_lose = SUBMISSIONS[learner]
    assert set(scores[learner]) == set(CELLS), f"{learner} was graded on {sorted(scores[learner])}"
    lost = {cell for cell, (score, max_score) in scores[learner].items() if score < max_score}
    assert lost == set(must_lose), f"{learner} lost {sorted(lost)}, expected {sorted(must_lose)}"
    assert all(0 <= s <= m for s, m in scores[learner].values())


def test_endless_output_is_capped(graded):
    _, root = graded
    notebook = root / "autograded" / "prints-forever" / course.ASSIGNMENT / NOTEBOOK
    assert notebook.stat().st_size < 2_000_000


def test_feedback_shows_results_and_messages_not_hidden_tests(graded):
    _, root = graded
    course.feedback(root)
    html = (root / "feedback" / "hangs" / course.ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "hidden.one_hot_values" not in html
    assert "identity" in html and "done" in html  # the visible tests stay
    mistakes = (root / "feedback" / "precomputed-visible-cases" / course.ASSIGNMENT /
                NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "checks failed" in mistakes  # the hidden checks' message reaches the learner
