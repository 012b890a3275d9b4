"""07_fine_tuning: the models the graded cells are checked on (as descriptions and seeded state_dicts) and
the inputs of each graded cell (the case grids)."""
import math

import torch

from ...cases import FLOATS, SEEDS, Case, dtype_str, each_device, randint, randn
from ...inside.scenarios.fine_tuning import make

FT = "fine_tune_matches_fastai"  # runs the learner's freeze, unfreeze, param_groups and lr_groups too

# Model descriptions: a plain stack, a hand-written class with a two-layer body, a deep stack, nesting,
# a stack ending in an activation, a bias-free layer, a model that is one nn.Linear.
STACK = ["seq", [["linear", 4, 8], ["relu"], ["linear", 8, 6], ["relu"], ["linear", 6, 3]]]
NET = ["net", {"body": ["seq", [["linear", 4, 6], ["tanh"], ["linear", 6, 6], ["relu"]]],
               "mid": ["seq", [["linear", 6, 5], ["relu"]]], "head": ["linear", 5, 3]}]
DEEP = ["seq", [["linear", 3, 5], ["relu"], ["linear", 5, 5], ["relu"], ["linear", 5, 4], ["relu"], ["linear", 4, 2]]]
NESTED = ["seq", [["linear", 4, 6], ["relu"], ["seq", [["linear", 6, 5], ["relu"], ["linear", 5, 3]]]]]
TWO = ["seq", [["seq", [["linear", 4, 6, False], ["relu"]]], ["linear", 6, 3]]]
ACTIVATED = ["seq", [["linear", 4, 6], ["relu"], ["linear", 6, 3], ["tanh"]]]
WIDE = ["seq", [["linear", 8, 64], ["relu"], ["linear", 64, 10]]]
SINGLE = ["linear", 4, 3]


def state(spec, seed: int, dtype=torch.float32) -> dict:
    """A state_dict for the described model: each tensor drawn from N(0, 1/fan_in) with its own seed."""
    shapes = {n: t.shape for n, t in make(spec).state_dict().items()}
    return {n: randn(*shape, seed=100 * seed + i, dtype=dtype, scale=1 / math.sqrt(shape[-1]))
            for i, (n, shape) in enumerate(shapes.items())}


def d_in(spec) -> int:
    """The number of inputs of a described model."""
    while spec[0] != "linear":
        spec = spec[1][0] if spec[0] == "seq" else next(iter(spec[1].values()))
    return spec[1]


def freeze_cases(fn: str):
    """The shared grid of freeze and unfreeze: every kind of submodule, both dtypes, every device."""
    targets = [(STACK, "0", ()), (STACK, "", ()), (NET, "body", ()), (NET, "body", ("body.0.weight",)),
               (NET, "head", ()), (NESTED, "2", ()), (TWO, "", ())]
    cases = []
    for i, (spec, target, frozen) in enumerate(targets):
        for dtype in FLOATS:
            seed = SEEDS[i % len(SEEDS)]
            n_out = list(make(spec).state_dict().values())[-1].shape[0]
            inputs = {"fn": fn, "spec": spec, "state": state(spec, seed, dtype), "target": target,
                      "x": randn(5, d_in(spec), seed=seed, dtype=dtype), "y": randn(5, n_out, seed=10 + seed, dtype=dtype),
                      "dtype": dtype_str(dtype), "frozen": list(frozen) if fn == "freeze" else []}
            where = f"model.{target}" if target else "the whole model"
            also = f" ({', '.join(frozen)} already frozen)" if frozen and fn == "freeze" else ""
            kind = "frozen model" if fn == "unfreeze" else "model"
            cases.append(Case(f"{fn}({where}) of a {dtype_str(dtype)} {kind} {_name(spec)}{also}", inputs))
    return each_device(cases)


def _name(spec) -> str:
    return {id(STACK): "Sequential(Linear, ReLU, Linear, ReLU, Linear)",
            id(NET): "with submodules body (2 Linear), mid and head", id(DEEP): "of 4 Linear layers",
            id(NESTED): "with its head in a nested Sequential", id(TWO): "Sequential(Sequential(Linear), Linear)",
            id(ACTIVATED): "ending in Tanh after its last Linear", id(WIDE): "Sequential(Linear(8, 64), ReLU, "
            "Linear(64, 10))", id(SINGLE): "that is one Linear"}.get(id(spec), "")


def freeze_check_cases():
    """freeze(module) turns requires_grad off for every parameter of the module (nested ones too) and no other,
    returns the module, and Adam then leaves those parameters exactly as they were."""
    return freeze_cases("freeze")


def unfreeze_check_cases():
    """unfreeze(module) turns requires_grad back on for every parameter of the module (nested ones and biases
    too) and no other, and returns the module; Adam then trains them."""
    return freeze_cases("unfreeze")


def head_cases():
    """replace_head(model, n_out) puts a fresh nn.Linear(in_features, n_out) (PyTorch's default init, the old
    head's dtype and device) in place of the last nn.Linear; every other submodule stays the same object."""
    grid = [(STACK, 5), (STACK, 3), (NET, 7), (NESTED, 2), (ACTIVATED, 4), (WIDE, 7), (TWO, 1)]
    cases = []
    for i, (spec, n_out) in enumerate(grid):
        for dtype in FLOATS:
            seed = SEEDS[i % len(SEEDS)]
            inputs = {"spec": spec, "state": state(spec, seed, dtype), "n_out": n_out,
                      "x": randn(5, d_in(spec), seed=seed, dtype=dtype), "dtype": dtype_str(dtype)}
            cases.append(Case(f"replace_head(model, {n_out}) of a {dtype_str(dtype)} model {_name(spec)}", inputs))
    return each_device(cases)


def groups_cases():
    """param_groups(groups, lr, div) gives one dict per module, body first, holding exactly its parameters and
    the lr of lr_groups(lr, len(groups), div), for a float lr, slice(hi) and slice(lo, hi), div given or not."""
    grid = [(STACK, ["0", "2", "4"], 1e-3, None), (STACK, ["0", "2", "4"], slice(None, 1e-3), None),
            (STACK, ["0", "2", "4"], slice(1e-5, 1e-3), None), (NET, ["body", "mid", "head"], slice(None, 3e-2), 10.0),
            (NET, ["body", "mid", "head"], slice(2e-6, 2e-2), 10.0), (DEEP, ["0", "2", "4", "6"], slice(3e-6, 3e-3), None),
            (DEEP, ["0", "2", "4", "6"], slice(None, 0.1), 2.0), (TWO, ["0", "1"], slice(1e-4, 1e-2), None),
            (TWO, ["0", "1"], 0.05, 5.0), (SINGLE, [""], slice(1e-5, 1e-3), None), (SINGLE, [""], slice(None, 4e-3), None)]
    cases = []
    for i, (spec, names, lr, div) in enumerate(grid):
        seed = SEEDS[i % len(SEEDS)]
        inputs = {"spec": spec, "state": state(spec, seed), "names": names, "lr": lr}
        shown = f"slice({lr.start}, {lr.stop})" if isinstance(lr, slice) and lr.start else \
            f"slice({lr.stop})" if isinstance(lr, slice) else f"{lr}"
        if div is not None:
            inputs["div"] = div
        where = ", ".join(f"model.{n}" if n else "model" for n in names)
        cases.append(Case(f"param_groups([{where}], {shown}{f', div={div}' if div is not None else ''})", inputs))
    return each_device(cases)


def fine_tune_cases():
    """fine_tune trains the head alone (the body exactly unchanged) for freeze_epochs with one-cycle at base_lr,
    then every group with one-cycle at slice(base_lr/200, base_lr/2): losses, lrs and betas of every group at
    every step, and the weights after each phase equal fastai's recipe with torch.optim.Adam and OneCycleLR."""
    grid = [  # spec, groups, loss, batch sizes, as a DataLoader, epochs, base_lr, freeze_epochs
        (STACK, ["0", "2", "4"], "cross_entropy", [4, 4, 2], False, 2, 1e-2, None),
        (STACK, ["0", "2", "4"], "cross_entropy", [4, 4, 2], True, 1, 3e-2, 2),
        (NET, ["body", "mid", "head"], "cross_entropy", [3, 3, 3], False, 2, 2e-2, None),
        (NET, ["body", "mid", "head"], "mse", [5, 5], True, 3, 1e-2, 1),
        (DEEP, ["0", "2", "4", "6"], "mse", [4, 2, 4], False, 2, 5e-2, 2),
        (TWO, ["0", "1"], "cross_entropy", [6, 6, 6, 2], True, 1, 1e-2, None),
        (SINGLE, [""], "cross_entropy", [4, 4], False, 2, 1e-2, 1),
    ]
    cases = []
    for i, (spec, names, loss, sizes, loader, epochs, base_lr, freeze_epochs) in enumerate(grid):
        for dtype in FLOATS:
            seed = SEEDS[i % len(SEEDS)]
            n = sum(sizes)
            n_out = list(make(spec).state_dict().values())[-1].shape[0]
            y = randint(n_out, (n,), seed=20 + seed) if loss == "cross_entropy" else \
                randn(n, n_out, seed=20 + seed, dtype=dtype)
            inputs = {"spec": spec, "state": state(spec, seed, dtype), "names": names,
                      "x": randn(n, d_in(spec), seed=seed, dtype=dtype), "y": y, "batch_sizes": sizes,
                      "loader": loader, "loss": loss, "epochs": epochs, "base_lr": base_lr, "dtype": dtype_str(dtype)}
            if freeze_epochs is not None:
                inputs["freeze_epochs"] = freeze_epochs
            batches = f"a DataLoader of batches {sizes}" if loader else f"a list of batches {sizes}"
            cases.append(Case(f"fine_tune of a {dtype_str(dtype)} model {_name(spec)}, {len(names)} group(s), "
                              f"{batches}, {loss}, epochs={epochs}, base_lr={base_lr}"
                              f"{f', freeze_epochs={freeze_epochs}' if freeze_epochs is not None else ''}", inputs))
    return each_device(cases)
