"""Shared fixtures: the same suite runs on CPU-only machines and on GPUs."""
import pytest
import torch

import workbook

# The suite's tensors are tiny: one thread is fastest, and leaves the other core to nbgrader's kernels.
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def device():
    """The device the notebooks use (CUDA when there is one)."""
    return workbook.device()


def devices():
    """CPU always, plus CUDA when present: parametrise device-sensitive tests with this."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
