"""A `Question` runs every check of one graded cell, then reports them all in plain words."""
from __future__ import annotations

import contextlib
import io
import traceback
import warnings

from . import guard
from .compare import Mismatch, assert_close
from .watch import ForbiddenCall, watching

_TICK, _CROSS = "✓", "✗"
SHOWN = 6  # failures listed in full; the rest are counted


class NotAnswered(AssertionError):
    """The learner's function still raises NotImplementedError."""


class QuestionFailed(AssertionError):
    """One or more checks of a question failed; the message lists each."""


def short_error(exc: BaseException) -> str:
    """`ValueError: bad shape (at line 4 of one_hot)`: the learner's exception in one line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(guard.PACKAGE_DIR) and "site-packages" not in f.filename]
    where = f" (at line {frames[-1].lineno} of {frames[-1].name})" if frames else ""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}{': ' + lines[0] if lines else ''}{where}"


class Question:
    """Run every check of one question; raise one AssertionError that lists each failure.

    >>> with Question("one_hot") as q:
    ...     for case in cases:
    ...         with q.check(f"one_hot on {case}"):
    ...             y = q.call(one_hot, case.idx, 5, forbidden=["F.one_hot"])
    ...             q.compare("one_hot(idx, 5)", y, expected)

    A failing check records its message and the question goes on to the next check;
    an unanswered exercise (NotImplementedError) stops it with one clear message.
    `verbose=True` (visible tests) prints a line per check, passed or failed.
    Inside, warnings and stderr are silenced: nbgrader scores a graded cell that writes to
    stderr as zero, and a learner's warning must not cost a correct answer its points.
    """

    def __init__(self, name: str, verbose: bool = False):
        self.name, self.verbose = name, verbose
        self.passed: list[str] = []
        self.failed: list[str] = []
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> "Question":
        problems = guard.tampering()
        if problems:
            raise QuestionFailed(f"{self.name}: not graded, because the notebook changed what the tests rely on: "
                                 + "; ".join(problems) + ". Remove that code and run the notebook again.")
        self._stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        self._stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._stack.close()
        if exc_type is NotAnswered:
            return False
        if isinstance(exc, AssertionError):
            self._fail(str(exc) or "a check failed")
        elif exc is not None:
            self._fail(f"the test stopped early: {short_error(exc)}")
        if self.failed:
            n = len(self.failed) + len(self.passed)
            lines = [f"{self.name}: {len(self.failed)} of {n} checks failed."]
            lines += [f"  {_CROSS} {msg}" for msg in self.failed[:SHOWN]]
            if len(self.failed) > SHOWN:
                lines.append(f"  {_CROSS} ... and {len(self.failed) - SHOWN} more failed checks like these.")
            if self.passed and not self.verbose:
                lines.append(f"  {_TICK} {len(self.passed)} other check{'s' if len(self.passed) > 1 else ''} passed.")
            raise QuestionFailed("\n".join(lines)) from None
        if self.verbose:
            print(f"{self.name}: all {len(self.passed)} checks passed.")
        return True

    def _fail(self, message: str) -> None:
        if message in self.failed:  # the same fault found by several cases is reported once
            return
        self.failed.append(message)
        if self.verbose:
            print(f"  {_CROSS} {message}")

    def _pass(self, what: str) -> None:
        self.passed.append(what)
        if self.verbose:
            print(f"  {_TICK} {what}")

    @contextlib.contextmanager
    def check(self, what: str):
        """One named check: an AssertionError or a learner's exception inside fails it, and the question goes on."""
        try:
            yield
        except NotAnswered:
            raise
        except ForbiddenCall as exc:  # one message for the question, whichever case found it
            self._fail(str(exc))
        except AssertionError as exc:
            message = str(exc) or "failed"
            self._fail(message if message.startswith(what) else f"{what}: {message}")
        except Exception as exc:
            self._fail(f"{what}: {short_error(exc)}")
        else:
            self._pass(what)

    def call(self, fn, *args, forbidden=(), forbid_optim: bool = False, **kwargs):
        """Run a learner's `fn` and return its result.

        NotImplementedError stops the question (`NotAnswered`); any other exception, or a
        forbidden call (see `watch.watching`), raises an AssertionError that fails the check.
        """
        name = getattr(fn, "__name__", None) or type(fn).__name__
        try:
            with watching(forbidden, forbid_optim) as found:
                result = fn(*args, **kwargs)
        except NotImplementedError as exc:
            # Name the function whose stub raised: the innermost frame, not the lambda around it.
            frames = traceback.extract_tb(exc.__traceback__)
            if frames and frames[-1].name == "_forward_unimplemented":  # an nn.Module without forward
                raise AssertionError(f"{name} has no `forward` method: check its spelling and indentation") \
                    from None
            name = frames[-1].name if frames and frames[-1].name != "<lambda>" else name
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            owner = tb.tb_frame.f_locals.get("self") if tb is not None else None
            if owner is not None and name != "<lambda>":  # a method: `Embedding.__init__`, `Adam.step`
                name = f"{type(owner).__name__}.{name}"
            where = f"`{name}`" if name != "<lambda>" else "your answer"
            raise NotAnswered(f"{self.name}: not answered yet. Replace `raise NotImplementedError()` in "
                              f"{where} with your code, run that cell, then run this test again.") from None
        except RecursionError:
            raise AssertionError(f"{name} recursed too deep (does it call itself?)") from None
        except Exception as exc:  # the learner's bug, in one line
            raise AssertionError(f"{name} raised {short_error(exc)}") from None
        if found:
            raise ForbiddenCall(f"{name} uses {', '.join(found)}, which this exercise asks you to write yourself.")
        return result

    def compare(self, what: str, actual, expected, mistakes: dict | None = None, **tolerance) -> None:
        """Assert `actual` matches `expected`; on a mismatch, name a known mistake it matches.

        `mistakes` maps a mistake's description ("no max subtraction") to the value it gives.
        """
        try:
            assert_close(actual, expected, what=what, **tolerance)
        except Mismatch as exc:
            for mistake, value in (mistakes or {}).items():
                try:
                    assert_close(actual, value, what=what, **tolerance)
                except Exception:
                    continue
                raise Mismatch(f"{exc} This is what {mistake} gives.") from None
            raise

    def require(self, condition: bool, what: str, message: str) -> None:
        """A check that is a plain condition, with the message a learner sees when it fails."""
        with self.check(what):
            if not condition:
                raise AssertionError(message)
