"""Train a ratings model the way the lesson's `learn.fit_one_cycle` does: MSE, AdamW, one-cycle.

    history = fit_one_cycle(model, train, valid, epochs=5, lr=5e-3, wd=0.1)

Notebooks 02 and 03 and `benchmarks/collab_quality.py` all train with this one function.
"""
from __future__ import annotations

import contextlib
import time

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

__all__ = ["fit_one_cycle", "one_thread_on_cpu", "ratings_tensors"]


def ratings_tensors(ratings: pd.DataFrame, device) -> tuple[torch.Tensor, torch.Tensor]:
    """`x` (N, 2) int64 rows of [user, item] and `y` (N,) float32 ratings, on `device`."""
    x = torch.tensor(ratings[["user", "item"]].to_numpy(), dtype=torch.long, device=device)  # (N, 2)
    y = torch.tensor(ratings["rating"].to_numpy(), dtype=torch.float32, device=device)  # (N,)
    return x, y


@contextlib.contextmanager
def one_thread_on_cpu(device):
    """Run the block with one CPU thread (restored afterwards); on a GPU, change nothing.

    Batches this small gain nothing from intra-op threads, and on a busy CPU the threads wait for
    each other: 5 epochs of the lesson's model took 84 s with 2 threads, 9 s with 1, on a loaded
    2-core machine.
    """
    if device.type != "cpu":
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_one_cycle(model, train: pd.DataFrame, valid: pd.DataFrame, epochs: int = 5, lr: float = 5e-3,
                  wd: float = 0.1, bs: int = 512, opt_func=torch.optim.AdamW, seed: int = 0,
                  progress: bool = True) -> list[dict]:
    """Train `model` ((B, 2) [user, item] → (B,) ratings) on `train` with MSE; one row of history per epoch.

    `opt_func(params, lr=, weight_decay=wd, betas=, eps=)` makes the optimizer: `torch.optim.AdamW`
    decays the weights directly (fastai's default, "true weight decay"), `torch.optim.Adam` adds
    `wd * w` to the gradient (L2). The learning rate follows `OneCycleLR` (warm up to `lr`, then
    anneal), which also cycles Adam's beta1 between 0.95 and 0.85 as fastai's `fit_one_cycle` does.
    Batches are drawn in a fresh random order each epoch, from `seed`. With `progress`, a bar
    counts the batches and a line per epoch shows the losses, like fastai's table.
    Each history row: `epoch`, `train_loss` (mean over the epoch's batches), `valid_loss` (MSE), `time` (s).
    """
    device = next(model.parameters()).device
    x, y = ratings_tensors(train, device)
    x_valid, y_valid = ratings_tensors(valid, device)
    # fastai's Adam defaults (betas 0.9/0.99, eps 1e-5): they train this model better than PyTorch's.
    opt = opt_func(model.parameters(), lr=lr, weight_decay=wd, betas=(0.9, 0.99), eps=1e-5)
    n_batches = -(-len(x) // bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * n_batches)
    gen = torch.Generator().manual_seed(seed)
    history = []
    bar = tqdm(total=epochs * n_batches, disable=not progress, unit="batch", leave=False)
    if progress:
        bar.write(f"{'epoch':>5}  {'train_loss':>10}  {'valid_loss':>10}  {'time':>6}")
    with one_thread_on_cpu(device):
        for epoch in range(epochs):
            start, total = time.perf_counter(), 0.0
            model.train()
            for idx in torch.randperm(len(x), generator=gen).to(device).split(bs):
                loss = F.mse_loss(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += loss.item() * len(idx)
                bar.update()
                bar.set_postfix(epoch=epoch, loss=f"{loss.item():.3f}", refresh=False)
            model.eval()
            with torch.no_grad():
                valid_loss = F.mse_loss(model(x_valid), y_valid).item()
            history.append(dict(epoch=epoch, train_loss=total / len(x), valid_loss=valid_loss,
                                time=time.perf_counter() - start))
            if progress:
                bar.write(f"{epoch:>5}  {total / len(x):>10.4f}  {valid_loss:>10.4f}  {history[-1]['time']:>5.1f}s")
    bar.close()
    return history
