"""Hidden tests for 05_cross_entropy: each function is one graded cell, checking one behaviour.

Every function is compared with the reference (`solutions.cross_entropy`) and with PyTorch's own
(`torch.softmax`, `F.cross_entropy`...) in value and gradient, on generated logits from moderate to
magnitude 1e4 (where exp overflows), shapes down to one class and a batch of one, every reduction,
float32 and float64, on every device; PyTorch's softmax, log-softmax, logsumexp and losses are
forbidden inside. A mismatch that matches a known mistake (no max subtraction, log of softmax, sum
instead of mean, base-10 logarithms...) names it.
"""
import contextlib
import math

import torch
import torch.nn.functional as F

from solutions import cross_entropy as ref

from ..cases import FLOAT_DTYPES, devices, randint, randn, shape_str
from ..report import Question

FORBIDDEN = ("F.cross_entropy", "F.nll_loss", "F.log_softmax", "F.softmax", "torch.softmax", "torch.log_softmax",
             "torch.logsumexp", "F.binary_cross_entropy", "torch.Tensor.softmax", "torch.Tensor.log_softmax",
             "torch.Tensor.logsumexp", "torch.special.softmax", "torch.special.log_softmax",
             "torch.special.logsumexp", "F.softmin", "F.binary_cross_entropy_with_logits")
REDUCTIONS = ("mean", "sum", "none")
LN10 = math.log(10.0)

# Logits: (label, scale, shift). exp overflows float32 above ~88 and float64 above ~709, and underflows to 0
# below about −103 and −745: the last three make an answer without the max trick give inf, nan or −inf.
MAGNITUDES = (("moderate logits", 1.0, 0.0), ("logits up to ±4e4", 1e4, 0.0),
              ("logits near +1e4", 10.0, 1e4), ("logits near −1e4", 10.0, -1e4))
# (shape, dim) for the functions that take `dim`: a batch of one, one class, 1-D, 3-D along each axis.
DIM_SHAPES = (((4, 5), -1), ((1, 3), -1), ((3, 1), -1), ((6,), 0), ((2, 3, 4), 1), ((2, 3, 4), 0))
# (B, C) for the losses: a batch of one, one class, more classes than rows.
LOSS_SHAPES = ((4, 5), (1, 3), (3, 1), (2, 10))


@contextlib.contextmanager
def _one_thread():
    """PyTorch's CPU softmax kernels wake every thread even for a 4 × 5 tensor (milliseconds per call on a busy
    machine); the cases here are tiny, so one thread is faster. The setting is restored afterwards."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


_isclose = torch.isclose  # taken at import, before any learner code runs


def _close(q, what, actual, expected, tol: dict, mistakes=None) -> None:
    """q.compare, with a fast pass for the common case; `mistakes()` is only built to explain a mismatch."""
    if (isinstance(actual, torch.Tensor) and actual.shape == expected.shape and actual.dtype == expected.dtype
            and actual.device == expected.device
            and bool(_isclose(actual.detach(), expected.detach(), rtol=tol.get("rtol", 1.3e-6),
                              atol=tol.get("atol", 1e-5)).all())):
        return
    q.compare(what, actual, expected, mistakes=mistakes() if mistakes else None, **tol)


def _tolerance(dtype, x: torch.Tensor) -> dict:
    """Rounding of a correct answer grows with the size of the logits: a few ulps of their largest magnitude."""
    rtol, atol = (1e-7, 1e-7) if dtype == torch.float64 else (1.3e-6, 1e-5)
    big = float(x.detach().abs().max()) if x.numel() else 0.0
    return dict(rtol=rtol, atol=max(atol, 16 * torch.finfo(dtype).eps * big))


def _logit_cases(shapes):
    """(label, logits, extra) on every device and dtype for every shape and magnitude."""
    i = 0
    for shape, extra in shapes:
        for label, scale, shift in MAGNITUDES:
            i += 1
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    x = randn(*shape, seed=i, dtype=torch.float64, scale=scale) + shift
                    yield (f"{label} of shape {shape_str(shape)}, {str(dtype)[6:]} on {device.type}",
                           x.to(device, dtype), extra)


def _reduce(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _call(q, fn, x, *args, **kwargs):
    """Run the learner's `fn(x, ...)` on a copy of `x`; return (result, the leaf its gradient flows to).

    The input passed is a non-leaf copy, so an answer that works in place on its input still runs (and the
    caller's `x` is untouched)."""
    xl = x.clone().requires_grad_()
    return q.call(fn, xl.clone(), *args, forbidden=FORBIDDEN, **kwargs), xl


def _gradient(q, what, y, xl, x, ref_fn, tol, *args, **kwargs):
    """The gradient of a weighted sum of the learner's y = fn(xl) with respect to xl equals the reference's."""
    if not isinstance(y, torch.Tensor) or not y.requires_grad:
        raise AssertionError(f"{what}: the result has no gradient: compute it with torch operations on the input "
                             "(no .detach(), .item(), numpy or .data).")
    xr = x.clone().requires_grad_()
    y_ref = ref_fn(xr, *args, **kwargs)
    if y.shape != y_ref.shape:
        return  # the values' check has said so
    w = randn(*y_ref.shape, seed=99, dtype=x.dtype, device=x.device) if y_ref.dim() else torch.ones_like(y_ref)
    (y * w).sum().backward()
    (y_ref * w).sum().backward()
    if xl.grad is None:
        raise AssertionError(f"{what}: no gradient reached the input.")
    _close(q, f"the gradient of {what}", xl.grad, xr.grad, tol)


# --------------------------------------------------------------------------- graded cells

def binary_cross_entropy_values(binary_cross_entropy):
    """binary_cross_entropy(p, y, reduction) equals −(y log p + (1 − y) log(1 − p)), natural log, every reduction;
    gradient with respect to p; no F.binary_cross_entropy."""
    with Question("binary_cross_entropy") as q, _one_thread():
        for i, shape in enumerate(((6,), (3, 4), (1,), (2, 3, 2))):
            for labels in ("hard labels", "soft labels"):
                for dtype in FLOAT_DTYPES:
                    for device in devices():
                        p = torch.sigmoid(randn(*shape, seed=i, dtype=dtype, device=device, scale=2.0))
                        if labels == "hard labels":
                            y = randint(2, shape, seed=i + 10, device=device).to(dtype)
                        else:
                            y = torch.sigmoid(randn(*shape, seed=i + 20, dtype=dtype, device=device))
                        for reduction in REDUCTIONS:
                            what = (f"binary_cross_entropy(p, y, reduction={reduction!r}) for p of shape "
                                    f"{shape_str(shape)} and {labels}, {str(dtype)[6:]} on {device.type}")
                            with q.check(what):
                                got, pl = _call(q, binary_cross_entropy, p, y.clone(), reduction=reduction)
                                want = ref.binary_cross_entropy(p, y, reduction)
                                each = ref.binary_cross_entropy(p, y, "none")
                                mistakes = lambda: {  # noqa: E731
                                    "base-10 logarithms (the lesson's table uses log10; torch.log is the natural "
                                    "log)": want / LN10,
                                    "the sign flipped (the loss is minus the log-likelihood)": -want,
                                    "log(p) in both terms (the second term is (1 − y)·log(1 − p))":
                                        _reduce(-(y * p.log() + (1 - y) * p.log()), reduction),
                                    "the sum instead of the mean": each.sum(), "the mean instead of the sum": each.mean()}
                                tol = _tolerance(dtype, p)
                                _close(q, what, got, want, tol, mistakes)
                                _close(q, f"{what} against F.binary_cross_entropy", got,
                                       F.binary_cross_entropy(p, y, reduction=reduction), tol)
                                _gradient(q, what, got, pl, p, ref.binary_cross_entropy, tol, y,
                                          reduction=reduction)


def _dim_function(q, name, fn, ref_fn, torch_fn, torch_name, mistakes_of):
    for label, x, dim in _logit_cases(DIM_SHAPES):
        what = f"{name}(x, dim={dim}) for {label}"
        with q.check(what):
            got, xl = _call(q, fn, x, dim=dim)
            want = ref_fn(x, dim=dim)
            tol = _tolerance(x.dtype, x)
            _close(q, what, got, want, tol, lambda: mistakes_of(x, dim))
            _close(q, f"{what} against {torch_name}", got, torch_fn(x, dim=dim), tol)
            _gradient(q, what, got, xl, x, ref_fn, tol, dim=dim)


def _other_dim(x, dim):
    """The last dimension when `dim` is not it: what an answer that ignores `dim` uses."""
    return -1 if dim % x.dim() != x.dim() - 1 else None


def softmax_values(softmax):
    """softmax(x, dim) equals torch.softmax for logits up to magnitude 1e4 (finite: the max trick), any dim; gradient."""
    def mistakes(x, dim):
        found = {"no max subtraction (exp overflows to inf, and inf / inf is nan; subtract the max along dim first)":
                 x.exp() / x.exp().sum(dim, keepdim=True),
                 "normalising by the sum over the whole tensor instead of along dim":
                 (x - x.max()).exp() / (x - x.max()).exp().sum()}
        if _other_dim(x, dim) is not None:
            found["softmax along the last dimension whatever `dim` says"] = ref.softmax(x, -1)
        return found
    with Question("softmax") as q, _one_thread():
        _dim_function(q, "softmax", softmax, ref.softmax, torch.softmax, "torch.softmax", mistakes)


def logsumexp_values(logsumexp):
    """logsumexp(x, dim) equals torch.logsumexp for logits up to magnitude 1e4 (finite), shape without dim; gradient."""
    def mistakes(x, dim):
        m = x.amax(dim, keepdim=True)
        found = {"no max subtraction (exp overflows to inf or underflows to 0, whose log is −inf)":
                 x.exp().sum(dim).log(),
                 "the max subtracted inside but not added back (logsumexp(x) = m + log Σ exp(x − m))":
                 (x - m).exp().sum(dim).log()}
        if _other_dim(x, dim) is not None:
            found["logsumexp along the last dimension whatever `dim` says"] = ref.logsumexp(x, -1)
        return found
    with Question("logsumexp") as q, _one_thread():
        _dim_function(q, "logsumexp", logsumexp, ref.logsumexp, torch.logsumexp, "torch.logsumexp", mistakes)


def log_softmax_values(log_softmax):
    """log_softmax(x, dim) equals torch.log_softmax for logits up to magnitude 1e4 (finite, never −inf); gradient."""
    def mistakes(x, dim):
        found = {"the log of softmax (the softmax underflows to 0 for far-below-max logits, and log(0) = −inf; "
                 "use (x − m) − log Σ exp(x − m))": ref.softmax(x, dim).log(),
                 "no max subtraction (exp overflows to inf)": x - x.exp().sum(dim, keepdim=True).log(),
                 "base-10 logarithms": ref.log_softmax(x, dim) / LN10}
        if _other_dim(x, dim) is not None:
            found["log_softmax along the last dimension whatever `dim` says"] = ref.log_softmax(x, -1)
        return found
    with Question("log_softmax") as q, _one_thread():
        _dim_function(q, "log_softmax", log_softmax, ref.log_softmax, torch.log_softmax, "torch.log_softmax", mistakes)


def _loss_cases():
    """(label, logits (B, C), target (B,)) for every shape, magnitude, dtype and device."""
    i = 0
    for shape in LOSS_SHAPES:
        for label, scale, shift in MAGNITUDES:
            i += 1
            target = randint(shape[1], shape[:1], seed=i + 500)
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    x = randn(*shape, seed=i, dtype=torch.float64, scale=scale) + shift
                    yield (f"{label} of shape {shape_str(shape)}, {str(dtype)[6:]} on {device.type}",
                           x.to(device, dtype), target.to(device))


def _loss_mistakes(each, reduction, n_classes):
    """Known mistakes of a loss whose per-row values (B,) are `each`."""
    if reduction == "none":
        return {"base-10 logarithms (torch.log is the natural log)": each / LN10, "the sign flipped": -each}
    found = {"base-10 logarithms (torch.log is the natural log)": _reduce(each, reduction) / LN10,
             "the sign flipped": -_reduce(each, reduction)}
    if reduction == "mean":
        found["the sum instead of the mean"] = each.sum()
        found["the mean over every entry (B × C) instead of over the batch (B rows)"] = each.sum() / (
            each.numel() * n_classes)
    else:
        found["the mean instead of the sum"] = each.mean()
    return found


def nll_loss_values(nll_loss):
    """nll_loss(log_probs, target, reduction) equals F.nll_loss: −log_probs[i, target_i], mean over the batch, sum or
    none; gradient; no F.nll_loss."""
    with Question("nll_loss") as q, _one_thread():
        for label, x, target in _loss_cases():
            log_probs = ref.log_softmax(x, dim=1)
            for reduction in REDUCTIONS:
                what = f"nll_loss(log_probs, target, reduction={reduction!r}) for the log_softmax of {label}"
                with q.check(what):
                    got, xl = _call(q, nll_loss, log_probs, target.clone(), reduction=reduction)
                    want = ref.nll_loss(log_probs, target, reduction)
                    tol = _tolerance(x.dtype, log_probs)
                    _close(q, what, got, want, tol, lambda: _loss_mistakes(
                        ref.nll_loss(log_probs, target, "none"), reduction, x.shape[1]))
                    _close(q, f"{what} against F.nll_loss", got, F.nll_loss(log_probs, target, reduction=reduction),
                           tol)
                    _gradient(q, what, got, xl, log_probs, ref.nll_loss, tol, target, reduction=reduction)


def cross_entropy_values(cross_entropy):
    """cross_entropy(logits, target, reduction) equals F.cross_entropy in value and gradient, for logits up to
    magnitude 1e4, one class, a batch of one, every reduction; no F.cross_entropy, softmax or logsumexp."""
    with Question("cross_entropy") as q, _one_thread():
        for label, x, target in _loss_cases():
            for reduction in REDUCTIONS:
                what = f"cross_entropy(logits, target, reduction={reduction!r}) for {label}"
                with q.check(what):
                    got, xl = _call(q, cross_entropy, x, target.clone(), reduction=reduction)
                    want = ref.cross_entropy(x, target, reduction)
                    mistakes = lambda: {  # noqa: E731
                        "no max subtraction (exp overflows to inf for large logits; subtract the max first)":
                            ref.nll_loss(x - x.exp().sum(1, keepdim=True).log(), target, reduction),
                        "the log of softmax (the softmax underflows to 0 for far-below-max logits, and log(0) = −inf;"
                        " use log_softmax)": ref.nll_loss(ref.softmax(x, 1).log(), target, reduction),
                        "the softmax taken over the batch (dim 0) instead of over the classes (dim 1)":
                            ref.nll_loss(ref.log_softmax(x, 0), target, reduction),
                        **_loss_mistakes(ref.cross_entropy(x, target, "none"), reduction, x.shape[1])}
                    tol = _tolerance(x.dtype, x)
                    _close(q, what, got, want, tol, mistakes)
                    _close(q, f"{what} against F.cross_entropy", got, F.cross_entropy(x, target, reduction=reduction),
                           tol)
                    _gradient(q, what, got, xl, x, ref.cross_entropy, tol, target, reduction=reduction)
