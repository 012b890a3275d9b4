"""Answers to 02_collab_bias: correct ones written differently, and plausible mistakes.

The reference `DotProductBias` calls the learner's `sigmoid_range`, so a wrong `sigmoid_range` also
costs the `DotProductBias` cells that look at its values, dtype or gradient.
"""
from . import Variant

# --------------------------------------------------------------------------- DotProductBias bodies

_TABLES = '''
class DotProductBias(nn.Module):
    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        for emb in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
            nn.init.normal_(emb.weight, std=0.01)
        self.y_range = y_range
'''


def _model(forward: str, init: str = _TABLES) -> str:
    return init + forward


VARIANTS = [
    # sigmoid_range
    Variant("sigmoid_range", "1 / (1 + exp(-x)) by hand", '''
def sigmoid_range(x, low, high):
    return (high - low) / (1 + torch.exp(-x)) + low
'''),
    Variant("sigmoid_range", "tensor methods, low first", '''
def sigmoid_range(x, low, high):
    return x.sigmoid().mul(high - low).add(low)
'''),
    Variant("sigmoid_range", "sigmoid(x) * high, without low", '''
def sigmoid_range(x, low, high):
    return torch.sigmoid(x) * high
''', loses=("sigmoid_range_values", "dot_product_bias_values")),
    Variant("sigmoid_range", "float64 result", '''
def sigmoid_range(x, low, high):
    return torch.sigmoid(x.double()) * (high - low) + low
''', loses=("sigmoid_range_values", "dot_product_bias_shapes", "dot_product_bias_values")),
    Variant("sigmoid_range", "detached from the graph", '''
def sigmoid_range(x, low, high):
    return torch.sigmoid(x.detach()) * (high - low) + low
''', loses=("sigmoid_range_values", "dot_product_bias_values", "dot_product_bias_trains")),

    # DotProductBias
    Variant("DotProductBias", "[:, 0] on the biases, zero biases, y_range unpacked", '''
class DotProductBias(nn.Module):
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
        return sigmoid_range(res, self.low, self.high)
'''),
    Variant("DotProductBias", "einsum, biases kept (B, 1), flattened at the end, uniform init", '''
class DotProductBias(nn.Module):
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
        return sigmoid_range(res, *self.y_range).flatten()
'''),
    Variant("DotProductBias", "biases not squeezed: (B,) + (B, 1) is (B, B)", _model('''
    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
        res = res + self.user_bias(users) + self.item_bias(items)
        return sigmoid_range(res, *self.y_range)
'''), loses=("dot_product_bias_shapes", "dot_product_bias_values", "dot_product_bias_trains")),
    Variant("DotProductBias", "nn.Embedding's default N(0, 1) init", '''
class DotProductBias(nn.Module):
    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.y_range = y_range

    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
        res = res + self.user_bias(users).squeeze(1) + self.item_bias(items).squeeze(1)
        return sigmoid_range(res, *self.y_range)
''', loses=("dot_product_bias_shapes",)),
    Variant("DotProductBias", "y_range ignored (always 0 to 5.5)", _model('''
    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
        res = res + self.user_bias(users).squeeze(1) + self.item_bias(items).squeeze(1)
        return sigmoid_range(res, 0.0, 5.5)
'''), loses=("dot_product_bias_values",)),

    # rmse
    Variant("rmse", "all rows at once in float32", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings.rating.values, device=device).float()
    with torch.no_grad():
        return torch.sqrt(((model(x).float() - y) ** 2).mean()).item()
'''),
    Variant("rmse", "numpy, converted with float()", '''
def rmse(model, ratings, bs=8192):
    x = torch.from_numpy(ratings[["user", "item"]].to_numpy()).to(next(model.parameters()).device)
    y_hat = model(x).detach().cpu().double().numpy()
    return float(np.sqrt(np.mean((y_hat - ratings["rating"].to_numpy()) ** 2)))
'''),
    Variant("rmse", "no square root (the MSE)", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings["rating"].values, dtype=torch.float64, device=device)
    with torch.no_grad():
        return ((model(x).double() - y) ** 2).mean().item()
''', loses=("rmse_values",)),
    Variant("rmse", "mean absolute error", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings["rating"].values, dtype=torch.float64, device=device)
    with torch.no_grad():
        return (model(x).double() - y).abs().mean().item()
''', loses=("rmse_values",)),
    Variant("rmse", "returns a tensor", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings["rating"].values, dtype=torch.float64, device=device)
    return ((model(x).double() - y) ** 2).mean().sqrt()
''', loses=("rmse_values",)),
    Variant("rmse", "rows read by label, wrong for a shuffled index", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    rows = ratings.loc[range(len(ratings))]
    x = torch.tensor(rows[["user", "item"]].values, device=device)
    y = torch.tensor(rows["rating"].values, dtype=torch.float64, device=device)
    with torch.no_grad():
        return ((model(x).double() - y) ** 2).mean().sqrt().item()
''', loses=("rmse_values",)),

    # item_bias_ranking
    Variant("item_bias_ranking", "topk", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.squeeze(1).detach().cpu()
    values, idx = bias.topk(k, largest=largest)
    return [(v.item(), titles[i], float(mean_ratings[i])) for v, i in zip(values, idx.tolist())]
'''),
    Variant("item_bias_ranking", "Python sorted over all items", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[0], reverse=largest)[:k]
'''),
    Variant("item_bias_ranking", "the bias left a tensor, as the lesson prints it", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].detach()
    idx = bias.argsort(descending=largest)[:k]
    return [(bias[i], titles[i], float(mean_ratings[i])) for i in idx.tolist()]
''', loses=("item_bias_ranking_values",)),
    Variant("item_bias_ranking", "largest ignored (always descending)", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[0], reverse=True)[:k]
''', loses=("item_bias_ranking_values",)),
    Variant("item_bias_ranking", "ranked by mean rating instead of bias", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[2], reverse=largest)[:k]
''', loses=("item_bias_ranking_values",)),
    Variant("item_bias_ranking", "the right items left in item order", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].detach().cpu()
    chosen = sorted(bias.topk(k, largest=largest).indices.tolist())
    return [(bias[i].item(), titles[i], float(mean_ratings[i])) for i in chosen]
''', loses=("item_bias_ranking_values",)),

    # pca
    Variant("pca", "eigenvectors of the covariance, signs fixed in a loop", '''
def pca(x, k=3):
    xc = x - x.mean(dim=0, keepdim=True)
    _, vecs = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
    v = vecs.flip(1)[:, :k]
    for j in range(k):
        if v[v[:, j].abs().argmax(), j] < 0:
            v[:, j] = -v[:, j]
    return xc @ v
'''),
    Variant("pca", "U * S from the SVD, signs from Vh", '''
def pca(x, k=3):
    xc = x - x.mean(0)
    u, s, vh = torch.linalg.svd(xc, full_matrices=False)
    signs = torch.sign(vh[torch.arange(k, device=x.device), vh[:k].abs().argmax(1)])
    return u[:, :k] * s[:k] * signs
'''),
    Variant("pca", "rows not centred", '''
def pca(x, k=3):
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    v = vh[:k].T
    return x @ (v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())
''', loses=("pca_values",)),
    Variant("pca", "no sign rule", '''
def pca(x, k=3):
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)
    return xc @ -vh[:k].T
''', loses=("pca_values",)),
    Variant("pca", "the k smallest components", '''
def pca(x, k=3):
    xc = x - x.mean(0)
    _, vecs = torch.linalg.eigh(xc.T @ xc)
    v = vecs[:, :k]
    return xc @ (v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())
''', loses=("pca_values",)),
    Variant("pca", "columns of Vh instead of its rows", '''
def pca(x, k=3):
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(xc)
    v = vh[:, :k]
    return xc @ (v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())
''', loses=("pca_values",)),
]
