"""03_weight_decay: L2 regularisation and weight decay. One declaration per graded cell, and the answers
a learner could write (correct alternatives and plausible mistakes).

The updates run on models built in the sandbox from a spec and a state the case carries (an nn.Linear
classifier, a small MLP, an embedding model; one with a frozen parameter), for several steps on batches
of uneven size, in float32 and float64, with `wd` given or left out. The reference `sgd_update` calls the
learner's `l2_penalty`, so a wrong penalty also costs `sgd_update_step`; `sgd_update_decoupled` needs no
penalty and is judged on its own (its parameters must equal the reference's, which equal sgd_update's).
"""
from ..cases import FLOATS, Case, dtype_str, each_device, randint, randn, shape_str
from ..exercise import Check, alternative, edits, mistake, question, swap, variants_of
from ..inside.scenarios.weight_decay import model_of

NOTEBOOK, REFERENCE = "03_weight_decay", "solutions.weight_decay"
LR = 0.1

# name → (model spec, loss, what the learner reads)
PROBLEMS = {
    "mlp": ({"kind": "mlp", "sizes": [4, 8, 1], "act": "tanh"}, "mse", "a Linear-Tanh-Linear net with nn.MSELoss()"),
    "linear": ({"kind": "linear", "n_in": 5, "n_out": 3}, "cross_entropy",
               "an nn.Linear(5, 3) classifier with F.cross_entropy"),
    "embedding": ({"kind": "embedding", "n": 10, "d": 3, "k": 2}, "l1",
                  "an embedding model with a hand-written L1 loss"),
}
BATCH_SIZES = (16, 16, 5)  # the last batch smaller, as a DataLoader's is


def state(spec: dict, seed: int) -> dict:
    """A state for `model_of(spec)` (float64, names and shapes of its state_dict), drawn from `seed`."""
    return {name: randn(*v.shape, seed=100 * seed + i, dtype=FLOATS[1], scale=0.5)
            for i, (name, v) in enumerate(model_of(spec).state_dict().items())}


def batches(kind: str, seed: int, dtype, n_steps: int = 3) -> list:
    """`n_steps` (x, y) batches for the problem `kind`, of the sizes of BATCH_SIZES, cycled."""
    spec, _, _ = PROBLEMS[kind]
    out = []
    for k in range(n_steps):
        b, s = BATCH_SIZES[k % len(BATCH_SIZES)], 1000 * seed + 10 * k
        if kind == "mlp":
            x, y = randn(b, spec["sizes"][0], seed=s, dtype=dtype), randn(b, 1, seed=s + 1, dtype=dtype)
        elif kind == "linear":
            x, y = randn(b, spec["n_in"], seed=s, dtype=dtype), randint(spec["n_out"], (b,), seed=s + 1)
        else:
            x, y = randint(spec["n"], (b, spec["k"]), seed=s), randn(b, seed=s + 1, dtype=dtype)
        out.append((x, y))
    return out


def update_cases(fn: str, equal_to_l2: bool = False):
    """Cases for `fn`: every problem in both dtypes with wd=0.1; wd left out; a frozen parameter; gradients
    that are zeros (not None) before the first step; ten steps."""
    def case(what, kind, seed, dtype, wd=0.1, n_steps=3, frozen=(), grads_before=None):
        spec, loss, label = PROBLEMS[kind]
        spec = {**spec, "frozen": list(frozen)} if frozen else spec
        inputs = {"fn": fn, "model": spec, "state": state(PROBLEMS[kind][0], seed),
                  "batches": batches(kind, seed, dtype, n_steps), "lr": LR, "wd": wd, "loss": loss,
                  "dtype": dtype_str(dtype), "grads_before": grads_before}
        wd_text = "wd left out (0)" if wd is None else f"wd={wd}"
        return Case(f"{fn} for {n_steps} steps on {label}, {dtype_str(dtype)}, lr={LR}, {wd_text}{what}", inputs)

    cases = [case("", kind, seed, dtype) for seed, kind in enumerate(PROBLEMS) for dtype in FLOATS]
    cases += [case("", "mlp", 3, FLOATS[1], wd=None),
              case(", the first layer's weight frozen (requires_grad=False: its .grad stays None)", "mlp", 4,
                   FLOATS[0], frozen=("0.weight",)),
              case(", every .grad zeros (not None) before the first step", "linear", 5, FLOATS[1],
                   grads_before="zeros"),
              case(" (equal to sgd_update's: for SGD, weight decay is L2 regularisation)" if equal_to_l2 else "",
                   "mlp", 6, FLOATS[1], n_steps=10)]
    return each_device(cases)


PARAM_SHAPES = (((3, 4),), ((5,), ()), ((2, 3), (1,), (2, 2, 2)))


def penalty_cases():
    """l2_penalty(params, wd) is wd * Σ p², a 0-dim tensor in the parameters' dtype, with gradient 2 * wd * p.

    The params come as a generator, as model.parameters() does; several seeds, shapes from 0-D, both dtypes,
    wd of 0.1, 1e-3 and 0, and the parameters of an nn.Linear."""
    cases = []
    for seed, shapes in enumerate(PARAM_SHAPES):
        for dtype in FLOATS:
            params = [randn(*s, seed=10 * seed + i, dtype=dtype) for i, s in enumerate(shapes)]
            for wd in (0.1, 1e-3, 0.0):
                what = ", ".join(shape_str(s) for s in shapes)
                cases.append(Case(f"l2_penalty of {len(shapes)} {dtype_str(dtype)} tensor{'s' * (len(shapes) > 1)} "
                                  f"of shapes {what} (a generator), wd={wd}",
                                  {"params": params, "wd": wd, "dtype": dtype_str(dtype)}))
    spec = PROBLEMS["linear"][0]
    for dtype in FLOATS:
        cases.append(Case(f"l2_penalty(model.parameters(), 0.01) for an nn.Linear(5, 3), {dtype_str(dtype)}",
                          {"model": spec, "state": state(spec, 7), "wd": 0.01, "dtype": dtype_str(dtype)}))
    return each_device(cases)


CHECKS = [
    Check("l2_penalty_values", 1, "l2_penalty", "weight_decay.penalty", penalty_cases),
    Check("sgd_update_step", 2, ("sgd_update", "l2_penalty"), "weight_decay.steps",
          lambda: update_cases("sgd_update"),
          doc="sgd_update takes the lesson's step on loss + wd * Σ w², returns that loss as a float, skips "
              "parameters without a gradient, and zeroes the gradients."),
    Check("sgd_update_decoupled_step", 2, "sgd_update_decoupled", "weight_decay.steps",
          lambda: update_cases("sgd_update_decoupled", equal_to_l2=True),
          doc="sgd_update_decoupled steps w -= lr * (grad + 2 * wd * w), returns the data loss as a float, and "
              "its parameters equal sgd_update's after any number of steps."),
    question("q_wd_gradient_answer", 1, "q_wd_gradient", 0.3,
             doc="q_wd_gradient is the gradient of the penalty wd * w**2 at w = 3 for wd = 0.05.",
             right={"written as 2 * wd * w": "2 * 0.05 * 3"},
             wrong={"the penalty's value instead of its gradient": "0.05 * 3 ** 2"}),
    question("q_adam_l2_answer", 1, "q_adam_l2", "b", choices=("a", "b", "c"),
             doc="q_adam_l2 names why Adam + L2 is not weight decay.",
             right={"a capital letter": '"B"'}, wrong={"Adam ignores the penalty": '"a"'}),
    question("q_fastai_wd_answer", 1, "q_fastai_wd", "c", choices=("a", "b", "c"),
             doc="q_fastai_wd names what fastai's wd=0.01 does to each weight at each step.",
             right={"with spaces": '" c "'}, wrong={"the lesson's wd * Σ w² (a step of 2 * lr * wd * w)": '"b"'}),
]

_UPDATE = '''
def {name}(model, loss_func, x, y, lr, wd=0.0):
    {forward}
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is None:
                continue
            {step}
            {zero}
    return {returns}.item()'''


def _sgd(step="p -= lr * p.grad", zero="p.grad.zero_()"):
    return _UPDATE.format(name="sgd_update", step=step, zero=zero, returns="loss",
                          forward="loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)")


def _decoupled(step="p -= lr * (p.grad + 2 * wd * p)", zero="p.grad = None", loss="data_loss",
               returns="loss"):
    return _UPDATE.format(name="sgd_update_decoupled", forward=f"data_loss = loss_func(model(x), y)\n    loss = {loss}",
                          step=step, zero=zero, returns=returns)


# l2_penalty as a one-liner, and both updates with the step under `if p.grad is not None:`: bases of mistakes.
_L2 = "def l2_penalty(params, wd):\n    return wd * sum((p ** 2).sum() for p in params)"
_GUARDED_SGD = '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= lr * p.grad
                p.grad.zero_()
    return loss.item()'''
_GUARDED_DECOUPLED = '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= lr * (p.grad + 2 * wd * p)
                p.grad = None
    return loss.item()'''
_SKIP = "            if p.grad is None:\n                continue\n"
_DECOUPLED_STEP = "                p -= lr * (p.grad + 2 * wd * p)\n                p.grad = None\n"


VARIANTS = [
    # ------------------------------------------------------------------ l2_penalty
    alternative("l2_penalty", "the lesson's loop from 0.", '''
def l2_penalty(params, wd):
    w2 = 0.
    for p in params:
        w2 += (p ** 2).sum()
    return w2 * wd'''),
    alternative("l2_penalty", "stacked squared norms", '''
def l2_penalty(params, wd):
    return wd * torch.stack([torch.linalg.vector_norm(p) ** 2 for p in params]).sum()'''),
    alternative("l2_penalty", "p.pow(2).sum() over a list", '''
def l2_penalty(params, wd):
    params = list(params)
    return wd * sum(p.pow(2).sum() for p in params)'''),
    *edits("l2_penalty", _L2, {
        "the L1 penalty wd * Σ|p|": ("(p ** 2).sum()", "p.abs().sum()"),
        "the norm wd * sqrt(Σ p²) instead of its square": (
            "wd * sum((p ** 2).sum() for p in params)", "wd * torch.sqrt(sum((p ** 2).sum() for p in params))"),
        "the mean of the squares instead of their sum": ("(p ** 2).sum()", "(p ** 2).mean()"),
        "leaving out wd": ("wd * sum", "sum"),
        "wd / 2 * Σ p² (PyTorch's weight_decay convention, not the lesson's)": ("wd * sum", "wd / 2 * sum"),
        "a penalty built from .item() (it has no gradient)": (
            "wd * sum((p ** 2).sum() for p in params)",
            "torch.tensor(wd * sum((p ** 2).sum().item() for p in params))"),
    }, also=("sgd_update_step",)),
    mistake("l2_penalty", "going through the generator twice (the second pass sees nothing)", "\n" + swap(
        _L2, "    return", "    if sum(1 for _ in params) == 0:\n        return torch.tensor(0.0)\n    return"),
            also=("sgd_update_step",)),

    # ------------------------------------------------------------------ sgd_update
    alternative("sgd_update", "the lesson's p.sub_ and p.grad.zero_()", _sgd("p.sub_(lr * p.grad)")),
    alternative("sgd_update", "p.data outside no_grad, then model.zero_grad()", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            p.data -= lr * p.grad.data
    model.zero_grad(set_to_none=True)
    return float(loss)'''),
    alternative("sgd_update", "a plain torch.optim.SGD made in the call", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()'''),
    alternative("sgd_update", "torch.autograd.grad (no .grad kept)", '''
def sgd_update(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y) + wd * sum((p ** 2).sum() for p in model.parameters())
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.copy_(p - lr * g)
    return loss.item()'''),
    mistake("sgd_update", "not zeroing the gradients after the step (they add up over the steps)",
            _sgd(zero="pass")),
    *edits("sgd_update", _GUARDED_SGD, {
        "zeroing the gradients before the backward pass, which leaves them behind": (
            "    loss = loss_func", "    model.zero_grad()\n    loss = loss_func",
            "                p.grad.zero_()\n", ""),
        "returning the data loss without the penalty": (
            "    loss = loss_func(model(x), y) + l2_penalty(model.parameters(), wd)\n    loss.backward()",
            "    data_loss = loss_func(model(x), y)\n"
            "    (data_loss + l2_penalty(model.parameters(), wd)).backward()",
            "return loss.item()", "return data_loss.item()"),
        "subtracting the penalty from the loss instead of adding it": (") + l2_penalty", ") - l2_penalty"),
    }),
    mistake("sgd_update", "returning the loss tensor instead of a Python float (loss.item())",
            _sgd().replace("return loss.item()", "return loss")),
    mistake("sgd_update", "decaying twice: the penalty in the loss and 2 * wd * p in the step too",
            _sgd("p -= lr * (p.grad + 2 * wd * p)")),
    mistake("sgd_update", "rebinding `p = p - ...`, which leaves the parameters unchanged (update them in place)",
            _sgd("p = p - lr * p.grad", zero="model.zero_grad()")),
    mistake("sgd_update", "a default wd of 0.1 instead of 0.0",
            _sgd().replace("wd=0.0", "wd=0.1")),
    mistake("sgd_update", "the step outside torch.no_grad() (an in-place change of a leaf that requires grad)", swap(
        _sgd(), "    with torch.no_grad():\n        for p in model.parameters():\n" + _SKIP,
        "    for p in model.parameters():\n        if p.grad is not None:\n")),
    mistake("sgd_update", "stepping parameters without a gradient (a frozen parameter's .grad is None)",
            swap(_sgd("p.sub_(lr * p.grad)"), _SKIP, "")),

    # ------------------------------------------------------------------ sgd_update_decoupled
    alternative("sgd_update_decoupled", "the lesson's style, p.sub_ and p.grad.zero_()",
                _decoupled("p.sub_(lr * (p.grad + 2 * wd * p))", "p.grad.zero_()")),
    alternative("sgd_update_decoupled", "shrink the weights, then step", swap(swap(
        _GUARDED_DECOUPLED, _DECOUPLED_STEP, "                p.mul_(1 - 2 * lr * wd)\n                p.add_(p.grad, alpha=-lr)\n"),
        "    return", "    model.zero_grad()\n    return")),
    alternative("sgd_update_decoupled", "the decay added to p.grad, then a plain step", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    loss = loss_func(model(x), y)
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            p.grad.data.add_(p.data, alpha=2 * wd)
            p.data.add_(p.grad.data, alpha=-lr)
            p.grad = None
    return loss.item()'''),
    alternative("sgd_update_decoupled", "torch.optim.SGD(weight_decay=2 * wd) made in the call", '''
def sgd_update_decoupled(model, loss_func, x, y, lr, wd=0.0):
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=2 * wd)
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()'''),
    mistake("sgd_update_decoupled", "not zeroing the gradients after the step (they add up over the steps)",
            _decoupled(zero="pass")),
    mistake("sgd_update_decoupled", "`wd * p` instead of `2 * wd * p` in the step (the gradient of wd * p² is 2 * wd * p)",
            _decoupled("p -= lr * (p.grad + wd * p)")),
    mistake("sgd_update_decoupled", "`p -= lr * p.grad + 2 * wd * p`, without lr on the decay term",
            _decoupled("p -= lr * p.grad + 2 * wd * p")),
    mistake("sgd_update_decoupled", "adding the decay `2 * wd * p` to the weights instead of subtracting it",
            _decoupled("p -= lr * (p.grad - 2 * wd * p)")),
    mistake("sgd_update_decoupled", "decaying twice: the penalty in the loss as well as 2 * wd * p in the step",
            _decoupled(loss="data_loss + l2_penalty(model.parameters(), wd)", returns="data_loss")),
    mistake("sgd_update_decoupled", "returning the loss with the penalty added (that is sgd_update's loss)",
            swap(_GUARDED_DECOUPLED, "return loss.item()", "return (loss + l2_penalty(model.parameters(), wd)).item()")),
    mistake("sgd_update_decoupled", "rebinding `p = p - ...`, which leaves the parameters unchanged (update them in place)",
            _decoupled("p = p - lr * (p.grad + 2 * wd * p)", zero="model.zero_grad()")),
    mistake("sgd_update_decoupled", "shrinking the weights before the forward pass (the gradient is then taken at "
            "the shrunk weights)", swap(swap(
        _GUARDED_DECOUPLED, "    loss = loss_func", "    with torch.no_grad():\n        for p in model.parameters():\n"
        "            if p.requires_grad:\n                p.mul_(1 - 2 * lr * wd)\n    loss = loss_func"),
        "p -= lr * (p.grad + 2 * wd * p)", "p -= lr * p.grad")),
    mistake("sgd_update_decoupled", "stepping parameters without a gradient (a frozen parameter's .grad is None)", swap(
        _GUARDED_DECOUPLED, "            if p.grad is not None:\n" + _DECOUPLED_STEP,
        "            p -= lr * (p.grad + 2 * wd * p)\n            p.grad = None\n")),
] + variants_of(CHECKS)
