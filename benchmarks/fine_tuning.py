"""07_fine_tuning: fine-tuning a network pretrained on digits 0-4 against training it from scratch on 5-9.

    python benchmarks/fine_tuning.py                          # the notebook's settings: 3, 10, 30 labels
    python benchmarks/fine_tuning.py --labels 3 10 30 100     # labelled images per class of the new task
    python benchmarks/fine_tuning.py --sweep                  # also other learning rates for both

Prints one JSON object per line: for each number of labelled 5-9 images per class, the validation
accuracy (on every validation image of 5-9) of the pretrained network fine-tuned with `fine_tune`
and of the same network trained from scratch with one-cycle, on the same images for the same number
of optimizer steps, their ratio, and the times; means over the seeds, and each seed's figures.
The settings are the notebook's (`SETTINGS`); the training code is the reference's (`solutions.fine_tuning`).
"""
from __future__ import annotations

import argparse
import copy
import json
import time

import torch
import torch.nn.functional as F
from torch import nn

import workbook
import workbook.data
from solutions.fine_tuning import fine_tune, replace_head
from workbook.train import one_thread_on_cpu

# The notebook's settings cell, verbatim.
SETTINGS = {"pretrain_epochs": 3, "pretrain_lr": 1e-2, "bs": 64,        # pretraining on 0-4
            "labels_per_class": 10, "target_bs": 10, "freeze_epochs": 4, "epochs": 12,  # the new task, 5-9
            "base_lr": 1e-2, "scratch_lr": 1e-2}


def make_cnn(n_out=5):
    """The notebook's network: a body of two convolutions and a linear head."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),                          # (B, 784) → (B, 1, 28, 28)
        nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),   # (B, 16, 14, 14)
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # (B, 32, 7, 7)
        nn.AdaptiveMaxPool2d(4), nn.Flatten(),                 # (B, 512)
        nn.Linear(512, n_out))                                 # the head


def layer_groups(model):
    """The two convolutions, then the head."""
    return [model[1], model[3], model[7]]


def shuffled(x, y, bs, seed):
    """Batches of (x, y) in an order drawn from `seed`."""
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed)).to(x.device)
    return [(x[order[i:i + bs]], y[order[i:i + bs]]) for i in range(0, len(x), bs)]


def train_scratch(model, batches, epochs, lr):
    """Every layer trained from its initialisation: Adam and one-cycle (fit_one_cycle)."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(batches))
    for _ in range(epochs):
        for x, y in batches:
            F.cross_entropy(model(x), y).backward()
            opt.step()
            opt.zero_grad()
            sched.step()


def accuracy(model, x, y) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def subset(y, per_class: int, seed: int):
    """Indices of `per_class` random examples of each label."""
    g = torch.Generator().manual_seed(seed)
    return torch.cat([idx[torch.randperm(len(idx), generator=g)[:per_class]]
                      for idx in (torch.nonzero(y == c).flatten() for c in y.unique())])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labels", type=int, nargs="+", default=[3, SETTINGS["labels_per_class"], 30])
    parser.add_argument("--sweep", action="store_true", help="also base_lr and the scratch lr in 1e-2, 3e-2, 1e-1")
    args = parser.parse_args(argv)
    with one_thread_on_cpu(workbook.device()):  # as the notebook: batches this small run faster on one CPU thread
        run(args)


def run(args) -> None:
    s, device = SETTINGS, workbook.device()
    x_train, y_train, x_valid, y_valid = (t.to(device) for t in workbook.data.digits())
    old, new_valid = y_train < 5, y_valid >= 5
    x_new, y_new = x_train[~old], y_train[~old] - 5
    xv, yv = x_valid[new_valid], y_valid[new_valid] - 5

    torch.manual_seed(0)
    pretrained = make_cnn()
    pretrained.to(device)
    sync(device)
    start = time.perf_counter()
    train_scratch(pretrained, shuffled(x_train[old], y_train[old], s["bs"], 0), s["pretrain_epochs"], s["pretrain_lr"])
    sync(device)
    print(json.dumps({"benchmark": "fine_tuning", "stage": "pretrain on digits 0-4", "device": device.type,
                      "train_images": int(old.sum()), "epochs": s["pretrain_epochs"],
                      "valid_accuracy_0_4": round(accuracy(pretrained, x_valid[~new_valid], y_valid[~new_valid]), 4),
                      "seconds": round(time.perf_counter() - start, 2)}), flush=True)

    lrs = [(s["base_lr"], s["scratch_lr"])] + ([(a, b) for a in (1e-2, 3e-2, 1e-1) for b in (1e-2, 3e-2, 1e-1)
                                                if (a, b) != (s["base_lr"], s["scratch_lr"])] if args.sweep else [])
    for per_class in args.labels:
        for base_lr, scratch_lr in lrs:
            runs = []
            for seed in args.seeds:
                idx = subset(y_new.cpu(), per_class, seed).to(device)
                batches = shuffled(x_new[idx], y_new[idx], s["target_bs"], seed)
                epochs = s["freeze_epochs"] + s["epochs"]
                torch.manual_seed(seed)
                model = replace_head(copy.deepcopy(pretrained), 5)
                sync(device)
                t0 = time.perf_counter()
                fine_tune(model, layer_groups(model), batches, F.cross_entropy, s["epochs"], base_lr, s["freeze_epochs"])
                sync(device)
                t1 = time.perf_counter()
                tuned = accuracy(model, xv, yv)
                torch.manual_seed(seed)
                model = make_cnn().to(device)
                train_scratch(model, batches, epochs, scratch_lr)
                sync(device)
                runs.append({"seed": seed, "fine_tune": round(tuned, 4), "scratch": round(accuracy(model, xv, yv), 4),
                             "fine_tune_seconds": round(t1 - t0, 2), "scratch_seconds": round(time.perf_counter() - t1, 2)})
            ft = sum(r["fine_tune"] for r in runs) / len(runs)
            sc = sum(r["scratch"] for r in runs) / len(runs)
            print(json.dumps({"benchmark": "fine_tuning", "labels_per_class": per_class, "train_images": 5 * per_class,
                              "steps": epochs * len(batches), "base_lr": base_lr, "scratch_lr": scratch_lr,
                              "valid_images": len(yv), "fine_tune_accuracy": round(ft, 4), "scratch_accuracy": round(sc, 4),
                              "ratio": round(ft / sc, 4), "fine_tune_wins": sum(r["fine_tune"] > r["scratch"] for r in runs),
                              "seeds": len(runs), "device": device.type, "runs": runs}), flush=True)


if __name__ == "__main__":
    main()
