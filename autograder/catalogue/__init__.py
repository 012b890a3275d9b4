"""Learner answers the grading is proven against, one module per notebook.

Each module lists `VARIANTS`: answers a learner could write for one exercise, each either
correct in another way (it must get full marks) or a plausible mistake (it must lose the
points of the graded cells it names). The demo builds its class of learners from them and
`tests/test_grading.py` runs every one through a real `nbgrader autograde`.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One answer to the exercise `answer` (its solution cell's grade_id).

    `loses` names the graded cells it must fail; empty means it is correct and must pass all.
    """
    answer: str
    name: str
    source: str
    loses: tuple[str, ...] = ()

    @property
    def correct(self) -> bool:
        return not self.loses


def variants(notebook: str | None = None) -> list[Variant]:
    """Every catalogued variant, or those of one notebook module (`"embeddings"`)."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if notebook in (None, info.name):
            found += importlib.import_module(f"{__name__}.{info.name}").VARIANTS
    return found
