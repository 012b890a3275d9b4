"""Scenarios of 03_weight_decay: the penalty of some tensors, and steps of an update on a model built here.

The model is built inside the sandbox from a plain spec and the state the case carries, so nothing of
the learner's crosses back but values: the penalty and its gradients, the losses the update returned,
the parameters after each step, and whether the gradients were zeroed.
"""
from __future__ import annotations

import torch

from . import scenario
from .basic import gradients


def model_of(spec: dict) -> torch.nn.Module:
    """The model a spec names (float32, PyTorch's initialisation; the case's state replaces it):
    {"kind": "linear", "n_in": 5, "n_out": 3}, {"kind": "mlp", "sizes": [4, 8, 1], "act": "tanh"},
    {"kind": "embedding", "n": 10, "d": 3, "k": 2} (k indices per row, embedded, flattened, then a linear layer)."""
    nn = torch.nn
    kind = spec["kind"]
    if kind == "linear":
        return nn.Linear(spec["n_in"], spec["n_out"], bias=spec.get("bias", True))
    if kind == "mlp":
        act = {"tanh": nn.Tanh, "relu": nn.ReLU}[spec.get("act", "relu")]
        layers: list = []
        sizes = spec["sizes"]
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [act()] if i else []
            layers.append(nn.Linear(a, b))
        return nn.Sequential(*layers)
    if kind == "embedding":
        n, d, k = spec["n"], spec["d"], spec["k"]
        return nn.Sequential(nn.Embedding(n, d), nn.Flatten(), nn.Linear(d * k, 1), nn.Flatten(0))
    raise ValueError(f"unknown model kind {kind!r}")


def build(spec: dict, state: dict, device, dtype: str) -> torch.nn.Module:
    """`model_of(spec)` in `dtype` on `device`, holding `state`, with the parameters `spec["frozen"]` frozen."""
    model = model_of(spec).to(device=device, dtype=getattr(torch, dtype))
    model.load_state_dict(state)  # copied into the parameters' dtype: float64 states keep every digit
    for name in spec.get("frozen", ()):
        model.get_parameter(name).requires_grad_(False)
    return model


def loss_function(name: str):
    """A loss function by name: "mse" (nn.MSELoss()), "cross_entropy" (F.cross_entropy), "l1" (hand-written)."""
    if name == "mse":
        return torch.nn.MSELoss()
    if name == "cross_entropy":
        return torch.nn.functional.cross_entropy
    if name == "l1":
        def l1(y_hat, y):
            return (y_hat - y).abs().mean()
        return l1
    raise ValueError(f"unknown loss {name!r}")


@scenario
def penalty(learner, device, wd, params=None, model=None, state=None, dtype="float32"):
    """l2_penalty over `params` (tensors, passed as a generator, as model.parameters() is), or over the
    parameters of the model `model` holding `state`. Outputs "y" (the penalty) and "grad" (its gradient
    with respect to each tensor)."""
    if model is not None:
        m = build(model, state, device, dtype)
        wrt, given = list(m.parameters()), m.parameters()
    else:
        wrt = [p.detach().clone().requires_grad_() for p in params]
        given = (p for p in wrt)
    y = learner.call(learner.get("l2_penalty"), given, wd)
    return {"y": y, "grad": gradients(y, None, wrt)}


@scenario
def steps(learner, device, fn, model, state, batches, lr, wd=None, loss="mse", dtype="float32", grads_before=None):
    """Build the model, then call fn(model, loss_func, x, y, lr, wd=wd) once per (x, y) of `batches` (wd left
    out when None). `grads_before="zeros"`: every parameter holds a zero gradient before the first step, as
    after `zero_grad(set_to_none=False)`. Outputs: "the parameters" ({"after step k": {name: value}}), "the
    returned loss" ({"step k": what the call returned}), "the gradients zeroed after each step" (every .grad
    None or zeros after every step)."""
    update = learner.get(fn)
    m = build(model, state, device, dtype)
    if grads_before == "zeros":
        for p in m.parameters():
            if p.requires_grad:
                p.grad = torch.zeros_like(p)
    loss_func = loss_function(loss)
    kwargs = {} if wd is None else {"wd": wd}
    params, losses, zeroed = {}, {}, True
    for k, (x, y) in enumerate(batches, start=1):
        losses[f"step {k}"] = learner.call(update, m, loss_func, x, y, lr, **kwargs)
        params[f"after step {k}"] = {n: p.detach().clone() for n, p in m.named_parameters()}
        zeroed = zeroed and all(p.grad is None or not bool(p.grad.detach().any()) for p in m.parameters())
    return {"the parameters": params, "the returned loss": losses, "the gradients zeroed after each step": zeroed}
