"""No point comes from anything the learner's process can reach (real `nbgrader autograde`, sandboxed).

Every submission below is notebook 01 with the reference answers, changed in one way: a crash, a
hang, or a wrong answer plus a trick, one or more per family of attack that paid against the
in-process design. All are autograded in ONE nbgrader run, between two honest learners graded
first and last. Each submission must lose exactly its own points; the honest learners keep full
marks; no course file, no other learner's gradebook row and nothing in the environment changes;
and no process is left behind.
"""
import copy
import hashlib
import json
import os
import site
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder import course

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

NOTEBOOK = "01_embeddings.ipynb"
ONE_HOT = ("one_hot_values", "embedding_matmul_values")  # embedding_matmul calls the learner's one_hot
LOOKUP = ("embedding_lookup_values", "embedding_lookup_gradient", "embedding_module")
QUESTIONS = ("q_matmul_flops_answer", "q_grad_repeated_answer", "q_why_lookup_answer")
ALL = ONE_HOT + LOOKUP + QUESTIONS
STUB = "def one_hot(idx, n):\n    raise NotImplementedError()"
WRONG = "def one_hot(idx, n):\n    return torch.zeros(*idx.shape, n, device=idx.device)"  # loses ONE_HOT
HOSTILE_UID_MIN = 200_000


def answer(grade_id, source):
    def change(nb):
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
                cell.source = source
        return nb
    return change


def index(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def added(source, after="one_hot", wrong=True):
    """A cell the learner added after `after`, with (by default) a wrong one_hot."""
    def change(nb):
        if wrong:
            answer("one_hot", WRONG)(nb)
        nb.cells.insert(index(nb, after) + 1, new_code_cell(source))
        return nb
    return change


def on_test_cell(edit):
    def change(nb):
        answer("one_hot", STUB)(nb)
        edit(nb, index(nb, "one_hot_values"))
        return nb
    return change


def _delete(nb, i):
    del nb.cells[i]


def _strip(nb, i):
    del nb.cells[i].metadata["nbgrader"]
    nb.cells[i].source = "pass"


def _duplicate(nb, i):
    twin = copy.deepcopy(nb.cells[i])
    twin.source = "pass"
    nb.cells.insert(i, twin)


def _edit(nb, i):
    nb.cells[i].source = "pass"


def _bad_schema(nb):
    nb.cells[index(nb, "one_hot")].metadata.nbgrader["schema_version"] = 99
    nb.cells[index(nb, "setup")].metadata.nbgrader = "not a dict"
    return nb


def _huge_outputs(nb):
    nb.cells[index(nb, "setup")].outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo" * 200_000, "text/plain": "x" * 100_000})]
    return nb


HOOKS = {  # IPython machinery: each hides the wrong answer's failure, or fakes a pass, in the old design
    "input-transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "custom-exception": "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)",
    "post-run-cell": "get_ipython().events.register('post_run_cell', lambda result: setattr(result, 'error_in_exec', None))",
    "session-send": ("ip = get_ipython()\nsend = ip.kernel.session.send\n"
                     "ip.kernel.session.send = lambda s, t, *a, **k: None if t == 'error' else send(s, t, *a, **k)"),
    "text-result-first": ("get_ipython().events.register('pre_run_cell', lambda info: "
                          "get_ipython().display_pub.publish({'text/plain': '1'}))"),
    "magic": "%load_ext autoreload",
}
GUARD = {  # what defeated the in-process guard; the sandbox holds no guard, only the agent
    "gc-patches-agent": "import gc\nfor o in gc.get_objects():\n    if getattr(o, '__name__', '') == '_grader.agent':\n"
                        "        o.run = lambda *a, **k: {'outputs': {}, 'found': []}",
    "settrace": "import sys\nsys.settrace(lambda *a: None)",
    "setprofile-hides-forbidden": ("from operator import attrgetter\nsetp = attrgetter('sys.setprofile')(torch)\n"
                                   "def one_hot(idx, n):\n    setp(None)\n    return F.one_hot(idx, n).float()"),
    "sys-modules": "import sys\nsys.modules['_grader.agent'] = None",
}
REFERENCE = {  # reaching for the answers: nothing of the course is in the sandbox
    "cat-subprocess": "import subprocess\nexec(subprocess.run(['cat', '/work/main/solutions/embeddings.py'], "
                      "capture_output=True, text=True).stdout)",
    "proc-root": "exec(open('/proc/1/root/work/main/solutions/embeddings.py').read())",
    "imports-solutions": "from solutions.embeddings import one_hot",
    "executes-source-notebook": ("import json\nfor c in json.load(open('/work/main/source/lesson5/01_embeddings.ipynb'))"
                                 "['cells']:\n    exec(''.join(c['source']))"),
    "imports-catalogue": "from autograder.exercises.embeddings import VARIANTS\nexec(VARIANTS[0].source)",
}
FORBIDDEN = {  # a forbidden call under a private name
    "torch-c-one-hot": "def one_hot(idx, n):\n    return torch._C._nn.one_hot(idx, n).float()",
    "aten-embedding": "def embedding_lookup(weight, idx):\n    return torch.ops.aten.embedding(weight, idx)",
    "attrgetter-one-hot": "from operator import attrgetter\ndef one_hot(idx, n):\n    return attrgetter('one_hot')(F)(idx, n).float()",
}
STATE = {  # the grader's state and the disk
    "writes-gradebook": "import sqlite3\ncon = sqlite3.connect('/work/main/gradebook.db')\n"
                        "con.execute('update grade set auto_score = 99')\ncon.commit()",
    "detached-process": "import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 30; touch /work/main/pwned'], "
                        "start_new_session=True)",
    "writes-site-packages": "import site\nopen(site.getsitepackages()[0] + '/zz_pwn.pth', 'w').write('import os')",
    "writes-course": "open('/work/main/autograder/exercises/embeddings.py', 'a').write('CHECKS = []')",
}

# learner → (how their notebook differs from the reference answers, the graded cells they must lose)
SUBMISSIONS = {
    "aa-honest": (lambda nb: nb, ()),
    "raises-on-import": (answer("one_hot", "import no_such_module\n" + course.reference_answers()["one_hot"]), ONE_HOT),
    "kills-kernel": (answer("embedding_lookup", "def embedding_lookup(weight, idx):\n    import os\n    os._exit(1)"),
                     ALL),  # `import os` in an answer: flagged
    "hangs": (answer("one_hot", "def one_hot(idx, n):\n    while True:\n        pass"), ONE_HOT),
    "prints-forever": (answer("one_hot", "def one_hot(idx, n):\n    while True:\n        print('spam' * 100)"), ONE_HOT),
    "allocates-forever": (answer("one_hot", "def one_hot(idx, n):\n    hoard = []\n    while True:\n"
                                            "        hoard.append(torch.ones(2 ** 27))"), ONE_HOT),
    "forks-forever": (answer("one_hot", "def one_hot(idx, n):\n    import os\n    while True:\n        os.fork()"), ALL),
    "edits-test": (on_test_cell(_edit), ONE_HOT),
    "deletes-test": (on_test_cell(_delete), ONE_HOT),
    "strips-test-metadata": (on_test_cell(_strip), ONE_HOT),
    "duplicates-test": (on_test_cell(_duplicate), ONE_HOT),
    "precomputed-visible-cases": (answer("one_hot", "def one_hot(idx, n):\n    if n == 3 and idx.tolist() == [0, 2]:\n"
                                                    "        return torch.tensor([[1., 0., 0.], [0., 0., 1.]])\n"
                                                    "    return torch.zeros(*idx.shape, n)"), ONE_HOT),
    "bad-metadata": (_bad_schema, ()),  # the cells' metadata is restored from the gradebook, the code kept
    "huge-outputs": (_huge_outputs, ()),
    "stderr-in-answer": (answer("one_hot", "import warnings\nwarnings.warn('noisy')\n"
                                           + course.reference_answers()["one_hot"]), ()),
    **{f"hook-{k}": (added(v), ALL) for k, v in HOOKS.items()},
    **{f"guard-{k}": (added(v, wrong="setprofile" not in k), ALL) for k, v in GUARD.items()},
    **{f"reference-{k}": (added(v), ALL) for k, v in REFERENCE.items()},
    "forbidden-torch-c-one-hot": (answer("one_hot", FORBIDDEN["torch-c-one-hot"]), ALL),
    "forbidden-aten-embedding": (answer("embedding_lookup", FORBIDDEN["aten-embedding"]), ALL),
    "forbidden-attrgetter-one-hot": (answer("one_hot", FORBIDDEN["attrgetter-one-hot"]), ("one_hot_values",)),
    **{f"state-{k}": (added(v), ALL) for k, v in STATE.items()},
    "zz-honest": (lambda nb: nb, ()),
}
EXTRA_FILES = {"extra-files": {"numpy.py": "raise SystemExit('shadowed numpy')",
                               "sitecustomize.py": "import os; os._exit(3)"}}
NOT_A_NOTEBOOK = "not-a-notebook"


def _fingerprint(paths) -> str:
    """A hash of every file under `paths` (path, size, mtime; content for small files)."""
    h = hashlib.sha256()
    for root in paths:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                st = path.stat()
                h.update(f"{path}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def _escaped_processes() -> list[str]:
    """Processes of a sandbox's user whose parent is not a sandbox (bubblewrap or another of its processes):
    what outlived its sandbox. Sandboxes of other runs, still going, are not counted."""
    out = subprocess.run(["ps", "-eo", "pid=,ppid=,uid=,comm=,args="], capture_output=True, text=True).stdout
    rows = {int(r.split()[0]): r.split(None, 4) for r in out.splitlines() if r.strip()}
    def sandboxed(pid):
        row = rows.get(pid)
        return row is not None and (int(row[2]) >= HOSTILE_UID_MIN or row[3] == "bwrap")
    return [" ".join(r) for pid, r in rows.items() if int(r[2]) >= HOSTILE_UID_MIN and not sandboxed(int(r[1]))]


def _course(root: Path, learners: list[str], extra: bool) -> None:
    course.new_course(root, notebooks=["01_embeddings"])
    course.release(root)
    release = root / "release" / course.ASSIGNMENT / NOTEBOOK
    answers = course.reference_answers()
    for learner in learners:
        course.submit(root, learner, {NOTEBOOK: SUBMISSIONS[learner][0](course.fill(release, answers))})
    if extra:
        course.submit(root, "extra-files", {NOTEBOOK: course.fill(release, answers)})
        for name, text in EXTRA_FILES["extra-files"].items():
            (root / "submitted" / "extra-files" / course.ASSIGNMENT / name).write_text(text)
        course.submit(root, NOT_A_NOTEBOOK, {})
        (root / "submitted" / NOT_A_NOTEBOOK / course.ASSIGNMENT / NOTEBOOK).write_bytes(b"\x89PNG not json")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two courses graded at once (one nbgrader run each, on the two cores), honest learners first and last in both."""
    from concurrent.futures import ThreadPoolExecutor
    hostile = [name for name in SUBMISSIONS if not name.endswith("honest")]
    roots = [tmp_path_factory.mktemp(f"course{i}") for i in range(2)]
    for i, root in enumerate(roots):
        _course(root, ["aa-honest", *hostile[i::2], "zz-honest"], extra=i == 0)
    protected = [course.REPO / d for d in ("autograder", "solutions", "source", "release", "workbook")]
    before = _fingerprint(protected), _fingerprint(site.getsitepackages()), _fingerprint([r / "source" for r in roots])
    # A short cell time limit keeps the hanging submissions quick to grade.
    options = ("--Execute.timeout=10", "--SandboxedExecute.notebook_timeout=200")
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda root: course.autograde(root, options=options), roots))
    after = _fingerprint(protected), _fingerprint(site.getsitepackages()), _fingerprint([r / "source" for r in roots])
    scores, flags = {}, {}
    from nbgrader.api import Gradebook
    for i, root in enumerate(roots):
        for row in course.grades(course.db_url_of(root)):
            scores.setdefault(row["learner"] + ("" if row["learner"] not in ("aa-honest", "zz-honest") or i == 0
                                                  else f"-{i}"), {})[row["cell"]] = (row["score"], row["max_score"])
        with Gradebook(course.db_url_of(root)) as gb:
            for sub in gb.assignment_submissions(course.ASSIGNMENT):
                name = sub.student.id + ("" if sub.student.id not in ("aa-honest", "zz-honest") or i == 0 else f"-{i}")
                for nb in sub.notebooks:
                    flags[name] = {g.name for g in nb.grades if g.needs_manual_grade}
    return scores, flags, roots[0], before, after


def _lost(scores, learner):
    return {cell for cell, (score, max_score) in scores[learner].items() if (score or 0) < max_score}


@pytest.mark.parametrize("learner", SUBMISSIONS)
def test_a_submission_loses_exactly_its_own_points(graded, learner):
    scores, *_ = graded
    assert set(scores[learner]) == set(ALL), f"{learner} was graded on {sorted(scores[learner])}"
    assert _lost(scores, learner) == set(SUBMISSIONS[learner][1])


def test_the_honest_learners_graded_first_and_last_keep_full_marks_and_no_flag(graded):
    scores, flags, *_ = graded
    for learner in ("aa-honest", "zz-honest", "aa-honest-1", "zz-honest-1", "extra-files", "huge-outputs",
                    "stderr-in-answer"):
        assert _lost(scores, learner) == set() and flags[learner] == set(), learner


def test_machinery_is_flagged_for_grading_by_hand(graded):
    _, flags, *_ = graded
    for learner, (_, lost) in SUBMISSIONS.items():
        if lost == ALL:
            assert flags[learner] == set(ALL), learner
    assert flags["forbidden-attrgetter-one-hot"] == {"one_hot_values"}  # seen at run time


def test_a_file_that_is_not_a_notebook_costs_its_learner_only(graded):
    scores, flags, *_ = graded
    assert _lost(scores, NOT_A_NOTEBOOK) == set(ALL) and flags[NOT_A_NOTEBOOK] == set(ALL)


def test_nothing_changed_outside_the_graded_folders(graded):
    _, _, root, before, after = graded
    assert before[0] == after[0], "a course file changed"
    assert before[1] == after[1], "the environment's site-packages changed"
    assert before[2] == after[2], "the course's source/ changed"
    assert not (course.REPO / "pwned").exists()


def test_no_process_is_left_behind(graded):
    assert _escaped_processes() == []


def test_feedback_shows_the_trusted_report_not_the_hidden_tests(graded):
    _, _, root, *_ = graded
    course.feedback(root)
    learner = next(p.name for p in (root / "feedback").iterdir() if p.name in ("precomputed-visible-cases", "hangs"))
    html = (root / "feedback" / learner / course.ASSIGNMENT / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in html and "autograder.hidden" not in html
    assert "checks failed" in html and "one_hot([0, 2], 3)" in html  # the record, and the visible tests' code


def test_the_autograded_record_is_data(graded):
    _, _, root, *_ = graded
    learner = next(p.name for p in (root / "autograded").iterdir() if p.name in ("precomputed-visible-cases", "hangs"))
    nb = nbformat.read(root / "autograded" / learner / course.ASSIGNMENT / NOTEBOOK, as_version=4)
    cell = nb.cells[index(nb, "one_hot_values")]
    records = [o["data"]["application/vnd.workbook.record+json"] for o in cell.outputs if o.get("data")]
    assert records and records[0]["status"] == "failed" and json.dumps(records[0])
    for path in root.parent.glob("course*/autograded/prints-forever/lesson5/*.ipynb"):
        assert os.path.getsize(path) < 2_000_000
