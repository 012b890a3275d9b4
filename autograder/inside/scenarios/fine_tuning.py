"""Scenarios of 07_fine_tuning: small models built from plain descriptions, the learner's transfer-learning
functions called on them, and what they did reported as data (booleans of identity, requires_grad, the lr
of every layer group at every optimizer step, states).

A model description is a list: `["linear", d_in, d_out]` (`[..., False]` without bias), `["relu"]`,
`["tanh"]`, `["seq", [description, ...]]` (an `nn.Sequential`) or `["net", {name: description, ...}]`
(a model class whose named children run in order, as a hand-written `nn.Module` with attributes).
Models cross as descriptions and state_dicts; what the learner's code returns never leaves this module.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..learner import LearnerError
from . import scenario


class Net(nn.Module):
    """A model with named children (body, head...) applied in order."""

    def __init__(self, children: dict):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)

    def forward(self, x):
        for child in self.children():
            x = child(x)
        return x


def make(spec) -> nn.Module:
    """The model a description stands for (its parameters initialised by PyTorch)."""
    kind, *args = spec
    if kind == "linear":
        return nn.Linear(args[0], args[1], bias=args[2] if len(args) > 2 else True)
    if kind == "relu":
        return nn.ReLU()
    if kind == "tanh":
        return nn.Tanh()
    if kind == "seq":
        return nn.Sequential(*[make(s) for s in args[0]])
    if kind == "net":
        return Net({name: make(s) for name, s in args[0].items()})
    raise ValueError(f"unknown model description {spec!r}")


def build(spec, state: dict, device: str, dtype: str = "float32") -> nn.Module:
    """The described model on `device` in `dtype`, holding `state`."""
    model = make(spec).to(device=device, dtype=getattr(torch, dtype))
    model.load_state_dict(state)
    return model


def last_linear(model: nn.Module) -> str:
    """The name of the model's last nn.Linear ("head", "layers.4")."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]


def _module(out, what: str) -> nn.Module:
    if not isinstance(out, nn.Module):
        raise LearnerError(f"{what} returned {type(out).__name__}, not the module: end it with `return` and the module")
    return out


@scenario
def freezing(learner, device, fn: str, spec, state: dict, target: str, x, y, dtype="float32", frozen=(), steps=2):
    """`fn(model.get_submodule(target))` for fn "freeze" or "unfreeze" (every parameter of the model frozen
    first for "unfreeze", those named in `frozen` for "freeze"); then Adam trains the whole model for `steps`
    steps on (x, y). Outputs: "returns" (it returned the module it was given), "requires_grad" and
    "got_grad" per parameter, "unchanged" (each parameter exactly as before after the steps), "state"."""
    model = build(spec, state, device, dtype)
    for name, p in model.named_parameters():
        if fn == "unfreeze" or name in frozen:
            p.requires_grad_(False)
    sub = model.get_submodule(target)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    out = learner.call(learner.get(fn), sub)
    report = {"returns": out is sub,
              "requires_grad": {n: bool(p.requires_grad) for n, p in model.named_parameters()}}
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    got_grad = {n: False for n, _ in model.named_parameters()}
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        if loss.requires_grad:
            loss.backward()
        for n, p in model.named_parameters():
            got_grad[n] |= p.grad is not None
        opt.step()
        opt.zero_grad()
    report["got_grad"] = got_grad
    report["unchanged"] = {n: bool(torch.equal(p.detach(), before[n])) for n, p in model.named_parameters()}
    report["state"] = {n: t.detach().clone() for n, t in model.state_dict().items()}
    return report


@scenario
def head(learner, device, spec, state: dict, n_out: int, x, dtype="float32", seed=0):
    """`replace_head(model, n_out)`. Outputs: "kept" (each submodule but the old head is the same object as
    before, the model itself included), "structure" (name → type of every submodule afterwards), "head" (the
    new last nn.Linear: its sizes, bias, dtype, device, that it is new, freshly drawn within PyTorch's default
    init bounds and trainable) and "y" (the shape and dtype of the model's output)."""
    model = build(spec, state, device, dtype)
    old = dict(model.named_modules())
    head_name = last_linear(model)
    old_head = old[head_name]
    old_weight, old_bias = old_head.weight.detach().clone(), old_head.bias
    old_bias = None if old_bias is None else old_bias.detach().clone()
    torch.manual_seed(seed)
    out = _module(learner.call(learner.get("replace_head"), model, n_out), "replace_head")
    new = dict(out.named_modules())
    report = {"kept": {n: new.get(n) is m for n, m in old.items() if n != head_name},
              "structure": {n: type(m).__name__ for n, m in new.items()}}
    h = new.get(head_name)
    if not isinstance(h, nn.Linear):
        report["head"] = f"the model has {type(h).__name__ if h is not None else 'nothing'} at {head_name!r}"
    else:
        bound = 1 / math.sqrt(h.in_features)  # nn.Linear's default init draws from U(-bound, bound)
        w = h.weight.detach()
        rows = min(w.shape[0], old_weight.shape[0])
        same_values = w.shape[1] == old_weight.shape[1] and bool(
            torch.equal(w[:rows].to(old_weight.dtype), old_weight[:rows]))
        if h.bias is not None and old_bias is not None and rows:
            same_values = same_values or bool(torch.equal(h.bias.detach()[:rows].to(old_bias.dtype), old_bias[:rows]))
        params = [p for p in (h.weight, h.bias) if p is not None]
        report["head"] = {
            "in_features": h.in_features, "out_features": h.out_features, "bias": h.bias is not None,
            "weight_shape": list(w.shape), "dtype": str(w.dtype).removeprefix("torch."), "device": w.device.type,
            "new_module": h is not old_head, "new_weights": h.weight is not old_head.weight and not same_values,
            "default_init": bool(all((p.detach().abs() <= bound * (1 + 1e-6)).all() for p in params)
                                 and w.abs().max() > (0.5 * bound if w.numel() >= 16 else 0.0)),
            "trainable": all(p.requires_grad for p in params)}
    try:
        with torch.no_grad():
            y = learner.call(out, x)
        report["y"] = {"shape": list(y.shape), "dtype": str(y.dtype).removeprefix("torch.")} \
            if isinstance(y, torch.Tensor) else f"the model returned {type(y).__name__}"
    except LearnerError as exc:  # a head of another dtype or device: say so, as a value the mistakes share
        report["y"] = f"the model with its new head cannot run on {x.dtype} inputs on {x.device.type}: {exc}"
    return report


def _params(group):
    """A param-group dict's "params" as a list (whatever iterable it is), or why it is not one."""
    if not isinstance(group, dict):
        return None, f"a {type(group).__name__}, not a dict with 'params' and 'lr'"
    if "params" not in group:
        return None, f"a dict with the keys {sorted(map(str, group))}: it needs 'params'"
    ps = group["params"]
    if isinstance(ps, torch.Tensor):
        return [ps], ""
    if isinstance(ps, nn.Module):
        return None, "'params' is the module itself: give its parameters, module.parameters()"
    try:
        ps = list(ps)
    except TypeError:
        return None, f"'params' is a {type(ps).__name__}, not an iterable of parameters"
    if not all(isinstance(p, torch.Tensor) for p in ps):
        return None, "'params' holds other things than parameters: give module.parameters()"
    return ps, ""


@scenario
def groups(learner, device, spec, state: dict, names: list, lr, div=None, dtype="float32"):
    """`param_groups([model.get_submodule(n) for n in names], lr[, div])`. Outputs: "type" (of the result),
    "groups" (per dict: its keys, its lr, whether its params are exactly that module's parameters, or why
    they are not usable) and "adam" (the lr of each group of a torch.optim.Adam made from them)."""
    model = build(spec, state, device, dtype)
    modules = [model.get_submodule(n) for n in names]
    kwargs = {} if div is None else {"div": div}
    out = learner.call(learner.get("param_groups"), modules, lr, **kwargs)
    if not isinstance(out, (list, tuple)):
        raise LearnerError(f"param_groups returned {type(out).__name__}, not a list of dicts")
    report = {"type": type(out).__name__, "groups": []}
    usable = []
    for i, g in enumerate(out):
        ps, why = _params(g)
        mine = list(modules[i].parameters()) if i < len(modules) else []
        same = why or (len(ps) == len(mine) and {id(p) for p in ps} == {id(p) for p in mine})
        report["groups"].append({"keys": sorted(str(k) for k in g) if isinstance(g, dict) else [],
                                 "lr": g.get("lr") if isinstance(g, dict) else None, "params": same})
        if ps is not None:
            usable.append({**g, "params": ps})
    if len(usable) < len(out):
        report["adam"] = "not made: a param group is not usable"
        return report
    try:
        opt = torch.optim.Adam(usable)
    except Exception as exc:
        raise LearnerError(f"torch.optim.Adam(param_groups(...)) raised {type(exc).__name__}: {exc}") from None
    report["adam"] = [g["lr"] for g in opt.param_groups]
    return report


LOSSES = {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss}


@scenario
def fine_tune(learner, device, spec, state: dict, names: list, x, y, batch_sizes: list, loader: bool, loss: str,
              epochs: int, base_lr: float, freeze_epochs=None, dtype="float32"):
    """`fine_tune(model, groups, batches, loss_func, epochs, base_lr[, freeze_epochs])` over batches of
    (x, y) of `batch_sizes` (a DataLoader on the CPU when `loader`, else a list on the device), watching every
    optimizer step. Outputs: "steps" (optimizer steps taken), "unchanged" (each body group exactly as it was
    at the end of the frozen phase), "lrs" and "moms" (per step, the lr and beta1 that reached each group's
    parameters; None for a group without gradients), "losses" (as returned), "after_frozen" (the state
    after the frozen phase) and "state" (the final state)."""
    from torch.utils.data import DataLoader, TensorDataset
    model = build(spec, state, device, dtype)
    modules = [model.get_submodule(n) for n in names]
    if loader:
        batches = DataLoader(TensorDataset(x.cpu(), y.cpu()), batch_size=batch_sizes[0], shuffle=False)
    else:
        batches, start = [], 0
        for size in batch_sizes:
            batches.append((x[start:start + size], y[start:start + size]))
            start += size
    n_frozen = (1 if freeze_epochs is None else freeze_epochs) * len(batches)
    initial = [[p.detach().clone() for p in m.parameters()] for m in modules]
    record = {"steps": 0, "lrs": [], "moms": [], "unchanged": None, "after_frozen": None}

    def before_step(opt, args, kwargs):
        where = {id(p): g for g in opt.param_groups for p in g["params"]}
        lrs, moms = [], []
        for m in modules:
            g = next((where.get(id(p)) for p in m.parameters() if p.grad is not None and id(p) in where), None)
            lrs.append(None if g is None else float(g["lr"]))
            moms.append(None if g is None else float(g["betas"][0] if "betas" in g else g.get("momentum", 0.0)))
        record["lrs"].append(lrs)
        record["moms"].append(moms)

    def after_step(opt, args, kwargs):
        record["steps"] += 1
        if record["steps"] == n_frozen:
            record["unchanged"] = [all(torch.equal(p.detach(), q) for p, q in zip(m.parameters(), old))
                                   for m, old in zip(modules[:-1], initial[:-1])]
            record["after_frozen"] = {n: t.detach().clone() for n, t in model.state_dict().items()}

    from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook
    hooks = [register_optimizer_step_pre_hook(before_step), register_optimizer_step_post_hook(after_step)]
    args = [model, modules, batches, LOSSES[loss](), epochs, base_lr] + ([] if freeze_epochs is None else
                                                                           [freeze_epochs])
    try:
        losses = learner.call(learner.get("fine_tune"), *args)
    finally:
        for h in hooks:
            h.remove()
    return {"steps": record["steps"], "unchanged": record["unchanged"], "lrs": record["lrs"],
            "moms": record["moms"], "losses": losses, "after_frozen": record["after_frozen"],
            "state": {n: t.detach().clone() for n, t in model.state_dict().items()}}

