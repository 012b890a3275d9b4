"""Answers to 05_cross_entropy: correct ones written differently, and plausible mistakes.

The reference `cross_entropy` calls the learner's own `log_softmax` and `nll_loss`, so a mistake in either
also costs `cross_entropy_values` (unless it only shows on a case cross_entropy never makes, e.g. a dim other
than the last).
"""
from . import Variant

VARIANTS = [
    # ------------------------------------------------------------------ binary_cross_entropy
    Variant("binary_cross_entropy", "log1p, reductions from a table", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -(y * torch.log(p) + (1 - y) * torch.log1p(-p))
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](loss)
'''),
    Variant("binary_cross_entropy", "xlogy, the mean as sum / numel", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -torch.xlogy(y, p) - torch.xlogy(1 - y, 1 - p)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / loss.numel()
'''),
    Variant("binary_cross_entropy", "p clamped away from 0 and 1 first", '''
def binary_cross_entropy(p, y, reduction="mean"):
    eps = torch.finfo(p.dtype).eps
    p = p.clamp(eps, 1 - eps)
    loss = -(y * p.log() + (1 - y) * (1 - p).log())
    if reduction == "mean":
        return loss.mean()
    elif reduction == "sum":
        return loss.sum()
    return loss
'''),
    Variant("binary_cross_entropy", "base-10 logarithms (the lesson's table)", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -(y * torch.log10(p) + (1 - y) * torch.log10(1 - p))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''', loses=("binary_cross_entropy_values",)),
    Variant("binary_cross_entropy", "the sign flipped", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = y * torch.log(p) + (1 - y) * torch.log(1 - p)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''', loses=("binary_cross_entropy_values",)),
    Variant("binary_cross_entropy", "log(p) in both terms", '''
def binary_cross_entropy(p, y, reduction="mean"):
    loss = -(y * torch.log(p) + (1 - y) * torch.log(p))
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''', loses=("binary_cross_entropy_values",)),
    Variant("binary_cross_entropy", "reduction ignored (always the mean)", '''
def binary_cross_entropy(p, y, reduction="mean"):
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
''', loses=("binary_cross_entropy_values",)),
    Variant("binary_cross_entropy", "F.binary_cross_entropy (forbidden)", '''
def binary_cross_entropy(p, y, reduction="mean"):
    return F.binary_cross_entropy(p, y, reduction=reduction)
''', loses=("binary_cross_entropy_values",)),

    # ------------------------------------------------------------------ softmax
    Variant("softmax", "max().values, detached", '''
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.max(dim, keepdim=True).values.detach())
    return e / e.sum(dim, keepdim=True)
'''),
    Variant("softmax", "in place on its input", '''
def softmax(logits, dim=-1):
    logits -= logits.amax(dim=dim, keepdim=True).detach()
    logits.exp_()
    return logits / logits.sum(dim=dim, keepdim=True)
'''),
    Variant("softmax", "exp of x minus its logsumexp", '''
def softmax(logits, dim=-1):
    m = logits.max(dim).values
    lse = m + torch.log(torch.sum(torch.exp(logits - m.unsqueeze(dim)), dim=dim))
    return torch.exp(logits - lse.unsqueeze(dim))
'''),
    Variant("softmax", "no max subtraction", '''
def softmax(logits, dim=-1):
    e = logits.exp()
    return e / e.sum(dim, keepdim=True)
''', loses=("softmax_values",)),
    Variant("softmax", "along the last dimension whatever dim says", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)
''', loses=("softmax_values",)),
    Variant("softmax", "normalised over the whole tensor", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max()).exp()
    return e / e.sum()
''', loses=("softmax_values",)),
    Variant("softmax", "the max without keepdim (broadcasts along the wrong axis)", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max(dim).values).exp()
    return e / e.sum(dim, keepdim=True)
''', loses=("softmax_values",)),
    Variant("softmax", "detached result (no gradient)", '''
def softmax(logits, dim=-1):
    x = logits.detach()
    e = (x - x.amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)
''', loses=("softmax_values",)),
    Variant("softmax", "F.softmax (forbidden)", '''
def softmax(logits, dim=-1):
    return F.softmax(logits, dim=dim)
''', loses=("softmax_values",)),

    # ------------------------------------------------------------------ logsumexp
    Variant("logsumexp", "max().values, unsqueeze", '''
def logsumexp(x, dim=-1):
    m = x.max(dim).values
    return m + torch.log(torch.sum(torch.exp(x - m.unsqueeze(dim)), dim=dim))
'''),
    Variant("logsumexp", "keepdim then squeeze, detached max", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim=dim, keepdim=True).detach()
    return (m + (x - m).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim)
'''),
    Variant("logsumexp", "no max subtraction", '''
def logsumexp(x, dim=-1):
    return x.exp().sum(dim).log()
''', loses=("logsumexp_values",)),
    Variant("logsumexp", "the max not added back", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim, keepdim=True)
    return (x - m).exp().sum(dim).log()
''', loses=("logsumexp_values",)),
    Variant("logsumexp", "keepdim left on", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim, keepdim=True)
    return m + (x - m).exp().sum(dim, keepdim=True).log()
''', loses=("logsumexp_values",)),
    Variant("logsumexp", "along the last dimension whatever dim says", '''
def logsumexp(x, dim=-1):
    m = x.amax(-1)
    return m + (x - m.unsqueeze(-1)).exp().sum(-1).log()
''', loses=("logsumexp_values",)),
    Variant("logsumexp", "torch.logsumexp (forbidden)", '''
def logsumexp(x, dim=-1):
    return torch.logsumexp(x, dim)
''', loses=("logsumexp_values",)),

    # ------------------------------------------------------------------ log_softmax
    Variant("log_softmax", "x minus the learner's logsumexp", '''
def log_softmax(logits, dim=-1):
    return logits - logsumexp(logits, dim).unsqueeze(dim)
'''),
    Variant("log_softmax", "written out with max().values", '''
def log_softmax(logits, dim=-1):
    m = logits.max(dim=dim, keepdim=True).values
    return logits - m - torch.log(torch.exp(logits - m).sum(dim=dim, keepdim=True))
'''),
    Variant("log_softmax", "the log of softmax", '''
def log_softmax(logits, dim=-1):
    return softmax(logits, dim).log()
''', loses=("log_softmax_values", "cross_entropy_values")),
    Variant("log_softmax", "no max subtraction", '''
def log_softmax(logits, dim=-1):
    return logits - logits.exp().sum(dim, keepdim=True).log()
''', loses=("log_softmax_values", "cross_entropy_values")),
    Variant("log_softmax", "along the last dimension whatever dim says", '''
def log_softmax(logits, dim=-1):
    x = logits - logits.amax(-1, keepdim=True)
    return x - x.exp().sum(-1, keepdim=True).log()
''', loses=("log_softmax_values",)),
    Variant("log_softmax", "torch.log_softmax (forbidden)", '''
def log_softmax(logits, dim=-1):
    return torch.log_softmax(logits, dim)
''', loses=("log_softmax_values", "cross_entropy_values")),

    # ------------------------------------------------------------------ nll_loss
    Variant("nll_loss", "fancy indexing with arange", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs[torch.arange(len(target), device=target.device), target]
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()
'''),
    Variant("nll_loss", "a loop over the rows", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = torch.stack([-log_probs[i, t] for i, t in enumerate(target.tolist())])
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
'''),
    Variant("nll_loss", "a one-hot mask", '''
def nll_loss(log_probs, target, reduction="mean"):
    mask = F.one_hot(target, log_probs.shape[1]).to(log_probs.dtype)
    loss = -(log_probs * mask).sum(1)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
'''),
    Variant("nll_loss", "the sum instead of the mean", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs[torch.arange(len(target)), target]
    return loss if reduction == "none" else loss.sum()
''', loses=("nll_loss_values", "cross_entropy_values")),
    Variant("nll_loss", "the mean over every entry (B x C)", '''
def nll_loss(log_probs, target, reduction="mean"):
    picked = -log_probs * F.one_hot(target, log_probs.shape[1]).to(log_probs.dtype)
    if reduction == "mean":
        return picked.mean()
    if reduction == "sum":
        return picked.sum()
    return picked.sum(1)
''', loses=("nll_loss_values", "cross_entropy_values")),
    Variant("nll_loss", "log_probs[:, target] (a B x B matrix)", '''
def nll_loss(log_probs, target, reduction="mean"):
    loss = -log_probs[:, target]
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
''', loses=("nll_loss_values", "cross_entropy_values")),
    Variant("nll_loss", "F.nll_loss (forbidden)", '''
def nll_loss(log_probs, target, reduction="mean"):
    return F.nll_loss(log_probs, target, reduction=reduction)
''', loses=("nll_loss_values", "cross_entropy_values")),

    # ------------------------------------------------------------------ cross_entropy
    Variant("cross_entropy", "logsumexp minus the picked logit", '''
def cross_entropy(logits, target, reduction="mean"):
    m = logits.amax(1, keepdim=True)
    lse = (m + (logits - m).exp().sum(1, keepdim=True).log()).squeeze(1)
    loss = lse - logits.gather(1, target[:, None])[:, 0]
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss
'''),
    Variant("cross_entropy", "the learner's logsumexp, one-hot targets", '''
def cross_entropy(logits, target, reduction="mean"):
    one_hot = F.one_hot(target, logits.shape[1]).to(logits.dtype)
    loss = -(one_hot * (logits - logsumexp(logits, 1)[:, None])).sum(1)
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()
'''),
    Variant("cross_entropy", "log_softmax with its default dim (the last one, 1 for (B, C))", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(log_softmax(logits), target, reduction=reduction)
'''),
    Variant("cross_entropy", "the log of the learner's softmax", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(softmax(logits, 1).log(), target, reduction)
''', loses=("cross_entropy_values",)),
    Variant("cross_entropy", "probabilities given to nll_loss (softmax, no log)", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(softmax(logits, dim=1), target, reduction)
''', loses=("cross_entropy_values",)),
    Variant("cross_entropy", "the softmax over the batch (dim 0)", '''
def cross_entropy(logits, target, reduction="mean"):
    return nll_loss(log_softmax(logits, dim=0), target, reduction)
''', loses=("cross_entropy_values",)),
    Variant("cross_entropy", "a Python number (.item()) for the reduced loss", '''
def cross_entropy(logits, target, reduction="mean"):
    loss = nll_loss(log_softmax(logits, dim=1), target, reduction)
    return loss if reduction == "none" else loss.item()
''', loses=("cross_entropy_values",)),
    Variant("cross_entropy", "F.cross_entropy (forbidden)", '''
def cross_entropy(logits, target, reduction="mean"):
    return F.cross_entropy(logits, target, reduction=reduction)
''', loses=("cross_entropy_values",)),
]
