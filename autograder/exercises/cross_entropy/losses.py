"""05_cross_entropy: answers a learner could write for the losses (binary_cross_entropy, nll_loss, cross_entropy)
and the gradient by hand."""
from ...exercise import alternative, mistake


def _reduce(expr: str = "loss") -> str:
    return f'''
    if reduction == "mean":
        return {expr}.mean()
    if reduction == "sum":
        return {expr}.sum()
    return {expr}'''


def _bce(loss: str, reduce: str = "") -> str:
    return f"def binary_cross_entropy(p, y, reduction=\"mean\"):\n    loss = {loss}" + (reduce or _reduce())


BCE_VARIANTS = [
    alternative("binary_cross_entropy", "log1p, reductions from a table", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -(y * torch.log(p) + (1 - y) * torch.log1p(-p))
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](loss)'''),
    alternative("binary_cross_entropy", "xlogy, the mean as sum / numel", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -torch.xlogy(y, p) - torch.xlogy(1 - y, 1 - p)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / loss.numel()'''),
    alternative("binary_cross_entropy", "p clamped away from 0 and 1 first", '''
def binary_cross_entropy(p, y, reduction="mean"):
    eps = torch.finfo(p.dtype).eps
    p = p.clamp(eps, 1 - eps)
    loss = -(y * p.log() + (1 - y) * (1 - p).log())
    if reduction == "mean":
        return loss.mean()
    elif reduction == "sum":
        return loss.sum()
    return loss'''),
    mistake("binary_cross_entropy", "base-10 logarithms (the lesson's table uses log10; torch.log is the natural log)",
            _bce("-(y * torch.log10(p) + (1 - y) * torch.log10(1 - p))")),
    mistake("binary_cross_entropy", "the sign flipped (the loss is minus the log-likelihood)",
            _bce("y * torch.log(p) + (1 - y) * torch.log(1 - p)")),
    mistake("binary_cross_entropy", "log(p) in both terms (the second term is (1 − y)·log(1 − p))",
            _bce("-(y * torch.log(p) + (1 - y) * torch.log(p))")),
    mistake("binary_cross_entropy", "leaving out the (1 − y)·log(1 − p) term (what a dog costs)",
            _bce("-y * torch.log(p)")),
    mistake("binary_cross_entropy", "reduction ignored (always the mean)", '''
def binary_cross_entropy(p, y, reduction="mean"):
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()'''),
    mistake("binary_cross_entropy", "the sum for reduction='mean'", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    return loss if reduction == "none" else loss.sum()'''),
    mistake("binary_cross_entropy", "F.binary_cross_entropy (forbidden)", '''
def binary_cross_entropy(p, y, reduction="mean"):
    return F.binary_cross_entropy(p, y, reduction=reduction)'''),
]

LOSS_VARIANTS = [
    # ------------------------------------------------------------------ nll_loss
    alternative("nll_loss", "fancy indexing with arange", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs[torch.arange(len(target), device=target.device), target]
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()'''),
    alternative("nll_loss", "a loop over the rows", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = torch.stack([-log_probs[i, t] for i, t in enumerate(target.tolist())])''' + _reduce()),
    alternative("nll_loss", "a one-hot mask", '''
def nll_loss(log_probs, target, reduction="mean"):
    mask = F.one_hot(target, log_probs.shape[1]).to(log_probs.dtype)
    loss = -(log_probs * mask).sum(1)''' + _reduce()),
    mistake("nll_loss", "the sum instead of the mean", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs.gather(1, target[:, None])[:, 0]
    return loss if reduction == "none" else loss.sum()''', also=("cross_entropy_values",)),
    mistake("nll_loss", "the mean over every entry (B × C) instead of over the batch (B rows)", '''
def nll_loss(log_probs, target, reduction="mean"):
    picked = -log_probs * F.one_hot(target, log_probs.shape[1]).to(log_probs.dtype)''' + _reduce("picked") + ".sum(1)",
            also=("cross_entropy_values",)),
    mistake("nll_loss", "log_probs[:, target] (a B × B matrix, not one entry per row)", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs[:, target]''' + _reduce(), also=("cross_entropy_values",)),
    mistake("nll_loss", "the sign flipped (the loss is minus the log-probability)", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = log_probs.gather(1, target[:, None])[:, 0]''' + _reduce(), also=("cross_entropy_values",)),
    mistake("nll_loss", "F.nll_loss (forbidden)", '''
def nll_loss(log_probs, target, reduction="mean"):
    return F.nll_loss(log_probs, target, reduction=reduction)''', also=("cross_entropy_values",)),

    # ------------------------------------------------------------------ cross_entropy
    alternative("cross_entropy", "logsumexp minus the picked logit", '''
def cross_entropy(logits, target, reduction="mean"):
    m = logits.amax(1, keepdim=True)
    lse = (m + (logits - m).exp().sum(1, keepdim=True).log()).squeeze(1)
    loss = lse - logits.gather(1, target[:, None])[:, 0]''' + _reduce()),
    alternative("cross_entropy", "the learner's logsumexp, one-hot targets", '''
def cross_entropy(logits, target, reduction="mean"):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    loss = -(one_hot * (logits - logsumexp(logits, 1)[:, None])).sum(1)
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()'''),
    alternative("cross_entropy", "log_softmax with its default dim (the last one, 1 for (B, C))", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(log_softmax(logits), target, reduction=reduction)'''),
    mistake("cross_entropy", "probabilities given to nll_loss (softmax, without the log)", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(softmax(logits, dim=1), target, reduction)'''),
    mistake("cross_entropy", "the softmax taken over the batch (dim 0) instead of over the classes (dim 1)", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(log_softmax(logits, dim=0), target, reduction)'''),
    mistake("cross_entropy", "a Python number (.item()) for the reduced loss (no gradient flows back)", '''
def cross_entropy(logits, target, reduction="mean"):
    loss = nll_loss(log_softmax(logits, dim=1), target, reduction)
    return loss if reduction == "none" else loss.item()'''),
    mistake("cross_entropy", "F.cross_entropy (forbidden)", '''
def cross_entropy(logits, target, reduction="mean"):
    return F.cross_entropy(logits, target, reduction=reduction)'''),
    mistake("cross_entropy", "nn.CrossEntropyLoss (forbidden: it is F.cross_entropy)", '''
def cross_entropy(logits, target, reduction="mean"):
    return nn.CrossEntropyLoss(reduction=reduction)(logits, target)'''),

    # ------------------------------------------------------------------ cross_entropy_grad
    alternative("cross_entropy_grad", "subtract 1 at each row's target, in place on the probabilities", '''
def cross_entropy_grad(logits, target):
    g = softmax(logits, dim=1).clone()
    g[torch.arange(len(target), device=logits.device), target] -= 1
    return g / len(target)'''),
    alternative("cross_entropy_grad", "exp of the learner's log_softmax minus F.one_hot", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (log_softmax(logits, dim=1).exp() - one_hot) / logits.shape[0]'''),
    alternative("cross_entropy_grad", "rows of the identity, on the logits' device and in their dtype", '''
def cross_entropy_grad(logits, target):
    B, C = logits.shape
    eye = torch.eye(C, dtype=logits.dtype, device=logits.device)
    return (softmax(logits, 1) - eye[target]) / B'''),
    mistake("cross_entropy_grad", "the gradient of the summed loss (no division by B)", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return softmax(logits, dim=1) - one_hot'''),
    mistake("cross_entropy_grad", "missing the one-hot subtraction (softmax / B)", '''
def cross_entropy_grad(logits, target):
    return softmax(logits, dim=1) / logits.shape[0]'''),
    mistake("cross_entropy_grad", "dividing by B × C (the mean over every entry) instead of by B", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (softmax(logits, dim=1) - one_hot) / logits.numel()'''),
    mistake("cross_entropy_grad", "one_hot − softmax (the sign flipped: that is the direction down the loss)", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (one_hot - softmax(logits, dim=1)) / logits.shape[0]'''),
    mistake("cross_entropy_grad", "the softmax over the batch (dim 0) instead of over the classes (dim 1)", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (softmax(logits, dim=0) - one_hot) / logits.shape[0]'''),
    mistake("cross_entropy_grad", "torch.eye(C) made on the CPU (make it on logits.device)", '''
def cross_entropy_grad(logits, target):
    B, C = logits.shape
    return (softmax(logits, 1) - torch.eye(C, dtype=logits.dtype)[target.cpu()]) / B''', cuda_only=True),
    mistake("cross_entropy_grad", "autograd (forbidden: the point is the gradient by hand)", '''
def cross_entropy_grad(logits, target):
    x = logits.detach().requires_grad_()
    cross_entropy(x, target).backward()
    return x.grad'''),
    mistake("cross_entropy_grad", "torch.autograd.grad (forbidden: the point is the gradient by hand)", '''
def cross_entropy_grad(logits, target):
    x = logits.detach().requires_grad_()
    return torch.autograd.grad(cross_entropy(x, target), x)[0]'''),
    mistake("cross_entropy_grad", "torch.softmax (forbidden: use your own softmax)", '''
def cross_entropy_grad(logits, target):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    return (torch.softmax(logits, 1) - one_hot) / logits.shape[0]'''),
]
