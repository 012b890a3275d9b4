"""Hidden tests for 03_weight_decay: each function is one graded cell, checking one behaviour.

The learner's update functions run side by side with the reference (`solutions.weight_decay`) on
the same model, data and starting point, step after step; after each step the returned loss, the
parameters and the gradients left behind are compared. Each known mistake is replayed here by
`_step` on its own copy of the model, so that a learner's parameters matching it can be named.
"""
import copy

import torch
import torch.nn.functional as F
from torch import nn

from solutions import weight_decay as ref

from ..cases import FLOAT_DTYPES, SEEDS, devices, randint, randn
from ..report import Question

N_STEPS = 3  # the second step shows gradients that pile up; the third, that it goes on
LR = 0.1


def _dtype(t) -> str:
    return str(t).removeprefix("torch.")


# --------------------------------------------------------------------------- l2_penalty

def l2_penalty_values(l2_penalty):
    """l2_penalty(params, wd) is wd * Σ p², a differentiable 0-dim tensor whose gradient is 2 * wd * p."""
    with Question("l2_penalty") as q:
        for seed in SEEDS:
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    for wd in (0.1, 1e-3, 0.0):
                        shapes = ((3, 4), (5,), (2, 2, 2))[:seed + 1]
                        params = [randn(*s, seed=seed * 10 + i, dtype=dtype, device=device).requires_grad_()
                                  for i, s in enumerate(shapes)]
                        what = (f"l2_penalty of {len(params)} {_dtype(dtype)} tensor{'s' * (len(params) > 1)} on "
                                f"{device.type}, wd={wd}")
                        with q.check(what):
                            # a generator, as model.parameters() is: it can be iterated only once
                            pen = q.call(l2_penalty, (p for p in params), wd)
                            q.compare(what, pen, ref.l2_penalty(params, wd), mistakes=_penalty_mistakes(params, wd))
                            if wd:
                                _check_penalty_gradient(q, what, pen, params, wd)
        what = "l2_penalty(model.parameters(), 0.01) for an nn.Linear(4, 3)"
        with q.check(what):
            torch.manual_seed(0)
            model = nn.Linear(4, 3)
            q.compare(what, q.call(l2_penalty, model.parameters(), 0.01), ref.l2_penalty(model.parameters(), 0.01))


@torch.no_grad()
def _penalty_mistakes(params, wd):
    squares = sum((p ** 2).sum() for p in params)
    return {
        "the L1 penalty wd * Σ|p|": wd * sum(p.abs().sum() for p in params),
        "the norm wd * sqrt(Σ p²) instead of its square": wd * squares.sqrt(),
        "the mean of the squares instead of their sum": wd * sum((p ** 2).mean() for p in params),
        "leaving out wd": squares,
        "wd / 2 * Σ p² (PyTorch's weight_decay convention, not the lesson's)": wd / 2 * squares,
    }


def _check_penalty_gradient(q, what, pen, params, wd):
    if not pen.requires_grad:
        raise AssertionError(f"{what}: the penalty has no gradient: don't use .item(), .data, .detach() or numpy, "
                             "or the penalty cannot push the weights down")
    pen.backward()
    for i, p in enumerate(params):
        q.compare(f"{what}: the gradient of tensor {i}", p.grad, 2 * wd * p.detach(),
                  mistakes={"wd * p (the gradient of wd / 2 * p²)": wd * p.detach()})


# --------------------------------------------------------------------------- the problems

class _Problem:
    """A model, a loss function and N_STEPS batches, on one dtype and device."""

    def __init__(self, kind, seed, dtype, device):
        torch.manual_seed(seed)
        if kind == "regression":
            self.model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
            self.loss_func = nn.MSELoss()
            self.x = randn(N_STEPS, 16, 4, seed=seed, dtype=dtype, device=device)
            self.y = randn(N_STEPS, 16, 1, seed=seed + 1, dtype=dtype, device=device)
            self.label = "a Linear-Tanh-Linear net with nn.MSELoss()"
        elif kind == "classification":
            self.model = nn.Linear(5, 3)
            self.loss_func = F.cross_entropy
            self.x = randn(N_STEPS, 12, 5, seed=seed, dtype=dtype, device=device)
            self.y = randint(3, (N_STEPS, 12), seed=seed + 1, device=device)
            self.label = "an nn.Linear classifier with F.cross_entropy"
        else:
            self.model = nn.Sequential(nn.Embedding(10, 3), nn.Flatten(), nn.Linear(6, 1), nn.Flatten(0))
            self.loss_func = lambda y_hat, y: (y_hat - y).abs().mean()
            self.x = randint(10, (N_STEPS, 8, 2), seed=seed, device=device)
            self.y = randn(N_STEPS, 8, seed=seed + 1, dtype=dtype, device=device)
            self.label = "an embedding model with a hand-written L1 loss"
        self.model.to(device, dtype)


def _problems():
    """(problem, wd) pairs: each kind of model in each dtype on each device with wd=0.1, and one call without wd."""
    for seed, kind in zip(SEEDS, ("regression", "classification", "embedding")):
        for dtype in FLOAT_DTYPES:
            for device in devices():
                yield _Problem(kind, seed, dtype, device), 0.1
    yield _Problem("regression", 4, torch.float64, torch.device("cpu")), None  # wd must default to 0


def _penalty(model, wd):
    return wd * sum((p ** 2).sum() for p in model.parameters())


def _step(model, loss_func, x, y, lr, wd, decoupled, mistake=""):
    """One step of either update, with one known `mistake` switched in; returns the loss it would return."""
    data_loss = loss_func(model(x), y)
    penalty = _penalty(model, wd)
    if decoupled and mistake != "penalty too":
        loss = data_loss
    else:
        loss = data_loss - penalty if mistake == "penalty sign" else data_loss + penalty
    loss.backward()
    if decoupled:
        decay = {"wd": wd, "no lr on decay": 2 * wd / lr, "decay sign": -2 * wd}.get(mistake, 2 * wd)
    else:
        decay = 0.0
    with torch.no_grad():
        for p in model.parameters():
            if mistake != "rebinding":
                p -= lr * (p.grad + decay * p)
            if mistake != "no zero_grad":
                p.grad = None
    if mistake == "other loss":  # the loss the other update returns
        return (data_loss + penalty if decoupled else data_loss).item()
    return loss.item()


MISTAKES = {
    False: {
        "no zero_grad": "not zeroing the gradients after the step (they add up over the steps)",
        "penalty sign": "subtracting the penalty from the loss instead of adding it",
        "rebinding": "rebinding `p = p - ...`, which leaves the parameters unchanged (update them in place)",
    },
    True: {
        "no zero_grad": "not zeroing the gradients after the step (they add up over the steps)",
        "wd": "`wd * p` instead of `2 * wd * p` in the step (the gradient of wd * p² is 2 * wd * p)",
        "no lr on decay": "`p -= lr * p.grad + 2 * wd * p`, without lr on the decay term",
        "decay sign": "adding the decay `2 * wd * p` to the weights instead of subtracting it",
        "penalty too": "decaying twice: the penalty in the loss as well as 2 * wd * p in the step",
        "rebinding": "rebinding `p = p - ...`, which leaves the parameters unchanged (update them in place)",
    },
}


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


def _tolerance(dtype):
    return dict(rtol=1e-9, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)


def _run_steps(q, update, name, problem, wd, decoupled):
    """Run the learner's update and the reference side by side for N_STEPS; fail at the first difference."""
    kwargs = {} if wd is None else {"wd": wd}
    wd = wd or 0.0
    learner = copy.deepcopy(problem.model)
    reference = copy.deepcopy(problem.model)
    replays = {m: copy.deepcopy(problem.model) for m in MISTAKES[decoupled]}
    reference_update = ref.sgd_update_decoupled if decoupled else ref.sgd_update
    tol = _tolerance(problem.x.dtype if problem.x.is_floating_point() else problem.y.dtype)
    for k in range(N_STEPS):
        x, y = problem.x[k], problem.y[k]
        what = f"{name}(model, loss_func, x, y, lr={LR}{f', wd={wd}' if kwargs else ''}) step {k + 1}"
        got = q.call(update, learner, problem.loss_func, x, y, LR, **kwargs)
        other = copy.deepcopy(reference)
        expected = reference_update(reference, problem.loss_func, x, y, LR, wd)
        wrong_loss = _step(other, problem.loss_func, x, y, LR, wd, decoupled, mistake="other loss")
        for mistake, model in replays.items():
            _step(model, problem.loss_func, x, y, LR, wd, decoupled, mistake)
        for i, (p, e) in enumerate(zip(_params(learner), _params(reference))):
            q.compare(f"{what}: parameter {i}, shape {tuple(e.shape)}, afterwards", p, e, **tol, mistakes={
                MISTAKES[decoupled][m]: list(model.parameters())[i].detach() for m, model in replays.items()})
        returns = "the data loss, without the penalty" if decoupled else "the loss with the penalty"
        q.compare(f"{what}: the loss it returns ({returns})", got, expected, rtol=1e-5, atol=1e-7, mistakes={
            ("returning the loss with the penalty added" if decoupled else
             "returning the data loss without the penalty"): wrong_loss})
    # After the steps, not after each: gradients that pile up are named by the parameters of step 2.
    stale = [i for i, p in enumerate(learner.parameters()) if p.grad is not None and bool(p.grad.any())]
    if stale:
        raise AssertionError(f"after {N_STEPS} steps, parameter {stale[0]} still holds its gradient: zero the "
                             "gradients after the update (p.grad.zero_(), p.grad = None or model.zero_grad()), "
                             "as the lesson's update does, or the next backward adds to them")


def _check_update(update, name, decoupled):
    with Question(name) as q:
        for problem, wd in _problems():
            what = (f"{name} on {problem.label}, {_dtype(next(problem.model.parameters()).dtype)} on "
                    f"{problem.x.device.type}, {'wd not given (0)' if wd is None else f'wd={wd}'}")
            with q.check(what):
                _run_steps(q, update, name, problem, wd, decoupled)
        if decoupled:
            what = ("after 10 steps with wd=0.1, sgd_update_decoupled's parameters equal sgd_update's "
                    "(the lesson's point: for SGD, weight decay is L2 regularisation)")
            with q.check(what):
                problem = _Problem("regression", 5, torch.float64, torch.device("cpu"))
                learner, reference = copy.deepcopy(problem.model), copy.deepcopy(problem.model)
                for k in range(10):
                    x, y = problem.x[k % N_STEPS], problem.y[k % N_STEPS]
                    q.call(update, learner, problem.loss_func, x, y, LR, wd=0.1)
                    ref.sgd_update(reference, problem.loss_func, x, y, LR, wd=0.1)
                for i, (p, e) in enumerate(zip(_params(learner), _params(reference))):
                    q.compare(f"{what}: parameter {i}", p, e, rtol=1e-9, atol=1e-12)


def sgd_update_step(sgd_update):
    """sgd_update takes the lesson's step on loss + wd * Σ w², returns that loss as a float, and zeroes the grads."""
    _check_update(sgd_update, "sgd_update", decoupled=False)


def sgd_update_decoupled_step(sgd_update_decoupled):
    """sgd_update_decoupled steps w -= lr * (grad + 2 * wd * w), returns the data loss, and matches sgd_update."""
    _check_update(sgd_update_decoupled, "sgd_update_decoupled", decoupled=True)
