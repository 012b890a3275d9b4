"""Scenarios of 08_entity_embeddings: fastai's embedding-size rule over many sizes, and the two models'
layout and forward pass (outputs, gradients and BatchNorm's running statistics) with a given state."""
from __future__ import annotations

import torch

from ..channel import Described
from ..learner import LearnerError
from . import scenario
from .basic import build, gradients, load

MISSING = "missing (define it in __init__ as self.<name> = ...)"
# The forward pass's first output, named for the learner's messages: what the state to load holds.
LAYOUT = "the names and shapes in its state_dict"
NOT_RUN = Described("not run", "not run: its state_dict's names or shapes differ from the exercise's")


@scenario
def sizes(learner, device, ns):
    """{"y": {"emb_sz_rule(n)": the learner's emb_sz_rule(n)} for each n of `ns`}."""
    f = learner.get("emb_sz_rule")
    return {"y": {f"emb_sz_rule({n})": learner.call(f, n) for n in ns}}


def _shape(t) -> str:
    return "(" + ", ".join(map(str, t.shape)) + ("," if t.dim() == 1 else "") + ")" if isinstance(t, torch.Tensor) \
        else type(t).__name__


def _type(m) -> str:
    t = type(m)
    return t.__name__ if t.__module__.startswith("torch.nn") else f"{t.__module__}.{t.__qualname__}"


def _describe(m) -> str:
    """One line for a module: `Linear(in_features=8, out_features=1, bias=True)`, `ReLU`, `Sequential of 3`."""
    if not isinstance(m, torch.nn.Module):
        return (f"a {type(m).__name__}, not an nn.Module (PyTorch registers the parameters of modules only: use "
                "nn.ModuleList or nn.Sequential)")
    if isinstance(m, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)):
        return f"{_type(m)} of {len(m)}"
    if isinstance(m, torch.nn.ReLU):  # inplace or not, the same function
        return "ReLU"
    return f"{_type(m)}({m.extra_repr()})"


def layout(module, names) -> dict:
    """name → one line, for each submodule `names` (and what each holds): the exercise's layout."""
    out = {}
    for name in names:
        sub = getattr(module, name, None)
        out[name] = MISSING if sub is None else _describe(sub)
        if isinstance(sub, torch.nn.Module):
            for path, child in sub.named_modules(prefix=name):
                if path != name:
                    out[path] = _describe(child)
    return out


@scenario
def structure(learner, device, cls, args=(), kwargs=None, names=()):
    """{"structure": the layout of the learner's `cls(*args, **kwargs)`'s submodules `names`}."""
    m = build(learner, cls, args, kwargs)
    return {"structure": layout(m, names)}


@scenario
def forward(learner, device, cls, args=(), kwargs=None, state=None, inputs=(), upstream=None, dtype=None,
            train=True):
    """Build `cls(*args, **kwargs)`, load `state`, move it to `device` and `dtype`, set train or eval mode, run
    `inputs` through it and backpropagate sum(y * upstream). {"y", "grads" (name → .grad), "state_dict" (after
    the forward pass: BatchNorm's running statistics)}."""
    m = build(learner, cls, args, kwargs)
    mine = {k: _shape(v) for k, v in m.state_dict().items()}
    if mine != {k: _shape(v) for k, v in state.items()}:
        # Nothing to compare but the layout: the message says which names or shapes differ, and a known
        # mistake with the same layout is named.
        return {LAYOUT: mine, "y": NOT_RUN, "grads": NOT_RUN, "state_dict": NOT_RUN}
    load(learner, m, state)
    m.to(device=device, dtype=getattr(torch, dtype) if dtype else None)
    m.train(train)
    y = learner.call(m, *inputs)
    if not isinstance(y, torch.Tensor):
        raise LearnerError(f"{type(m).__name__}(...)(x) gave a {type(y).__name__}, not a tensor")
    names = [n for n, _ in m.named_parameters()]
    if upstream is not None and y.shape != upstream.shape:
        # `y` fails on its shape, which the message says; its gradients would say nothing more
        grads = Described("no gradient", f"not computed: the result has shape {tuple(y.shape)}")
    else:
        grads = gradients(y, upstream, [p for _, p in m.named_parameters()])
        if isinstance(grads, list):
            grads = dict(zip(names, grads))
    return {LAYOUT: mine, "y": y.detach(), "grads": grads, "state_dict": {k: v.detach() for k, v in m.state_dict().items()}}
