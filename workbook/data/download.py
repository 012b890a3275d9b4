"""Where data lives and how the real data sets are fetched: pinned URLs, MD5s, atomic downloads.

``fetch(name)`` downloads every file of a ``Resource`` from the first mirror that serves it with the
right MD5, unpacks it, loads it once with the reader the notebooks use, and only then renames it
into ``data_dir()/name``: the folder either holds a complete, verified copy or does not exist.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .cache import data_dir
from .mnist import read_mnist
from .ratings import read_ml100k

__all__ = ["DATA_HUB", "FetchError", "Resource", "data_dir", "fetch"]


@dataclass(frozen=True)
class Resource:
    """A downloadable data set: files (name -> MD5) found under each mirror, tried in order.

    ``archive`` names the one zip file to unpack (its single top-level folder becomes
    ``<data_dir>/<name>/``); without one, the files themselves are kept in ``<data_dir>/<name>/``.
    """

    files: dict[str, str]
    mirrors: tuple[str, ...]
    archive: str | None = None
    licence: str = ""


# Pinned URLs and hashes (d2l's DATA_HUB). The MNIST MD5s are torchvision's.
DATA_HUB: dict[str, Resource] = {
    "ml-100k": Resource(
        files={"ml-100k.zip": "0e33842e24a9c977be4e0107933c0723"},
        mirrors=("https://files.grouplens.org/datasets/movielens/",),
        archive="ml-100k.zip",
        licence="GroupLens research licence: use allowed, redistribution is not; never commit it.",
    ),
    "mnist": Resource(
        files={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
        licence="Yann LeCun and Corinna Cortes; commonly redistributed under CC BY-SA 3.0.",
    ),
}


class FetchError(RuntimeError):
    """A download failed (network, HTTP error, checksum or corrupt file); nothing was kept."""


def _md5(path: Path) -> str:
    digest = hashlib.md5()  # integrity against the published checksums, not security
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url: str, dest: Path, progress: bool) -> None:
    """Stream ``url`` into ``dest`` with a progress bar; raise on a short read."""
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=30) as response, dest.open("wb") as f:
        size = response.headers.get("Content-Length")
        total = int(size) if size else None
        done = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
            while block := response.read(1 << 16):
                f.write(block)
                done += len(block)
                bar.update(len(block))
    if total is not None and done != total:
        raise FetchError(f"download of {url} stopped after {done} of {total} bytes")


def _fetch_file(name: str, md5: str, mirrors: tuple[str, ...], dest: Path, progress: bool) -> None:
    """Download ``name`` from the first mirror that serves it with the right MD5, into ``dest``."""
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        try:
            _download(url, dest, progress)
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
            continue
        except (urllib.error.URLError, http.client.HTTPException, OSError, FetchError) as e:
            failures.append(f"{url}: {getattr(e, 'reason', e)}")
            continue
        got = _md5(dest)
        if got == md5:
            return
        failures.append(f"{url}: MD5 checksum mismatch (expected {md5}, got {got}): "
                        "the file is damaged or changed upstream")
    dest.unlink(missing_ok=True)
    raise FetchError(f"could not download {name}:\n  " + "\n  ".join(failures))


def _load_check(name: str, folder: Path) -> None:
    """Load a fresh download with the reader the notebooks use: fail now, not in a notebook."""
    {"ml-100k": read_ml100k, "mnist": read_mnist}[name](folder)


def fetch(name: str, *, force: bool = False, mirrors: list[str] | None = None,
          progress: bool = True) -> Path:
    """Download data set ``name`` ("ml-100k" or "mnist") into ``data_dir()/name`` and return that folder.

    Each file is checked against its pinned MD5 and the result is loaded once before it is
    moved into place, so the folder either holds a complete, verified copy or does not exist.
    Already-present data is kept unless ``force``. ``mirrors`` (or ``$WORKBOOK_DATA_MIRROR``,
    a base URL) replaces the registry's mirrors, e.g. for a local copy.
    """
    if name not in DATA_HUB:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(sorted(DATA_HUB))}")
    res = DATA_HUB[name]
    root = data_dir()
    target = root / name
    if target.exists() and not force:
        return target
    env_mirror = os.environ.get("WORKBOOK_DATA_MIRROR")
    urls = tuple(mirrors) if mirrors else (env_mirror,) if env_mirror else res.mirrors
    root.mkdir(parents=True, exist_ok=True)
    # Work in a hidden sibling folder and rename the result into place at the end: same file
    # system, so the rename is atomic and an interruption leaves no half-written data set.
    work = Path(tempfile.mkdtemp(prefix=f".{name}-", suffix=".part", dir=root))
    try:
        files = work / "files"
        files.mkdir()
        for file, md5 in res.files.items():
            _fetch_file(file, md5, urls, files / file, progress)
        result = _unpack(files / res.archive, work / "unpacked") if res.archive else files
        try:
            _load_check(name, result)
        except (ValueError, OSError) as e:
            raise FetchError(f"the downloaded {name} does not load: {e}") from None
        if target.exists():  # --force: move the old copy aside; it goes with the work folder
            target.rename(work / "old")
        result.rename(target)
    except FetchError as e:
        raise FetchError(f"{e}\n{_manual_hint(name, urls, target)}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _unpack(archive: Path, dest: Path) -> Path:
    """Extract a zip holding one top-level folder; return that folder."""
    try:
        with zipfile.ZipFile(archive) as z:
            bad = z.testzip()
            if bad is not None:
                raise FetchError(f"{archive.name} is corrupt: member {bad} fails its CRC check")
            z.extractall(dest)  # extractall drops absolute paths and '..' components
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise FetchError(f"{archive.name} is not a valid zip archive ({e}): truncated or damaged") from None
    tops = list(dest.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise FetchError(f"{archive.name} should hold one folder, found {[p.name for p in tops]}")
    return tops[0]


def _manual_hint(name: str, urls: tuple[str, ...], target: Path) -> str:
    files, base = list(DATA_HUB[name].files), urls[0].rstrip("/") + "/"
    what = base + files[0] if len(files) == 1 else f"{', '.join(files)} from {base}"
    where = (f"unzip it so that {target}/u.data exists" if name == "ml-100k"
             else f"put the files in {target}/")
    return (f"Nothing was saved. Check your internet connection and run `workbook data fetch {name}` "
            f"again, or download {what} by hand and {where}.")
