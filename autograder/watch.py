"""Detect forbidden calls while a learner's function runs.

Two detectors, both active only inside `watching(...)`:
- a `TorchFunctionMode` sees every torch function and Tensor method the learner calls
  (`F.one_hot`, `x.softmax`, `a @ b`...), matched by name and by identity;
- a profile hook sees Python code from forbidden files run (`solutions/`, the
  implementations in `torch/optim/`), however the learner reached it.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode, resolve_name

import solutions

SOLUTIONS_DIR = str(Path(solutions.__file__).resolve().parent) + os.sep
_TORCH_OPTIM_DIR = str(Path(torch.optim.__file__).resolve().parent) + os.sep
# torch.optim files a from-scratch optimizer may use: the base class and its helpers.
_OPTIM_ALLOWED = {"optimizer.py", "__init__.py"}

MATMUL = ("torch.matmul", "torch.Tensor.matmul", "torch.Tensor.__matmul__", "torch.Tensor.__rmatmul__",
          "torch.mm", "torch.Tensor.mm", "torch.bmm", "torch.Tensor.bmm", "torch.mv", "torch.Tensor.mv",
          "torch.einsum", "torch.tensordot", "torch.dot", "torch.Tensor.dot", "torch.inner", "torch.addmm",
          "torch.Tensor.addmm", "torch.baddbmm", "torch.nn.functional.linear", "torch.nn.functional.bilinear",
          "torch.chain_matmul", "torch.linalg.multi_dot", "torch.linalg.vecdot")


class ForbiddenCall(AssertionError):
    """The learner's function used something this exercise asks them to write themselves."""


def _lookup(name: str):
    obj = None
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = __import__(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[1:]:
            obj = getattr(obj, attr, None)
        return obj
    return obj


def _canonical(name: str) -> str:
    """`F.softmax` → `torch.nn.functional.softmax`, `nn.Embedding` → `torch.nn.Embedding`."""
    for short, full in (("F.", "torch.nn.functional."), ("nn.", "torch.nn.")):
        if name.startswith(short):
            return full + name[len(short):]
    return name


class _Recorder(TorchFunctionMode):
    def __init__(self, names: dict, objects: dict, found: list):
        super().__init__()
        self.names, self.objects, self.found = names, objects, found

    def __torch_function__(self, func, types, args=(), kwargs=None):
        label = self.names.get(resolve_name(func) or "") or self.objects.get(id(func))
        if label and label not in self.found:
            self.found.append(label)
        return func(*args, **(kwargs or {}))


def _forbidden_file(filename: str, forbid_optim: bool) -> str | None:
    if filename.startswith(SOLUTIONS_DIR):
        return "the reference solutions (solutions/)"
    if forbid_optim and filename.startswith(_TORCH_OPTIM_DIR):
        rest = filename[len(_TORCH_OPTIM_DIR):]
        if os.sep not in rest and rest not in _OPTIM_ALLOWED:
            return f"torch.optim's own optimizer ({'torch/optim/' + rest})"
    return None


@functools.lru_cache(maxsize=None)
def _resolve(forbidden: tuple) -> tuple[dict, dict, dict]:
    """Dotted names → (names, object ids, code objects) to watch for; cached, as checks call it per case."""
    names, objects, codes = {}, {}, {}
    for name in forbidden:
        full = _canonical(name)
        names[full] = name
        obj = _lookup(full)
        if obj is not None:
            objects[id(obj)] = name
            # Python-level functions and modules (`nn.Embedding`) are seen by their code running.
            for fn in [obj] if callable(obj) and not isinstance(obj, type) else vars(obj).values() \
                    if isinstance(obj, type) else []:
                code = getattr(fn, "__code__", None)
                if code is not None:
                    codes[code] = name
    return names, objects, codes


@contextlib.contextmanager
def watching(forbidden=(), forbid_optim: bool = False):
    """Record, in the yielded list, each forbidden thing used inside the block.

    `forbidden` holds dotted names (`"F.one_hot"`, `"torch.softmax"`, `"torch.Tensor.softmax"`);
    code from `solutions/` is always forbidden, and `forbid_optim` adds torch.optim's optimizers.
    """
    names, objects, codes = _resolve(tuple(forbidden))
    found: list[str] = []
    previous = sys.getprofile()

    def profile(frame, event, arg):
        if event == "call":
            label = codes.get(frame.f_code) or _forbidden_file(frame.f_code.co_filename, forbid_optim)
            if label and label not in found:
                found.append(label)

    sys.setprofile(profile)
    try:
        with _Recorder(names, objects, found):
            yield found
    finally:
        if sys.getprofile() is not profile:
            found.append("sys.setprofile (the answer switched off the grader's call watch)")
        sys.setprofile(previous)
