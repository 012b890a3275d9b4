"""Where fetched data sets are cached: `data_dir()`."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The folder fetched data sets are cached in.

    ``$WORKBOOK_DATA_DIR`` when set; else the repository's ``datasets/`` when running from a
    checkout (the folder above the ``workbook`` package holds ``datasets/`` and ``pyproject.toml``);
    else a per-user cache, ``$XDG_CACHE_HOME/workbook`` (default ``~/.cache/workbook``). Never a
    folder inside site-packages: the learner kit installs ``workbook`` as a wheel.
    """
    env = os.environ.get("WORKBOOK_DATA_DIR")
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]  # workbook/data/cache.py -> the checkout
    if (repo / "datasets").is_dir() and (repo / "pyproject.toml").is_file() and not _site_packages(repo):
        return repo / "datasets"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "workbook"


def _site_packages(folder: Path) -> bool:
    """Whether ``folder`` lies in an install location (a wheel's package, not a checkout)."""
    return any(part in ("site-packages", "dist-packages") for part in folder.parts)
