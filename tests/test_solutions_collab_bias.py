"""The reference for 02_collab_bias against independent oracles (by hand, PyTorch, scikit-learn): sigmoid_range,
DotProductBias, rmse, item_bias_ranking, most_similar, pca."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from solutions.collab_bias import DotProductBias, item_bias_ranking, most_similar, pca, rmse, sigmoid_range

pytestmark = pytest.mark.collab_bias

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]


def make_model(n_users=6, n_items=5, n_factors=3, device="cpu", dtype=torch.float32, seed=0, **kw):
    """A DotProductBias with O(1) random weights, so every term matters."""
    torch.manual_seed(seed)
    model = DotProductBias(n_users, n_items, n_factors, **kw)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_()
    return model.to(device=device, dtype=dtype)


@torch.no_grad()
def by_hand(model, x):
    """The forward pass written out row by row, in float64."""
    lo, hi = model.y_range
    out = []
    for user, item in x.tolist():
        u = model.user_factors.weight[user].double()
        i = model.item_factors.weight[item].double()
        z = (u * i).sum() + model.user_bias.weight[user, 0].double() + model.item_bias.weight[item, 0].double()
        out.append(torch.sigmoid(z) * (hi - lo) + lo)
    return torch.stack(out)


# ---------------------------------------------------------------- sigmoid_range
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_range(dtype, device):
    x = torch.linspace(-30, 30, 61, dtype=dtype, device=device)
    y = sigmoid_range(x, 1.0, 5.5)
    assert y.dtype == dtype and y.device == x.device
    assert_close(y, torch.sigmoid(x) * 4.5 + 1.0)
    assert y.min() >= 1.0 and y.max() <= 5.5
    assert_close(sigmoid_range(torch.zeros((), dtype=dtype), 0.0, 5.5), torch.tensor(2.75, dtype=dtype))


def test_sigmoid_range_gradient():
    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: sigmoid_range(t, -1.0, 3.0), (x,))


# ---------------------------------------------------------------- DotProductBias
def test_dot_product_bias_layout():
    model = DotProductBias(10, 7, 4)
    assert model.y_range == (0.0, 5.5)
    shapes = {"user_factors": (10, 4), "item_factors": (7, 4), "user_bias": (10, 1), "item_bias": (7, 1)}
    for name, shape in shapes.items():
        emb = getattr(model, name)
        assert isinstance(emb, nn.Embedding), name
        assert emb.weight.shape == shape, name
    assert {n for n, _ in model.named_children()} == set(shapes)


def test_dot_product_bias_init_is_truncated_normal_001():
    torch.manual_seed(0)
    model = DotProductBias(3000, 2000, 40)
    w = model.user_factors.weight.detach()
    assert abs(w.mean().item()) < 1e-3
    assert 0.0085 < w.std().item() < 0.0095  # std of N(0, 0.01²) truncated at ±2σ is 0.0088
    for p in model.parameters():
        assert p.abs().max().item() <= 0.02


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 2, 9])
def test_dot_product_bias_forward_by_hand(batch, dtype, device):
    model = make_model(device=device, dtype=dtype, y_range=(1.0, 5.0))
    g = torch.Generator().manual_seed(batch)
    x = torch.stack([torch.randint(0, 6, (batch,), generator=g), torch.randint(0, 5, (batch,), generator=g)], 1)
    y_hat = model(x.to(device))
    assert y_hat.shape == (batch,), "biases of shape (B, 1) must be squeezed, not broadcast to (B, B)"
    assert y_hat.dtype == dtype and y_hat.device.type == device
    assert_close(y_hat.double(), by_hand(model, x.to(device)))
    assert (y_hat > 1.0).all() and (y_hat < 5.0).all()


def test_dot_product_bias_gradients_equal_the_by_hand_forward_in_float64():
    model = make_model(dtype=torch.float64, y_range=(1.0, 5.0))
    x = torch.tensor([[0, 1], [5, 4], [0, 4], [0, 1]])  # a repeated row: its gradients add up
    g = torch.randn(len(x), dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    (model(x) * g).sum().backward()
    ours = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    lo, hi = model.y_range
    u, i = model.user_factors.weight[x[:, 0]], model.item_factors.weight[x[:, 1]]
    z = (u * i).sum(1) + model.user_bias.weight[x[:, 0], 0] + model.item_bias.weight[x[:, 1], 0]
    ((torch.sigmoid(z) * (hi - lo) + lo) * g).sum().backward()
    for n, p in model.named_parameters():
        assert_close(ours[n], p.grad, msg=n)


def test_dot_product_bias_gradients_reach_every_table():
    model = make_model()
    x = torch.tensor([[0, 1], [5, 4], [0, 4]])
    model(x).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert model.user_bias.weight.grad[1:5].abs().sum() == 0  # users 1..4 were not in the batch


# ---------------------------------------------------------------- rmse
def ratings_table(n=50, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "user": rng.integers(0, 6, n), "item": rng.integers(0, 5, n),
        "rating": rng.integers(1, 6, n).astype(float), "timestamp": np.arange(n),
    })


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_rmse_by_hand(dtype, device):
    model, ratings = make_model(device=device, dtype=dtype), ratings_table()
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), device=device)
    errors = by_hand(model, x).cpu().numpy() - ratings["rating"].to_numpy()
    expected = math.sqrt(np.mean(errors ** 2))
    got = rmse(model, ratings)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-5)
    assert rmse(model, ratings, bs=7) == pytest.approx(expected, rel=1e-5)


def test_rmse_restores_training_mode_and_needs_no_grad():
    model, ratings = make_model(), ratings_table()
    model.train()
    rmse(model, ratings)
    assert model.training
    model.eval()
    rmse(model, ratings)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


def test_rmse_reads_whole_columns_whatever_the_row_labels():
    model, ratings = make_model(), ratings_table()
    shuffled = ratings.set_axis(np.random.default_rng(1).permutation(10 * len(ratings))[:len(ratings)])
    assert rmse(model, shuffled) == rmse(model, ratings)
    assert shuffled.equals(ratings.set_axis(shuffled.index))  # left as it was


def test_rmse_perfect_predictions_is_zero():
    model = make_model()
    x = torch.tensor([[0, 0], [3, 2], [5, 4]])
    with torch.no_grad():
        y = model(x).double().numpy()
    ratings = pd.DataFrame({"user": x[:, 0].numpy(), "item": x[:, 1].numpy(), "rating": y})
    assert rmse(model, ratings) == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------- item_bias_ranking
def ranking_model(biases):
    model = DotProductBias(2, len(biases), 3)
    with torch.no_grad():
        model.item_bias.weight[:, 0] = torch.tensor(biases)
    return model


BIASES = [0.1, -0.4, 0.55, -0.05, 0.3, -0.2]
TITLES = [f"Movie {i}" for i in range(len(BIASES))]
MEANS = [3.1, 1.5, 4.4, 2.9, 4.0, 2.2]


@pytest.mark.parametrize("largest, order", [(True, [2, 4, 0, 3]), (False, [1, 5, 3, 0])])
def test_item_bias_ranking_order_and_types(largest, order):
    got = item_bias_ranking(ranking_model(BIASES), TITLES, np.array(MEANS), k=4, largest=largest)
    assert [t for _, t, _ in got] == [TITLES[i] for i in order]
    for (bias, title, mean), i in zip(got, order):
        assert type(bias) is float and type(title) is str and type(mean) is float
        assert bias == pytest.approx(BIASES[i]) and mean == MEANS[i]


def test_item_bias_ranking_accepts_series_indexed_by_item_id():
    model = ranking_model(BIASES)
    perm = [3, 0, 5, 1, 4, 2]  # index order unrelated to position
    titles = pd.Series([TITLES[i] for i in perm], index=perm)
    means = pd.Series([MEANS[i] for i in perm], index=perm)
    got = item_bias_ranking(model, titles, means, k=2)
    assert got == [(pytest.approx(0.55), "Movie 2", 4.4), (pytest.approx(0.3), "Movie 4", 4.0)]


def test_item_bias_ranking_defaults_and_k_larger_than_items():
    model = ranking_model(BIASES)
    got = item_bias_ranking(model, TITLES, MEANS)
    assert len(got) == len(BIASES)  # k=15 > 6 items
    assert [b for b, _, _ in got] == sorted([b for b, _, _ in got], reverse=True)


# ---------------------------------------------------------------- most_similar
def factors_model(w):
    model = DotProductBias(2, len(w), w.shape[1]).to(w.dtype)
    with torch.no_grad():
        model.item_factors.weight.copy_(w)
    return model


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("item", [0, 7, 19])
def test_most_similar_matches_sklearn_cosine_similarity(item, dtype, device):
    from sklearn.metrics.pairwise import cosine_similarity

    w = np.random.default_rng(item).normal(size=(20, 5)) * np.random.default_rng(1).uniform(0.2, 3.0, (20, 1))
    model = factors_model(torch.tensor(w)).to(device=device, dtype=dtype)
    got = most_similar(model, item, k=6)
    sims = cosine_similarity(w)[item]                  # (20,)
    order = [i for i in np.argsort(-sims, kind="stable") if i != item][:6]
    assert [i for _, i in got] == order
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    np.testing.assert_allclose([s for s, _ in got], sims[order], rtol=tol, atol=tol)
    for s, i in got:
        assert type(s) is float and type(i) is int


def test_most_similar_against_f_cosine_similarity_defaults_and_edges():
    w = torch.randn(15, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    w[9] = 3 * w[2]  # points exactly as item 2 does: similarity 1, and it must be kept
    model = factors_model(w)
    got = most_similar(model, 2)
    assert len(got) == 10  # k defaults to 10
    assert got[0][1] == 9 and got[0][0] == pytest.approx(1.0)
    assert all(i != 2 for _, i in got)
    expected = torch.nn.functional.cosine_similarity(w, w[2][None], dim=1)
    for s, i in got:
        assert s == pytest.approx(expected[i].item(), abs=1e-12)
    assert [s for s, _ in got] == sorted([s for s, _ in got], reverse=True)
    everything = most_similar(model, 2, k=100)  # more than there are: every other item, once
    assert sorted(i for _, i in everything) == [i for i in range(15) if i != 2]
    assert model.item_factors.weight.grad is None  # nothing tracked, nothing changed
    assert torch.equal(model.item_factors.weight.detach(), w)


# ---------------------------------------------------------------- pca
def correlated_rows(n=60, d=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d) * 5


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [1, 3])
def test_pca_matches_sklearn_up_to_sign(k, dtype, device):
    from sklearn.decomposition import PCA

    x = correlated_rows()
    got = pca(torch.tensor(x, dtype=dtype, device=device), k=k)
    assert got.shape == (60, k) and got.dtype == dtype and got.device.type == device
    ref = PCA(n_components=k).fit(x)
    expected = ref.transform(x)
    signs = np.sign((got.cpu().double().numpy() * expected).sum(0))
    tol = 1e-4 if dtype == torch.float32 else 1e-9
    np.testing.assert_allclose(got.cpu().double().numpy(), expected * signs, rtol=tol, atol=tol * 100)
    # sign rule: in each component's direction, the largest-magnitude loading is positive
    directions = ref.components_ * signs[:, None]  # (k, d)
    top = directions[np.arange(k), np.abs(directions).argmax(1)]
    assert (top > 0).all()


def test_pca_against_covariance_eigh_and_default_k():
    x = correlated_rows(n=40, d=5, seed=3)
    xc = x - x.mean(0)
    evals, evecs = np.linalg.eigh(np.cov(xc, rowvar=False))
    v = evecs[:, ::-1][:, :3]  # (d, 3) by decreasing variance
    v = v * np.sign(v[np.abs(v).argmax(0), np.arange(3)])
    got = pca(torch.tensor(x))
    assert got.shape == (40, 3)
    np.testing.assert_allclose(got.numpy(), xc @ v, atol=1e-9)
    variances = got.var(0)
    assert (variances[:-1] >= variances[1:]).all()


def test_pca_leaves_its_input_unchanged():
    x = torch.tensor(correlated_rows(n=10, d=4))
    before = x.clone()
    pca(x, k=2)
    assert torch.equal(x, before)


def test_pca_rejects_too_many_components():
    with pytest.raises(ValueError):
        pca(torch.randn(4, 10), k=5)


# ---------------------------------------------------------------- the questionnaire
def test_questionnaire_answers():
    from solutions import collab_bias

    # sigmoid_range(0, 0, 5.5) is halfway; an embedding of width 1 gives (B, 1)
    assert collab_bias.q_y_range == sigmoid_range(torch.tensor(0.0), 0.0, 5.5).item()
    assert tuple(nn.Embedding(5, 1)(torch.tensor([0, 1, 2])).shape) == (3, 1) and collab_bias.q_bias_shape == "b"
    model = make_model(y_range=(0.0, 5.5))
    with torch.no_grad():  # a new user: factors and bias zero
        model.user_factors.weight[0] = 0
        model.user_bias.weight[0] = 0
    items = torch.arange(5)
    y_hat = model(torch.stack([torch.zeros(5, dtype=torch.long), items], 1))
    assert_close(y_hat, sigmoid_range(model.item_bias.weight[:, 0], 0.0, 5.5))
    assert collab_bias.q_cold_start == "c"
