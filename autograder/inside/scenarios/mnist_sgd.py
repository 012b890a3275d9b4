"""Scenarios of 06_mnist_sgd: the models' layout, `update`, `fit` and `accuracy` on stand-in models and
loaders, a short training run on real digits, and backpropagation by hand through a two-layer net.

`update`, `fit` and `accuracy` must work on any model, so they run on models made here (other names,
a tanh, a layer the loss never uses, a layer that joins late, scores that change in training mode),
built from a seed or a state on the CPU, then moved: the learner's run and the reference's start
from the same numbers. Data loaders are built here from plain tensors: a `DataLoader` whose last
batch is smaller, one shuffled by a seeded generator, or a plain list of `(x, y)` batches.
"""
from __future__ import annotations

import torch
from torch import nn

from ..learner import LearnerError
from . import scenario
from .basic import NO_GRADIENT, build, changed, gradients, load, snapshot


# ---------------------------------------------------------------------------- stand-in models

class Net(nn.Module):
    """A one-hidden-layer net that is not the learner's (other names, a tanh): update and fit must work on any
    model. `unused` adds a layer the loss never sees (its gradients stay None); `late` one that joins the
    output from the second forward on (its first gradient arrives a step after the others')."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int, unused: bool = False, late: bool = False):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)
        self.unused = nn.Linear(n_in, n_out) if unused else None
        self.late = nn.Linear(n_in, n_out) if late else None
        self.calls = 0

    def forward(self, x):
        y_hat = self.out(torch.tanh(self.hidden(x)))  # (B, n_out)
        if self.late is not None and self.calls > 0:
            y_hat = y_hat + self.late(x)
        self.calls += 1
        return y_hat


class Scores(nn.Module):
    """Fixed linear scores x @ W.T that come out negated in training mode, as dropout changes a model's
    output there: an accuracy computed without model.eval() differs."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        self.lin = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(weight)

    def forward(self, x):
        y_hat = self.lin(x)  # (B, n_out)
        return -y_hat if self.training else y_hat


class TwoLayer(nn.Module):
    """lin1, ReLU, lin2: an MnistNN that is not the learner's, for mlp_backward."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(torch.relu(self.lin1(x)))  # (B, n_out)


def _net(spec: dict, device: str, dtype: str) -> Net:
    """The stand-in Net of `spec` ({"sizes": [...], "seed": 0, "unused": bool, "late": bool}), on `device`."""
    torch.manual_seed(spec.get("seed", 0))
    net = Net(*spec["sizes"], unused=spec.get("unused", False), late=spec.get("late", False))
    return net.to(device=device, dtype=getattr(torch, dtype))


def _optimizer(params, spec: dict):
    """A torch.optim optimizer from `spec` ({"name": "Adam", "kwargs": {"lr": 0.01}}), made once, here."""
    return getattr(torch.optim, spec["name"])(params, **spec.get("kwargs", {}))


class _Steps:
    """Counts opt.step() calls (a post-step hook on the optimizer passed in)."""

    def __init__(self, opt):
        self.n = 0
        opt.register_step_post_hook(self._hook)

    def _hook(self, *_):
        self.n += 1


def _loader(data: dict, dtype: str | None = None):
    """The batches of `data`, from CPU tensors (the learner's code moves them to the model's device).

    kind "loader": a DataLoader in order (the last batch smaller); "sampler": shuffled by a sampler with its
    own seeded generator (drawn when a pass yields its first batch, so an iterator made and never used, as
    `tqdm(train_dl)` makes one, changes nothing); "batches": the same batches, each indexed at once rather
    than collated example by example (faster); "shuffle": `shuffle=True, generator=...`, as a notebook writes
    it (each iterator made draws from that generator: only for code whose result does not depend on the
    order); "list": a plain list of (x, y) batches of the sizes given."""
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset
    x, y = data["x"].detach().cpu(), data["y"].detach().cpu()
    if x.dtype == torch.uint8:  # pixels: scaled to [0, 1] here (they cross the channel as bytes)
        x = x.float() / 255
    if dtype is not None:
        x = x.to(getattr(torch, dtype))
    kind, bs = data.get("kind", "loader"), data.get("batch_size", 16)
    if kind == "list":
        batches, start = [], 0
        for size in data["sizes"]:
            batches.append((x[start:start + size], y[start:start + size]))
            start += size
        return batches
    ds = TensorDataset(x, y)
    seed = data.get("seed", 0)
    if kind in ("sampler", "batches"):
        sampler = RandomSampler(ds, generator=torch.Generator().manual_seed(seed))
        if kind == "batches":
            return DataLoader(ds, sampler=BatchSampler(sampler, bs, drop_last=False), batch_size=None)
        return DataLoader(ds, batch_size=bs, sampler=sampler)
    if kind == "shuffle":
        return DataLoader(ds, batch_size=bs, shuffle=True, generator=torch.Generator().manual_seed(seed))
    return DataLoader(ds, batch_size=bs)


def _params(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _state(opt, model) -> dict:
    """The optimizer's state by parameter name: {name: {"exp_avg": ..., "step": ...}}."""
    names = {id(p): n for n, p in model.named_parameters()}
    return {names.get(id(p), "?"): {k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in s.items()}
            for p, s in opt.state.items()}


def _shape(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# ---------------------------------------------------------------------------- the models

@scenario
def model(learner, device, cls: str, args=(), kwargs=None, state=None, x=None, upstream=None, dtype="float32"):
    """The learner's `cls(*args, **kwargs)`: its parameters (name → shape) and its layers with parameters
    (name → type), which is what its state_dict and the lesson's attribute names depend on; with `state`
    (the reference's state_dict), loaded into it, on `device` in `dtype`: "y" = model(x), and "grads", the
    gradients of sum(y * upstream) with respect to its parameters (by name)."""
    m = build(learner, cls, args, kwargs)
    layers = {}
    for name, child in m.named_children():
        if any(True for _ in child.parameters()):
            layers[name] = "nn.Linear" if isinstance(child, nn.Linear) else type(child).__name__
    out = {"its parameters": {n: _shape(p.shape) for n, p in m.named_parameters()}, "its layers": layers}
    if state is not None:
        load(learner, m, state)
        m.to(device=device, dtype=getattr(torch, dtype))
        y = learner.call(m, x)
        out["y"] = y
        names = [n for n, _ in m.named_parameters()]
        grads = gradients(y, upstream, [p for _, p in m.named_parameters()])
        out["grads"] = grads if grads is NO_GRADIENT else dict(zip(names, grads))
    return out


# ---------------------------------------------------------------------------- update, fit, accuracy

@scenario
def update(learner, device, model: dict, optimizer: dict, batches: list, loss: dict | None = None,
           dtype: str = "float32", zero_grads: bool = False):
    """len(batches) calls of the learner's update(net, opt, loss_func, x, y) with one optimizer made here.

    After each call: the steps the optimizer passed in has taken, the loss returned, the parameters, and
    whether the gradients are zeroed (zeros or None); at the end, the optimizer's state. `zero_grads`: the
    parameters start with zero gradients (as `zero_grad(set_to_none=False)` leaves them), not None."""
    fn = learner.get("update")
    net = _net(model, device, dtype)
    if zero_grads:
        for p in net.parameters():
            p.grad = torch.zeros_like(p)
    opt = _optimizer(net.parameters(), optimizer)
    steps = _Steps(opt)
    loss_func = nn.CrossEntropyLoss(**(loss or {}))
    out = {"steps taken by opt": [], "the losses it returned": [], "the parameters after each call": [],
           "gradients zeroed after each call": []}
    for x, y in batches:
        value = learner.call(fn, net, opt, loss_func, x, y)
        out["steps taken by opt"].append(steps.n)
        out["the losses it returned"].append(value)
        out["the parameters after each call"].append(_params(net))
        out["gradients zeroed after each call"].append(
            all(p.grad is None or not bool(p.grad.detach().any()) for p in net.parameters()))
    out["opt.state afterwards"] = _state(opt, net)
    return out


@scenario
def fit(learner, device, model: dict, optimizer: dict, data: dict, epochs: int, dtype: str = "float32"):
    """The learner's fit(net, opt, nn.CrossEntropyLoss(), loader, epochs) on a stand-in net: the losses it
    returns, the steps the optimizer passed in took, the parameters afterwards."""
    fn = learner.get("fit")
    net = _net(model, device, dtype)
    opt = _optimizer(net.parameters(), optimizer)
    steps = _Steps(opt)
    losses = learner.call(fn, net, opt, nn.CrossEntropyLoss(), _loader(data, dtype), epochs)
    return {"the losses it returned": losses, "steps taken by opt": steps.n, "the parameters afterwards": _params(net)}


@scenario
def accuracy(learner, device, weight: torch.Tensor, data: dict, dtype: str = "float32"):
    """The learner's accuracy(model, loader) of fixed scores (negated in training mode), handed over in
    training mode."""
    fn = learner.get("accuracy")
    model = Scores(weight.detach().cpu()).to(device=device, dtype=getattr(torch, dtype)).train()
    return {"y": learner.call(fn, model, _loader(data, dtype))}


@scenario
def training(learner, device, cls: str, optimizer: dict, train: dict, x_valid: torch.Tensor, y_valid: torch.Tensor,
             epochs: int, bar: float, seed: int = 0):
    """The learner's cls(n_in=...) trained by the learner's fit on `train`; its accuracy on the valid digits
    (computed here, in eval mode), up to `bar`: any accuracy that reaches the bar reads as the bar."""
    x_valid = (x_valid.float() / 255 if x_valid.dtype == torch.uint8 else x_valid).to(device)
    model = build(learner, cls, (), {"n_in": x_valid.shape[1]}, seed).to(device)
    opt = _optimizer(model.parameters(), optimizer)
    learner.call(learner.get("fit"), model, opt, nn.CrossEntropyLoss(), _loader(train), epochs)
    learner.call(model.eval)
    with torch.no_grad():
        scores = learner.call(model, x_valid)
    if not isinstance(scores, torch.Tensor) or tuple(scores.shape) != (len(y_valid), 10):
        raise LearnerError(f"{cls} gave {type(scores).__name__} "
                           f"{tuple(scores.shape) if isinstance(scores, torch.Tensor) else ''} for "
                           f"{len(y_valid)} digits, expected a ({len(y_valid)}, 10) tensor of scores")
    acc = (scores.argmax(1) == y_valid.to(scores.device)).double().mean().item()
    return {"y": min(round(acc, 6), bar)}


# ---------------------------------------------------------------------------- backpropagation by hand

@scenario
def mlp_backward(learner, device, sizes: list, state: dict, x: torch.Tensor, y: torch.Tensor, dtype: str = "float32"):
    """The learner's mlp_backward(net, x, y) on a lin1-ReLU-lin2 net loaded with `state`; "changed": the
    inputs (x, y) it changed in place."""
    fn = learner.get("mlp_backward")
    net = TwoLayer(*sizes)
    net.load_state_dict(state)
    net.to(device=device, dtype=getattr(torch, dtype))
    args = [net, x, y]
    before = snapshot(args)
    grads = learner.call(fn, *args)
    return {"y": grads, "changed": changed(before, args)}
