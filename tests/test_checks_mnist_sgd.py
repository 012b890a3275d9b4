"""The hidden tests of 06_mnist_sgd pass correct answers written in other ways and fail (naming it) each
known mistake: learner-style answer cells, written here, run through `autograder.checks.mnist_sgd`.

Each variant replaces one answer cell of the reference (compiled as if a learner had typed it:
code from solutions/ is flagged) and names the graded cells it must fail, and the words that
say why; every other graded cell that uses that answer must pass.
"""
import ast
import inspect
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from autograder import authoring
from autograder.checks import mnist_sgd as hidden
from solutions import mnist_sgd as reference

pytestmark = pytest.mark.mnist_sgd

NOTEBOOK = Path(__file__).resolve().parents[1] / "source" / "lesson5" / "06_mnist_sgd.ipynb"

# What the notebook's setup cell imports, before any answer cell runs.
PRELUDE = """
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm
"""

# graded cell → the learner names it is called with
CELLS = {
    "mnist_logistic_architecture": ("MnistLogistic",),
    "mnist_nn_architecture": ("MnistNN",),
    "update_step": ("update",),
    "fit_losses": ("fit",),
    "accuracy_values": ("accuracy",),
    "training_reaches_accuracy": ("MnistLogistic", "MnistNN", "fit"),
}
# answer → the graded cells it can change (fit calls update from the notebook)
USES = {
    "MnistLogistic": ("mnist_logistic_architecture", "training_reaches_accuracy"),
    "MnistNN": ("mnist_nn_architecture", "training_reaches_accuracy"),
    "update": ("update_step", "fit_losses", "training_reaches_accuracy"),
    "fit": ("fit_losses", "training_reaches_accuracy"),
    "accuracy": ("accuracy_values",),
}
SLOW = "training_reaches_accuracy"  # a few seconds: run for the variants that say `train=True`


@dataclass(frozen=True)
class Variant:
    """An answer cell a learner could write: correct (loses nothing) or a mistake named by `says`."""
    answer: str
    name: str
    source: str
    loses: tuple = ()
    says: str = ""
    train: bool = False


def as_learner(variant=None) -> dict:
    """The reference answers as a learner's notebook namespace, with `variant`'s cell run in it."""
    ns = {}
    exec(compile(inspect.getsource(reference), "<learner>", "exec"), ns)
    if variant is not None:
        exec(compile(PRELUDE + variant.source, "<learner>", "exec"), ns)
    return ns


def grade(ns, cells) -> dict:
    """graded cell → None when it passes, else its message."""
    out = {}
    for cell in cells:
        try:
            getattr(hidden, cell)(*[ns[name] for name in CELLS[cell]])
            out[cell] = None
        except AssertionError as exc:
            out[cell] = str(exc)
    return out


# ------------------------------------------------------------------ correct answers, written other ways

CORRECT = [
    Variant("MnistLogistic", "keyword arguments, flattening the input", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super(MnistLogistic, self).__init__()
        self.lin = nn.Linear(in_features=n_in, out_features=n_out, bias=True)

    def forward(self, xb):
        return self.lin(xb.view(xb.shape[0], -1))
'''),
    Variant("MnistLogistic", "explicit matmul through the layer's weight", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return x @ self.lin.weight.t() + self.lin.bias
'''),
    Variant("MnistNN", "nn.ReLU module, layers made in another order", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin2 = nn.Linear(n_hidden, n_out)
        self.relu = nn.ReLU()
        self.lin1 = nn.Linear(n_in, n_hidden)

    def forward(self, x):
        return self.lin2(self.relu(self.lin1(x)))
'''),
    Variant("MnistNN", "clamp(min=0)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x).clamp(min=0))
'''),
    Variant("MnistNN", "the lesson's forward with an in-place ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden, bias=True)
        self.lin2 = nn.Linear(n_hidden, n_out, bias=True)

    def forward(self, xb):
        x = self.lin1(xb)
        x = F.relu(x, inplace=True)
        return self.lin2(x)
'''),
    Variant("update", "model.zero_grad() and float()", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    model.zero_grad()
    return float(loss)
'''),
    Variant("update", "zeroed before and after, to zeros", '''
def update(model, opt, loss_func, x, y):
    opt.zero_grad()
    y_hat = model(x)
    loss = loss_func(y_hat, y)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=False)
    return loss.detach().cpu().item()
'''),
    Variant("update", "grads set to None by hand", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    for p in model.parameters():
        p.grad = None
    return loss.item()
'''),
    Variant("fit", "a bar per epoch, a list extended", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs), desc="epochs"):
        model.train()
        epoch_losses = []
        for x, y in tqdm(train_dl, leave=False):
            x, y = x.to(device), y.to(device)
            epoch_losses.append(update(model, opt, loss_func, x, y))
        losses.extend(epoch_losses)
    return losses
'''),
    Variant("fit", "one bar over every step, no model.train()", '''
def fit(model, opt, loss_func, train_dl, epochs):
    dev = next(iter(model.parameters())).device
    bar = tqdm(total=len(train_dl) * epochs)
    losses = []
    for _ in range(epochs):
        for xb, yb in train_dl:
            losses += [update(model, opt, loss_func, xb.to(dev), yb.to(dev))]
            bar.update(1)
    bar.close()
    return losses
'''),
    Variant("fit", "the step written inline", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    with tqdm(total=epochs * len(train_dl)) as bar:
        for epoch in range(epochs):
            for x, y in train_dl:
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                opt.zero_grad()
                losses.append(loss.item())
                bar.update()
    return losses
'''),
    Variant("accuracy", "concatenated predictions, mode left in eval", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    preds, labels = [], []
    with torch.no_grad():
        for x, y in dl:
            preds.append(model(x.to(device)).argmax(dim=-1))
            labels.append(y.to(device))
    return (torch.cat(preds) == torch.cat(labels)).float().mean().item()
'''),
    Variant("accuracy", "batch accuracies weighted by batch size, softmax first, no no_grad", '''
def accuracy(model, dl):
    model.eval()
    device = next(model.parameters()).device
    total, n = 0.0, 0
    for x, y in dl:
        probs = F.softmax(model(x.to(device)), dim=1)
        acc = (probs.argmax(1) == y.to(device)).float().mean()
        total += acc.item() * len(y)
        n += len(y)
    model.train()
    return total / n
'''),
]


# ------------------------------------------------------------------ plausible mistakes

MISTAKES = [
    Variant("MnistLogistic", "softmax in forward", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return F.softmax(self.lin(x), dim=1)
''', loses=("mnist_logistic_architecture", "training_reaches_accuracy"), says="a softmax inside the model",
            train=True),
    Variant("MnistLogistic", "log_softmax in forward", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.lin(x).log_softmax(-1)
''', loses=("mnist_logistic_architecture",), says="a log-softmax inside the model"),
    Variant("MnistLogistic", "no bias", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out, bias=False)

    def forward(self, x):
        return self.lin(x)
''', loses=("mnist_logistic_architecture",), says="with a bias"),
    Variant("MnistLogistic", "784 inputs hard-coded", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(784, n_out)

    def forward(self, x):
        return self.lin(x)
''', loses=("mnist_logistic_architecture", "training_reaches_accuracy"), says="expected nn.Linear(64, 7)"),
    Variant("MnistLogistic", "another attribute name", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.linear(x)
''', loses=("mnist_logistic_architecture",), says="MnistLogistic().lin is missing"),
    Variant("MnistNN", "no ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x))
''', loses=("mnist_nn_architecture",), says="no ReLU between lin1 and lin2"),
    Variant("MnistNN", "sigmoid instead of ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(torch.sigmoid(self.lin1(x)))
''', loses=("mnist_nn_architecture",), says="a sigmoid instead of a ReLU"),
    Variant("MnistNN", "ReLU after the last layer too", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return F.relu(self.lin2(F.relu(self.lin1(x))))
''', loses=("mnist_nn_architecture", "training_reaches_accuracy"), says="a ReLU after lin2 as well"),
    Variant("MnistNN", "softmax at the end", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return torch.softmax(self.lin2(F.relu(self.lin1(x))), dim=-1)
''', loses=("mnist_nn_architecture",), says="a softmax inside the model"),
    Variant("MnistNN", "50 hidden units hard-coded", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, 50)
        self.lin2 = nn.Linear(50, n_out)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))
''', loses=("mnist_nn_architecture",), says="expected nn.Linear(64, 20)"),
    Variant("MnistNN", "forward under no_grad", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    @torch.no_grad()
    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))
''', loses=("mnist_nn_architecture", "training_reaches_accuracy"), says="has no gradient"),
    Variant("update", "no zero_grad", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy"), says="accumulate", train=True),
    Variant("update", "zero_grad before step", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy"),
            says="calling opt.zero_grad() before opt.step()", train=True),
    Variant("update", "zero_grad only before backward (leaves gradients behind)", '''
def update(model, opt, loss_func, x, y):
    opt.zero_grad()
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()
''', loses=("update_step",), says="call opt.zero_grad() after opt.step()"),
    Variant("update", "returns the loss tensor", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss
''', loses=("update_step", "fit_losses"), says="call .item() on it"),
    Variant("update", "the lesson's new Adam at every call", '''
def update(model, opt, loss_func, x, y):
    opt = optim.Adam(model.parameters(), 1e-3)
    y_hat = model(x)
    loss = loss_func(y_hat, y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy"),
            says="makes a new optimizer each step, which resets Adam's state"),
    Variant("update", "a copy of opt remade at every call", '''
def update(model, opt, loss_func, x, y):
    opt = type(opt)(model.parameters(), **opt.defaults)
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step", "fit_losses"), says="makes a new optimizer each step, which resets Adam's state"),
    Variant("update", "a hand-written SGD step with the optimizer's lr", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= opt.param_groups[0]["lr"] * p.grad
            p.grad = None
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy"), says="or steps the parameters by hand"),
    Variant("update", "never steps", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy"), says="call opt.step() after loss.backward()"),
    Variant("update", "cross-entropy hard-coded instead of loss_func", '''
def update(model, opt, loss_func, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step",), says="the loss update returned"),
    Variant("update", "two steps per call", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step", "fit_losses"), says="took 2 steps"),
    Variant("fit", "one mean loss per epoch", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs)):
        batch_losses = [update(model, opt, loss_func, x.to(device), y.to(device)) for x, y in train_dl]
        losses.append(sum(batch_losses) / len(batch_losses))
    return losses
''', loses=("fit_losses",), says="That is one per epoch"),
    Variant("fit", "the list made again every epoch", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    for epoch in tqdm(range(epochs)):
        losses = []
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
    return losses
''', loses=("fit_losses",), says="That is one epoch's worth"),
    Variant("fit", "one epoch too few", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(1, epochs)):
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
    return losses
''', loses=("fit_losses",), says="expected len(train_dl) * epochs"),
    Variant("fit", "its own optimizer", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    opt = optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for epoch in tqdm(range(epochs)):
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
    return losses
''', loses=("fit_losses", "training_reaches_accuracy"), says="the losses it returned"),
    Variant("fit", "loss tensors kept", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs)):
        for x, y in train_dl:
            loss = loss_func(model(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss)
    return losses
''', loses=("fit_losses",), says="call .item() on the loss"),
    Variant("accuracy", "the mean of the batches' accuracies", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    accs = []
    with torch.no_grad():
        for x, y in dl:
            accs.append((model(x.to(device)).argmax(1) == y.to(device)).float().mean().item())
    return sum(accs) / len(accs)
''', loses=("accuracy_values",), says="the mean of per-batch accuracies"),
    Variant("accuracy", "argmax over the batch", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(0) == y.to(device)).sum().item()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",), says="argmax over the batch (dim=0)"),
    Variant("accuracy", "no model.eval()", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",), says="evaluating in training mode"),
    Variant("accuracy", "a tensor returned", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",), says="expected a Python number"),
    Variant("accuracy", "divided by the number of batches", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
    return correct / len(dl)
''', loses=("accuracy_values",), says="accuracy(model on cpu"),
]


def _ids(variants):
    return [f"{v.answer}: {v.name}" for v in variants]


def _expect(variant):
    cells = [c for c in USES[variant.answer] if c != SLOW or variant.train]
    results = grade(as_learner(variant), cells)
    for cell in cells:
        if cell in variant.loses:
            assert results[cell] is not None, f"{variant.name!r} passed {cell}, which it must fail"
        else:
            assert results[cell] is None, f"{variant.name!r} failed {cell}:\n{results[cell]}"
    if variant.loses:
        assert variant.says in results[variant.loses[0]], results[variant.loses[0]]
    return results


def test_reference_passes_every_check():
    results = grade(as_learner(), CELLS)
    assert results == {cell: None for cell in CELLS}, results


@pytest.mark.parametrize("variant", CORRECT, ids=_ids(CORRECT))
def test_other_correct_answers_pass(variant):
    _expect(variant)


@pytest.fixture
def few_cases(monkeypatch):
    """Mistakes show on the first cases: float32 only keeps these tests fast."""
    monkeypatch.setattr(hidden, "FLOAT_DTYPES", (torch.float32,))


@pytest.mark.parametrize("variant", MISTAKES, ids=_ids(MISTAKES))
def test_each_mistake_fails_and_is_named(variant, few_cases):
    _expect(variant)


@pytest.mark.cuda
def test_batches_left_on_the_cpu_fail_on_the_gpu():
    """The DataLoader yields CPU batches: fit and accuracy must move them to the model's device."""
    _expect(Variant("fit", "batches not moved", '''
def fit(model, opt, loss_func, train_dl, epochs):
    return [update(model, opt, loss_func, x, y) for _ in tqdm(range(epochs)) for x, y in train_dl]
''', loses=("fit_losses",), says="fit raised RuntimeError"))
    _expect(Variant("accuracy", "batches not moved", '''
def accuracy(model, dl):
    model.eval()
    with torch.no_grad():
        right = sum((model(x).argmax(1) == y).sum().item() for x, y in dl)
    return right / sum(len(y) for _, y in dl)
''', loses=("accuracy_values",), says="accuracy raised RuntimeError"))


def test_stubs_say_not_answered():
    stub = '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        raise NotImplementedError()
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        raise NotImplementedError()
def update(model, opt, loss_func, x, y):
    raise NotImplementedError()
def fit(model, opt, loss_func, train_dl, epochs):
    raise NotImplementedError()
def accuracy(model, dl):
    raise NotImplementedError()
'''
    results = grade(as_learner(Variant("all", "stubs", stub)), CELLS)
    for cell, message in results.items():
        assert message is not None and "not answered yet" in message, (cell, message)


def test_answers_calling_the_reference_are_flagged():
    ns = as_learner(Variant("update", "imports the reference", '''
from solutions.mnist_sgd import update, accuracy
'''))
    results = grade(ns, ["update_step", "accuracy_values"])
    for cell in ("update_step", "accuracy_values"):
        assert "reference solutions" in results[cell], results[cell]


def test_graded_cells_leave_no_thread_setting_behind():
    before = torch.get_num_threads()
    hidden.accuracy_values(as_learner()["accuracy"])
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------ the notebook

def _cells():
    return authoring.read(NOTEBOOK).cells


def test_graded_cells_and_points():
    graded = {c.metadata.nbgrader.grade_id: c.metadata.nbgrader.points for c in _cells()
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert graded == {"mnist_logistic_architecture": 1, "mnist_nn_architecture": 1, "update_step": 2,
                      "fit_losses": 2, "accuracy_values": 1, "training_reaches_accuracy": 1}
    for c in _cells():
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid in graded:
            args = ", ".join(CELLS[gid])
            assert f"hidden.{gid}({args})" in c.source, gid


def test_settings_match_the_benchmark():
    """The notebook's training settings are the benchmark's, so its figures describe the notebook."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench", NOTEBOOK.parents[2] / "benchmarks" / "mnist_accuracy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    source = next(c.source for c in _cells() if c.source.startswith("SETTINGS = {"))
    settings = ast.literal_eval(ast.parse(source).body[0].value)
    assert settings == bench.SETTINGS


def test_no_progress_bar_runs_outside_a_graded_question():
    """tqdm writes to stderr, and nbgrader scores a graded cell that writes to stderr as zero: in test
    cells, fit runs only inside the visible Test's checks (lambdas) or the hidden Question."""
    for c in _cells():
        if c.metadata.get("nbgrader", {}).get("grade"):
            tree = ast.parse(c.source)
            inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.Lambda, ast.FunctionDef))
                      for n in ast.walk(f)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "fit":
                    assert id(node) in inside, f"{c.metadata.nbgrader.grade_id}: fit called outside a check"
