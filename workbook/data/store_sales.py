"""A generated store-sales table for entity embeddings (notebook 08), in the spirit of Rossmann.

Forty shops in forty German cities, every day from 2013-01-01 to 2015-07-31: the day's log sales
are the sum of a planted effect for the shop, the day of the week, the month and the promotion,
a smooth function of the distance to the nearest competitor and of the day's temperature, and
Gaussian noise of a known std, so the floor (``truth.bayes_rmse``) and every category level's
true effect (``truth.effects``) are known.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["TABULAR_SOURCES", "Table", "TableTruth", "tabular"]

TABULAR_SOURCES = ("synthetic",)
SEED = 8
CITIES = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig",
          "Dortmund", "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum",
          "Wuppertal", "Bielefeld", "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden",
          "Mönchengladbach", "Gelsenkirchen", "Aachen", "Braunschweig", "Kiel", "Chemnitz", "Halle",
          "Magdeburg", "Freiburg", "Krefeld", "Mainz", "Lübeck", "Erfurt", "Oberhausen", "Rostock", "Kassel")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DATES = ("2013-01-01", "2015-07-31")  # Rossmann's training period: 942 days
MEAN_LOG_SALES = 8.7                  # about 6,000 euros a day
STORE_STD = 0.3                       # spread of the shops' effects
# Planted effects on log sales, before centring: busy Saturdays, quiet Sundays; the Christmas trade.
DAY_EFFECTS = (0.08, 0.0, -0.02, 0.02, 0.1, 0.18, -0.45)
MONTH_EFFECTS = (-0.14, -0.12, -0.02, 0.0, 0.02, -0.01, 0.03, -0.03, -0.04, 0.0, 0.08, 0.32)
PROMO_EFFECT = 0.25
PROMO_WEEKS = 0.4                     # share of weeks a shop runs a promotion (Monday to Friday)
NOISE_STD = 0.12                      # the floor: no predictor does better on average


def distance_effect(d):
    """Planted effect of the nearest competitor's distance (metres): a close one costs sales."""
    return -0.35 * np.exp(-np.asarray(d, float) / 700.0)


def temperature_effect(t):
    """Planted effect of the day's temperature (°C): shoppers stay home when it is cold or hot."""
    return -0.0015 * (np.asarray(t, float) - 13.0) ** 2


@dataclass(frozen=True, eq=False)
class TableTruth:
    """How the table was made: ``y = mu + sum of effects[c][code] + sum of cont_effects[c](x) + noise``.

    ``effects[name]``: a Series indexed by level code (0..n-1), mean zero over the levels.
    ``cont_effects[name]``: the planted function of that continuous column (centred on the table).
    ``bayes_rmse``: the noise std, the RMSE of the best possible predictor, ``predict``.
    """

    mu: float
    effects: dict[str, pd.Series]
    cont_effects: dict[str, Callable]
    cont_offsets: dict[str, float]   # subtracted from each planted function to centre it
    bayes_rmse: float

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        """The Bayes predictor: the expected target of each row, given its columns."""
        y = np.full(len(df), self.mu)
        for name, effect in self.effects.items():
            y += effect.to_numpy()[df[name].to_numpy()]
        for name, f in self.cont_effects.items():
            y += f(df[name].to_numpy()) - self.cont_offsets[name]
        return y


@dataclass(frozen=True, eq=False)
class Table:
    """A table for a tabular model: ``df`` with categorical columns ``cat_names`` (0-based integer
    codes; ``levels[name]`` names each code), continuous ``cont_names``, the target ``y_name``,
    and the ``truth`` that generated it."""

    df: pd.DataFrame
    cat_names: list[str]
    cont_names: list[str]
    y_name: str
    levels: dict[str, list[str]]
    truth: TableTruth

    def split(self, valid_pct: float = 0.2, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A random ``(train, valid)`` split of the rows, the same for the same ``seed``."""
        if not 0 < valid_pct < 1:
            raise ValueError(f"valid_pct must be between 0 and 1, got {valid_pct}")
        perm = np.random.default_rng(seed).permutation(len(self.df))
        n_valid = int(round(valid_pct * len(self.df)))
        valid = self.df.iloc[np.sort(perm[:n_valid])].reset_index(drop=True)
        train = self.df.iloc[np.sort(perm[n_valid:])].reset_index(drop=True)
        return train, valid

    def __repr__(self) -> str:
        cats = ", ".join(f"{c}: {len(self.levels[c])}" for c in self.cat_names)
        return (f"Table({len(self.df)} rows; categories {cats}; continuous {', '.join(self.cont_names)}; "
                f"target {self.y_name})")


def tabular(source: str = "synthetic") -> Table:
    """The generated store-sales table (``source="synthetic"``, the only one): deterministic, offline.

    ``df`` columns: ``date``, ``store`` (0..39), ``day_of_week`` (0 = Monday), ``month`` (0 = January),
    ``promo`` (0 or 1), ``competition_distance`` (metres), ``temperature`` (°C), and the target
    ``log_sales`` (natural log of the day's sales in euros). 37,680 rows.
    """
    if source not in TABULAR_SOURCES:
        raise ValueError(f"unknown source {source!r}; valid: {', '.join(TABULAR_SOURCES)}")
    t = _store_sales()
    # A copy: the table is cached, and a notebook that edits its frame must not change it.
    return Table(t.df.copy(), list(t.cat_names), list(t.cont_names), t.y_name,
                 {k: list(v) for k, v in t.levels.items()}, t.truth)


def _centred(values) -> np.ndarray:
    values = np.asarray(values, float)
    return values - values.mean()


@functools.lru_cache(maxsize=1)
def _store_sales() -> Table:
    """Generate the table: every shop on every day of ``DATES``."""
    rng = np.random.default_rng(SEED)
    n_stores = len(CITIES)
    dates = pd.date_range(*DATES, freq="D")                                # (n_days,)
    n_days = len(dates)
    store = np.repeat(np.arange(n_stores), n_days)                         # (n_rows,)
    day = np.tile(np.arange(n_days), n_stores)                             # (n_rows,)
    date = dates[day]
    dow, month = date.day_of_week.to_numpy(), date.month.to_numpy() - 1

    # Promotions run Monday to Friday in a shop's promo weeks.
    week = (day + dates[0].day_of_week) // 7
    promo_week = rng.random((n_stores, week.max() + 1)) < PROMO_WEEKS      # (n_stores, n_weeks)
    promo = (promo_week[store, week] & (dow < 5)).astype(np.int64)

    # The nearest competitor: a shop's own distance, then up to two nearer ones opening on the way.
    base = np.clip(np.exp(rng.normal(np.log(2000), 0.8, n_stores)), 50, 20_000)  # (n_stores,)
    distance = base[store].copy()
    for _ in range(2):
        opens = rng.random(n_stores) < 0.4
        when = rng.integers(60, n_days - 60, n_stores)
        nearer = base * rng.uniform(0.1, 0.6, n_stores)
        hit = opens[store] & (day >= when[store])
        distance[hit] = np.minimum(distance[hit], nearer[store][hit])
    distance = np.round(distance, -1).clip(min=20)

    # Temperature: the season, the city's climate, the weather of the day (shared, persistent), a local wobble.
    doy = date.day_of_year.to_numpy()
    weather = np.zeros(n_days)
    for i in range(1, n_days):  # AR(1): warm spells and cold snaps last several days
        weather[i] = 0.8 * weather[i - 1] + rng.normal(0, 1.8)
    temperature = (9.5 - 9.0 * np.cos(2 * np.pi * (doy - 20) / 365.25) + rng.normal(0, 1.5, n_stores)[store]
                   + weather[day] + rng.normal(0, 1.0, len(day))).round(1)

    effects = {
        "store": pd.Series(_centred(rng.normal(0, STORE_STD, n_stores)), name="store"),
        "day_of_week": pd.Series(_centred(DAY_EFFECTS), name="day_of_week"),
        "month": pd.Series(_centred(MONTH_EFFECTS), name="month"),
        "promo": pd.Series(_centred([0.0, PROMO_EFFECT]), name="promo"),
    }
    cont_effects = {"competition_distance": distance_effect, "temperature": temperature_effect}
    cont = {"competition_distance": distance, "temperature": temperature}
    offsets = {name: float(f(cont[name]).mean()) for name, f in cont_effects.items()}
    truth = TableTruth(MEAN_LOG_SALES, effects, cont_effects, offsets, NOISE_STD)

    df = pd.DataFrame({"date": date, "store": store, "day_of_week": dow.astype(np.int64),
                       "month": month.astype(np.int64), "promo": promo, **cont})
    df["log_sales"] = truth.predict(df) + rng.normal(0, NOISE_STD, len(df))
    levels = {"store": list(CITIES), "day_of_week": list(DAYS), "month": list(MONTHS), "promo": ["no", "yes"]}
    return Table(df, ["store", "day_of_week", "month", "promo"], ["competition_distance", "temperature"],
                 "log_sales", levels, truth)
