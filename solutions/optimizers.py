"""Reference solutions for 04_optimizers.ipynb: momentum, RMSProp, Adam, their schedules and the lr finder.

Each optimizer is a ``torch.optim.Optimizer`` subclass written from its update rule, and
matches the PyTorch optimizer named in its docstring step for step:

- ``SGDMomentum`` ≡ ``torch.optim.SGD(lr, momentum, weight_decay)`` (no dampening, no Nesterov)
- ``RMSProp``     ≡ ``torch.optim.RMSprop(lr, alpha, eps, weight_decay)`` (not centred, no momentum)
- ``Adam``        ≡ ``torch.optim.Adam`` (``decoupled=False``) or ``torch.optim.AdamW``
  (``decoupled=True``; AdamW's own default ``weight_decay`` is 0.01, ours is 0.0).

Each one reads its hyper-parameters from every param group (so groups may differ),
skips parameters whose ``.grad`` is ``None``, keeps its state in ``self.state[p]``, runs
``step`` under ``torch.no_grad()`` and accepts a ``closure`` as PyTorch's optimizers do.
Invalid hyper-parameters raise ``ValueError`` with PyTorch's messages.

Choices of the reference (not part of the graded contract):
- ``SGDMomentum`` always keeps ``momentum_buffer`` (``torch.optim.SGD`` keeps none when
  ``momentum=0``); the parameters are the same either way.
- ``Adam`` keeps ``step`` as a Python int (PyTorch keeps a 0-dim tensor).
- ``lr_groups(slice(lo, hi), 1)`` is ``[hi]``, as fastai's ``even_mults(lo, hi, 1)`` gives
  ``hi``; a slice whose start is ``0`` or ``None`` counts as ``slice(hi)``, as in fastai.
- ``one_cycle`` raises ``ValueError`` for a step outside ``[0, total_steps - 1]``, and
  ``ZeroDivisionError`` where ``OneCycleLR`` does (warm-up ending exactly at step 0,
  i.e. ``pct_start * total_steps == 1``).
- ``lr_find`` with ``num_it=1`` takes one step at ``start_lr``; it zeroes the gradients
  before each backward pass and takes the step even after the loss that stops it (the
  model and the optimizer are restored anyway). It restores the optimizer with
  ``load_state_dict``, so its param groups' learning rates come back too.
- ``suggest_lr`` skips losses that are not finite (the diverging loss that stopped
  ``lr_find`` may be ``inf`` or ``nan``); a tie goes to the first, smallest lr.

The ``q_*`` names are the answers of the notebook's questionnaire.
"""
import copy
import math

import torch

__all__ = ["SGDMomentum", "RMSProp", "Adam", "lr_groups", "one_cycle", "lr_find", "suggest_lr"]


class SGDMomentum(torch.optim.Optimizer):
    """buf ← momentum·buf + (grad + wd·p)  (buf = grad + wd·p at the first step);  p ← p − lr·buf."""

    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.add(p, alpha=wd)  # grad + wd·p: the gradient of the L2 penalty wd/2·p²
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = grad.clone()  # first step: buf = grad
                else:
                    state["momentum_buffer"].mul_(momentum).add_(grad)  # buf ← momentum·buf + grad
                p.add_(state["momentum_buffer"], alpha=-lr)  # p ← p − lr·buf
        return loss


class RMSProp(torch.optim.Optimizer):
    """square_avg ← alpha·square_avg + (1 − alpha)·grad²;  p ← p − lr·grad / (√square_avg + eps)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.add(p, alpha=wd)  # grad + wd·p (L2 penalty)
                state = self.state[p]
                if "square_avg" not in state:
                    state["square_avg"] = torch.zeros_like(p)  # moving average of grad², p's shape
                square_avg = state["square_avg"]
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)  # α·v + (1 − α)·grad²
                p.addcdiv_(grad, square_avg.sqrt().add_(eps), value=-lr)  # eps outside the √, as torch
        return loss


class Adam(torch.optim.Optimizer):
    """m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + eps)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd, decoupled = group["weight_decay"], group["decoupled"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if decoupled:
                    p.mul_(1 - lr * wd)  # AdamW: shrink the weights themselves
                else:
                    grad = grad.add(p, alpha=wd)  # Adam + L2: grad + wd·p goes through m and v
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)  # m: moving average of grad
                    state["exp_avg_sq"] = torch.zeros_like(p)  # v: moving average of grad²
                state["step"] += 1
                t, exp_avg, exp_avg_sq = state["step"], state["exp_avg"], state["exp_avg_sq"]
                exp_avg.lerp_(grad, 1 - beta1)  # m ← β1·m + (1 − β1)·grad
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)  # v ← β2·v + (1 − β2)·grad²
                bias_correction1 = 1 - beta1**t  # m and v start at 0: unbias them
                bias_correction2 = 1 - beta2**t
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(eps)  # √v̂ + eps
                p.addcdiv_(exp_avg, denom, value=-lr / bias_correction1)  # p ← p − lr·m̂ / (√v̂ + eps)
        return loss


def lr_groups(lr, n_groups, div=3.0):
    """lr → [lr]·n;  slice(hi) → [hi/div]·(n−1) + [hi];  slice(lo, hi) → n values lo…hi evenly spaced in log."""
    if n_groups < 1:
        raise ValueError(f"n_groups must be at least 1, got {n_groups}")
    if not isinstance(lr, slice):
        return [float(lr)] * n_groups
    lo, hi = lr.start, lr.stop
    if not lo:  # slice(hi): the last group gets hi, the others hi / div
        return [hi / div] * (n_groups - 1) + [float(hi)]
    if n_groups == 1:  # fastai's even_mults(lo, hi, 1) is hi
        return [float(hi)]
    step = (hi / lo) ** (1 / (n_groups - 1))  # the ratio of neighbouring groups
    return [lo * step**i for i in range(n_groups)]


def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    """(lr, momentum) at `step`, as OneCycleLR: cosine from lr_max/div up to lr_max (momentum moms[0] → moms[1])
    until step pct_start·total_steps − 1, then cosine down to lr_max/div/div_final (momentum back to moms[0])."""
    if not 0 <= step <= total_steps - 1:
        raise ValueError(f"step must lie in [0, {total_steps - 1}], got {step}")
    if not 0.0 <= pct_start <= 1.0:
        raise ValueError(f"pct_start must lie in [0, 1], got {pct_start}")
    lr_start = lr_max / div  # the first lr
    lr_end = lr_start / div_final  # the last lr
    mom_max, mom_min = moms
    warmup_end = float(pct_start * total_steps) - 1  # the step where lr peaks (as OneCycleLR)
    if step <= warmup_end:  # phase 1: lr up, momentum down
        pct = step / warmup_end
        lr_from, lr_to, mom_from, mom_to = lr_start, lr_max, mom_max, mom_min
    else:  # phase 2: lr down, momentum back up
        pct = (step - warmup_end) / (total_steps - 1 - warmup_end)
        lr_from, lr_to, mom_from, mom_to = lr_max, lr_end, mom_min, mom_max
    cos_out = (math.cos(math.pi * pct) + 1) / 2  # 1 → 0 as pct goes 0 → 1
    return lr_to + (lr_from - lr_to) * cos_out, mom_to + (mom_from - mom_to) * cos_out


def lr_find(model, loss_func, opt, batches, start_lr=1e-7, end_lr=10.0, num_it=100, stop_div=True):
    """lr_i = start_lr·(end_lr/start_lr)^(i/(num_it−1)); loss_i before step i; stop after a loss > 4·min or not finite."""
    saved_model = copy.deepcopy(model.state_dict())  # copies: a state_dict holds the live tensors
    saved_opt = copy.deepcopy(opt.state_dict())
    lrs, losses, best = [], [], math.inf
    batch_iter = iter(batches)
    try:
        for i in range(num_it):
            lr = start_lr * (end_lr / start_lr) ** (i / (num_it - 1)) if num_it > 1 else start_lr
            for group in opt.param_groups:
                group["lr"] = lr
            try:
                x, y = next(batch_iter)
            except StopIteration:  # cycle through the batches again
                batch_iter = iter(batches)
                x, y = next(batch_iter)
            loss = loss_func(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            lrs.append(lr)
            losses.append(loss.item())  # the raw loss, before this step
            best = min(best, losses[-1])
            if stop_div and (not math.isfinite(losses[-1]) or losses[-1] > 4 * best):
                break
    finally:  # put the model and the optimizer back as they were
        model.load_state_dict(saved_model)
        opt.load_state_dict(saved_opt)
    return lrs, losses


def suggest_lr(lrs, losses):
    """lrs[argmin(losses)] / 10, over the losses that are finite."""
    finite = [i for i, loss in enumerate(losses) if math.isfinite(loss)]
    if not finite:
        raise ValueError("suggest_lr: no finite loss to choose from")
    best = min(finite, key=lambda i: losses[i])  # the first of equal lowest losses
    return lrs[best] / 10


# The questionnaire's answers.
q_momentum_buffer = 2.71
q_adam_first_step = "b"
q_adamw_default = 0.01
q_one_cycle_momentum = "b"
q_optimizer_in_update = "c"
