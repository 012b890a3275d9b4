"""workbook.data: the generated ratings, the digits, and fetching real data sets end to end.

Downloads are served from a local http.server on 127.0.0.1 with small files in the real
formats; no test touches the real network.
"""
import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import socket
import threading
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from workbook import data as D

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
    """A tiny ml-100k.zip in the real layout: ml-100k/u.data (tab) and u.item (pipe, latin-1)."""
    u_data = "".join("\t".join(map(str, row)) + "\n" for row in U_DATA)
    u_item = "".join(f"{i}|{t}|01-Jan-1995||http://us.imdb.com/x|" + "|".join("0" * 19) + "\n"
                     for i, t in U_ITEM)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ml-100k/u.data", u_data)
        z.writestr("ml-100k/u.item", u_item.encode("latin-1"))
        z.writestr("ml-100k/README", "tiny test copy")
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
    assert df["timestamp"].between(*D.TIME_RANGE).all() and df["timestamp"].nunique() > 90_000
    assert list(syn.items.columns) == ["item", "title"] and list(syn.items["item"]) == list(range(1682))


def test_synthetic_titles_read_like_films(syn):
    titles = syn.items["title"]
    assert titles.is_unique
    assert titles.str.fullmatch(r"[A-Z].* \((19[2-9]\d)\)").all()
    assert titles[syn.truth.good_items[0]] in D._GOOD_TITLES


def test_synthetic_is_deterministic_and_copied(syn):
    fresh = D._synthetic.__wrapped__()  # bypass the cache: generate again from scratch
    pd.testing.assert_frame_equal(fresh.ratings, syn.ratings)
    pd.testing.assert_frame_equal(fresh.items, syn.items)
    np.testing.assert_array_equal(fresh.truth.item_bias, syn.truth.item_bias)
    again = D.movielens("synthetic")
    again.ratings.loc[0, "rating"] = 99  # a notebook editing its copy leaves the next call intact
    assert D.movielens("synthetic").ratings.loc[0, "rating"] != 99


def test_synthetic_activity_and_popularity_are_skewed(syn):
    per_user = syn.ratings.groupby("user").size()
    per_item = syn.ratings.groupby("item").size()
    assert per_user.min() >= 20 and per_user.max() >= 500 and per_user.median() < 100
    assert per_item.max() >= 400 and per_item.median() < 40 and (per_item < 5).sum() >= 100
    assert (per_item >= 20).sum() >= 700  # enough items for bias rankings to be meaningful


def test_synthetic_star_shares_match_movielens(syn):
    shares = syn.ratings["rating"].value_counts(normalize=True).sort_index().to_numpy()
    np.testing.assert_allclose(shares, D.STAR_SHARES, atol=0.01)


def test_truth_fields_and_noise_floor(syn):
    t, df = syn.truth, syn.ratings
    assert t.user_bias.shape == (943,) and t.item_bias.shape == (1682,)
    assert t.user_factors.shape[0] == 943 and t.item_factors.shape[0] == 1682
    p = t.probs(df["user"].to_numpy(), df["item"].to_numpy())
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-12)
    assert (p >= 0).all()
    # The exact Bayes RMSE agrees with the realised error of the Bayes predictor.
    e = t.expected(df["user"], df["item"])
    assert abs(np.sqrt(((df["rating"] - e) ** 2).mean()) - t.bayes_rmse) < 0.01
    assert 0.8 < t.bayes_rmse < 0.88
    mean_rmse = df["rating"].std(ddof=0)
    assert 1.1 < mean_rmse and t.bayes_rmse < 0.8 * mean_rmse  # a strong signal to learn


def test_planted_items_stand_out(syn):
    t, stats = syn.truth, syn.item_stats()
    assert len(t.good_items) == len(t.bad_items) == 5 and not set(t.good_items) & set(t.bad_items)
    others = np.setdiff1d(np.arange(1682), t.good_items + t.bad_items)
    assert t.item_bias[t.good_items].min() > t.item_bias[others].max()
    assert t.item_bias[t.bad_items].max() < t.item_bias[others].min()
    good, bad = stats.loc[t.good_items], stats.loc[t.bad_items]
    assert (good["n_ratings"] >= 100).all() and (bad["n_ratings"] >= 100).all()
    assert (good["mean_rating"] > 4.5).all() and (bad["mean_rating"] < 2).all()


def test_item_means_track_planted_biases(syn):
    """Even without training, item means rank like the planted biases (the signal is there)."""
    stats = syn.item_stats()
    busy = stats["n_ratings"] >= 20
    ranks = stats.loc[busy, "mean_rating"].rank(), pd.Series(syn.truth.item_bias, stats.index)[busy].rank()
    corr = ranks[0].corr(ranks[1])  # Spearman's rho
    assert corr > 0.85


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

def test_sklearn_digits():
    x_train, y_train, x_valid, y_valid = D.digits()  # auto, nothing fetched: scikit-learn's
    assert x_train.shape == (1438, 64) and x_valid.shape == (359, 64)
    assert x_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0 <= x_train.min() and x_train.max() == 1
    assert set(y_valid.tolist()) == set(range(10))
    again = D.digits("digits")
    assert torch.equal(again[2], x_valid) and torch.equal(D.digits("sklearn")[1], y_train)


def test_digits_sources():
    with pytest.raises(ValueError, match="auto, sklearn, digits, mnist"):
        D.digits("cifar")
    with pytest.raises(FileNotFoundError, match="workbook data fetch mnist"):
        D.digits("mnist")


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
    with pytest.raises(D.FetchError, match="MD5 checksum mismatch") as e:
        D.fetch("ml-100k", progress=False)
    assert "Nothing was saved" in str(e.value) and "u.data" in str(e.value)
    _assert_untouched(home)


def test_truncated_transfer(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url + "cut/")
    with pytest.raises(D.FetchError, match="stopped after|IncompleteRead"):
        D.fetch("ml-100k", progress=False)
    _assert_untouched(home)


def test_truncated_archive(monkeypatch, server, home):
    """A cut-off zip whose checksum matches (a bad registry entry) is still caught."""
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()[:300]}, url)
    with pytest.raises(D.FetchError, match="not a valid zip archive"):
        D.fetch("ml-100k", progress=False)
    _assert_untouched(home)


def test_truncated_idx(monkeypatch, server, home):
    url, root, _ = server
    files = _mnist_files()
    files["t10k-labels-idx1-ubyte.gz"] = files["t10k-labels-idx1-ubyte.gz"][:-12]  # cut-off gzip
    _publish(monkeypatch, "mnist", root, files, url)
    with pytest.raises(D.FetchError, match="does not load: .*damaged gzip"):
        D.fetch("mnist", progress=False)
    _assert_untouched(home)
    files = _mnist_files()
    raw = gzip.decompress(files["train-images-idx3-ubyte.gz"])
    files["train-images-idx3-ubyte.gz"] = gzip.compress(raw[:-100])  # valid gzip, short IDX
    _publish(monkeypatch, "mnist", root, files, url)
    with pytest.raises(D.FetchError, match="truncated"):
        D.fetch("mnist", progress=False)
    _assert_untouched(home)


def test_missing_file_404(monkeypatch, server, home):
    url, root, _ = server
    files = _mnist_files()
    _publish(monkeypatch, "mnist", root, files, url)
    (root / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(D.FetchError, match="HTTP 404") as e:
        D.fetch("mnist", progress=False)
    assert "t10k-images-idx3-ubyte.gz" in str(e.value) and "Check your internet connection" in str(e.value)
    _assert_untouched(home)


def test_unreachable_server(home):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(D.FetchError, match="Check your internet connection") as e:
        D.fetch("ml-100k", mirrors=[f"http://127.0.0.1:{port}/"], progress=False)
    assert f"127.0.0.1:{port}/ml-100k.zip" in str(e.value)
    _assert_untouched(home)


def test_failed_refetch_keeps_the_old_copy(monkeypatch, server, home):
    url, root, _ = server
    _publish(monkeypatch, "ml-100k", root, {"ml-100k.zip": _ml100k_zip()}, url)
    D.fetch("ml-100k", progress=False)
    (root / "ml-100k.zip").unlink()
    with pytest.raises(D.FetchError, match="HTTP 404"):
        D.fetch("ml-100k", force=True, progress=False)
    _assert_untouched(home, keep=["ml-100k"])
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
    assert "1438 train / 359 valid images, 64 features" in out


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
