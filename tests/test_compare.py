"""The one tolerance helper, the records, and the visible tests learners read."""
import pytest
import torch

from workbook.compare import compare
from workbook.record import FAILED, MIME, NOT_ANSWERED, Comparison, Record, from_outputs
from workbook.testing import ChecksFailed, NotAnswered, Test


def test_compare_names_the_largest_difference_and_where():
    expected = torch.zeros(2, 3)
    actual = expected.clone()
    actual[1, 2], actual[0, 0] = 0.5, 0.1
    c = compare(actual, expected, "x")
    assert not c.passed and c.largest == pytest.approx(0.5) and c.where == [1, 2]
    assert "2 of 6 values differ; the largest difference is 0.5 at index (1, 2)" in c.message


@pytest.mark.parametrize("actual, expected, message", [
    (torch.zeros(3, 1), torch.zeros(3), "extra trailing dimension"),
    (torch.zeros(3, 3), torch.zeros(3), r"(B, 1) tensor"),
    (torch.zeros(3, dtype=torch.float64), torch.zeros(3), "keep the dtype"),
    (torch.zeros(3, dtype=torch.int64), torch.zeros(3), ".to(float32)"),
    ([0.0, 0.0], torch.zeros(2), "expected a tensor"),
    (torch.tensor(1.0), 1.0, "call .item()"),
    (1.5, 1.0, "got 1.5, expected 1.0"),
    (2.0, 2, "expected a Python int"),
    ([1, 2], [1, 2, 3], "2 items, expected 3"),
    ({"a": 1}, {"b": 1}, "keys"),
    ([(0.5, "A", 3.0)], [(0.5, "B", 3.0)], "[0] [1]"),
])
def test_compare_explains_each_kind_of_difference(actual, expected, message):
    c = compare(actual, expected, "x")
    assert not c.passed and message in c.text(), c.text()


def test_compare_accepts_close_values_nan_where_expected_and_tuples_as_lists():
    assert compare(torch.tensor([1.0, float("nan")]), torch.tensor([1.0 + 1e-9, float("nan")])).passed
    assert compare([0.1, (1, "a")], (0.1 + 1e-12, [1, "a"])).passed
    assert not compare(torch.tensor([float("inf")]), torch.tensor([1.0])).passed


def test_a_record_renders_and_crosses_as_json():
    r = Record("g", "one_hot", FAILED, checks=3, failed=2, failures=[Comparison("case 1", False, "shape (3,)")],
               mistake="counting from 1")
    text = r.render()
    assert "one_hot: 2 of 3 checks failed. This is what counting from 1 gives." in text
    assert "✗ case 1: shape (3,)" in text and "✓ 1 other check passed" in text
    assert Record.from_json(r.to_json()) == r
    assert from_outputs([{"output_type": "display_data", "data": r.bundle()}]) == r
    assert r.error() == ("ChecksFailed", r.summary())
    with pytest.raises(ValueError, match="not a workbook record"):
        Record.from_json({**r.to_json(), "score": 1})


def test_visible_test_prints_each_check_and_ends_in_a_one_line_error(capsys):
    t = Test("double")
    t.close(lambda: torch.tensor([2.0]), torch.tensor([2.0]), "doubles 1")
    t.true(lambda: False, "is even", hint="use % 2")
    with pytest.raises(ChecksFailed) as info:
        t.done()
    out = capsys.readouterr().out
    assert "✓ doubles 1" in out and "✗ is even: not so. Hint: use % 2" in out
    assert info.value._render_traceback_() == ["ChecksFailed: double: 1 of 2 checks failed."]
    assert t.record.status == FAILED and t.record.failed == 1


def test_visible_test_of_a_stub_says_not_answered_and_names_the_stub():
    def one_hot(idx, n):
        raise NotImplementedError()
    t = Test("one_hot")
    with pytest.raises(NotAnswered, match="Replace `raise NotImplementedError\\(\\)` in `one_hot`"):
        t.close(lambda: one_hot(torch.tensor([1]), 2), torch.zeros(1, 2), "anything")
    assert t.record.status == NOT_ANSWERED


def test_a_learner_exception_fails_its_check_in_one_line(capsys):
    def broken(x):
        return x.nonexistent
    t = Test("broken")
    t.close(lambda: broken(1), 1, "it runs")
    assert "raised AttributeError: 'int' object has no attribute 'nonexistent' (at line" in \
        capsys.readouterr().out


def test_warnings_and_stderr_inside_a_check_stay_silent(capfd):
    import sys
    import warnings

    def noisy():
        warnings.warn("careful")
        print("to stderr", file=sys.stderr)
        return 1
    Test("noisy").true(noisy, "ok")
    assert capfd.readouterr().err == ""


def test_the_record_is_shown_as_json_for_tools():
    assert MIME in Record("g", "t").bundle()
