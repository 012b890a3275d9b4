"""Reference solutions for 08_entity_embeddings.ipynb: entity embeddings of categorical variables.

Guo & Berkhahn (2016) give each categorical column its own embedding, concatenate the
embeddings with the (normalised) continuous columns and feed the lot to a plain MLP: this is
fastai's ``TabularModel``, and with two categorical columns (user, item) it is the lesson's
``CollabNN``. Each class and function below is one exercise.

Initialisation: embeddings are drawn like fastai's ``Embedding``, ``trunc_normal_(std=0.01)``
(a normal with std 0.01 truncated at two standard deviations); the Linear layers keep
PyTorch's default. The grader loads a state into the model, so this is not graded.

``sigmoid_range`` is notebook 02's exercise: notebook 08 asks the learner to paste their own
into the answer cell ``sigmoid_range_from_02`` (02 already has a cell called ``sigmoid_range``,
and grade ids are unique across the course), which is why the alias below exists.
"""
import torch
from torch import nn

__all__ = ["emb_sz_rule", "sigmoid_range", "sigmoid_range_from_02", "CollabNN", "TabularModel",
           "q_first_linear_inputs", "q_why_embed", "q_bn_eval", "q_collab_as_tabular"]


def emb_sz_rule(n_cat):
    """emb_sz_rule(n_cat) = min(600, round(1.6 * n_cat ** 0.56)): fastai's embedding width for n_cat levels."""
    return min(600, round(1.6 * n_cat ** 0.56))


def sigmoid_range(x, low, high):
    """sigmoid_range(x, low, high) = sigmoid(x) * (high - low) + low, in (low, high)."""
    return torch.sigmoid(x) * (high - low) + low


sigmoid_range_from_02 = sigmoid_range  # the answer cell where notebook 08's learner pastes their own


class CollabNN(nn.Module):
    """y_hat = sigmoid_range(layers(cat(user_factors[u], item_factors[i])), *y_range) for each [u, i] row of x."""

    def __init__(self, n_users, n_items, user_sz, item_sz, n_hidden=100, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, user_sz)
        self.item_factors = nn.Embedding(n_items, item_sz)
        self.layers = nn.Sequential(nn.Linear(user_sz + item_sz, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 1))
        self.y_range = y_range
        for emb in (self.user_factors, self.item_factors):
            nn.init.trunc_normal_(emb.weight, std=0.01, a=-0.02, b=0.02)

    def forward(self, x):
        embs = self.user_factors(x[:, 0]), self.item_factors(x[:, 1])  # (B, user_sz), (B, item_sz)
        y = self.layers(torch.cat(embs, dim=1))  # (B, 1)
        return sigmoid_range(y[:, 0], *self.y_range)  # (B,): not y.squeeze(), which makes a batch of one 0-D


class TabularModel(nn.Module):
    """y_hat = layers(cat(embeds[0](x_cat[:, 0]), ..., bn_cont(x_cont))), sigmoid_range'd if y_range is given."""

    def __init__(self, emb_szs, n_cont, out_sz, layers, y_range=None):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(n, d) for n, d in emb_szs])
        for emb in self.embeds:
            nn.init.trunc_normal_(emb.weight, std=0.01, a=-0.02, b=0.02)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        sizes = [sum(d for _, d in emb_szs) + n_cont] + list(layers)  # the input's width, then each layer's
        mods = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            mods += [nn.Linear(n_in, n_out), nn.ReLU()]
        self.layers = nn.Sequential(*mods, nn.Linear(sizes[-1], out_sz))
        self.y_range = y_range

    def forward(self, x_cat, x_cont):
        embs = [emb(x_cat[:, i]) for i, emb in enumerate(self.embeds)]  # each (B, d_i)
        if x_cont.shape[1]:  # as fastai, no BatchNorm when there are no continuous columns
            x_cont = self.bn_cont(x_cont)  # (B, n_cont)
        y = self.layers(torch.cat(embs + [x_cont], dim=1))  # (B, sum(d_i) + n_cont) -> (B, out_sz)
        return y if self.y_range is None else sigmoid_range(y, *self.y_range)  # (B, out_sz)


# The questionnaire's answers (the notebook's answer cells of the same names).
q_first_linear_inputs = 13 + 5 + 6 + 2 + 2  # emb_sz_rule of 40, 7, 12 and 2 levels, plus 2 continuous columns
q_why_embed = "a"  # an integer code orders and spaces the levels; an embedding lets each find its own place
q_bn_eval = "b"  # the running mean and variance collected while training
q_collab_as_tabular = "b"  # two categorical columns (user, item), no continuous one, one hidden layer
