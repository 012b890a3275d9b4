"""Reference solutions for 05_cross_entropy.ipynb: softmax and cross-entropy from scratch.

None of these calls PyTorch's own softmax, log-softmax, logsumexp or losses; each equals
its PyTorch counterpart in value and gradient. Natural logarithms throughout (the
lesson's cat/dog table uses base 10: divide by ``log(10)`` to get its numbers).

The max trick: ``log Σ exp(x_j) = m + log Σ exp(x_j − m)`` for any ``m``; with
``m = max_j x_j`` every ``exp`` is at most 1 and the sum at least 1, so nothing
overflows or underflows to ``log(0)``, even for logits of magnitude 1e4 in float32.

Choices of the reference (not part of the graded contract):
- ``logsumexp`` of a row of all ``-inf`` is ``-inf`` and of a row holding ``+inf`` is
  ``+inf``, as ``torch.logsumexp`` gives (an infinite max is not subtracted);
  ``softmax`` and ``log_softmax`` of such rows are ``nan``, as PyTorch's are.
- ``binary_cross_entropy`` is the bare formula, so ``p`` must lie strictly inside
  ``(0, 1)``; ``F.binary_cross_entropy`` clamps ``log`` at ``-100`` for ``p`` of 0 or 1.
- ``nll_loss`` and ``cross_entropy`` take ``(B, C)`` inputs and ``(B,)`` int64 targets
  (``(B, C, d...)`` with ``(B, d...)`` works too, classes along dim 1 as in PyTorch),
  with no class weights and no ``ignore_index``.
- An unknown ``reduction`` raises ``ValueError``.
"""
import torch

__all__ = ["binary_cross_entropy", "softmax", "logsumexp", "log_softmax", "nll_loss", "cross_entropy",
           "cross_entropy_grad"]


def binary_cross_entropy(p, y, reduction="mean"):
    """−(y·log p + (1 − y)·log(1 − p)), then mean, sum or none over the elements."""
    loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))  # p's shape
    reduce = {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}
    if reduction not in reduce:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduce[reduction]()


def softmax(logits, dim=-1):
    """softmax(x)_i = exp(x_i − m) / Σ_j exp(x_j − m), m = max_j x_j."""
    e = (logits - logits.amax(dim, keepdim=True)).exp()  # logits' shape, largest entry 1
    return e / e.sum(dim, keepdim=True)  # logits' shape, sums to 1 along dim


def logsumexp(x, dim=-1):
    """logsumexp(x) = m + log Σ_j exp(x_j − m), m = max_j x_j."""
    m = x.amax(dim, keepdim=True)  # x's shape with dim of size 1
    m = m.masked_fill(m.isinf(), 0)  # rows of -inf (or holding +inf): shift by 0, as torch does
    return (m + (x - m).exp().sum(dim, keepdim=True).log()).squeeze(dim)  # x's shape without dim


def log_softmax(logits, dim=-1):
    """log_softmax(x)_i = (x_i − m) − log Σ_j exp(x_j − m), m = max_j x_j."""
    x = logits - logits.amax(dim, keepdim=True)  # logits' shape, largest entry 0
    return x - x.exp().sum(dim, keepdim=True).log()  # logits' shape


def nll_loss(log_probs, target, reduction="mean"):
    """nll_i = −log_probs[i, target_i], then mean or sum over the batch, or none."""
    loss = -log_probs.gather(1, target.unsqueeze(1)).squeeze(1)  # (B,)
    reduce = {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}
    if reduction not in reduce:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduce[reduction]()


def cross_entropy(logits, target, reduction="mean"):
    """cross_entropy(x, t) = nll_loss(log_softmax(x), t)."""
    return nll_loss(log_softmax(logits, dim=1), target, reduction)  # (B, C) → () or (B,)


def cross_entropy_grad(logits, target):
    """∂ cross_entropy(x, t) / ∂x = (softmax(x) − one_hot(t)) / B, by hand."""
    probs = softmax(logits, dim=1)  # (B, C)
    one_hot = torch.zeros_like(probs).scatter_(1, target.unsqueeze(1), 1.0)  # (B, C), 1 at each row's target
    return (probs - one_hot) / logits.shape[0]  # (B, C)


# The questionnaire's answers (the notebook's answer cells of the same names).
q_softmax_shift = "a"
q_table_loss = 1.0
q_grad_entry = -0.1
