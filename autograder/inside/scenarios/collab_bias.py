"""Scenarios of 02_collab_bias: the model's tables, its forward pass and training, and the functions that read a
trained model (`rmse`, `item_bias_ranking`, `most_similar`), each built from plain inputs inside the kernel.

The models that `rmse`, `item_bias_ranking` and `most_similar` are given are made here, not with the learner's
`DotProductBias`, so that a mistake in the model costs only the model's cells.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..channel import Described
from ..learner import LearnerError, name_of
from . import scenario
from .basic import build, changed, load, snapshot

TABLES = ("user_factors", "item_factors", "user_bias", "item_bias")
NO_GRADIENT = Described("no gradient", "the result does not require grad: don't detach it, call .item() or "
                                       ".tolist() on it, or build it from .data or numpy")
NOT_COMPUTED = Described("no gradient", "not computed: the predictions are not of the right shape")


def _tables(learner, model) -> dict:
    """The model's four tables, with a message a learner can act on when one is missing or is not an embedding."""
    out = {}
    for name in TABLES:
        emb = getattr(model, name, None)
        if emb is None:
            raise LearnerError(f"DotProductBias has no attribute `{name}`: name the tables {', '.join(TABLES)} "
                               "(each self.<name> = nn.Embedding(...) in __init__)")
        if not isinstance(emb, nn.Embedding):
            raise LearnerError(f"`{name}` is a {name_of(type(emb))}, expected an nn.Embedding (it keeps its table "
                               "in `.weight`, which the grader and the notebook read)")
        out[name] = emb
    return out


@scenario
def structure(learner, device, args, kwargs=None):
    """DotProductBias(*args): the shape of each table's weight, its parameters' names, whether it has a forward."""
    model = build(learner, "DotProductBias", args, kwargs)
    tables = _tables(learner, model)
    has_forward = type(model).forward is not nn.Module.forward
    return {"tables": {name: tuple(emb.weight.shape) for name, emb in tables.items()},
            "parameters": sorted(n for n, _ in model.named_parameters()), "forward": has_forward}


@scenario
def init(learner, device, args, seed=0):
    """DotProductBias(*args) made after torch.manual_seed(seed): the std of each table's initial weights."""
    model = build(learner, "DotProductBias", args, seed=seed)
    return {name: {"std": emb.weight.detach().double().std().item()} for name, emb in _tables(learner, model).items()}


@scenario
def forward_shape(learner, device, args, x, seed=0):
    """DotProductBias(*args) on `device`, untouched: its predictions for the batch `x` (values are the init's)."""
    model = build(learner, "DotProductBias", args, seed=seed).to(device)
    _tables(learner, model)
    y = learner.call(model, x)
    return {"y": y}


@scenario
def shapes(learner, device, kind, **inputs):
    """One of `structure`, `init` and `forward_shape`, by `kind`: the cases of one graded cell."""
    return {"structure": structure, "init": init, "forward_shape": forward_shape}[kind](learner, device, **inputs)


@scenario
def forward(learner, device, args, x, state, kwargs=None, dtype=None, upstream=None):
    """DotProductBias(*args, **kwargs) in `dtype` on `device` with `state` loaded: its predictions for `x`, and
    the gradients of sum(y * upstream) with respect to its tables. A model that cannot be built, loaded or run
    gives its message as the predictions, so that the grader can still say which known mistake it is."""
    try:
        model = build(learner, "DotProductBias", args, kwargs)
        _tables(learner, model)
        model.to(device=device, dtype=dtype and getattr(torch, dtype))
        load(learner, model, state)
        before = snapshot([x])
        y = learner.call(model, x)
    except LearnerError as exc:
        return {"y": Described("an error", str(exc)), "changed": [], "grads": NOT_COMPUTED}
    out = {"y": y, "changed": changed(before, [x])}
    if not isinstance(y, torch.Tensor) or not y.requires_grad:
        out["grads"] = NO_GRADIENT
    elif upstream is None or y.shape != upstream.shape:
        out["grads"] = NOT_COMPUTED
    else:
        (y * upstream.to(y.dtype)).sum().backward()
        out["grads"] = {n: p.grad for n, p in model.named_parameters()}
    return out


def training(model, x, y, bs, steps, lr):
    """Adam on the MSE, in batches of `bs` in a fixed order (the last one smaller), for `steps` steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xs, ys = x.split(bs), y.split(bs)
    for step in range(steps):
        loss = ((model(xs[step % len(xs)]) - ys[step % len(ys)]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@scenario
def trains(learner, device, args, x, y, x_valid, y_valid, bs, steps, lr=0.1, seed=0):
    """DotProductBias(*args) trained by Adam on (x, y) in batches of `bs`: its validation RMSE, the RMSE of
    predicting the mean, and its learned item biases."""
    model = build(learner, "DotProductBias", args, seed=seed).to(device)
    tables = _tables(learner, model)
    y_hat = learner.call(model, x[:4])
    if not isinstance(y_hat, torch.Tensor) or tuple(y_hat.shape) != (4,):
        shape = tuple(y_hat.shape) if isinstance(y_hat, torch.Tensor) else type(y_hat).__name__
        raise LearnerError(f"forward gives {shape} for a batch of 4, expected (4,): training on it would "
                           "broadcast every prediction against every rating (squeeze the (B, 1) biases)")
    torch.manual_seed(seed)
    learner.call(training, model, x, y, bs, steps, lr)
    with torch.no_grad():
        y_hat = learner.call(model, x_valid)
        if not isinstance(y_hat, torch.Tensor) or y_hat.shape != y_valid.shape:
            raise LearnerError(f"after training, forward gives {describe(y_hat)} for {len(x_valid)} rows, "
                               f"expected shape ({len(x_valid)},)")
        valid_rmse = ((y_hat.double() - y_valid.double()) ** 2).mean().sqrt().item()
        baseline = ((y.double().mean() - y_valid.double()) ** 2).mean().sqrt().item()
    return {"valid_rmse": valid_rmse, "baseline": baseline,
            "item_bias": tables["item_bias"].weight.detach()[:, 0].double().cpu()}


def describe(y) -> str:
    return f"shape {tuple(y.shape)}" if isinstance(y, torch.Tensor) else f"a {type(y).__name__}"


# --------------------------------------------------------------------------- models that rmse and the rankings read

class TableModel(nn.Module):
    """A model that holds a full (n_users, n_items) table of predictions."""

    def __init__(self, n_users, n_items):
        super().__init__()
        self.table = nn.Parameter(torch.zeros(n_users, n_items))

    def forward(self, x):
        return self.table[x[:, 0], x[:, 1]]  # (B,)


class FactorModel(nn.Module):
    """A dot product of user and item factors, squashed into (0, 5.5)."""

    def __init__(self, n_users, n_items, n_factors=4):
        super().__init__()
        self.users, self.items = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)

    def forward(self, x):
        return torch.sigmoid((self.users(x[:, 0]) * self.items(x[:, 1])).sum(1)) * 5.5  # (B,)


class Trained(nn.Module):
    """What a trained DotProductBias holds: the four tables (the tests fill them with known weights)."""

    def __init__(self, n_users, n_items, n_factors):
        super().__init__()
        self.user_factors, self.item_factors = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.user_bias, self.item_bias = nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)
        self.y_range = (0.0, 5.5)

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
        res = res + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0]
        return torch.sigmoid(res) * 5.5  # (B,)


def _model(kind: str, state: dict, device, dtype):
    n_users, n_items = state["n_users"], state["n_items"]
    model = {"table": lambda: TableModel(n_users, n_items), "factor": lambda: FactorModel(n_users, n_items),
             "trained": lambda: Trained(n_users, n_items, state["n_factors"])}[kind]()
    model.load_state_dict(state["weights"])
    return model.to(device=device, dtype=getattr(torch, dtype))


@scenario
def rmse(learner, device, model, state, dtype, ratings, index=None):
    """rmse(model, ratings) for a `model` ("table", "factor") holding `state`, and a ratings DataFrame made of
    the columns `ratings` (with the row labels `index`); "changed" when rmse changed the DataFrame."""
    import pandas as pd
    m = _model(model, state, device, dtype)
    frame = pd.DataFrame({k: v.cpu().numpy() for k, v in ratings.items()}, index=index)
    before = frame.copy(deep=True)
    y = learner.call(learner.get("rmse"), m, frame)
    same = list(frame.columns) == list(before.columns) and frame.index.equals(before.index) and frame.equals(before)
    return {"y": y, "changed": [] if same else [1]}


def _lookup(values: list, index: list | None, form: str):
    """`values` (one per item, in item order) as a list, a numpy array or a pandas Series indexed by item id
    (its rows in the order `index` gives, which need not be sorted)."""
    import numpy as np
    import pandas as pd
    if form == "list":
        return list(values)
    if form == "array":
        return np.array(values, dtype=object if isinstance(values[0], str) else np.float64)
    order = list(range(len(values))) if index is None else index
    return pd.Series([values[i] for i in order], index=pd.Index(order, name="item"))


def _ties_in_order(rows, value: int, key: int, tol: float):
    """`rows` with each run of consecutive rows whose `value`s are within `tol` sorted by their `key`: the order
    the spec leaves free among equal values, made one. Rows that are not well-formed are left as they are."""
    ok = isinstance(rows, list) and all(
        type(r) is tuple and len(r) > max(value, key) and type(r[value]) is float and math.isfinite(r[value])
        and type(r[key]) in (int, str) for r in rows)
    if not ok:
        return rows
    out, run = [], []
    for r in rows:
        if run and abs(r[value] - run[-1][value]) > tol:
            out += sorted(run, key=lambda q: q[key])
            run = []
        run.append(r)
    return out + sorted(run, key=lambda q: q[key])


@scenario
def ranking(learner, device, state, dtype, titles, means, form, index=None, kwargs=None):
    """item_bias_ranking(model, titles, means, **kwargs) for a trained model holding `state`, with titles and
    means as `form` (see `_lookup`); rows of equal bias put in title order."""
    m = _model("trained", state, device, dtype)
    t, mr = _lookup(titles, index, form), _lookup(means, index, form)
    y = learner.call(learner.get("item_bias_ranking"), m, t, mr, **(kwargs or {}))
    return {"y": _ties_in_order(y, 0, 1, 0.0)}


@scenario
def similar(learner, device, state, dtype, item, kwargs=None):
    """most_similar(model, item, **kwargs) for a trained model holding `state`; rows whose similarities are
    within 1e-5 of each other (ties) put in item order."""
    m = _model("trained", state, device, dtype)
    before = snapshot([m.item_factors.weight])
    y = learner.call(learner.get("most_similar"), m, item, **(kwargs or {}))
    return {"y": _ties_in_order(y, 0, 1, 1e-5), "changed": changed(before, [m.item_factors.weight])}
