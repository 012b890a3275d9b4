"""The one place that generates test inputs: seeds, shapes (edge cases included), dtypes and devices.

Every check draws its inputs from here, as Tensor-Puzzles' `make_test` and minitorch's
strategies do, so each answer meets the same spread of cases: 0-D and 1-element shapes, both
float dtypes, every device present, several seeds, and the orders and aliasings that a careless
answer gets wrong. Inputs are made on the CPU from fixed seeds (the same numbers on every
machine) and moved to the case's device when the check runs.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Callable

import torch

SEEDS = (0, 1, 2)
FLOATS = (torch.float32, torch.float64)
INDEX_SHAPES = ((), (1,), (7,), (3, 4), (2, 3, 5))   # 0-D to 3-D
SHAPES = ((), (1,), (5,), (2, 3), (2, 3, 4))         # value tensors, 0-D to 3-D


@dataclass
class Case:
    """One run of a check's scenario: a label for messages and the scenario's inputs (plain data).

    `keys` are the outputs compared with the reference's (default: all of them); `expect`,
    when given, checks properties of the outputs instead: `expect(outputs, case)` returns the
    `workbook.record.Comparison`s it made.
    """
    label: str
    inputs: dict
    device: str = "cpu"
    keys: tuple[str, ...] | None = None
    expect: Callable | None = None
    tolerance: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.label


def devices() -> list[str]:
    """The CPU always, and CUDA when present: answers must work on the device of their inputs."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def generator(seed: int) -> torch.Generator:
    """A CPU generator: the same cases on every machine and device."""
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed: int, dtype=torch.float32, scale: float = 1.0) -> torch.Tensor:
    """Normal values drawn in float64 from `seed`, then cast: both dtypes see the same numbers."""
    return (torch.randn(shape, generator=generator(seed), dtype=torch.float64) * scale).to(dtype)


def rand(*shape, seed: int, dtype=torch.float32, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """Uniform values in [low, high)."""
    return (low + (high - low) * torch.rand(shape, generator=generator(seed), dtype=torch.float64)).to(dtype)


def randint(high: int, shape, seed: int) -> torch.Tensor:
    """int64 values in [0, high)."""
    return torch.randint(high, tuple(shape), generator=generator(seed))


def shape_str(shape) -> str:
    """`(2, 3)`, `(5,)`, `()`."""
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def dtype_str(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def grid(**axes) -> list[dict]:
    """Every combination of the axes' values: grid(a=(1, 2), b=("x",)) → [{a: 1, b: "x"}, {a: 2, b: "x"}]."""
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(axes[n] for n in names))]


def elementwise(fn: str, *args, scale: float = 1.0) -> list[Case]:
    """`fn(x, *args)` for x of every shape from 0-D to 3-D in both float dtypes, with its gradient in x under a
    random upstream gradient: the case grid of an elementwise function of one tensor (`each_device` adds devices)."""
    call = ", ".join(["x", *map(repr, args)])
    return [Case(f"{fn}({call}) for x of shape {shape_str(shape)} {dtype_str(dtype)}",
                 {"fn": fn, "args": [randn(*shape, seed=i, dtype=dtype, scale=scale), *args], "grad": [0],
                  "upstream": randn(*shape, seed=10 + i, dtype=dtype)})
            for i, shape in enumerate(SHAPES) for dtype in FLOATS]


def each_device(cases: list[Case]) -> list[Case]:
    """Each case on every device present, labelled with it."""
    return [Case(f"{c.label} on {d}", c.inputs, d, c.keys, c.expect, c.tolerance) for c in cases for d in devices()]


def index_tensors(n_rows=(1, 5, 13)):
    """(label, idx, n) for index tensors of every shape from 0-D to 3-D, with repeated indices."""
    for i, (n, shape) in enumerate((n, s) for n in n_rows for s in INDEX_SHAPES):
        yield f"idx of shape {shape_str(shape)} into {n} rows", randint(n, shape, seed=i), n
