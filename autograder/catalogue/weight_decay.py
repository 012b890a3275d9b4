"""Answers to 03_weight_decay: correct ones written differently, and plausible mistakes.

The reference `sgd_update` adds the learner's `l2_penalty` to its loss, so a wrong `l2_penalty` also
costs `sgd_update_step`; `sgd_update_decoupled` needs no penalty and is judged on its own.
"""
from . import Variant

VARIANTS = [
    # l2_penalty
    Variant("l2_penalty", "the lesson's loop from 0.", '''
def l2_penalty(params, wd):
    w2 = 0.
    for p in params:
        w2 += (p ** 2).sum()
    return w2 * wd
'''),
    Variant("l2_penalty", "stacked squared norms", '''
def l2_penalty(params, wd):
    return wd * torch.stack([torch.linalg.vector_norm(p) ** 2 for p in params]).sum()
'''),
    Variant("l2_penalty", "L1: wd * Σ|p|", '''
def l2_penalty(params, wd):
    return wd * sum(p.abs().sum() for p in params)
''', loses=("l2_penalty_values", "sgd_update_step")),
    Variant("l2_penalty", "built from .item(): no gradient", '''
def l2_penalty(params, wd):
    return torch.tensor(wd * sum((p ** 2).sum().item() for p in params))
''', loses=("l2_penalty_values", "sgd_update_step")),
    Variant("l2_penalty", "the generator read twice", '''
def l2_penalty(params, wd):
    if not any(True for _ in params):
        return torch.tensor(0.0)
    return wd * sum((p ** 2).sum() for p in params)
''', loses=("l2_penalty_values", "sgd_update_step")),

    # sgd_update
    Variant("sgd_update", "p.data outside no_grad, model.zero_grad()", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    for p in model.parameters():
        p.data -= lr * p.grad.data
    model.zero_grad(set_to_none=True)
    return float(loss)
'''),
    Variant("sgd_update", "torch.autograd.grad, no .grad kept", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    params = list(model.parameters())
    loss = loss_func(model(x), y) + wd * sum((p ** 2).sum() for p in params)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.copy_(p - lr * g)
    return loss.item()
'''),
    Variant("sgd_update", "gradients never zeroed", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
    return loss.item()
''', loses=("sgd_update_step",)),
    Variant("sgd_update", "returns the data loss, without the penalty", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    data_loss = loss_func(model(x), y)
    (data_loss + l2_penalty(model.parameters(), wd)).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()
    return data_loss.item()
''', loses=("sgd_update_step",)),
    Variant("sgd_update", "returns the loss tensor", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad
            p.grad.zero_()
    return loss
''', loses=("sgd_update_step",)),

    # sgd_update_decoupled
    Variant("sgd_update_decoupled", "shrink the weights, then step", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 - 2 * lr * wd)
            p.add_(p.grad, alpha=-lr)
    model.zero_grad()
    return loss.item()
'''),
    Variant("sgd_update_decoupled", "torch.optim.SGD(weight_decay=2 * wd)", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=2 * wd)
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
'''),
    Variant("sgd_update_decoupled", "wd * p instead of 2 * wd * p", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * (p.grad + wd * p)
            p.grad.zero_()
    return loss.item()
''', loses=("sgd_update_decoupled_step",)),
    Variant("sgd_update_decoupled", "no lr on the decay term", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * p.grad + 2 * wd * p
            p.grad.zero_()
    return loss.item()
''', loses=("sgd_update_decoupled_step",)),
    Variant("sgd_update_decoupled", "decay with the wrong sign", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * (p.grad - 2 * wd * p)
            p.grad.zero_()
    return loss.item()
''', loses=("sgd_update_decoupled_step",)),
    Variant("sgd_update_decoupled", "decays twice: penalty in the loss too", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= lr * (p.grad + 2 * wd * p)
            p.grad.zero_()
    return loss.item()
''', loses=("sgd_update_decoupled_step",)),
    Variant("sgd_update_decoupled", "rebinds p = p - ...", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p = p - lr * (p.grad + 2 * wd * p)
    model.zero_grad()
    return loss.item()
''', loses=("sgd_update_decoupled_step",)),
]
