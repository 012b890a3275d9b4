"""Scenarios: what a check runs on the learner's code, as plain data in and plain data out.

A scenario is a function `scenario(learner, device, **inputs) -> outputs`: it builds what it
needs from its inputs (tensors, numbers, model states), calls the learner's code through
`learner.call`, and returns values (tensors, numbers, strings, lists and dicts of them), never
the learner's objects. The grader runs the same scenario over the reference to get the expected
outputs, and over each known mistake to name the one an answer matches. `get("basic.call")`
names the function `call` of the module `basic` here; each notebook may add a module of its own.
"""
from __future__ import annotations

import importlib


def get(name: str):
    """The scenario called `name` (`module.function`)."""
    module, _, function = name.rpartition(".")
    try:
        mod = importlib.import_module(f"{__name__}.{module}")
    except ImportError:
        raise KeyError(f"no scenario module {module!r}") from None
    fn = getattr(mod, function, None)
    if fn is None or not getattr(fn, "is_scenario", False):
        raise KeyError(f"no scenario {name!r}")
    return fn


def scenario(fn):
    """Mark `fn` as a scenario a request may name."""
    fn.is_scenario = True
    return fn
