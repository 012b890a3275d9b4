"""The shape of the code: three wings with one direction of trust, no import loops, small modules."""
import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("workbook", "autograder", "solutions")
MAX_LINES = 400
# What the code sent into the sandbox may import: nothing of the course is installed there.
INSIDE_ALLOWED = set(sys.stdlib_module_names) | {"torch", "safetensors", "numpy", "pandas", "IPython"}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """The modules `name` imports (absolute names, anywhere in the file)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


MODULES = modules()
GRAPH = {name: {m for m in imports(name, path) if m in MODULES and m != name} for name, path in MODULES.items()}


def test_the_learner_side_imports_nothing_of_the_grader_or_the_answers():
    bad = {n: sorted(i for i in imports(n, p) if i.split(".")[0] in ("autograder", "solutions"))
           for n, p in MODULES.items() if n.split(".")[0] == "workbook"}
    assert not {n: i for n, i in bad.items() if i}, bad


def test_the_code_sent_into_the_sandbox_imports_only_what_is_there():
    from autograder.kernel import SHARED

    bad = {}
    for name, path in MODULES.items():
        if name.startswith("autograder.inside"):
            sent = SHARED.get(path, path)  # what the sandbox gets under this module's name
            outside = sorted(m for m in imports(name, sent)
                             if m.split(".")[0] not in INSIDE_ALLOWED and not m.startswith("autograder.inside"))
            if outside:
                bad[name] = outside
    assert not bad, bad


def test_the_answers_import_nothing_of_the_course():
    bad = {n: sorted(i for i in imports(n, p) if i.split(".")[0] in ("autograder", "workbook"))
           for n, p in MODULES.items() if n.split(".")[0] == "solutions"}
    assert not {n: i for n, i in bad.items() if i}, bad


def test_there_is_no_import_loop():
    # A package imports its submodules' names; a submodule importing its own package is not a loop of ours.
    graph = {n: {m for m in deps if not n.startswith(m + ".")} for n, deps in GRAPH.items()}
    state, loops = {}, []

    def visit(n, stack):
        state[n] = "open"
        for m in graph[n]:
            if state.get(m) == "open":
                loops.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m, stack + [m])
        state[n] = "done"

    for n in graph:
        if n not in state:
            visit(n, [n])
    assert not loops, "import loops: " + "; ".join(" → ".join(loop) for loop in loops)


@pytest.mark.parametrize("path", [p for p in (REPO / d for d in (*PACKAGES, "benchmarks")) for p in p.rglob("*.py")]
                         + [REPO / "nbgrader_config.py"], ids=lambda p: str(p.relative_to(REPO)))
def test_no_module_is_over_400_lines(path):
    n = len(path.read_text().splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(REPO)} has {n} lines: split it by what it does"
