"""The grader's agent inside the learner's sandboxed kernel: run one scenario per request, as data.

The trusted grader writes a request into the folder it shares with the sandbox
(`<id>.json`: the scenario's name, the forbidden-call rules, each case's device; `<id>.inputs.json`
and `<id>.inputs.safetensors`: the inputs of every case of one check) and asks the kernel to run
`serve(folder, id)`. The answers are written beside it (`<id>.out.json`, `<id>.out.safetensors`):
per case, the scenario's outputs or the learner's error, and the forbidden things seen. The grader trusts none of it: it validates
every value and compares it itself. Runs inside the sandbox only (sent there as source).
"""
from __future__ import annotations

import json
import os

from . import channel, scenarios
from .learner import Learner, LearnerError, NotAnswered, short_error


def _namespace() -> dict:
    from IPython import get_ipython
    return get_ipython().user_ns


def _write(folder: str, rid: str, value) -> None:
    doc, blob = channel.encode(value)
    for suffix, data in ((".out.safetensors", blob), (".out.json", doc)):  # the JSON last: it says "done"
        tmp = os.path.join(folder, f"{rid}{suffix}.part")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, os.path.join(folder, rid + suffix))


def serve(folder: str, rid: str) -> None:
    """Run request `rid` from `folder` (one scenario over a batch of cases) and write its answers there."""
    with open(os.path.join(folder, f"{rid}.json")) as fh:
        request = json.load(fh)
    with open(os.path.join(folder, f"{rid}.inputs.json"), "rb") as fh:
        doc = fh.read()
    blob_path = os.path.join(folder, f"{rid}.inputs.safetensors")
    blob = open(blob_path, "rb").read() if os.path.exists(blob_path) else b""
    batch = channel.decode(doc, blob, device="cpu")
    _write(folder, rid, run_all(request["scenario"], batch, request["devices"], _namespace(),
                                request.get("forbidden", ())))


def run_all(scenario: str, batch: list, devices: list, namespace: dict, rules) -> list:
    """The answers to a batch of cases, in order; after a case that is not answered or uses something forbidden,
    the rest are not run."""
    answers = []
    for inputs, device in zip(batch, devices):
        answers.append(run(scenario, channel.to_device(inputs, device), Learner(namespace, rules), device))
        if answers[-1].get("error", {}).get("kind") == "not answered" or answers[-1]["found"]:
            break  # the other cases would not change the verdict
    return answers


def run(scenario: str, inputs: dict, learner: Learner, device: str) -> dict:
    """The answer to one request: {"outputs": ...} or {"error": {...}}, with "found"."""
    try:
        outputs = scenarios.get(scenario)(learner, device=device, **inputs)
        answer = {"outputs": outputs}
    except NotAnswered as exc:
        answer = {"error": {"kind": "not answered", "message": exc.name}}
    except LearnerError as exc:
        answer = {"error": {"kind": "raised", "message": str(exc)}}
    except Exception as exc:  # the scenario could not use what the learner's code gave it
        answer = {"error": {"kind": "raised", "message": f"its result could not be used: {short_error(exc)}"}}
    answer["found"] = list(learner.found)
    return answer
