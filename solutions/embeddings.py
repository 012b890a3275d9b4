"""Reference solutions for 01_embeddings.ipynb: an embedding is a row lookup.

Multiplying by a one-hot matrix picks rows of the weight matrix, so an embedding layer
never builds the one-hot matrix: it indexes. Each function below is one exercise.

Errors (a choice of the reference, not part of the graded contract):
- ``one_hot`` raises ``TypeError`` for a non-integer ``idx`` and ``IndexError`` for an
  index outside ``[0, n)`` (comparing with ``arange`` would silently give an all-zero row).
- ``embedding_lookup`` relies on PyTorch's indexing: an index ``>= num_embeddings`` raises
  ``IndexError`` on the CPU (a device-side assert on CUDA), and a negative index counts
  from the end, as Python's indexing does.
"""
import torch
from torch import nn

__all__ = ["one_hot", "embedding_matmul", "embedding_lookup", "Embedding"]


def one_hot(idx, n):
    """one_hot(idx, n)[..., j] = 1.0 if idx[...] == j else 0.0, shape idx.shape + (n,)."""
    if idx.is_floating_point() or idx.is_complex() or idx.dtype == torch.bool:
        raise TypeError(f"one_hot needs an integer index tensor, got dtype {idx.dtype}")
    if idx.numel() and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(
            f"one_hot: indices must lie in [0, {n}), got min {idx.min().item()}, max {idx.max().item()}"
        )
    classes = torch.arange(n, device=idx.device)  # (n,)
    return (idx[..., None] == classes).float()  # idx.shape + (n,)


def embedding_matmul(weight, idx):
    """embedding_matmul(W, idx) = one_hot(idx, n) @ W, shape idx.shape + (d,)."""
    return one_hot(idx, weight.shape[0]).to(weight.dtype) @ weight  # idx.shape + (d,)


def embedding_lookup(weight, idx):
    """embedding_lookup(W, idx)[...] = W[idx[...]], shape idx.shape + (d,): no matmul."""
    return weight[idx]  # idx.shape + (d,)


class Embedding(nn.Module):
    """A learnable table: Embedding(idx) = weight[idx], weight ~ N(0, std²)."""

    def __init__(self, num_embeddings, embedding_dim, std=0.01):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim) * std)  # (n, d)

    def forward(self, idx):
        return embedding_lookup(self.weight, idx)  # idx.shape + (d,)

# The questionnaire's answers.
q_matmul_flops = 1_000 * 10_000 * 50  # one multiply-add per (index, row, column)
q_grad_repeated = 2.0  # row 2 was looked up twice: two gradients of 1 add up
q_why_lookup = "b"  # same values and gradients, without the (len(idx), n) one-hot matrix
