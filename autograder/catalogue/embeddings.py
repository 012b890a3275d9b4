"""Answers to 01_embeddings: correct ones written differently, and plausible mistakes."""
from . import Variant

VARIANTS = [
    # one_hot
    Variant("one_hot", "rows of the identity", '''
def one_hot(idx, n):
    return torch.eye(n, device=idx.device)[idx]
'''),
    Variant("one_hot", "scatter into zeros", '''
def one_hot(idx, n):
    out = torch.zeros(*idx.shape, n, device=idx.device)
    return out.scatter_(-1, idx.unsqueeze(-1), 1.0)
'''),
    Variant("one_hot", "F.one_hot (forbidden)", '''
def one_hot(idx, n):
    return F.one_hot(idx, n).float()
''', loses=("one_hot_values",)),
    Variant("one_hot", "int64 result", '''
def one_hot(idx, n):
    return (idx[..., None] == torch.arange(n, device=idx.device)).long()
''', loses=("one_hot_values",)),
    Variant("one_hot", "classes counted from 1", '''
def one_hot(idx, n):
    return (idx[..., None] == torch.arange(1, n + 1, device=idx.device)).float()
''', loses=("one_hot_values", "embedding_matmul_values")),
    Variant("one_hot", "only for 1-D indices", '''
def one_hot(idx, n):
    out = torch.zeros(len(idx), n, device=idx.device)
    out[torch.arange(len(idx)), idx] = 1.0
    return out
''', loses=("one_hot_values", "embedding_matmul_values")),
    # embedding_matmul
    Variant("embedding_matmul", "einsum", '''
def embedding_matmul(weight, idx):
    return torch.einsum("...n,nd->...d", one_hot(idx, weight.shape[0]).to(weight.dtype), weight)
'''),
    Variant("embedding_matmul", "float32 one-hot rows", '''
def embedding_matmul(weight, idx):
    return one_hot(idx, weight.shape[0]).float() @ weight.float()
''', loses=("embedding_matmul_values",)),
    Variant("embedding_matmul", "one-hot of the wrong size", '''
def embedding_matmul(weight, idx):
    return one_hot(idx, weight.shape[1]).to(weight.dtype) @ weight
''', loses=("embedding_matmul_values",)),
    # embedding_lookup
    Variant("embedding_lookup", "index_select and reshape", '''
def embedding_lookup(weight, idx):
    rows = weight.index_select(0, idx.reshape(-1))
    return rows.reshape(*idx.shape, weight.shape[1])
'''),
    Variant("embedding_lookup", "a loop over flat indices", '''
def embedding_lookup(weight, idx):
    rows = [weight[i] for i in idx.reshape(-1).tolist()]
    out = torch.stack(rows) if rows else weight[:0]
    return out.reshape(*idx.shape, weight.shape[1])
'''),
    Variant("embedding_lookup", "one-hot matmul (forbidden)", '''
def embedding_lookup(weight, idx):
    return embedding_matmul(weight, idx)
''', loses=("embedding_lookup_values", "embedding_lookup_gradient", "embedding_module")),
    Variant("embedding_lookup", "F.embedding (forbidden)", '''
def embedding_lookup(weight, idx):
    return F.embedding(idx, weight)
''', loses=("embedding_lookup_values", "embedding_lookup_gradient", "embedding_module")),
    Variant("embedding_lookup", "detached rows", '''
def embedding_lookup(weight, idx):
    return weight.detach()[idx]
''', loses=("embedding_lookup_gradient", "embedding_module")),
    Variant("embedding_lookup", "only for 1-D indices", '''
def embedding_lookup(weight, idx):
    return weight.index_select(0, idx)
''', loses=("embedding_lookup_values", "embedding_lookup_gradient", "embedding_module")),
    # Embedding
    Variant("Embedding", "normal_ in place", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim))
        nn.init.normal_(self.weight, mean=0.0, std=std)

    def forward(self, idx):
        return self.weight[idx]
'''),
    Variant("Embedding", "std ignored", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))

    def forward(self, idx):
        return embedding_lookup(self.weight, idx)
''', loses=("embedding_module",)),
    Variant("Embedding", "weight not a parameter", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = torch.randn(num_embeddings, embedding_dim) * std

    def forward(self, idx):
        return embedding_lookup(self.weight, idx)
''', loses=("embedding_module",)),
    Variant("Embedding", "wraps nn.Embedding (forbidden)", '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.emb = nn.Embedding(num_embeddings, embedding_dim)
        nn.init.normal_(self.emb.weight, std=std)
        self.weight = self.emb.weight

    def forward(self, idx):
        return self.emb(idx)
''', loses=("embedding_module",)),
]
