"""solutions.fine_tuning against PyTorch's own semantics: requires_grad and optimizers that skip parameters without
gradients, nn.Linear's default initialisation, torch.optim.Adam and torch.optim.lr_scheduler.OneCycleLR as fastai's
`fine_tune` calls them (float64, so that the comparisons are exact to rounding)."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.utils.data import DataLoader, TensorDataset

from conftest import devices
from solutions.fine_tuning import fine_tune, freeze, lr_groups, lr_groups_from_04, param_groups, replace_head, unfreeze
from solutions.optimizers import lr_groups as lr_groups_of_04

pytestmark = pytest.mark.fine_tuning


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Sequential(nn.Linear(6, 5), nn.ReLU()))
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        return self.head(self.body(x))


def stack(dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3)).to(dtype)


# --- freeze / unfreeze ------------------------------------------------------------------------------------------

def test_freeze_turns_requires_grad_off_for_every_nested_parameter_and_returns_the_module():
    model = Net()
    assert freeze(model.body) is model.body
    assert [p.requires_grad for p in model.body.parameters()] == [False] * 4
    assert all(p.requires_grad for p in model.head.parameters())
    assert unfreeze(model.body) is model.body and all(p.requires_grad for p in model.parameters())


def test_frozen_parameters_get_no_grad_and_torch_optimizers_leave_them_exactly_unchanged():
    model = Net().double()
    freeze(model.body)
    before = copy.deepcopy(model.state_dict())
    for opt in (torch.optim.Adam(model.parameters(), lr=0.1), torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)):
        for _ in range(3):
            model(torch.randn(7, 4, dtype=torch.float64)).pow(2).sum().backward()
            assert all(p.grad is None for p in model.body.parameters())
            opt.step()
            opt.zero_grad()
    after = model.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before if k.startswith("body."))
    assert not torch.equal(after["head.weight"], before["head.weight"])


def test_unfreeze_gives_gradients_back():
    model = Net()
    model.requires_grad_(False)
    unfreeze(model.head)
    model(torch.randn(2, 4)).sum().backward()
    assert [p.grad is not None for p in model.parameters()] == [False] * 4 + [True, True]


# --- replace_head -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, head", [
    (lambda: stack(), "4"),
    (Net, "head"),
    (lambda: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3))), "2.2"),
    (lambda: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3), nn.Tanh()), "2"),
])
@pytest.mark.parametrize("device", devices())
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_replace_head_swaps_the_last_linear_for_a_fresh_one_in_place(make, head, device, dtype):
    model = make().to(device, dtype)
    before = dict(model.named_modules())
    old = before[head]
    assert replace_head(model, 7) is model
    after = dict(model.named_modules())
    new = after[head]
    assert isinstance(new, nn.Linear) and new is not old and (new.in_features, new.out_features) == (old.in_features, 7)
    assert new.weight.dtype == dtype and new.weight.device.type == device and new.bias is not None
    assert all(after[n] is m for n, m in before.items() if n != head), "every other submodule is the same object"
    assert list(after) == list(before), "the head keeps its place"
    bound = 1 / math.sqrt(new.in_features)  # nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert new.weight.abs().max() <= bound and new.bias.abs().max() <= bound
    assert model(torch.randn(2, 4, device=device, dtype=dtype)).shape == (2, 7)


def test_replace_head_draws_what_nn_linear_draws():
    model = stack(torch.float32)
    torch.manual_seed(5)
    replace_head(model, 2)
    torch.manual_seed(5)
    expected = nn.Linear(6, 2)
    assert torch.equal(model[4].weight, expected.weight) and torch.equal(model[4].bias, expected.bias)


def test_a_model_that_is_one_linear_is_its_own_head():
    old = nn.Linear(4, 3)
    new = replace_head(old, 2)
    assert isinstance(new, nn.Linear) and new is not old and (new.in_features, new.out_features) == (4, 2)


# --- lr_groups (notebook 04's) and param_groups -----------------------------------------------------------------

def test_the_pasted_lr_groups_is_notebook_04s():
    assert lr_groups is lr_groups_of_04 and lr_groups_from_04 is lr_groups_of_04


@pytest.mark.parametrize("lr, n, div, expected", [
    (1e-3, 3, 3.0, [1e-3] * 3),
    (slice(1e-3), 3, 3.0, [1e-3 / 3, 1e-3 / 3, 1e-3]),
    (slice(1e-3), 3, 10.0, [1e-4, 1e-4, 1e-3]),                    # fastai's own divisor
    (slice(1e-5, 1e-3), 3, 3.0, list(np.geomspace(1e-5, 1e-3, 3))),  # fastai's even_mults
    (slice(3e-6, 3e-3), 4, 3.0, list(np.geomspace(3e-6, 3e-3, 4))),
    (slice(1e-5, 1e-3), 1, 3.0, [1e-3]),
])
def test_param_groups_give_each_module_its_parameters_and_its_lr(lr, n, div, expected):
    model = nn.Sequential(*[nn.Linear(3, 3) for _ in range(n)])
    groups = list(model)
    pgs = param_groups(groups, lr, div)
    assert isinstance(pgs, list) and [sorted(g) for g in pgs] == [["lr", "params"]] * n
    assert [[id(p) for p in g["params"]] for g in pgs] == [[id(p) for p in m.parameters()] for m in groups]
    np.testing.assert_allclose([g["lr"] for g in pgs], expected, rtol=1e-12)
    opt = torch.optim.Adam(pgs)
    np.testing.assert_allclose([g["lr"] for g in opt.param_groups], expected, rtol=1e-12)


def test_param_groups_default_div_is_3():
    groups = list(stack())[::2]
    assert [g["lr"] for g in param_groups(groups, slice(0.3))] == pytest.approx([0.1, 0.1, 0.3], rel=1e-15)


# --- fine_tune: the oracle is fastai's recipe written with Adam and OneCycleLR, step by step ------------------

def oracle(model, groups, batches, epochs, base_lr, freeze_epochs):
    """fastai's fine_tune in PyTorch: the head alone under OneCycleLR(pct_start=0.99), then every group at
    fastai's even_mults(base_lr / 200, base_lr / 2) under OneCycleLR(pct_start=0.3, div_factor=5);
    returns the losses and, per step, the lr of each group (None when frozen)."""
    losses, lrs = [], []
    head = groups[-1]
    for g in groups[:-1]:
        for p in g.parameters():
            p.requires_grad = False
    phases = [(torch.optim.Adam(head.parameters(), lr=base_lr), freeze_epochs, base_lr, dict(pct_start=0.99)),
              None]
    for phase in range(2):
        if phase == 1:
            for p in model.parameters():
                p.requires_grad = True
            peaks = list(np.geomspace(base_lr / 200, base_lr / 2, len(groups))) if len(groups) > 1 else [base_lr / 2]
            opt = torch.optim.Adam([{"params": g.parameters(), "lr": lr} for g, lr in zip(groups, peaks)])
            phases[1] = (opt, epochs, peaks, dict(pct_start=0.3, div_factor=5.0))
        opt, n_epochs, max_lr, settings = phases[phase]
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=n_epochs * len(batches), **settings)
        for _ in range(n_epochs):
            for x, y in batches:
                lrs.append([opt.param_groups[min(i, len(opt.param_groups) - 1)]["lr"] if phase == 1 or i == len(groups) - 1
                            else None for i in range(len(groups))])
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
                opt.zero_grad()
                sched.step()
                losses.append(loss.item())
    return losses, lrs


def watched(model, groups, *args, **kwargs):
    """fine_tune's losses, and per optimizer step the lr reaching each group (None without gradients) and a copy
    of the state."""
    seen = []

    def hook(opt, a, k):
        lr_of = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
        seen.append(([lr_of[id(next(m.parameters()))] if next(m.parameters()).grad is not None else None
                      for m in groups], copy.deepcopy(model.state_dict())))
    handle = register_optimizer_step_pre_hook(hook)
    try:
        losses = fine_tune(model, groups, *args, **kwargs)
    finally:
        handle.remove()
    return losses, [list(s[0]) for s in seen], [s[1] for s in seen]


@pytest.mark.parametrize("epochs, base_lr, freeze_epochs", [(2, 1e-2, 1), (3, 3e-2, 2), (1, 2e-3, 3)])
def test_fine_tune_is_fastais_recipe_with_adam_and_one_cycle(epochs, base_lr, freeze_epochs):
    model = stack()
    twin = copy.deepcopy(model)
    x, y = torch.randn(22, 4, dtype=torch.float64), torch.randint(3, (22,))
    batches = [(x[i:i + 5], y[i:i + 5]) for i in range(0, 22, 5)]  # 5, 5, 5, 5, 2
    losses, lrs, states = watched(model, [model[0], model[2], model[4]], batches, F.cross_entropy, epochs, base_lr,
                                  freeze_epochs)
    expected_losses, expected_lrs = oracle(twin, [twin[0], twin[2], twin[4]], batches, epochs, base_lr, freeze_epochs)
    assert all(type(v) is float for v in losses) and len(losses) == (epochs + freeze_epochs) * len(batches)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-12)
    assert [[lr is None for lr in step] for step in lrs] == [[lr is None for lr in step] for step in expected_lrs]
    for got, want in zip(lrs, expected_lrs):
        np.testing.assert_allclose([v for v in got if v is not None], [v for v in want if v is not None], rtol=1e-12)
    for name, t in twin.state_dict().items():
        torch.testing.assert_close(model.state_dict()[name], t, rtol=1e-12, atol=1e-14)
    n_frozen = freeze_epochs * len(batches)
    first_unfrozen = states[n_frozen]  # the state after the frozen phase
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert all(torch.equal(s[name], states[0][name]) for s in states[:n_frozen + 1]), f"{name} moved while frozen"
    assert not torch.equal(first_unfrozen["4.weight"], states[0]["4.weight"])


def test_fine_tune_lrs_follow_fastai_settings():
    model = stack()
    x, y = torch.randn(40, 4, dtype=torch.float64), torch.randint(3, (40,))
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 40, 4)]  # 10 batches
    _, lrs, _ = watched(model, [model[0], model[2], model[4]], batches, F.cross_entropy, 2, 1e-2, 1)
    frozen, unfrozen = lrs[:10], lrs[10:]
    assert frozen[0] == [None, None, pytest.approx(1e-2 / 25)]                  # div_factor=25
    assert max(s[2] for s in frozen) == pytest.approx(1e-2, rel=0.05)          # near the peak at 99% of the phase
    assert max(range(10), key=lambda i: frozen[i][2]) == 8                     # 0.99 * 10 - 1 = 8.9: step 8 is the top
    assert unfrozen[0] == pytest.approx([1e-5, 1e-4, 1e-3])                    # slice(5e-5, 5e-3) / div_factor 5
    peaks = [max(s[i] for s in unfrozen) for i in range(3)]
    assert peaks == pytest.approx([5e-5, 5e-4, 5e-3], rel=1e-9)                # peaks at step 0.3 * 20 - 1 = 5
    assert unfrozen[-1][2] < 5e-3 / 5 / 1e4 * 1.5                              # ends near lr_max / div / 1e4


@pytest.mark.parametrize("device", devices())
def test_fine_tune_takes_a_cpu_data_loader_and_trains_on_the_models_device(device):
    model = stack(torch.float32).to(device)
    dl = DataLoader(TensorDataset(torch.randn(18, 4), torch.randint(3, (18,))), batch_size=4)  # 4, 4, 4, 4, 2
    losses = fine_tune(model, [model[0], model[2], model[4]], dl, nn.CrossEntropyLoss(), 3, 3e-2)
    assert len(losses) == 4 * len(dl) and sum(losses[-5:]) < sum(losses[:5])
    assert all(p.requires_grad for p in model.parameters())


def test_a_phase_of_zero_epochs_is_skipped():
    model = stack()
    x, y = torch.randn(8, 4, dtype=torch.float64), torch.randint(3, (8,))
    before = copy.deepcopy(model.state_dict())
    assert len(fine_tune(model, [model[0], model[2], model[4]], [(x, y)], F.cross_entropy, 2, 1e-2, 0)) == 2
    assert not torch.equal(model[0].weight, before["0.weight"])  # no frozen phase: the body trains at once
