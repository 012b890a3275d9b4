"""The `workbook` command: the instructor's and the learner's jobs.

    workbook demo                 the instructor's whole job on the default data, in demo/
    workbook release              regenerate release/ from source/ (nbgrader generate_assignment)
    workbook check [NOTEBOOK...]  run the visible tests of your notebooks and print a table
    workbook lab                  open the workbook in JupyterLab
    workbook data fetch NAME      download a real data set (ml-100k, mnist)
"""
from __future__ import annotations

import sys


def _release(argv: list[str]) -> int:
    from autograder import course
    paths = course.release(course.REPO)
    print("\n".join(f"wrote {p.relative_to(course.REPO)}" for p in paths))
    return 0


def _demo(argv):
    from autograder.demo import main
    return main(argv)


def _check(argv):
    from .check import check_main
    return check_main(argv)


def _lab(argv):
    from .check import lab_main
    return lab_main(argv)


def _data(argv):
    from .data import data_main
    return data_main(argv)


COMMANDS = {"demo": _demo, "release": _release, "check": _check, "lab": _lab, "data": _data}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `workbook` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    return COMMANDS[argv[0]](argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
