"""The one tolerance helper: compare a value with the expected one and say, in words, how they differ.

    c = compare(actual, expected, what="one_hot(idx, 5)")
    c.passed, c.message, c.largest, c.where

It compares tensors (type, shape, dtype, device, then values within the dtype's tolerance),
Python numbers, strings, booleans, None, and lists, tuples and dicts of them, recursively.
The visible tests and the trusted grader both use it, so a learner reads the same words in
the notebook and in the feedback.
"""
from __future__ import annotations

import math

import torch

from .record import Comparison

# Per-dtype defaults, as torch.testing.assert_close uses.
TOLERANCES = {
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
    torch.float32: (1.3e-6, 1e-5),
    torch.float64: (1e-7, 1e-7),
}
NUMBER_TOLERANCE = (1e-5, 1e-6)  # (rtol, atol) for Python floats


def describe(x) -> str:
    """A short description of a value for messages: `tensor(shape=(2, 3), dtype=float32, device=cpu)`."""
    if hasattr(x, "type_name") and hasattr(x, "text"):  # a value that could not cross from the sandbox as data
        return f"{x.type_name} ({x.text})"
    if isinstance(x, torch.Tensor):
        return f"tensor(shape={tuple(x.shape)}, dtype={str(x.dtype).removeprefix('torch.')}, device={x.device.type})"
    return f"{type(x).__name__} {x!r}"[:120]


def _index(flat_i: int, shape) -> list[int]:
    idx = []
    for n in reversed(shape):
        idx.append(flat_i % n)
        flat_i //= n
    return list(reversed(idx))


def _values(what: str, actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float) -> Comparison:
    """Element-wise comparison of two tensors of the same shape; NaN matches NaN."""
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if a.numel() == 0:
        return Comparison(what, True)
    bad = ~torch.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return Comparison(what, True, largest=float((a - e).abs().nan_to_num(0.0).max()))
    diff = (a - e).abs()
    diff = torch.where(bad & ~torch.isfinite(diff), torch.full_like(diff, math.inf), diff)  # NaN/inf vs finite
    diff = torch.where(torch.isnan(diff), torch.zeros_like(diff), diff)
    flat = int(torch.argmax(torch.where(bad, diff, torch.full_like(diff, -1.0)).reshape(-1)))
    where = _index(flat, a.shape)
    largest, got, want = float(diff.reshape(-1)[flat]), a.reshape(-1)[flat].item(), e.reshape(-1)[flat].item()
    at = f" at index {tuple(where)}" if where else ""
    return Comparison(what, False, f"{int(bad.sum())} of {e.numel()} values differ; the largest difference is "
                                   f"{largest:.3g}{at}: got {got:.6g}, expected {want:.6g} (rtol={rtol:g}, "
                                   f"atol={atol:g}).", largest=largest, where=where, got=got, expected=want)


def _tensor(what, actual, expected: torch.Tensor, rtol, atol, check_dtype, check_device) -> Comparison:
    if not isinstance(actual, torch.Tensor):
        return Comparison(what, False, f"expected a tensor like {describe(expected)}, got {describe(actual)}.")
    if actual.shape != expected.shape:
        hint = ""
        if actual.dim() == expected.dim() + 1 and actual.shape[-1] == 1:
            hint = " It has an extra trailing dimension of size 1: squeeze it."
        elif actual.dim() == 2 and expected.dim() == 1 and actual.shape[0] == actual.shape[1] == expected.shape[0]:
            hint = " A (B,) tensor plus a (B, 1) tensor broadcasts to (B, B): squeeze the (B, 1) one first."
        return Comparison(what, False, f"shape {tuple(actual.shape)}, expected {tuple(expected.shape)}.{hint}")
    if check_dtype and actual.dtype != expected.dtype:
        hint = ("keep the dtype of the inputs: don't hard-code float32 or call .float()"
                if actual.is_floating_point() and expected.is_floating_point()
                else f"convert the result with .to({str(expected.dtype).removeprefix('torch.')})")
        return Comparison(what, False, f"dtype {str(actual.dtype).removeprefix('torch.')}, expected "
                                       f"{str(expected.dtype).removeprefix('torch.')} ({hint}).")
    if check_device and actual.device.type != expected.device.type:
        return Comparison(what, False, f"on {actual.device.type}, expected on {expected.device.type} (create new "
                                       "tensors on the device of the inputs: device=x.device).")
    if expected.dtype == torch.bool or not expected.is_floating_point():
        rtol = atol = 0.0
    else:
        default_rtol, default_atol = TOLERANCES.get(expected.dtype, (0.0, 0.0))
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
    return _values(what, actual, expected, rtol, atol)


def _number(what, actual, expected, rtol, atol) -> Comparison:
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        if isinstance(actual, torch.Tensor) and actual.numel() == 1:
            return Comparison(what, False, f"expected a Python number, got {describe(actual)}; call .item() on it.")
        return Comparison(what, False, f"expected a Python number, got {describe(actual)}.")
    if isinstance(expected, int) and not isinstance(actual, int):
        return Comparison(what, False, f"expected a Python int, got {describe(actual)}.")
    rtol = NUMBER_TOLERANCE[0] if rtol is None else rtol
    atol = NUMBER_TOLERANCE[1] if atol is None else atol
    if math.isnan(expected) and math.isnan(actual) or math.isclose(actual, expected, rel_tol=rtol, abs_tol=atol):
        return Comparison(what, True, largest=0.0 if math.isnan(expected) else abs(actual - expected))
    largest = abs(actual - expected) if math.isfinite(actual - expected) else math.inf
    return Comparison(what, False, f"got {actual!r}, expected {expected!r} (difference {largest:.3g}).",
                      largest=largest, got=float(actual), expected=float(expected))


def compare(actual, expected, what: str = "the result", *, rtol: float | None = None, atol: float | None = None,
            check_dtype: bool = True, check_device: bool = True) -> Comparison:
    """Compare `actual` with `expected`; the returned `Comparison` says whether they match and, if not, how.

    Tolerances default to torch.testing's for the expected tensor's dtype (exact for integers
    and booleans); lists, tuples and dicts are compared element by element, and the message
    names the first element that differs (`params after step 2 [1]`).
    """
    if hasattr(actual, "type_name") and hasattr(actual, "text") and not hasattr(expected, "type_name"):
        return Comparison(what, False, f"got {describe(actual)}.")
    if isinstance(expected, torch.Tensor):
        return _tensor(what, actual, expected, rtol, atol, check_dtype, check_device)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return _number(what, actual, expected, rtol, atol)
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)):
            return Comparison(what, False, f"expected a {type(expected).__name__} of {len(expected)}, "
                                           f"got {describe(actual)}.")
        if len(actual) != len(expected):
            return Comparison(what, False, f"{len(actual)} items, expected {len(expected)}.")
        return _all(what, [(f"{what} [{i}]", a, e) for i, (a, e) in enumerate(zip(actual, expected))],
                    rtol, atol, check_dtype, check_device)
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return Comparison(what, False, f"expected a dict with keys {sorted(expected)}, got {describe(actual)}.")
        if set(actual) != set(expected):
            return Comparison(what, False, f"keys {sorted(map(str, actual))}, expected {sorted(expected)}.")
        return _all(what, [(f"{what} [{k!r}]", actual[k], e) for k, e in expected.items()],
                    rtol, atol, check_dtype, check_device)
    if type(actual) is not type(expected) or actual != expected:
        return Comparison(what, False, f"got {describe(actual)}, expected {describe(expected)}.")
    return Comparison(what, True)


def _all(what, items, rtol, atol, check_dtype, check_device) -> Comparison:
    """The first mismatching element's comparison, else a pass carrying the largest difference."""
    largest = 0.0
    for name, a, e in items:
        c = compare(a, e, name, rtol=rtol, atol=atol, check_dtype=check_dtype, check_device=check_device)
        if not c.passed:
            return c
        largest = max(largest, c.largest or 0.0)
    return Comparison(what, True, largest=largest)
