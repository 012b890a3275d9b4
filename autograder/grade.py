"""Grade one check: run its scenario on every case, compare with the reference, name known mistakes.

    record = grade(check, runner)               # a workbook.record.Record

`runner.run(scenario, batch, rules, devices)` runs the learner's side of a check's cases at once
and returns the validated answers (per case, `{"outputs": ...}` or `{"error": ...}`, with `"found"`): `InProcess`
over a namespace (the hidden-test block of a source notebook, the project's tests), or the
sandboxed kernel's runner during autograde. Everything else happens here, in the trusted
process: the reference's outputs for the same inputs, the comparisons (under
`torch._C.DisableTorchFunction`, so nothing a learner could have set up takes part), and the
mistake whose outputs the learner's match.
"""
from __future__ import annotations

import importlib
import inspect
from functools import lru_cache

import torch

from workbook.compare import compare
from workbook.record import FAILED, FLAGGED, NOT_ANSWERED, PASSED, Comparison, Record
from workbook.testing import not_answered_message

from .exercise import Check, Variant
from .inside import agent, channel

PRELUDE = "import math\nimport numpy as np\nimport pandas as pd\nimport torch\nimport torch.nn.functional as F\n" \
          "from torch import nn\n"
DIAGNOSED = 3  # failing cases per check searched for a known mistake
# How an output is named in a failure message (the result itself needs no name).
OUTPUT_NAMES = {"y": "", "grad": "the gradient", "grads": "the gradients", "changed": "", "state_dict": "its state_dict",
                "structure": "its parameters and submodules", "weights": "its weights"}


@lru_cache(maxsize=None)
def _reference_source(module: str) -> tuple[str, str]:
    mod = importlib.import_module(module)
    return inspect.getsource(mod), inspect.getsourcefile(mod)


def namespace(reference: str, variants: tuple[Variant, ...] = ()) -> dict:
    """A notebook's answers as a learner's kernel holds them: the reference module's code run in one
    namespace, with `variants`' sources run on top (so the reference's other functions call them)."""
    ns: dict = {"__name__": "__answers__"}
    exec(compile(PRELUDE, "<prelude>", "exec"), ns)
    source, filename = _reference_source(reference)
    exec(compile(source, filename, "exec"), ns)
    for v in variants:
        exec(compile(v.source, f"<{v.answer}: {v.name}>", "exec"), ns)
    return ns


class InProcess:
    """Run scenarios in this process over `namespace`, through the channel as the sandbox's answers come."""

    def __init__(self, namespace: dict):
        self.namespace = namespace

    def run(self, scenario: str, batch: list[dict], rules, devices: list[str]) -> list[dict]:
        doc, blob = channel.encode(batch)  # a private copy: the code run may change its inputs in place
        answers = agent.run_all(scenario, channel.decode(doc, blob), devices, self.namespace, rules)
        return channel.decode(*channel.encode(answers))


def _one(runner, scenario: str, case, rules=()) -> dict:
    return runner.run(scenario, [case.inputs], rules, [case.device])[0]


@lru_cache(maxsize=None)
def grader(reference: str, variants: tuple[Variant, ...]) -> "Grader":
    """The `Grader` of a notebook, shared by every learner this process grades (its caches are theirs too)."""
    return Grader(reference, list(variants))


class Grader:
    """The trusted side of one notebook's checks: its cases, the reference's outputs and the mistakes, cached."""

    def __init__(self, reference: str, variants: list[Variant]):
        self.reference = reference
        self.variants = variants
        self._expected: dict = {}
        self._mistaken: dict = {}
        self._cases: dict = {}
        self._ref = InProcess(namespace(reference))

    def expected(self, check: Check, i: int, case) -> dict:
        key = (check.grade_id, i)
        if key not in self._expected:
            answer = _one(self._ref, check.scenario, case)
            if "error" in answer:
                raise RuntimeError(f"the reference fails {check.grade_id} on {case.label}: {answer['error']}")
            self._expected[key] = answer["outputs"]
        return self._expected[key]

    def cases(self, check: Check) -> list:
        """The check's cases, made once (they are the same for every learner)."""
        if check.grade_id not in self._cases:
            with torch._C.DisableTorchFunction():
                self._cases[check.grade_id] = check.cases()
        return self._cases[check.grade_id]

    def mistakes(self, check: Check) -> list[Variant]:
        return [v for v in self.variants if v.answer in check.answers and check.grade_id in v.loses]

    def mistaken(self, v: Variant, check: Check, i: int, case) -> dict | None:
        key = (v, check.grade_id, i)
        if key not in self._mistaken:
            answer = _one(InProcess(namespace(self.reference, (v,))), check.scenario, case)
            self._mistaken[key] = answer.get("outputs")
        return self._mistaken[key]

    def grade(self, check: Check, runner, flags: list[str] = ()) -> Record:
        """Run `check` through `runner`; the record of what it found (`flags`: reasons to grade by hand)."""
        record = Record(check.grade_id, check.title, max_points=check.points)
        found: list[str] = []
        cases = self.cases(check)
        answers = runner.run(check.scenario, [c.inputs for c in cases], check.forbidden, [c.device for c in cases])
        for i, case in enumerate(cases):
            answer = answers[i] if isinstance(answers, list) and i < len(answers) else {
                "error": {"kind": "raised", "message": "the grader got no answer for this case"}}
            record.checks += 1
            found += [label for label in answer.get("found", ()) if label not in found]
            if found:  # flagged, whatever the other cases give (the sandbox stopped at this one)
                break
            error = answer.get("error")
            if error and error.get("kind") == "not answered":
                record.status, record.message = NOT_ANSWERED, not_answered_message(str(error.get("message", "")))
                break
            if error:
                failure = Comparison(case.label, False, str(error.get("message", "failed"))[:500])
                if error.get("kind") == "gone":  # no kernel to run the other cases in
                    record.failed += 1
                    record.failures.append(failure)
                    break
            else:
                try:
                    with torch._C.DisableTorchFunction():
                        failure = self._compare(check, i, case, answer.get("outputs"), record.failed < DIAGNOSED)
                except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                    # What came back is the learner's to shape: a form the comparison cannot read fails the case.
                    failure = Comparison(case.label, False, "the answer from your notebook did not have the form "
                                                            f"this check reads ({type(exc).__name__}: {exc})"[:300])
            if failure is not None:
                record.failed += 1
                if all(failure.text() != f.text() for f in record.failures):  # one fault found by many cases: once
                    record.failures.append(failure)
        if record.status != NOT_ANSWERED:
            record.status = FAILED if record.failed else PASSED
        record.mistake = next((f.mistake for f in record.failures if f.mistake), None)
        for f in record.failures:
            f.mistake = None if f.mistake == record.mistake else f.mistake
        if found:
            record.flags.append(f"{check.answers[0]} uses {' and '.join(found)}, which this exercise asks you to "
                                "write yourself")
        record.flags += [f for f in flags if f not in record.flags]
        if record.flags:
            record.status = FLAGGED
        record.points = check.points if record.status == PASSED else 0.0
        return record

    def _compare(self, check: Check, i: int, case, outputs, diagnose: bool) -> Comparison | None:
        """The first failing comparison of a case's outputs, with the known mistake it matches; None if all pass."""
        tolerance = {**check.tolerance, **case.tolerance}
        if case.expect is not None:
            return next((c for c in case.expect(outputs, case) if not c.passed), None)
        expected = self.expected(check, i, case)
        if not isinstance(outputs, dict):
            return Comparison(case.label, False, "the grader got no usable answer from your notebook")
        for key in case.keys or tuple(expected):
            if key == "changed":
                if outputs.get("changed"):
                    return Comparison(case.label, False, "it changed its input in place (argument "
                                      f"{', '.join(str(j + 1) for j in outputs['changed'])}): leave the inputs as "
                                      "they were, e.g. write x = x - m, not x -= m")
                continue
            name = OUTPUT_NAMES.get(key, key)
            what = f"{name} for {case.label}" if name else case.label
            c = compare(outputs.get(key), expected[key], what, **tolerance)
            if not c.passed:
                if diagnose:
                    c.mistake = self._diagnose(check, i, case, outputs, tolerance)
                return c
        return None

    def _diagnose(self, check: Check, i: int, case, outputs: dict, tolerance: dict) -> str | None:
        """The names of the known mistakes whose outputs these are ("a or b" when several give the same)."""
        names = []
        for v in self.mistakes(check):
            theirs = self.mistaken(v, check, i, case)
            if theirs is not None and all(compare(outputs.get(k), theirs.get(k), k, **tolerance).passed
                                          for k in case.keys or tuple(theirs) if k != "changed"):
                names.append(v.name)
        return " or ".join(names) or None
