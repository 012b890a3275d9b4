"""Reference solutions for 02_collab_bias.ipynb: collaborative filtering with biases.

The questionnaire's autograded answers are at the end (`q_...`), as the learner assigns them.

Initialisation: every embedding is drawn like fastai's ``trunc_normal_(std=0.01)``, a
normal with std 0.01 truncated at two standard deviations (fastai's ``EmbeddingDotBias``).
"""
import math

import torch
from torch import nn

__all__ = ["sigmoid_range", "DotProductBias", "rmse", "item_bias_ranking", "most_similar", "pca",
           "q_bias_shape", "q_cold_start", "q_y_range"]


def sigmoid_range(x, low, high):
    """sigmoid_range(x, low, high) = sigmoid(x) * (high - low) + low, in (low, high)."""
    return torch.sigmoid(x) * (high - low) + low


class DotProductBias(nn.Module):
    """y_hat = sigmoid_range(u · i + b_u + b_i, *y_range) for each [user, item] row of x."""

    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.y_range = y_range
        for emb in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
            nn.init.trunc_normal_(emb.weight, std=0.01, a=-0.02, b=0.02)

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]  # (B,), (B,)
        u = self.user_factors(users)  # (B, n_factors)
        i = self.item_factors(items)  # (B, n_factors)
        res = (u * i).sum(1)  # (B,)
        # the biases are (B, 1): squeeze them, or (B,) + (B, 1) broadcasts to (B, B)
        res = res + self.user_bias(users).squeeze(1) + self.item_bias(items).squeeze(1)  # (B,)
        return sigmoid_range(res, *self.y_range)  # (B,)


def rmse(model, ratings, bs=8192):
    """rmse = sqrt(mean((y_hat - y)²)) over the rows (user, item, rating) of a ratings table."""
    if len(ratings) == 0:
        raise ValueError("rmse: the ratings table is empty")
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), dtype=torch.long)  # (N, 2)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float64)  # (N,)
    was_training = model.training
    model.eval()
    sse = torch.zeros((), dtype=torch.float64, device=device)
    with torch.no_grad():
        for start in range(0, len(x), bs):
            y_hat = model(x[start:start + bs].to(device))  # (b,)
            sse += ((y_hat.double() - y[start:start + bs].to(device)) ** 2).sum()
    model.train(was_training)
    return math.sqrt(sse.item() / len(x))


def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    """The k items with the largest (or smallest) learned bias: [(bias, title, mean_rating)]."""
    bias = model.item_bias.weight[:, 0].detach().cpu()  # (n_items,)
    order = bias.argsort(descending=largest, stable=True)[:k]  # (k,)
    # a pandas Series is looked up by its index (the item id), a list or array by position
    titles, mean_ratings = getattr(titles, "loc", titles), getattr(mean_ratings, "loc", mean_ratings)
    return [(bias[i].item(), str(titles[i]), float(mean_ratings[i])) for i in order.tolist()]


def most_similar(model, item, k=10):
    """The k items whose factors have the largest cosine similarity with item's: [(similarity, item)]."""
    w = model.item_factors.weight.detach()  # (n_items, n_factors)
    w = w / w.norm(dim=1, keepdim=True)  # (n_items, n_factors), rows of length 1
    sims = (w @ w[item]).cpu()  # (n_items,): cosine similarity of every item with `item`
    order = sims.argsort(descending=True, stable=True)  # (n_items,)
    order = order[order != item][:k]  # (k,): itself excluded
    return [(sims[i].item(), i) for i in order.tolist()]


def pca(x, k=3):
    """pca(x, k) = (x - mean) @ V_k, V_k the top-k principal directions, largest loading > 0."""
    n, d = x.shape
    if k > min(n, d):
        raise ValueError(f"pca: k={k} components need k <= min(n, d) = {min(n, d)}")
    xc = x - x.mean(0)  # (n, d)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)  # (min(n, d), d)
    v = vh[:k].T  # (d, k)
    top = v.gather(0, v.abs().argmax(0, keepdim=True))  # (1, k): largest-magnitude loadings
    v = v * top.sign()  # (d, k); a unit vector's largest loading is never 0
    return xc @ v  # (n, k)


# The questionnaire's autograded answers.
q_bias_shape = "b"
q_cold_start = "c"
q_y_range = 2.75
