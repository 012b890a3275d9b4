"""Instructor tooling for the source notebooks: keep them in step with the declarations, and check them.

`sync(nb, notebook)` rewrites what is derived, not written by hand: each answer cell from its
reference in `solutions/` (signature, docstring, the answer between solution markers), and each
graded cell's hidden-test block from its declared check. `workbook release` syncs before it
generates `release/`; the tests fail while a source notebook is out of step.
`problems(nb)` lists what would make nbgrader, or the course's conventions, fail:
outputs or execution counts left in, missing or duplicate grade ids, tests without
points, solution cells without solution markers; the project's tests run it on every notebook.
"""
from __future__ import annotations

from pathlib import Path

import importlib
import re

import nbformat

SCHEMA = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def save(nb, path) -> None:
    """Write `nb` without outputs, with the Python 3 kernelspec."""
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def problems(nb) -> list[str]:
    """What is wrong with a source notebook, in words ([] when it is fine)."""
    found, ids = [], set()
    for i, cell in enumerate(nb.cells):
        where = f"cell {i}"
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            found.append(f"{where} carries outputs or an execution count: clear them before committing")
        meta = cell.metadata.get("nbgrader")
        if not meta:
            if "### BEGIN SOLUTION" in cell.source or "### BEGIN HIDDEN TESTS" in cell.source:
                found.append(f"{where} has solution or hidden-test markers but no nbgrader metadata")
            continue
        where = f"cell {i} ({meta.get('grade_id')!r})"
        if meta.get("schema_version") != SCHEMA:
            found.append(f"{where} has nbgrader schema_version {meta.get('schema_version')}, expected {SCHEMA}")
        if not meta.get("grade_id"):
            found.append(f"cell {i} has nbgrader metadata without a grade_id")
        elif meta["grade_id"] in ids:
            found.append(f"{where}: duplicate grade_id")
        ids.add(meta.get("grade_id"))
        if meta.get("grade"):
            if not meta.get("points", 0) > 0:
                found.append(f"{where} is graded but has no points")
            if not meta.get("locked"):
                found.append(f"{where} is a test cell but not locked")
        if meta.get("solution") and cell.cell_type == "code" and "### BEGIN SOLUTION" not in cell.source:
            found.append(f"{where} is a solution cell without '### BEGIN SOLUTION'")
        if meta.get("solution") and meta.get("locked"):
            found.append(f"{where} is a solution cell but locked")
        if "### BEGIN HIDDEN TESTS" in cell.source and not meta.get("grade"):
            found.append(f"{where} has hidden tests but is not graded")
    return found


def read(path) -> "nbformat.NotebookNode":
    """Read a notebook as nbformat v4."""
    return nbformat.read(str(path), as_version=4)


def notebooks(folder) -> list[Path]:
    """The workbook's notebooks in a folder, in order."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _marked(lines: list[str], node) -> list[str]:
    """`node`'s lines with its body (after any docstring) between solution markers."""
    import ast
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    if not body:
        return lines
    start, end = body[0].lineno - 1 - node.lineno + 1, node.end_lineno - node.lineno + 1
    indent = " " * body[0].col_offset
    return lines[:start] + [indent + "### BEGIN SOLUTION"] + lines[start:end] + [indent + "### END SOLUTION"] + \
        lines[end:]


def solution_source(obj) -> str:
    """The source of a reference function or class with its answer between solution markers.

    A function keeps its signature and docstring; a class keeps its signature, docstring and
    every method's signature and docstring. This is how the source notebooks' answer cells are
    made from `solutions/`, so the two cannot drift (`tests/test_notebooks.py` checks it).
    """
    import ast
    import inspect
    import textwrap
    source = textwrap.dedent(inspect.getsource(obj))
    tree = ast.parse(source).body[0]
    lines = source.rstrip("\n").split("\n")
    if isinstance(tree, ast.ClassDef):
        # Mark methods from the last to the first, so earlier line numbers stay valid.
        for method in reversed([n for n in tree.body if isinstance(n, ast.FunctionDef)]):
            s, e = method.lineno - 1, method.end_lineno
            lines[s:e] = _marked(lines[s:e], method)
        return "\n".join(lines)
    return "\n".join(_marked(lines, tree))


def strip_markers(source: str) -> str:
    """An answer cell's code without the solution markers (what the reference module holds)."""
    return "\n".join(line for line in source.split("\n")
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", re.S)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n.*?### END SOLUTION", re.S)


def hidden_tests(grade_id: str) -> str:
    """A graded cell's hidden-test block: run its declared check (`autograder.hidden`)."""
    from . import hidden
    return f"### BEGIN HIDDEN TESTS\n{hidden.block(grade_id)}\n### END HIDDEN TESTS"


def sync(nb, notebook) -> list[str]:
    """Rewrite `nb`'s derived cells from the declarations of `notebook` (an `exercises.Notebook`);
    the grade_ids of the cells that changed."""
    reference = importlib.import_module(notebook.reference)
    declared = {c.grade_id for c in notebook.checks}
    changed = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id, source = meta.get("grade_id"), cell.source
        if cell.cell_type != "code" or not grade_id:
            continue
        if meta.get("solution") and hasattr(reference, grade_id):
            value = getattr(reference, grade_id)
            cell.source = solution_source(value) if callable(value) else SOLUTION.sub(
                f"### BEGIN SOLUTION\n{grade_id} = {value!r}\n### END SOLUTION", cell.source)
        elif meta.get("grade") and grade_id in declared:
            visible = HIDDEN.sub("", cell.source).rstrip()
            cell.source = f"{visible}\n{hidden_tests(grade_id)}".lstrip()
        if cell.source != source:
            changed.append(grade_id)
    return changed
