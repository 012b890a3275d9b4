"""How well the lesson's model trains: the reference DotProductBias (40 factors, wd 0.1, one cycle, 5 epochs).

    python benchmarks/collab_quality.py [--seed 42] [--bs 512]

Prints one JSON object per line: on the generated ratings, the validation RMSE against the noise floor
(`truth.bayes_rmse`) and against predicting the mean, the rank correlation of the learned item biases with
the planted ones, how many planted good (bad) items the top (bottom) 15 by learned bias hold, how closely the
top two principal components of the learned item factors (500 most-rated items, as notebook 02 plots them)
follow the planted genre and era axes, and the training time; and, when MovieLens 100k has been fetched, the
validation RMSE on it. Each figure with a target carries it, and `ok` says whether it is met.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
import torch

import workbook
from solutions.collab_bias import DotProductBias, pca, rmse
from workbook import data as wdata
from workbook.train import fit_one_cycle

TARGETS = {  # name: (comparison, bound)
    "rmse_over_bayes": ("<=", 1.10),
    "improvement_over_mean": (">=", 0.10),
    "item_bias_spearman": (">=", 0.90),
    "planted_good_in_top15": (">=", 4),
    "planted_bad_in_bottom15": (">=", 4),
    "pc1_genre_correlation": (">=", 0.85),
    "pc2_era_correlation": (">=", 0.85),
    "train_seconds": ("<=", 30.0),
    "ml100k_valid_rmse": ("<=", 0.90),
}


def emit(name: str, value: float, **extra) -> None:
    row = {"benchmark": "collab_quality", "name": name, "value": round(value, 4), **extra}
    if name in TARGETS:
        op, bound = TARGETS[name]
        row.update(target=f"{op} {bound}", ok=bool(value <= bound if op == "<=" else value >= bound))
    print(json.dumps(row), flush=True)


def train(ratings: wdata.Ratings, seed: int, bs: int, device):
    """The lesson's recipe on `ratings.split()`; returns (model, train, valid, seconds)."""
    train_df, valid_df = ratings.split(valid_pct=0.1, seed=42)
    torch.manual_seed(seed)
    model = DotProductBias(ratings.n_users, ratings.n_items, n_factors=40).to(device)
    start = time.perf_counter()
    fit_one_cycle(model, train_df, valid_df, epochs=5, lr=5e-3, wd=0.1, bs=bs, progress=False)
    return model, train_df, valid_df, time.perf_counter() - start


def pca_alignment(model, ratings: wdata.Ratings) -> dict[str, float]:
    """|correlation| of each of the top two principal components of the learned item factors (the 500
    most-rated items) with each planted axis: component 1 should follow the genre, component 2 the era."""
    popular = ratings.item_stats()["n_ratings"].sort_values(ascending=False, kind="stable").index[:500].to_numpy()
    factors = model.item_factors.weight.detach().cpu().double()[torch.tensor(popular)]  # (500, 40)
    proj = pca(factors, k=2).numpy()                                                        # (500, 2)
    planted = ratings.truth.item_factors[popular]                                           # (500, 2)
    corr = np.abs(np.corrcoef(proj.T, planted.T)[:2, 2:])                                   # (component, axis)
    return {"pc1_genre_correlation": float(corr[0, 0]), "pc2_era_correlation": float(corr[1, 1]),
            "pc1_era_correlation": float(corr[0, 1]), "pc2_genre_correlation": float(corr[1, 0])}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42, help="seed of the model's initial weights")
    parser.add_argument("--bs", type=int, default=512, help="batch size")
    args = parser.parse_args(argv)
    device = workbook.device()
    common = dict(device=str(device), seed=args.seed, bs=args.bs)

    synthetic = wdata.movielens("synthetic")
    model, train_df, valid_df, seconds = train(synthetic, args.seed, args.bs, device)
    valid_rmse = rmse(model, valid_df)
    mean_rmse = float(np.sqrt(((valid_df["rating"] - train_df["rating"].mean()) ** 2).mean()))
    bayes = synthetic.truth.bayes_rmse
    emit("valid_rmse", valid_rmse, data="synthetic", **common)
    emit("bayes_rmse", bayes, data="synthetic")
    emit("rmse_over_bayes", valid_rmse / bayes, data="synthetic", **common)
    emit("mean_predictor_rmse", mean_rmse, data="synthetic")
    emit("improvement_over_mean", 1 - valid_rmse / mean_rmse, data="synthetic", **common)
    stats = synthetic.item_stats()
    rated = stats.index[stats["n_ratings"] >= 20].to_numpy()
    learned = model.item_bias.weight.detach()[:, 0].cpu().numpy()
    spearman = pd.Series(learned[rated]).corr(pd.Series(synthetic.truth.item_bias[rated]), method="spearman")
    emit("item_bias_spearman", float(spearman), data="synthetic", n_items=len(rated), **common)
    order = np.argsort(-learned)
    emit("planted_good_in_top15", len(set(order[:15]) & set(synthetic.truth.good_items)), data="synthetic", **common)
    emit("planted_bad_in_bottom15", len(set(order[-15:]) & set(synthetic.truth.bad_items)), data="synthetic", **common)
    for name, value in pca_alignment(model, synthetic).items():
        emit(name, value, data="synthetic", n_items=500, **common)
    emit("train_seconds", seconds, data="synthetic", epochs=5, **common)

    if (wdata.data_dir() / "ml-100k").exists():
        real = wdata.movielens("ml-100k")
        model, _, valid_df, seconds = train(real, args.seed, args.bs, device)
        emit("ml100k_valid_rmse", rmse(model, valid_df), data="ml-100k", train_seconds=round(seconds, 1), **common)


if __name__ == "__main__":
    main()
