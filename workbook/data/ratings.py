"""Ratings for collaborative filtering: generated in MovieLens 100k's shape, or the real one.

The generated set (``movielens("synthetic")``, the offline default) plants what the lesson's model
should find: a bias per user and per item, and two named tastes, **genre** (drama <-> action) and
**era** (classic <-> recent). Every item has a genre and a release year; an item's loading on the
genre axis comes from its genre, its loading on the era axis from its year, and each user likes
one end of each axis more or less. The noise floor (``truth.bayes_rmse``) is known exactly.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .cache import data_dir
from .titles import GENRES, make_titles, make_years

__all__ = ["MOVIELENS_SOURCES", "Ratings", "Truth", "movielens", "read_ml100k"]

MOVIELENS_SOURCES = ("auto", "synthetic", "ml-100k")


@dataclass(frozen=True, eq=False)
class Truth:
    """The generating parameters of the synthetic ratings, for checking what a model learnt.

    ``rating`` is drawn from an ordered-logit model: the latent taste
    ``s = user_bias[u] + item_bias[i] + user_factors[u] @ item_factors[i]`` plus logistic noise
    of scale ``temperature`` is cut at ``cutpoints`` into 1..5 stars, so
    ``P(rating <= k) = sigmoid((cutpoints[k-1] - s) / temperature)``. The factors' columns are
    named by ``factor_names``: column 0 is the genre axis (+ drama, - action), column 1 the era
    axis (+ classic, - recent); the users' columns have mean zero.
    """

    user_bias: np.ndarray     # (n_users,)
    item_bias: np.ndarray     # (n_items,)
    user_factors: np.ndarray  # (n_users, 2): how much each user likes dramas, classics
    item_factors: np.ndarray  # (n_items, 2): [genre loading, era loading], each of std 1
    cutpoints: np.ndarray     # (4,)
    temperature: float
    good_items: list[int]     # planted: rated well by nearly everyone
    bad_items: list[int]      # planted: rated badly by nearly everyone
    bayes_rmse: float         # RMSE of the best possible predictor, expected(u, i), on the ratings
    item_genre: np.ndarray    # (n_items,) genre names, as items["genre"]
    item_year: np.ndarray     # (n_items,) release years, as in the titles
    factor_names: tuple[str, ...] = ("genre", "era")
    genre_position: dict = dataclasses.field(default_factory=dict)  # genre -> place on the genre axis

    @property
    def genre_loading(self) -> np.ndarray:
        """Each item's place on the genre axis (+ drama, - action), shape ``(n_items,)``."""
        return self.item_factors[:, 0]

    @property
    def era_loading(self) -> np.ndarray:
        """Each item's place on the era axis (+ classic, - recent), shape ``(n_items,)``."""
        return self.item_factors[:, 1]

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
    the items (``item``, ``title``, and ``genre`` for generated data), and for generated data
    the ``truth`` that produced it (else ``None``)."""

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


def movielens(source: str = "auto") -> Ratings:
    """Ratings for collaborative filtering.

    ``source``: ``"ml-100k"`` (the real MovieLens 100k, after ``workbook data fetch ml-100k``),
    ``"synthetic"`` (generated offline in its shape, with named genres and eras and a known
    ``truth``) or ``"auto"`` (the real one when fetched, else synthetic).
    """
    if source not in MOVIELENS_SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(MOVIELENS_SOURCES)}")
    folder = data_dir() / "ml-100k"
    if source == "ml-100k" or (source == "auto" and folder.exists()):
        if not folder.exists():
            raise FileNotFoundError(
                f"MovieLens 100k is not in {folder}. Run `workbook data fetch ml-100k` (needs the "
                "internet), or use movielens('synthetic').")
        return read_ml100k(folder)
    r = synthetic()
    # Copies: the generated set is cached, and a notebook that edits its frames must not change it.
    return dataclasses.replace(r, ratings=r.ratings.copy(), items=r.items.copy())


def read_ml100k(folder: str | Path) -> Ratings:
    """Read MovieLens 100k's ``u.data`` (tab-separated) and ``u.item`` (pipe-separated, latin-1)."""
    folder = Path(folder)
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


# --------------------------------------------------------------------------- the generator

# Tuned (figures in datasets/README.md) so that the lesson's biased matrix factorisation gets
# within 10% of the noise floor in 5 epochs, biases alone do not, the learnt item biases rank like
# the planted ones, and the top two principal components of the learnt item factors are genre and era.
SEED = 5
N_USERS, N_ITEMS, N_RATINGS = 943, 1682, 100_000
MIN_PER_USER, MAX_PER_USER = 20, 730  # MovieLens 100k's users rate 20 to 737 films
USER_BIAS_STD, ITEM_BIAS_STD = 0.4, 0.7
# Std of each taste term user_factors[:, k] * item_factors[:, k]: genre, then era. Distinct, so
# the principal components of learnt item factors line up with the axes rather than mixing them.
FACTOR_SCALES = (0.85, 0.7)
GENRE_NOISE, ERA_NOISE = 0.35, 0.25  # spread of the loadings around their genre's / year's value
# Classics are rated a little higher, as the old films still on a 1998 video shelf are. (Not dramas:
# a bias that follows the genre axis blurs bias and factor, and the learnt biases rank worse.)
BIAS_FROM_ERA = 0.1
# Scale of the logistic noise on the latent taste. At 0.6 (floor 0.83, like the lesson's RMSE) the
# learnt biases' Spearman fell to 0.87 once the factors were strong enough to lead the PCA.
TEMPERATURE = 0.45
STAR_SHARES = (0.0611, 0.1137, 0.2715, 0.3417, 0.2120)  # MovieLens 100k's shares of 1..5 stars
N_PLANTED = 5                      # good and as many bad items
TIME_RANGE = (874_724_710, 893_286_638)  # MovieLens 100k's: Sept 1997 to April 1998


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


def _cutpoints(s: np.ndarray) -> np.ndarray:
    """Cut-points that give the latent tastes ``s`` MovieLens 100k's share of each star."""
    target = np.cumsum(STAR_SHARES)[:4]
    lo, hi = np.full(4, s.min() - 20 * TEMPERATURE), np.full(4, s.max() + 20 * TEMPERATURE)
    for _ in range(50):  # bisection: the share of ratings <= k grows with cut-point k
        mid = (lo + hi) / 2
        share = (1 / (1 + np.exp((s[:, None] - mid) / TEMPERATURE))).mean(0)  # (4,)
        lo, hi = np.where(share < target, mid, lo), np.where(share < target, hi, mid)
    return (lo + hi) / 2


def _standardise(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def _items(rng: np.random.Generator):
    """Each item's genre, year, and loadings on the genre and era axes (each of mean 0, std 1)."""
    names = list(GENRES)
    shares = np.array([GENRES[g][0] for g in names])
    genre = np.array(names, dtype=object)[rng.choice(len(names), N_ITEMS, p=shares / shares.sum())]
    year = make_years(rng, genre)
    position = np.array([GENRES[g][1] for g in genre])
    genre_loading = _standardise(position + rng.normal(0, GENRE_NOISE, N_ITEMS))
    age = np.log(1999 - year)  # log: a decade matters more among recent films than among old ones
    era_loading = _standardise(_standardise(age) + rng.normal(0, ERA_NOISE, N_ITEMS))
    return genre, year, np.stack([genre_loading, era_loading], 1)  # (n_items, 2)


@functools.lru_cache(maxsize=1)
def synthetic() -> Ratings:
    """Generate the default ratings: deterministic, offline, MovieLens 100k's shape."""
    rng = np.random.default_rng(SEED)
    genre, year, item_factors = _items(rng)                                 # (n_items, 2)
    user_factors = rng.normal(0, 1, (N_USERS, 2)) * FACTOR_SCALES           # (n_users, 2)
    user_factors -= user_factors.mean(0)  # tastes differ around zero: a factor is not a hidden bias
    user_bias = rng.normal(0, USER_BIAS_STD, N_USERS)
    item_bias = rng.normal(0, ITEM_BIAS_STD, N_ITEMS) + BIAS_FROM_ERA * item_factors[:, 1]

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

    # Plant clearly good and bad items among the popular ones, so a bias ranking finds them:
    # the good ones on the drama side, the bad ones recent and on the action side, as the
    # lesson's lists are (its worst films are 1990s horror, action and sequels).
    ranked = np.argsort(-np.bincount(item, minlength=N_ITEMS), kind="stable")[10:200]
    position = np.array([GENRES[g][1] for g in genre])
    dramatic = ranked[position[ranked] >= 0.4]
    recent_action = ranked[(position[ranked] <= -0.6) & (year[ranked] >= 1993)]
    good = sorted(rng.choice(dramatic, N_PLANTED, replace=False).tolist())
    bad = sorted(rng.choice(recent_action, N_PLANTED, replace=False).tolist())
    edge = np.abs(item_bias).max()  # beyond every other item, by a visible margin
    item_bias[good] = edge + rng.uniform(0.1, 0.4, N_PLANTED)
    item_bias[bad] = -edge - rng.uniform(0.1, 0.4, N_PLANTED)

    s = user_bias[user] + item_bias[item] + (user_factors[user] * item_factors[item]).sum(1)
    positions = {g: v[1] for g, v in GENRES.items()}
    truth = Truth(user_bias, item_bias, user_factors, item_factors, _cutpoints(s), TEMPERATURE,
                  good, bad, 0.0, genre.astype(str), year, genre_position=positions)
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
    items = pd.DataFrame({"item": np.arange(N_ITEMS), "title": make_titles(rng, genre, year),
                          "genre": genre.astype(str)})
    return Ratings(ratings, items, truth, "synthetic")
