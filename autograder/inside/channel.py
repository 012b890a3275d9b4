"""The data-only channel between the trusted grader and the learner's sandboxed kernel.

A value crosses as two byte strings: a JSON document for its structure and plain values, and
a safetensors file for its tensors. Nothing is pickled, in either direction. What crosses:
None, bools, ints, floats (NaN and infinities too), strings, lists, tuples, dicts with string
keys, slices, and `torch.Tensor`s (kept with their device and whether they require grad).
Anything else is described, not sent: `{"$other": "numpy.ndarray", "repr": "..."}`, so the
grader can tell the learner what their function returned instead.

`decode` is the trusted side's gate: it checks the document's size, depth and node count, that
each tensor it names exists with the stated dtype and shape, and that the tensors' total size
stays within the limit; anything else raises `ChannelError`.

This module runs inside the sandbox too (sent there as source): it imports only the standard
library, torch and safetensors.
"""
from __future__ import annotations

import json
import math

import torch

MAX_JSON_BYTES = 16 * 2**20
MAX_TENSOR_BYTES = 512 * 2**20
MAX_DEPTH = 24
MAX_NODES = 200_000
DTYPES = {str(d).removeprefix("torch."): d for d in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.int8, torch.int16,
    torch.int32, torch.int64, torch.bool)}


class ChannelError(ValueError):
    """What came over the channel is not a well-formed value."""


class Described:
    """A value that could not cross as data: its type's name and (a prefix of) its repr."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, Described) and (self.type_name, self.text) == (other.type_name, other.text)


def _type_name(x) -> str:
    t = type(x)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def encode(value) -> tuple[bytes, bytes]:
    """(JSON bytes, safetensors bytes) for `value`."""
    from safetensors.torch import save
    tensors: dict[str, torch.Tensor] = {}

    def enc(x, depth: int):
        if depth > MAX_DEPTH:
            return {"$other": "nesting", "repr": "nested too deeply"}
        if x is None or type(x) in (bool, int, str):
            return x
        if isinstance(x, float) and (type(x) is float or type(x).__module__ == "numpy"):  # np.float64 is a float
            return float(x) if math.isfinite(x) else {"$float": repr(float(x))}
        if type(x) in (torch.Tensor, torch.nn.Parameter):
            key = f"t{len(tensors)}"
            tensors[key] = x.detach().to("cpu").contiguous().clone()
            return {"$tensor": key, "dtype": str(x.dtype).removeprefix("torch."), "shape": list(x.shape),
                    "device": x.device.type, "requires_grad": bool(x.requires_grad),
                    "parameter": type(x) is torch.nn.Parameter}
        if type(x) is list:
            return [enc(v, depth + 1) for v in x]
        if type(x) in (tuple, torch.Size):
            return {"$tuple": [enc(v, depth + 1) for v in x]}
        if type(x) is dict and all(type(k) is str for k in x):
            return {"$dict": {k: enc(v, depth + 1) for k, v in x.items()}}
        if type(x) is Described:
            return {"$other": x.type_name, "repr": x.text}
        if type(x) is slice:
            return {"$slice": [enc(x.start, depth + 1), enc(x.stop, depth + 1), enc(x.step, depth + 1)]}
        try:
            text = repr(x)[:200]
        except Exception:  # a learner's object whose repr raises
            text = f"<{_type_name(x)}>"
        return {"$other": _type_name(x), "repr": text}

    doc = json.dumps({"v": 1, "value": enc(value, 0)}, allow_nan=False).encode()
    return doc, save(tensors) if tensors else b""


def decode(doc: bytes, blob: bytes, device: str | None = None, max_tensor_bytes: int = MAX_TENSOR_BYTES):
    """The value `encode` made, after checking it; tensors go to `device` (default: the one they came from)."""
    if len(doc) > MAX_JSON_BYTES:
        raise ChannelError(f"the document is {len(doc)} bytes, over the limit of {MAX_JSON_BYTES}")
    if len(blob) > max_tensor_bytes + 2**16:  # the header's JSON besides the data
        raise ChannelError(f"the tensors take {len(blob)} bytes, over the limit of {max_tensor_bytes}")
    try:
        tree = json.loads(doc)
    except (ValueError, RecursionError) as exc:
        raise ChannelError(f"the document is not JSON: {exc}") from None
    if not isinstance(tree, dict) or tree.get("v") != 1 or "value" not in tree:
        raise ChannelError("the document is not a channel value")
    tensors = _load_tensors(blob)
    if sum(t.numel() * t.element_size() for t in tensors.values()) > max_tensor_bytes:
        raise ChannelError(f"the tensors are over the limit of {max_tensor_bytes} bytes")
    seen = {"nodes": 0}

    def dec(x, depth: int):
        seen["nodes"] += 1
        if seen["nodes"] > MAX_NODES or depth > MAX_DEPTH + 1:
            raise ChannelError("the value is too large or too deeply nested")
        if x is None or type(x) in (bool, int, float, str):
            return x
        if type(x) is list:
            return [dec(v, depth + 1) for v in x]
        if type(x) is not dict or len(x) == 0:
            raise ChannelError(f"unexpected node {str(x)[:80]}")
        if "$tensor" in x:
            return _tensor(x, tensors, device)
        if set(x) == {"$tuple"} and type(x["$tuple"]) is list:
            return tuple(dec(v, depth + 1) for v in x["$tuple"])
        if set(x) == {"$dict"} and type(x["$dict"]) is dict:
            return {str(k): dec(v, depth + 1) for k, v in x["$dict"].items()}
        if set(x) == {"$float"} and x["$float"] in ("nan", "inf", "-inf"):
            return float(x["$float"])
        if set(x) == {"$slice"} and type(x["$slice"]) is list and len(x["$slice"]) == 3:
            return slice(*(dec(v, depth + 1) for v in x["$slice"]))
        if set(x) == {"$other", "repr"} and type(x["$other"]) is str and type(x["repr"]) is str:
            return Described(x["$other"][:200], x["repr"][:200])
        raise ChannelError(f"unexpected node {str(x)[:80]}")

    return dec(tree["value"], 0)


def _load_tensors(blob: bytes) -> dict[str, torch.Tensor]:
    if not blob:
        return {}
    from safetensors.torch import load
    try:
        loaded = load(blob)
    except Exception as exc:  # safetensors raises its own error types
        raise ChannelError(f"the tensors are not a safetensors file: {exc}") from None
    return {k: v for k, v in loaded.items() if type(v) is torch.Tensor}


def _tensor(node: dict, tensors: dict, device: str | None) -> torch.Tensor:
    key, dtype, shape = node.get("$tensor"), node.get("dtype"), node.get("shape")
    t = tensors.get(key) if type(key) is str else None
    if t is None or dtype not in DTYPES or t.dtype != DTYPES[dtype] or type(shape) is not list \
            or list(t.shape) != shape:
        raise ChannelError(f"tensor {str(key)[:20]} is missing or does not match its description")
    where = device or node.get("device", "cpu")
    if where != "cpu" and not (where == "cuda" and torch.cuda.is_available()):
        raise ChannelError(f"tensor {key} claims device {str(where)[:20]}")
    t = t.to(where)
    if node.get("parameter") is True:
        t = torch.nn.Parameter(t, requires_grad=bool(node.get("requires_grad")))
    elif node.get("requires_grad") is True and t.is_floating_point():
        t.requires_grad_()
    return t


def to_device(value, device: str):
    """`value` with every tensor in it moved to `device` (inputs are generated on the CPU)."""
    if isinstance(value, torch.Tensor):
        moved = value.detach().to(device)
        if type(value) is torch.nn.Parameter:
            return torch.nn.Parameter(moved, requires_grad=value.requires_grad)
        return moved.requires_grad_(value.requires_grad) if value.is_floating_point() else moved
    if type(value) is list:
        return [to_device(v, device) for v in value]
    if type(value) is tuple:
        return tuple(to_device(v, device) for v in value)
    if type(value) is dict:
        return {k: to_device(v, device) for k, v in value.items()}
    return value
