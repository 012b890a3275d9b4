"""The hidden tests of 02_collab_bias pass correct answers written in other ways and fail (naming it) each
known mistake: learner-style implementations, written here, fed to `autograder.checks.collab_bias`."""
import inspect
import math

import numpy as np
import pytest
import torch
from torch import nn

from autograder.checks import collab_bias as hidden
from solutions import collab_bias as reference

pytestmark = pytest.mark.collab_bias


def as_learner(module):
    """The reference module's names, compiled as if a learner had typed them (solutions/ code is flagged)."""
    ns = {}
    exec(compile(inspect.getsource(module), "<learner>", "exec"), ns)
    return ns


REF = as_learner(reference)


def fails(check, answer, says=()):
    """Run a check that must fail; return its message, which must contain each of `says`."""
    with pytest.raises(AssertionError) as info:
        check(answer)
    message = str(info.value)
    assert "the test stopped early" not in message, message  # a bug in the check, not in the answer
    for words in ([says] if isinstance(says, str) else says):
        assert words in message, message
    return message


# ------------------------------------------------------------------ sigmoid_range

def sigmoid_range_expit(x, low, high):
    return low + (high - low) * torch.special.expit(x)


def sigmoid_range_by_hand(x, low, high):
    return (high - low) / (1 + torch.exp(-x)) + low


def sigmoid_range_methods(x, low, high):
    return x.sigmoid().mul(high - low).add(low)


def sigmoid_range_times_high(x, low, high):
    return torch.sigmoid(x) * high


def sigmoid_range_no_low(x, low, high):
    return torch.sigmoid(x) * (high - low)


def sigmoid_range_float64(x, low, high):
    return torch.sigmoid(x.double()) * (high - low) + low


def sigmoid_range_detached(x, low, high):
    return torch.sigmoid(x.detach()) * (high - low) + low


@pytest.mark.parametrize("answer", [REF["sigmoid_range"], sigmoid_range_expit, sigmoid_range_by_hand,
                                    sigmoid_range_methods])
def test_sigmoid_range_accepts(answer):
    hidden.sigmoid_range_values(answer)


@pytest.mark.parametrize("answer, says", [
    (sigmoid_range_times_high, "sigmoid(x) * high, without low"),
    (sigmoid_range_no_low, "without adding low"),
    (sigmoid_range_float64, "dtype torch.float64, expected torch.float32"),
    (sigmoid_range_detached, "no gradient"),
    (reference.sigmoid_range, "the reference solutions"),
])
def test_sigmoid_range_rejects(answer, says):
    fails(hidden.sigmoid_range_values, answer, says)


# ------------------------------------------------------------------ DotProductBias

class IndexedBias(nn.Module):
    """Correct: [:, 0] instead of squeeze, plain normal init, biases from zero, y_range kept as two numbers."""

    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.normal_(self.user_factors.weight, std=0.01)
        nn.init.normal_(self.item_factors.weight, std=0.01)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        self.low, self.high = y_range

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=-1)
        res = dot + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0]
        return torch.sigmoid(res) * (self.high - self.low) + self.low


class EinsumBias(nn.Module):
    """Correct: einsum for the dot product, keepdim then one flatten at the end, uniform init."""

    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors, self.item_factors = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.user_bias, self.item_bias = nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)
        for emb in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
            emb.weight.data.uniform_(-0.02, 0.02)
        self.y_range = y_range

    def forward(self, x):
        u, i = self.user_factors(x[:, 0]), self.item_factors(x[:, 1])
        res = torch.einsum("bf,bf->b", u, i).unsqueeze(1) + self.user_bias(x[:, 0]) + self.item_bias(x[:, 1])
        return REF["sigmoid_range"](res, *self.y_range).flatten()


class Mistaken(nn.Module):
    """The reference written out, with one known mistake switched in by `mistake`."""
    mistake = ""

    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        width = n_factors if self.mistake == "wide bias" else 1
        self.user_factors, self.item_factors = nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)
        self.user_bias, self.item_bias = nn.Embedding(n_users, width), nn.Embedding(n_items, width)
        if self.mistake != "default init":
            for emb in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
                nn.init.normal_(emb.weight, std=0.01)
        self.y_range = (0.0, 5.5) if self.mistake == "ignores y_range" else y_range

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
        if self.mistake == "no squeeze":
            res = res + self.user_bias(users) + self.item_bias(items)
        elif self.mistake == "no biases":
            pass
        elif self.mistake == "bias by user id":
            res = res + self.user_bias(users)[:, 0] + self.item_bias(users % self.item_bias.num_embeddings)[:, 0]
        else:
            res = res + self.user_bias(users).sum(1) + self.item_bias(items).sum(1)
        low, high = self.y_range
        if self.mistake == "times high":
            return torch.sigmoid(res) * high
        return torch.sigmoid(res) * (high - low) + low


def mistaken(mistake):
    return type(f"Mistaken_{mistake.replace(' ', '_')}", (Mistaken,), {"mistake": mistake})


class Unregistered(nn.Module):
    """Wrong: tables in a plain list, so they are not parameters of the module."""

    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.tables = [nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors)]


CORRECT_MODELS = [REF["DotProductBias"], IndexedBias, EinsumBias, Mistaken]


@pytest.mark.parametrize("answer", CORRECT_MODELS)
def test_dot_product_bias_shapes_accepts(answer):
    hidden.dot_product_bias_shapes(answer)


@pytest.mark.parametrize("answer", CORRECT_MODELS)
def test_dot_product_bias_values_accepts(answer):
    hidden.dot_product_bias_values(answer)


@pytest.mark.parametrize("answer", CORRECT_MODELS[:3])
def test_dot_product_bias_trains_accepts(answer):
    hidden.dot_product_bias_trains(answer)


@pytest.mark.parametrize("mistake, says", [
    ("no squeeze", "(B,) + (B, 1) broadcasts to (B, B)"),
    ("default init", "nn.Embedding's default N(0, 1)"),
    ("wide bias", "a bias is one number per user or item"),
])
def test_dot_product_bias_shapes_rejects(mistake, says):
    fails(hidden.dot_product_bias_shapes, mistaken(mistake), says)


def test_dot_product_bias_shapes_rejects_unregistered_and_foreign_tables():
    fails(hidden.dot_product_bias_shapes, Unregistered, "it has no attribute `user_factors`")
    fails(hidden.dot_product_bias_shapes, reference.DotProductBias, "the reference solutions")


@pytest.mark.parametrize("mistake, says", [
    ("no squeeze", "(B,) + (B, 1) broadcasts to (B, B)"),
    ("no biases", "leaving out the biases"),
    ("times high", "sigmoid(x) * high, without low"),
    ("ignores y_range", "ignoring y_range"),
    ("wide bias", "the model's state_dict"),
    ("bias by user id", "the predictions"),
])
def test_dot_product_bias_values_rejects(mistake, says):
    fails(hidden.dot_product_bias_values, mistaken(mistake), says)


@pytest.mark.parametrize("mistake, says", [
    ("no squeeze", "broadcast every prediction against every rating"),
    ("bias by user id", "is item_bias looked up with the item ids"),
])
def test_dot_product_bias_trains_rejects(mistake, says):
    fails(hidden.dot_product_bias_trains, mistaken(mistake), says)


# ------------------------------------------------------------------ rmse

def rmse_at_once(model, ratings):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings.rating.values, device=device).float()
    with torch.no_grad():
        return torch.sqrt(((model(x).float() - y) ** 2).mean()).item()


def rmse_numpy(model, ratings):
    x = torch.from_numpy(ratings[["user", "item"]].to_numpy()).to(next(model.parameters()).device)
    y_hat = model(x).detach().cpu().numpy()
    return np.sqrt(np.mean((y_hat - ratings["rating"].to_numpy()) ** 2))


def rmse_mse_loss(model, ratings):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values).to(device)
    y = torch.tensor(ratings["rating"].values, dtype=torch.float64, device=device)
    with torch.no_grad():
        return math.sqrt(nn.functional.mse_loss(model(x).double(), y).item())


def rmse_no_root(model, ratings):
    return rmse_at_once(model, ratings) ** 2


def rmse_mae(model, ratings):
    x = torch.tensor(ratings[["user", "item"]].values)
    with torch.no_grad():
        return (model(x).double() - torch.tensor(ratings.rating.values)).abs().mean().item()


def rmse_tensor(model, ratings):
    x = torch.tensor(ratings[["user", "item"]].values)
    y = torch.tensor(ratings.rating.values)
    return ((model(x).double() - y) ** 2).mean().sqrt()


def rmse_by_label(model, ratings):
    """Wrong for a table whose index is not 0..n-1 (a sample, a filtered frame)."""
    rows = ratings.loc[range(len(ratings))]
    x = torch.tensor(rows[["user", "item"]].values)
    y = torch.tensor(rows["rating"].values, dtype=torch.float32)
    with torch.no_grad():
        return ((model(x).float() - y) ** 2).mean().sqrt().item()


@pytest.mark.parametrize("answer", [REF["rmse"], rmse_at_once, rmse_numpy, rmse_mse_loss])
def test_rmse_accepts(answer):
    hidden.rmse_values(answer)


@pytest.mark.parametrize("answer, says", [
    (rmse_no_root, "the mean squared error, without the square root"),
    (rmse_mae, "the mean absolute error"),
    (rmse_tensor, "call .item()"),
    (rmse_by_label, "shuffled index"),
])
def test_rmse_rejects(answer, says):
    fails(hidden.rmse_values, answer, says)


# ------------------------------------------------------------------ item_bias_ranking

def ranking_topk(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.squeeze(1).detach().cpu()
    values, idx = bias.topk(k, largest=largest)
    return [(v.item(), titles[i], float(mean_ratings[i])) for v, i in zip(values, idx.tolist())]


def ranking_sorted(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[0], reverse=largest)[:k]


def ranking_numpy(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.detach().cpu().numpy()[:, 0]
    order = np.argsort(-bias if largest else bias)[:k]
    titles, means = np.asarray(titles), np.asarray(mean_ratings)
    return [(float(bias[i]), str(titles[i]), float(means[i])) for i in order]


def ranking_tensor_bias(model, titles, mean_ratings, k=15, largest=True):
    """The lesson's lists: the bias left as a tensor."""
    bias = model.item_bias.weight[:, 0].detach()
    idx = bias.argsort(descending=largest)[:k]
    return [(bias[i], titles[i], float(mean_ratings[i])) for i in idx.tolist()]


def ranking_always_descending(model, titles, mean_ratings, k=15, largest=True):
    return ranking_sorted(model, titles, mean_ratings, k)


def ranking_unsorted(model, titles, mean_ratings, k=15, largest=True):
    """The right items, in item order."""
    return sorted(ranking_sorted(model, titles, mean_ratings, k, largest), key=lambda row: row[1])


def ranking_by_mean(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[2], reverse=largest)[:k]


@pytest.mark.parametrize("answer", [REF["item_bias_ranking"], ranking_topk, ranking_sorted, ranking_numpy])
def test_item_bias_ranking_accepts(answer):
    hidden.item_bias_ranking_values(answer)


@pytest.mark.parametrize("answer, says", [
    (ranking_tensor_bias, "return a Python float with .item()"),
    (ranking_always_descending, "largest=False asks for the smallest"),
    (ranking_unsorted, "the right items in the wrong order"),
    (ranking_by_mean, "got the titles"),
])
def test_item_bias_ranking_rejects(answer, says):
    fails(hidden.item_bias_ranking_values, answer, says)


# ------------------------------------------------------------------ pca

def pca_eigh(x, k=3):
    """Correct: eigenvectors of the covariance, largest first, with the sign rule."""
    xc = x - x.mean(dim=0, keepdim=True)
    _, vecs = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
    v = vecs.flip(1)[:, :k]
    for j in range(k):
        if v[v[:, j].abs().argmax(), j] < 0:
            v[:, j] = -v[:, j]
    return xc @ v


def pca_usv(x, k=3):
    """Correct: U * S from the SVD, signs from V."""
    xc = x - x.mean(0)
    u, s, vh = torch.linalg.svd(xc, full_matrices=False)
    signs = torch.sign(vh[torch.arange(k), vh[:k].abs().argmax(1)])
    return u[:, :k] * s[:k] * signs


def pca_uncentred(x, k=3):
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    v = vh[:k].T
    return x @ (v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())


def pca_no_sign(x, k=3):
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)
    return xc @ -vh[:k].T  # LAPACK's signs, flipped: some components come out the other way


def pca_smallest(x, k=3):
    xc = x - x.mean(0)
    _, vecs = torch.linalg.eigh(xc.T @ xc)
    v = vecs[:, :k]
    return xc @ (v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())


def pca_float64(x, k=3):
    return REF["pca"](x.double(), k)


@pytest.mark.parametrize("answer", [REF["pca"], pca_eigh, pca_usv])
def test_pca_accepts(answer):
    hidden.pca_values(answer)


@pytest.mark.parametrize("answer, says", [
    (pca_uncentred, "not centring the rows"),
    (pca_no_sign, "the opposite sign on a component"),
    (pca_smallest, "the k smallest components"),
    (pca_float64, "dtype torch.float64, expected torch.float32"),
])
def test_pca_rejects(answer, says):
    fails(hidden.pca_values, answer, says)


# ------------------------------------------------------------------ stubs

def stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check", [hidden.sigmoid_range_values, hidden.dot_product_bias_shapes,
                                   hidden.dot_product_bias_values, hidden.dot_product_bias_trains,
                                   hidden.rmse_values, hidden.item_bias_ranking_values, hidden.pca_values])
def test_an_unanswered_exercise_says_so(check):
    fails(check, stub, "not answered yet")


class NoForward(IndexedBias):
    """Wrong: `forward` misspelled, so nn.Module's placeholder raises NotImplementedError."""
    foward = IndexedBias.forward
    forward = nn.Module.forward


def test_a_missing_forward_is_named_not_taken_for_an_unanswered_exercise():
    fails(hidden.dot_product_bias_shapes, NoForward, "it has no `forward` method")
