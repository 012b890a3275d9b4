"""02_collab_bias: answers a learner could write for sigmoid_range and DotProductBias."""
from ...exercise import alternative, edits, mistake, swap

_SIGMOID_RANGE = "def sigmoid_range(x, low, high):\n    return torch.sigmoid(x) * (high - low) + low"

# The tables' init, and forward up to the dot products: the pieces the mistakes below edit.
_INIT_LOOP = '''        for emb in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
            nn.init.normal_(emb.weight, std=0.01)
'''
_INIT = '''
class DotProductBias(nn.Module):
    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, n_factors)
        self.item_factors = nn.Embedding(n_items, n_factors)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
''' + _INIT_LOOP + "        self.y_range = y_range\n"
_DOT = '''
    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        res = (self.user_factors(users) * self.item_factors(items)).sum(1)
'''


def _model(forward: str) -> str:
    """A DotProductBias with the usual tables and this forward pass (`res` the dot products, `ub`, `ib` the biases)."""
    return (_INIT + _DOT + "        ub, ib = self.user_bias(users), self.item_bias(items)\n"
            + "\n".join("        " + line for line in forward.strip().split("\n")))


MODEL_VARIANTS = [
    # sigmoid_range
    alternative("sigmoid_range", "1 / (1 + exp(-x)) by hand", "def sigmoid_range(x, low, high):\n"
                "    return (high - low) / (1 + torch.exp(-x)) + low"),
    alternative("sigmoid_range", "tensor methods", "def sigmoid_range(x, low, high):\n"
                "    return x.sigmoid().mul(high - low).add(low)"),
    alternative("sigmoid_range", "torch.special.expit, low first", "def sigmoid_range(x, low, high):\n"
                "    return low + (high - low) * torch.special.expit(x)"),
    *edits("sigmoid_range", _SIGMOID_RANGE, {
        "sigmoid(x) * high, without low": ("(high - low) + low", "high"),
        "sigmoid(x) * (high - low), without adding low": (" + low", ""),
        "sigmoid(x) * (high - low) - low": ("+ low", "- low")}, also=("dot_product_bias_values",)),
    mistake("sigmoid_range", "a float64 result whatever the dtype of x", swap(_SIGMOID_RANGE, "(x)", "(x.double())"),
            also=("dot_product_bias_shapes", "dot_product_bias_values")),
    mistake("sigmoid_range", "a result detached from the graph (no gradient)",
            swap(_SIGMOID_RANGE, "(x)", "(x.detach())"), also=("dot_product_bias_values", "dot_product_bias_trains")),
    mistake("sigmoid_range", "sigmoid_ in place (it changes x)",
            swap(_SIGMOID_RANGE, "torch.sigmoid(x)", "x.sigmoid_()")),

    # DotProductBias
    alternative("DotProductBias", "[:, 0] on the biases, zero biases, y_range unpacked", swap(swap(
        _INIT, _INIT_LOOP, '''        nn.init.normal_(self.user_factors.weight, std=0.01)
        nn.init.normal_(self.item_factors.weight, std=0.01)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
'''), "self.y_range = y_range", "self.low, self.high = y_range") + '''
    def forward(self, x):
        users, items = x[:, 0], x[:, 1]
        dot = (self.user_factors(users) * self.item_factors(items)).sum(dim=-1)
        res = dot + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0]
        return sigmoid_range(res, self.low, self.high)'''),
    alternative("DotProductBias", "einsum, biases kept (B, 1), flattened at the end, uniform init", '''
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
        return sigmoid_range(res, *self.y_range).flatten()'''),
    alternative("DotProductBias", "the biases' one column summed away", _model('''
return sigmoid_range(res + ub.sum(1) + ib.sum(1), *self.y_range)''')),
    mistake("DotProductBias", "biases not squeezed: (B,) + (B, 1) is (B, B)", _model('''
return sigmoid_range(res + ub + ib, *self.y_range)'''), also=("dot_product_bias_trains",)),
    mistake("DotProductBias", ".squeeze() without a dim (a batch of one becomes 0-D)", _model('''
return sigmoid_range(res.squeeze() + ub.squeeze() + ib.squeeze(), *self.y_range)'''),
            loses=("dot_product_bias_shapes", "dot_product_bias_values")),
    mistake("DotProductBias", "nn.Embedding's default N(0, 1) init", swap(_INIT, _INIT_LOOP, "") + _DOT + '''\
        res = res + self.user_bias(users).squeeze(1) + self.item_bias(items).squeeze(1)
        return sigmoid_range(res, *self.y_range)''', loses=("dot_product_bias_shapes",)),
    mistake("DotProductBias", "biases n_factors wide instead of 1", swap(swap(
        _INIT, "nn.Embedding(n_users, 1)", "nn.Embedding(n_users, n_factors)"),
        "nn.Embedding(n_items, 1)", "nn.Embedding(n_items, n_factors)") + _DOT + '''\
        res = res + self.user_bias(users).sum(1) + self.item_bias(items).sum(1)
        return sigmoid_range(res, *self.y_range)''', loses=("dot_product_bias_shapes", "dot_product_bias_values")),
    mistake("DotProductBias", "y_range ignored (always 0 to 5.5)", _model('''
return sigmoid_range(res + ub[:, 0] + ib[:, 0], 0.0, 5.5)'''), loses=("dot_product_bias_values",)),
    mistake("DotProductBias", "leaving out the biases", _model('''
return sigmoid_range(res, *self.y_range)'''), loses=("dot_product_bias_values", "dot_product_bias_trains")),
    mistake("DotProductBias", "leaving out the user bias", _model('''
return sigmoid_range(res + ib[:, 0], *self.y_range)'''), loses=("dot_product_bias_values",)),
    mistake("DotProductBias", "leaving out the item bias", _model('''
return sigmoid_range(res + ub[:, 0], *self.y_range)'''), loses=("dot_product_bias_values", "dot_product_bias_trains")),
    mistake("DotProductBias", "leaving out sigmoid_range", _model('''
return res + ub[:, 0] + ib[:, 0]'''), loses=("dot_product_bias_values",)),
    mistake("DotProductBias", "sigmoid(x) * high, without low, in forward", _model('''
return torch.sigmoid(res + ub[:, 0] + ib[:, 0]) * self.y_range[1]'''), loses=("dot_product_bias_values",)),
    mistake("DotProductBias", "the item bias looked up with the user ids", _model('''
ib = self.item_bias(users % self.item_bias.num_embeddings)
return sigmoid_range(res + ub[:, 0] + ib[:, 0], *self.y_range)'''),
            loses=("dot_product_bias_values", "dot_product_bias_trains")),
    mistake("DotProductBias", "the prediction converted with .float() (a float64 model gives float32)", _model('''
return sigmoid_range(res + ub[:, 0] + ib[:, 0], *self.y_range).float()'''), loses=("dot_product_bias_values",)),
    mistake("DotProductBias", "tables kept in a plain list (not registered as submodules)", '''
class DotProductBias(nn.Module):
    def __init__(self, n_users, n_items, n_factors, y_range=(0.0, 5.5)):
        super().__init__()
        self.tables = [nn.Embedding(n_users, n_factors), nn.Embedding(n_items, n_factors),
                       nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)]
        self.y_range = y_range

    def forward(self, x):
        uf, itf, ub, ib = self.tables
        res = (uf(x[:, 0]) * itf(x[:, 1])).sum(1) + ub(x[:, 0])[:, 0] + ib(x[:, 1])[:, 0]
        return sigmoid_range(res, *self.y_range)'''),
    mistake("DotProductBias", "forward misspelled (nn.Module's forward is missing)",
            _INIT + swap(_DOT, "def forward", "def foward") + '''\
        return sigmoid_range(res + self.user_bias(users)[:, 0] + self.item_bias(items)[:, 0], *self.y_range)'''),
]
