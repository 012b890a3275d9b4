"""Hidden tests for 02_collab_bias: each function is one graded cell, checking one behaviour.

The learner's functions and model are compared with `solutions.collab_bias` on generated cases;
where a learner's value matches a known mistake (the (B, 1) bias broadcast, `sigmoid(x) * high`,
MSE without the root, an uncentred PCA...), the message names it.
"""
import math

import numpy as np
import pandas as pd
import torch
from torch import nn

from solutions import collab_bias as ref

from ..cases import FLOAT_DTYPES, SEEDS, devices, generator, randint, randn, shape_str
from ..report import Question

TABLES = ("user_factors", "item_factors", "user_bias", "item_bias")
Y_RANGES = ((0.0, 5.5), (1.0, 5.0), (-1.0, 1.0))


def _dtype(t) -> str:
    return str(t).removeprefix("torch.")


# --------------------------------------------------------------------------- sigmoid_range

def sigmoid_range_values(sigmoid_range):
    """sigmoid_range(x, low, high) equals sigmoid(x) * (high - low) + low: values, range, dtype, device, gradient."""
    with Question("sigmoid_range") as q:
        shapes = ((), (7,), (3, 4), (2, 3, 5))
        for i, shape in enumerate(shapes):
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    for low, high in Y_RANGES + ((1, 5),):
                        # cases.randn cannot make a 0-dim tensor: draw one value and reshape
                        x = randn(*shape or (1,), seed=i, dtype=dtype, device=device, scale=4.0).reshape(shape)
                        what = f"sigmoid_range(x, {low}, {high}) for x of shape {shape_str(shape)} {_dtype(dtype)} " \
                               f"on {device.type}"
                        with q.check(what):
                            y = q.call(sigmoid_range, x.clone(), low, high)
                            s = torch.sigmoid(x)
                            q.compare(what, y, ref.sigmoid_range(x, low, high), mistakes={
                                "sigmoid(x) * high, without low,": s * high,
                                "sigmoid(x) * (high - low), without adding low,": s * (high - low),
                                "sigmoid(x) * (high - low) - low": s * (high - low) - low,
                            })
        for dtype in FLOAT_DTYPES:
            what = f"sigmoid_range of ±50 ({_dtype(dtype)}) is low and high"
            with q.check(what):
                x = torch.tensor([-50.0, 50.0], dtype=dtype)
                q.compare(what, q.call(sigmoid_range, x, 1.0, 5.0), torch.tensor([1.0, 5.0], dtype=dtype))
        what = "the gradient of sigmoid_range(x, 1, 5.5) with respect to x"
        with q.check(what):
            x = randn(11, seed=3, dtype=torch.float64, scale=3.0).requires_grad_()
            y = q.call(sigmoid_range, x, 1.0, 5.5)
            _require_grad(what, y)
            y.sum().backward()
            s = torch.sigmoid(x.detach())
            q.compare(what, x.grad, 4.5 * s * (1 - s))


def _require_grad(what, y):
    if not isinstance(y, torch.Tensor) or not y.requires_grad:
        raise AssertionError(f"{what}: the result has no gradient: don't detach it, or build it from .data, "
                             ".item() or numpy.")


# --------------------------------------------------------------------------- DotProductBias

def _batch(n_users, n_items, size, seed, device):
    """A (size, 2) LongTensor of [user, item] rows."""
    return torch.stack([randint(n_users, (size,), seed=seed), randint(n_items, (size,), seed=seed + 100)], 1
                       ).to(device)  # (size, 2)


def _reference_model(n_users, n_items, n_factors, seed, dtype, device, y_range=None):
    """The reference model with O(1) weights, so that every term of the forward pass matters."""
    model = ref.DotProductBias(n_users, n_items, n_factors, *(() if y_range is None else (y_range,)))
    with torch.no_grad():
        for i, name in enumerate(TABLES):
            w = getattr(model, name).weight
            w.copy_(randn(*w.shape, seed=seed * 10 + i, dtype=torch.float64, scale=0.7))
    return model.to(device, dtype)


def _bias_trap(shape, batch):
    """A message for the outputs the (B, 1) bias tables give when they are not squeezed."""
    if tuple(shape) in ((batch, batch), (batch, 1)):
        return (f"forward returns shape {tuple(shape)} for a batch of {batch}, expected ({batch},). The bias "
                "embeddings give (B, 1) and (B,) + (B, 1) broadcasts to (B, B): squeeze them, e.g. "
                "self.user_bias(users).squeeze(1) or [:, 0].")
    return f"forward returns shape {tuple(shape)} for a batch of {batch}, expected ({batch},)."


def dot_product_bias_shapes(DotProductBias):
    """DotProductBias has its four nn.Embedding tables, of the right sizes, starting small, and returns (B,)."""
    with Question("DotProductBias") as q:
        built = False
        with q.check("DotProductBias(10, 7, 4) has exactly the tables user_factors, item_factors, user_bias, "
                     "item_bias, all nn.Embedding, and a forward method"):
            model = q.call(DotProductBias, 10, 7, 4)
            expected = {"user_factors": (10, 4), "item_factors": (7, 4), "user_bias": (10, 1), "item_bias": (7, 1)}
            for name, shape in expected.items():
                emb = getattr(model, name, None)
                assert emb is not None, f"it has no attribute `{name}`: name the tables {', '.join(TABLES)}"
                assert isinstance(emb, nn.Embedding), (
                    f"`{name}` is a {type(emb).__name__}, expected an nn.Embedding (it keeps its table in "
                    "`.weight`, which the grader and the notebook use)")
                assert tuple(emb.weight.shape) == shape, (
                    f"`{name}.weight` has shape {tuple(emb.weight.shape)}, expected {shape}"
                    + (": a bias is one number per user or item, so 1 wide" if name.endswith("bias") else ""))
            names = sorted(n for n, _ in model.named_parameters())
            want = sorted(f"{n}.weight" for n in TABLES)
            assert names == want, f"its parameters are {names}, expected exactly {want}"
            assert type(model).forward is not nn.Module.forward, (
                "it has no `forward` method: check its spelling and that it is indented inside the class")
            built = True
        if not built:  # the rest needs the tables
            return
        with q.check("the tables start small: factors with std about 0.01, biases no bigger"):
            torch.manual_seed(0)
            big = q.call(DotProductBias, 1000, 1500, 40)
            for name in TABLES:
                w = getattr(big, name).weight.detach().double()
                std = w.std().item()
                assert std <= 0.1, (
                    f"`{name}.weight` starts with std {std:.3g}: nn.Embedding's default N(0, 1) makes the 40-factor "
                    "dot products start around ±6, where the sigmoid is flat and training stalls. Initialise "
                    "every table like fastai, e.g. nn.init.normal_(emb.weight, std=0.01) or trunc_normal_.")
                assert std > 0 or name.endswith("bias"), (
                    f"`{name}.weight` starts all zero: every factor then gets a zero gradient and never learns. "
                    "Draw it from a normal with std 0.01.")
        for batch in (1, 2, 9):
            for device in devices():
                what = f"forward on a ({batch}, 2) batch on {device.type} returns shape ({batch},)"
                with q.check(what):
                    m = q.call(DotProductBias, 10, 7, 4).to(device)
                    y = q.call(m, _batch(10, 7, batch, seed=batch, device=device))
                    assert isinstance(y, torch.Tensor), f"forward returns a {type(y).__name__}, expected a tensor"
                    assert tuple(y.shape) == (batch,), _bias_trap(y.shape, batch)
                    assert y.dtype == torch.float32, f"forward returns {y.dtype}, expected torch.float32"
                    assert y.device.type == device.type, f"forward returns a tensor on {y.device}, expected {device}"


def _load(model, reference):
    """Copy the reference's weights into the learner's model, with a plain message if the names differ."""
    theirs, ours = model.state_dict(), reference.state_dict()
    if set(theirs) != set(ours):
        raise AssertionError(f"the model's state_dict has the keys {sorted(theirs)}, expected {sorted(ours)}: "
                             "name the tables user_factors, item_factors, user_bias, item_bias")
    for name, w in ours.items():
        if theirs[name].shape != w.shape:
            raise AssertionError(f"the model's state_dict holds {name} of shape {tuple(theirs[name].shape)}, "
                                 f"expected {tuple(w.shape)}")
    model.load_state_dict(ours)


def dot_product_bias_values(DotProductBias):
    """With the reference's weights loaded, DotProductBias gives the reference's outputs and gradients."""
    with Question("DotProductBias forward") as q:
        for seed in SEEDS:
            n_users, n_items, n_factors = 6 + seed, 5 + 2 * seed, 3 + seed
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    for y_range in (None, (1.0, 5.0)):
                        args = (n_users, n_items, n_factors) + (() if y_range is None else (y_range,))
                        what = (f"DotProductBias{args} with the reference's weights, {_dtype(dtype)} on "
                                f"{device.type}")
                        with q.check(what):
                            reference = _reference_model(*args[:3], seed, dtype, device, y_range)
                            model = q.call(DotProductBias, *args).to(device, dtype)
                            _load(model, reference)
                            x = _batch(n_users, n_items, 9, seed=seed, device=device)
                            y = q.call(model, x.clone())
                            expected = reference(x)
                            if isinstance(y, torch.Tensor) and y.shape != expected.shape:
                                raise AssertionError(_bias_trap(y.shape, len(x)))
                            q.compare(f"{what}: the predictions", y, expected, mistakes=_forward_mistakes(reference, x))
                            _require_grad(what, y)
                            g = randn(len(x), seed=seed + 7, dtype=dtype, device=device)
                            (y * g).sum().backward()
                            (expected * g).sum().backward()
                            for name in TABLES:
                                q.compare(f"{what}: the gradient of {name}.weight", getattr(model, name).weight.grad,
                                          getattr(reference, name).weight.grad)


@torch.no_grad()
def _forward_mistakes(reference, x):
    """What the reference's forward pass gives with each known mistake."""
    low, high = reference.y_range
    users, items = x[:, 0], x[:, 1]
    dot = (reference.user_factors(users) * reference.item_factors(items)).sum(1)  # (B,)
    biases = reference.user_bias(users)[:, 0] + reference.item_bias(items)[:, 0]  # (B,)
    mistakes = {
        "leaving out the biases": ref.sigmoid_range(dot, low, high),
        "leaving out the user bias": ref.sigmoid_range(dot + reference.item_bias(items)[:, 0], low, high),
        "leaving out the item bias": ref.sigmoid_range(dot + reference.user_bias(users)[:, 0], low, high),
        "leaving out sigmoid_range": dot + biases,
        "sigmoid(x) * high, without low,": torch.sigmoid(dot + biases) * high,
    }
    if (low, high) != (0.0, 5.5):
        mistakes["ignoring y_range (always 0 to 5.5)"] = ref.sigmoid_range(dot + biases, 0.0, 5.5)
    return mistakes


def _planted(seed=0, n_users=60, n_items=40, density=0.6):
    """A small ratings set from planted biases and two latent factors: (x, y, item_bias), split 80/20."""
    rng = np.random.default_rng(seed)
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.8, n_items)
    u, v = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    rating = 3.5 + user_bias[users] + item_bias[items] + (u[users] * v[items]).sum(1)
    rating = np.clip(rating + rng.normal(0, 0.3, len(users)), 1.0, 5.0)
    x = torch.tensor(np.stack([users, items], 1))  # (N, 2)
    y = torch.tensor(rating, dtype=torch.float32)  # (N,)
    perm = torch.randperm(len(x), generator=generator(seed))
    n_valid = len(x) // 5
    return (x[perm[n_valid:]], y[perm[n_valid:]]), (x[perm[:n_valid]], y[perm[:n_valid]]), item_bias


def _fit(model, x, y, steps=60, lr=0.1):
    """Full-batch Adam on MSE: deterministic, and well under a second on a CPU."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def dot_product_bias_trains(DotProductBias):
    """A short training run on planted ratings beats predicting the mean and recovers the planted item biases."""
    with Question("DotProductBias trains") as q:
        (x, y), (x_valid, y_valid), item_bias = _planted()
        trained = None
        with q.check("after 60 steps of Adam on a small planted ratings set, DotProductBias(60, 40, 5) predicts "
                     "the validation ratings better than their mean"):
            torch.manual_seed(0)
            model = q.call(DotProductBias, 60, 40, 5)
            y_hat = q.call(model, x[:4])
            if not isinstance(y_hat, torch.Tensor) or tuple(y_hat.shape) != (4,):
                raise AssertionError(_bias_trap(getattr(y_hat, "shape", ()), 4)
                                     + " Training on it would broadcast every prediction against every rating.")
            q.call(_fit, model, x, y)
            trained = model
            with torch.no_grad():
                valid_rmse = ((q.call(model, x_valid) - y_valid) ** 2).mean().sqrt().item()
            baseline = ((y.mean() - y_valid) ** 2).mean().sqrt().item()
            assert valid_rmse < 0.7 * baseline, (
                f"validation RMSE {valid_rmse:.3f} after training, against {baseline:.3f} for predicting the mean "
                "(expected under 70% of it): check that every table is used in forward and that nothing is "
                "detached")
        if trained is None:
            return
        with q.check("the learned item biases follow the planted ones (correlation above 0.8)"):
            learned = trained.item_bias.weight.detach()[:, 0].double().numpy()
            r = float(np.corrcoef(learned, item_bias)[0, 1])
            assert r > 0.8, (f"the correlation of the learned item biases with the planted ones is {r:.2f}: is "
                             "item_bias looked up with the item ids (column 1 of x)?")


# --------------------------------------------------------------------------- rmse

class _TableModel(nn.Module):
    """A model rmse must handle: a full (n_users, n_items) table of predictions."""

    def __init__(self, n_users, n_items, seed):
        super().__init__()
        self.table = nn.Parameter(1 + 4 * torch.rand(n_users, n_items, generator=generator(seed)))

    def forward(self, x):
        return self.table[x[:, 0], x[:, 1]]  # (B,)


class _FactorModel(nn.Module):
    """Another: a dot product squashed into (0, 5.5) (the reference's own DotProductBias would be flagged)."""

    def __init__(self, n_users, n_items, seed):
        super().__init__()
        self.users, self.items = nn.Embedding(n_users, 4), nn.Embedding(n_items, 4)
        with torch.no_grad():
            self.users.weight.copy_(randn(n_users, 4, seed=seed, scale=0.7))
            self.items.weight.copy_(randn(n_items, 4, seed=seed + 1, scale=0.7))

    def forward(self, x):
        return torch.sigmoid((self.users(x[:, 0]) * self.items(x[:, 1])).sum(1)) * 5.5  # (B,)


def _ratings(n, n_users, n_items, seed, float_ratings=False, shuffled_index=False):
    """A ratings table like movielens().ratings: user, item, rating (int 1..5 stars), timestamp."""
    rng = np.random.default_rng(seed)
    ratings = pd.DataFrame({"user": rng.integers(0, n_users, n), "item": rng.integers(0, n_items, n),
                            "rating": rng.integers(1, 6, n), "timestamp": 880_000_000 + rng.integers(0, 10**6, n)})
    if float_ratings:
        ratings["rating"] = ratings["rating"] - rng.random(n)
    if shuffled_index:  # as df.sample(...) or a filtered frame gives
        ratings.index = rng.permutation(10 * n)[:n]
    return ratings


def rmse_values(rmse):
    """rmse(model, ratings) is the root mean squared error, as a float, for any model, table and device."""
    with Question("rmse") as q:
        tables = ((1, {}), (37, {}), (500, {"float_ratings": True}), (60, {"shuffled_index": True}))
        for i, (n, kind) in enumerate(tables):
            dtype = FLOAT_DTYPES[i % 2]
            ratings = _ratings(n, 8, 6, seed=i, **kind)
            detail = ", ".join(k.replace("_", " ") for k in kind)
            for device in devices():
                models = {"a factor model": _FactorModel(8, 6, seed=i).to(device, dtype),
                          "a table model": _TableModel(8, 6, seed=i).to(device, dtype)}
                for label, model in models.items():
                    what = (f"rmse({label} ({_dtype(dtype)} on {device.type}), {n} ratings"
                            f"{', ' + detail if detail else ''})")
                    with q.check(what):
                        got = q.call(rmse, model, ratings.copy())
                        expected = ref.rmse(model, ratings)
                        q.compare(what, got, expected, rtol=1e-5, atol=1e-7, mistakes={
                            "the mean squared error, without the square root,": expected ** 2,
                            "the root of the summed (not mean) squared error": expected * math.sqrt(n),
                            "the mean absolute error": _mae(model, ratings),
                        })


@torch.no_grad()
def _mae(model, ratings):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), device=device)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float64, device=device)
    return (model(x).double() - y).abs().mean().item()


# --------------------------------------------------------------------------- item_bias_ranking

def _ranking_model(n_items, seed, dtype, device):
    """A reference model whose item biases are distinct, so the ranking is unique."""
    model = ref.DotProductBias(3, n_items, 2)
    with torch.no_grad():
        model.item_bias.weight[:, 0] = torch.randperm(n_items, generator=generator(seed)).double() / n_items - 0.5
    return model.to(device, dtype)


def item_bias_ranking_values(item_bias_ranking):
    """item_bias_ranking gives the k (bias, title, mean_rating) tuples of largest or smallest bias, in order."""
    with Question("item_bias_ranking") as q:
        for seed, n_items in zip(SEEDS, (16, 20, 30)):
            rng = np.random.default_rng(seed)
            titles = [f"Film {chr(65 + i % 26)}{i} ({1950 + 3 * i})" for i in range(n_items)]
            means = np.round(1 + 4 * rng.random(n_items), 3)
            forms = {"lists": (titles, means.tolist()),
                     "numpy arrays": (np.array(titles, dtype=object), means),
                     "pandas Series indexed by item, as item_stats() gives": (
                         pd.Series(titles, index=pd.RangeIndex(n_items, name="item")),
                         pd.Series(means, index=pd.RangeIndex(n_items, name="item")))}
            for i, (form, (t, m)) in enumerate(forms.items()):
                model = _ranking_model(n_items, seed, FLOAT_DTYPES[i % 2], devices()[i % len(devices())])
                for k in (1, 5, None):
                    for largest in (True, False):
                        kwargs = ({} if k is None else {"k": k}) | ({} if largest else {"largest": False})
                        shown = ", ".join(f"{a}={b}" for a, b in kwargs.items())
                        what = (f"item_bias_ranking(model, titles, mean_ratings{', ' + shown if shown else ''}) "
                                f"for {n_items} items, titles and means as {form}")
                        with q.check(what):
                            got = q.call(item_bias_ranking, model, t, m, **kwargs)
                            expected = ref.item_bias_ranking(model, titles, means, **kwargs)
                            opposite = ref.item_bias_ranking(model, titles, means,
                                                             **(kwargs | {"largest": not largest}))
                            _compare_ranking(q, what, got, expected, opposite, largest)


def _compare_ranking(q, what, got, expected, opposite, largest):
    if not isinstance(got, (list, tuple)):
        raise AssertionError(f"{what}: returned a {type(got).__name__}, expected a list of (bias, title, "
                             "mean_rating) tuples")
    if len(got) != len(expected):
        raise AssertionError(f"{what}: returned {len(got)} items, expected {len(expected)}")
    for row in got:
        if not isinstance(row, (tuple, list)) or len(row) != 3:
            raise AssertionError(f"{what}: an item is {row!r}, expected a (bias, title, mean_rating) tuple")
        bias, title, mean = row
        if isinstance(bias, torch.Tensor):
            raise AssertionError(f"{what}: the bias is a tensor ({bias!r}); return a Python float with .item() "
                                 "(the lesson's lists print tensor(0.5738); this function returns plain numbers)")
        if not isinstance(bias, float) or not isinstance(title, str) or not isinstance(mean, float):
            raise AssertionError(f"{what}: an item has types ({type(bias).__name__}, {type(title).__name__}, "
                                 f"{type(mean).__name__}), expected (float, str, float)")
    titles = [row[1] for row in got]
    if titles != [row[1] for row in expected]:
        if titles == [row[1] for row in opposite]:
            raise AssertionError(f"{what}: these are the items of {'smallest' if largest else 'largest'} bias; "
                                 f"largest={largest} asks for the {'largest' if largest else 'smallest'}")
        if [row[1] for row in sorted(got, key=lambda r: r[0], reverse=largest)] == [row[1] for row in expected]:
            raise AssertionError(f"{what}: the right items in the wrong order: sort them by bias, "
                                 f"{'descending' if largest else 'ascending'}")
        raise AssertionError(f"{what}: got the titles {titles}, expected {[row[1] for row in expected]}")
    q.compare(f"{what}: the biases", torch.tensor([row[0] for row in got], dtype=torch.float64),
              torch.tensor([row[0] for row in expected], dtype=torch.float64), rtol=1e-6, atol=1e-7)
    q.compare(f"{what}: the mean ratings", torch.tensor([row[2] for row in got], dtype=torch.float64),
              torch.tensor([row[2] for row in expected], dtype=torch.float64))


# --------------------------------------------------------------------------- pca

def _rows(n, d, seed, dtype, device):
    """n rows in d dimensions with well-separated variances along random directions, offset from 0."""
    g = generator(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    scales = 8.0 * 0.55 ** torch.arange(d, dtype=torch.float64)  # each direction 0.55 × the last
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    z = z - z.mean(0)
    # Make the sample variances exactly `scales²` along q's columns, so the components are well defined.
    u, _, _ = torch.linalg.svd(z, full_matrices=False)
    x = u[:, :min(n, d)] * scales[:min(n, d)] * math.sqrt(n - 1) @ q[:, :min(n, d)].T
    x = x + 3 * torch.randn(d, generator=g, dtype=torch.float64)
    return x.to(device, dtype)


def _signed(v):
    """Directions (d, k) flipped so that each one's largest-magnitude loading is positive."""
    return v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign()


@torch.no_grad()
def _pca_mistakes(x, k, actual, expected):
    """What pca(x, k) gives with each known mistake."""
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    _, _, vh_c = torch.linalg.svd(xc, full_matrices=False)
    mistakes = {
        "not centring the rows (subtract x.mean(0) first)": x @ _signed(vh[:k].T),
        "projecting the uncentred rows x instead of x - x.mean(0)": x @ _signed(vh_c[:k].T),
        "taking the k smallest components instead of the largest": xc @ _signed(vh_c.flip(0)[:k].T),
    }
    if isinstance(actual, torch.Tensor) and actual.shape == expected.shape and actual.dtype == expected.dtype:
        signs = (actual.detach().to(expected.device) * expected).sum(0).sign()  # (k,)
        if (signs < 0).any():
            mistakes["the opposite sign on a component (flip each so its largest-magnitude loading is positive)"] = \
                expected * signs
    return mistakes


def pca_values(pca):
    """pca(x, k) projects the centred rows on the top-k principal directions, with the sign rule, any dtype/device."""
    with Question("pca") as q:
        sizes = ((50, 6, 3), (30, 4, 1), (8, 5, 2), (6, 10, 3), (20, 3, 3), (40, 5, None))
        for seed, (n, d, k) in enumerate(sizes):
            for dtype in FLOAT_DTYPES:
                for device in devices():
                    x = _rows(n, d, seed, dtype, device)
                    what = f"pca(x{'' if k is None else f', k={k}'}) for x of shape ({n}, {d}) {_dtype(dtype)} " \
                           f"on {device.type}"
                    with q.check(what):
                        got = q.call(pca, x.clone(), *(() if k is None else (k,)))
                        expected = ref.pca(x, *(() if k is None else (k,)))
                        # float32 algorithms (SVD, eigh of the covariance) agree to about 1e-5 of the data's scale
                        tol = {} if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4 * expected.abs().max().item())
                        q.compare(what, got, expected, mistakes=_pca_mistakes(x, k or 3, got, expected), **tol)
