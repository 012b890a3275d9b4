"""Integrity during autograding: notice a notebook that patches what the tests rely on.

`install()` runs in the kernel before any learner code (the autograde executor injects it).
It imports the reference and the checks, and records the identity of every function the
tests depend on: torch's, builtins, `solutions` and `autograder` themselves. `tampering()`
then lists what has been replaced since, and each `Question` refuses to grade while
anything has; an audit hook (which Python cannot remove) notes reads of the reference files.
Without `install()` (a learner's own kernel) `tampering()` reports nothing.
"""
from __future__ import annotations

import builtins
import importlib
import math
import os
import pkgutil
import sys
from pathlib import Path

PACKAGE_DIR = str(Path(__file__).resolve().parent) + os.sep

# What the tests run on: the core modules, every checks module and every reference module
# (the instructor tooling is not imported in a learner's kernel).
_CORE = ("cases", "compare", "guard", "report", "visible", "watch")
_snapshot: dict[str, dict[str, int]] = {}
_spaces: dict[str, dict] = {}  # the live namespaces themselves, held since install()
_modules: dict[str, int] = {}
_reads: list[str] = []


def _namespaces() -> dict[str, dict]:
    """The namespaces whose contents the tests trust, by name."""
    import torch
    import torch.nn.functional as F

    import autograder.checks
    import solutions

    spaces = {"builtins": vars(builtins), "math": vars(math), "torch": vars(torch),
              "torch.Tensor": vars(torch.Tensor), "torch._C.TensorBase": vars(torch._C.TensorBase),
              "torch.nn.functional": vars(F), "torch.testing": vars(torch.testing),
              "torch.nn": vars(torch.nn), "torch.optim": vars(torch.optim),
              "torch.optim.lr_scheduler": vars(torch.optim.lr_scheduler)}
    names = [f"autograder.{m}" for m in _CORE] + [
        info.name for package, prefix in ((autograder.checks, "autograder.checks."), (solutions, "solutions."))
        for info in pkgutil.iter_modules(package.__path__, prefix)]
    for name in names:
        module = importlib.import_module(name)
        spaces[name] = vars(module)
        for attr, obj in vars(module).items():
            if isinstance(obj, type) and obj.__module__ == name:
                spaces[f"{name}.{attr}"] = vars(obj)
    return spaces


# Names IPython itself rebinds while running cells; the rest of each namespace is watched.
_VOLATILE = {"input", "raw_input", "getpass", "exit", "quit", "get_ipython", "display", "help"}
_WATCHED_DUNDERS = {"__import__", "__build_class__", "__eq__", "__sub__", "__getitem__", "__matmul__"}


def _identities(space: dict) -> dict[str, int]:
    return {name: id(obj) for name, obj in list(space.items())
            if name in _WATCHED_DUNDERS or not (name.startswith("_") or name in _VOLATILE)}


def _audit(event: str, args) -> None:
    if event == "open" and _snapshot and isinstance(args[0], (str, bytes, os.PathLike)):
        from .watch import SOLUTIONS_DIR
        path = os.fsdecode(args[0])
        if os.path.abspath(path).startswith(SOLUTIONS_DIR) and path not in _reads:
            _reads.append(path)


def install(memory_limit_mb: int = 0, cpu_threads: int = 0) -> None:
    """Record what the tests rely on; call once, before any learner code runs.

    `memory_limit_mb` caps the kernel's address space on CPU-only machines, so a submission
    that allocates without bound gets a MemoryError instead of taking the grader down
    (CUDA reserves far more address space than it uses, so no cap there). `cpu_threads`
    sets torch's CPU threads: the tests' small tensors run fastest on one, and a grading
    machine's cores are better spent on several notebooks at once.
    """
    if _snapshot:
        return
    import torch
    if cpu_threads:
        torch.set_num_threads(cpu_threads)
    if memory_limit_mb and not torch.cuda.is_available():
        import resource
        limit = memory_limit_mb * 2**20
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit if hard == resource.RLIM_INFINITY else hard))
    # torch changes itself on first use of some parts: the first Optimizer() imports torch._dynamo, which
    # rebinds torch.manual_seed. Make that happen before the snapshot, not in the middle of a notebook.
    import torch._dynamo  # noqa: F401
    _spaces.update(_namespaces())
    for name, space in _spaces.items():
        _snapshot[name] = _identities(space)
    for name in list(sys.modules):
        if name.split(".")[0] in ("torch", "autograder", "solutions", "builtins", "math"):
            _modules[name] = id(sys.modules[name])
    sys.addaudithook(_audit)


def installed() -> bool:
    """Whether `install()` ran in this process (true while autograding)."""
    return bool(_snapshot)


def tampering() -> list[str]:
    """What the notebook replaced, deleted or read since `install()`, in words ([] when clean)."""
    if not _snapshot:
        return []
    problems = []
    for name, before in _modules.items():
        if id(sys.modules.get(name)) != before:
            problems.append(f"replaced the module {name} in sys.modules")
    for space_name, before in _snapshot.items():
        now = _identities(_spaces[space_name])
        changed = [k for k, v in before.items() if now.get(k) != v] + [
            # New entries count where they shadow what the tests call (Tensor methods, operators).
            k for k in now if k not in before and (k in _WATCHED_DUNDERS or space_name == "torch.Tensor")]
        if changed:
            shown = ", ".join(f"{space_name}.{k}" for k in changed[:3])
            problems.append(f"replaced {shown}{' and more' if len(changed) > 3 else ''}")
    if _reads:
        problems.append(f"read the reference solutions ({_reads[0]})")
    return problems
