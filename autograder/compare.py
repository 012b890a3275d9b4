"""The one tolerance helper: compare a learner's tensor with the reference's and say how they differ."""
from __future__ import annotations

import math

import torch

# Taken at import, which the autograde guard makes happen before any learner code runs.
_isclose = torch.isclose
_as_tensor = torch.as_tensor

# Per-dtype defaults, as torch.testing.assert_close uses.
TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}


class Mismatch(AssertionError):
    """A learner's value differs from the reference's; the message says how."""


def describe(x) -> str:
    """Short description of a value for messages: `tensor(shape=(2, 3), dtype=float32, device=cpu)`."""
    if isinstance(x, torch.Tensor):
        return f"tensor(shape={tuple(x.shape)}, dtype={str(x.dtype).removeprefix('torch.')}, device={x.device})"
    return f"{type(x).__name__} {x!r}"[:120]


def _index(flat_i: int, shape) -> tuple:
    idx = []
    for n in reversed(shape):
        idx.append(flat_i % n)
        flat_i //= n
    return tuple(reversed(idx))


def difference(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float):
    """(largest |actual - expected|, its index, actual there, expected there, number outside tolerance)."""
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if a.numel() == 0:
        return 0.0, (), None, None, 0
    bad = ~_isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    diff = (a - e).abs()
    # NaN or inf against a finite value counts as the largest difference.
    diff = torch.where(bad & ~torch.isfinite(diff), torch.full_like(diff, math.inf), diff)
    diff = torch.where(torch.isnan(diff), torch.zeros_like(diff), diff)
    flat = int(torch.argmax(torch.where(bad, diff, torch.full_like(diff, -1.0)).reshape(-1))) if bad.any() \
        else int(torch.argmax(diff.reshape(-1)))
    where = _index(flat, a.shape)
    return float(diff.reshape(-1)[flat]), where, a.reshape(-1)[flat].item(), e.reshape(-1)[flat].item(), int(bad.sum())


def assert_close(actual, expected, *, what: str = "the result", rtol: float | None = None,
                 atol: float | None = None, check_dtype: bool = True, check_device: bool = True) -> None:
    """Raise `Mismatch` unless `actual` matches `expected` in type, shape, dtype, device and values.

    `what` names the compared thing in the message ("one_hot(idx, 5) for a (2, 3) idx").
    Tolerances default to torch.testing's for the expected dtype.
    """
    if not isinstance(expected, torch.Tensor):
        if isinstance(expected, (int, float)) and not isinstance(expected, bool):
            if not isinstance(actual, (int, float)) or isinstance(actual, bool):
                if isinstance(actual, torch.Tensor) and actual.numel() == 1:
                    raise Mismatch(f"{what}: expected a Python number, got {describe(actual)}; call .item() on it.")
                raise Mismatch(f"{what}: expected a Python number, got {describe(actual)}.")
            rtol_, atol_ = (rtol or 1e-5), (atol or 1e-6)
            if not math.isclose(actual, expected, rel_tol=rtol_, abs_tol=atol_) and not (
                    math.isnan(actual) and math.isnan(expected)):
                raise Mismatch(f"{what}: got {actual!r}, expected {expected!r} "
                               f"(difference {abs(actual - expected):.3g}).")
            return
        if actual != expected:
            raise Mismatch(f"{what}: got {actual!r}, expected {expected!r}.")
        return
    if not isinstance(actual, torch.Tensor):
        raise Mismatch(f"{what}: expected a tensor like {describe(expected)}, got {describe(actual)}.")
    if actual.shape != expected.shape:
        hint = ""
        if actual.dim() == expected.dim() + 1 and actual.shape[-1] == 1:
            hint = " It has an extra trailing dimension of size 1: squeeze it."
        elif actual.dim() == 2 and expected.dim() == 1 and actual.shape[0] == actual.shape[1] == expected.shape[0]:
            hint = " A (B,) tensor plus a (B, 1) tensor broadcasts to (B, B): squeeze the (B, 1) one first."
        raise Mismatch(f"{what}: shape {tuple(actual.shape)}, expected {tuple(expected.shape)}.{hint}")
    if check_dtype and actual.dtype != expected.dtype:
        hint = ("keep the dtype of the inputs: don't hard-code float32 or call .float()"
                if actual.is_floating_point() and expected.is_floating_point()
                else f"convert the result with .to({str(expected.dtype).removeprefix('torch.')})")
        raise Mismatch(f"{what}: dtype {actual.dtype}, expected {expected.dtype} ({hint}).")
    if check_device and actual.device.type != expected.device.type:
        raise Mismatch(f"{what}: on {actual.device}, expected on {expected.device} "
                       "(create new tensors with device=... of the inputs).")
    default_rtol, default_atol = TOLERANCES.get(expected.dtype, (0.0, 0.0))
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    if expected.dtype == torch.bool or not expected.is_floating_point():
        rtol = atol = 0.0
    largest, where, got, want, n_bad = difference(actual, expected, rtol, atol)
    if n_bad:
        raise Mismatch(
            f"{what}: {n_bad} of {expected.numel()} values differ; the largest difference is {largest:.3g} "
            f"at index {where}: got {got:.6g}, expected {want:.6g} (rtol={rtol:g}, atol={atol:g}).")
