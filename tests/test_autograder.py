"""The autograder's own parts: the tolerance helper, questions, visible tests, forbidden calls, the guard."""
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from autograder.compare import Mismatch, assert_close
from autograder.report import NotAnswered, Question, QuestionFailed
from autograder.visible import Test
from autograder.watch import watching


def test_assert_close_names_the_largest_difference_and_where():
    expected = torch.zeros(2, 3)
    actual = expected.clone()
    actual[1, 2] = 0.5
    actual[0, 0] = 0.1
    with pytest.raises(Mismatch, match=r"2 of 6 values differ; the largest difference is 0.5 at index \(1, 2\)"):
        assert_close(actual, expected, what="x")


@pytest.mark.parametrize("actual, expected, message", [
    (torch.zeros(3, 1), torch.zeros(3), "extra trailing dimension"),
    (torch.zeros(3, 3), torch.zeros(3), r"\(B, 1\) tensor"),
    (torch.zeros(3, dtype=torch.float64), torch.zeros(3), "keep the dtype"),
    (torch.zeros(3, dtype=torch.int64), torch.zeros(3), r"\.to\(float32\)"),
    ([0.0, 0.0], torch.zeros(2), "expected a tensor"),
    (torch.tensor(1.0), 1.0, r"call \.item\(\)"),
    (1.5, 1.0, "got 1.5, expected 1.0"),
])
def test_assert_close_explains_each_kind_of_difference(actual, expected, message):
    with pytest.raises(Mismatch, match=message):
        assert_close(actual, expected, what="x")


def test_assert_close_accepts_equal_values_and_nan_in_the_same_place():
    assert_close(torch.tensor([1.0, float("nan")]), torch.tensor([1.0 + 1e-9, float("nan")]))
    with pytest.raises(Mismatch, match="largest difference is inf"):
        assert_close(torch.tensor([float("inf")]), torch.tensor([1.0]))


def test_question_reports_every_failing_check_not_only_the_first():
    with pytest.raises(QuestionFailed) as info:
        with Question("q") as q:
            for i in range(3):
                with q.check(f"case {i}"):
                    q.compare(f"case {i}", torch.tensor([float(i)]), torch.tensor([0.0]))
    text = str(info.value)
    assert "2 of 3 checks failed" in text and "case 1" in text and "case 2" in text
    assert "1 other check passed" in text


def test_question_names_a_known_mistake():
    with pytest.raises(QuestionFailed, match="This is what summing instead of averaging gives"):
        with Question("q") as q:
            with q.check("mean"):
                q.compare("mean", torch.tensor(6.0), torch.tensor(2.0),
                          mistakes={"averaging twice": torch.tensor(0.5), "summing instead of averaging": torch.tensor(6.0)})


def test_unanswered_stops_the_question_with_a_clear_message():
    def stub(x):
        raise NotImplementedError()
    with pytest.raises(NotAnswered, match="not answered yet. Replace `raise NotImplementedError\\(\\)` in `stub`"):
        with Question("q") as q:
            with q.check("first"):
                q.call(stub, 1)


def test_a_learner_exception_fails_its_check_in_one_line():
    def broken(x):
        return x.nonexistent
    with pytest.raises(QuestionFailed, match="broken raised AttributeError: 'int' object has no attribute"):
        with Question("q") as q:
            with q.check("it runs"):
                q.call(broken, 1)


def test_warnings_and_stderr_inside_a_question_stay_silent(capfd):
    import warnings

    def noisy(x):
        warnings.warn("careful")
        print("to stderr", file=sys.stderr)
        return x
    with Question("q") as q:
        with q.check("ok"):
            q.call(noisy, 1)
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("fn, forbidden, found", [
    (lambda i: F.one_hot(i, 3), ["F.one_hot"], "F.one_hot"),
    (lambda i: torch.eye(3)[i] @ torch.eye(3), ["torch.Tensor.__matmul__", "torch.Tensor.matmul"], "matmul"),
    (lambda i: torch.nn.Embedding(3, 2)(i), ["nn.Embedding"], "nn.Embedding"),
    (lambda i: torch.eye(3)[i].softmax(-1), ["torch.Tensor.softmax"], "torch.Tensor.softmax"),
])
def test_watching_sees_forbidden_calls_however_written(fn, forbidden, found):
    with watching(forbidden) as seen:
        fn(torch.tensor([0, 2]))
    assert any(found in s for s in seen), seen


def test_watching_allows_what_is_not_forbidden():
    with watching(["F.one_hot", "torch.matmul"]) as seen:
        (torch.tensor([0, 2])[..., None] == torch.arange(3)).float().sum()
    assert seen == []


def test_watching_flags_reference_code_however_reached():
    from solutions import embeddings
    with watching() as seen:
        (lambda i, n: embeddings.one_hot(i, n))(torch.tensor([1]), 2)
    assert any("solutions" in s for s in seen)


def test_visible_test_prints_each_check_and_fails_the_cell(capsys):
    t = Test("double")
    t.close(lambda: torch.tensor([2.0]), torch.tensor([2.0]), "doubles 1")
    t.true(lambda: False, "is even", hint="use % 2")
    with pytest.raises(QuestionFailed):
        t.done()
    out = capsys.readouterr().out
    assert "✓ doubles 1" in out and "✗ is even: not so. Hint: use % 2" in out


def test_visible_test_of_a_stub_says_not_answered():
    def stub():
        raise NotImplementedError()
    t = Test("stub")
    with pytest.raises(NotAnswered):
        t.close(stub, torch.tensor([1.0]), "anything")


ATTACKS = [  # (what a notebook does, how to undo it, what the guard must report)
    ("import torch; saved = torch.allclose; torch.allclose = lambda *a, **k: True",
     "torch.allclose = saved", "replaced torch.allclose"),
    ("import builtins; saved = builtins.isinstance; builtins.isinstance = lambda *a: True",
     "builtins.isinstance = saved", "replaced builtins.isinstance"),
    ("import autograder.compare as c; saved = c.assert_close; c.assert_close = lambda *a, **k: None",
     "c.assert_close = saved", "autograder.compare.assert_close"),
    ("import solutions.embeddings as s; saved = s.one_hot; s.one_hot = lambda i, n: None",
     "s.one_hot = saved", "solutions.embeddings.one_hot"),
    ("import sys, types; saved = sys.modules['autograder.report']; sys.modules['autograder.report'] = types.ModuleType('x')",
     "sys.modules['autograder.report'] = saved", "replaced the module autograder.report"),
    ("import torch; saved = torch.Tensor.__sub__; torch.Tensor.__sub__ = lambda a, b: a",
     "del torch.Tensor.__sub__", "torch.Tensor.__sub__"),
]


def test_guard_notices_each_kind_of_tampering():
    """One fresh interpreter (the guard's audit hook cannot be removed): each attack, then its undo."""
    script = ["from autograder import guard", "guard.install()", "assert guard.tampering() == []"]
    for attack, undo, _ in ATTACKS:
        script += [attack, "print(guard.tampering())", undo, "assert guard.tampering() == [], guard.tampering()"]
    script += ["import solutions", "open(solutions.__file__).read()", "print(guard.tampering())",
               "from autograder.report import Question",
               "try:\n    Question('q').__enter__()\nexcept AssertionError as exc:\n    print(exc)"]
    proc = subprocess.run([sys.executable, "-c", "\n".join(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for (_, _, found), line in zip(ATTACKS, lines):
        assert found in line, (found, line)
    assert "read the reference solutions" in lines[len(ATTACKS)]
    assert "not graded, because the notebook changed what the tests rely on" in proc.stdout
