"""A learner's exception in one line, and the name of the stub that is not answered yet.

One source serves both sides: the visible tests (`workbook.testing`) import it, and the grader
sends this file into the learner's sandbox as `_grader.tracebacks` (`autograder.kernel`), where
nothing of the course is installed. So it imports the standard library only.
"""
from __future__ import annotations

import traceback


def short_error(exc: BaseException, ours: tuple[str, ...] = (), limit: int = 300) -> str:
    """`ValueError: bad shape (at line 4 of one_hot)`: `exc` in one line, located at its last frame whose file name
    contains none of `ours` (the course's own code and the libraries: frames a learner does not need)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not any(part in f.filename for part in ours)]
    where = f" (at line {frames[-1].lineno} of {frames[-1].name})" if frames else ""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}{': ' + lines[0][:limit] if lines else ''}{where}"


def stub_name(exc: NotImplementedError, fallback: str) -> str:
    """The name of the stub that raised `exc`: `one_hot`, or `Adam.step` for a method; `fallback` if unknown."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None or tb.tb_frame.f_code.co_name == "<lambda>":
        return fallback
    name = tb.tb_frame.f_code.co_name
    owner = tb.tb_frame.f_locals.get("self")
    return f"{type(owner).__name__}.{name}" if owner is not None else name
