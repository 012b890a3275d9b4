"""05_cross_entropy: the inputs each graded cell is checked on (the case grids) and their tolerance rule."""
import torch

from workbook.compare import TOLERANCES

from ...cases import FLOATS, Case, dtype_str, each_device, rand, randint, randn, shape_str

REDUCTIONS = ("mean", "sum", "none", None)  # None: reduction left out (the default, "mean")

# Logits: (label, scale, shift). exp overflows float32 above ~88 and float64 above ~709, and underflows to 0
# below about −103 and −745: the last three make an answer without the max trick give inf, nan or −inf.
MAGNITUDES = (("moderate logits", 1.0, 0.0), ("logits up to ±4e4", 1e4, 0.0),
              ("logits near +1e4", 10.0, 1e4), ("logits near −1e4", 10.0, -1e4))
# (shape, dim) for the functions that take `dim`: a batch of one, one class, 1-D, 3-D along each axis.
DIM_SHAPES = (((4, 5), -1), ((1, 3), -1), ((3, 1), -1), ((6,), 0), ((2, 3, 4), 1), ((2, 3, 4), 0))
# (B, C) for the losses: a batch of one, one class, more classes than rows.
LOSS_SHAPES = ((4, 5), (1, 3), (3, 1), (2, 10))


def tolerance(x: torch.Tensor) -> dict:
    """The notebook's one tolerance rule, for every case: the dtype's default, with an atol of 16 ulps of the
    inputs' largest magnitude (a correct answer's rounding of x − max grows with the logits)."""
    rtol, atol = TOLERANCES[x.dtype]
    big = float(x.abs().max()) if x.numel() else 0.0
    return {"rtol": rtol, "atol": max(atol, 16 * torch.finfo(x.dtype).eps * big)}


def logits_of(shape, magnitude, seed: int, dtype) -> torch.Tensor:
    _, scale, shift = magnitude
    return (randn(*shape, seed=seed, dtype=torch.float64, scale=scale) + shift).to(dtype)


def _reduced(reduction) -> str:
    return "reduction left out" if reduction is None else f"reduction={reduction!r}"


def bce_cases():
    """binary_cross_entropy(p, y, reduction) is −(y log p + (1 − y) log(1 − p)), natural log; gradient in p.

    Every reduction (and the default left out), hard and soft labels, shapes from 0-D to 3-D, both dtypes."""
    cases = []
    for i, shape in enumerate(((), (1,), (6,), (3, 4), (2, 3, 2))):
        for j, reduction in enumerate(REDUCTIONS):
            labels = ("hard labels", "soft labels")[(i + j) % 2]
            for dtype in FLOATS:
                p = torch.sigmoid(randn(*shape, seed=i, dtype=torch.float64, scale=2.0)).to(dtype)
                y = (randint(2, shape, seed=i + 10).to(dtype) if labels == "hard labels"
                     else rand(*shape, seed=i + 20, dtype=dtype))
                kwargs = {} if reduction is None else {"reduction": reduction}
                upstream = randn(*shape, seed=99, dtype=dtype) if reduction == "none" else None
                cases.append(Case(f"binary_cross_entropy(p, y, {_reduced(reduction)}) for p of shape "
                                  f"{shape_str(shape)} and {labels}, {dtype_str(dtype)}",
                                  {"fn": "binary_cross_entropy", "args": [p, y], "kwargs": kwargs, "grad": [0],
                                   "upstream": upstream}, tolerance=tolerance(p)))
    return each_device(cases)


def dim_cases(fn: str, keeps_shape: bool):
    """fn(x, dim) for every shape and dim, every magnitude and dtype, and fn(x) with dim left out (the last)."""
    def case(x, dim, label):
        out_shape = x.shape if keeps_shape else tuple(s for k, s in enumerate(x.shape) if k != (dim or -1) % x.dim())
        kwargs = {} if dim is None else {"dim": dim}
        call = f"{fn}(x)" if dim is None else f"{fn}(x, dim={dim})"
        return Case(f"{call} for {label} of shape {shape_str(x.shape)}, {dtype_str(x.dtype)}",
                    {"fn": fn, "args": [x], "kwargs": kwargs, "grad": [0],
                     "upstream": randn(*out_shape, seed=99, dtype=x.dtype)}, tolerance=tolerance(x))

    cases, seed = [], 0
    for shape, dim in DIM_SHAPES:
        for magnitude in MAGNITUDES:
            seed += 1
            cases += [case(logits_of(shape, magnitude, seed, dtype), dim, magnitude[0]) for dtype in FLOATS]
    for shape in ((4, 5), (2, 3, 4)):  # the default dim is the last: a changed default shows on these
        for magnitude in MAGNITUDES[:2]:
            seed += 1
            cases += [case(logits_of(shape, magnitude, seed, dtype), None, magnitude[0] + " (dim left out)")
                      for dtype in FLOATS]
    return each_device(cases)


def loss_cases(fn: str, kind: str = "loss"):
    """fn(x, target[, reduction]) for (B, C) inputs of every shape and magnitude, each reduction (and the default
    left out) across them, both dtypes. `kind`: "loss" (x: logits), "nll" (x: log-probabilities), "grad" (the
    gradient by hand: no reduction, no gradient taken)."""
    cases = []
    if kind == "loss":  # first, so that it is diagnosed: the log of softmax and no max trick both give inf here
        x = torch.tensor([[4e4, 0.0, -4e4], [-4e4, 4e4, 0.0]])
        cases.append(Case("cross_entropy(x, target) for logits of ±4e4 whose targets are not the largest: the loss "
                          "is 4e4, finite (its value)", {"fn": fn, "args": [x, torch.tensor([1, 2])], "grad": [0]},
                          keys=("y",), tolerance=tolerance(x)))
    for i, shape in enumerate(LOSS_SHAPES):
        for j, magnitude in enumerate(MAGNITUDES):
            target = randint(shape[1], shape[:1], seed=500 + 4 * i + j)
            reduction = REDUCTIONS[(i + j) % len(REDUCTIONS)]
            for dtype in FLOATS:
                x = logits_of(shape, magnitude, 4 * i + j, dtype)
                what = magnitude[0]
                if kind == "nll":
                    x, what = torch.log_softmax(x, dim=1), f"the log_softmax of {what}"
                inputs = {"fn": fn, "args": [x, target]}
                call = f"{fn}(x, target)"
                if kind != "grad":
                    inputs.update(grad=[0], kwargs={} if reduction is None else {"reduction": reduction},
                                  upstream=randn(shape[0], seed=99, dtype=dtype) if reduction == "none" else None)
                    call = f"{fn}(x, target, {_reduced(reduction)})"
                cases.append(Case(f"{call} for {what} of shape {shape_str(shape)}, {dtype_str(dtype)}", inputs,
                                  tolerance=tolerance(x)))
    return each_device(cases)
