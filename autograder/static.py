"""Read the learner's code before it runs: forbidden names however reached, and machinery an answer never needs.

`flags(nb, declared)` → {grade_id: [reasons]}: the graded cells to grade by hand, and why.
- In an answer cell, a forbidden name of a check that grades it (`F.one_hot`, `torch._C._nn.one_hot`
  through an alias, `x.softmax`, `getattr(F, "one_hot")`) flags that check.
- In any cell the learner can edit (answer cells, unlocked cells, cells they added), machinery flags
  every graded cell of the notebook, since it can reach anything in the kernel: IPython's
  hooks (`get_ipython`, magics and shell escapes), `exec`/`eval`/`compile`, dynamic attribute
  access, frames, code objects and other introspection, imports outside what a deep-learning
  answer uses (`sys`, `gc`, `ctypes`, `subprocess`, `socket`, `importlib`, the course's packages...),
  PyTorch's private internals, torch function and dispatch modes.
The run-time watch in the sandbox sees the rest; neither decides a score, both only take points away.
"""
from __future__ import annotations

import ast

from . import forbidden

# What an answer may import (top-level modules; `torch`'s private and hooking submodules aside).
ALLOWED_IMPORTS = {
    "math", "cmath", "numbers", "operator", "functools", "itertools", "collections", "heapq", "bisect",
    "statistics", "random", "copy", "typing", "dataclasses", "enum", "abc", "fractions", "decimal", "string",
    "re", "textwrap", "time", "datetime", "warnings", "contextlib", "json", "pprint", "numpy", "pandas", "scipy",
    "torch", "matplotlib", "tqdm", "workbook", "sklearn", "mlxtend", "IPython.display", "__future__",
}
TORCH_HOOKS = ("torch.overrides", "torch.library", "torch.ops", "torch.utils._python_dispatch", "torch.fx.experimental")
MACHINERY_CALLS = {"get_ipython", "exec", "eval", "compile", "globals", "locals", "vars", "__import__", "breakpoint",
                   "open", "input", "memoryview"}
DYNAMIC_ATTRIBUTE = {"getattr", "setattr", "delattr", "hasattr"}
INTROSPECTION = {
    "__dict__", "__globals__", "__code__", "__closure__", "__builtins__", "__subclasses__", "__bases__", "__mro__",
    "__getattribute__", "__import__", "__loader__", "__spec__", "__reduce__", "__reduce_ex__", "__self__",
    "__func__", "__wrapped__", "__defaults__", "__kwdefaults__", "__setattr__", "__delattr__", "__torch_function__",
    "__torch_dispatch__", "__class_getitem__", "__init_subclass__", "__set_name__", "f_globals", "f_locals",
    "f_back", "f_code", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "ag_frame", "co_code", "mro",
    "TorchFunctionMode", "TorchDispatchMode", "_execution_engine",
}
MODULE_NAMES = {"sys", "os", "gc", "builtins", "inspect", "ctypes", "subprocess", "importlib", "socket",
                "threading", "multiprocessing", "signal", "types", "marshal", "pickle", "atexit", "shutil",
                "cpp_extension", "get_ipython"}
# A string naming one of these (as `operator.attrgetter("sys.setprofile")` would) is machinery too.
MACHINERY_STRINGS = MODULE_NAMES | INTROSPECTION | {"setprofile", "settrace", "getprofile", "gettrace", "_C", "ops",
                                                    "overrides", "_python_dispatch", "DisableTorchFunction",
                                                    "_ops", "__builtins__", "modules"}


def _transform(source: str) -> str:
    """The cell as Python: IPython's magics and shell escapes become the calls they stand for."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def _imports(tree: ast.AST, aliases: dict[str, str]) -> None:
    """Record the names `tree`'s imports bind: `F` → `torch.nn.functional`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`F.one_hot` → `torch.nn.functional.one_hot` (also through `getattr(F, "one_hot")`), else None."""
    parts = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str):
            parts.append(node.args[1].value)
            node = node.args[0]
        else:
            break
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def machinery(tree: ast.AST, aliases: dict[str, str]) -> list[str]:
    """What in `tree` reaches for the kernel's or PyTorch's machinery, each once, in words."""
    found: list[str] = []
    lines: set = set()  # (kind, line): a chain like torch._C._nn.one_hot is reported once, not per link

    def note(what: str, node, kind: str = "") -> None:
        key = (kind or what, getattr(node, "lineno", None))
        if key not in lines:
            lines.add(key)
            found.append(f"{what} (line {getattr(node, 'lineno', '?')})")

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for m in modules:
                if node.__class__ is ast.ImportFrom and node.level:
                    note("a relative import", node)
                elif not _allowed(m):
                    note(f"imports {m}", node)
            if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names) and \
                    (node.module or "").startswith("torch"):
                note(f"from {node.module} import *", node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in MACHINERY_CALLS:
                note(f"calls {node.func.id}()", node, kind=node.func.id)
            elif node.func.id in DYNAMIC_ATTRIBUTE and len(node.args) >= 2 and \
                    not isinstance(node.args[1], ast.Constant) and _module(node.args[0], aliases):
                note(f"{node.func.id}() on a module with a computed name", node)
        elif isinstance(node, ast.Name) and node.id in INTROSPECTION | {"__builtins__", "get_ipython"}:
            note(f"uses {node.id}", node, kind=node.id)
        elif isinstance(node, ast.FunctionDef) and node.name in INTROSPECTION:
            note(f"defines {node.name}", node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _names_machinery(node.value):
            note(f"names {node.value!r} in a string", node, kind="string")
        if isinstance(node, (ast.Attribute, ast.Call)):
            name = node.attr if isinstance(node, ast.Attribute) else None
            dotted = _dotted(node, aliases)
            if name in INTROSPECTION or name in MODULE_NAMES:
                note(f"uses .{name}", node, kind=f".{name}")
            if dotted and dotted.startswith("torch") and (any(p.startswith("_") for p in dotted.split(".")[1:])
                                                          or dotted.startswith(TORCH_HOOKS)):
                note(f"reaches {dotted} (PyTorch's internals)", node, kind="internals")
    return found


def _module(node: ast.AST, aliases: dict[str, str]) -> bool:
    """Whether `node` names an imported module or something in one (`torch`, `F`, `torch.nn`), not the
    learner's own objects (`getattr(self, name)`, `setattr(model, name, head)` are ordinary code)."""
    return _dotted(node, aliases) is not None or isinstance(node, ast.Name) and node.id in aliases


def _names_machinery(text: str) -> bool:
    """Whether `text` is a dotted name with a part that is machinery ("sys.setprofile", "_C._nn")."""
    parts = text.split(".")
    return len(text) < 200 and all(p.isidentifier() for p in parts) and any(p in MACHINERY_STRINGS for p in parts)


def _allowed(module: str) -> bool:
    """Whether an answer may import `module`: what deep-learning code uses, or something not installed (it fails)."""
    import importlib.util
    if module.startswith("torch"):
        return not (any(p.startswith("_") for p in module.split(".")[1:]) or module.startswith(TORCH_HOOKS))
    if module in ALLOWED_IMPORTS or module.split(".")[0] in ALLOWED_IMPORTS - {"IPython"}:
        return True
    try:
        return importlib.util.find_spec(module.split(".")[0]) is None
    except (ImportError, ValueError):
        return True


def forbidden_names(tree: ast.AST, aliases: dict[str, str], rules) -> list[str]:
    """The labels of `rules` whose names `tree` reaches, however spelled (`x.softmax` for `torch.Tensor.softmax`)."""
    by_name = forbidden.names(rules)
    methods = {n.rsplit(".", 1)[1]: label for n, label in by_name.items() if n.startswith("torch.Tensor.")}
    found = []
    for node in ast.walk(tree):
        label = None
        if isinstance(node, (ast.Attribute, ast.Call, ast.Name)):
            dotted = _dotted(node, aliases) if not isinstance(node, ast.Name) else aliases.get(node.id)
            label = by_name.get(dotted or "")
            if label is None and isinstance(node, ast.Attribute) and dotted is None:
                label = methods.get(node.attr)
        if label and label not in found:
            found.append(label)
    return found


def _editable(cell) -> bool:
    """Whether the learner could have written this cell's code (nbgrader restored the locked ones)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and not meta.get("locked")


def flags(nb, declared) -> dict[str, list[str]]:
    """grade_id → the reasons to grade that cell by hand, from the learner's code in `nb`."""
    checks = declared.checks if declared is not None else []
    out: dict[str, list[str]] = {c.grade_id: [] for c in checks}
    aliases: dict[str, str] = {}
    everywhere: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_transform(cell.source))
        except SyntaxError:
            continue  # it fails when it runs
        _imports(tree, aliases)
        if not _editable(cell):
            continue
        answer = cell.metadata.get("nbgrader", {}).get("grade_id") if cell.metadata.get("nbgrader", {}).get(
            "solution") else None
        where = f"the answer cell `{answer}`" if answer else "a cell you added or edited"
        everywhere += [f"{where} {m}" for m in machinery(tree, aliases)]
        for c in checks:
            if answer in c.answers:
                for label in forbidden_names(tree, aliases, c.forbidden):
                    reason = f"the answer cell `{answer}` names {label}, which {c.title} must not use"
                    if reason not in out[c.grade_id]:
                        out[c.grade_id].append(reason)
    for reasons in out.values():
        reasons += everywhere
    return out
