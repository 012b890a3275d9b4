"""The declared exercises: one module per notebook, named for the notebook without its number.

Each module holds `NOTEBOOK` ("01_embeddings"), `REFERENCE` (the module of `solutions` with
the reference answers), `CHECKS` (one `Check` per graded cell) and `VARIANTS` (the catalogue of
answers a learner could write). Everything else is read off them: the trusted grading, the
hidden-test block of each graded cell, the catalogue the demo and the tests grade.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import lru_cache

from ..exercise import Check, Variant, resolve


@dataclass
class Notebook:
    """One notebook's declarations."""
    name: str                 # "01_embeddings"
    module: str               # "autograder.exercises.embeddings"
    reference: str            # "solutions.embeddings"
    checks: list[Check]
    variants: list[Variant]

    def check(self, grade_id: str) -> Check:
        for c in self.checks:
            if c.grade_id == grade_id:
                return c
        raise KeyError(f"{self.name} declares no graded cell {grade_id!r}")


@lru_cache(maxsize=None)
def notebooks() -> tuple[Notebook, ...]:
    """Every notebook's declarations, in notebook order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Notebook(mod.NOTEBOOK, mod.__name__, mod.REFERENCE, mod.CHECKS,
                              resolve(mod.CHECKS, mod.VARIANTS)))
    return tuple(sorted(found, key=lambda nb: nb.name))


def notebook(name: str) -> Notebook:
    """The declarations of the notebook `name` ("01_embeddings", or its file name)."""
    stem = name.removesuffix(".ipynb")
    for nb in notebooks():
        if nb.name == stem:
            return nb
    raise KeyError(f"no declared exercises for the notebook {name!r}")


def find(grade_id: str) -> tuple[Notebook, Check]:
    """The notebook and check of a graded cell."""
    for nb in notebooks():
        for c in nb.checks:
            if c.grade_id == grade_id:
                return nb, c
    raise KeyError(f"no declared check {grade_id!r}")


def variants(notebook_name: str | None = None) -> list[Variant]:
    """The catalogue: every variant, or those of one notebook."""
    return [v for nb in notebooks() if notebook_name in (None, nb.name) for v in nb.variants]
