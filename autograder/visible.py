"""Visible tests a learner reads: each check says in plain words what passed, what failed, and a hint.

    t = Test("one_hot")
    t.close(lambda: one_hot(torch.tensor([0, 2]), 3), torch.eye(3)[[0, 2]], "rows 0 and 2 of the identity")
    t.true(lambda: one_hot(torch.tensor(1), 4).shape == (4,), "a 0-D index gives one row", hint="...")
    t.done()

Each check takes a function (a `lambda`) so that an error inside the learner's code fails
that check, with its message, instead of stopping the cell.
"""
from __future__ import annotations

import contextlib
import io
import warnings

from .report import NotAnswered, Question


class Test:
    """A question's visible checks; `done()` prints the summary and fails the cell if any check failed."""

    def __init__(self, name: str):
        self._q = Question(name, verbose=True)
        self._q.__enter__()  # the tampering check
        # Silence stderr and warnings inside each check only: a cell that stops between Test()
        # and done() must not leave the learner's kernel without stderr and warnings.
        self._q._stack.close()
        self._finished = False
        self._unmade: list[str] = []  # `make` checks that failed: later checks probably fail for that reason

    @contextlib.contextmanager
    def _check(self, what: str):
        """`Question.check`, with stderr and warnings silenced inside (nbgrader scores stderr as zero)."""
        __tracebackhide__ = True
        with self._q.check(what), warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            try:
                yield
            except NotAnswered:
                raise
            except AssertionError as exc:
                if self._unmade:
                    raise AssertionError(f"{exc} (probably because \"{self._unmade[0]}\" failed above)") from None
                raise

    def _run(self, make, what: str):
        __tracebackhide__ = True
        try:
            return self._q.call(make)
        except NotAnswered:
            # Nothing else can be checked: end here, with the "not answered yet" message.
            self._finished = True
            self._q._stack.close()
            raise

    def make(self, make, what: str):
        """Run `make()` as a check (building an object, say) and return its result, or None if it failed."""
        __tracebackhide__ = True
        if self._finished:
            return None
        result, failed = None, len(self._q.failed)
        with self._check(what):
            result = self._run(make, what)
        if len(self._q.failed) > failed:
            self._unmade.append(what)
        return result

    def close(self, make, expected, what: str, hint: str = "", **tolerance) -> None:
        """Check that `make()` returns a value close to `expected` (same shape, dtype, device).

        `expected` may be a function (a `lambda`), called inside the check: pass one when the
        expected value uses the learner's objects (`lambda: emb.weight[[4, 4, 9]]`), so that an
        error there fails this check instead of stopping the cell.
        """
        __tracebackhide__ = True
        if self._finished:
            return
        with self._check(what):
            try:
                actual = self._run(make, what)
                if callable(expected):
                    expected = self._q.call(expected)
                self._q.compare(what, actual, expected, **tolerance)
            except NotAnswered:
                raise
            except AssertionError as exc:
                raise AssertionError(f"{exc}{' Hint: ' + hint if hint else ''}") from None

    def true(self, make, what: str, hint: str = "") -> None:
        """Check that `make()` returns something true."""
        __tracebackhide__ = True
        if self._finished:
            return
        with self._check(what):
            if not self._run(make, what):
                raise AssertionError(f"{what}: not so.{' Hint: ' + hint if hint else ''}")

    def raises(self, make, error: type, what: str, hint: str = "") -> None:
        """Check that `make()` raises `error`."""
        __tracebackhide__ = True
        if self._finished:
            return
        with self._check(what):
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
        __tracebackhide__ = True
        if not self._finished:
            self._finished = True
            self._q.__exit__(None, None, None)
