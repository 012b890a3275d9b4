"""Notice forbidden operations while a learner's function runs, however they are spelled.

`Watch(rules)` is a context manager; while it is active it records, by label, every rule that
the code inside breaks. A rule (plain data, from the grader) is

    {"label": "F.one_hot", "names": ["torch.nn.functional.one_hot"], "ops": ["aten::one_hot"]}
    {"label": "torch.optim's own optimizers", "dir": "torch/optim", "except": ["optimizer.py"]}

and is seen at four levels, so that an alias (`torch._C._nn.one_hot`, `torch.ops.aten._softmax`,
`x.softmax`) is caught like the public name:
- a `TorchFunctionMode` sees torch functions and Tensor methods by identity and by name;
- a `TorchDispatchMode` sees the ATen operations PyTorch dispatches (`aten::_log_softmax`),
  whichever Python function led there (only when a rule names ops);
- a profile hook sees Python code of the named functions, or from a named folder, run, builtin
  functions called by identity, and `torch.ops...` calls by operator name.

This is best effort: the learner controls the process it runs in. The grader also reads the
answer's source, and the scores are decided outside. Runs inside the sandbox (sent as source).
"""
from __future__ import annotations

import importlib
import os
import sys

import torch
from torch.overrides import TorchFunctionMode, resolve_name
from torch.utils._python_dispatch import TorchDispatchMode

_TORCH_DIR = os.path.dirname(torch.__file__) + os.sep
_OPS_FILE = os.path.join(_TORCH_DIR, "_ops.py")


def _lookup(dotted: str):
    """The object a dotted name refers to (`torch.nn.functional.one_hot`), or None."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


class _Functions(TorchFunctionMode):
    def __init__(self, watch: "Watch"):
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func, types, args=(), kwargs=None):
        w = self.watch
        label = w.objects.get(id(func)) or w.names.get(resolve_name(func) or "")
        if label:
            w.saw(label)
        return func(*args, **(kwargs or {}))


class _Dispatch(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # else torch wraps __torch_dispatch__ to disable dynamo, importing it (a second or more)

    def __init__(self, watch: "Watch"):
        super().__init__()
        self.watch = watch

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        label = self.watch.ops.get(func._schema.name)
        if label:
            self.watch.saw(label)
        return func(*args, **(kwargs or {}))


class Watch:
    """Record which forbidden rules the code run inside `with Watch(rules) as w:` breaks (`w.found`)."""

    def __init__(self, rules=()):
        self.found: list[str] = []
        self.names: dict[str, str] = {}    # dotted name → label
        self.objects: dict[int, str] = {}  # id of a function → label
        self.codes: dict = {}              # code object → label
        self.ops: dict[str, str] = {}      # "aten::_softmax" → label
        self.dirs: list[tuple[str, tuple, str]] = []  # (folder, files allowed in it, label)
        self._held = []  # keep the resolved objects alive, so their ids stay theirs
        for rule in rules:
            label = rule["label"]
            for name in rule.get("names", ()):
                self.names.setdefault(name, label)
                obj = _lookup(name)
                if obj is None:
                    continue
                self._held.append(obj)
                self.objects[id(obj)] = label
                functions = vars(obj).values() if isinstance(obj, type) else [obj]
                for fn in functions:
                    code = getattr(fn, "__code__", None)
                    if code is not None:
                        self.codes[code] = label
            for op in rule.get("ops", ()):
                self.ops.setdefault(op if "::" in op else f"aten::{op}", label)
            if rule.get("dir"):
                folder = os.path.join(os.path.dirname(_TORCH_DIR.rstrip(os.sep)), rule["dir"]) + os.sep
                self.dirs.append((folder, tuple(rule.get("except", ())), label))
        self._active = False
        self._previous_profile = None
        self._hook = self._profile  # one bound method, so that sys.getprofile() can be compared with it

    def saw(self, label: str) -> None:
        if self._active and label not in self.found:
            self.found.append(label)

    def _profile(self, frame, event, arg):
        if event == "call":
            code = frame.f_code
            label = self.codes.get(code)
            if label is None and code.co_filename == _OPS_FILE and code.co_name == "__call__" and self.ops:
                op = frame.f_locals.get("self")
                name = getattr(op, "_qualified_op_name", None) or getattr(getattr(op, "_schema", None), "name", None)
                label = self.ops.get(name or "")
            if label is None:
                for folder, allowed, dir_label in self.dirs:
                    if code.co_filename.startswith(folder):
                        rest = code.co_filename[len(folder):]
                        if os.sep in rest or rest not in allowed:
                            label = dir_label
                            break
            if label:
                self.saw(label)
        elif event == "c_call":
            label = self.objects.get(id(arg))
            if label:
                self.saw(label)

    def __enter__(self) -> "Watch":
        self._stack = []
        if self.names or self.objects:
            self._stack.append(_Functions(self))
        if self.ops:
            self._stack.append(_Dispatch(self))
        for mode in self._stack:
            mode.__enter__()
        self._profiling = bool(self.codes or self.objects or self.dirs or self.ops)
        if self._profiling:
            self._previous_profile = sys.getprofile()
            sys.setprofile(self._hook)
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        self._active = False
        if self._profiling:
            if sys.getprofile() is not self._hook:
                self.found.append("sys.setprofile (the answer switched off the grader's watch)")
            sys.setprofile(self._previous_profile)
        for mode in reversed(self._stack):
            mode.__exit__(None, None, None)
