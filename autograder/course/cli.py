"""The instructor's `workbook` subcommands, registered as entry points of the group `workbook.commands`
by the course repository's pyproject.toml (the learner kit registers only the learner's).

    workbook demo       the instructor's whole job on the built-in data, through nbgrader's exchange, in demo/
    workbook release    regenerate release/ from source/ (nbgrader generate_assignment)
    workbook kit        write the learner kit (dist/kit/): the learner wheel, the release notebooks, a README
    (`workbook autograde` is registered straight to autograder.course.parallel:main.)
"""
from __future__ import annotations

import argparse
from pathlib import Path


def release_main(argv: list[str] | None = None) -> int:
    """Bring source/lesson5 in step with the declarations, then regenerate release/lesson5 (nbgrader
    generate_assignment)."""
    argparse.ArgumentParser(prog="workbook release", description=release_main.__doc__).parse_args(argv)
    from autograder import authoring, course, exercises

    for nb in exercises.notebooks():
        path = course.REPO / "source" / course.ASSIGNMENT / f"{nb.name}.ipynb"
        source = authoring.read(path)
        changed = authoring.sync(source, nb)
        if changed:
            authoring.save(source, path)
            print(f"synced {path.relative_to(course.REPO)}: {', '.join(changed)}")
    paths = course.release(course.REPO)
    print("\n".join(f"wrote {p.relative_to(course.REPO)}" for p in paths))
    return 0


def demo_main(argv: list[str] | None = None) -> int:
    """Run the instructor's whole job on a demo class, through nbgrader's exchange, in demo/."""
    from autograder.course.demo import main

    return main(argv)


def kit_main(argv: list[str] | None = None) -> int:
    """Write the learner kit: the learner wheel, the release notebooks and a README, answer-free."""
    from autograder.course import kit

    parser = argparse.ArgumentParser(prog="workbook kit", description=kit_main.__doc__)
    parser.add_argument("--out", type=Path, default=kit.DEFAULT_OUT, help=f"where (default {kit.DEFAULT_OUT})")
    parser.add_argument("--venv", type=Path, metavar="DIR",
                        help="also install the kit into a learner's virtual environment there (built once, reused)")
    args = parser.parse_args(argv)
    built = kit.build(args.out)
    print(built.describe())
    if args.venv:
        env = kit.learner_env(built, args.venv)
        print(f"learner environment: {env.venv} ({env.seconds:.0f} s)")
    return 0
