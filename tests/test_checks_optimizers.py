"""The hidden tests of 04_optimizers pass correct answers written in other ways and fail (naming it) each
known mistake: learner-style implementations, written here, fed to `autograder.checks.optimizers`."""
import inspect
import math

import numpy as np
import pytest
import torch

from autograder.checks import optimizers as hidden
from solutions import optimizers as reference

pytestmark = pytest.mark.optimizers


def as_learner(module):
    """The reference module's names, compiled as if a learner had typed them (solutions/ code is flagged)."""
    ns = {}
    exec(compile(inspect.getsource(module), "<learner>", "exec"), ns)
    return ns


REF = as_learner(reference)


@pytest.fixture
def few_cases(monkeypatch):
    """Mistakes are named on the first cases that show them: one dtype keeps these tests fast."""
    monkeypatch.setattr(hidden, "FLOAT_DTYPES", (torch.float32,))


def fails(check, *answers, says=()):
    """Run a check that must fail; return its message, which must contain each of `says`."""
    with pytest.raises(AssertionError) as info:
        check(*answers)
    message = str(info.value)
    for words in ([says] if isinstance(says, str) else says):
        assert words in message, message
    return message


# ------------------------------------------------------------------ learner-style answers

class LoopSGD(torch.optim.Optimizer):
    """Correct, written out of place with p.data, a buffer started at zeros, no buffer without momentum
    (as torch.optim.SGD); `mistake` switches in one known mistake."""
    mistake = ""

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def step(self):
        for group in self.param_groups:
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            if "self.defaults" in self.mistake:  # every group gets the constructor's settings
                lr, m, wd = self.defaults["lr"], self.defaults["momentum"], self.defaults["weight_decay"]
            if "lr cached" in self.mistake:  # each group's lr as it was at the first step
                lr = group.setdefault("first_lr", group["lr"])
            for p in group["params"]:
                if p.grad is None and "no skip" not in self.mistake:
                    continue
                g = p.grad.data + wd * p.data
                if m == 0:
                    p.data = p.data - lr * g
                    continue
                buf = self.state[p].get("momentum_buffer", torch.zeros_like(p.data))
                if "dampened" in self.mistake:
                    buf = m * buf + (1 - m) * g
                elif "lr in buffer" in self.mistake:
                    buf = m * buf + lr * g
                else:
                    buf = m * buf + g
                self.state[p]["momentum_buffer"] = buf
                p.data = p.data - (buf if "lr in buffer" in self.mistake else lr * buf)


class ForeachSGD(torch.optim.Optimizer):
    """Correct, vectorised with torch._foreach_* over each group, a step counter in the state."""

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            grads = torch._foreach_add([p.grad for p in ps], ps, alpha=group["weight_decay"])
            bufs = []
            for p, g in zip(ps, grads):
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(g)
                bufs.append(state["momentum_buffer"])
            torch._foreach_add_(ps, bufs, alpha=-group["lr"])


class TorchSGD(torch.optim.SGD):
    """Forbidden: torch.optim.SGD itself."""

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)


class FunctionalSGD(torch.optim.Optimizer):
    """Forbidden: torch.optim's functional form."""

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        from torch.optim.sgd import sgd
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            bufs = [self.state[p].get("momentum_buffer") for p in ps]
            sgd(ps, [p.grad for p in ps], bufs, weight_decay=group["weight_decay"], momentum=group["momentum"],
                lr=group["lr"], dampening=0.0, nesterov=False, maximize=False)
            for p, b in zip(ps, bufs):
                self.state[p]["momentum_buffer"] = b


class NotAnOptimizer:
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        self.params = list(params)

    def step(self):
        pass


class LoopRMSProp(torch.optim.Optimizer):
    """Correct with explicit formulas, out of place, a step counter; `mistake` switches in one known mistake."""
    mistake = ""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p
                state = self.state[p]
                state["step"] = state.get("step", torch.tensor(0.0)) + 1
                v = state.get("square_avg", torch.zeros_like(p))
                a = group["alpha"]
                v = a * v + (1 - a) * g ** 2 if self.mistake != "alpha swapped" else (1 - a) * v + a * g ** 2
                state["square_avg"] = v
                if self.mistake == "eps inside":
                    p -= group["lr"] * g / torch.sqrt(v + group["eps"])
                else:
                    p -= group["lr"] * g / (torch.sqrt(v) + group["eps"])


class ForeachRMSProp(torch.optim.Optimizer):
    """Correct, with torch._foreach_*."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            grads = torch._foreach_add([p.grad for p in ps], ps, alpha=group["weight_decay"])
            avgs = [self.state[p].setdefault("square_avg", torch.zeros_like(p)) for p in ps]
            torch._foreach_mul_(avgs, group["alpha"])
            torch._foreach_addcmul_(avgs, grads, grads, value=1 - group["alpha"])
            denom = torch._foreach_add(torch._foreach_sqrt(avgs), group["eps"])
            torch._foreach_addcdiv_(ps, grads, denom, value=-group["lr"])


class LoopAdam(torch.optim.Optimizer):
    """Correct the textbook way (m̂, v̂ spelled out, step kept as a tensor as PyTorch does);
    `mistake` switches in one known mistake."""
    mistake = ""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

    def step(self):
        with torch.no_grad():
            for group in self.param_groups:
                lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
                decoupled = group["decoupled"] != (self.mistake == "swap decay")
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad
                    if decoupled:
                        p.mul_(1 - (wd if self.mistake == "unscaled" else lr * wd))
                    else:
                        g = g + wd * p
                    state = self.state[p]
                    if len(state) == 0:
                        state["step"] = torch.tensor(0.0)
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    state["step"] += 1
                    t = state["step"].item()
                    state["exp_avg"] = b1 * state["exp_avg"] + (1 - b1) * g
                    state["exp_avg_sq"] = b2 * state["exp_avg_sq"] + (1 - b2) * g * g
                    if self.mistake == "no bias correction":
                        m_hat, v_hat = state["exp_avg"], state["exp_avg_sq"]
                    else:
                        m_hat = state["exp_avg"] / (1 - b1 ** t)
                        v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                    if self.mistake == "eps inside":
                        p -= lr * m_hat / (v_hat + eps).sqrt()
                    elif self.mistake == "paper eps":
                        p -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * state["exp_avg"] / (
                            state["exp_avg_sq"].sqrt() + eps)
                    else:
                        p -= lr * m_hat / (v_hat.sqrt() + eps)


class ForeachAdam(torch.optim.Optimizer):
    """Correct, vectorised with torch._foreach_* over each group, step as an int."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            if group["decoupled"]:
                torch._foreach_mul_(ps, 1 - lr * wd)
                grads = [p.grad for p in ps]
            else:
                grads = torch._foreach_add([p.grad for p in ps], ps, alpha=wd)
            for p in ps:
                st = self.state[p]
                if not st:
                    st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                st["step"] += 1
            ms = [self.state[p]["exp_avg"] for p in ps]
            vs = [self.state[p]["exp_avg_sq"] for p in ps]
            torch._foreach_lerp_(ms, grads, 1 - b1)
            torch._foreach_mul_(vs, b2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
            for p, m, v in zip(ps, ms, vs):
                t = self.state[p]["step"]
                denom = (v / (1 - b2 ** t)).sqrt_().add_(eps)
                p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))


class AdamViaFunctional(torch.optim.Optimizer):
    """Forbidden: torch.optim.adam.adam, the functional form."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

    @torch.no_grad()
    def step(self):
        from torch.optim.adam import adam
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            for p in ps:
                if not self.state[p]:
                    self.state[p].update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p),
                                         exp_avg_sq=torch.zeros_like(p))
            adam(ps, [p.grad for p in ps], [self.state[p]["exp_avg"] for p in ps],
                 [self.state[p]["exp_avg_sq"] for p in ps], [], [self.state[p]["step"] for p in ps],
                 amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1], lr=group["lr"],
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
                 decoupled_weight_decay=group["decoupled"])


def variant(cls, mistake):
    return type(f"{cls.__name__}", (cls,), {"mistake": mistake})


# ------------------------------------------------------------------ correct answers pass

def test_reference_passes_every_optimizer_check():
    hidden.sgd_momentum_matches_torch(REF["SGDMomentum"])
    hidden.rmsprop_matches_torch(REF["RMSProp"])
    hidden.adam_matches_torch(REF["Adam"])
    hidden.adam_decoupled_matches_adamw(REF["Adam"])
    hidden.optimizers_param_groups(REF["SGDMomentum"], REF["RMSProp"], REF["Adam"])


def test_other_correct_answers_pass():
    for sgd in (LoopSGD, ForeachSGD):
        hidden.sgd_momentum_matches_torch(sgd)
    hidden.rmsprop_matches_torch(LoopRMSProp)
    for adam in (LoopAdam, ForeachAdam):
        hidden.adam_matches_torch(adam)
        hidden.adam_decoupled_matches_adamw(adam)
    hidden.optimizers_param_groups(LoopSGD, ForeachRMSProp, ForeachAdam)
    hidden.optimizers_param_groups(ForeachSGD, LoopRMSProp, LoopAdam)


# ------------------------------------------------------------------ each mistake fails, named

def test_dampened_momentum(few_cases):
    fails(hidden.sgd_momentum_matches_torch, variant(LoopSGD, "dampened"),
          says=["dampened momentum", "after step 1 of 5"])


def test_lr_folded_into_the_buffer_is_caught_by_the_state_and_by_a_schedule(few_cases):
    fails(hidden.sgd_momentum_matches_torch, variant(LoopSGD, "lr in buffer"),
          says=["self.state[p]['momentum_buffer']", "lr folded into the momentum buffer"])
    fails(hidden.optimizers_param_groups, variant(LoopSGD, "lr in buffer"), REF["RMSProp"], REF["Adam"],
          says=["change between steps", "lr folded into the momentum buffer"])


def test_hyper_parameters_read_once(few_cases):
    msg = fails(hidden.optimizers_param_groups, variant(LoopSGD, "self.defaults"), REF["RMSProp"], REF["Adam"],
                says=["the constructor's hyper-parameters used for every param group", "made for that group alone"])
    assert "RMSProp" not in msg and "Adam(" not in msg, msg
    fails(hidden.optimizers_param_groups, variant(LoopSGD, "lr cached"), REF["RMSProp"], REF["Adam"],
          says=["change between steps", "lr read once at construction"])


def test_a_none_grad_not_skipped(few_cases):
    fails(hidden.optimizers_param_groups, variant(LoopSGD, "no skip"), REF["RMSProp"], REF["Adam"],
          says=["must be skipped", "at step 1"])


def test_param_groups_are_judged_apart_from_the_update_rule(few_cases):
    """A wrong update rule costs its own question, not this one: groups are checked against the learner's own
    optimizer, one per group."""
    hidden.optimizers_param_groups(variant(LoopSGD, "dampened"), variant(LoopRMSProp, "eps inside"),
                                   variant(LoopAdam, "no bias correction"))
    # With a wrong rule the schedule is judged by its effect: a cached lr makes the scheduled steps the same.
    msg = fails(hidden.optimizers_param_groups, variant(LoopSGD, "dampened, lr cached"), REF["RMSProp"],
                REF["Adam"], says="changing group['lr'] between steps did not change the steps")
    assert "RMSProp" not in msg and "Adam(" not in msg, msg


def test_rmsprop_mistakes(few_cases):
    fails(hidden.rmsprop_matches_torch, variant(LoopRMSProp, "eps inside"), says="eps inside the square root")
    fails(hidden.rmsprop_matches_torch, variant(LoopRMSProp, "alpha swapped"), says="alpha and 1 − alpha swapped")


def test_adam_mistakes(few_cases):
    fails(hidden.adam_matches_torch, variant(LoopAdam, "no bias correction"), says="Adam without bias correction")
    fails(hidden.adam_matches_torch, variant(LoopAdam, "eps inside"), says="eps inside the square root")
    fails(hidden.adam_matches_torch, variant(LoopAdam, "paper eps"), says="eps added before the bias correction")
    fails(hidden.adam_matches_torch, variant(LoopAdam, "swap decay"),
          says="decoupled weight decay (AdamW's p ← p·(1 − lr·wd)) where decoupled=False")
    fails(hidden.adam_decoupled_matches_adamw, variant(LoopAdam, "swap decay"),
          says="coupled weight decay (Adam's grad + wd·p) where decoupled=True")
    fails(hidden.adam_decoupled_matches_adamw, variant(LoopAdam, "unscaled"),
          says="decoupled weight decay not scaled by lr")


def test_forbidden_and_malformed_answers(few_cases):
    fails(hidden.sgd_momentum_matches_torch, TorchSGD, says="torch.optim's own optimizer (torch/optim/sgd.py)")
    fails(hidden.sgd_momentum_matches_torch, FunctionalSGD, says="torch.optim's own optimizer (torch/optim/sgd.py)")
    fails(hidden.adam_matches_torch, AdamViaFunctional, says="torch/optim/adam.py")
    fails(hidden.sgd_momentum_matches_torch, NotAnOptimizer, says="is not a torch.optim.Optimizer")
    fails(hidden.sgd_momentum_matches_torch, REF["RMSProp"], says="SGDMomentum(")  # the wrong class: a clean failure


def test_unanswered_stub_says_so():
    class Stub(torch.optim.Optimizer):
        def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
            raise NotImplementedError()

    class HalfDone(torch.optim.Optimizer):
        def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
            super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

        def step(self, closure=None):
            raise NotImplementedError()

    fails(hidden.sgd_momentum_matches_torch, Stub, says="not answered yet")
    message = fails(hidden.sgd_momentum_matches_torch, HalfDone, says="not answered yet")
    assert "step`" in message and "checks failed" not in message, message


# ------------------------------------------------------------------ schedules

def lr_groups_numpy(lr, n_groups, div=3.0):
    """Correct, with numpy's geomspace, returning an array."""
    if isinstance(lr, slice):
        if lr.start is None:
            return np.array([lr.stop / div] * (n_groups - 1) + [lr.stop])
        return np.geomspace(lr.start, lr.stop, n_groups)
    return np.full(n_groups, lr)


def lr_groups_torch(lr, n_groups, div=3.0):
    """Correct, with torch.logspace, returning a list."""
    if not isinstance(lr, slice):
        return [lr for _ in range(n_groups)]
    if lr.start is None:
        return [lr.stop / div if i < n_groups - 1 else lr.stop for i in range(n_groups)]
    return torch.logspace(math.log10(lr.start), math.log10(lr.stop), n_groups, dtype=torch.float64).tolist()


def lr_groups_mistaken(kind):
    def lr_groups(lr, n_groups, div=3.0):
        if not isinstance(lr, slice):
            return [lr] * n_groups
        lo, hi = lr.start, lr.stop
        if lo is None:
            return [hi] * n_groups if kind == "hi for all" else [hi / div] * (n_groups - 1) + [hi]
        if kind == "linear":
            return list(np.linspace(lo, hi, n_groups))
        return list(np.geomspace(lo, hi, n_groups))
    return lr_groups


def test_lr_groups():
    hidden.lr_groups_values(REF["lr_groups"])
    hidden.lr_groups_values(lr_groups_numpy)
    hidden.lr_groups_values(lr_groups_torch)
    fails(hidden.lr_groups_values, lr_groups_mistaken("hi for all"), says="slice(hi) giving hi to every group")
    fails(hidden.lr_groups_values, lr_groups_mistaken("linear"), says="spaced evenly on a linear scale")
    fails(hidden.lr_groups_values, lambda lr, n, div=3.0: lr, says="return a list")


def one_cycle_written_out(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    """Correct, written another way: numpy's cos, the phases as a table."""
    peak = pct_start * total_steps - 1
    phases = [(0.0, peak, lr_max / div, lr_max, moms[0], moms[1]),
              (peak, total_steps - 1, lr_max, lr_max / div / div_final, moms[1], moms[0])]
    start, end, lr0, lr1, m0, m1 = phases[0] if step <= peak else phases[1]
    w = (np.cos(np.pi * (step - start) / (end - start)) + 1) / 2
    return float(lr1 + (lr0 - lr1) * w), float(m1 + (m0 - m1) * w)


def one_cycle_mistaken(kind):
    def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
        peak = pct_start * total_steps - 1
        if kind == "moms":
            moms = moms[::-1]
        if step <= peak:
            pct, lrs, ms = step / peak, (lr_max / div, lr_max), moms
        else:
            pct = (step - peak) / (total_steps - 1 - peak)
            lrs, ms = (lr_max, lr_max / div / div_final), moms[::-1]
        w = 1 - pct if kind == "linear" else (math.cos(math.pi * pct) + 1) / 2
        return lrs[1] + (lrs[0] - lrs[1]) * w, ms[1] + (ms[0] - ms[1]) * w
    return one_cycle


def one_cycle_with_torch(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    """Forbidden: OneCycleLR itself."""
    opt = torch.optim.Optimizer([torch.zeros(1)], dict(lr=lr_max, momentum=moms[0]))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr_max, total_steps=total_steps, pct_start=pct_start,
                                                div_factor=div, final_div_factor=div_final,
                                                base_momentum=moms[1], max_momentum=moms[0])
    for _ in range(step):
        sched.step()
    return opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]


def test_one_cycle():
    hidden.one_cycle_matches_torch(REF["one_cycle"])
    hidden.one_cycle_matches_torch(one_cycle_written_out)
    hidden.one_cycle_matches_torch(one_cycle_mistaken(""))
    fails(hidden.one_cycle_matches_torch, one_cycle_mistaken("linear"), says="linear annealing instead of cosine")
    fails(hidden.one_cycle_matches_torch, one_cycle_mistaken("moms"),
          says="the momentum moving with the learning rate")
    fails(hidden.one_cycle_matches_torch, one_cycle_with_torch, says="torch/optim/lr_scheduler.py")
    fails(hidden.one_cycle_matches_torch, lambda step, total_steps, lr_max, **kw: lr_max, says="return a pair")
