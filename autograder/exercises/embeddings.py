"""01_embeddings: an embedding is a row lookup. One declaration per graded cell, and the answers
a learner could write (correct alternatives and plausible mistakes)."""
from workbook.record import Comparison

from ..cases import FLOATS, SEEDS, Case, dtype_str, each_device, index_tensors, randint, randn
from ..exercise import Check, alternative, mistake, question, variants_of
from ..forbidden import forbid

NOTEBOOK, REFERENCE = "01_embeddings", "solutions.embeddings"
LOOKUP_FREE = forbid("F.embedding", "nn.Embedding", "F.one_hot", "a matrix product")


def one_hot_cases():
    """one_hot(idx, n) equals the reference for indices of every shape (0-D to 3-D), on every device."""
    return each_device([Case(f"one_hot({label})", {"fn": "one_hot", "args": [idx, n]})
                        for label, idx, n in index_tensors()])


def table_cases(fn: str, keys: tuple, n_rows=(1, 5, 13)):
    """fn(weight, idx) for indices of every shape into float32 and float64 tables, on every device."""
    cases = []
    for i, (label, idx, n) in enumerate(index_tensors(n_rows)):
        for dtype in FLOATS:
            inputs = {"fn": fn, "args": [randn(n, 3, seed=i, dtype=dtype), idx], "grad": [0],
                      "upstream": randn(*idx.shape, 3, seed=100 + i, dtype=dtype)}
            cases.append(Case(f"{fn}(weight {dtype_str(dtype)}, {label})", inputs, keys=keys))
    return each_device(cases)


def _initialised(std: float, shape: tuple):
    """An `expect`: the module's only parameter is `weight`, of `shape`, drawn from N(0, std²)."""
    def expect(out, case):
        names = list(out["structure"]["parameters"])
        if names != ["weight"]:
            return [Comparison(case.label, False, f"its parameters are {names}, expected ['weight'] "
                                                  "(self.weight = nn.Parameter(...))")]
        w = out["weights"]["weight"].double()
        if tuple(w.shape) != shape:
            return [Comparison(case.label, False, f"weight has shape {tuple(w.shape)}, expected {shape}")]
        # With 40,000 or more draws, the sample std is within 3% of the true one with overwhelming probability.
        ok = abs(w.std().item() - std) < 0.03 * std and abs(w.mean().item()) < 0.03 * std
        return [Comparison(case.label, ok, "" if ok else f"the weights' mean is {w.mean().item():.4g} and std "
                           f"{w.std().item():.4g}, expected 0 and {std} (torch.randn(...) * std)")]
    return expect


def module_cases():
    """Embedding(n, d, std) holds a (n, d) `weight` ~ N(0, std²), looks rows up with their gradients, and
    its state_dict has nn.Embedding's key."""
    cases = [Case("Embedding(1000, 40, std=0.5)", {"cls": "Embedding", "args": [1000, 40], "kwargs": {"std": 0.5},
                                                    "report": ["structure", "weights"]},
                  expect=_initialised(0.5, (1000, 40))),
             Case("Embedding(2000, 50) with the default std", {"cls": "Embedding", "args": [2000, 50],
                                                              "report": ["structure", "weights"]},
                  expect=_initialised(0.01, (2000, 50)))]
    for seed in SEEDS:
        n, d = 5 + seed, 3 + seed
        idx = randint(n, (4, 6), seed=seed)
        state = {"weight": randn(n, d, seed=seed)}  # what nn.Embedding(n, d).state_dict() holds
        cases.append(Case(f"Embedding({n}, {d}) loaded with nn.Embedding's state_dict, on (4, 6) indices",
                          {"cls": "Embedding", "args": [n, d], "state": state, "inputs": [idx],
                           "upstream": randn(4, 6, d, seed=10 + seed), "report": ["y", "grads", "state_dict"]}))
    return each_device(cases)


CHECKS = [
    Check("one_hot_values", 2, "one_hot", "basic.call", one_hot_cases, forbid("F.one_hot")),
    Check("embedding_matmul_values", 1, ("embedding_matmul", "one_hot"), "basic.call",
          lambda: table_cases("embedding_matmul", ("y", "changed", "grad")), forbid("F.embedding", "nn.Embedding"),
          doc="embedding_matmul(weight, idx) equals one_hot(idx) @ weight: values, dtype and gradient."),
    Check("embedding_lookup_values", 2, "embedding_lookup", "basic.call",
          lambda: table_cases("embedding_lookup", ("y", "changed")), LOOKUP_FREE,
          doc="embedding_lookup(weight, idx) equals weight[idx] for every shape and dtype, without a matmul."),
    Check("embedding_lookup_gradient", 1, "embedding_lookup", "basic.call",
          lambda: table_cases("embedding_lookup", ("grad",), n_rows=(4, 9)), LOOKUP_FREE,
          title="embedding_lookup gradient",
          doc="Gradients through a lookup reach the rows looked up, adding up over repeated indices."),
    Check("embedding_module", 2, ("Embedding", "embedding_lookup"), "basic.module", module_cases, LOOKUP_FREE),
    question("q_matmul_flops_answer", 1, "q_matmul_flops", 1_000 * 10_000 * 50,
             right={"written as a power of ten": "5e8"},
             wrong={"counting the one-hot matrix's entries, not the multiply-adds": "1_000 * 10_000"}),
    question("q_grad_repeated_answer", 1, "q_grad_repeated", 2.0,
             right={"an int": "2"}, wrong={"one gradient per row, not one per lookup": "1.0"}),
    question("q_why_lookup_answer", 1, "q_why_lookup", "b", choices=("a", "b", "c"),
             right={"a capital letter": '" B"'}, wrong={"a matrix product cannot be differentiated": '"c"'}),
]

VARIANTS = [
    alternative("one_hot", "rows of the identity", "def one_hot(idx, n):\n    return torch.eye(n, device=idx.device)[idx]"),
    alternative("one_hot", "scatter into zeros", '''
def one_hot(idx, n):
    out = torch.zeros(*idx.shape, n, device=idx.device)
    return out.scatter_(-1, idx.unsqueeze(-1), 1.0)'''),
    mistake("one_hot", "F.one_hot (forbidden)", "def one_hot(idx, n):\n    return F.one_hot(idx, n).float()"),
    mistake("one_hot", "an int64 result instead of float32",
            "def one_hot(idx, n):\n    return (idx[..., None] == torch.arange(n, device=idx.device)).long()"),
    mistake("one_hot", "counting classes from 1 instead of 0", '''
def one_hot(idx, n):
    return (idx[..., None] == torch.arange(1, n + 1, device=idx.device)).float()''', also=("embedding_matmul_values",)),
    mistake("one_hot", "handling only 1-D indices", '''
def one_hot(idx, n):
    out = torch.zeros(len(idx), n, device=idx.device)
    out[torch.arange(len(idx)), idx] = 1.0
    return out''', also=("embedding_matmul_values",)),
    mistake("one_hot", "torch.arange(n) made on the CPU (use device=idx.device)",
            "def one_hot(idx, n):\n    return (idx[..., None] == torch.arange(n)).float()",
            also=("embedding_matmul_values",), cuda_only=True),
    alternative("embedding_matmul", "einsum", '''
def embedding_matmul(weight, idx):
    return torch.einsum("...n,nd->...d", one_hot(idx, weight.shape[0]).to(weight.dtype), weight)'''),
    mistake("embedding_matmul", "a float32 product whatever the table's dtype",
            "def embedding_matmul(weight, idx):\n    return one_hot(idx, weight.shape[0]).float() @ weight.float()"),
    mistake("embedding_matmul", "one-hot rows as wide as the table's columns, not its rows",
            "def embedding_matmul(weight, idx):\n    return one_hot(idx, weight.shape[1]).to(weight.dtype) @ weight"),
    alternative("embedding_lookup", "index_select and reshape", '''
def embedding_lookup(weight, idx):
    rows = weight.index_select(0, idx.reshape(-1))
    return rows.reshape(*idx.shape, weight.shape[1])'''),
    alternative("embedding_lookup", "a loop over flat indices", '''
def embedding_lookup(weight, idx):
    rows = [weight[i] for i in idx.reshape(-1).tolist()]
    out = torch.stack(rows) if rows else weight[:0]
    return out.reshape(*idx.shape, weight.shape[1])'''),
    mistake("embedding_lookup", "the one-hot product (forbidden)",
            "def embedding_lookup(weight, idx):\n    return embedding_matmul(weight, idx)", also=("embedding_module",)),
    mistake("embedding_lookup", "F.embedding (forbidden)",
            "def embedding_lookup(weight, idx):\n    return F.embedding(idx, weight)", also=("embedding_module",)),
    mistake("embedding_lookup", "detached rows (no gradient reaches the table)",
            "def embedding_lookup(weight, idx):\n    return weight.detach()[idx]",
            loses=("embedding_lookup_gradient", "embedding_module")),
    mistake("embedding_lookup", "handling only 1-D indices",
            "def embedding_lookup(weight, idx):\n    return weight.index_select(0, idx)", also=("embedding_module",)),
    alternative("Embedding", "normal_ in place", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim))
        nn.init.normal_(self.weight, mean=0.0, std=std)

    def forward(self, idx):
        return self.weight[idx]'''),
    mistake("Embedding", "ignoring std", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))

    def forward(self, idx):
        return embedding_lookup(self.weight, idx)'''),
    mistake("Embedding", "a weight that is not an nn.Parameter", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = torch.randn(num_embeddings, embedding_dim) * std

    def forward(self, idx):
        return embedding_lookup(self.weight, idx)'''),
    mistake("Embedding", "wrapping nn.Embedding (forbidden)", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.emb = nn.Embedding(num_embeddings, embedding_dim)
        nn.init.normal_(self.emb.weight, std=std)
        self.weight = self.emb.weight

    def forward(self, idx):
        return self.emb(idx)'''),
] + variants_of(CHECKS)
