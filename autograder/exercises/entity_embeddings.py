"""08_entity_embeddings: entity embeddings of categorical variables (Guo & Berkhahn; fastbook ch. 8-9).
One declaration per graded cell, and the answers a learner could write (correct alternatives and
plausible mistakes).

Models are compared by loading one state (the reference's keys and shapes, random values) into the
learner's model and the reference's, then comparing outputs, gradients and, after a forward pass in
train mode, BatchNorm's running statistics; in eval mode too. `sigmoid_range` is notebook 02's
exercise: the learner pastes theirs into the answer cell `sigmoid_range_from_02`, which the checks
of the models that call it (`collab_nn_forward`, `tabular_model_y_range`) list among their answers.
"""
import importlib
import math

import torch

from ..cases import Case, dtype_str, each_device, rand, randint, randn
from ..exercise import Check, alternative, mistake, question, variants_of

NOTEBOOK, REFERENCE = "08_entity_embeddings", "solutions.entity_embeddings"
SIGMOID_RANGE = "sigmoid_range_from_02"  # 02 has the answer cell `sigmoid_range`; grade ids are course-wide
TABULAR_PARTS = ("embeds", "bn_cont", "layers")
COLLAB_PARTS = ("user_factors", "item_factors", "layers")


def emb_sz_cases():
    """emb_sz_rule(n_cat) is fastai's min(600, round(1.6 * n_cat ** 0.56)), a Python int, from 1 level to millions."""
    groups = [("n_cat = 1 to 20", list(range(1, 21))),
              ("the table's columns and other usual sizes", [24, 31, 40, 52, 100, 365, 1000, 1115, 10_000]),
              ("sizes where the cap of 600 binds", [39_000, 39_500, 40_000, 100_000, 10 ** 6])]
    return [Case(f"emb_sz_rule for {label}", {"ns": ns}) for label, ns in groups]


# --- models with a given state ------------------------------------------------------------------------------------

def _args_str(args, kwargs) -> str:
    return ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])


_LAYOUTS: dict = {}


def _layout(cls: str, args, kwargs) -> tuple:
    """(name, shape) of each tensor of the reference model's state."""
    key = (cls, repr(args), repr(kwargs))
    if key not in _LAYOUTS:
        ref = getattr(importlib.import_module(REFERENCE), cls)
        _LAYOUTS[key] = tuple((k, tuple(v.shape)) for k, v in ref(*args, **kwargs).state_dict().items())
    return _LAYOUTS[key]


def random_state(cls: str, args, kwargs, seed: int) -> dict:
    """A state with the reference's keys and shapes, drawn from `seed`: embeddings N(0, 1), Linear weights
    N(0, 1/fan_in) (so no sigmoid saturates), BatchNorm's affine and running statistics away from 1 and 0."""
    state = {}
    for i, (name, shape) in enumerate(_layout(cls, args, kwargs)):
        s = 1000 * seed + i
        if name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(seed + 3)
        elif name.endswith("running_var"):
            state[name] = rand(*shape, seed=s, low=0.5, high=2.0)
        elif name.startswith("bn_cont.weight"):
            state[name] = 1.0 + randn(*shape, seed=s, scale=0.3)
        elif name.endswith(("bias", "running_mean")):
            state[name] = randn(*shape, seed=s, scale=0.5)
        elif name.startswith("layers."):
            state[name] = randn(*shape, seed=s, scale=1 / math.sqrt(shape[1]))
        else:  # an embedding
            state[name] = randn(*shape, seed=s)
    return state


def _structure_case(cls: str, args, kwargs, names) -> Case:
    return Case(f"{cls}({_args_str(args, kwargs)})", {"cls": cls, "args": list(args), "kwargs": dict(kwargs),
                                                      "names": list(names)})


def _forward_case(cls: str, args, kwargs, inputs: list, upstream, seed: int, dtype, train: bool, what: str) -> Case:
    mode = "train" if train else "eval"
    return Case(f"{cls}({_args_str(args, kwargs)}) in {mode} mode, {dtype_str(dtype)}, on {what}",
                {"cls": cls, "args": list(args), "kwargs": dict(kwargs),
                 "state": random_state(cls, args, kwargs, seed), "inputs": inputs, "upstream": upstream.to(dtype),
                 "dtype": dtype_str(dtype), "train": train})


def collab_structure_cases():
    """CollabNN(n_users, n_items, user_sz, item_sz, n_hidden=100) holds user_factors, item_factors (nn.Embedding)
    and layers = Sequential(Linear(user_sz + item_sz, n_hidden), ReLU, Linear(n_hidden, 1))."""
    return [_structure_case("CollabNN", args, kwargs, COLLAB_PARTS) for args, kwargs in (
        ([944, 1665, 74, 102], {}),
        ([12, 15, 4, 6], {"n_hidden": 10}),
        ([9, 7, 5, 2, 20, (-1.0, 2.0)], {}))]


def collab_forward_cases():
    """CollabNN's forward, with a given state: (B,) outputs squashed into y_range, and the parameters'
    gradients, in float32 and float64, train and eval mode, for a batch of one too."""
    configs = [  # args, kwargs, batch, dtype, train
        ([12, 15, 4, 6], {"n_hidden": 10}, 8, torch.float32, True),
        ([12, 15, 4, 6], {"n_hidden": 10}, 8, torch.float64, True),
        ([12, 15, 4, 6], {"n_hidden": 10, "y_range": (1.0, 5.0)}, 1, torch.float64, True),
        ([6, 8, 3, 5], {}, 7, torch.float64, False),
        ([9, 7, 5, 2, 20, (-1.0, 2.0)], {}, 5, torch.float32, True),
    ]
    cases = []
    for seed, (args, kwargs, batch, dtype, train) in enumerate(configs):
        x = torch.stack([randint(args[0], (batch,), seed=seed), randint(args[1], (batch,), seed=50 + seed)], 1)
        cases.append(_forward_case("CollabNN", args, kwargs, [x], randn(batch, seed=100 + seed), seed, dtype,
                                   train, f"{batch} [user, item] rows"))
    return each_device(cases)


TABLES = {  # emb_szs, n_cont, out_sz, layers
    "three columns": ([(10, 4), (7, 3), (3, 2)], 2, 1, [16, 8]),
    "no hidden layer": ([(5, 3)], 4, 3, []),
    "two columns": ([(6, 2), (4, 2)], 3, 2, [12]),
}


def _tabular_inputs(emb_szs, n_cont, batch, seed, dtype):
    """x_cat (B, n_cat) with repeated, unsorted codes; x_cont (B, n_cont), each column with its own mean and
    scale (so that BatchNorm has something to do)."""
    x_cat = torch.stack([randint(n, (batch,), seed=seed * 10 + j) for j, (n, _) in enumerate(emb_szs)], 1)
    scale = rand(n_cont, seed=seed + 7, low=0.5, high=3.0)
    x_cont = randn(batch, n_cont, seed=seed + 8, dtype=torch.float64) * scale + randn(n_cont, seed=seed + 9) * 2
    return [x_cat, x_cont.to(dtype)]


def _tabular_case(table: str, kwargs, batch, dtype, train, seed, positional=False) -> Case:
    emb_szs, n_cont, out_sz, layers = TABLES[table]
    args = [emb_szs, n_cont, out_sz, layers]
    if positional:
        args, kwargs = args + [kwargs["y_range"]], {}
    return _forward_case("TabularModel", args, kwargs, _tabular_inputs(emb_szs, n_cont, batch, seed, dtype),
                         randn(batch, out_sz, seed=200 + seed), seed, dtype, train,
                         f"a batch of {batch} ({table})")


def tabular_structure_cases():
    """TabularModel(emb_szs, n_cont, out_sz, layers) holds embeds (a ModuleList of nn.Embedding(n, d)),
    bn_cont = BatchNorm1d(n_cont) and layers: Linear and ReLU for each width, then Linear(..., out_sz)."""
    return [_structure_case("TabularModel", args, kwargs, TABULAR_PARTS) for args, kwargs in (
        (list(TABLES["three columns"]), {}),
        (list(TABLES["no hidden layer"]), {}),
        ([[(40, 13), (7, 5), (12, 6), (2, 2)], 2, 1, [200, 100]], {"y_range": (7.0, 10.5)}))]


def tabular_forward_cases():
    """TabularModel's forward with y_range left out, with a given state: (B, out_sz) outputs, the parameters'
    gradients and BatchNorm's running statistics, in train and eval mode, float32 and float64."""
    configs = [  # table, batch, dtype, train
        ("three columns", 8, torch.float32, True),
        ("three columns", 2, torch.float64, True),
        ("three columns", 5, torch.float64, False),
        ("three columns", 1, torch.float32, False),
        ("no hidden layer", 6, torch.float64, True),
        ("two columns", 9, torch.float32, True),
        ("two columns", 4, torch.float64, False),
    ]
    return each_device([_tabular_case(table, {}, batch, dtype, train, seed)
                        for seed, (table, batch, dtype, train) in enumerate(configs)])


def tabular_y_range_cases():
    """TabularModel(..., y_range=(low, high)) squashes its outputs with sigmoid_range: values and gradients."""
    configs = [  # table, y_range, batch, dtype, train, positional
        ("three columns", (7.0, 10.5), 8, torch.float64, True, False),
        ("no hidden layer", (-1.0, 1.0), 4, torch.float32, False, True),
        ("two columns", (0.0, 5.5), 6, torch.float32, True, False),
    ]
    return each_device([_tabular_case(table, {"y_range": y_range}, batch, dtype, train, 10 + seed, positional)
                        for seed, (table, y_range, batch, dtype, train, positional) in enumerate(configs)])


CHECKS = [
    Check("emb_sz_rule_values", 1, "emb_sz_rule", "entity_embeddings.sizes", emb_sz_cases),
    Check("collab_nn_structure", 1, "CollabNN", "entity_embeddings.structure", collab_structure_cases),
    Check("collab_nn_forward", 2, ("CollabNN", SIGMOID_RANGE), "entity_embeddings.forward", collab_forward_cases),
    Check("tabular_model_structure", 1, "TabularModel", "entity_embeddings.structure", tabular_structure_cases),
    Check("tabular_model_forward", 2, "TabularModel", "entity_embeddings.forward", tabular_forward_cases),
    Check("tabular_model_y_range", 1, ("TabularModel", SIGMOID_RANGE), "entity_embeddings.forward",
          tabular_y_range_cases, title="TabularModel(y_range=...)"),
    question("q_first_linear_inputs_answer", 1, "q_first_linear_inputs", 13 + 5 + 6 + 2 + 2,
             right={"written as a sum": "13 + 5 + 6 + 2 + 2"}, wrong={"counting the embeddings only": "26"}),
    question("q_why_embed_answer", 1, "q_why_embed", "a", choices=("a", "b", "c"),
             right={"a capital letter": '"A"'}, wrong={"embeddings need fewer parameters": '"c"'}),
    question("q_bn_eval_answer", 1, "q_bn_eval", "b", choices=("a", "b", "c"),
             right={"with spaces around it": '" b "'}, wrong={"the batch's statistics in eval mode too": '"a"'}),
    question("q_collab_as_tabular_answer", 1, "q_collab_as_tabular", "b", choices=("a", "b", "c"),
             right={"a capital letter": '"B"'}, wrong={"the ids as continuous columns": '"c"'}),
]

COLLAB_LOSES_ALL = ("collab_nn_structure", "collab_nn_forward")
COLLAB_FORWARD = ("collab_nn_forward",)
TABULAR_LOSES_ALL = ("tabular_model_structure", "tabular_model_forward", "tabular_model_y_range")
TABULAR_FORWARD = ("tabular_model_forward", "tabular_model_y_range")


def _collab(init_extra: str = "", layers: str = "nn.Linear(user_sz + item_sz, n_hidden), nn.ReLU(), "
            "nn.Linear(n_hidden, 1)", user: str = "user_sz", item: str = "item_sz",
            forward: str = "x = self.layers(torch.cat(embs, dim=1))\n        return sigmoid_range(x[:, 0], *self.y_range)",
            embs: str = "self.user_factors(x[:, 0]), self.item_factors(x[:, 1])") -> str:
    """A CollabNN written as a learner would, with one part changed."""
    return f'''
class CollabNN(nn.Module):
    def __init__(self, n_users, n_items, user_sz, item_sz, n_hidden=100, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, {user})
        self.item_factors = nn.Embedding(n_items, {item})
        self.layers = nn.Sequential({layers})
        self.y_range = y_range{init_extra}

    def forward(self, x):
        embs = {embs}
        {forward}'''


def _tabular(embeds: str = "nn.ModuleList([nn.Embedding(n, d) for n, d in emb_szs])",
             bn: str = "nn.BatchNorm1d(n_cont)", n_in: str = "sum(d for _, d in emb_szs) + n_cont",
             body: str = "mods += [nn.Linear(a, b), nn.ReLU()]", last: str = "mods.append(nn.Linear(sizes[-1], out_sz))",
             forward: str = "x = torch.cat(embs + [self.bn_cont(x_cont)], dim=1)",
             embs: str = "[e(x_cat[:, i]) for i, e in enumerate(self.embeds)]",
             out: str = "return x if self.y_range is None else sigmoid_range(x, *self.y_range)") -> str:
    """A TabularModel written as a learner would, with one part changed."""
    return f'''
class TabularModel(nn.Module):
    def __init__(self, emb_szs, n_cont, out_sz, layers, y_range=None):
        super().__init__()
        self.embeds = {embeds}
        self.bn_cont = {bn}
        sizes = [{n_in}] + list(layers)
        mods = []
        for a, b in zip(sizes[:-1], sizes[1:]):
            {body}
        {last}
        self.layers = nn.Sequential(*mods)
        self.y_range = y_range

    def forward(self, x_cat, x_cont):
        embs = {embs}
        {forward}
        x = self.layers(x)
        {out}'''


VARIANTS = [
    # emb_sz_rule
    alternative("emb_sz_rule", "int(x + 0.5) and a conditional",
                "def emb_sz_rule(n_cat):\n    size = int(1.6 * n_cat ** 0.56 + 0.5)\n    return 600 if size > 600 else size"),
    alternative("emb_sz_rule", "math.pow and round of the capped float",
                "import math\n\ndef emb_sz_rule(n_cat):\n    return round(min(600.0, 1.6 * math.pow(n_cat, 0.56)))"),
    mistake("emb_sz_rule", "truncating with int() instead of rounding",
            "def emb_sz_rule(n_cat):\n    return min(600, int(1.6 * n_cat ** 0.56))"),
    mistake("emb_sz_rule", "rounding up with math.ceil",
            "import math\n\ndef emb_sz_rule(n_cat):\n    return min(600, math.ceil(1.6 * n_cat ** 0.56))"),
    mistake("emb_sz_rule", "leaving out the cap of 600",
            "def emb_sz_rule(n_cat):\n    return round(1.6 * n_cat ** 0.56)"),
    mistake("emb_sz_rule", "round(x, 0), which gives a float, not an int",
            "def emb_sz_rule(n_cat):\n    return min(600, round(1.6 * n_cat ** 0.56, 0))"),
    mistake("emb_sz_rule", "the 2018 course's rule min(50, (n_cat + 1) // 2)",
            "def emb_sz_rule(n_cat):\n    return min(50, (n_cat + 1) // 2)"),
    # sigmoid_range, pasted from 02
    alternative(SIGMOID_RANGE, "1 / (1 + exp(-x)) written out",
                "def sigmoid_range(x, low, high):\n    return low + (high - low) / (1 + torch.exp(-x))"),
    mistake(SIGMOID_RANGE, "a sigmoid_range that does not add low",
            "def sigmoid_range(x, low, high):\n    return torch.sigmoid(x) * (high - low)",
            loses=("collab_nn_forward", "tabular_model_y_range")),
    mistake(SIGMOID_RANGE, "clamping into (low, high) instead of squashing with a sigmoid",
            "def sigmoid_range(x, low, high):\n    return x.clamp(low, high)",
            loses=("collab_nn_forward", "tabular_model_y_range")),
    # CollabNN
    alternative("CollabNN", "unbind, low and high kept apart, the sigmoid written inline, squeeze(-1)", '''
class CollabNN(nn.Module):
    def __init__(self, n_users, n_items, user_sz, item_sz, n_hidden=100, y_range=(0.0, 5.5)):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, user_sz)
        self.item_factors = nn.Embedding(n_items, item_sz)
        self.layers = nn.Sequential(nn.Linear(user_sz + item_sz, n_hidden), nn.ReLU(inplace=True),
                                    nn.Linear(n_hidden, 1))
        self.low, self.high = y_range

    def forward(self, x):
        users, items = x.unbind(1)
        h = torch.cat([self.user_factors(users), self.item_factors(items)], dim=-1)
        return (torch.sigmoid(self.layers(h)) * (self.high - self.low) + self.low).squeeze(-1)'''),
    alternative("CollabNN", "fastbook's forward, flattened with .view(-1)",
                _collab(forward="x = self.layers(torch.cat(embs, dim=1))\n"
                                "        return sigmoid_range(x, *self.y_range).view(-1)")),
    mistake("CollabNN", "concatenating the item's embedding before the user's",
            _collab(embs="self.item_factors(x[:, 1]), self.user_factors(x[:, 0])"), loses=COLLAB_FORWARD),
    mistake("CollabNN", "no sigmoid_range (the last Linear's raw output)",
            _collab(forward="return self.layers(torch.cat(embs, dim=1))[:, 0]"), loses=COLLAB_FORWARD),
    mistake("CollabNN", "a (B, 1) output, not (B,)",
            _collab(forward="return sigmoid_range(self.layers(torch.cat(embs, dim=1)), *self.y_range)"), loses=COLLAB_FORWARD),
    mistake("CollabNN", "squeeze() with no dimension, which makes a batch of one 0-D",
            _collab(forward="return sigmoid_range(self.layers(torch.cat(embs, dim=1)), *self.y_range).squeeze()"), loses=COLLAB_FORWARD),
    mistake("CollabNN", "ignoring y_range (always 0 to 5.5)",
            _collab(forward="return sigmoid_range(self.layers(torch.cat(embs, dim=1))[:, 0], 0.0, 5.5)"), loses=COLLAB_FORWARD),
    mistake("CollabNN", "ignoring n_hidden (always 100 hidden units)",
            _collab(layers="nn.Linear(user_sz + item_sz, 100), nn.ReLU(), nn.Linear(100, 1)"),
            loses=COLLAB_LOSES_ALL),
    mistake("CollabNN", "user_sz and item_sz swapped in the embeddings", _collab(user="item_sz", item="user_sz"),
            loses=COLLAB_LOSES_ALL),
    mistake("CollabNN", "no ReLU between the two Linear layers",
            _collab(layers="nn.Linear(user_sz + item_sz, n_hidden), nn.Linear(n_hidden, 1)"), loses=COLLAB_LOSES_ALL),
    # TabularModel
    alternative("TabularModel", "a loop that appends, zip over x_cat's columns, the sigmoid inline", '''
class TabularModel(nn.Module):
    def __init__(self, emb_szs, n_cont, out_sz, layers, y_range=None):
        super().__init__()
        self.embeds = nn.ModuleList()
        for n, d in emb_szs:
            self.embeds.append(nn.Embedding(n, d))
        self.bn_cont = nn.BatchNorm1d(n_cont)
        n_in = sum(e.embedding_dim for e in self.embeds) + n_cont
        mods = []
        for width in layers:
            mods.append(nn.Linear(n_in, width))
            mods.append(nn.ReLU(inplace=True))
            n_in = width
        mods.append(nn.Linear(n_in, out_sz))
        self.layers = nn.Sequential(*mods)
        self.y_range = y_range

    def forward(self, x_cat, x_cont):
        x = torch.cat([e(c) for e, c in zip(self.embeds, x_cat.T)] + [self.bn_cont(x_cont)], dim=1)
        x = self.layers(x)
        if self.y_range is not None:
            low, high = self.y_range
            x = torch.sigmoid(x) * (high - low) + low
        return x'''),
    alternative("TabularModel", "fastai's order: embeddings concatenated first, then the continuous columns",
                _tabular(forward="x = torch.cat(embs, 1)\n        x = torch.cat([x, self.bn_cont(x_cont)], 1)",
                         out="return sigmoid_range(x, *self.y_range) if self.y_range else x")),
    mistake("TabularModel", "bn_cont never applied (the raw continuous columns)",
            _tabular(forward="x = torch.cat(embs + [x_cont], dim=1)"), loses=TABULAR_FORWARD),
    mistake("TabularModel", "the continuous columns before the embeddings",
            _tabular(forward="x = torch.cat([self.bn_cont(x_cont)] + embs, dim=1)"), loses=TABULAR_FORWARD),
    mistake("TabularModel", "normalising with the batch's own mean and std instead of bn_cont",
            _tabular(forward="x_cont = (x_cont - x_cont.mean(0)) / (x_cont.std(0) + 1e-5)\n"
                             "        x = torch.cat(embs + [x_cont], dim=1)"), loses=TABULAR_FORWARD),
    mistake("TabularModel", "embeddings summed instead of concatenated",
            _tabular(n_in="emb_szs[0][1] + n_cont", forward="x = torch.cat([sum(embs), self.bn_cont(x_cont)], dim=1)"),
            loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "BatchNorm over the whole concatenated input, not just the continuous columns",
            _tabular(bn="nn.BatchNorm1d(sum(d for _, d in emb_szs) + n_cont)",
                     forward="x = self.bn_cont(torch.cat(embs + [x_cont], dim=1))"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "embeddings kept in a plain Python list (not registered)",
            _tabular(embeds="[nn.Embedding(n, d) for n, d in emb_szs]"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "a ReLU after the last Linear",
            _tabular(last="mods += [nn.Linear(sizes[-1], out_sz), nn.ReLU()]"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "a ReLU before each Linear instead of after it",
            _tabular(body="mods += [nn.ReLU(), nn.Linear(a, b)]", last="mods += [nn.ReLU(), nn.Linear(sizes[-1], out_sz)]"),
            loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "a first Linear as wide as the embeddings only (forgetting the continuous columns)",
            _tabular(n_in="sum(d for _, d in emb_szs)"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "the last Linear sized from layers[-1] (fails with no hidden layers)",
            _tabular(last="mods.append(nn.Linear(layers[-1], out_sz))"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "ignoring out_sz (always one output)",
            _tabular(last="mods.append(nn.Linear(sizes[-1], 1))"), loses=TABULAR_LOSES_ALL),
    mistake("TabularModel", "ignoring y_range", _tabular(out="return x"), loses=("tabular_model_y_range",)),
] + variants_of(CHECKS)
