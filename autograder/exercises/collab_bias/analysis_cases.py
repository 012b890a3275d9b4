"""02_collab_bias: the inputs the analysis cells are checked on: rmse, item_bias_ranking, most_similar and pca."""
import math

import torch

from ...cases import FLOATS, SEEDS, Case, devices, dtype_str, each_device, generator, rand, randn
from .model_cases import random_weights


# --------------------------------------------------------------------------- rmse

def _ratings(n, n_users, n_items, seed, float_ratings=False):
    """The columns of a ratings table like movielens().ratings: user, item, rating (1..5 stars), timestamp."""
    g = generator(seed)
    rating = torch.randint(1, 6, (n,), generator=g)
    if float_ratings:
        rating = rating - torch.rand(n, generator=g, dtype=torch.float64)
    return {"user": torch.randint(n_users, (n,), generator=g), "item": torch.randint(n_items, (n,), generator=g),
            "rating": rating, "timestamp": 880_000_000 + torch.randint(10**6, (n,), generator=g)}


def rmse_cases():
    """rmse(model, ratings) is the root mean squared error over every row, as a Python float.

    Any model (float32 or float64, on any device); any table: int or float ratings, row labels not 0..N-1, one row,
    more rows than one batch of 8192."""
    n_users, n_items = 8, 6
    tables = ((1, {}, None), (37, {}, None), (500, {"float_ratings": True}, None), (60, {}, "shuffled"),
              (10_000, {}, None))
    cases = []
    for i, (n, kind, index) in enumerate(tables):
        columns = _ratings(n, n_users, n_items, seed=i, **kind)
        labels = torch.randperm(10 * n, generator=generator(50 + i))[:n].tolist() if index else None
        for j, model in enumerate(("factor", "table")):
            dtype = FLOATS[(i + j) % 2]
            if model == "table":
                weights = {"table": rand(n_users, n_items, seed=i, low=1.0, high=5.0, dtype=dtype)}
            else:
                weights = {"users.weight": randn(n_users, 4, seed=i, scale=0.7, dtype=dtype),
                           "items.weight": randn(n_items, 4, seed=i + 1, scale=0.7, dtype=dtype)}
            detail = ", ".join(filter(None, ["float ratings" if kind else "", "row labels shuffled" if index else ""]))
            cases.append(Case(f"rmse(a {model} model ({dtype_str(dtype)}), {n} ratings{', ' + detail if detail else ''})",
                              {"model": model, "dtype": dtype_str(dtype), "ratings": columns, "index": labels,
                               "state": {"n_users": n_users, "n_items": n_items, "weights": weights}}))
    return each_device(cases)


# --------------------------------------------------------------------------- item_bias_ranking

def _trained_state(n_users, n_items, n_factors, seed, dtype, item_bias=None, item_factors=None):
    """The weights of a trained model (the four tables), with given item biases or factors."""
    state = random_weights(n_users, n_items, n_factors, seed, dtype)
    if item_bias is not None:
        state["item_bias.weight"] = item_bias.to(dtype)[:, None]
    if item_factors is not None:
        state["item_factors.weight"] = item_factors.to(dtype)
    return {"n_users": n_users, "n_items": n_items, "n_factors": n_factors, "weights": state}


def _biases(n_items, seed):
    """Distinct biases, but for two pairs of equal ones: 2nd and 3rd largest, 3rd and 4th smallest."""
    b = torch.randperm(n_items, generator=generator(seed)).double() / n_items - 0.5
    order = b.argsort(descending=True)
    b[order[2]] = b[order[1]]
    b[order[-4]] = b[order[-3]]
    return b


RANKING_FORMS = {"list": "lists", "array": "numpy arrays", "series": "pandas Series indexed by item",
                 "shuffled": "pandas Series indexed by item, rows not in item order"}


def ranking_cases():
    """item_bias_ranking gives the k (bias: float, title: str, mean: float) of largest or smallest bias, in order.

    Titles and means as lists, arrays or pandas Series indexed by item id (rows in item order or not), means with
    NaN; k and largest given or left out (k=15, largest=True), k larger than the number of items; float32 and
    float64 models. Items of equal bias may come in any order."""
    options = ({"k": 5}, {}, {"k": 1, "largest": False}, {"k": 5, "largest": False}, {"largest": True, "k": 40},
               {"largest": False}, {"k": 3, "largest": True}, {"k": 1})
    cases, n = [], 0
    for seed, n_items in zip(SEEDS, (16, 20, 30)):
        g = generator(seed)
        titles = [f"Film {chr(65 + i % 26)}{i} ({1950 + 3 * i})" for i in range(n_items)]
        means = [round(1 + 4 * v, 3) for v in torch.rand(n_items, generator=g, dtype=torch.float64).tolist()]
        means[seed] = math.nan  # an item no one rated, as item_stats() gives it
        bias = _biases(n_items, seed)
        for form, shown in RANKING_FORMS.items():
            index = torch.randperm(n_items, generator=g).tolist() if form == "shuffled" else None
            for kwargs in (options[n % len(options)], options[(n + 3) % len(options)]):
                dtype, device = FLOATS[n % 2], devices()[n % len(devices())]
                n += 1
                args = ", ".join(f"{a}={b}" for a, b in kwargs.items())
                cases.append(Case(f"item_bias_ranking(model, titles, mean_ratings{', ' + args if args else ''}) for "
                                  f"{n_items} items ({dtype_str(dtype)} on {device}), titles and means as {shown}",
                                  {"state": _trained_state(3, n_items, 2, seed, dtype, item_bias=bias),
                                   "dtype": dtype_str(dtype), "titles": titles, "means": means, "form": form,
                                   "index": index, "kwargs": kwargs}, device))
    return cases


# --------------------------------------------------------------------------- most_similar

def _factors(n_items, n_factors, seed, query):
    """Item factors of varied lengths, with ties: one item points exactly as `query` does (similarity 1), and
    two others point the same way as each other."""
    w = randn(n_items, n_factors, seed=seed, dtype=torch.float64) * rand(n_items, 1, seed=seed + 1, low=0.3, high=3.0,
                                                                         dtype=torch.float64)
    twin = (query + 3) % n_items
    w[twin] = 0.5 * w[query]
    a, b = (query + 5) % n_items, (query + 6) % n_items
    w[b] = 2.0 * w[a]
    return w


def _cosines(w, query):
    return torch.nn.functional.cosine_similarity(w, w[query][None], dim=1)


def similar_cases():
    """most_similar gives the k (cosine similarity: float, item: int) nearest item_factors rows, itself excluded.

    Descending; k given or left out (10), k = 1, k = all other items; rows of varied lengths, another item pointing
    exactly as `item` does (kept), ties (in any order); float32 and float64."""
    grid = ((0, 14, 4, 0, {"k": 3}), (1, 14, 5, 13, {}), (2, 20, 3, 7, {"k": 1}), (0, 8, 6, 4, {"k": 7}),
            (1, 25, 8, 24, {"k": 12}), (2, 12, 2, 0, {}))
    cases = []
    for n, (seed, n_items, n_factors, query, kwargs) in enumerate(grid):
        w = _factors(n_items, n_factors, seed, query)
        sims = _cosines(w, query)
        sims[query] = -math.inf
        top = sims.sort(descending=True).values
        k = kwargs.get("k", 10)
        assert k >= n_items - 1 or top[k - 1] - top[k] > 1e-4, "a tie at the k-th item would make the answer ambiguous"
        for dtype in FLOATS:
            args = ", ".join(f"{a}={b}" for a, b in kwargs.items())
            cases.append(Case(f"most_similar(model, {query}{', ' + args if args else ''}) for {n_items} items of "
                              f"{n_factors} factors ({dtype_str(dtype)})",
                              {"state": _trained_state(4, n_items, n_factors, seed, dtype, item_factors=w),
                               "dtype": dtype_str(dtype), "item": query, "kwargs": kwargs},
                              devices()[(n + FLOATS.index(dtype)) % len(devices())]))
    return cases


# --------------------------------------------------------------------------- pca

def _rows(n, d, seed, dtype):
    """n rows in d dimensions with well-separated variances along random directions, offset from 0."""
    g = generator(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    scales = 8.0 * 0.55 ** torch.arange(d, dtype=torch.float64)  # each direction 0.55 × the last
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    z = z - z.mean(0)
    u, _, _ = torch.linalg.svd(z, full_matrices=False)  # sample variances exactly scales² along q's columns
    r = min(n, d)
    x = u[:, :r] * scales[:r] * math.sqrt(n - 1) @ q[:, :r].T
    return (x + 3 * torch.randn(d, generator=g, dtype=torch.float64)).to(dtype)


CENTRED = torch.tensor([[3, 1, 0, 1], [-3, -1, 0, -1], [1, -2, 1, 0], [-1, 2, -1, 0], [0, 0, 2, 1], [0, 0, -2, -1],
                        [2, 2, 1, -1], [-2, -2, -1, 1]], dtype=torch.float64)  # columns summing to exactly 0


def pca_cases():
    """pca(x, k) projects the centred rows on the top-k principal directions, largest loadings positive.

    k given or left out (3), k = 1 and k = d; tall and wide x, already centred x; float32 and float64; x unchanged."""
    sizes = ((50, 6, 3), (30, 4, 1), (8, 5, 2), (6, 10, 3), (20, 3, 3), (40, 5, None))
    cases = []
    for seed, (n, d, k) in enumerate(sizes + ((8, 4, 3),)):
        for dtype in FLOATS:
            x = _rows(n, d, seed, dtype) if seed < len(sizes) else CENTRED.to(dtype)
            what = "already centred " if seed == len(sizes) else ""
            # float32 algorithms (SVD, eigh of the covariance) agree to about 1e-5 of the data's scale
            scale = (x.double() - x.double().mean(0)).norm(dim=1).max().item()
            tol = {} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-4 * scale}
            cases.append(Case(f"pca(x{'' if k is None else f', k={k}'}) for {what}x of shape ({n}, {d}) "
                              f"{dtype_str(dtype)}", {"fn": "pca", "args": [x] + ([] if k is None else [k])},
                              keys=("y", "changed"), tolerance=tol))
    return each_device(cases)
