"""Instructor tooling for the source notebooks: make nbgrader cells, and check them.

    nb = new_notebook()
    nb.cells += [markdown("# Embeddings"), code("import torch"),
                 solution("one_hot", source), tests("one_hot_values", source, points=2)]
    save(nb, "source/lesson5/01_embeddings.ipynb")

`problems(nb)` lists what would make nbgrader, or the course's conventions, fail:
outputs or execution counts left in, missing or duplicate grade ids, tests without
points, solution cells without solution markers; the project's tests run it on every notebook.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook  # noqa: F401  (re-exported)

SCHEMA = 3
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def markdown(text: str, grade_id: str | None = None):
    """A markdown cell; with `grade_id` it is read-only for learners."""
    cell = new_markdown_cell(text.strip())
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def code(source: str, grade_id: str | None = None):
    """A plain code cell (the learner may edit it); with `grade_id` it is read-only."""
    cell = new_code_cell(source.strip())
    if grade_id:
        cell.metadata.update(_meta(grade_id, grade=False, solution=False, locked=True))
    return cell


def solution(grade_id: str, source: str):
    """An answer cell: the code between `### BEGIN SOLUTION` and `### END SOLUTION` becomes a stub."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"solution cell {grade_id!r} has no '### BEGIN SOLUTION' marker")
    cell = new_code_cell(source.strip())
    cell.metadata.update(_meta(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, source: str, points: float):
    """A read-only graded test cell worth `points`; `### BEGIN HIDDEN TESTS` marks what learners don't see."""
    cell = new_code_cell(source.strip())
    cell.metadata.update(_meta(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


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
