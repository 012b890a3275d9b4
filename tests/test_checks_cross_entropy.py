"""The hidden tests of 05_cross_entropy pass correct answers written in other ways and fail (naming it) each
known mistake: learner-style implementations, written here, fed to `autograder.checks.cross_entropy`."""
import inspect
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.checks import cross_entropy as hidden
from solutions import cross_entropy as reference

pytestmark = pytest.mark.cross_entropy


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
    for words in ([says] if isinstance(says, str) else says):
        assert words in message, message
    return message


@pytest.fixture
def few_cases(monkeypatch):
    """Mistakes are named on the first cases that show them: fewer cases keep these tests fast."""
    monkeypatch.setattr(hidden, "FLOAT_DTYPES", (torch.float32,))
    monkeypatch.setattr(hidden, "MAGNITUDES", hidden.MAGNITUDES[:3])
    monkeypatch.setattr(hidden, "DIM_SHAPES", (((4, 5), -1), ((2, 3, 4), 1)))
    monkeypatch.setattr(hidden, "LOSS_SHAPES", ((4, 5),))


def reduce(loss, reduction):
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


# ------------------------------------------------------------------ correct answers, written other ways

def softmax_detached_max(logits, dim=-1):
    e = torch.exp(logits - logits.max(dim, keepdim=True).values.detach())
    return e / e.sum(dim, keepdim=True)


def softmax_in_place(logits, dim=-1):
    """In place on its input (autograd allows it: the max is detached, nothing saved is overwritten)."""
    logits -= logits.amax(dim=dim, keepdim=True).detach()
    logits.exp_()
    return logits / logits.sum(dim=dim, keepdim=True)


def logsumexp_max_values(x, dim=-1):
    m = x.max(dim).values  # x's shape without dim
    return m + torch.log(torch.sum(torch.exp(x - m.unsqueeze(dim)), dim=dim))


def softmax_via_logsumexp(logits, dim=-1):
    return torch.exp(logits - logsumexp_max_values(logits, dim).unsqueeze(dim))


def log_softmax_via_logsumexp(logits, dim=-1):
    return logits - logsumexp_max_values(logits, dim).unsqueeze(dim)


def nll_loss_indexing(log_probs, target, reduction="mean"):
    return reduce(-log_probs[torch.arange(len(target), device=target.device), target], reduction)


def nll_loss_loop(log_probs, target, reduction="mean"):
    losses = torch.stack([-log_probs[i, t] for i, t in enumerate(target.tolist())])
    return reduce(losses, reduction)


def nll_loss_one_hot(log_probs, target, reduction="mean"):
    mask = F.one_hot(target, log_probs.shape[1]).to(log_probs.dtype)  # (B, C)
    return reduce(-(log_probs * mask).sum(1), reduction)


def cross_entropy_direct(logits, target, reduction="mean"):
    picked = logits.gather(1, target[:, None])[:, 0]  # (B,)
    return reduce(logsumexp_max_values(logits, 1) - picked, reduction)


def binary_cross_entropy_log1p(p, y, reduction="mean"):
    loss = -(y * torch.log(p) + (1 - y) * torch.log1p(-p))
    return {"mean": torch.mean, "sum": torch.sum, "none": lambda t: t}[reduction](loss)


def test_reference_passes_every_check():
    hidden.binary_cross_entropy_values(REF["binary_cross_entropy"])
    hidden.softmax_values(REF["softmax"])
    hidden.logsumexp_values(REF["logsumexp"])
    hidden.log_softmax_values(REF["log_softmax"])
    hidden.nll_loss_values(REF["nll_loss"])
    hidden.cross_entropy_values(REF["cross_entropy"])


def test_other_correct_answers_pass():
    hidden.binary_cross_entropy_values(binary_cross_entropy_log1p)
    for softmax in (softmax_detached_max, softmax_in_place, softmax_via_logsumexp):
        hidden.softmax_values(softmax)
    hidden.logsumexp_values(logsumexp_max_values)
    hidden.log_softmax_values(log_softmax_via_logsumexp)
    for nll_loss in (nll_loss_indexing, nll_loss_loop, nll_loss_one_hot):
        hidden.nll_loss_values(nll_loss)
    hidden.cross_entropy_values(cross_entropy_direct)


# ------------------------------------------------------------------ each mistake fails, named

def softmax_no_max(logits, dim=-1):
    return logits.exp() / logits.exp().sum(dim, keepdim=True)


def softmax_last_dim(logits, dim=-1):
    return REF["softmax"](logits)


def test_softmax_mistakes(few_cases):
    fails(hidden.softmax_values, softmax_no_max, says=["no max subtraction", "logits up to ±4e4"])
    fails(hidden.softmax_values, softmax_last_dim, says="softmax along the last dimension whatever `dim` says")
    fails(hidden.softmax_values, lambda logits, dim=-1: F.softmax(logits, dim), says="uses F.softmax")
    fails(hidden.softmax_values, lambda logits, dim=-1: logits.softmax(dim), says="uses torch.Tensor.softmax")
    fails(hidden.softmax_values, lambda logits, dim=-1: softmax_detached_max(logits, dim).detach(),
          says="the result has no gradient")



def test_softmax_in_the_wrong_dtype_or_through_numpy(few_cases, monkeypatch):
    monkeypatch.setattr(hidden, "FLOAT_DTYPES", (torch.float64,))
    fails(hidden.softmax_values, lambda logits, dim=-1: softmax_detached_max(logits, dim).float(), says="dtype")
    fails(hidden.softmax_values, lambda logits, dim=-1: torch.tensor(
        np.exp(logits.detach().cpu().numpy()) / np.exp(logits.detach().cpu().numpy()).sum(dim, keepdims=True)),
        says=["the result has no gradient", "no max subtraction"])  # numpy: no gradient, and it overflows


def test_logsumexp_mistakes(few_cases):
    fails(hidden.logsumexp_values, lambda x, dim=-1: x.exp().sum(dim).log(), says="no max subtraction")
    fails(hidden.logsumexp_values, lambda x, dim=-1: (x - x.amax(dim, keepdim=True)).exp().sum(dim).log(),
          says="the max subtracted inside but not added back")
    fails(hidden.logsumexp_values, lambda x, dim=-1: torch.logsumexp(x, dim), says="uses torch.logsumexp")
    fails(hidden.logsumexp_values, lambda x, dim=-1: x.logsumexp(dim), says="uses torch.Tensor.logsumexp")
    fails(hidden.logsumexp_values, lambda x, dim=-1: logsumexp_max_values(x, dim).unsqueeze(dim),
          says="extra")  # keepdim left on: the shape message says so


def test_log_softmax_mistakes(few_cases):
    fails(hidden.log_softmax_values, lambda x, dim=-1: REF["softmax"](x, dim).log(),
          says=["the log of softmax", "logits up to ±4e4"])
    fails(hidden.log_softmax_values, lambda x, dim=-1: x - x.exp().sum(dim, keepdim=True).log(),
          says="no max subtraction")
    fails(hidden.log_softmax_values, lambda x, dim=-1: x.log_softmax(dim), says="uses torch.Tensor.log_softmax")
    fails(hidden.log_softmax_values, lambda x, dim=-1: REF["log_softmax"](x, dim) / math.log(10),
          says="base-10 logarithms")


def test_nll_loss_mistakes(few_cases):
    fails(hidden.nll_loss_values, lambda lp, t, reduction="mean": nll_loss_indexing(lp, t, "sum"),
          says="the sum instead of the mean")
    fails(hidden.nll_loss_values,
          lambda lp, t, reduction="mean": -(lp * F.one_hot(t, lp.shape[1]).to(lp.dtype)).mean() if
          reduction == "mean" else nll_loss_indexing(lp, t, reduction),
          says="the mean over every entry (B × C) instead of over the batch")
    fails(hidden.nll_loss_values, lambda lp, t, reduction="mean": -nll_loss_indexing(lp, t, reduction),
          says="the sign flipped")
    fails(hidden.nll_loss_values, lambda lp, t, reduction="mean": F.nll_loss(lp, t, reduction=reduction),
          says="uses F.nll_loss")


def test_cross_entropy_mistakes(few_cases):
    def naive(x, t, reduction="mean"):
        return nll_loss_indexing(x - x.exp().sum(1, keepdim=True).log(), t, reduction)

    def log_of_softmax(x, t, reduction="mean"):
        return nll_loss_indexing(softmax_detached_max(x, 1).log(), t, reduction)

    def log10(x, t, reduction="mean"):
        return nll_loss_indexing(torch.log10(softmax_detached_max(x, 1)), t, reduction)

    def summed(x, t, reduction="mean"):
        return REF["cross_entropy"](x, t, "sum" if reduction == "mean" else reduction)

    fails(hidden.cross_entropy_values, naive, says=["no max subtraction", "logits up to ±4e4"])
    fails(hidden.cross_entropy_values, log_of_softmax, says="the log of softmax")
    fails(hidden.cross_entropy_values, log10, says="base-10 logarithms")
    fails(hidden.cross_entropy_values, summed, says="the sum instead of the mean")
    fails(hidden.cross_entropy_values, lambda x, t, reduction="mean": F.cross_entropy(x, t, reduction=reduction),
          says="uses F.cross_entropy")
    fails(hidden.cross_entropy_values,
          lambda x, t, reduction="mean": nll_loss_indexing(torch.log_softmax(x, 1), t, reduction),
          says="uses torch.log_softmax")


def test_binary_cross_entropy_mistakes(few_cases):
    def log10(p, y, reduction="mean"):
        return reduce(-(y * torch.log10(p) + (1 - y) * torch.log10(1 - p)), reduction)

    fails(hidden.binary_cross_entropy_values, log10, says="base-10 logarithms")
    fails(hidden.binary_cross_entropy_values, lambda p, y, reduction="mean": reduce(-(y * p.log()), reduction),
          says="binary_cross_entropy(p, y")
    fails(hidden.binary_cross_entropy_values,
          lambda p, y, reduction="mean": F.binary_cross_entropy(p, y, reduction=reduction),
          says="uses F.binary_cross_entropy")


def test_unanswered_stub_says_so():
    def softmax(logits, dim=-1):
        raise NotImplementedError()
    fails(hidden.softmax_values, softmax, says="not answered yet")
