"""Helpers the lesson-5 notebooks use besides the exercises: device, data, plots, progress."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["data", "device", "grading"]


def device() -> "torch.device":
    """The device notebooks compute on: CUDA when available, else CPU.

    The environment variable ``WORKBOOK_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``...) overrides.
    """
    import torch  # here: `workbook check` and `workbook lab` need neither torch nor pandas (seconds each)

    name = os.environ.get("WORKBOOK_DEVICE")
    if name:
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                f"WORKBOOK_DEVICE={name!r} asks for CUDA, but PyTorch sees no GPU here. "
                "Unset WORKBOOK_DEVICE or set it to 'cpu'."
            )
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def grading() -> bool:
    """True while nbgrader executes the notebook (autograde or validate).

    Notebooks shrink their demonstrations (epochs, timing sweeps) then, so grading stays fast;
    graded answers are checked the same way either way.
    """
    return os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")


def __getattr__(name: str):
    """`workbook.data` is imported on first use (it pulls in pandas and torch)."""
    if name == "data":
        import importlib

        return importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module 'workbook' has no attribute {name!r}")
