"""Scenarios of 05_cross_entropy: call a function on logits as a model would hand them over.

Like `basic.call`, but the tensor whose gradient is taken reaches the learner as a non-leaf (a copy of a
leaf, as a model's output is), so an answer that works on its input in place still runs; and instead of
"changed", the inputs themselves after the call are an output, compared with the reference's (unchanged)
ones, so that an answer which overwrites the caller's logits is told so, and named as that mistake.
"""
from __future__ import annotations

import torch

from ..channel import Described
from . import scenario
from .basic import gradients

AFTER = "the input tensors after the call (leave them as they were)"
WRONG_SHAPE = Described("no gradient", "the result's shape is wrong, so its gradient was not compared")


@scenario
def call(learner, device, fn: str, args=(), kwargs=None, grad=(), upstream=None):
    """{"y": fn(*args, **kwargs), AFTER: the tensor args afterwards}; with `grad` (indices of args), also
    "grad": the gradients of sum(y * upstream) with respect to those args."""
    f = learner.get(fn)
    leaves = {i: args[i].detach().clone().requires_grad_() for i in grad}
    args = [leaves[i].clone() if i in leaves else a for i, a in enumerate(args)]
    y = learner.call(f, *args, **(kwargs or {}))
    out = {"y": y, AFTER: [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]}
    if grad and upstream is not None and getattr(y, "shape", None) != upstream.shape:
        out["grad"] = WRONG_SHAPE  # the values' comparison says how the shape differs
    elif grad:
        out["grad"] = gradients(y, upstream, [leaves[i] for i in grad])
    return out
