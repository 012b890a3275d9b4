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
@pytest.mark.parametrize("update", [sgd_update, sgd_update_decoupled], ids=lambda f: f.__name__)
def test_updates_match_torch_sgd(update, wd, dtype, device):
    """torch's weight_decay adds wd * p to the gradient, as the penalty wd * p² does with 2 * wd: both updates take
    torch's step. sgd_update returns the regularised loss, sgd_update_decoupled the data loss."""
    model, x, y = make_problem(device, dtype)
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, weight_decay=2 * wd)
    loss_func = nn.MSELoss()
    regularised = update is sgd_update
    for step in range(5):
        loss = loss_func(ref(x), y)
        expected = (loss + l2_penalty(ref.parameters(), wd) if regularised else loss).item()
        loss.backward()
        opt.step()
        opt.zero_grad()
        got = update(model, loss_func, x, y, lr=0.1, wd=wd)
        assert isinstance(got, float)
        assert got == pytest.approx(expected, rel=1e-5), f"step {step}: the {'regularised' if regularised else 'data'} loss"
        assert grads_zeroed(model), "grads are zeroed after the step"
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


# ---------------------------------------------------------------- the graded problems, against torch.optim.SGD
def graded_problems():
    """The models, losses and batches the grader uses (autograder/exercises/weight_decay.py), in float64."""
    from autograder.exercises import weight_decay as declared
    from autograder.inside.scenarios.weight_decay import build, loss_function
    for seed, kind in enumerate(declared.PROBLEMS):
        spec, loss, _ = declared.PROBLEMS[kind]
        model = build(spec, declared.state(spec, seed), "cpu", "float64")
        yield kind, model, loss_function(loss), declared.batches(kind, seed, torch.float64, n_steps=6)


@pytest.mark.parametrize("update", [sgd_update, sgd_update_decoupled])
def test_graded_problems_match_torch_sgd(update):
    """On the grader's own problems (batches of uneven size), either update is SGD(weight_decay=2 * wd)."""
    for kind, model, loss_func, batches in graded_problems():
        ref = copy.deepcopy(model)
        opt = torch.optim.SGD(ref.parameters(), lr=0.1, weight_decay=2 * 0.1)
        for x, y in batches:
            update(model, loss_func, x, y, 0.1, wd=0.1)
            loss_func(ref(x), y).backward()
            opt.step()
            opt.zero_grad()
        assert_params_close(model, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("update", [sgd_update, sgd_update_decoupled])
def test_wd_left_out_is_plain_sgd(update):
    model, x, y = make_problem(seed=4)
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for _ in range(3):
        update(model, nn.MSELoss(), x, y, 0.1)
        nn.MSELoss()(ref(x), y).backward()
        opt.step()
        opt.zero_grad()
    assert_params_close(model, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("update", [sgd_update, sgd_update_decoupled])
def test_frozen_parameters_and_zero_grads_before_like_torch_sgd(update):
    """A frozen parameter stays (torch.optim skips a .grad of None); gradients that are zeros, not None, before
    the first step change nothing."""
    model, x, y = make_problem(seed=5)
    model[0].bias.requires_grad_(False)
    for p in model.parameters():
        if p.requires_grad:
            p.grad = torch.zeros_like(p)
    ref = copy.deepcopy(model)
    opt = torch.optim.SGD([p for p in ref.parameters() if p.requires_grad], lr=0.1, weight_decay=0.2)
    for _ in range(3):
        update(model, nn.MSELoss(), x, y, 0.1, wd=0.1)
        nn.MSELoss()(ref(x), y).backward()
        opt.step()
        opt.zero_grad()
        assert grads_zeroed(model)
    assert_params_close(model, ref, rtol=1e-10, atol=1e-12)
    assert torch.equal(model[0].bias, ref[0].bias)


def test_l2_penalty_gradcheck():
    params = [torch.randn(3, 2, dtype=torch.float64, requires_grad=True),
              torch.randn((), dtype=torch.float64, requires_grad=True)]
    assert torch.autograd.gradcheck(lambda a, b: l2_penalty([a, b], 0.3), params)


# ---------------------------------------------------------------- the questionnaire's answers
def test_questionnaire_answers():
    from solutions import weight_decay as ref
    w = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    l2_penalty([w], 0.05).backward()
    assert ref.q_wd_gradient == pytest.approx(w.grad.item())  # the gradient of wd * w**2 at w = 3
    # fastai's (and AdamW's) decoupled decay: with no gradient, a step multiplies each weight by 1 - lr * wd (c).
    p = nn.Parameter(torch.tensor([2.0], dtype=torch.float64))
    opt = torch.optim.AdamW([p], lr=0.1, weight_decay=0.01)
    p.grad = torch.zeros_like(p)
    opt.step()
    assert p.item() == pytest.approx(2.0 * (1 - 0.1 * 0.01)) and ref.q_fastai_wd == "c"
    # Adam + L2: the penalty's gradient is divided by its own running RMS, so a weight the data does not move is
    # pulled by a full lr per step, not by the fraction lr * wd that AdamW takes (b).
    adam, adamw = (nn.Parameter(torch.tensor([1.0], dtype=torch.float64)) for _ in range(2))
    opts = [torch.optim.Adam([adam], lr=0.1, weight_decay=0.2), torch.optim.AdamW([adamw], lr=0.1, weight_decay=0.2)]
    for q, opt in zip((adam, adamw), opts):
        q.grad = torch.zeros_like(q)  # no data gradient
        opt.step()
    assert 1 - adam.item() == pytest.approx(0.1, rel=1e-3) and 1 - adamw.item() == pytest.approx(0.02)
    assert ref.q_adam_l2 == "b"
