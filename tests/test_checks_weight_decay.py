"""The hidden tests of 03_weight_decay pass correct answers written in other ways and fail (naming it) each
known mistake: learner-style implementations, written here, fed to `autograder.checks.weight_decay`."""
import inspect

import pytest
import torch

from autograder.checks import weight_decay as hidden
from solutions import weight_decay as reference

pytestmark = pytest.mark.weight_decay


def as_learner(module):
    """The reference module's names, compiled as if a learner had typed them (solutions/ code is flagged)."""
    ns = {}
    exec(compile(inspect.getsource(module), "<learner>", "exec"), ns)
    return ns


REF = as_learner(reference)


def fails(check, answer, says=()):
    """Run a check that must fail; return its message, which must contain each of `says`."""
    with pytest.raises(AssertionError) as info:
        check(answer)
    message = str(info.value)
    assert "the test stopped early" not in message, message  # a bug in the check, not in the answer
    for words in ([says] if isinstance(says, str) else says):
        assert words in message, message
    return message


# ------------------------------------------------------------------ l2_penalty

def l2_lesson(params, wd):
    """The lesson's loop: start from 0. and add."""
    w2 = 0.
    for p in params:
        w2 += (p ** 2).sum()
    return w2 * wd


def l2_stack(params, wd):
    return wd * torch.stack([p.pow(2).sum() for p in params]).sum()


def l2_norm_squared(params, wd):
    return wd * sum(torch.linalg.vector_norm(p) ** 2 for p in params)


def l2_l1(params, wd):
    return wd * sum(p.abs().sum() for p in params)


def l2_norm(params, wd):
    return wd * torch.sqrt(sum((p ** 2).sum() for p in params))


def l2_half(params, wd):
    return wd / 2 * sum((p ** 2).sum() for p in params)


def l2_item(params, wd):
    return torch.tensor(wd * sum((p ** 2).sum().item() for p in params))


def l2_twice(params, wd):
    """Wrong for a generator: the second pass sees nothing."""
    n = sum(1 for _ in params)
    return wd * sum((p ** 2).sum() for p in params) if n else torch.tensor(0.0)


@pytest.mark.parametrize("answer", [REF["l2_penalty"], l2_lesson, l2_stack, l2_norm_squared])
def test_l2_penalty_accepts(answer):
    hidden.l2_penalty_values(answer)


@pytest.mark.parametrize("answer, says", [
    (l2_l1, "the L1 penalty"),
    (l2_norm, "the norm wd * sqrt"),
    (l2_half, "PyTorch's weight_decay convention"),
    (l2_item, "the penalty has no gradient"),
    (l2_twice, "got float 0.0"),
    (reference.l2_penalty, "the reference solutions"),
])
def test_l2_penalty_rejects(answer, says):
    fails(hidden.l2_penalty_values, answer, says)


# ------------------------------------------------------------------ sgd_update

def penalty(model, wd):
    return wd * sum((p ** 2).sum() for p in model.parameters())


def sgd_lesson(model, loss_func, x, y, lr, wd=0.0):
    """The lesson's update, p.sub_ and p.grad.zero_()."""
    y_hat = model(x)
    loss = loss_func(y_hat, y) + penalty(model, wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(lr * p.grad)
            p.grad.zero_()
    return loss.item()


def sgd_data_and_none(model, loss_func, x, y, lr, wd=0.0):
    """Correct: p.data outside no_grad, grads set to None by model.zero_grad()."""
    loss = loss_func(model(x), y) + penalty(model, wd)
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad.data
    model.zero_grad(set_to_none=True)
    return float(loss)


def sgd_torch_optim(model, loss_func, x, y, lr, wd=0.0):
    """Correct: plain torch.optim.SGD (no state) on the regularised loss."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss = loss_func(model(x), y) + REF["l2_penalty"](model.parameters(), wd)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()


def sgd_autograd_grad(model, loss_func, x, y, lr, wd=0.0):
    """Correct: torch.autograd.grad, so p.grad is never filled."""
    params = list(model.parameters())
    loss = loss_func(model(x), y) + penalty(model, wd)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.copy_(p - lr * g)
    return loss.item()


def sgd_no_zero_grad(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + penalty(model, wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()


def sgd_returns_data_loss(model, loss_func, x, y, lr, wd=0.0):
    data_loss = loss_func(model(x), y)
    (data_loss + penalty(model, wd)).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()
    return data_loss.item()


def sgd_minus_penalty(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) - penalty(model, wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()
    return loss.item()


def sgd_returns_tensor(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + penalty(model, wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()
    return loss


def sgd_zero_grad_first(model, loss_func, x, y, lr, wd=0.0):
    """Zeroes before backward: the right steps, but the gradients are left behind."""
    model.zero_grad()
    loss = loss_func(model(x), y) + penalty(model, wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()


def sgd_no_no_grad(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + penalty(model, wd)
    loss.backward()
    for p in model.parameters():
        p -= lr * p.grad
        p.grad.zero_()
    return loss.item()


def sgd_wd_default(model, loss_func, x, y, lr, wd=0.1):
    return sgd_lesson(model, loss_func, x, y, lr, wd)


@pytest.mark.parametrize("answer", [REF["sgd_update"], sgd_lesson, sgd_data_and_none, sgd_torch_optim,
                                    sgd_autograd_grad])
def test_sgd_update_accepts(answer):
    hidden.sgd_update_step(answer)


@pytest.mark.parametrize("answer, says", [
    (sgd_no_zero_grad, "not zeroing the gradients after the step"),
    (sgd_returns_data_loss, "returning the data loss without the penalty"),
    (sgd_minus_penalty, "subtracting the penalty from the loss"),
    (sgd_returns_tensor, "call .item()"),
    (sgd_zero_grad_first, "still holds its gradient"),
    (sgd_no_no_grad, "a leaf Variable that requires grad"),
    (sgd_wd_default, "wd not given (0)"),
    (reference.sgd_update, "the reference solutions"),
])
def test_sgd_update_rejects(answer, says):
    fails(hidden.sgd_update_step, answer, says)


# ------------------------------------------------------------------ sgd_update_decoupled

def decoupled_lesson(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.sub_(lr * (p.grad + 2 * wd * p))
            p.grad.zero_()
    return loss.item()


def decoupled_shrink_first(model, loss_func, x, y, lr, wd=0.0):
    """Correct: shrink the weights, then step (the same arithmetic, in another order)."""
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 - 2 * lr * wd)
            p.add_(p.grad, alpha=-lr)
    model.zero_grad()
    return loss.item()


def decoupled_into_grad(model, loss_func, x, y, lr, wd=0.0):
    """Correct: add the decay to p.grad, then a plain step."""
    loss = loss_func(model(x), y)
    loss.backward()
    for p in model.parameters():
        p.grad.data.add_(p.data, alpha=2 * wd)
        p.data.add_(p.grad.data, alpha=-lr)
        p.grad = None
    return loss.item()


def decoupled_torch_sgd(model, loss_func, x, y, lr, wd=0.0):
    """Correct: torch.optim.SGD's weight_decay adds weight_decay * p to the gradient."""
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=2 * wd)
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()


def decoupled_mistake(mistake):
    def update(model, loss_func, x, y, lr, wd=0.0):
        data_loss = loss_func(model(x), y)
        loss = data_loss + penalty(model, wd) if mistake in ("penalty too", "returns regularised") else data_loss
        if mistake == "returns regularised":
            data_loss.backward()
        else:
            loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                if mistake == "wd":
                    p -= lr * (p.grad + wd * p)
                elif mistake == "no lr on decay":
                    p -= lr * p.grad + 2 * wd * p
                elif mistake == "decay sign":
                    p -= lr * (p.grad - 2 * wd * p)
                elif mistake == "rebinding":
                    p = p - lr * (p.grad + 2 * wd * p)
                else:
                    p -= lr * (p.grad + 2 * wd * p)
                if mistake != "no zero_grad":
                    p.grad = None
        return loss.item()
    update.__name__ = "sgd_update_decoupled"
    return update


@pytest.mark.parametrize("answer", [REF["sgd_update_decoupled"], decoupled_lesson, decoupled_shrink_first,
                                    decoupled_into_grad, decoupled_torch_sgd])
def test_sgd_update_decoupled_accepts(answer):
    hidden.sgd_update_decoupled_step(answer)


@pytest.mark.parametrize("mistake, says", [
    ("no zero_grad", "not zeroing the gradients after the step"),
    ("wd", "`wd * p` instead of `2 * wd * p`"),
    ("no lr on decay", "without lr on the decay term"),
    ("decay sign", "adding the decay"),
    ("penalty too", "decaying twice"),
    ("returns regularised", "returning the loss with the penalty added"),
    ("rebinding", "rebinding `p = p - ...`"),
])
def test_sgd_update_decoupled_rejects(mistake, says):
    fails(hidden.sgd_update_decoupled_step, decoupled_mistake(mistake), says)


def test_the_decoupled_check_names_the_equivalence_with_sgd_update():
    """The L2 update passed as the decoupled one fails on the returned loss, not on the parameters."""
    message = fails(hidden.sgd_update_decoupled_step, sgd_lesson, "returning the loss with the penalty added")
    assert "parameter" not in message


# ------------------------------------------------------------------ stubs

def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [hidden.l2_penalty_values, hidden.sgd_update_step,
                                   hidden.sgd_update_decoupled_step])
def test_an_unanswered_exercise_says_so(check):
    fails(check, stub, "not answered yet")
