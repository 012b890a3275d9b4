"""Scenarios every notebook uses: call a function, build and run a module, read a value."""
from __future__ import annotations

import torch

from ..channel import Described
from ..learner import LearnerError, NotAnswered, name_of
from . import scenario

NO_GRADIENT = Described("no gradient", "the result does not require grad: don't detach it, call .item() or "
                                       ".tolist() on it, or build it from .data or numpy")


def snapshot(values) -> list:
    """Copies of the tensors among `values`, to tell afterwards whether a call changed them in place."""
    return [v.detach().clone() if isinstance(v, torch.Tensor) else None for v in values]


def changed(before: list, values) -> list[int]:
    """Indices of the tensors among `values` whose contents differ from their `snapshot`."""
    out = []
    for i, (old, new) in enumerate(zip(before, values)):
        if old is None or not isinstance(new, torch.Tensor):
            continue
        new = new.detach()
        if old.shape != new.shape or not bool(((old == new) | (old.isnan() & new.isnan())).all()
                                               if old.is_floating_point() else (old == new).all()):
            out.append(i)
    return out


def gradients(y, upstream, wrt: list):
    """The gradients of sum(y * upstream) with respect to the tensors `wrt` (None for one that gets none);
    `NO_GRADIENT` when `y` is not a tensor that requires grad."""
    if not isinstance(y, torch.Tensor) or not y.requires_grad:
        return NO_GRADIENT
    if upstream is None:
        upstream = torch.ones_like(y)
    if upstream.shape != y.shape:
        raise LearnerError(f"the result has shape {tuple(y.shape)}, expected {tuple(upstream.shape)}")
    (y * upstream.to(y.dtype)).sum().backward()
    return [t.grad for t in wrt]


@scenario
def call(learner, device, fn: str, args=(), kwargs=None, grad=(), upstream=None):
    """{"y": fn(*args, **kwargs), "changed": the tensor args it changed in place}; with `grad` (indices of
    args), also "grad": the gradients of sum(y * upstream) with respect to those args."""
    f = learner.get(fn)
    args = [a.detach().clone().requires_grad_() if i in grad else a for i, a in enumerate(args)]
    before = snapshot(args)
    y = learner.call(f, *args, **(kwargs or {}))
    out = {"y": y, "changed": changed(before, args)}
    if grad:
        out["grad"] = gradients(y, upstream, [args[i] for i in grad])
    return out


def build(learner, cls: str, args=(), kwargs=None, seed: int = 0):
    """The learner's module `cls(*args, **kwargs)`, made after seeding torch's generator with `seed`."""
    torch.manual_seed(seed)
    module = learner.call(learner.get(cls), *args, **(kwargs or {}))
    if not isinstance(module, torch.nn.Module):
        raise LearnerError(f"{cls}(...) gave a {type(module).__name__}, not an nn.Module")
    return module


def load(learner, module, state: dict) -> None:
    """Load `state` into `module` (strictly), with a message that says which names or shapes differ."""
    try:
        learner.call(module.load_state_dict, state)
    except LearnerError as exc:
        mine = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        want = {k: tuple(v.shape) for k, v in state.items()}
        raise LearnerError(f"{name_of(type(module))}'s state_dict has {mine}, expected {want}: "
                           f"name and shape each parameter as the exercise says ({exc})") from None


def structure(module) -> dict:
    """The parameters (name → shape, and whether each is an nn.Parameter), children (name → type) of a module."""
    return {"parameters": {n: list(p.shape) for n, p in module.named_parameters()},
            "children": {n: f"{type(c).__module__}.{type(c).__qualname__}" for n, c in module.named_children()}}


@scenario
def module(learner, device, cls: str, args=(), kwargs=None, seed=0, dtype=None, state=None, inputs=None,
           upstream=None, train=True, report=("structure",)):
    """Build the learner's module `cls(*args, **kwargs)`; optionally load `state`, run `inputs` through it
    and backpropagate sum(y * upstream). Outputs, by `report`: "structure", "y", "grads" (name → .grad),
    "state_dict", "weights" (name → the parameters' values), "is_module"."""
    m = build(learner, cls, args, kwargs, seed)
    out = {"structure": structure(m)} if "structure" in report else {}
    if state is not None:
        load(learner, m, state)
    m.to(device=device, dtype=dtype and getattr(torch, dtype))
    m.train(train)
    if "weights" in report:
        out["weights"] = {n: p.detach() for n, p in m.named_parameters()}
    if inputs is not None:
        y = learner.call(m, *inputs)
        out["y"] = y
        if upstream is not None or "grads" in report:
            grads = gradients(y, upstream, [p for _, p in m.named_parameters()])
            out["grads"] = grads if grads is NO_GRADIENT else dict(zip([n for n, _ in m.named_parameters()], grads))
    if "state_dict" in report:
        out["state_dict"] = dict(m.state_dict())
    return out


@scenario
def value(learner, device, name: str):
    """The value of the notebook's variable `name` (a questionnaire's answer, say); not answered while unset."""
    if name not in learner.namespace:
        raise NotAnswered(name)
    return {"value": learner.namespace[name]}
