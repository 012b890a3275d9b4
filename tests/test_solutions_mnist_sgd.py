"""The reference for 06_mnist_sgd against PyTorch as the oracle: the two models, update, fit and accuracy,
and the backward functions against autograd (values in float64); the notebook's settings and test cells."""
import ast
import copy
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from autograder import authoring
from solutions import mnist_sgd
from solutions.mnist_sgd import (MnistLogistic, MnistNN, accuracy, fit, linear_backward, mlp_backward, relu_backward,
                                 update)

pytestmark = pytest.mark.mnist_sgd

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "source" / "lesson5" / "06_mnist_sgd.ipynb"
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]


def blobs(n=96, n_in=16, n_out=3, seed=0):
    """Linearly separable classes: easy for both models."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_out, n_in, generator=g) * 3
    y = torch.randint(0, n_out, (n,), generator=g)
    x = centres[y] + torch.randn(n, n_in, generator=g)
    return x, y


# ---------------------------------------------------------------- models
def test_model_layouts_and_defaults():
    m = MnistLogistic()
    assert isinstance(m.lin, nn.Linear) and (m.lin.in_features, m.lin.out_features) == (784, 10)
    assert [p.shape for p in m.parameters()] == [(10, 784), (10,)]
    m = MnistNN()
    assert (m.lin1.in_features, m.lin1.out_features) == (784, 50)
    assert (m.lin2.in_features, m.lin2.out_features) == (50, 10)
    assert sum(p.numel() for p in m.parameters()) == mnist_sgd.q_n_params
    m = MnistNN(n_in=64, n_hidden=20, n_out=5)
    assert (m.lin1.in_features, m.lin1.out_features, m.lin2.out_features) == (64, 20, 5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_model_forwards(dtype, device):
    x = torch.randn(7, 64, dtype=dtype, device=device)
    m = MnistLogistic(64, 10).to(device=device, dtype=dtype)
    out = m(x)
    assert out.shape == (7, 10) and out.dtype == dtype
    assert_close(out, F.linear(x, m.lin.weight, m.lin.bias))
    m = MnistNN(64, 32, 10).to(device=device, dtype=dtype)
    out = m(x)
    assert out.shape == (7, 10) and out.dtype == dtype
    assert_close(out, F.linear(F.relu(F.linear(x, m.lin1.weight, m.lin1.bias)), m.lin2.weight, m.lin2.bias))


def test_state_dicts_load_into_the_lessons_layers():
    """The attribute names are the lesson's, and so are the state_dict's keys (what the grader loads by)."""
    m = MnistNN(12, 6, 3)
    assert list(m.state_dict()) == ["lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias"]
    assert list(MnistLogistic(12, 3).state_dict()) == ["lin.weight", "lin.bias"]


# ---------------------------------------------------------------- update
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("make_opt", [
    lambda ps: torch.optim.SGD(ps, lr=0.1),
    lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
    lambda ps: torch.optim.Adam(ps, lr=1e-2),
], ids=["sgd", "momentum", "adam"])
def test_update_is_one_optimizer_step(make_opt, device):
    torch.manual_seed(0)
    x, y = blobs(n=32)
    x, y = x.to(device), y.to(device)
    model = MnistNN(16, 8, 3).to(device)
    ref = copy.deepcopy(model)
    opt, ref_opt = make_opt(model.parameters()), make_opt(ref.parameters())
    for _ in range(3):
        ref_loss = F.cross_entropy(ref(x), y)
        ref_loss.backward()
        ref_opt.step()
        ref_opt.zero_grad()
        loss = update(model, opt, nn.CrossEntropyLoss(), x, y)
        assert isinstance(loss, float)
        assert loss == pytest.approx(ref_loss.item(), rel=1e-5)
        assert all(p.grad is None or (p.grad == 0).all() for p in model.parameters())
    for p, q in zip(model.parameters(), ref.parameters()):
        assert_close(p, q)
    for p, q in zip(model.parameters(), ref.parameters()):  # the state of the opt passed in: 3 steps of it
        for key, value in ref_opt.state[q].items():
            assert_close(opt.state[p][key], value)


def test_a_new_adam_at_every_step_is_sign_sgd():
    """What the notebook explains: Adam's first step moves every weight by lr against its gradient's sign."""
    torch.manual_seed(0)
    x, y = blobs(n=32)
    model = MnistLogistic(16, 3)
    before = model.lin.weight.detach().clone()
    F.cross_entropy(model(x), y).backward()
    g = model.lin.weight.grad.clone()
    model.zero_grad()
    update(model, torch.optim.Adam(model.parameters(), lr=1e-3), nn.CrossEntropyLoss(), x, y)
    step = model.lin.weight.detach() - before
    moved = g.abs() > 1e-4
    assert_close(step[moved], -1e-3 * g.sign()[moved], rtol=0, atol=1e-6)


# ---------------------------------------------------------------- fit
@pytest.mark.parametrize("device", DEVICES)
def test_fit_returns_every_batch_loss_and_learns(device):
    torch.manual_seed(0)
    x, y = blobs()
    dl = DataLoader(TensorDataset(x, y), batch_size=20, shuffle=True)  # 5 batches, the last of 16
    model = MnistLogistic(16, 3).to(device)  # batches stay on the CPU: fit moves them
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = fit(model, opt, nn.CrossEntropyLoss(), dl, epochs=4)
    assert len(losses) == 4 * len(dl) == 20
    assert all(isinstance(v, float) for v in losses)
    assert sum(losses[-5:]) < sum(losses[:5]) / 2
    assert accuracy(model, DataLoader(TensorDataset(x, y), batch_size=32)) > 0.9


def test_fit_takes_a_plain_list_of_batches():
    x, y = blobs(n=40)
    batches = [(x[:16], y[:16]), (x[16:32], y[16:32]), (x[32:], y[32:])]
    model = MnistLogistic(16, 3)
    ref = copy.deepcopy(model)
    losses = fit(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(), batches, epochs=2)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    expected = []
    for _ in range(2):
        for xb, yb in batches:
            loss = F.cross_entropy(ref(xb), yb)
            loss.backward()
            ref_opt.step()
            ref_opt.zero_grad()
            expected.append(loss.item())
    assert losses == pytest.approx(expected, rel=1e-6)


def test_fit_shows_a_progress_bar(capsys):
    x, y = blobs(n=8)
    model = MnistLogistic(16, 3)
    fit(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
        DataLoader(TensorDataset(x, y), batch_size=4), epochs=2)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "4/4" in err


# ---------------------------------------------------------------- accuracy
class Fixed(nn.Module):
    """Predicts class x[:, 0] out of 3 (one-hot logits) and records the mode it ran in."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 1)  # gives the model a device
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return F.one_hot(x[:, 0].long(), 3).to(x.dtype) + 0 * self.lin.weight.sum()


@pytest.mark.parametrize("device", DEVICES)
def test_accuracy_tiny_known_case(device):
    preds = torch.tensor([0, 1, 2, 2, 1, 0, 0]).float()[:, None]
    labels = torch.tensor([0, 1, 1, 2, 0, 0, 2])  # 4 of 7 right
    model = Fixed().to(device)
    # batches of unequal size: the answer is per example, not the mean of batch accuracies
    dl = DataLoader(TensorDataset(preds, labels), batch_size=5)
    got = accuracy(model, dl)
    assert isinstance(got, float) and got == pytest.approx(4 / 7)
    assert model.modes == [False, False], "accuracy evaluates in eval mode"
    assert model.training, "accuracy restores training mode"
    model.eval()
    accuracy(model, dl)
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


# ---------------------------------------------------------------- backpropagation by hand, against autograd
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("b, n_in, n_out", [(1, 1, 1), (1, 4, 3), (5, 3, 3), (7, 6, 2), (16, 784, 10)])
def test_linear_backward_is_autograds(b, n_in, n_out, device):
    g = torch.Generator().manual_seed(b * n_in + n_out)
    x, w, bias = (torch.randn(*s, generator=g, dtype=torch.float64).to(device).requires_grad_()
                  for s in ((b, n_in), (n_out, n_in), (n_out,)))
    grad_out = torch.randn(b, n_out, generator=g, dtype=torch.float64).to(device)
    expected = torch.autograd.grad(F.linear(x, w, bias), (x, w, bias), grad_out)
    got = linear_backward(x.detach(), w.detach(), grad_out)
    assert isinstance(got, tuple) and len(got) == 3
    for mine, theirs in zip(got, expected):
        assert mine.shape == theirs.shape and mine.dtype == torch.float64 and mine.device == theirs.device
        assert_close(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (1,), (5,), (2, 3), (2, 3, 4)])
def test_relu_backward_is_autograds_zero_included(shape, dtype, device):
    g = torch.Generator().manual_seed(len(shape))
    x = ((torch.randn(shape, generator=g, dtype=torch.float64) * 2).round() / 2).to(device, dtype)
    x.view(-1)[0] = 0.0  # an exact 0 in every case (multiples of 0.5 give more): PyTorch's gradient there is 0
    grad_out = torch.randn(shape, generator=g, dtype=torch.float64).to(device, dtype)
    xr = x.clone().requires_grad_()
    (expected,) = torch.autograd.grad(F.relu(xr), xr, grad_out)
    got = relu_backward(x, grad_out)
    assert got.dtype == dtype and got.shape == x.shape
    assert_close(got, expected, rtol=0, atol=0)


def _autograd(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed, n_in, n_hidden, n_out, b, scale", [
    (0, 784, 50, 10, 64, 1.0), (1, 5, 4, 3, 1, 1.0), (2, 6, 8, 4, 16, 1.0), (3, 10, 6, 5, 6, 400.0)])
def test_mlp_backward_is_autograds(seed, n_in, n_hidden, n_out, b, scale, device):
    torch.manual_seed(seed)
    model = MnistNN(n_in, n_hidden, n_out).to(device, torch.float64)
    with torch.no_grad():
        model.lin2.weight.mul_(scale)  # scale 400: logits in the hundreds, where a naive exp overflows float32
    x = torch.randn(b, n_in, dtype=torch.float64, device=device)
    y = torch.randint(n_out, (b,), device=device)
    got = mlp_backward(model, x, y)
    expected = _autograd(model, x, y)
    assert list(got) == list(expected) == ["lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias"]
    for name in expected:
        assert_close(got[name], expected[name], rtol=1e-10, atol=1e-12)


def test_mlp_backward_uses_no_autograd():
    """No graph is built for the gradients, and no .grad is left behind."""
    torch.manual_seed(0)
    model = MnistNN(6, 5, 4)
    x, y = torch.randn(3, 6), torch.randint(4, (3,))
    with torch.autograd.set_grad_enabled(True):
        grads = mlp_backward(model, x, y)
    assert all(not g.requires_grad for g in grads.values())
    assert all(p.grad is None for p in model.parameters())


def test_mlp_backward_in_float32_trains_as_autograd_does():
    """Plain SGD with mlp_backward's gradients follows optim.SGD with autograd's, step for step."""
    torch.manual_seed(0)
    x, y = blobs(n=64, n_in=16, n_out=3)
    by_hand, by_autograd = MnistNN(16, 8, 3), MnistNN(16, 8, 3)
    by_autograd.load_state_dict(by_hand.state_dict())
    opt = torch.optim.SGD(by_autograd.parameters(), lr=0.5)
    for i in range(20):
        xb, yb = x[i % 4 * 16:(i % 4 + 1) * 16], y[i % 4 * 16:(i % 4 + 1) * 16]
        grads = mlp_backward(by_hand, xb, yb)
        with torch.no_grad():
            for name, p in by_hand.named_parameters():
                p -= 0.5 * grads[name]
        update(by_autograd, opt, nn.CrossEntropyLoss(), xb, yb)
    for p, q in zip(by_hand.parameters(), by_autograd.parameters()):
        assert_close(p, q, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- the notebook
def _cells():
    return authoring.read(NOTEBOOK).cells


def test_settings_match_the_benchmark():
    """The notebook's training settings are the benchmark's, so its figures describe the notebook."""
    spec = importlib.util.spec_from_file_location("bench", REPO / "benchmarks" / "mnist_accuracy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    source = next(c.source for c in _cells() if c.source.startswith("SETTINGS = {"))
    settings = ast.literal_eval(ast.parse(source).body[0].value)
    assert settings == bench.SETTINGS


def test_no_progress_bar_runs_outside_a_visible_check():
    """tqdm writes to stderr, and nbgrader scores a cell that writes to stderr as zero: in graded cells, fit
    runs only inside functions (the visible Test's lambdas and helpers), whose stderr the Test silences."""
    for c in _cells():
        if c.metadata.get("nbgrader", {}).get("grade"):
            tree = ast.parse(c.source)
            inside = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.Lambda, ast.FunctionDef))
                      for n in ast.walk(f)}
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "fit":
                    assert id(node) in inside, f"{c.metadata.nbgrader.grade_id}: fit called outside a check"


def test_test_cells_bind_no_name_that_another_cell_uses():
    """A graded cell does not run during autograde: the other cells must not depend on (or be changed by) the
    names it binds, as the (bs, 10) demo once printed (3, 10) because a test cell had rebound `x`."""
    def bound(tree):
        names = set()
        for node in tree.body:  # top-level bindings only: names inside functions and lambdas stay there
            for target in getattr(node, "targets", []) + [getattr(node, "target", None)]:
                for n in ast.walk(target) if target is not None else ():
                    if isinstance(n, ast.Name):
                        names.add(n.id)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
        return names

    def used(tree):
        return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}

    cells = [c for c in _cells() if c.cell_type == "code"]
    graded = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    others = [c for c in cells if not c.metadata.get("nbgrader", {}).get("grade")]
    used_elsewhere = set().union(*(used(ast.parse(c.source)) for c in others))
    for c in graded:
        clash = (bound(ast.parse(c.source)) - {"t"}) & used_elsewhere
        assert not clash, f"{c.metadata.nbgrader.grade_id} binds {sorted(clash)}, which other cells use"
