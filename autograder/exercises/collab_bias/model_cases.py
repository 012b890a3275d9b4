"""02_collab_bias: the inputs the model's cells are checked on: sigmoid_range and DotProductBias (its tables, its
forward pass, its training), and what a passing answer must show."""
import numpy as np
import torch

from workbook.record import Comparison

from ...cases import FLOATS, SEEDS, Case, devices, dtype_str, each_device, elementwise, generator, randint, randn

TABLES = ("user_factors", "item_factors", "user_bias", "item_bias")


# --------------------------------------------------------------------------- sigmoid_range

def sigmoid_range_cases():
    """sigmoid_range(x, low, high) is sigmoid(x) * (high - low) + low: values, dtype, device, gradient, x unchanged.

    Every shape from 0-D to 3-D, both float dtypes, float and int ranges, saturated inputs, keyword arguments."""
    cases = [c for r in ((0.0, 5.5), (-1.0, 1.0), (1, 5)) for c in elementwise("sigmoid_range", *r, scale=4.0)]
    cases += [Case(f"sigmoid_range of -50, 0, 50 ({dtype_str(dtype)}) is low, halfway and high",
                   {"fn": "sigmoid_range", "args": [torch.tensor([-50.0, 0.0, 50.0], dtype=dtype), 1.0, 5.0]})
              for dtype in FLOATS]
    cases.append(Case("sigmoid_range(x, low=0.0, high=5.5) with keyword arguments, x of shape (6,)",
                      {"fn": "sigmoid_range", "args": [randn(6, seed=7)], "kwargs": {"low": 0.0, "high": 5.5}}))
    return each_device(cases)


# --------------------------------------------------------------------------- DotProductBias

def _batch(n_users, n_items, size, seed):
    """A (size, 2) LongTensor of [user, item] rows."""
    return torch.stack([randint(n_users, (size,), seed=seed), randint(n_items, (size,), seed=seed + 100)], 1)


def _bias_trap(shape, batch) -> str:
    if tuple(shape) in ((batch, batch), (batch, 1)):
        return (f"forward returns shape {tuple(shape)} for a batch of {batch}, expected ({batch},). The bias "
                "embeddings give (B, 1), and (B,) + (B, 1) broadcasts to (B, B): squeeze them, e.g. "
                "self.user_bias(users).squeeze(1) or [:, 0].")
    if tuple(shape) == () and batch == 1:
        return ("forward returns a 0-D tensor for a batch of 1, expected shape (1,): .squeeze() without a dim "
                "squeezes the batch away too; squeeze only the bias's last dimension, .squeeze(1)")
    return f"forward returns shape {tuple(shape)} for a batch of {batch}, expected ({batch},)."


def _predicts(batch: int, device: str):
    """An `expect`: forward gives a float32 tensor of shape (batch,) on `device`."""
    def expect(out, case):
        y = out["y"]
        if not isinstance(y, torch.Tensor):
            return [Comparison(case.label, False, f"forward returns {type(y).__name__}, expected a tensor")]
        if tuple(y.shape) != (batch,):
            return [Comparison(case.label, False, _bias_trap(y.shape, batch))]
        if y.dtype != torch.float32:
            return [Comparison(case.label, False, f"forward returns {dtype_str(y.dtype)}, expected float32 "
                                                  "(keep the dtype of the model's weights)")]
        if y.device.type != device:
            return [Comparison(case.label, False, f"forward returns a tensor on {y.device.type}, expected {device} "
                                                  "(the device of the model and of x)")]
        return [Comparison(case.label, True)]
    return expect


def _starts_small(out, case):
    """An `expect`: every table starts with small weights, and the factors not at zero."""
    for name in TABLES:
        std = out[name]["std"]
        if std > 0.1:
            return [Comparison(case.label, False, f"`{name}.weight` starts with std {std:.3g}: nn.Embedding's "
                               "default N(0, 1) makes the 40-factor dot products start around ±6, where the sigmoid "
                               "is flat and training stalls. Initialise every table like fastai, e.g. "
                               "nn.init.normal_(emb.weight, std=0.01) or trunc_normal_.")]
        if std == 0 and not name.endswith("bias"):
            return [Comparison(case.label, False, f"`{name}.weight` starts all zero: every factor then gets a zero "
                               "gradient and never learns. Draw it from a normal with std 0.01.")]
    return [Comparison(case.label, True)]


def shapes_cases():
    """DotProductBias has its four nn.Embedding tables of the right shapes, starting small, and forward gives (B,).

    The predictions are a float32 tensor of shape (B,) on the model's device, for batches of 1, 2 and 9."""
    cases = [Case(f"DotProductBias({', '.join(map(str, args))}): its tables' shapes (each bias 1 wide: one number per "
                  "user or item), its parameters and its forward", {"kind": "structure", "args": list(args)})
             for args in ((10, 7, 4), (3, 8, 1, (1.0, 5.0)))]
    cases.append(Case("DotProductBias(1000, 1500, 40) starts small: factors with std about 0.01, biases no bigger",
                      {"kind": "init", "args": [1000, 1500, 40]}, expect=_starts_small))
    for batch in (1, 2, 9):
        for d in devices():
            cases.append(Case(f"forward on a ({batch}, 2) batch on {d} returns shape ({batch},)",
                              {"kind": "forward_shape", "args": [10, 7, 4], "x": _batch(10, 7, batch, seed=batch)}, d,
                              expect=_predicts(batch, d)))
    return cases


def random_weights(n_users, n_items, n_factors, seed, dtype):
    """A DotProductBias state_dict with O(1) weights, so that every term of the forward pass matters."""
    shapes = {"user_factors": (n_users, n_factors), "item_factors": (n_items, n_factors),
              "user_bias": (n_users, 1), "item_bias": (n_items, 1)}
    return {f"{name}.weight": randn(*shape, seed=seed * 10 + i, dtype=dtype, scale=0.7)
            for i, (name, shape) in enumerate(shapes.items())}


def values_cases():
    """With the reference's state_dict loaded, DotProductBias gives the reference's predictions and gradients.

    Same keys and shapes; y_range left out, given by position or by name; float32 and float64 models; batches of 1
    and more, with repeated users and items."""
    cases = []
    for seed in SEEDS:
        n_users, n_items, n_factors = 6 + seed, 5 + 2 * seed, 3 + seed
        batch = (9, 1, 16)[seed]
        for dtype in FLOATS:
            for how in ("default", "positional", "keyword"):
                if (seed + FLOATS.index(dtype) + ("default", "positional", "keyword").index(how)) % 3 == 2:
                    continue  # two of the three y_range forms per seed and dtype
                y_range = {"default": None, "positional": (1.0, 5.0), "keyword": (-1.0, 2.0)}[how]
                args = [n_users, n_items, n_factors] + ([y_range] if how == "positional" else [])
                kwargs = {"y_range": y_range} if how == "keyword" else {}
                shown = ", ".join(map(str, args[:3])) + {"default": "", "positional": f", {y_range}",
                                                         "keyword": f", y_range={y_range}"}[how]
                cases.append(Case(f"DotProductBias({shown}) {dtype_str(dtype)} with the reference's weights, on a "
                                  f"({batch}, 2) batch",
                                  {"args": args, "kwargs": kwargs, "dtype": dtype_str(dtype),
                                   "state": random_weights(n_users, n_items, n_factors, seed, dtype),
                                   "x": _batch(n_users, n_items, batch, seed=seed),
                                   "upstream": randn(batch, seed=seed + 7, dtype=dtype)}))
    return each_device(cases)


def _planted(seed=0, n_users=60, n_items=40, density=0.6, bs=128):
    """A small ratings set from planted biases and two latent factors: train (x, y) with a last batch of one
    row, valid (x, y), and the planted item biases."""
    rng = np.random.default_rng(seed)
    user_bias, item_bias = rng.normal(0, 0.4, n_users), rng.normal(0, 0.8, n_items)
    u, v = rng.normal(0, 0.6, (n_users, 2)), rng.normal(0, 0.6, (n_items, 2))
    users, items = np.nonzero(rng.random((n_users, n_items)) < density)
    rating = 3.5 + user_bias[users] + item_bias[items] + (u[users] * v[items]).sum(1)
    rating = np.clip(rating + rng.normal(0, 0.3, len(users)), 1.0, 5.0)
    x = torch.tensor(np.stack([users, items], 1))  # (N, 2)
    y = torch.tensor(rating, dtype=torch.float32)  # (N,)
    perm = torch.randperm(len(x), generator=generator(seed))
    n_train = (len(x) * 4 // 5) // bs * bs + 1  # whole batches of `bs` and a last one of 1
    train, valid = perm[:n_train], perm[n_train:]
    return (x[train], y[train]), (x[valid], y[valid]), item_bias


def _learns(item_bias):
    """An `expect`: training beats predicting the mean, and the learned item biases follow the planted ones."""
    def expect(out, case):
        rmse, baseline = out["valid_rmse"], out["baseline"]
        if not rmse < 0.7 * baseline:
            return [Comparison(case.label, False, f"validation RMSE {rmse:.3f} after training, against {baseline:.3f} "
                               "for predicting the mean (expected under 70% of it): check that every table is used "
                               "in forward and that nothing is detached")]
        learned = out["item_bias"].double().numpy()
        r = float(np.corrcoef(learned, item_bias)[0, 1]) if learned.std() > 0 else 0.0
        if not r > 0.8:
            return [Comparison(case.label, False, f"the correlation of the learned item biases with the planted ones "
                               f"is {r:.2f}, expected above 0.8: is item_bias looked up with the item ids (column 1 "
                               "of x), and added to the prediction?")]
        return [Comparison(case.label, True)]
    return expect


def trains_cases():
    """Trained briefly on planted ratings, DotProductBias beats the mean and recovers the planted item biases.

    60 steps of Adam (lr 0.1) in batches of 128, the last of one row."""
    (x, y), (x_valid, y_valid), item_bias = _planted()
    return each_device([Case("DotProductBias(60, 40, 5) after 60 steps of Adam (lr 0.1, batches of 128 and one of 1) "
                             "on a small planted ratings set",
                             {"args": [60, 40, 5], "x": x, "y": y, "x_valid": x_valid, "y_valid": y_valid,
                              "bs": 128, "steps": 60}, expect=_learns(item_bias))])
