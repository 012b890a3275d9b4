"""Visible tests a learner reads: each check says in plain words what passed, what failed, and a hint.

    t = Test("one_hot")
    t.close(lambda: one_hot(torch.tensor([0, 2]), 3), torch.eye(3)[[0, 2]], "rows 0 and 2 of the identity")
    t.true(lambda: one_hot(torch.tensor(1), 4).shape == (4,), "a 0-D index gives one row", hint="...")
    t.done()

Each check takes a function (a `lambda`) so that an error inside the learner's code fails
that check, with its message, instead of stopping the cell.
"""
from __future__ import annotations

from .report import NotAnswered, Question


class Test:
    """A question's visible checks; `done()` prints the summary and fails the cell if any check failed."""

    def __init__(self, name: str):
        self._q = Question(name, verbose=True)
        self._q.__enter__()
        self._finished = False

    def _run(self, make, what: str):
        try:
            return self._q.call(make)
        except NotAnswered:
            # Nothing else can be checked: end here, with the "not answered yet" message.
            self._finished = True
            self._q._stack.close()
            raise

    def make(self, make, what: str):
        """Run `make()` as a check (building an object, say) and return its result, or None if it failed."""
        if self._finished:
            return None
        result = None
        with self._q.check(what):
            result = self._run(make, what)
        return result

    def close(self, make, expected, what: str, hint: str = "", **tolerance) -> None:
        """Check that `make()` returns a value close to `expected` (same shape, dtype, device)."""
        if self._finished:
            return
        with self._q.check(what):
            try:
                self._q.compare(what, self._run(make, what), expected, **tolerance)
            except NotAnswered:
                raise
            except AssertionError as exc:
                raise AssertionError(f"{exc}{' Hint: ' + hint if hint else ''}") from None

    def true(self, make, what: str, hint: str = "") -> None:
        """Check that `make()` returns something true."""
        if self._finished:
            return
        with self._q.check(what):
            if not self._run(make, what):
                raise AssertionError(f"{what}: not so.{' Hint: ' + hint if hint else ''}")

    def raises(self, make, error: type, what: str, hint: str = "") -> None:
        """Check that `make()` raises `error`."""
        if self._finished:
            return
        with self._q.check(what):
            try:
                make()
            except error:
                return
            except NotImplementedError:
                self._run(make, what)
            except Exception as exc:
                raise AssertionError(f"{what}: raised {type(exc).__name__} instead of {error.__name__}."
                                     f"{' Hint: ' + hint if hint else ''}") from None
            raise AssertionError(f"{what}: raised nothing.{' Hint: ' + hint if hint else ''}")

    def done(self) -> None:
        """Print the summary; raise AssertionError listing the failures, if any."""
        if not self._finished:
            self._finished = True
            self._q.__exit__(None, None, None)
