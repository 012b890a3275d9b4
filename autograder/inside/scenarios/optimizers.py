"""Scenarios of 04_optimizers: the learner's optimizers step by step, their param groups, a schedule, the lr finder.

`steps` builds parameters from given tensors, makes the learner's optimizer over them, and
takes a few steps: on given gradients (a gradient may be None: not there yet, or never), in
a real backward loop on a tiny model (so that a state buffer that is `p.grad` itself shows),
or with `step(closure)`. It returns the parameters after each step and, for each parameter
that has had a gradient, the state the exercise names (`step` as a number, whether the
answer keeps an int or a tensor). `groups` compares the learner's optimizer over several
param groups with their own optimizer made for each group alone, and checks that a change
of `lr` (and momentum) between steps takes effect: both judged against the learner's own
update rule, which `steps` grades. `schedule` calls a schedule at every step; `lr_find` runs
the learner's lr finder on a tiny model with a torch optimizer.
"""
from __future__ import annotations

import torch

from ..channel import Described
from ..learner import LearnerError
from . import scenario

IS_OPTIMIZER = "it is a torch.optim.Optimizer (class ...(torch.optim.Optimizer), super().__init__(params, defaults))"
NONE_GRAD_HINT = " (a parameter whose .grad is None must be skipped: `if p.grad is None: continue`)"
AFTER = "after step {}"


def _params(start: dict) -> dict:
    """Fresh leaf tensors with the values of `start` (name → tensor)."""
    return {name: t.detach().clone().requires_grad_() for name, t in start.items()}


class _NotAnOptimizer(Exception):
    """The learner's class made something that is not a torch.optim.Optimizer."""


def _make(learner, cls: str, params: dict, groups=None, kwargs=None):
    """The learner's optimizer `cls` over `params` (one group), or over `groups` ([{"params": [names], hp...}])."""
    if groups is None:
        arg = list(params.values())
    else:
        arg = [{"params": [params[n] for n in g["params"]], **{k: v for k, v in g.items() if k != "params"}}
               for g in groups]
    opt = learner.call(learner.get(cls), arg, **(kwargs or {}))
    if not isinstance(opt, torch.optim.Optimizer):
        raise _NotAnOptimizer()
    return opt


def _optimizer_scenario(fn):
    """A scenario whose outputs start with whether the learner's class makes a torch.optim.Optimizer
    (if it does not, that is all they say)."""
    def run(*args, **kwargs):
        try:
            return {IS_OPTIMIZER: True, **fn(*args, **kwargs)}
        except _NotAnOptimizer:
            return {IS_OPTIMIZER: False}
    run.__name__, run.__doc__ = fn.__name__, fn.__doc__
    return scenario(run)


def _minus(a, b):
    """a − b, with 0 where they are equal or both nan (the same answer, even when it is not a number)."""
    same = (a == b) | (torch.isnan(a) & torch.isnan(b))
    return torch.where(same, torch.zeros_like(a), a - b)


def _step(learner, opt, params: dict, k: int, closure=None):
    """Step `k` (from 0) of the learner's optimizer; what it returned."""
    try:
        return learner.call(opt.step, closure) if closure is not None else learner.call(opt.step)
    except LearnerError as exc:
        hint = NONE_GRAD_HINT if any(p.grad is None for p in params.values()) else ""
        raise LearnerError(f"at step {k + 1}, {exc}{hint}") from None


def _give(params: dict, grads: dict) -> None:
    """Set each parameter's .grad to a copy of its given gradient (None where none is given)."""
    for name, p in params.items():
        g = grads.get(name)
        p.grad = None if g is None else g.detach().clone()


def _number(x):
    """A state's `step` as a float, whether the answer keeps an int, a float or a 1-element tensor."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return float(x.item())
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(x)
    return x


def _state(opt, params: dict, names, seen) -> dict:
    """name → {key: value} of `self.state[p]` for the keys `names`, for the parameters in `seen`."""
    out = {}
    for name, p in params.items():
        if name not in seen:  # no gradient yet: no state to compare
            continue
        state = opt.state.get(p, {}) if hasattr(opt.state, "get") else {}
        entry = {}
        for key in names:
            if key not in state:
                entry[key] = Described("missing", f"self.state[p] has no {key!r} (its keys: "
                                                  f"{sorted(map(str, state))}): keep it under that name")
            elif key == "step":
                entry[key] = _number(state[key])
            elif isinstance(state[key], torch.Tensor):
                entry[key] = state[key].detach().clone()
            else:
                entry[key] = state[key]
        out[name] = entry
    return out


def _loss(params: dict, x, y):
    """The tiny model's loss: mean((tanh(x @ w1 + b1) @ w2 + b2 − y)²)."""
    h = torch.tanh(x @ params["w1"] + params["b1"])  # (B, 4)
    return ((h @ params["w2"] + params["b2"] - y) ** 2).mean()


@_optimizer_scenario
def steps(learner, device, cls: str, start: dict, n_steps: int, kwargs=None, groups=None, grads=None, x=None,
          y=None, batch: int = 4, zero_grad=None, closure: bool = False, state_names=()):
    """Take `n_steps` with the learner's optimizer `cls(start's parameters, **kwargs)`.

    The gradients are `grads[k]` (name → tensor, a missing name: None), or those of the tiny
    model's loss on batch k of (x, y): after `opt.zero_grad(set_to_none=zero_grad)` and a
    backward pass, or inside `step(closure)` when `closure`. Outputs: the parameters after
    each step, their `self.state[p]` under `state_names`, and what `step(closure)` returned.
    """
    params = _params(start)
    opt = _make(learner, cls, params, groups, kwargs)
    after_params, after_state, returned, seen = {}, {}, {}, set()
    for k in range(n_steps):
        label = AFTER.format(k + 1)
        if grads is not None:
            _give(params, grads[k])
            _step(learner, opt, params, k)
        else:
            xb, yb = x[k * batch:(k + 1) * batch], y[k * batch:(k + 1) * batch]
            if closure:
                def closure_fn(xb=xb, yb=yb):
                    opt.zero_grad()
                    loss = _loss(params, xb, yb)
                    loss.backward()
                    return loss
                returned[label] = _step(learner, opt, params, k, closure_fn)
            else:
                learner.call(opt.zero_grad, set_to_none=zero_grad)
                _loss(params, xb, yb).backward()
                _step(learner, opt, params, k)
        seen |= {name for name, p in params.items() if p.grad is not None}
        after_params[label] = {name: p.detach().clone() for name, p in params.items()}
        after_state[label] = _state(opt, params, state_names, seen)
    out = {"the parameters": after_params, "self.state[p]": after_state}
    if closure:
        out["what step(closure) returned (the closure's loss)"] = returned
    return out


GROUPS_DIFF = "your optimizer over these param groups, minus your optimizer made for each group alone"
UNUSED = "the parameter whose .grad is None (it must not move)"
LR_EFFECT = "each step after changing group['lr'] by a factor, minus that factor times the step at the first lr"
MOMENTUM_EFFECT = "changing group['{}'] between steps changes the steps, as another value in the constructor does"


def _run(learner, cls, start, groups, kwargs, grads, n_steps, schedule=None):
    """The parameters after each step of the learner's optimizer over `groups`; `schedule(param_groups, k)`
    may change the groups' settings before step k."""
    params = _params(start)
    opt = _make(learner, cls, params, groups, kwargs)
    path = []
    for k in range(n_steps):
        if schedule is not None:
            schedule(opt.param_groups, k)
        _give(params, grads[k])
        _step(learner, opt, params, k)
        path.append({name: p.detach().clone() for name, p in params.items()})
    return path


@_optimizer_scenario
def groups(learner, device, cls: str, start: dict, groups: list, grads: list, kwargs=None, lr_factors=None,
           momenta=None, momentum_key=None):
    """The learner's optimizer over param `groups`, on given gradients, against itself.

    Without `lr_factors`: the multi-group optimizer minus one optimizer per group (made with
    that group's settings), after each step, and the parameter that never gets a gradient.
    With them: each group's lr is multiplied by `lr_factors[k]` before step k, and each step
    must be that factor times the step taken at the first lr (true of an update `lr × u`
    whose `u` does not depend on lr, on given gradients without weight decay); with `momenta`,
    whether setting `group[momentum_key]` to them between steps changes the steps.
    """
    kwargs = kwargs or {}
    n = len(grads)
    base = _run(learner, cls, start, groups, kwargs, grads, n)
    if lr_factors is None:
        alone = [{} for _ in range(n)]
        for g in groups:
            hp = {k: v for k, v in g.items() if k != "params"}
            sub = {name: start[name] for name in g["params"]}
            path = _run(learner, cls, sub, None, {**kwargs, **hp}, [{k: v for k, v in grads[i].items() if k in sub}
                                                                     for i in range(n)], n)
            for i in range(n):
                alone[i].update(path[i])
        used = [name for name in start if any(grads[i].get(name) is not None for i in range(n))]
        return {GROUPS_DIFF: {AFTER.format(i + 1): {name: _minus(base[i][name], alone[i][name]) for name in used}
                              for i in range(n)},
                UNUSED: {name: base[-1][name] for name in start if name not in used}}

    first_lrs = []

    def scheduled(param_groups, k):
        if not first_lrs:
            first_lrs.extend(g["lr"] for g in param_groups)
        for g, lr in zip(param_groups, first_lrs):
            g["lr"] = lr * lr_factors[k]

    moved = _run(learner, cls, start, groups, kwargs, grads, n, scheduled)
    prev_base, prev_moved, effect = dict(start), dict(start), {}
    for i in range(n):
        effect[AFTER.format(i + 1)] = {name: _minus(moved[i][name] - prev_moved[name],
                                                    lr_factors[i] * (base[i][name] - prev_base[name]))
                                       for name in start}
        prev_base, prev_moved = base[i], moved[i]
    out = {LR_EFFECT: effect}
    if momenta is not None:
        def momentum_schedule(param_groups, k):
            for g in param_groups:
                if momentum_key not in g:
                    raise LearnerError(f"your param groups have no {momentum_key!r}: pass it to super().__init__ "
                                       f"in the defaults, dict(..., {momentum_key}=...)")
                g[momentum_key] = momenta[k] if momentum_key == "momentum" else (momenta[k], g[momentum_key][1])

        def differ(a, b):
            return any(not torch.equal(a[-1][name], b[-1][name]) for name in start)

        changed = _run(learner, cls, start, groups, kwargs, grads, n, momentum_schedule)
        other = momenta[1] if momentum_key == "momentum" else (momenta[1], kwargs[momentum_key][1])
        constructed = _run(learner, cls, start, groups, {**kwargs, momentum_key: other}, grads, n)
        # An update that uses the momentum at all (another value in the constructor changes the steps)
        # must use the group's current one: changing it between steps changes the steps too.
        out[MOMENTUM_EFFECT.format(momentum_key)] = not differ(constructed, base) or differ(changed, base)
    return out


@scenario
def schedule(learner, device, fn: str, total_steps: int, args=(), kwargs=None):
    """fn(step, total_steps, *args, **kwargs) for every step 0 … total_steps − 1."""
    f = learner.get(fn)
    values = []
    for step in range(total_steps):
        try:
            values.append(learner.call(f, step, total_steps, *args, **(kwargs or {})))
        except LearnerError as exc:
            raise LearnerError(f"at step {step}, {exc}") from None
    return {"(lr, momentum) at steps 0, 1, 2, …": values}


def _opt_state(opt, model) -> dict:
    """The optimizer's state, by parameter name (`step` as a number)."""
    out = {}
    for name, p in model.named_parameters():
        state = opt.state.get(p, {})
        out[name] = {k: (_number(v) if k == "step" else v.detach().clone() if isinstance(v, torch.Tensor) else v)
                     for k, v in state.items()}
    return out


@scenario
def lr_find(learner, device, x, y, state: dict, kwargs=None, opt: str = "sgd", opt_kwargs=None, n_groups: int = 1,
            loader: str = "list", batch: int = 4, pretrain: int = 0):
    """The learner's lr_find(model, F.mse_loss, opt, batches, **kwargs) on a tiny model.

    The model is Linear → Tanh → Linear loaded with `state`; `batches` is a list of (x, y)
    pairs, or a DataLoader (its last batch smaller); `opt` a torch.optim SGD or Adam over one
    or two param groups, trained `pretrain` steps first so that it has state. Outputs: what
    lr_find returned, and the model's parameters, the optimizer's state and its groups' lrs after.
    """
    n_hidden, n_in = state["0.weight"].shape
    model = torch.nn.Sequential(torch.nn.Linear(n_in, n_hidden), torch.nn.Tanh(), torch.nn.Linear(n_hidden, 1))
    model.to(device=device, dtype=x.dtype)
    model.load_state_dict(state)
    pairs = [(x[i:i + batch], y[i:i + batch]) for i in range(0, len(x), batch)]
    if loader == "list":
        batches = pairs
    else:
        batches = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=False)
    if n_groups == 2:
        arg = [{"params": list(model[0].parameters()), "lr": 0.05}, {"params": list(model[2].parameters())}]
    else:
        arg = list(model.parameters())
    optimizer = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[opt](arg, **(opt_kwargs or {}))
    loss_func = torch.nn.functional.mse_loss
    for i in range(pretrain):
        xb, yb = pairs[i % len(pairs)]
        optimizer.zero_grad()
        loss_func(model(xb), yb).backward()
        optimizer.step()
    optimizer.zero_grad()
    result = learner.call(learner.get("lr_find"), model, loss_func, optimizer, batches, **(kwargs or {}))
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise LearnerError(f"lr_find returned {type(result).__name__} {str(result)[:60]}: return the pair "
                           "(lrs, losses)")
    lrs, losses = result
    return {"the lrs it returned": lrs, "the losses it returned": losses,
            "the model's parameters afterwards (as they were before)":
                {name: p.detach().clone() for name, p in model.named_parameters()},
            "the optimizer's state afterwards (as it was before)": _opt_state(optimizer, model),
            "each param group's lr afterwards (as it was before)": [g["lr"] for g in optimizer.param_groups]}
