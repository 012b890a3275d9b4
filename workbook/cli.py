"""The `workbook` command. Its subcommands are what is installed: entry points of the group `workbook.commands`.

The learner kit registers the learner's (check, lab, data); the course repository adds the
instructor's (demo, release, kit, ...) from `autograder.course.cli`. This module imports
nothing of them until one is run, and nothing of `autograder` ever.
"""
from __future__ import annotations

import ast
import sys
from importlib.metadata import EntryPoint, entry_points

GROUP = "workbook.commands"
# Used only when no distribution registers the group (running from an uninstalled checkout).
LEARNER_COMMANDS = {"check": "workbook.check:check_main", "lab": "workbook.lab:lab_main",
                    "data": "workbook.data:data_main"}


def commands() -> dict[str, EntryPoint]:
    """name → entry point of every installed `workbook` subcommand (the first registration of a name wins)."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    if not found:
        found = {name: EntryPoint(name, value, GROUP) for name, value in LEARNER_COMMANDS.items()}
    return dict(sorted(found.items()))


def _source(module: str) -> str | None:
    """The file of `module`, found as `import` would find it but without importing it or its packages."""
    spec, path = None, None
    parts = module.split(".")
    for i in range(len(parts)):
        name = ".".join(parts[:i + 1])
        spec = getattr(sys.modules.get(name), "__spec__", None)
        for finder in ([] if spec else sys.meta_path):
            try:
                spec = finder.find_spec(name, path)
            except (AttributeError, ImportError, ValueError):
                spec = None
            if spec is not None:
                break
        if spec is None:
            return None
        path = spec.submodule_search_locations
    return spec.origin if spec is not None else None


def describe(ep: EntryPoint) -> str:
    """The first line of the command function's docstring, read from its source without importing it."""
    module, _, attr = ep.value.partition(":")
    origin = _source(module.strip())
    try:
        with open(origin or "", encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return ""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == attr.strip():
            doc = (ast.get_docstring(node) or "").strip()
            return doc.splitlines()[0] if doc else ""
    return ""


def usage(found: dict[str, EntryPoint]) -> str:
    width = max(map(len, found), default=0)
    lines = ["usage: workbook COMMAND [ARGS...]     (workbook COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<{width}}  {describe(ep)}".rstrip() for name, ep in found.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `workbook` console script."""
    argv = sys.argv[1:] if argv is None else argv
    found = commands()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(found))
        return 0
    if argv[0] not in found:
        print(f"workbook: no command {argv[0]!r} here.\n\n{usage(found)}", file=sys.stderr)
        return 2
    try:
        command = found[argv[0]].load()
    except ImportError as exc:
        print(f"workbook {argv[0]}: cannot load it ({exc}); is the installation complete?", file=sys.stderr)
        return 2
    return command(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
