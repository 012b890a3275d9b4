"""The visible tests a learner reads: each check says in plain words what passed, what failed, and a hint.

    t = Test("one_hot")
    t.close(lambda: one_hot(torch.tensor([0, 2]), 3), torch.eye(3)[[0, 2]], "rows 0 and 2 of the identity")
    t.true(lambda: one_hot(torch.tensor(1), 4).shape == (4,), "a 0-D index gives one row", hint="...")
    t.done()

Each check takes a function (a `lambda`) so that an error inside the learner's code fails
that check, with its message, instead of stopping the cell. The checks print a line each as
they run; `done()` shows the cell's `Record` and, when a check failed, ends the cell in an
error of one line (so JupyterLab's Validate and nbgrader see it), without the helper's frames.
These tests only help a learner: the grader runs its own, more thorough ones, elsewhere.
"""
from __future__ import annotations

import contextlib
import io
import os
import traceback
import warnings

from . import tracebacks
from .compare import compare
from .record import CROSS, FAILED, NOT_ANSWERED, PASSED, TICK, Comparison, Record

_HERE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _OneLine(Exception):
    """An error IPython shows as its message alone (`_render_traceback_`), not as a traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ChecksFailed(_OneLine):
    """One or more visible checks failed; they are listed above the error."""


class NotAnswered(_OneLine):
    """The learner's function still raises NotImplementedError."""


def short_error(exc: BaseException) -> str:
    """`ValueError: bad shape (at line 4 of one_hot)`: the learner's exception in one line."""
    return tracebacks.short_error(exc, (_HERE, "site-packages"))


def not_answered_message(name: str) -> str:
    where = f"`{name}`" if name else "your answer"
    return (f"not answered yet. Replace `raise NotImplementedError()` in {where} with your code, run that cell, "
            "then run this test again.")


def show(record: Record, text: str | None = None) -> None:
    """Show the record as a cell output (JSON for tools, text for people); outside IPython, print it."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(record.bundle(text), raw=True)
    else:
        print(record.bundle(text)["text/plain"])


class Test:
    """A question's visible checks; `done()` shows the summary and fails the cell if any check failed."""

    __test__ = False  # not a pytest test class

    def __init__(self, name: str):
        self.record = Record(grade_id="", title=name)
        self._finished = False
        self._unmade: list[str] = []  # `make` checks that failed: later checks probably fail for that reason

    # -- running the learner's code ---------------------------------------------------------------
    def _run(self, make):
        """`make()`, with warnings and stderr silenced (nbgrader scores stderr as zero).

        NotImplementedError ends the test as not answered; any other exception becomes an
        AssertionError in one line.
        """
        try:
            with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                return make()
        except NotImplementedError as exc:
            if traceback.extract_tb(exc.__traceback__)[-1].name == "_forward_unimplemented":
                raise AssertionError("the module has no `forward` method: check its spelling and indentation") \
                    from None
            self._not_answered(not_answered_message(tracebacks.stub_name(exc, "")))
        except NameError as exc:
            if exc.name != self.record.title:
                raise AssertionError(f"raised {short_error(exc)}") from None
            # the answer's own cell has not run yet (in the release it still raises NotImplementedError)
            self._not_answered(f"not answered yet: `{exc.name}` is not defined. Write it in its cell (replace "
                               "`raise NotImplementedError()`), run that cell, then run this test again.")
        except RecursionError:
            raise AssertionError("your function recursed too deep (does it call itself?)") from None
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(f"raised {short_error(exc)}") from None

    def _not_answered(self, message: str):
        self._finished = True
        self.record.status = NOT_ANSWERED
        self.record.message = message
        show(self.record, "")
        raise NotAnswered(self.record.summary()) from None

    @contextlib.contextmanager
    def _check(self, what: str, hint: str = ""):
        """One named check: an AssertionError inside fails it; the test goes on to the next check."""
        self.record.checks += 1
        try:
            yield
        except AssertionError as exc:
            message = str(exc) or "failed"
            if self._unmade:
                message += f" (probably because \"{self._unmade[0]}\" failed above)"
            if hint:
                message += f" Hint: {hint}"
            self.record.failed += 1
            self.record.failures.append(Comparison(what, False, message))
            print(f"  {CROSS} {self.record.failures[-1].text()}")
        else:
            self.record.passes.append(what)
            print(f"  {TICK} {what}")

    # -- the checks ------------------------------------------------------------------------------
    def make(self, make, what: str):
        """Run `make()` as a check (building an object, say) and return its result, or None if it failed."""
        if self._finished:
            return None
        result, failed = None, len(self.record.failures)
        with self._check(what):
            result = self._run(make)
        if len(self.record.failures) > failed:
            self._unmade.append(what)
        return result

    def close(self, make, expected, what: str, hint: str = "", **tolerance) -> None:
        """Check that `make()` returns a value close to `expected` (same type, shape, dtype, device).

        `expected` may be a function (a `lambda`), called inside the check: pass one when the
        expected value uses the learner's objects (`lambda: emb.weight[[4, 4, 9]]`), so that an
        error there fails this check instead of stopping the cell.
        """
        if self._finished:
            return
        with self._check(what, hint):
            actual = self._run(make)
            if callable(expected):
                expected = self._run(expected)
            c = compare(actual, expected, what, **tolerance)
            if not c.passed:
                raise AssertionError(c.text())

    def true(self, make, what: str, hint: str = "") -> None:
        """Check that `make()` returns something true."""
        if self._finished:
            return
        with self._check(what, hint):
            if not self._run(make):
                raise AssertionError("not so.")

    def raises(self, make, error: type, what: str, hint: str = "") -> None:
        """Check that `make()` raises `error`."""
        if self._finished:
            return
        with self._check(what, hint):
            try:
                with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                    warnings.simplefilter("ignore")
                    make()
            except error:
                return
            except NotImplementedError:
                self._run(make)
            except Exception as exc:
                raise AssertionError(f"raised {type(exc).__name__} instead of {error.__name__}.") from None
            raise AssertionError("raised nothing.")

    def done(self) -> Record:
        """Show the record; end the cell in a one-line error if any check failed."""
        if self._finished:
            return self.record
        self._finished = True
        self.record.status = FAILED if self.record.failures else PASSED
        show(self.record, None if self.record.passed else "")
        if not self.record.passed:
            raise ChecksFailed(self.record.summary())
        return self.record
