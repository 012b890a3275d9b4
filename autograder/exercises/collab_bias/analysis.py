"""02_collab_bias: answers a learner could write for rmse, item_bias_ranking, most_similar and pca."""
from ...exercise import alternative, edits, mistake, swap

_RMSE = '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), device=device)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float64, device=device)
    with torch.no_grad():
        y_hat = model(x).double()
'''

_SIMILAR = '''
def most_similar(model, item, k=10):
    w = model.item_factors.weight.detach()
'''
# most_similar by unit rows and a matrix product, the item itself left out: the base of its mistakes.
_UNIT = "    unit = w / w.norm(dim=1, keepdim=True)\n"
_RANKED = _SIMILAR + _UNIT + '''    sims = unit @ unit[item]
    order = [i for i in sims.argsort(descending=True).tolist() if i != item][:k]
    return [(sims[i].item(), i) for i in order]'''

# pca by the SVD, each component's largest entry made positive: the base of the pca mistakes.
_SIGNED = "(v * v.gather(0, v.abs().argmax(0, keepdim=True)).sign())"
_PCA = '''
def pca(x, k=3):
    xc = x - x.mean(0)
    _, _, vh = torch.linalg.svd(xc, full_matrices=False)
    v = vh[:k].T
    return xc @ ''' + _SIGNED

ANALYSIS_VARIANTS = [
    # rmse
    alternative("rmse", "all rows at once in float32", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].values, device=device)
    y = torch.tensor(ratings.rating.values, device=device).float()
    with torch.no_grad():
        return torch.sqrt(((model(x).float() - y) ** 2).mean()).item()'''),
    alternative("rmse", "numpy, converted with float()", '''
def rmse(model, ratings, bs=8192):
    x = torch.from_numpy(ratings[["user", "item"]].to_numpy()).to(next(model.parameters()).device)
    y_hat = model(x).detach().cpu().double().numpy()
    return float(np.sqrt(np.mean((y_hat - ratings["rating"].to_numpy()) ** 2)))'''),
    alternative("rmse", "F.mse_loss and math.sqrt", _RMSE + '''
    return math.sqrt(F.mse_loss(y_hat, y).item())'''),
    mistake("rmse", "the mean squared error, without the square root", _RMSE + '''
    return ((y_hat - y) ** 2).mean().item()'''),
    mistake("rmse", "the root of the summed (not mean) squared error", _RMSE + '''
    return ((y_hat - y) ** 2).sum().sqrt().item()'''),
    mistake("rmse", "the mean absolute error", _RMSE + '''
    return (y_hat - y).abs().mean().item()'''),
    mistake("rmse", "a 0-D tensor instead of a Python float", _RMSE + '''
    return ((y_hat - y) ** 2).mean().sqrt()'''),
    mistake("rmse", "a numpy float32 instead of a Python float", '''
def rmse(model, ratings, bs=8192):
    x = torch.from_numpy(ratings[["user", "item"]].to_numpy()).to(next(model.parameters()).device)
    y_hat = model(x).detach().cpu().float().numpy()
    return np.sqrt(np.mean((y_hat - ratings["rating"].to_numpy(dtype=np.float32)) ** 2))'''),
    mistake("rmse", "rows read by label (wrong when the index is not 0..N-1)", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    rows = ratings.loc[range(len(ratings))]
    x = torch.tensor(rows[["user", "item"]].values, device=device)
    y = torch.tensor(rows["rating"].values, dtype=torch.float64, device=device)
    with torch.no_grad():
        return ((model(x).double() - y) ** 2).mean().sqrt().item()'''),
    mistake("rmse", "the mean of the batches' mean squared errors (the last batch is smaller)", '''
def rmse(model, ratings, bs=8192):
    device = next(model.parameters()).device
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), device=device)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float64, device=device)
    with torch.no_grad():
        mses = [((model(x[i:i + bs]).double() - y[i:i + bs]) ** 2).mean().item() for i in range(0, len(x), bs)]
    return math.sqrt(sum(mses) / len(mses))'''),
    mistake("rmse", "the ids left on the CPU (put them on the model's device)", '''
def rmse(model, ratings, bs=8192):
    x = torch.tensor(ratings[["user", "item"]].to_numpy())
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float64)
    with torch.no_grad():
        return ((model(x).double().cpu() - y) ** 2).mean().sqrt().item()''', cuda_only=True),

    # item_bias_ranking
    alternative("item_bias_ranking", "topk", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.squeeze(1).detach().cpu()
    values, idx = bias.topk(min(k, len(bias)), largest=largest)
    return [(v.item(), titles[i], float(mean_ratings[i])) for v, i in zip(values, idx.tolist())]'''),
    alternative("item_bias_ranking", "Python sorted over all items", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], mean_ratings[i]) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[0], reverse=largest)[:k]'''),
    alternative("item_bias_ranking", "numpy argsort, pandas looked up with .loc", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.detach().cpu().numpy()[:, 0]
    order = np.argsort(-bias if largest else bias, kind="stable")[:k]
    if isinstance(titles, pd.Series):
        titles, mean_ratings = titles.loc, mean_ratings.loc
    return [(float(bias[i]), titles[i], float(mean_ratings[i])) for i in order]'''),
    mistake("item_bias_ranking", "titles and means looked up by position (wrong for a Series not in item order)", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.detach().cpu().numpy()[:, 0]
    order = np.argsort(-bias if largest else bias)[:k]
    titles, means = np.asarray(titles), np.asarray(mean_ratings)
    return [(float(bias[i]), str(titles[i]), float(means[i])) for i in order]'''),
    mistake("item_bias_ranking", "the bias left a tensor, as the lesson prints it", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].detach().cpu()
    idx = bias.argsort(descending=largest)[:k]
    return [(bias[i], titles[i], float(mean_ratings[i])) for i in idx.tolist()]'''),
    mistake("item_bias_ranking", "numpy float32 biases instead of Python floats", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.detach().cpu().numpy()[:, 0]
    order = bias.argsort()[::-1] if largest else bias.argsort()
    return [(bias[i], titles[i], float(mean_ratings[i])) for i in order[:k].tolist()]'''),
    mistake("item_bias_ranking", "largest ignored (always descending)", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], float(mean_ratings[i])) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[0], reverse=True)[:k]'''),
    mistake("item_bias_ranking", "ranked by mean rating instead of bias", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].tolist()
    rows = [(b, titles[i], float(mean_ratings[i])) for i, b in enumerate(bias)]
    return sorted(rows, key=lambda row: row[2], reverse=largest)[:k]'''),
    mistake("item_bias_ranking", "the right items left in item order", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight[:, 0].detach().cpu()
    chosen = sorted(bias.topk(min(k, len(bias)), largest=largest).indices.tolist())
    return [(bias[i].item(), titles[i], float(mean_ratings[i])) for i in chosen]'''),
    mistake("item_bias_ranking", ".numpy() on a CUDA tensor (move it with .cpu() first)", '''
def item_bias_ranking(model, titles, mean_ratings, k=15, largest=True):
    bias = model.item_bias.weight.detach().numpy()[:, 0]
    order = np.argsort(-bias if largest else bias, kind="stable")[:k]
    return [(float(bias[i]), titles[i], float(mean_ratings[i])) for i in order.tolist()]''', cuda_only=True),

    # most_similar
    alternative("most_similar", "F.cosine_similarity and topk", '''
def most_similar(model, item, k=10):
    w = model.item_factors.weight.detach()
    sims = F.cosine_similarity(w, w[item][None], dim=1)
    sims[item] = -2.0
    values, idx = sims.topk(min(k, len(w) - 1))
    return [(s, i) for s, i in zip(values.tolist(), idx.tolist())]'''),
    alternative("most_similar", "rows normalised, then a matrix product; Python sorted", _SIMILAR + '''
    unit = F.normalize(w, dim=1)
    sims = (unit @ unit[item]).tolist()
    ranked = sorted(((s, i) for i, s in enumerate(sims) if i != item), reverse=True)
    return ranked[:k]'''),
    mistake("most_similar", "the item itself included", _SIMILAR + _UNIT + '''    sims = unit @ unit[item]
    order = sims.argsort(descending=True)[:k]
    return [(sims[i].item(), i) for i in order.tolist()]'''),
    mistake("most_similar", "dropping every item of similarity 1, not just the item itself", swap(swap(
        _RANKED, "if i != item][:k]", "if sims[i] < 1 - 1e-6]"), "for i in order]", "for i in order[:k]]")),
    mistake("most_similar", "the dot product instead of the cosine similarity",
            swap(swap(_RANKED, _UNIT, ""), "unit @ unit[item]", "w @ w[item]")),
    *edits("most_similar", _RANKED, {
        "the least similar items (ascending order)": ("sims.argsort(descending=True)", "sims.argsort()"),
        "rows normalised over the wrong dimension (each factor's column)": (
            "w / w.norm(dim=1, keepdim=True)", "F.normalize(w, dim=0)"),
        "items counted from 1 instead of 0": ("i) for i in", "i + 1) for i in"),
        "tensors instead of Python numbers": (
            "    order = [i for i in sims.argsort(descending=True).tolist() if i != item][:k]\n",
            "    order = sims.argsort(descending=True)\n    order = order[order != item][:k]\n",
            "(sims[i].item(), i)", "(sims[i], i)"),
        "(item, similarity) pairs instead of (similarity, item)": ("(sims[i].item(), i)", "(i, sims[i].item())"),
    }),

    # pca
    alternative("pca", "eigenvectors of the covariance, signs fixed in a loop", '''
def pca(x, k=3):
    xc = x - x.mean(dim=0, keepdim=True)
    _, vecs = torch.linalg.eigh(xc.T @ xc / (len(x) - 1))
    v = vecs.flip(1)[:, :k]
    for j in range(k):
        if v[v[:, j].abs().argmax(), j] < 0:
            v[:, j] = -v[:, j]
    return xc @ v'''),
    alternative("pca", "U * S from the SVD, signs from Vh", '''
def pca(x, k=3):
    xc = x - x.mean(0)
    u, s, vh = torch.linalg.svd(xc, full_matrices=False)
    signs = torch.sign(vh[torch.arange(k, device=x.device), vh[:k].abs().argmax(1)])
    return u[:, :k] * s[:k] * signs'''),
    mistake("pca", "not centring the rows (subtract x.mean(0) first)",
            swap(_PCA, "    xc = x - x.mean(0)\n", "").replace("xc", "x")),
    mistake("pca", "projecting the uncentred rows x instead of x - x.mean(0)", swap(_PCA, "return xc @", "return x @")),
    mistake("pca", "centring x in place (x -= x.mean(0) changes the caller's tensor)",
            swap(_PCA, "xc = x - x.mean(0)", "x -= x.mean(0)").replace("xc", "x")),
    mistake("pca", "no sign rule (LAPACK's signs, flipped)",
            swap(_PCA, "    v = vh[:k].T\n    return xc @ " + _SIGNED, "    return xc @ -vh[:k].T")),
    *edits("pca", _PCA, {
        "the k smallest components instead of the largest": (
            "    _, _, vh = torch.linalg.svd(xc, full_matrices=False)\n    v = vh[:k].T",
            "    _, vecs = torch.linalg.eigh(xc.T @ xc)\n    v = vecs[:, :k]"),
        "the columns of Vh instead of its rows": (
            "svd(xc, full_matrices=False)\n    v = vh[:k].T", "svd(xc)\n    v = vh[:, :k]"),
        "a float64 result whatever the dtype of x": ("xc = x - x.mean(0)", "xc = x.double() - x.double().mean(0)"),
    }),
]
