"""One place that generates test inputs: seeds, shapes, dtypes and devices.

Hidden tests draw every input from here (as Tensor-Puzzles' `make_test` and minitorch's
strategies do), so a correct answer is checked on the same spread of cases everywhere and
the visible examples are never the graded ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

SEEDS = (0, 1, 2)
FLOAT_DTYPES = (torch.float32, torch.float64)


def devices() -> list[torch.device]:
    """CPU always, and CUDA when present: answers must work on the device of their inputs."""
    return [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])


def generator(seed: int) -> torch.Generator:
    """A CPU generator: the same cases on every machine and device."""
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed: int, dtype=torch.float32, device="cpu", scale: float = 1.0) -> torch.Tensor:
    """Normal values, drawn on the CPU from `seed` then moved, so every device sees the same numbers."""
    return (torch.randn(shape, generator=generator(seed), dtype=torch.float64) * scale).to(device, dtype)


def randint(high: int, shape, seed: int, device="cpu") -> torch.Tensor:
    """int64 indices in [0, high)."""
    return torch.randint(high, tuple(shape), generator=generator(seed)).to(device)


@dataclass
class Case:
    """One generated input: a label for messages and the arguments to call with."""
    label: str
    args: tuple
    kwargs: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.label


def shape_str(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


INDEX_SHAPES = ((), (1,), (7,), (3, 4), (2, 3, 5))


def index_cases(n_rows=(1, 5, 13)) -> list[Case]:
    """Index tensors of every shape from 0-D to 3-D, with repeated indices, for tables of `n_rows` rows."""
    cases = []
    for i, (n, shape) in enumerate((n, s) for n in n_rows for s in INDEX_SHAPES):
        for device in devices():
            idx = randint(n, shape, seed=i, device=device)
            cases.append(Case(f"idx of shape {shape_str(shape)} into {n} rows on {device.type}", (idx, n)))
    return cases
