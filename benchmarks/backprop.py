"""06_mnist_sgd's backpropagation by hand against autograd: how close, and how fast.

    python benchmarks/backprop.py                # seeds 0-4, batches of 64, the lesson's 784-50-10 net
    python benchmarks/backprop.py --batch 512

Prints one JSON object: the largest relative difference between `solutions.mnist_sgd.mlp_backward`
and autograd's gradients (`F.cross_entropy(model(x), y).backward()`) in float64 over the seeds
(each gradient's largest absolute difference divided by its largest entry), the same in float32,
and the time of one backward pass each way in float32 (autograd's includes its forward pass, as
mlp_backward's does), with their ratio (autograd's time / mlp_backward's: above 1, by hand is faster).
"""
from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F

import workbook
from solutions.mnist_sgd import MnistNN, mlp_backward


def autograd_gradients(model, x, y) -> dict:
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return {name: p.grad for name, p in model.named_parameters()}


def largest_relative_difference(seeds, batch: int, dtype, device) -> float:
    worst = 0.0
    for seed in seeds:
        torch.manual_seed(seed)
        model = MnistNN().to(device=device, dtype=dtype)
        x = torch.rand(batch, 784, dtype=dtype, device=device)  # pixel-like inputs
        y = torch.randint(10, (batch,), device=device)
        ours, theirs = mlp_backward(model, x, y), autograd_gradients(model, x, y)
        for name, g in theirs.items():
            worst = max(worst, ((ours[name] - g).abs().max() / g.abs().max()).item())
    return worst


def best_time(fn, device, repeat: int) -> float:
    """The fastest of `repeat` runs, in milliseconds (after a warm-up; waiting for the GPU)."""
    fn()
    times = []
    for _ in range(repeat):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)
    device = workbook.device()
    if device.type == "cpu":
        torch.set_num_threads(1)  # as the notebook: tiny models run faster on one thread
    torch.manual_seed(0)
    model = MnistNN().to(device)
    x = torch.rand(args.batch, 784, device=device)
    y = torch.randint(10, (args.batch,), device=device)
    by_hand = best_time(lambda: mlp_backward(model, x, y), device, args.repeat)
    by_autograd = best_time(lambda: autograd_gradients(model, x, y), device, args.repeat)
    print(json.dumps({
        "benchmark": "backprop", "model": "MnistNN(784, 50, 10)", "batch": args.batch, "seeds": args.seeds,
        "device": str(device),
        "max_rel_diff_float64": float(f"{largest_relative_difference(args.seeds, args.batch, torch.float64, device):.3g}"),
        "max_rel_diff_float32": float(f"{largest_relative_difference(args.seeds, args.batch, torch.float32, device):.3g}"),
        "mlp_backward_ms": round(by_hand, 4), "autograd_ms": round(by_autograd, 4),
        "speed_ratio": round(by_autograd / by_hand, 3),
    }), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
