"""Hidden tests for 04_optimizers: each function is one graded cell, checking one behaviour.

Each optimizer runs side by side with the reference (`solutions.optimizers`) and the PyTorch
optimizer SPEC names, on the same small model, data and starting point, step after step.
After EVERY step the parameters and `self.state[p]` are compared; the first step that differs
is reported with its largest difference and, when the learner's values match one, the known
mistake that gives them (replayed here by `_Rule`, a small optimizer per mistake).

Param groups are judged against the learner's own optimizer (one per group, stepped together),
so a wrong update rule costs only its own question; schedules are judged against the reference
where the rule is right, and by their effect where it is not.
"""
import math

import torch

from solutions import optimizers as ref

from ..cases import FLOAT_DTYPES, devices, randn
from ..report import NotAnswered, Question
from ..watch import ForbiddenCall

N_STEPS = 5
BATCH = 8
# The model: x (B, 5) → tanh(x @ w1 + b1) @ w2 + b2 (B, 3), mean squared error; `unused` never gets a gradient.
SHAPES = {"w1": (5, 4), "b1": (4,), "w2": (4, 3), "b2": (3,), "unused": (2, 2)}
USED = ("w1", "b1", "w2", "b2")

SGD_DEFAULTS = dict(lr=0.01, momentum=0.9, weight_decay=0.0)
RMSPROP_DEFAULTS = dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0)
ADAM_DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False)


# --------------------------------------------------------------------------- the problem

class _Problem:
    """One model, data and starting point, shared by every optimizer run on it."""

    def __init__(self, seed: int, dtype, device):
        self.x = randn(N_STEPS * BATCH, 5, seed=seed, dtype=dtype, device=device)
        self.y = randn(N_STEPS * BATCH, 3, seed=seed + 50, dtype=dtype, device=device)
        self.start = {name: randn(*shape, seed=seed + 100 + i, dtype=dtype, device=device, scale=0.5)
                      for i, (name, shape) in enumerate(SHAPES.items())}
        self.dtype, self.device = dtype, device

    def params(self) -> dict:
        return {name: t.clone().requires_grad_() for name, t in self.start.items()}

    def backward(self, p: dict, k: int) -> None:
        """Gradients of the loss on batch `k` (grads reset to None first, as zero_grad() does)."""
        for t in p.values():
            t.grad = None
        x, y = self.x[k * BATCH:(k + 1) * BATCH], self.y[k * BATCH:(k + 1) * BATCH]  # (B, 5), (B, 3)
        y_hat = torch.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]  # (B, 3)
        ((y_hat - y) ** 2).mean().backward()


def _tolerance(dtype, expected: torch.Tensor) -> dict:
    """Relative to the size of the compared tensor: rounding differences pass, real differences don't."""
    size = expected.detach().abs()
    size = size[size.isfinite()]  # a NaN or inf in the expected value must not become the tolerance
    scale = float(size.max()) if size.numel() else 0.0
    if dtype == torch.float64:
        return dict(rtol=1e-9, atol=1e-11 * scale)
    return dict(rtol=1e-5, atol=1e-6 * scale)


_isclose = torch.isclose  # taken at import, before any learner code runs


def _same(actual, expected, tol: dict) -> bool:
    """A fast pass for the common case; anything else goes to `q.compare`, which explains the difference."""
    return (isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor)
            and actual.shape == expected.shape and actual.dtype == expected.dtype
            and actual.device == expected.device
            and bool(_isclose(actual, expected, rtol=tol["rtol"], atol=tol["atol"]).all()))


def _hp(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _number(x):
    """A state's `step` as a Python number, whether kept as an int, a float or a 0-dim tensor."""
    if isinstance(x, torch.Tensor) and x.numel() == 1:
        return x.item()
    return x


# --------------------------------------------------------------------------- known mistakes, replayed

class _Rule(torch.optim.Optimizer):
    """An optimizer made from a per-parameter update `rule(p, grad, state, group)`: a known mistake."""

    def __init__(self, params, rule, **defaults):
        self.rule = rule
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.rule(p, p.grad, self.state[p], group)


def _sgd_rule(kind: str = ""):
    def rule(p, g, state, group):
        lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
        d = g if kind in ("decay after", "no decay") else g + wd * p
        buf = state.get("momentum_buffer")
        if kind == "dampened from zero":
            buf = (1 - m) * d if buf is None else m * buf + (1 - m) * d
        elif kind == "dampened":
            buf = d.clone() if buf is None else m * buf + (1 - m) * d
        elif kind == "lr in buffer":
            buf = lr * d if buf is None else m * buf + lr * d
        elif kind == "no momentum":
            buf = d
        else:
            buf = d.clone() if buf is None else m * buf + d
        state["momentum_buffer"] = buf
        if kind == "lr in buffer":
            p.sub_(buf)
        elif kind == "decay after":
            p.sub_(lr * (buf + wd * p))
        else:
            p.sub_(lr * buf)
    return rule


def _rmsprop_rule(kind: str = ""):
    def rule(p, g, state, group):
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        d = g if kind == "no decay" else g + wd * p
        v = state.get("square_avg")
        if v is None and kind == "start at grad²":
            v = d * d
        elif kind == "alpha swapped":
            v = (1 - alpha) * (0 if v is None else v) + alpha * d * d
        else:
            v = alpha * (0 if v is None else v) + (1 - alpha) * d * d
        state["square_avg"] = v
        if kind == "eps inside":
            denom = (v + eps).sqrt()
        elif kind == "no sqrt":
            denom = v + eps
        else:
            denom = v.sqrt() + eps
        p.sub_(lr * d / denom)
    return rule


def _adam_rule(kind: str = ""):
    def rule(p, g, state, group):
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        wd, decoupled = (0.0 if kind == "no decay" else group["weight_decay"]), group["decoupled"]
        if kind == "swap decay":
            decoupled = not decoupled
        if decoupled and kind != "decay after":
            p.mul_(1 - (wd if kind == "decay unscaled" else lr * wd))
        elif not decoupled:
            g = g + wd * p
        t = state["step"] = state.get("step", 0) + 1
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0) + (1 - b1) * g
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0) + (1 - b2) * g * g
        bc1, bc2 = (1.0, 1.0) if kind == "no bias correction" else (1 - b1 ** t, 1 - b2 ** t)
        if kind == "eps inside":
            denom = (v / bc2 + eps).sqrt()
        elif kind == "eps before bias correction":
            denom = (v.sqrt() + eps) / math.sqrt(bc2)
        else:
            denom = (v / bc2).sqrt() + eps
        p.sub_(lr * (m / bc1) / denom)
        if decoupled and kind == "decay after":
            p.mul_(1 - lr * wd)
    return rule


SGD_MISTAKES = {
    "dampened momentum (buf = momentum·buf + (1 − momentum)·grad, an average; torch.optim.SGD adds the "
    "whole gradient: buf = momentum·buf + grad)": _sgd_rule("dampened from zero"),
    "dampened momentum after the first step (buf = momentum·buf + (1 − momentum)·grad; torch.optim.SGD adds "
    "the whole gradient: buf = momentum·buf + grad)": _sgd_rule("dampened"),
    "momentum ignored (plain SGD)": _sgd_rule("no momentum"),
    "weight decay left out": _sgd_rule("no decay"),
    "weight decay added after the momentum (add weight_decay·p to the gradient before it enters the buffer)":
        _sgd_rule("decay after"),
    "lr folded into the momentum buffer (buf = momentum·buf + lr·grad; keep lr out of the buffer and use the "
    "group's current lr at each step)": _sgd_rule("lr in buffer"),
}
RMSPROP_MISTAKES = {
    "eps inside the square root (√(square_avg + eps); PyTorch divides by √square_avg + eps)":
        _rmsprop_rule("eps inside"),
    "square_avg starting at grad² instead of 0": _rmsprop_rule("start at grad²"),
    "alpha and 1 − alpha swapped (square_avg ← alpha·square_avg + (1 − alpha)·grad²)":
        _rmsprop_rule("alpha swapped"),
    "dividing by square_avg without its square root": _rmsprop_rule("no sqrt"),
    "weight decay left out": _rmsprop_rule("no decay"),
}
ADAM_MISTAKES = {
    "Adam without bias correction (divide exp_avg by 1 − β1ᵗ and exp_avg_sq by 1 − β2ᵗ)":
        _adam_rule("no bias correction"),
    "eps inside the square root (√(v̂ + eps); PyTorch divides by √v̂ + eps)": _adam_rule("eps inside"),
    "eps added before the bias correction ((√v + eps)/√(1 − β2ᵗ); PyTorch adds eps to √v̂ = √v/√(1 − β2ᵗ))":
        _adam_rule("eps before bias correction"),
    "weight decay left out": _adam_rule("no decay"),
}
ADAM_L2_MISTAKES = {
    "decoupled weight decay (AdamW's p ← p·(1 − lr·wd)) where decoupled=False asks for Adam's L2 "
    "(grad + wd·p)": _adam_rule("swap decay"),
}
ADAMW_MISTAKES = {
    "coupled weight decay (Adam's grad + wd·p) where decoupled=True asks for AdamW's p ← p·(1 − lr·wd)":
        _adam_rule("swap decay"),
    "decoupled weight decay not scaled by lr (p ← p·(1 − wd); AdamW uses p·(1 − lr·wd))":
        _adam_rule("decay unscaled"),
    "decoupled weight decay applied after the Adam step (AdamW shrinks p before it)": _adam_rule("decay after"),
}


# --------------------------------------------------------------------------- running side by side

def _step(q, opt, label: str, k: int, hint: str = "") -> None:
    """One step of a learner's optimizer, watched; its error becomes a message naming the step."""
    try:
        q.call(opt.step, forbid_optim=True)
    except (ForbiddenCall, NotAnswered):
        raise
    except AssertionError as exc:
        raise AssertionError(f"{label}: at step {k + 1}, {exc}{hint}") from None


NONE_GRAD_HINT = " (a parameter whose .grad is None must be skipped: `if p.grad is None: continue`)"


class _Setup:
    """One optimizer setting on one problem: how to build an optimizer on a fresh copy of the parameters."""

    def __init__(self, problem: _Problem, kwargs: dict, defaults: dict):
        self.problem, self.kwargs, self.defaults = problem, kwargs, defaults

    @staticmethod
    def arg(params: dict) -> list:
        return [params[n] for n in USED]

    def replay(self, make, n_steps: int):
        """Run an optimizer (outside the learner's code) for `n_steps`; return (params, optimizer)."""
        params = self.problem.params()
        opt = make(self.arg(params))
        for k in range(n_steps):
            self.problem.backward(params, k)
            opt.step()
        return params, opt


def _mistake_values(setup: _Setup, mistakes: dict, n_steps: int, name: str, key: str | None = None) -> dict:
    """Each known mistake's value of parameter `name` (or of its state `key`) after `n_steps`."""
    values = {}
    for label, make in mistakes.items():
        try:
            params, opt = setup.replay(make, n_steps)
            values[label] = params[name].detach() if key is None else _number(opt.state[params[name]].get(key))
        except Exception:  # a mistake that cannot be replayed here names nothing
            continue
    return values


def _run(q: Question, label: str, Learner, make_ref, make_torch, torch_name: str, setup: _Setup,
         state_names, mistakes: dict) -> None:
    """One check: the learner's optimizer against the reference and PyTorch's, compared after every step."""
    with q.check(label):
        problem = setup.problem
        params = problem.params()
        opt = q.call(Learner, setup.arg(params), forbid_optim=True, **setup.kwargs)
        if not isinstance(opt, torch.optim.Optimizer):
            raise AssertionError(f"{type(opt).__name__} is not a torch.optim.Optimizer: write "
                                 f"`class {getattr(Learner, '__name__', 'X')}(torch.optim.Optimizer)` and call "
                                 "super().__init__(params, defaults).")
        ref_params = problem.params()
        ref_opt = make_ref(setup.arg(ref_params))
        torch_params = problem.params()
        torch_opt = make_torch(setup.arg(torch_params))
        names = state_names({**setup.defaults, **setup.kwargs})
        for k in range(N_STEPS):
            for p in (params, ref_params, torch_params):
                problem.backward(p, k)
            _step(q, opt, label, k)
            ref_opt.step()
            torch_opt.step()
            after = f"{label}: after step {k + 1} of {N_STEPS}"
            for name in USED:
                what = f"{after}, parameter `{name}`"
                got, tol = params[name].detach(), _tolerance(problem.dtype, ref_params[name])
                if not _same(got, ref_params[name].detach(), tol):
                    q.compare(what, got, ref_params[name].detach(), **tol,
                              mistakes=_mistake_values(setup, mistakes, k + 1, name))
                if not _same(got, torch_params[name].detach(), tol):
                    q.compare(f"{what} against {torch_name}", got, torch_params[name].detach(), **tol)
            for name in USED:
                state = opt.state[params[name]]
                for key in names:
                    what = f"{after}, self.state[p][{key!r}] of parameter `{name}`"
                    if key not in state:
                        raise AssertionError(f"{what} is missing (its keys: {sorted(map(str, state))}); keep "
                                             f"the state under the names given: {', '.join(names)}.")
                    got, want = _number(state[key]), _number(ref_opt.state[ref_params[name]][key])
                    if isinstance(want, torch.Tensor):
                        tol = _tolerance(problem.dtype, want)
                        if _same(got, want, tol):
                            continue
                    else:
                        tol = {}
                        if isinstance(got, (int, float)) and got == want:
                            continue
                    q.compare(what, got, want, **tol, mistakes=_mistake_values(setup, mistakes, k + 1, name, key))


def _cases(settings):
    """(kwargs, problem) for each setting, both float dtypes and every device."""
    for i, kwargs in enumerate(settings):
        for dtype in FLOAT_DTYPES:
            for device in devices():
                yield kwargs, _Problem(seed=i, dtype=dtype, device=device), f"{str(dtype)[6:]} on {device.type}"


def _sgd_state(hp):
    return ["momentum_buffer"] if hp["momentum"] != 0 else []  # torch.optim.SGD keeps none without momentum


def _rmsprop_state(hp):
    return ["square_avg"]


def _adam_state(hp):
    return ["step", "exp_avg", "exp_avg_sq"]


def _torch_sgd(kwargs):
    return lambda arg: torch.optim.SGD(arg, **{**SGD_DEFAULTS, **kwargs})


def _torch_rmsprop(kwargs):
    return lambda arg: torch.optim.RMSprop(arg, **{**RMSPROP_DEFAULTS, **kwargs})


def _torch_adam(kwargs):
    kw = {**ADAM_DEFAULTS, **kwargs}
    cls = torch.optim.AdamW if kw.pop("decoupled") else torch.optim.Adam
    return lambda arg: cls(arg, **kw)  # weight_decay always given: AdamW's own default is 0.01


def _rules(mistakes: dict, defaults: dict, kwargs: dict) -> dict:
    return {label: (lambda arg, rule=rule: _Rule(arg, rule, **{**defaults, **kwargs}))
            for label, rule in mistakes.items()}


# --------------------------------------------------------------------------- graded cells

SGD_SETTINGS = [{}, dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.5, weight_decay=0.1),
                dict(lr=0.1, momentum=0.0, weight_decay=0.01)]
RMSPROP_SETTINGS = [{}, dict(lr=0.01, alpha=0.9, eps=1e-3), dict(lr=0.003, alpha=0.5, eps=1e-6, weight_decay=0.1)]
ADAM_SETTINGS = [{}, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-3),
                 dict(lr=0.02, betas=(0.9, 0.95), weight_decay=0.1), dict(lr=0.01, weight_decay=0.5, decoupled=False)]
ADAMW_SETTINGS = [dict(lr=0.01, weight_decay=0.1, decoupled=True),
                  dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.5, decoupled=True),
                  dict(decoupled=True)]


def sgd_momentum_matches_torch(SGDMomentum):
    """SGDMomentum equals torch.optim.SGD (no dampening) step by step: parameters and momentum_buffer."""
    with Question("SGDMomentum") as q:
        for kwargs, problem, where in _cases(SGD_SETTINGS):
            _run(q, f"SGDMomentum({_hp(kwargs)}) against torch.optim.SGD, {where}", SGDMomentum,
                 lambda arg, kw=kwargs: ref.SGDMomentum(arg, **kw), _torch_sgd(kwargs), "torch.optim.SGD",
                 _Setup(problem, kwargs, SGD_DEFAULTS), _sgd_state, _rules(SGD_MISTAKES, SGD_DEFAULTS, kwargs))


def rmsprop_matches_torch(RMSProp):
    """RMSProp equals torch.optim.RMSprop step by step: parameters and square_avg."""
    with Question("RMSProp") as q:
        for kwargs, problem, where in _cases(RMSPROP_SETTINGS):
            _run(q, f"RMSProp({_hp(kwargs)}) against torch.optim.RMSprop, {where}", RMSProp,
                 lambda arg, kw=kwargs: ref.RMSProp(arg, **kw), _torch_rmsprop(kwargs), "torch.optim.RMSprop",
                 _Setup(problem, kwargs, RMSPROP_DEFAULTS), _rmsprop_state,
                 _rules(RMSPROP_MISTAKES, RMSPROP_DEFAULTS, kwargs))


def adam_matches_torch(Adam):
    """Adam(decoupled=False) equals torch.optim.Adam step by step: parameters, step, exp_avg, exp_avg_sq."""
    with Question("Adam") as q:
        for kwargs, problem, where in _cases(ADAM_SETTINGS):
            _run(q, f"Adam({_hp(kwargs)}) against torch.optim.Adam, {where}", Adam,
                 lambda arg, kw=kwargs: ref.Adam(arg, **kw), _torch_adam(kwargs), "torch.optim.Adam",
                 _Setup(problem, kwargs, ADAM_DEFAULTS), _adam_state,
                 _rules({**ADAM_MISTAKES, **ADAM_L2_MISTAKES}, ADAM_DEFAULTS, kwargs))


def adam_decoupled_matches_adamw(Adam):
    """Adam(decoupled=True) equals torch.optim.AdamW (same weight_decay) step by step, state included."""
    with Question("Adam(decoupled=True)") as q:
        for kwargs, problem, where in _cases(ADAMW_SETTINGS):
            _run(q, f"Adam({_hp(kwargs)}) against torch.optim.AdamW, {where}", Adam,
                 lambda arg, kw=kwargs: ref.Adam(arg, **kw), _torch_adam(kwargs), "torch.optim.AdamW",
                 _Setup(problem, kwargs, ADAM_DEFAULTS), _adam_state,
                 _rules({**ADAMW_MISTAKES, **ADAM_MISTAKES}, ADAM_DEFAULTS, kwargs))


# Three groups: two with their own settings, the third with the constructor's (it holds `unused`).
GROUPS = {
    "SGDMomentum": (dict(lr=0.05, momentum=0.8, weight_decay=0.2),
                    [dict(lr=0.2, momentum=0.5), dict(momentum=0.95, weight_decay=0.0)]),
    "RMSProp": (dict(lr=0.005, alpha=0.9, weight_decay=0.2),
                [dict(lr=0.02, alpha=0.5, eps=1e-3), dict(eps=1e-6, weight_decay=0.0)]),
    "Adam": (dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.2),
             [dict(lr=0.03, betas=(0.5, 0.9), eps=1e-3), dict(weight_decay=0.0)]),
    "Adam(decoupled=True)": (dict(lr=0.01, weight_decay=0.3, decoupled=True),
                             [dict(lr=0.05, eps=1e-4, weight_decay=0.1), dict(betas=(0.8, 0.9))]),
}
GROUP_NAMES = [("w1", "b1"), ("w2",), ("b2", "unused")]
LR_FACTORS = (1.0, 0.5, 2.0, 0.25, 1.5)  # lr of each group × these, step by step
MOMENTA = (0.9, 0.6, 0.95, 0.8, 0.7)  # never 0: torch.optim.SGD then keeps its old buffer


def _schedule(lrs, lr: bool = True, momentum: bool = False):
    """Set each group's lr (and momentum) before step k, as a scheduler does."""
    def schedule(param_groups, k):
        for group, lr0 in zip(param_groups, lrs):
            if lr:
                group["lr"] = lr0 * LR_FACTORS[k]
            if momentum:
                group["momentum"] = MOMENTA[k]
    return schedule


def _learner_flat(Learner, problem: _Problem, kwargs: dict, n_steps: int) -> dict:
    """The learner's optimizer over every parameter with the constructor's settings (a mistake's values)."""
    params = problem.params()
    opt = Learner([params[n] for names in GROUP_NAMES for n in names], **kwargs)
    for k in range(n_steps):
        problem.backward(params, k)
        opt.step()
    return params


def _groups_consistent(q, label, Learner, problem, groups, kwargs) -> None:
    """The learner's optimizer over 3 param groups equals one learner optimizer per group, stepped together on the
    same gradients; the parameter without a gradient never moves. Judged against the learner's own optimizer, so a
    mistake in the update rule (another question's) costs nothing here."""
    with q.check(label):
        params = problem.params()
        multi = q.call(Learner, [dict(params=[params[n] for n in names], **hp) for names, hp in groups],
                       forbid_optim=True, **kwargs)
        alone = problem.params()
        singles = [q.call(Learner, [alone[n] for n in names], forbid_optim=True, **{**kwargs, **hp})
                   for names, hp in groups]
        for k in range(N_STEPS):
            problem.backward(params, k)
            problem.backward(alone, k)
            _step(q, multi, label, k, NONE_GRAD_HINT)
            for single in singles:
                _step(q, single, label + " (one optimizer per group)", k, NONE_GRAD_HINT)
            for i, (names, hp) in enumerate(groups):
                for name in names:
                    after = f"{label}: after step {k + 1} of {N_STEPS}, parameter `{name}` in param group {i}"
                    got = params[name].detach()
                    if name not in USED:
                        want = problem.start[name]
                        if not _same(got, want, _tolerance(problem.dtype, want)):
                            q.compare(f"{after} (its .grad is None: skip it, it must not change)", got, want,
                                      **_tolerance(problem.dtype, want))
                        continue
                    want, tol = alone[name].detach(), _tolerance(problem.dtype, alone[name])
                    if not _same(got, want, tol):
                        try:
                            flat = {"the constructor's hyper-parameters used for every param group (read lr and "
                                    "the others from each `group` in step)":
                                    _learner_flat(Learner, problem, kwargs, k + 1)[name].detach()}
                        except Exception:
                            flat = {}
                        q.compare(f"{after}, against your {getattr(Learner, '__name__', 'optimizer')} made for that "
                                  f"group alone with {_hp({**kwargs, **hp})}", got, want, mistakes=flat, **tol)


def _learner_scheduled(make, problem, groups, kwargs, schedule, n_steps: int) -> dict:
    """An optimizer (the learner's, or a known mistake's) over the groups, run with `schedule`."""
    params = problem.params()
    opt = make([dict(params=[params[n] for n in names], **hp) for names, hp in groups], **kwargs)
    for k in range(n_steps):
        problem.backward(params, k)
        schedule(opt.param_groups, k)
        opt.step()
    return params


def _schedule_followed(q, label, Learner, make_ref, make_torch, torch_name, problem, groups, kwargs, lrs, sgd):
    """With lr (and momentum) changed in param_groups between steps, the learner's optimizer equals the reference
    and PyTorch's. Where its update rule is wrong even without a schedule (another question's), the schedule can
    only be judged by its effect: changing lr between steps must change the steps."""
    schedule = _schedule(lrs, lr=True, momentum=sgd)
    fixed_lr = _schedule(lrs, lr=False, momentum=sgd)  # the same, but lr never changes
    with q.check(label):
        def build(make, learner=False):
            params = problem.params()
            arg = [dict(params=[params[n] for n in names], **hp) for names, hp in groups]
            return params, (q.call(make, arg, forbid_optim=True, **kwargs) if learner else make(arg))
        # The learner's and the reference's optimizers, with the schedule and with lr left fixed; PyTorch's.
        (p_a, a), (p_u, u) = build(Learner, True), build(Learner, True)
        (p_r, r), (p_ru, ru), (p_t, t) = build(make_ref), build(make_ref), build(make_torch)
        rule_right, moved = True, False
        for k in range(N_STEPS):
            for p, o, sched in ((p_a, a, schedule), (p_u, u, fixed_lr), (p_r, r, schedule), (p_ru, ru, fixed_lr),
                                (p_t, t, schedule)):
                problem.backward(p, k)
                sched(o.param_groups, k)
            _step(q, a, label, k, NONE_GRAD_HINT)
            _step(q, u, label, k, NONE_GRAD_HINT)
            r.step()
            ru.step()
            t.step()
            for name in USED:
                tol = _tolerance(problem.dtype, p_r[name])
                got = p_a[name].detach()
                moved = moved or not _same(got, p_u[name].detach(), tol)
                rule_right = rule_right and _same(p_u[name].detach(), p_ru[name].detach(), tol)
                if not rule_right:
                    continue
                what = f"{label}: after step {k + 1} of {N_STEPS}, parameter `{name}`"
                for want, against in ((p_r[name], ""), (p_t[name], f" against {torch_name}")):
                    if _same(got, want.detach(), tol):
                        continue
                    read = " (read them from each `group` at every step: a schedule changes them between steps)"
                    mistakes = {f"lr read once at construction{read}": p_u[name].detach()}
                    if sgd:
                        lr_in_buffer = next(m for m in SGD_MISTAKES if m.startswith("lr folded"))
                        for mistake, make, sched in (
                                (f"lr and momentum read once at construction{read}", Learner,
                                 _schedule(lrs, lr=False, momentum=False)),
                                (f"momentum read once at construction{read}", Learner,
                                 _schedule(lrs, lr=True, momentum=False)),
                                (lr_in_buffer, lambda arg, **kw: _Rule(arg, _sgd_rule("lr in buffer"),
                                                                       **{**SGD_DEFAULTS, **kw}), schedule)):
                            try:
                                mistakes[mistake] = _learner_scheduled(make, problem, groups, kwargs, sched,
                                                                       k + 1)[name].detach()
                            except Exception:
                                pass
                    q.compare(what + against, got, want.detach(), **tol, mistakes=mistakes)
        if not moved:
            raise AssertionError(f"{label}: changing group['lr'] between steps did not change the steps: read lr "
                                 "(and the other settings) from each `group` at every step.")


def optimizers_param_groups(SGDMomentum, RMSProp, Adam):
    """Each optimizer honours every param group's own settings (against itself, one optimizer per group), skips a
    parameter whose .grad is None, and follows lr (and momentum) changed in param_groups between steps."""
    learners = {"SGDMomentum": SGDMomentum, "RMSProp": RMSProp, "Adam": Adam, "Adam(decoupled=True)": Adam}
    with Question("param groups") as q:
        for opt_name, (kwargs, own) in GROUPS.items():
            Ref, make_torch, torch_name, defaults = _KINDS[opt_name]
            groups = list(zip(GROUP_NAMES, own + [{}]))
            lrs = [hp.get("lr", kwargs.get("lr", defaults["lr"])) for _, hp in groups]
            sgd = opt_name == "SGDMomentum"
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    problem = _Problem(seed=7, dtype=dtype, device=device)
                    where = f"{str(dtype)[6:]} on {device.type}"
                    label = f"{opt_name}({_hp(kwargs)}) with 3 param groups {[hp for _, hp in groups]}"
                    _groups_consistent(q, f"{label}, {where}", learners[opt_name], problem, groups, kwargs)
                    _schedule_followed(
                        q, f"{label} whose lr{' and momentum' if sgd else ''} change between steps, {where}",
                        learners[opt_name], lambda arg, kw=kwargs, R=Ref: R(arg, **kw), make_torch(kwargs),
                        torch_name, problem, groups, kwargs, lrs, sgd)


_KINDS = {  # reference, torch optimizer, its name, defaults
    "SGDMomentum": (ref.SGDMomentum, _torch_sgd, "torch.optim.SGD", SGD_DEFAULTS),
    "RMSProp": (ref.RMSProp, _torch_rmsprop, "torch.optim.RMSprop", RMSPROP_DEFAULTS),
    "Adam": (ref.Adam, _torch_adam, "torch.optim.Adam", ADAM_DEFAULTS),
    "Adam(decoupled=True)": (ref.Adam, _torch_adam, "torch.optim.AdamW", ADAM_DEFAULTS),
}


# --------------------------------------------------------------------------- schedules

LR_GROUPS_CASES = [
    ((1e-3, 4), {}), ((0.1, 1), {}), ((3e-4, 2), dict(div=10.0)),
    ((slice(1e-3), 3), {}), ((slice(1e-3), 3), dict(div=10.0)), ((slice(0.01), 1), {}), ((slice(2e-2), 5), {}),
    ((slice(1e-5, 1e-3), 3), {}), ((slice(1e-6, 1e-2), 5), {}), ((slice(1e-4, 1e-2), 2), {}),
    ((slice(2e-5, 3e-3), 4), dict(div=7.0)),
]


def _lr_groups_mistakes(lr, n, div) -> dict:
    if not isinstance(lr, slice):
        return {}
    lo, hi = lr.start, lr.stop
    if not lo:
        return {f"slice(hi) giving hi to every group (all but the last get hi / div = {hi / div:g})": [hi] * n,
                "slice(hi) giving hi / div to every group (the last gets hi itself)": [hi / div] * n,
                "slice(hi) dividing by 10 (fastai v1's factor) instead of div": [hi / 10] * (n - 1) + [hi],
                "slice(hi) giving hi to the first group instead of the last": [hi] + [hi / div] * (n - 1)}
    return {"values spaced evenly on a linear scale instead of a log scale":
            [lo + (hi - lo) * i / (n - 1) for i in range(n)],
            "the values in reverse order (the first group gets lo, the last hi)":
            [lo * (hi / lo) ** (1 - i / (n - 1)) for i in range(n)]}


def _floats(values, what: str) -> torch.Tensor:
    """A learner's list (or tuple, array, 1-D tensor) of numbers as a float64 tensor."""
    if isinstance(values, (int, float)) or (isinstance(values, torch.Tensor) and values.dim() == 0):
        raise AssertionError(f"{what}: returned one number ({values!r}); return a list with one value per group.")
    try:
        return torch.tensor([float(v) for v in values], dtype=torch.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: returned {type(values).__name__} {values!r:.80}; return a list of floats.") \
            from None


def lr_groups_values(lr_groups):
    """lr_groups(lr, n_groups, div) gives fastai's discriminative learning rates for a float, slice(hi), slice(lo, hi)."""
    with Question("lr_groups") as q:
        for (lr, n), kw in LR_GROUPS_CASES:
            what = f"lr_groups({lr!r}, {n}{', ' + _hp(kw) if kw else ''})"
            with q.check(what):
                got = _floats(q.call(lr_groups, lr, n, forbid_optim=True, **kw), what)
                want = torch.tensor(ref.lr_groups(lr, n, **kw), dtype=torch.float64)
                mistakes = {k: torch.tensor(v, dtype=torch.float64)
                            for k, v in _lr_groups_mistakes(lr, n, kw.get("div", 3.0)).items()}
                q.compare(what, got, want, mistakes=mistakes, rtol=1e-9, atol=0.0)


ONE_CYCLE_CASES = [
    dict(total_steps=100, lr_max=1e-2),
    dict(total_steps=37, lr_max=0.5, pct_start=0.25, div=10.0, div_final=100.0, moms=(0.9, 0.8)),
    dict(total_steps=10, lr_max=3e-3, pct_start=0.5, div=5.0, div_final=1e3),
    dict(total_steps=250, lr_max=1.0, pct_start=0.1, div=25.0, div_final=1e4, moms=(0.99, 0.8)),
    dict(total_steps=7, lr_max=0.1, pct_start=0.4, moms=(0.95, 0.9)),
]


def _torch_one_cycle(total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    """(lrs, momenta) of torch's OneCycleLR at steps 0 … total_steps − 1."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr_max, momentum=moms[0])
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr_max, total_steps=total_steps, pct_start=pct_start, anneal_strategy="cos",
        div_factor=div, final_div_factor=div_final, base_momentum=moms[1], max_momentum=moms[0])
    lrs, moms_ = [], []
    for k in range(total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        moms_.append(opt.param_groups[0]["momentum"])
        if k < total_steps - 1:
            opt.step()
            sched.step()
    return lrs, moms_


def _one_cycle_variant(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85),
                       kind=""):
    """A known mistake's (lr, momentum) at `step`."""
    if kind == "fastai":  # fastai's fit_one_cycle: position step / total_steps, final lr lr_max / div_final
        pos = step / total_steps
        if pos < pct_start:
            pct, lrs, ms = pos / pct_start, (lr_max / div, lr_max), (moms[0], moms[1])
        else:
            pct, lrs, ms = (pos - pct_start) / (1 - pct_start), (lr_max, lr_max / div_final), (moms[1], moms[0])
        c = (1 + math.cos(math.pi * pct)) / 2
        return lrs[1] + (lrs[0] - lrs[1]) * c, ms[1] + (ms[0] - ms[1]) * c
    if kind == "moms swapped":
        moms = moms[::-1]
    lr_start = lr_max / div
    lr_end = lr_max / div_final if kind == "end" else lr_start / div_final
    warmup_end = pct_start * total_steps - (0 if kind == "peak" else 1)
    if step <= warmup_end:
        pct, lrs, ms = step / warmup_end, (lr_start, lr_max), (moms[0], moms[1])
    else:
        pct, lrs, ms = (step - warmup_end) / (total_steps - 1 - warmup_end), (lr_max, lr_end), (moms[1], moms[0])
    c = 1 - pct if kind == "linear" else (1 + math.cos(math.pi * pct)) / 2
    return lrs[1] + (lrs[0] - lrs[1]) * c, ms[1] + (ms[0] - ms[1]) * c


ONE_CYCLE_MISTAKES = {
    "linear annealing instead of cosine (OneCycleLR's anneal_strategy='cos')": "linear",
    "the momentum moving with the learning rate instead of against it (it starts at moms[0], falls to moms[1] "
    "while the lr rises, then climbs back)": "moms swapped",
    "the warm-up peaking at step pct_start·total_steps (OneCycleLR peaks at pct_start·total_steps − 1)": "peak",
    "ending at lr_max / div_final (OneCycleLR ends at lr_max / div / div_final)": "end",
    "fastai's fit_one_cycle (position step / total_steps, final lr lr_max / div_final), not OneCycleLR": "fastai",
}


def one_cycle_matches_torch(one_cycle):
    """one_cycle(step, total_steps, lr_max, ...) equals OneCycleLR's lr and momentum at every step, for several settings."""
    with Question("one_cycle") as q:
        for kw in ONE_CYCLE_CASES:
            args = (kw["total_steps"], kw["lr_max"])
            rest = {k: v for k, v in kw.items() if k not in ("total_steps", "lr_max")}
            label = f"one_cycle(step, {', '.join(map(repr, args))}{', ' + _hp(rest) if rest else ''})"
            with q.check(label):
                got = []
                for step in range(args[0]):
                    out = q.call(one_cycle, step, *args, forbid_optim=True, **rest)
                    if not isinstance(out, (tuple, list)) or len(out) != 2:
                        raise AssertionError(f"{label} at step {step} returned {out!r:.80}; return a pair "
                                             "(lr, momentum).")
                    got.append(out)
                lrs, moms = (_floats([o[i] for o in got], label) for i in (0, 1))
                want_lr, want_mom = (torch.tensor(v, dtype=torch.float64) for v in _torch_one_cycle(*args, **rest))
                variants = {label_: [_one_cycle_variant(s, *args, **rest, kind=kind) for s in range(args[0])]
                            for label_, kind in ONE_CYCLE_MISTAKES.items()}
                tol = dict(rtol=1e-7, atol=1e-12 * kw["lr_max"])
                q.compare(f"{label}: the learning rates at steps 0 … {args[0] - 1} (index = step)", lrs, want_lr,
                          mistakes={k: torch.tensor([v[0] for v in vs], dtype=torch.float64)
                                    for k, vs in variants.items()}, **tol)
                q.compare(f"{label}: the momenta at steps 0 … {args[0] - 1} (index = step)", moms, want_mom,
                          mistakes={k: torch.tensor([v[1] for v in vs], dtype=torch.float64)
                                    for k, vs in variants.items()}, rtol=1e-7, atol=1e-12)


def _settle_optimizer_classes() -> None:
    """Make one of each optimizer class here now, at import, so that torch's own first-use changes are done.

    Making the first `torch.optim.Optimizer` imports torch._dynamo, which rebinds `torch.manual_seed`, and wraps
    the class's `step` in a profiling hook (`Optimizer._patch_step_function`). The autograde guard imports the checks
    before it takes its snapshot, so doing both here keeps those changes from reading as "the notebook replaced
    torch.manual_seed" or "... replaced solutions.optimizers.SGDMomentum.step" while grading.
    """
    p = torch.zeros(1, requires_grad=True)
    for cls in (ref.SGDMomentum, ref.RMSProp, ref.Adam):
        cls([p])
    _Rule([p], rule=None)


_settle_optimizer_classes()
