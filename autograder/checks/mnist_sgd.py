"""Hidden tests for 06_mnist_sgd: each function is one graded cell, checking one behaviour.

The models are checked by copying their weights into the reference (same `state_dict` keys)
and comparing outputs and gradients; `update`, `fit` and `accuracy` are run on stand-in
models defined here (any `nn.Module` must do), against the reference run from the same
weights on the same batches.
"""
import contextlib
import copy
import functools
import itertools

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from solutions import mnist_sgd as ref

from ..cases import FLOAT_DTYPES, SEEDS, devices, generator, randint, randn
from ..report import Question

SOFTMAX_IN_MODEL = "a softmax inside the model (nn.CrossEntropyLoss applies log-softmax itself: return the raw scores)"
LOG_SOFTMAX_IN_MODEL = "a log-softmax inside the model (nn.CrossEntropyLoss applies it itself: return the raw scores)"
NEW_OPTIMIZER = ("update makes a new optimizer each step, which resets Adam's state (its step count and running "
                 "averages; SGD's momentum too) at every call")
USE_OPT = "call opt.step() on the `opt` passed in, made once, outside update"


def _one_thread(check):
    """Run `check` on one CPU thread: its models are tiny, and a thread pool only adds waiting (a lot of it
    on a busy machine). The setting is restored afterwards."""
    @functools.wraps(check)
    def run(*args, **kwargs):
        with contextlib.ExitStack() as stack:
            n = torch.get_num_threads()
            stack.callback(torch.set_num_threads, n)
            torch.set_num_threads(1)
            return check(*args, **kwargs)
    return run


# ---------------------------------------------------------------------------- stand-in models

class _Net(nn.Module):
    """A one-hidden-layer network that is not the learner's: update and fit must work on any model."""

    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.out = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x)))  # (B, n_out)


class _Scores(nn.Module):
    """Fixed linear scores that come out negated in training mode, as dropout changes a model's output there."""

    def __init__(self, n_in, n_out, seed):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)
        with torch.no_grad():
            self.lin.weight.copy_(randn(n_out, n_in, seed=seed))
            self.lin.bias.zero_()

    def forward(self, x):
        y_hat = self.lin(x)  # (B, n_out)
        return -y_hat if self.training else y_hat


def _net(n_in, n_hidden, n_out, seed, device, dtype=torch.float32):
    torch.manual_seed(seed)
    return _Net(n_in, n_hidden, n_out).to(device, dtype)


def _flat(params) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


# ---------------------------------------------------------------------------- the two models

def _check_model(q, Model, Reference, label, args, names, x, seed):
    """Build Model(*args), copy its weights into Reference(*args), and compare outputs and gradients on x."""
    what = f"{label}{args} on a {tuple(x.shape)} {str(x.dtype)[6:]} input on {x.device.type}"
    with q.check(what):
        torch.manual_seed(seed)
        model = q.call(Model, *args)
        keys = list(model.state_dict())
        assert sorted(keys) == sorted(names), (
            f"{label}{args} has the parameters {keys}, expected {names} "
            f"(attribute names as in the lesson, nn.Linear layers with a bias)")
        reference = Reference(*args)
        shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
        expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
        assert shapes == expected, f"{label}{args} has parameters of shapes {shapes}, expected {expected}"
        reference.load_state_dict(model.state_dict())
        model.to(x.device, x.dtype)
        reference.to(x.device, x.dtype)
        y = q.call(model, x.clone())
        y_ref = reference(x)
        mistakes = {SOFTMAX_IN_MODEL: F.softmax(y_ref, dim=-1), LOG_SOFTMAX_IN_MODEL: F.log_softmax(y_ref, dim=-1)}
        if isinstance(reference, ref.MnistNN):
            pre = reference.lin1(x)
            mistakes.update({
                "no ReLU between lin1 and lin2": reference.lin2(pre),
                "a sigmoid instead of a ReLU between the layers": reference.lin2(torch.sigmoid(pre)),
                "a ReLU after lin2 as well (the scores must be able to go negative)": F.relu(y_ref),
            })
        q.compare(f"{what}: the output", y, y_ref, mistakes=mistakes, rtol=1e-5, atol=1e-6)
        g = randn(*y_ref.shape, seed=seed + 100, dtype=x.dtype, device=x.device)
        if not (isinstance(y, torch.Tensor) and y.requires_grad):
            raise AssertionError(f"{what}: the output has no gradient: don't detach it or use torch.no_grad() "
                                 "in forward")
        (y * g).sum().backward()
        (y_ref * g).sum().backward()
        theirs = dict(model.named_parameters())
        for name, p in reference.named_parameters():
            q.compare(f"{what}: the gradient of {name}", theirs[name].grad, p.grad, rtol=1e-5, atol=1e-6)


def _check_layer(q, model, name, in_features, out_features, call):
    with q.check(f"{call}.{name} is nn.Linear({in_features}, {out_features})"):
        layer = getattr(model, name, None)
        assert isinstance(layer, nn.Linear), (
            f"{call}.{name} is {type(layer).__name__ if layer is not None else 'missing'}, expected an nn.Linear "
            f"stored as self.{name}")
        got = (layer.in_features, layer.out_features, layer.bias is not None)
        assert got == (in_features, out_features, True), (
            f"{call}.{name} is nn.Linear({layer.in_features}, {layer.out_features}"
            f"{', bias=False' if layer.bias is None else ''}), expected nn.Linear({in_features}, {out_features}) "
            "with a bias")


@_one_thread
def mnist_logistic_architecture(MnistLogistic):
    """MnistLogistic(n_in=784, n_out=10) is one nn.Linear `lin` returning raw scores: outputs and gradients."""
    with Question("MnistLogistic") as q:
        model = q.call(MnistLogistic)
        _check_layer(q, model, "lin", 784, 10, "MnistLogistic()")
        custom = q.call(MnistLogistic, n_in=64, n_out=7)
        _check_layer(q, custom, "lin", 64, 7, "MnistLogistic(n_in=64, n_out=7)")
        names = ["lin.weight", "lin.bias"]
        sizes = ((784, 10, 5), (64, 10, 1), (13, 3, 7))  # (n_in, n_out, batch)
        for seed in SEEDS:
            for (n_i, n_o, b) in (sizes[seed], (20 + seed, 4, 9)):
                for dtype in FLOAT_DTYPES:
                    for device in devices():
                        x = randn(b, n_i, seed=seed, dtype=dtype, device=device)
                        _check_model(q, MnistLogistic, ref.MnistLogistic, "MnistLogistic", (n_i, n_o), names, x,
                                     seed)


@_one_thread
def mnist_nn_architecture(MnistNN):
    """MnistNN(n_in=784, n_hidden=50, n_out=10) is lin1, ReLU, lin2: outputs and gradients."""
    with Question("MnistNN") as q:
        model = q.call(MnistNN)
        _check_layer(q, model, "lin1", 784, 50, "MnistNN()")
        _check_layer(q, model, "lin2", 50, 10, "MnistNN()")
        custom = q.call(MnistNN, n_in=64, n_hidden=20, n_out=7)
        _check_layer(q, custom, "lin1", 64, 20, "MnistNN(n_in=64, n_hidden=20, n_out=7)")
        _check_layer(q, custom, "lin2", 20, 7, "MnistNN(n_in=64, n_hidden=20, n_out=7)")
        names = ["lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias"]
        sizes = ((784, 50, 10, 5), (64, 32, 10, 1), (13, 8, 3, 7))  # (n_in, n_hidden, n_out, batch)
        for seed in SEEDS:
            for (n_i, n_h, n_o, b) in (sizes[seed], (20 + seed, 6, 4, 9)):
                for dtype in FLOAT_DTYPES:
                    for device in devices():
                        x = randn(b, n_i, seed=seed, dtype=dtype, device=device)
                        _check_model(q, MnistNN, ref.MnistNN, "MnistNN", (n_i, n_h, n_o), names, x, seed)


# ---------------------------------------------------------------------------- update

OPTIMIZERS = {
    "SGD(lr=0.1)": lambda ps: torch.optim.SGD(ps, lr=0.1),
    "SGD(lr=0.05, momentum=0.9)": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    "Adam(lr=0.01)": lambda ps: torch.optim.Adam(ps, lr=0.01),
}
N_STEPS = 4


def _batches(n_in, n_out, seed, device, dtype, n=N_STEPS, batch=16):
    return [(randn(batch, n_in, seed=seed * 10 + i, dtype=dtype, device=device),
             randint(n_out, (batch,), seed=seed * 10 + i, device=device)) for i in range(n)]


def _trajectory(model, make_opt, loss_func, batches, mistake=None):
    """Losses and flattened parameters after each step of the right update, or of one known mistake."""
    model = copy.deepcopy(model)
    opt = make_opt(model.parameters())
    losses, params = [], []
    for x, y in batches:
        if mistake is None:
            losses.append(ref.update(model, opt, loss_func, x, y))
        else:
            if mistake == "new optimizer":
                opt = make_opt(model.parameters())
            loss = loss_func(model(x), y)
            loss.backward()
            if mistake == "zero_grad before step":
                opt.zero_grad()
            opt.step()
            if mistake == "new optimizer":
                opt.zero_grad()
            losses.append(loss.item())
        params.append(_flat(model.parameters()))
    return losses, params, opt, model


def _state_value(v):
    return v.detach().double().cpu() if isinstance(v, torch.Tensor) else torch.tensor(float(v), dtype=torch.float64)


@_one_thread
def update_step(update):
    """update(model, opt, loss_func, x, y) takes one step of the given opt and returns the loss as a float."""
    with Question("update") as q:
        for i, (name, dtype) in enumerate(itertools.product(OPTIMIZERS, FLOAT_DTYPES)):
            seed = SEEDS[i % len(SEEDS)]
            smoothing = 0.1 if seed == 2 else 0.0  # a loss other than the default: update must use loss_func
            loss_func = nn.CrossEntropyLoss(label_smoothing=smoothing)
            loss_name = f"nn.CrossEntropyLoss({'label_smoothing=0.1' if smoothing else ''})"
            for device in devices():
                model = _net(12, 8, 5, seed, device, dtype)
                batches = _batches(12, 5, seed, device, dtype)
                _check_update(q, update, model, name, OPTIMIZERS[name], loss_func, loss_name, batches)


def _check_update(q, update, model, opt_name, make_opt, loss_func, loss_name, batches):
    what = (f"{N_STEPS} calls of update(model, opt={opt_name}, {loss_name}, x, y) on "
            f"{str(batches[0][0].dtype)[6:]} batches on {batches[0][0].device.type}")
    with q.check(what):
        losses, params, ref_opt, ref_model = _trajectory(model, make_opt, loss_func, batches)
        wrong = {m: _trajectory(model, make_opt, loss_func, batches, m)[:2]
                 for m in ("no zero_grad", "zero_grad before step", "new optimizer")}
        model = copy.deepcopy(model)
        opt = make_opt(model.parameters())
        steps = []
        opt.register_step_post_hook(lambda *_: steps.append(1))
        for i, (x, y) in enumerate(batches):
            n = i + 1
            after = f"after {n} call{'s' if n > 1 else ''}"
            before = _flat(model.parameters())
            loss = q.call(update, model, opt, loss_func, x.clone(), y.clone())
            q.compare(f"the loss update returned at call {n}", loss, losses[i],
                      mistakes={"not zeroing the gradients (they add up from step to step)":
                                wrong["no zero_grad"][0][i]}, rtol=1e-5, atol=1e-6)
            if not steps:
                moved = not torch.equal(_flat(model.parameters()), before)
                raise AssertionError(f"{after}, the optimizer passed in has taken no step" + (
                    f", yet the parameters changed: {NEW_OPTIMIZER}, or steps the parameters by hand. {USE_OPT}"
                    if moved else
                    ": call opt.step() after loss.backward()"))
            if len(steps) != n:
                raise AssertionError(f"{after}, the optimizer passed in took {len(steps)} steps: call opt.step() "
                                     "once per update")
            mistakes = {
                "calling opt.zero_grad() before opt.step() (the step then finds no gradient)":
                    wrong["zero_grad before step"][1][i],
                "forgetting opt.zero_grad() (the gradients add up from step to step)": wrong["no zero_grad"][1][i],
                f"making a new {opt_name.split('(')[0]} at every call ({NEW_OPTIMIZER}: {USE_OPT})":
                    wrong["new optimizer"][1][i],
            }
            q.compare(f"the parameters {after} (all of them, flattened)", _flat(model.parameters()), params[i],
                      mistakes=mistakes, rtol=1e-5, atol=1e-6)
            stale = [name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
            if stale:
                raise AssertionError(
                    f"{after}, the gradients of {', '.join(stale)} are not zero: call opt.zero_grad() after "
                    "opt.step(), or the next backward() adds its gradients to these (they accumulate)")
        _check_state(opt, ref_opt, model, ref_model, len(batches), opt_name)


def _check_state(opt, ref_opt, model, ref_model, n, opt_name):
    """The optimizer passed in holds the same state as the reference's: it, and only it, took every step."""
    for (name, p), p_ref in zip(model.named_parameters(), ref_model.parameters()):
        expected = ref_opt.state.get(p_ref, {})
        got = opt.state.get(p, {})
        for key, value in expected.items():
            if key not in got:
                raise AssertionError(
                    f"after {n} calls the {opt_name} passed in has no '{key}' for {name} in opt.state (it never "
                    f"stepped): {NEW_OPTIMIZER}? {USE_OPT}")
            if not torch.allclose(_state_value(got[key]), _state_value(value), rtol=1e-4, atol=1e-7):
                raise AssertionError(
                    f"after {n} calls the {opt_name} passed in has opt.state[{name}]['{key}'] different from "
                    f"{n} steps of the same optimizer: {NEW_OPTIMIZER}? {USE_OPT}" if key == "step" else
                    f"after {n} calls opt.state[{name}]['{key}'] differs from the reference's: is opt.step() "
                    "called exactly once per update?")


# ---------------------------------------------------------------------------- fit

def _loader(x, y, batch_size, seed, shuffle=True, fast=True):
    """Batches in an order fixed by `seed`: the learner's run and the reference's see the same ones.

    Each pass's permutation comes from the sampler's own generator, drawn when the pass yields its
    first batch, so iterators made and never used (`tqdm(train_dl)` makes one) change nothing.
    `fast` indexes a whole batch at once (a BatchSampler) rather than one example at a time: the
    same batches, with far fewer calls for the grader's call watch to look at.
    """
    ds = TensorDataset(x, y)
    sampler = RandomSampler(ds, generator=generator(seed)) if shuffle else SequentialSampler(ds)
    if fast:
        return DataLoader(ds, sampler=BatchSampler(sampler, batch_size, drop_last=False), batch_size=None)
    return DataLoader(ds, sampler=sampler, batch_size=batch_size)


def _reference_fit(model, opt, loss_func, dl, epochs):
    """The reference fit without its progress bar (which would show in the graded cell)."""
    device = next(model.parameters()).device
    model.train()
    return [ref.update(model, opt, loss_func, x.to(device), y.to(device)) for _ in range(epochs) for x, y in dl]


@_one_thread
def fit_losses(fit):
    """fit(model, opt, loss_func, train_dl, epochs) returns each batch's loss, as the reference does from one start."""
    with Question("fit") as q:
        # (seed, optimizer, epochs, a DataLoader of single examples rather than of whole batches)
        for seed, name, epochs, fast in ((0, "SGD(lr=0.1)", 1, True), (1, "Adam(lr=0.01)", 3, True),
                                         (2, "SGD(lr=0.05, momentum=0.9)", 2, False)):
            for device in devices():
                n, batch_size = 50 + 7 * seed, 16  # the last batch is smaller
                x, y = randn(n, 12, seed=seed), randint(5, (n,), seed=seed)
                model = _net(12, 8, 5, seed, device)
                loss_func = nn.CrossEntropyLoss()
                what = (f"fit(model on {device.type}, {name}, nn.CrossEntropyLoss(), a DataLoader of "
                        f"{n} examples in batches of {batch_size}, epochs={epochs})")
                with q.check(what):
                    theirs = copy.deepcopy(model)
                    opt = OPTIMIZERS[name](theirs.parameters())
                    dl = _loader(x, y, batch_size, seed, fast=fast)
                    losses = q.call(fit, theirs, opt, loss_func, dl, epochs)
                    ref_opt = OPTIMIZERS[name](model.parameters())
                    expected = _reference_fit(model, ref_opt, loss_func, _loader(x, y, batch_size, seed, fast=fast),
                                              epochs)
                    _compare_losses(q, what, losses, expected, len(dl), epochs)
                    q.compare(f"{what}: the parameters afterwards", _flat(theirs.parameters()),
                              _flat(model.parameters()), rtol=1e-5, atol=1e-6)


def _compare_losses(q, what, losses, expected, n_batches, epochs):
    if not isinstance(losses, (list, tuple)):
        raise AssertionError(f"{what} returned {type(losses).__name__}, expected a list of floats, one per batch")
    if len(losses) != len(expected):
        hint = ""
        if len(losses) == epochs:
            hint = " That is one per epoch: append each batch's loss instead."
        elif len(losses) == n_batches:
            hint = " That is one epoch's worth: keep the losses of every epoch (make the list before the epoch loop)."
        raise AssertionError(f"{what} returned {len(losses)} loss{'es' if len(losses) != 1 else ''}, expected "
                             f"len(train_dl) * epochs = "
                             f"{n_batches} * {epochs} = {len(expected)}, one per batch.{hint}")
    for i, v in enumerate(losses):
        if not isinstance(v, (float, int)) or isinstance(v, bool):
            kind = type(v).__name__ + (" (call .item() on the loss)" if isinstance(v, torch.Tensor) else "")
            raise AssertionError(f"{what}: loss {i} is a {kind}, expected a Python float")
    try:
        q.compare(f"{what}: the losses it returned", torch.tensor(losses, dtype=torch.float64),
                  torch.tensor(expected, dtype=torch.float64), rtol=1e-5, atol=1e-6)
    except AssertionError as exc:
        raise AssertionError(f"{exc} (fit calls your update: do its tests pass? Does fit step the opt it is "
                             "given, once per batch, in the DataLoader's order?)") from None


# ---------------------------------------------------------------------------- accuracy

def _accuracy(model, dl, per_batch=False, mode="eval", dim=1):
    """The reference accuracy, or what a known mistake gives (None when that mistake would raise)."""
    device = next(model.parameters()).device
    was_training = model.training
    model.train(mode == "train")
    scores = []
    with torch.no_grad():
        for x, y in dl:
            y_hat = model(x.to(device))
            pred = y_hat.argmax(dim)
            if pred.shape != y.shape:
                model.train(was_training)
                return None
            scores.append(((pred == y.to(device)).sum().item(), len(y)))
    model.train(was_training)
    if per_batch:
        return sum(c / n for c, n in scores) / len(scores)
    return sum(c for c, _ in scores) / sum(n for _, n in scores)


def _accuracy_data(n, n_in, n_out, seed, model):
    """Inputs and labels for which `model` (in eval mode) is right about 60% of the time."""
    x = randn(n, n_in, seed=seed)
    with torch.no_grad():
        model.eval()
        pred = model(x).argmax(1)
    other = randint(n_out, (n,), seed=seed + 50)
    keep = torch.rand(n, generator=generator(seed + 60)) < 0.6
    return x, torch.where(keep, pred, other)


@_one_thread
def accuracy_values(accuracy):
    """accuracy(model, dl) is the share of examples whose argmax is the label, in eval mode, as a float."""
    with Question("accuracy") as q:
        # (examples, batch size, classes): uneven last batches; batches as wide as the classes; one batch
        layouts = ((23, 10, 4), (30, 8, 8), (15, 5, 5), (40, 64, 3))
        for seed in SEEDS:
            for n, batch_size, n_out in layouts:
                for dtype in FLOAT_DTYPES:
                    for device in devices():
                        model = _Scores(6, n_out, seed)
                        x, y = _accuracy_data(n, 6, n_out, seed, model)
                        model = model.to(device, dtype).train()
                        dl = _loader(x.to(dtype), y, batch_size, seed, shuffle=False)
                        what = (f"accuracy(model on {device.type} in {str(dtype)[6:]}, {n} examples in batches of "
                                f"{batch_size}, {n_out} classes)")
                        with q.check(what):
                            try:
                                got = q.call(accuracy, model, dl)
                            except AssertionError as exc:
                                if "must match the size" in str(exc):
                                    raise AssertionError(f"{exc}. Take the argmax over the classes, dim=1 (one "
                                                         "prediction per example), not over the batch") from None
                                raise
                            mistakes = {
                                "the mean of per-batch accuracies (batches of different sizes weigh the same)":
                                    _accuracy(model, dl, per_batch=True),
                                "evaluating in training mode (call model.eval() first: dropout and batch norm "
                                "behave differently while training)": _accuracy(model, dl, mode="train"),
                                "taking the argmax over the batch (dim=0) instead of the classes (dim=1)":
                                    _accuracy(model, dl, dim=0),
                            }
                            q.compare(what, got, _accuracy(model, dl),
                                      mistakes={k: v for k, v in mistakes.items() if v is not None},
                                      rtol=1e-6, atol=1e-6)  # a float32 mean is fine; 1 / n is far larger


# ---------------------------------------------------------------------------- training

TARGETS = {"MnistLogistic": 0.90, "MnistNN": 0.90}  # valid accuracy after the short runs below
TRAINING = {  # model → (optimizer, epochs), batches of 64: fast enough for grading
    "MnistLogistic": (lambda ps: torch.optim.SGD(ps, lr=0.5), 5),
    "MnistNN": (lambda ps: torch.optim.Adam(ps, lr=1e-2), 3),
}


@_one_thread
def training_reaches_accuracy(MnistLogistic, MnistNN, fit):
    """A short run of fit on scikit-learn's digits takes each model past the stated validation accuracy."""
    import workbook.data

    with Question("training") as q:
        x_train, y_train, x_valid, y_valid = workbook.data.digits("sklearn")
        device = devices()[-1]
        valid_dl = _loader(x_valid, y_valid, 512, 0, shuffle=False)
        for name, Model in (("MnistLogistic", MnistLogistic), ("MnistNN", MnistNN)):
            make_opt, epochs = TRAINING[name]
            what = (f"{name}(n_in=64) trained by fit for {epochs} epochs on scikit-learn's digits reaches a "
                    f"validation accuracy of {TARGETS[name]:.0%}")
            with q.check(what):
                torch.manual_seed(0)
                model = q.call(Model, n_in=x_train.shape[1]).to(device)
                opt = make_opt(model.parameters())
                losses = q.call(fit, model, opt, nn.CrossEntropyLoss(), _loader(x_train, y_train, 64, 0), epochs)
                acc = _accuracy(model, valid_dl)
                assert acc >= TARGETS[name], (
                    f"{what}: it reaches {acc:.1%}"
                    + (f" (the loss went from {losses[0]:.3f} to {losses[-1]:.3f})" if isinstance(losses, list)
                       and len(losses) > 1 and all(isinstance(v, float) for v in losses) else "")
                    + ". Do the tests of the models, update and fit pass?")
