"""The reference for 04_optimizers against PyTorch (torch.optim.SGD/RMSprop/Adam/AdamW, OneCycleLR)
and fastai's discriminative learning rates."""
import copy
import importlib
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from solutions.optimizers import Adam, RMSProp, SGDMomentum, lr_groups, one_cycle

pytestmark = pytest.mark.optimizers

DEVICES = ["cpu"] + ([pytest.param("cuda", marks=pytest.mark.cuda)] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]
N_STEPS = 25


class Net(nn.Module):
    """Two Linear layers, a bias-free parameter (`scale`) and one that never gets a gradient."""

    def __init__(self):
        super().__init__()
        self.lin1 = nn.Linear(4, 6)
        self.lin2 = nn.Linear(6, 3)
        self.scale = nn.Parameter(torch.linspace(0.5, 1.5, 3))
        self.unused = nn.Parameter(torch.ones(2))

    def forward(self, x):
        return self.lin2(torch.tanh(self.lin1(x))) * self.scale  # (B, 3)


def make_net(dtype, device, seed=0):
    torch.manual_seed(seed)
    return Net().to(device=device, dtype=dtype)


def batches(dtype, device, n=N_STEPS, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randn(8, 4, generator=g, dtype=dtype).to(device), torch.randn(8, 3, generator=g, dtype=dtype).to(device))
        for _ in range(n)
    ]


def groups(model, **first):
    """Two param groups: lin1 with its own hyper-parameters, the rest with the defaults."""
    rest = [*model.lin2.parameters(), model.scale, model.unused]
    return [dict(params=list(model.lin1.parameters()), **first), dict(params=rest)]


def tols(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)


def close(a, b, dtype, what):
    """allclose first (fast); assert_close only to explain a failure."""
    t = tols(dtype)
    if not torch.allclose(a, b, **t):
        assert_close(a, b, **t, msg=lambda m: f"{what}: {m}")


def assert_states_equal(ours, theirs, model_ours, model_theirs, names, dtype):
    for (name, p), q in zip(model_ours.named_parameters(), model_theirs.parameters()):
        close(p, q, dtype, f"parameter {name}")
        if name == "unused":
            assert not ours.state[p], "a parameter whose grad is None must get no state"
            continue
        assert set(ours.state[p]) == set(names), f"state names of {name}: {sorted(ours.state[p])}"
        for k in names:
            a, b = ours.state[p][k], theirs.state[q][k]
            if k == "step":
                assert float(a) == float(b), f"step of {name}: {a} vs {b}"
            else:
                assert a.dtype == p.dtype and a.device == p.device
                close(a, b, dtype, f"state {k} of {name}")


def run_side_by_side(make_ours, make_theirs, names, dtype, device):
    model_ours = make_net(dtype, device)
    model_theirs = copy.deepcopy(model_ours)
    ours, theirs = make_ours(model_ours), make_theirs(model_theirs)
    for x, y in batches(dtype, device):
        for model, opt in [(model_ours, ours), (model_theirs, theirs)]:
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
        assert_states_equal(ours, theirs, model_ours, model_theirs, names, dtype)
    return model_ours


# ------------------------------------------------------------------ SGDMomentum
SGD_CONFIGS = [
    dict(first=dict(), defaults=dict()),  # all defaults
    dict(first=dict(lr=0.1, momentum=0.5), defaults=dict(lr=0.03, momentum=0.9)),
    dict(first=dict(weight_decay=0.1), defaults=dict(lr=0.05, momentum=0.8, weight_decay=0.01)),
    dict(first=dict(momentum=0.99, weight_decay=0.0), defaults=dict(lr=0.02, weight_decay=0.5)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", SGD_CONFIGS, ids=range(len(SGD_CONFIGS)))
def test_sgd_momentum_matches_torch(cfg, dtype, device):
    d = dict(lr=0.01, momentum=0.9, weight_decay=0.0) | cfg["defaults"]
    run_side_by_side(
        lambda m: SGDMomentum(groups(m, **cfg["first"]), **cfg["defaults"]),
        lambda m: torch.optim.SGD(groups(m, **cfg["first"]), foreach=False, **d),
        ["momentum_buffer"],
        dtype,
        device,
    )


# ------------------------------------------------------------------ RMSProp
RMS_CONFIGS = [
    dict(first=dict(), defaults=dict()),
    dict(first=dict(lr=0.003, alpha=0.9), defaults=dict(lr=0.01, alpha=0.99)),
    dict(first=dict(weight_decay=0.1, eps=1e-6), defaults=dict(lr=0.005, weight_decay=0.01)),
    dict(first=dict(eps=1e-3), defaults=dict(alpha=0.5, eps=1e-8, weight_decay=0.0)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", RMS_CONFIGS, ids=range(len(RMS_CONFIGS)))
def test_rmsprop_matches_torch(cfg, dtype, device):
    d = dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0) | cfg["defaults"]
    run_side_by_side(
        lambda m: RMSProp(groups(m, **cfg["first"]), **cfg["defaults"]),
        lambda m: torch.optim.RMSprop(groups(m, **cfg["first"]), foreach=False, **d),
        ["square_avg"],
        dtype,
        device,
    )


# ------------------------------------------------------------------ Adam / AdamW
ADAM_CONFIGS = [
    dict(first=dict(), defaults=dict()),
    dict(first=dict(lr=0.01, betas=(0.8, 0.99)), defaults=dict(lr=0.003)),
    dict(first=dict(weight_decay=0.1), defaults=dict(lr=0.01, weight_decay=0.01)),
    dict(first=dict(eps=1e-4, weight_decay=0.0), defaults=dict(lr=0.02, betas=(0.5, 0.9), weight_decay=0.3)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True], ids=["adam", "adamw"])
@pytest.mark.parametrize("cfg", ADAM_CONFIGS, ids=range(len(ADAM_CONFIGS)))
def test_adam_matches_torch(cfg, decoupled, dtype, device):
    d = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0) | cfg["defaults"]
    oracle = torch.optim.AdamW if decoupled else torch.optim.Adam
    run_side_by_side(
        lambda m: Adam(groups(m, **cfg["first"]), decoupled=decoupled, **cfg["defaults"]),
        lambda m: oracle(groups(m, **cfg["first"]), foreach=False, **d),
        ["step", "exp_avg", "exp_avg_sq"],
        dtype,
        device,
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_decoupled_per_group(dtype):
    """`decoupled` is a group hyper-parameter too: Adam + L2 on lin1, AdamW on the rest."""
    model_ours = make_net(dtype, "cpu")
    model_theirs = copy.deepcopy(model_ours)
    ours = Adam(groups(model_ours, decoupled=False), lr=0.01, weight_decay=0.1, decoupled=True)
    lin1, rest = groups(model_theirs)
    theirs = [
        torch.optim.Adam(lin1["params"], lr=0.01, weight_decay=0.1, foreach=False),
        torch.optim.AdamW(rest["params"], lr=0.01, weight_decay=0.1, foreach=False),
    ]
    for x, y in batches(dtype, "cpu"):
        for model, opts in [(model_ours, [ours]), (model_theirs, theirs)]:
            for opt in opts:
                opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            for opt in opts:
                opt.step()
    for p, q in zip(model_ours.parameters(), model_theirs.parameters()):
        assert_close(p, q, **tols(dtype))


def test_adam_and_adamw_differ_with_weight_decay():
    """With weight decay, Adam + L2 and AdamW take different paths (the notebook's point)."""
    paths = []
    for decoupled in [False, True]:
        model = make_net(torch.float64, "cpu")
        opt = Adam(model.parameters(), lr=0.01, weight_decay=0.1, decoupled=decoupled)
        for x, y in batches(torch.float64, "cpu", n=5):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
        paths.append(model.lin1.weight.detach().clone())
    assert (paths[0] - paths[1]).abs().max() > 1e-6


# ------------------------------------------------------------------ shared behaviour
OPTIMIZERS = [
    (SGDMomentum, torch.optim.SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.01), ["momentum_buffer"]),
    (RMSProp, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01), ["square_avg"]),
    (Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01), ["step", "exp_avg", "exp_avg_sq"]),
]
OPT_IDS = ["sgd_momentum", "rmsprop", "adam"]


@pytest.mark.parametrize("ours_cls, torch_cls, kwargs, names", OPTIMIZERS, ids=OPT_IDS)
def test_closure(ours_cls, torch_cls, kwargs, names):
    """step(closure) re-evaluates the loss with grad enabled, returns it, and steps as torch does."""
    model_ours = make_net(torch.float64, "cpu")
    model_theirs = copy.deepcopy(model_ours)
    ours = ours_cls(model_ours.parameters(), **kwargs)
    theirs = torch_cls(model_theirs.parameters(), foreach=False, **kwargs)
    for x, y in batches(torch.float64, "cpu", n=10):
        losses = []
        for model, opt in [(model_ours, ours), (model_theirs, theirs)]:

            def closure(model=model, opt=opt):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean()
                loss.backward()
                return loss

            losses.append(opt.step(closure))
        assert isinstance(losses[0], torch.Tensor)
        assert_close(losses[0], losses[1], rtol=1e-12, atol=1e-12)
        assert_states_equal(ours, theirs, model_ours, model_theirs, names, torch.float64)
    assert ours.step() is None  # no closure: returns None


@pytest.mark.parametrize("ours_cls, torch_cls, kwargs, names", OPTIMIZERS, ids=OPT_IDS)
def test_defaults_and_state_names(ours_cls, torch_cls, kwargs, names):
    model = make_net(torch.float32, "cpu")
    opt = ours_cls(model.parameters())
    assert isinstance(opt, torch.optim.Optimizer)
    expected = {
        SGDMomentum: dict(lr=0.01, momentum=0.9, weight_decay=0.0),
        RMSProp: dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0),
        Adam: dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False),
    }[ours_cls]
    assert opt.defaults == expected
    ((model(torch.randn(2, 4)) ** 2).sum()).backward()
    opt.step()
    assert set(opt.state[model.lin1.weight]) == set(names)
    assert not opt.state[model.unused]


@pytest.mark.parametrize("ours_cls, torch_cls, kwargs, names", OPTIMIZERS, ids=OPT_IDS)
def test_add_param_group_and_state_dict(ours_cls, torch_cls, kwargs, names):
    """A group added later gets the defaults; state_dict round-trips into a fresh optimizer."""
    model = make_net(torch.float64, "cpu")
    opt = ours_cls(model.lin1.parameters(), **kwargs)
    opt.add_param_group(dict(params=list(model.lin2.parameters()), lr=0.001))
    assert opt.param_groups[1]["lr"] == 0.001
    assert opt.param_groups[1]["weight_decay"] == kwargs["weight_decay"]
    twin = copy.deepcopy(model)
    for x, y in batches(torch.float64, "cpu", n=3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    fresh = ours_cls(twin.lin1.parameters(), **kwargs)
    fresh.add_param_group(dict(params=list(twin.lin2.parameters()), lr=0.001))
    fresh.load_state_dict(copy.deepcopy(opt.state_dict()))  # torch may alias the tensors
    with torch.no_grad():
        for p, q in zip(model.parameters(), twin.parameters()):
            q.copy_(p)
    for m, o in [(model, opt), (twin, fresh)]:
        x, y = batches(torch.float64, "cpu", n=1, seed=7)[0]
        o.zero_grad()
        ((m(x) - y) ** 2).mean().backward()
        o.step()
    for p, q in zip(model.parameters(), twin.parameters()):
        assert_close(p, q, rtol=0, atol=0)


def test_onecycle_scheduler_drives_our_optimizers():
    """OneCycleLR sets `lr` and `momentum`/`betas` on our optimizers as on torch's."""
    for ours_cls, torch_cls, kwargs in [
        (SGDMomentum, torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
        (Adam, torch.optim.Adam, dict(lr=0.01)),
    ]:
        model_ours = make_net(torch.float64, "cpu")
        model_theirs = copy.deepcopy(model_ours)
        ours = ours_cls(model_ours.parameters(), **kwargs)
        theirs = torch_cls(model_theirs.parameters(), foreach=False, **kwargs)
        sched = [torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=10) for o in (ours, theirs)]
        for x, y in batches(torch.float64, "cpu", n=10):
            for model, opt, s in [(model_ours, ours, sched[0]), (model_theirs, theirs, sched[1])]:
                opt.zero_grad()
                ((model(x) - y) ** 2).mean().backward()
                opt.step()
                s.step()
        for p, q in zip(model_ours.parameters(), model_theirs.parameters()):
            assert_close(p, q, rtol=1e-12, atol=1e-12)


def test_forbidden_torch_optimizers_not_called(monkeypatch):
    """Our steps never call a torch.optim optimizer or its functional form."""

    def forbidden(*args, **kwargs):
        raise AssertionError("called a torch.optim optimizer")

    for name in ["sgd", "rmsprop", "adam", "adamw"]:  # the functional forms, torch.optim.<name>.<name>
        mod = importlib.import_module(f"torch.optim.{name}")
        if hasattr(mod, name):
            monkeypatch.setattr(mod, name, forbidden)
    for cls in [torch.optim.SGD, torch.optim.RMSprop, torch.optim.Adam, torch.optim.AdamW]:
        monkeypatch.setattr(cls, "step", forbidden)
    for ours_cls, kwargs in [(SGDMomentum, {}), (RMSProp, {}), (Adam, {}), (Adam, dict(decoupled=True, weight_decay=0.1))]:
        model = make_net(torch.float32, "cpu")
        opt = ours_cls(model.parameters(), **kwargs)
        ((model(torch.randn(2, 4)) ** 2).sum()).backward()
        opt.step()
        opt.step()


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (SGDMomentum, dict(lr=-0.1)),
        (SGDMomentum, dict(momentum=-0.5)),
        (SGDMomentum, dict(weight_decay=-1e-4)),
        (RMSProp, dict(lr=-1e-3)),
        (RMSProp, dict(alpha=-0.1)),
        (RMSProp, dict(eps=-1e-8)),
        (RMSProp, dict(weight_decay=-0.1)),
        (Adam, dict(lr=-1e-3)),
        (Adam, dict(eps=-1e-8)),
        (Adam, dict(betas=(1.0, 0.999))),
        (Adam, dict(betas=(-0.1, 0.999))),
        (Adam, dict(betas=(0.9, 1.0))),
        (Adam, dict(weight_decay=-0.01)),
    ],
)
def test_invalid_hyper_parameters(cls, kwargs):
    torch_cls = {SGDMomentum: torch.optim.SGD, RMSProp: torch.optim.RMSprop, Adam: torch.optim.Adam}[cls]
    params = [nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError) as theirs:
        torch_cls(params, **({"lr": 0.01} | kwargs))
    with pytest.raises(ValueError) as ours:
        cls(params, **kwargs)
    assert str(ours.value) == str(theirs.value)


# ------------------------------------------------------------------ lr_groups
def test_lr_groups_float():
    assert lr_groups(1e-3, 3) == [1e-3, 1e-3, 1e-3]
    assert lr_groups(0.01, 1) == [0.01]
    assert all(type(v) is float for v in lr_groups(1, 2))


def test_lr_groups_slice_hi():
    """slice(hi): hi for the last group, hi / div for the others (the lesson's /3)."""
    assert lr_groups(slice(1e-3), 3) == pytest.approx([1e-3 / 3, 1e-3 / 3, 1e-3], rel=1e-15)
    assert lr_groups(slice(1e-3), 4, div=10) == pytest.approx([1e-4, 1e-4, 1e-4, 1e-3], rel=1e-15)
    assert lr_groups(slice(1e-3), 1) == [1e-3]
    assert lr_groups(slice(None, 1e-3), 2) == pytest.approx([1e-3 / 3, 1e-3], rel=1e-15)


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_lr_groups_slice_lo_hi(n):
    """slice(lo, hi): geometric from lo to hi (fastai's even_mults)."""
    got = lr_groups(slice(1e-5, 1e-3), n)
    assert len(got) == n
    assert got == pytest.approx(np.geomspace(1e-5, 1e-3, n).tolist(), rel=1e-12)
    assert got[0] == 1e-5
    ratios = [b / a for a, b in zip(got, got[1:])]
    assert ratios == pytest.approx([ratios[0]] * (n - 1), rel=1e-12)


def test_lr_groups_slice_one_group_is_hi():
    """fastcore's even_mults(lo, hi, 1) returns hi: one group gets the top lr."""
    assert lr_groups(slice(1e-5, 1e-3), 1) == [1e-3]


def test_lr_groups_invalid():
    with pytest.raises(ValueError):
        lr_groups(1e-3, 0)


# ------------------------------------------------------------------ one_cycle
def torch_one_cycle(total_steps, lr_max, pct_start, div, div_final, moms):
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=lr_max, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=lr_max,
        total_steps=total_steps,
        pct_start=pct_start,
        anneal_strategy="cos",
        div_factor=div,
        final_div_factor=div_final,
        three_phase=False,
        cycle_momentum=True,
        base_momentum=moms[1],
        max_momentum=moms[0],
    )
    out = []
    for step in range(total_steps):
        g = opt.param_groups[0]
        out.append((g["lr"], g["momentum"]))
        if step < total_steps - 1:
            opt.step()
            sched.step()
    return out


ONE_CYCLE_SETTINGS = [
    dict(total_steps=1, lr_max=0.1),
    dict(total_steps=2, lr_max=0.1),
    dict(total_steps=3, lr_max=0.1),
    dict(total_steps=10, lr_max=0.01),
    dict(total_steps=100, lr_max=5e-3),
    dict(total_steps=97, lr_max=1.0, pct_start=0.25, div=10.0, div_final=100.0, moms=(0.9, 0.8)),
    dict(total_steps=10, lr_max=0.1, pct_start=0.5),
    dict(total_steps=10, lr_max=0.1, pct_start=0.0),
    dict(total_steps=10, lr_max=0.1, pct_start=1.0),
    dict(total_steps=3, lr_max=0.1, pct_start=0.9),
    dict(total_steps=1000, lr_max=3e-3, pct_start=0.1, moms=(0.95, 0.95)),
]


@pytest.mark.parametrize("setting", ONE_CYCLE_SETTINGS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_one_cycle_matches_onecyclelr(setting):
    full = dict(pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)) | setting
    expected = torch_one_cycle(**full)
    for step, (lr, mom) in enumerate(expected):
        got = one_cycle(step, **setting)
        assert got == pytest.approx((lr, mom), rel=1e-12, abs=1e-15), f"step {step}: {got} vs {(lr, mom)}"


def test_one_cycle_shape():
    """Starts at lr_max/div, peaks at lr_max, ends at lr_max/div/div_final; momentum mirrors it."""
    total = 100
    lrs, moms = zip(*(one_cycle(s, total, 0.01) for s in range(total)))
    assert lrs[0] == pytest.approx(0.01 / 25)
    assert max(lrs) == pytest.approx(0.01)
    assert lrs[-1] == pytest.approx(0.01 / 25 / 1e4)
    assert moms[0] == pytest.approx(0.95) and moms[-1] == pytest.approx(0.95)
    assert min(moms) == pytest.approx(0.85)
    assert np.argmax(lrs) == np.argmin(moms)


@pytest.mark.parametrize("step", [-1, 10, 11])
def test_one_cycle_step_out_of_range(step):
    with pytest.raises(ValueError):
        one_cycle(step, 10, 0.01)


def test_one_cycle_zero_length_warmup_like_torch():
    """pct_start * total_steps == 1 makes OneCycleLR divide 0 by 0 at step 0: so do we."""
    with pytest.raises(ZeroDivisionError):
        torch_one_cycle(10, 0.1, 0.1, 25.0, 1e4, (0.95, 0.85))
    with pytest.raises(ZeroDivisionError):
        one_cycle(0, 10, 0.1, pct_start=0.1)
    assert math.isfinite(one_cycle(1, 10, 0.1, pct_start=0.1)[0])


# ------------------------------------------------------------------ lr_find and suggest_lr
from solutions.optimizers import lr_find, suggest_lr  # noqa: E402


def regression(dtype=torch.float64, n=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g, dtype=dtype)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=dtype) + 1.0
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).to(dtype)
    return model, x, y


def by_hand(model, opt, batches, start_lr, end_lr, num_it, stop_div):
    """SPEC's lr finder written out step by step (on copies), as the oracle."""
    model, opt_state = copy.deepcopy(model), copy.deepcopy(opt.state_dict())
    opt = type(opt)(model.parameters(), **{k: v for k, v in opt.defaults.items() if k in ("lr", "momentum")})
    opt.load_state_dict(opt_state)
    lrs, losses = [], []
    schedule = np.geomspace(start_lr, end_lr, num_it)
    for i in range(num_it):
        x, y = batches[i % len(batches)]
        for group in opt.param_groups:
            group["lr"] = float(schedule[i])
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        lrs.append(float(schedule[i]))
        losses.append(loss.item())
        if stop_div and (not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses)):
            break
    return lrs, losses


import torch.nn.functional as F  # noqa: E402


@pytest.mark.parametrize("kwargs", [dict(start_lr=1e-4, end_lr=0.3, num_it=30, stop_div=False),
                                    dict(start_lr=1e-3, end_lr=100.0, num_it=60, stop_div=True),
                                    dict(start_lr=1e-7, end_lr=10.0, num_it=100, stop_div=True)])
def test_lr_find_matches_the_spec_step_by_step(kwargs):
    model, x, y = regression()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    want = by_hand(model, opt, batches, **kwargs)
    got = lr_find(model, F.mse_loss, opt, batches, **kwargs)
    assert all(type(v) is float for v in got[0] + got[1])
    assert got[0] == pytest.approx(want[0], rel=1e-12)
    assert got[1] == pytest.approx(want[1], rel=1e-9, nan_ok=True)
    assert got[0][0] == kwargs["start_lr"]
    if not kwargs["stop_div"]:
        assert len(got[0]) == kwargs["num_it"] and got[0][-1] == pytest.approx(kwargs["end_lr"], rel=1e-12)
    else:  # it stopped right after the first loss above 4 × the lowest so far
        losses = got[1]
        assert len(losses) < kwargs["num_it"]
        assert not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses)
        assert all(v <= 4 * min(losses[:i + 1]) for i, v in enumerate(losses[:-1]))


def test_lr_find_defaults():
    model, x, y = regression()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    want = by_hand(model, opt, batches, 1e-7, 10.0, 100, True)
    assert lr_find(model, F.mse_loss, opt, batches) == (pytest.approx(want[0]), pytest.approx(want[1]))


def test_lr_find_restores_the_model_and_the_optimizer():
    """Adam trained a few steps first (so it has state), two param groups; all of it comes back."""
    model, x, y = regression()
    opt = torch.optim.Adam([{"params": model[0].parameters(), "lr": 0.05}, {"params": model[2].parameters()}], lr=0.01)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()
    model_before, opt_before = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
    lr_find(model, F.mse_loss, opt, [(x, y)], start_lr=1e-3, end_lr=10.0, num_it=20)
    for k, v in model.state_dict().items():
        assert torch.equal(v, model_before[k])
    after = opt.state_dict()
    assert [g["lr"] for g in after["param_groups"]] == [0.05, 0.01]
    for i, state in opt_before["state"].items():
        for k, v in state.items():
            assert torch.equal(after["state"][i][k], v)


def test_lr_find_cycles_a_dataloader():
    """A DataLoader (its last batch smaller) is iterated again when it runs out."""
    model, x, y = regression(n=10)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=4)
    batches = list(loader)  # 4, 4, 2
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    want = by_hand(model, opt, batches, 1e-4, 0.1, 8, False)
    assert lr_find(model, F.mse_loss, opt, loader, start_lr=1e-4, end_lr=0.1, num_it=8, stop_div=False)[1] == \
        pytest.approx(want[1], rel=1e-9)


def test_suggest_lr():
    assert suggest_lr([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.0, 0.5, 3.0]) == pytest.approx(1e-2)
    assert suggest_lr([1e-3, 1e-2, 1e-1], [1.0, 0.5, float("nan")]) == pytest.approx(1e-3)
    assert suggest_lr([1e-3, 1e-2, 1e-1], [1.0, 0.5, float("inf")]) == pytest.approx(1e-3)
    assert suggest_lr([1e-3, 1e-2, 1e-1, 1.0], [2.0, 0.5, 0.5, 3.0]) == pytest.approx(1e-3)  # ties: the first
    assert type(suggest_lr([3e-3], [1.0])) is float
    with pytest.raises(ValueError):
        suggest_lr([1e-3], [float("nan")])


# ------------------------------------------------------------------ the visible tests are never stricter
def _catalogue():
    from autograder.exercise import resolve
    from autograder.exercises import optimizers as declared
    return declared.CHECKS, resolve(declared.CHECKS, declared.VARIANTS)


def _visible_cells():
    from pathlib import Path

    from autograder import authoring
    nb = authoring.read(Path(__file__).resolve().parents[1] / "source" / "lesson5" / "04_optimizers.ipynb")
    setup = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    graded = {c.metadata.nbgrader.grade_id: authoring.HIDDEN.sub("", c.source) for c in nb.cells
              if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
    return setup, graded


def _variant_ids():
    try:
        return [pytest.param(v, id=f"{v.answer}: {v.name[:60]}") for v in _catalogue()[1]]
    except Exception as exc:  # noqa: BLE001  (collection must not die with the declarations)
        return [pytest.param(None, id=f"declarations unavailable: {exc}")]


@pytest.mark.parametrize("variant", _variant_ids())
def test_a_visible_test_that_fails_means_the_hidden_check_fails_too(variant):
    """Every catalogued answer that fails a graded cell's visible tests also loses that cell's hidden check (and
    every correct one passes them): the visible tests are never stricter than the grading."""
    import matplotlib
    matplotlib.use("Agg")
    from autograder.grade import namespace
    from workbook.testing import ChecksFailed, NotAnswered

    checks, _ = _catalogue()
    setup, visible = _visible_cells()
    ns = namespace("solutions.optimizers", (variant,))
    exec(compile(setup, "<setup>", "exec"), ns)
    exec(compile(variant.source, "<variant>", "exec"), ns)  # the setup cell's imports come first in a notebook
    for check in checks:
        if variant.answer not in check.answers:
            continue
        try:
            exec(compile(visible[check.grade_id], f"<{check.grade_id}>", "exec"), ns)
        except (ChecksFailed, NotAnswered, AssertionError, Exception) as exc:  # noqa: B014
            assert check.grade_id in variant.loses, (f"{variant.answer}: {variant.name!r} fails the visible tests of "
                                                     f"{check.grade_id} ({type(exc).__name__}: {exc}) but not its "
                                                     "hidden check")
