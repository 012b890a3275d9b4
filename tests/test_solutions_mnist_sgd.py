"""The reference for 06_mnist_sgd: the two models, update, fit and accuracy."""
import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

from solutions.mnist_sgd import MnistLogistic, MnistNN, accuracy, fit, update

pytestmark = pytest.mark.mnist_sgd

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
    m = MnistNN(n_in=64, n_hidden=20, n_out=5)
    assert (m.lin1.in_features, m.lin1.out_features, m.lin2.out_features) == (64, 20, 5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_model_forwards(dtype, device):
    x = torch.randn(7, 64, dtype=dtype, device=device)
    m = MnistLogistic(64, 10).to(device=device, dtype=dtype)
    out = m(x)
    assert out.shape == (7, 10) and out.dtype == dtype
    assert_close(out, x @ m.lin.weight.T + m.lin.bias)
    m = MnistNN(64, 32, 10).to(device=device, dtype=dtype)
    out = m(x)
    assert out.shape == (7, 10) and out.dtype == dtype
    hidden = (x @ m.lin1.weight.T + m.lin1.bias).clamp_min(0)
    assert_close(out, hidden @ m.lin2.weight.T + m.lin2.bias)


# ---------------------------------------------------------------- update
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("make_opt", [
    lambda ps: torch.optim.SGD(ps, lr=0.1),
    lambda ps: torch.optim.Adam(ps, lr=1e-2),
], ids=["sgd", "adam"])
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
