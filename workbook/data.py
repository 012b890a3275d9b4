"""Data for the lesson-5 notebooks: ratings for collaborative filtering and handwritten digits.

Everything works offline on a fresh clone: the default ratings are generated (MovieLens
100k's shape, planted biases and latent factors, an exactly known noise floor) and the
default digits are scikit-learn's 8x8 set. The real MovieLens 100k and MNIST are one
command away (``workbook data fetch ml-100k|mnist``): downloaded from pinned URLs, checked
against known MD5s and cached under ``datasets/`` (or ``$WORKBOOK_DATA_DIR``).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import gzip
import hashlib
import http.client
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

__all__ = [
    "DATA_HUB", "FetchError", "Ratings", "Resource", "Truth",
    "data_dir", "data_main", "digits", "fetch", "movielens", "read_idx",
]


# --------------------------------------------------------------------------- where data lives

def data_dir() -> Path:
    """The folder fetched data sets live in: ``$WORKBOOK_DATA_DIR``, else the repo's ``datasets/``."""
    env = os.environ.get("WORKBOOK_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "datasets"


# --------------------------------------------------------------------------- the registry

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
            _LOADERS[name](result)  # the reader the notebooks use: fail now, not in a notebook
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


# --------------------------------------------------------------------------- ratings

@dataclass(frozen=True, eq=False)
class Truth:
    """The generating parameters of the synthetic ratings, for checking what a model learnt.

    ``rating`` is drawn from an ordered-logit model: the latent taste
    ``s = user_bias[u] + item_bias[i] + user_factors[u] @ item_factors[i]`` plus logistic noise
    of scale ``temperature`` is cut at ``cutpoints`` into 1..5 stars, so
    ``P(rating <= k) = sigmoid((cutpoints[k-1] - s) / temperature)``.
    """

    user_bias: np.ndarray     # (n_users,)
    item_bias: np.ndarray     # (n_items,)
    user_factors: np.ndarray  # (n_users, k)
    item_factors: np.ndarray  # (n_items, k)
    cutpoints: np.ndarray     # (4,)
    temperature: float
    good_items: list[int]     # planted: rated well by nearly everyone
    bad_items: list[int]      # planted: rated badly by nearly everyone
    bayes_rmse: float         # RMSE of the best possible predictor, expected(u, i), on the ratings

    def probs(self, user, item) -> np.ndarray:
        """``P(rating = 1..5)`` for each (user, item) pair, shape ``(n, 5)``."""
        user, item = np.asarray(user), np.asarray(item)
        s = (self.user_bias[user] + self.item_bias[item]
             + (self.user_factors[user] * self.item_factors[item]).sum(-1))  # (n,)
        cdf = 1 / (1 + np.exp((s[:, None] - self.cutpoints) / self.temperature))  # (n, 4)
        cdf = np.concatenate([np.zeros((len(s), 1)), cdf, np.ones((len(s), 1))], axis=1)
        return np.diff(cdf, axis=1)  # (n, 5)

    def expected(self, user, item) -> np.ndarray:
        """The Bayes predictor: ``E[rating | true parameters]`` for each pair, shape ``(n,)``."""
        return self.probs(user, item) @ np.arange(1, 6)


@dataclass(frozen=True, eq=False)
class Ratings:
    """A ratings table (``user``, ``item``, ``rating``, ``timestamp``; 0-based contiguous ids),
    the items' titles, and for generated data the ``truth`` that produced it (else ``None``)."""

    ratings: pd.DataFrame
    items: pd.DataFrame
    truth: Truth | None = None
    source: str = "synthetic"

    @property
    def n_users(self) -> int:
        return int(self.ratings["user"].max()) + 1

    @property
    def n_items(self) -> int:
        return len(self.items)

    def split(self, valid_pct: float = 0.1, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A random ``(train, valid)`` split of the ratings, the same for the same ``seed``."""
        if not 0 < valid_pct < 1:
            raise ValueError(f"valid_pct must be between 0 and 1, got {valid_pct}")
        n = len(self.ratings)
        perm = np.random.default_rng(seed).permutation(n)
        n_valid = int(round(valid_pct * n))
        valid = self.ratings.iloc[np.sort(perm[:n_valid])].reset_index(drop=True)
        train = self.ratings.iloc[np.sort(perm[n_valid:])].reset_index(drop=True)
        return train, valid

    def item_stats(self) -> pd.DataFrame:
        """One row per item (index ``item``): ``title``, ``n_ratings``, ``mean_rating`` (NaN if unrated)."""
        g = self.ratings.groupby("item")["rating"]
        stats = self.items.set_index("item")[["title"]].copy()
        stats["n_ratings"] = g.size().reindex(stats.index, fill_value=0).astype("int64")
        stats["mean_rating"] = g.mean().reindex(stats.index)
        return stats

    def __repr__(self) -> str:
        return (f"Ratings(source={self.source!r}, n_users={self.n_users}, n_items={self.n_items}, "
                f"n_ratings={len(self.ratings)})")


MOVIELENS_SOURCES = ("auto", "synthetic", "ml-100k")


def movielens(source: str = "auto") -> Ratings:
    """Ratings for collaborative filtering.

    ``source``: ``"ml-100k"`` (the real MovieLens 100k, after ``workbook data fetch ml-100k``),
    ``"synthetic"`` (generated offline in its shape, with a known ``truth``) or ``"auto"``
    (the real one when fetched, else synthetic).
    """
    if source not in MOVIELENS_SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(MOVIELENS_SOURCES)}")
    folder = data_dir() / "ml-100k"
    if source == "ml-100k" or (source == "auto" and folder.exists()):
        if not folder.exists():
            raise FileNotFoundError(
                f"MovieLens 100k is not in {folder}. Run `workbook data fetch ml-100k` (needs the "
                "internet), or use movielens('synthetic').")
        return _read_ml100k(folder)
    r = _synthetic()
    # Copies: the generated set is cached, and a notebook that edits its frames must not change it.
    return dataclasses.replace(r, ratings=r.ratings.copy(), items=r.items.copy())


def _read_ml100k(folder: Path) -> Ratings:
    """Read MovieLens 100k's ``u.data`` (tab-separated) and ``u.item`` (pipe-separated, latin-1)."""
    for f in ("u.data", "u.item"):
        if not (folder / f).is_file():
            raise FileNotFoundError(f"{folder / f} is missing; run `workbook data fetch ml-100k --force`")
    ratings = pd.read_csv(folder / "u.data", sep="\t", header=None,
                          names=["user", "item", "rating", "timestamp"], dtype="int64")
    items = pd.read_csv(folder / "u.item", sep="|", header=None, encoding="latin-1",
                        usecols=[0, 1], names=["item", "title"], dtype={"item": "int64", "title": str})
    # The files count from 1; map both id columns onto 0..n-1 in sorted order.
    users = np.sort(ratings["user"].unique())
    item_ids = np.union1d(items["item"].to_numpy(), ratings["item"].unique())
    ratings["user"] = np.searchsorted(users, ratings["user"].to_numpy())
    ratings["item"] = np.searchsorted(item_ids, ratings["item"].to_numpy())
    titles = dict(zip(items["item"], items["title"]))
    items = pd.DataFrame({"item": np.arange(len(item_ids)),
                          "title": [titles.get(i, f"item {i}") for i in item_ids]})
    return Ratings(ratings, items, None, "ml-100k")


# The generator's settings, tuned (figures in datasets/README.md) so that the lesson's biased
# matrix factorisation gets within 8% of the noise floor in 5 epochs, biases alone do not get
# within 10%, and the learnt item biases rank like the planted ones.
SEED = 5
N_USERS, N_ITEMS, N_RATINGS = 943, 1682, 100_000
MIN_PER_USER, MAX_PER_USER = 20, 730  # MovieLens 100k's users rate 20 to 737 films
USER_BIAS_STD, ITEM_BIAS_STD = 0.4, 0.75
# Std of each latent dimension's term u_k * v_k, decreasing so that the top principal
# components of learnt item factors line up with the first true dimensions.
FACTOR_SCALES = (0.35, 0.25, 0.2)
TEMPERATURE = 0.6                  # scale of the logistic noise on the latent taste
STAR_SHARES = (0.0611, 0.1137, 0.2715, 0.3417, 0.2120)  # MovieLens 100k's shares of 1..5 stars
N_PLANTED = 5                      # good and as many bad items
TIME_RANGE = (874_724_710, 893_286_638)  # MovieLens 100k's: Sept 1997 to April 1998

_ADJ = ("Silent", "Last", "Dark", "Lost", "Broken", "Hidden", "Wild", "Crimson", "Midnight",
        "Lonely", "Secret", "Burning", "Frozen", "Distant", "Little", "Endless", "Sweet",
        "Bitter", "Savage", "Quiet", "Electric", "Velvet", "Stolen", "Restless", "Fallen", "Blue",
        "Final", "Strange", "Empty", "Painted", "Silver", "Forgotten", "Hollow", "Scarlet",
        "Sleepless", "Reckless", "Gentle", "Eternal", "Northern", "Tender")
_NOUN = ("River", "Summer", "Heart", "City", "Road", "Night", "Storm", "Garden", "Kingdom",
         "Promise", "Shadow", "Island", "Journey", "Dream", "Horizon", "Witness", "Stranger",
         "Empire", "Letter", "Harvest", "Frontier", "Mirror", "Season", "Voyage", "Bridge",
         "Fortune", "Highway", "Ocean", "Valley", "Dancer", "Angel", "Crown", "Desert", "Legacy",
         "Alibi", "Paradise", "Hunter", "Signal", "Tide", "Orchard", "Carnival", "Lighthouse",
         "Verdict", "Memory", "Canyon", "Echo", "Reunion", "Compass", "Station", "Winter")
_PLACE = ("Paris", "Tokyo", "Chicago", "Berlin", "Havana", "Cairo", "Lisbon", "Memphis",
          "Vienna", "Bombay", "Dublin", "Marseille", "Texas", "Alaska", "Manhattan", "Naples")
_NAME = ("Annie", "Harry", "Rosa", "Jack", "Lola", "Max", "Nora", "Oscar", "Ruby", "Sam",
         "Vera", "Walter", "Edith", "Frank", "Iris", "Leo")
_TEMPLATES = ("The {a} {n}", "{a} {n}", "{n} of {p}", "The {n} of {p}", "{m}'s {n}",
              "A {n} in {p}", "Return to {p}", "{a} {n} in {p}", "{m} and the {a} {n}")
_GOOD_TITLES = ("Golden Masterpiece (1994)", "The Triumph of Hearts (1995)",
                "Brilliant Summer (1993)", "Perfect Harmony (1996)", "Everybody's Favourite (1997)")
_BAD_TITLES = ("Total Disaster (1996)", "The Dreadful Dud (1995)", "Flop of the Year (1997)",
               "Attack of the Boring Robots (1994)", "Rotten Tomatoes in Space (1993)")


def _apportion(weights: np.ndarray, total: int, low: int, high: int) -> np.ndarray:
    """Integers in [low, high] summing to ``total``, proportional to ``weights`` beyond ``low``."""
    extra = np.zeros(len(weights))
    free = np.ones(len(weights), bool)
    left = total - low * len(weights)
    while True:  # give out the remainder; whoever reaches ``high`` is capped and left out
        extra[free] = weights[free] / weights[free].sum() * (left - extra[~free].sum())
        over = free & (extra > high - low)
        if not over.any():
            break
        extra[over] = high - low
        free &= ~over
    counts = np.floor(extra).astype(np.int64)
    # Largest remainders get the last few units, so the sum is exact.
    short = left - counts.sum()
    counts[np.argsort(counts - extra, kind="stable")[:short]] += 1
    return low + counts


def _titles(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct film-like titles with a release year, skewed to the 1990s like MovieLens."""
    titles: set[str] = set()
    out = []
    while len(out) < n:
        t = _TEMPLATES[rng.integers(len(_TEMPLATES))].format(
            a=_ADJ[rng.integers(len(_ADJ))], n=_NOUN[rng.integers(len(_NOUN))],
            p=_PLACE[rng.integers(len(_PLACE))], m=_NAME[rng.integers(len(_NAME))])
        year = 1998 - min(int(rng.exponential(6.0)), 70)
        title = f"{t} ({year})"
        if title not in titles and title not in _GOOD_TITLES + _BAD_TITLES:
            titles.add(title)
            out.append(title)
    return out


def _cutpoints(s: np.ndarray) -> np.ndarray:
    """Cut-points that give the latent tastes ``s`` MovieLens 100k's share of each star."""
    target = np.cumsum(STAR_SHARES)[:4]
    lo, hi = np.full(4, s.min() - 20 * TEMPERATURE), np.full(4, s.max() + 20 * TEMPERATURE)
    for _ in range(50):  # bisection: the share of ratings <= k grows with cut-point k
        mid = (lo + hi) / 2
        share = (1 / (1 + np.exp((s[:, None] - mid) / TEMPERATURE))).mean(0)  # (4,)
        lo, hi = np.where(share < target, mid, lo), np.where(share < target, hi, mid)
    return (lo + hi) / 2


@functools.lru_cache(maxsize=1)
def _synthetic() -> Ratings:
    """Generate the default ratings: deterministic, offline, MovieLens 100k's shape."""
    rng = np.random.default_rng(SEED)
    k = len(FACTOR_SCALES)
    user_bias = rng.normal(0, USER_BIAS_STD, N_USERS)
    item_bias = rng.normal(0, ITEM_BIAS_STD, N_ITEMS)
    user_factors = rng.normal(0, 1, (N_USERS, k)) * np.sqrt(FACTOR_SCALES)  # (n_users, k)
    item_factors = rng.normal(0, 1, (N_ITEMS, k)) * np.sqrt(FACTOR_SCALES)  # (n_items, k)

    # Who rates what. Activity: at least 20 ratings each, log-normally skewed, a few in the
    # hundreds. Popularity: Zipf-like weights over a random order of the items.
    n_per_user = _apportion(rng.lognormal(0, 1.0, N_USERS), N_RATINGS, MIN_PER_USER, MAX_PER_USER)
    popularity = np.empty(N_ITEMS)
    rank = np.arange(N_ITEMS)
    popularity[rng.permutation(N_ITEMS)] = (rank + 60.0) ** -1.0 * np.exp(-rank / 600)
    # Each user's items: sampling without replacement proportional to popularity, done for
    # all users at once with the Gumbel top-k trick. Every item gets one forced rater, so no
    # item goes unrated (as in MovieLens, where every listed film has a rating).
    keys = np.log(popularity) + rng.gumbel(size=(N_USERS, N_ITEMS))      # (n_users, n_items)
    keys[rng.integers(N_USERS, size=N_ITEMS), np.arange(N_ITEMS)] = np.inf
    order = np.argsort(-keys, axis=1, kind="stable")                     # (n_users, n_items)
    taken = np.arange(N_ITEMS) < n_per_user[:, None]                     # (n_users, n_items)
    user = np.repeat(np.arange(N_USERS), n_per_user)                     # (n_ratings,)
    item = order[taken]                                                  # (n_ratings,)

    # Plant clearly good and bad items among the popular ones, so a bias ranking finds them.
    ranked = np.argsort(-np.bincount(item, minlength=N_ITEMS), kind="stable")
    planted = rng.choice(ranked[10:150], 2 * N_PLANTED, replace=False)
    good, bad = sorted(planted[:N_PLANTED].tolist()), sorted(planted[N_PLANTED:].tolist())
    edge = np.abs(item_bias).max()  # beyond every other item, by a visible margin
    item_bias[good] = edge + rng.uniform(0.1, 0.4, N_PLANTED)
    item_bias[bad] = -edge - rng.uniform(0.1, 0.4, N_PLANTED)

    s = user_bias[user] + item_bias[item] + (user_factors[user] * item_factors[item]).sum(1)
    truth = Truth(user_bias, item_bias, user_factors, item_factors, _cutpoints(s),
                  TEMPERATURE, good, bad, bayes_rmse=0.0)
    p = truth.probs(user, item)                                          # (n_ratings, 5)
    stars = np.arange(1, 6)
    var = p @ stars**2 - (p @ stars) ** 2                                # (n_ratings,)
    truth = dataclasses.replace(truth, bayes_rmse=float(np.sqrt(var.mean())))
    rating = 1 + (rng.random(len(user))[:, None] > p.cumsum(1)[:, :4]).sum(1)  # inverse CDF

    # Each user rates in one stretch of time (most within days, some over months).
    start = rng.uniform(*TIME_RANGE, N_USERS)
    span = np.minimum(rng.exponential(20 * 86400, N_USERS), TIME_RANGE[1] - start)
    timestamp = (start[user] + rng.random(len(user)) * span[user]).astype(np.int64)

    shuffle = rng.permutation(len(user))  # like u.data: rows in no particular order
    ratings = pd.DataFrame({"user": user, "item": item, "rating": rating,
                            "timestamp": timestamp}).iloc[shuffle].reset_index(drop=True)
    ratings = ratings.astype("int64")
    titles = _titles(rng, N_ITEMS)
    for i, t in zip(good + bad, _GOOD_TITLES + _BAD_TITLES):
        titles[i] = t
    items = pd.DataFrame({"item": np.arange(N_ITEMS), "title": titles})
    return Ratings(ratings, items, truth, "synthetic")


# --------------------------------------------------------------------------- digits

DIGITS_SOURCES = ("auto", "sklearn", "digits", "mnist")
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


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


def _read_mnist(folder: Path):
    """Load MNIST from its four IDX .gz files: the standard 60k/10k split."""
    out = []
    for split in ("train", "t10k"):
        files = [folder / f"{split}-{kind}-idx{n}-ubyte.gz" for kind, n in (("images", 3), ("labels", 1))]
        for f in files:
            if not f.is_file():
                raise FileNotFoundError(f"{f} is missing; run `workbook data fetch mnist --force`")
        x, y = (read_idx(f) for f in files)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y) or x.dtype != np.uint8:
            raise ValueError(f"{folder}: {split} images {x.shape} {x.dtype} do not match labels {y.shape}")
        out += [torch.from_numpy(x.reshape(len(x), -1)).float() / 255,  # (n, 784) in [0, 1]
                torch.from_numpy(y).long()]                           # (n,)
    return tuple(out)


def _sklearn_digits():
    """scikit-learn's 1797 8x8 digits, split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.data, dtype=torch.float32) / 16     # (1797, 64) in [0, 1]
    y = torch.tensor(d.target, dtype=torch.int64)          # (1797,)
    perm = torch.from_numpy(np.random.default_rng(42).permutation(len(x)))
    n_valid = int(round(0.2 * len(x)))
    valid, train = perm[:n_valid], perm[n_valid:]
    return x[train], y[train], x[valid], y[valid]


def digits(source: str = "auto") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Handwritten digits as ``(x_train, y_train, x_valid, y_valid)``.

    ``x``: float32 rows in [0, 1] (images flattened); ``y``: int64 labels 0..9.
    ``source``: ``"mnist"`` (after ``workbook data fetch mnist``: 60000/10000 rows of 784),
    ``"sklearn"`` or ``"digits"`` (scikit-learn's 8x8 digits: 1438/359 rows of 64) or
    ``"auto"`` (MNIST when fetched, else scikit-learn's).
    """
    if source not in DIGITS_SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(DIGITS_SOURCES)}")
    folder = data_dir() / "mnist"
    if source == "mnist" or (source == "auto" and folder.exists()):
        if not folder.exists():
            raise FileNotFoundError(
                f"MNIST is not in {folder}. Run `workbook data fetch mnist` (needs the internet), "
                "or use digits('sklearn').")
        return _read_mnist(folder)
    return _sklearn_digits()


# What fetch() checks a download with: the loaders the notebooks use.
_LOADERS = {"ml-100k": _read_ml100k, "mnist": _read_mnist}


# --------------------------------------------------------------------------- command line

def _describe(name: str) -> str:
    """One line of statistics for a data set, or why it is not there."""
    try:
        if name in ("synthetic", "ml-100k"):
            r = movielens(name)
            line = (f"{r.n_users} users, {r.n_items} items, {len(r.ratings)} ratings "
                    f"{r.ratings['rating'].min()}-{r.ratings['rating'].max()} "
                    f"(mean {r.ratings['rating'].mean():.3f})")
            return line + (f", noise floor (Bayes RMSE) {r.truth.bayes_rmse:.4f}" if r.truth else "")
        x_train, y_train, x_valid, y_valid = digits(name)
        return (f"{len(x_train)} train / {len(x_valid)} valid images, {x_train.shape[1]} features, "
                f"{len(y_train.unique())} classes")
    except FileNotFoundError:
        return f"not fetched (run `workbook data fetch {name}`)"
    except (ValueError, OSError) as e:
        return f"present but unreadable: {e}"


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
        for name, label in (("synthetic", "movielens synthetic"), ("ml-100k", "movielens ml-100k"),
                            ("sklearn", "digits sklearn"), ("mnist", "digits mnist")):
            print(f"{label:20} {_describe(name)}")
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
    print(f"{args.name}: {_describe(args.name)}")
    print(f"licence: {DATA_HUB[args.name].licence}")
    return 0
