"""The reference for 03_weight_decay: L2 penalty, SGD with it, and the decoupled form."""
import copy

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from solutions.weight_decay import l2_penalty, sgd_update, sgd_update_decoupled

pytestmark = pytest.mark.weight_decay

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]


def make_problem(device="cpu", dtype=torch.float64, seed=0):
    """A small two-layer regression net and one batch."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(device=device, dtype=dtype)
    x = torch.randn(16, 4, device=device, dtype=dtype)
    y = torch.randn(16, 1, device=device, dtype=dtype)
    return model, x, y


def params_of(model):
    return [p.detach().clone() for p in model.parameters()]


def assert_params_close(a, b, **kw):
    for i, (p, q) in enumerate(zip(params_of(a), params_of(b))):
        assert_close(p, q, msg=lambda m, i=i: f"parameter {i}: {m}", **kw)


def sq_norm(model):
    return sum(float((p.detach() ** 2).sum()) for p in model.parameters())


def grads_zeroed(model):
    return all(p.grad is None or (p.grad == 0).all() for p in model.parameters())


# ---------------------------------------------------------------- l2_penalty
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_penalty_value_and_gradient(dtype, device):
    params = [torch.randn(3, 4, dtype=dtype, device=device, requires_grad=True),
              torch.randn(5, dtype=dtype, device=device, requires_grad=True)]
    pen = l2_penalty(iter(params), 0.1)  # a generator, as model.parameters() is
    assert isinstance(pen, torch.Tensor) and pen.dim() == 0
    assert pen.dtype == dtype and pen.device.type == device
    assert_close(pen, 0.1 * ((params[0] ** 2).sum() + (params[1] ** 2).sum()))
    pen.backward()
    for p in params:
        assert_close(p.grad, 2 * 0.1 * p.detach())


def test_l2_penalty_of_a_model_and_of_nothing():
    model, _, _ = make_problem()
    expected = 0.01 * sq_norm(model)
    assert l2_penalty(model.parameters(), 0.01).item() == pytest.approx(expected)
    empty = l2_penalty([], 0.1)
    assert isinstance(empty, torch.Tensor) and empty.dim() == 0 and empty.item() == 0.0


# ---------------------------------------------------------------- sgd_update
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_sgd_update_matches_torch_sgd(wd, dtype, device):
    """torch's weight_decay adds wd * p to the gradient; the penalty wd * p² adds 2 * wd * p."""
    model, x, y = make_problem(device, dtype)
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, weight_decay=2 * wd)
    loss_func = nn.MSELoss()
    for step in range(5):
        expected = (loss_func(ref(x), y) + l2_penalty(ref.parameters(), wd)).item()
        loss_func(ref(x), y).backward()
        opt.step()
        opt.zero_grad()
        got = sgd_update(model, loss_func, x, y, lr=0.1, wd=wd)
        assert isinstance(got, float)
        assert got == pytest.approx(expected, rel=1e-5), f"step {step}: returns the regularised loss"
        assert grads_zeroed(model), "grads are zeroed after the step"
    assert_params_close(model, ref)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_sgd_update_decoupled_matches_torch_sgd(wd, dtype, device):
    model, x, y = make_problem(device, dtype)
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, weight_decay=2 * wd)
    loss_func = nn.MSELoss()
    for step in range(5):
        loss = loss_func(ref(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        got = sgd_update_decoupled(model, loss_func, x, y, lr=0.1, wd=wd)
        assert isinstance(got, float)
        assert got == pytest.approx(loss.item(), rel=1e-5), f"step {step}: returns the data loss"
        assert grads_zeroed(model)
    assert_params_close(model, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_l2_and_decoupled_give_the_same_parameters(dtype):
    """The lesson's point: for SGD, L2 regularisation and weight decay are the same step."""
    a, x, y = make_problem(dtype=dtype, seed=3)
    b = copy.deepcopy(a)
    loss_func = nn.MSELoss()
    for _ in range(20):
        sgd_update(a, loss_func, x, y, lr=0.05, wd=0.1)
        sgd_update_decoupled(b, loss_func, x, y, lr=0.05, wd=0.1)
    assert_params_close(a, b)
    plain = copy.deepcopy(b)
    sgd_update_decoupled(plain, loss_func, x, y, lr=0.05, wd=0.0)
    sgd_update_decoupled(b, loss_func, x, y, lr=0.05, wd=0.1)
    assert sq_norm(b) < sq_norm(plain), "weight decay shrinks the weights"


def test_updates_skip_frozen_parameters():
    for update in (sgd_update, sgd_update_decoupled):
        model, x, y = make_problem()
        model[0].weight.requires_grad_(False)
        frozen = model[0].weight.detach().clone()
        before = model[2].weight.detach().clone()
        update(model, nn.MSELoss(), x, y, lr=0.1, wd=0.1)
        assert_close(model[0].weight, frozen)
        assert not torch.equal(model[2].weight, before)
