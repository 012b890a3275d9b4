"""How a scenario reaches the learner's code: `learner.get(name)` and `learner.call(fn, ...)`.

The same scenario runs twice: in the sandbox over the learner's notebook namespace, and in the
trusted grader over the reference's. `Learner.call` is where the learner's code runs: under the
forbidden-call `Watch`, with its exceptions turned into `LearnerError`s that say, in one line,
what went wrong, and a stub's NotImplementedError into `NotAnswered`. Runs inside the sandbox.
"""
from __future__ import annotations

import contextlib
import io
import traceback
import warnings

from . import tracebacks
from .watch import Watch

_OURS = ("<grader", "/torch/", "/site-packages/", "/autograder/")  # frames a learner's traceback does not need


class NotAnswered(Exception):
    """A stub still raises NotImplementedError; `.name` is the stub (`one_hot`, `Adam.step`)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class LearnerError(Exception):
    """The learner's code raised, or gave something a scenario cannot use; the message says what."""


def short_error(exc: BaseException) -> str:
    """`ValueError: bad shape (at line 4 of one_hot)`: an exception in one line, located in the learner's code."""
    return tracebacks.short_error(exc, _OURS)


def name_of(fn) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


class Learner:
    """The learner's (or the reference's) namespace, as a scenario sees it."""

    def __init__(self, namespace: dict, rules=()):
        self.namespace = namespace
        self.watch = Watch(rules)

    @property
    def found(self) -> list[str]:
        """Forbidden things the learner's code used, by label."""
        return self.watch.found

    def get(self, name: str):
        """The learner's object called `name`."""
        if name not in self.namespace:
            raise LearnerError(f"the notebook defines no `{name}`: run the cell that defines it (and keep its name)")
        return self.namespace[name]

    def call(self, fn, *args, **kwargs):
        """`fn(*args, **kwargs)`, the learner's code, watched; its errors become `LearnerError` or `NotAnswered`."""
        name = name_of(fn)
        try:
            with self.watch, warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                result = fn(*args, **kwargs)
        except NotImplementedError as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            if frames and frames[-1].name == "_forward_unimplemented":
                raise LearnerError(f"{name} has no `forward` method: check its spelling and indentation") from None
            raise NotAnswered(tracebacks.stub_name(exc, name)) from None
        except RecursionError:
            raise LearnerError(f"{name} recursed too deep (does it call itself?)") from None
        except (NotAnswered, LearnerError):
            raise
        except Exception as exc:
            raise LearnerError(f"{name} raised {short_error(exc)}") from None
        finally:
            # A forbidden call decides the cell (flagged, no points): stop here rather than run the rest of the
            # scenario under the watch, which can take minutes for an answer that loops over torch.optim.
            if self.found:
                raise LearnerError(f"{name} uses {' and '.join(self.found)}") from None
        return result
