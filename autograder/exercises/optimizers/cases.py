"""04_optimizers: the inputs each graded cell is checked on (the case grids), and the questionnaire's checks."""

from ...cases import FLOATS, Case, dtype_str, each_device, rand, randn
from ...exercise import question

# ------------------------------------------------------------------ the optimizers' cases

N_STEPS = 4
SHAPES = {"w1": (5, 4), "b1": (4,), "w2": (4, 3), "b2": (3,)}  # the tiny model x (B, 5) → (B, 3)
SCALES = {"w1": 1.0, "b1": 0.1, "w2": 3.0, "b2": 1e-3}        # gradients of very different sizes
STATE = {"SGDMomentum": ("momentum_buffer",), "RMSProp": ("square_avg",), "Adam": ("step", "exp_avg", "exp_avg_sq")}


def _hp(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _start(seed: int, dtype, shapes=SHAPES) -> dict:
    return {n: randn(*s, seed=10 * seed + i, dtype=dtype, scale=0.5) for i, (n, s) in enumerate(shapes.items())}


def _grads(seed: int, dtype, n_steps=N_STEPS, first=None, shapes=SHAPES) -> list:
    """Gradients for each step (name → tensor); `first[name]` is the step (from 0) of a parameter's first one."""
    first = first or {}
    return [{n: randn(*s, seed=1000 + 100 * seed + 10 * k + i, dtype=dtype, scale=SCALES.get(n, 1.0))
             for i, (n, s) in enumerate(shapes.items()) if k >= first.get(n, 0)} for k in range(n_steps)]


def _data(seed: int, dtype) -> dict:
    return {"x": randn(N_STEPS * 4, 5, seed=500 + seed, dtype=dtype),
            "y": randn(N_STEPS * 4, 3, seed=600 + seed, dtype=dtype), "batch": 4}


def _state_names(cls: str, kwargs: dict) -> tuple:
    if cls == "SGDMomentum" and kwargs.get("momentum", 0.9) == 0:
        return ()  # torch.optim.SGD keeps no buffer without momentum
    return STATE[cls]


def optimizer_cases(cls: str, settings: list[dict], late: dict, loop: dict, closure: dict | None) -> list[Case]:
    """`cls` after each of a few steps: each of `settings` on given gradients in both dtypes; `late` with b2's
    first gradient at step 2 and w2's at step 3; `loop` in a training loop with zero_grad(set_to_none=False);
    `closure` through step(closure)."""
    cases = []

    def add(kwargs, dtype, what, seed, **inputs):
        call = f"{cls}(params{', ' + _hp(kwargs) if kwargs else ''})"
        inputs = {"cls": cls, "start": _start(seed, dtype), "n_steps": N_STEPS, "kwargs": kwargs,
                  "state_names": _state_names(cls, kwargs), **inputs}
        cases.append(Case(f"{call}: {what}, {dtype_str(dtype)}", inputs))

    for i, kwargs in enumerate(settings):
        for dtype in FLOATS:
            add(kwargs, dtype, f"{N_STEPS} steps on given gradients", i, grads=_grads(i, dtype))
    add(late, FLOATS[1], f"{N_STEPS} steps where b2's first gradient comes at step 2 and w2's at step 3 "
                         "(until then their .grad is None)", 7, grads=_grads(7, FLOATS[1], first={"b2": 1, "w2": 2}))
    for dtype in FLOATS:
        add(loop, dtype, f"{N_STEPS} steps of a training loop that calls opt.zero_grad(set_to_none=False), so "
                         "each p.grad is the same tensor at every step", 8, **_data(8, dtype), zero_grad=False)
    if closure is not None:
        add(closure, FLOATS[1], f"{N_STEPS} calls of opt.step(closure)", 9, **_data(9, FLOATS[1]), closure=True)
    return each_device(cases)


def sgd_cases():
    """SGDMomentum equals torch.optim.SGD (no dampening) after every step: parameters and momentum_buffer,
    the defaults left out, in a real loop, with step(closure)."""
    return optimizer_cases("SGDMomentum", [{}, dict(lr=0.1, momentum=0.5, weight_decay=0.1),
                                           dict(lr=0.1, momentum=0.0, weight_decay=0.01)],
                           late=dict(lr=0.05, momentum=0.9, weight_decay=0.01), loop=dict(lr=0.1),
                           closure=dict(lr=0.1, weight_decay=0.01))


def rmsprop_cases():
    """RMSProp equals torch.optim.RMSprop after every step: parameters and square_avg, the defaults left out,
    in a real loop, with step(closure)."""
    return optimizer_cases("RMSProp", [{}, dict(lr=0.01, alpha=0.9, eps=1e-3),
                                       dict(lr=0.003, alpha=0.5, eps=1e-6, weight_decay=0.1)],
                           late=dict(lr=0.01, alpha=0.9), loop=dict(lr=0.01, alpha=0.9),
                           closure=dict(lr=0.01, weight_decay=0.1))


def adam_cases():
    """Adam(decoupled=False) equals torch.optim.Adam after every step: parameters, step, exp_avg, exp_avg_sq,
    the defaults left out, in a real loop, with step(closure)."""
    return optimizer_cases("Adam", [{}, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-3),
                                    dict(lr=0.02, betas=(0.9, 0.95), weight_decay=0.1),
                                    dict(lr=0.01, weight_decay=0.5, decoupled=False)],
                           late=dict(lr=0.01), loop=dict(lr=0.01, betas=(0.8, 0.99)),
                           closure=dict(lr=0.01, weight_decay=0.1))


def adamw_cases():
    """Adam(decoupled=True) equals torch.optim.AdamW with the same weight_decay after every step, state included
    (our default weight_decay is 0.0, AdamW's 0.01)."""
    return optimizer_cases("Adam", [dict(lr=0.01, weight_decay=0.1, decoupled=True),
                                    dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.5, decoupled=True),
                                    dict(decoupled=True)],
                           late=dict(lr=0.01, weight_decay=0.2, decoupled=True),
                           loop=dict(lr=0.01, weight_decay=0.3, decoupled=True), closure=None)


# Three groups: two with their own settings, the third with the constructor's; it holds `unused`,
# which never gets a gradient (and whose group decays weights, so a step that does not skip it moves it).
GROUP_SHAPES = {**SHAPES, "unused": (2, 2)}
GROUPS = {
    "SGDMomentum": (dict(lr=0.05, momentum=0.8, weight_decay=0.2),
                    [dict(lr=0.2, momentum=0.5), dict(momentum=0.95, weight_decay=0.0)]),
    "RMSProp": (dict(lr=0.005, alpha=0.9, weight_decay=0.2),
                [dict(lr=0.02, alpha=0.5, eps=1e-3), dict(eps=1e-6, weight_decay=0.0)]),
    "Adam": (dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.2),
             [dict(lr=0.03, betas=(0.5, 0.9), eps=1e-3), dict(weight_decay=0.0, decoupled=True)]),
    "Adam(decoupled=True)": (dict(lr=0.01, weight_decay=0.3, decoupled=True),
                             [dict(lr=0.05, eps=1e-4, weight_decay=0.1), dict(betas=(0.8, 0.9), decoupled=False)]),
}
GROUP_NAMES = (("w1", "b1"), ("w2",), ("b2", "unused"))
LR_FACTORS = (1.0, 0.5, 2.0, 0.25, 1.5)  # each group's lr × these, step by step
MOMENTA = (0.9, 0.6, 0.95, 0.8, 0.7)     # SGD's momentum, Adam's beta1, step by step
SCHEDULED = {  # no weight decay: then the state does not depend on lr
    "SGDMomentum": (dict(lr=0.05, momentum=0.9, weight_decay=0.0), "momentum"),
    "RMSProp": (dict(lr=0.01, alpha=0.9, weight_decay=0.0), None),
    "Adam": (dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.0), "betas"),
}


def group_cases():
    """Each optimizer honours every param group's own settings (against itself, made for each group alone), leaves a
    parameter whose .grad is None alone, and follows lr (and momentum, betas) changed between steps."""
    cases = []
    for name, (kwargs, own) in GROUPS.items():
        cls = name.split("(")[0]
        groups = [{"params": list(names), **hp} for names, hp in zip(GROUP_NAMES, own + [{}])]
        for dtype in FLOATS:
            inputs = {"cls": cls, "start": _start(20, dtype, GROUP_SHAPES), "groups": groups, "kwargs": kwargs,
                      "grads": _grads(20, dtype, 5, shapes=SHAPES)}
            cases.append(Case(f"{cls}([3 param groups {[hp for hp in own + [{}]]}], {_hp(kwargs)}): 5 steps on given "
                              f"gradients, `unused` without one, {dtype_str(dtype)}", inputs))
    for cls, (kwargs, key) in SCHEDULED.items():
        groups = [{"params": list(GROUP_NAMES[0]), "lr": kwargs["lr"] * 3}, {"params": list(GROUP_NAMES[1])},
                  {"params": list(GROUP_NAMES[2])}]
        for dtype in FLOATS:
            inputs = {"cls": cls, "start": _start(21, dtype, GROUP_SHAPES), "groups": groups, "kwargs": kwargs,
                      "grads": _grads(21, dtype, 5, shapes=SHAPES), "lr_factors": LR_FACTORS}
            changes = "lr"
            if key:
                inputs.update(momenta=MOMENTA, momentum_key=key)
                changes += f" and {key}"
            cases.append(Case(f"{cls}([3 param groups], {_hp(kwargs)}) whose {changes} change between steps "
                              f"(lr × {list(LR_FACTORS)}), on given gradients, {dtype_str(dtype)}", inputs))
    return each_device(cases)


# ------------------------------------------------------------------ schedules

LR_GROUPS = [((1e-3, 4), {}), ((0.1, 1), {}), ((1, 2), {}), ((3e-4, 2), dict(div=10.0)),
             ((slice(1e-3), 3), {}), ((slice(1e-3), 3), dict(div=10.0)), ((slice(0.01), 1), {}),
             ((slice(2e-2), 5), {}), ((slice(None, 6e-3), 2), {}),
             ((slice(1e-5, 1e-3), 3), {}), ((slice(1e-6, 1e-2), 5), {}), ((slice(1e-4, 1e-2), 2), {}),
             ((slice(2e-5, 3e-3), 4), dict(div=7.0))]


def lr_groups_cases():
    """lr_groups(lr, n_groups, div) gives fastai's discriminative learning rates, a list of floats, for a float,
    slice(hi) and slice(lo, hi)."""
    return [Case(f"lr_groups({lr!r}, {n}{', ' + _hp(kw) if kw else ''})", {"fn": "lr_groups", "args": [lr, n],
                                                                              "kwargs": kw})
            for (lr, n), kw in LR_GROUPS]


ONE_CYCLE = [dict(total_steps=100, lr_max=1e-2),
             dict(total_steps=37, lr_max=0.5, pct_start=0.25, div=10.0, div_final=100.0, moms=(0.9, 0.8)),
             dict(total_steps=10, lr_max=3e-3, pct_start=0.5, div=5.0, div_final=1e3),
             dict(total_steps=250, lr_max=1.0, pct_start=0.1, div=25.0, div_final=1e4, moms=(0.99, 0.8)),
             dict(total_steps=7, lr_max=0.1, pct_start=0.4, moms=(0.95, 0.9)),
             dict(total_steps=1, lr_max=0.1), dict(total_steps=2, lr_max=0.1), dict(total_steps=3, lr_max=0.1),
             dict(total_steps=10, lr_max=0.1, pct_start=0.0), dict(total_steps=10, lr_max=0.1, pct_start=1.0),
             dict(total_steps=3, lr_max=0.1, pct_start=0.9),
             dict(total_steps=1000, lr_max=3e-3, pct_start=0.1, moms=(0.95, 0.95))]


def one_cycle_cases():
    """one_cycle(step, total_steps, lr_max, ...) equals OneCycleLR's lr and momentum at every step, for several
    settings and the edges of pct_start."""
    cases = []
    for kw in ONE_CYCLE:
        rest = {k: v for k, v in kw.items() if k not in ("total_steps", "lr_max")}
        label = f"one_cycle(step, {kw['total_steps']}, {kw['lr_max']!r}{', ' + _hp(rest) if rest else ''})"
        cases.append(Case(label, {"fn": "one_cycle", "total_steps": kw["total_steps"], "args": [kw["lr_max"]],
                                  "kwargs": rest}))
    return cases


# ------------------------------------------------------------------ the lr finder

def _regression(seed: int, n: int, dtype):
    """A small regression task and a Linear(3, 6) → Tanh → Linear(6, 1) model's starting state."""
    x = randn(n, 3, seed=700 + seed, dtype=dtype)
    y = (x @ randn(3, 1, seed=710 + seed, dtype=dtype)) + 0.1 * randn(n, 1, seed=720 + seed, dtype=dtype) + 2.0
    state = {"0.weight": randn(6, 3, seed=730 + seed, dtype=dtype, scale=0.5), "0.bias": randn(6, seed=731 + seed,
                                                                                          dtype=dtype, scale=0.1),
             "2.weight": randn(1, 6, seed=732 + seed, dtype=dtype, scale=0.5), "2.bias": randn(1, seed=733 + seed,
                                                                                          dtype=dtype, scale=0.1)}
    return {"x": x, "y": y, "state": state}


LR_FIND = [  # (lr_find's kwargs, the scenario's settings, what the learner reads)
    ({}, dict(opt="sgd", opt_kwargs=dict(lr=0.01, momentum=0.9), n=40, batch=8, dtype=FLOATS[0]),
     "the defaults, SGD(momentum=0.9), a list of 5 batches"),
    (dict(start_lr=1e-4, end_lr=0.3, num_it=30, stop_div=False),
     dict(opt="adam", opt_kwargs=dict(lr=1e-3), n=10, batch=4, loader="dataloader", pretrain=3, dtype=FLOATS[1]),
     "Adam trained 3 steps before, a DataLoader of batches of 4, 4, 2"),
    (dict(start_lr=1e-3, end_lr=100.0, num_it=40),
     dict(opt="sgd", opt_kwargs=dict(lr=0.01, momentum=0.9), n_groups=2, n=24, batch=8, pretrain=2,
          dtype=FLOATS[1]), "SGD(momentum=0.9) over 2 param groups, trained 2 steps before, a list of 3 batches"),
    (dict(start_lr=0.01, end_lr=0.1, num_it=2, stop_div=False),
     dict(opt="sgd", opt_kwargs=dict(lr=0.01), n=8, batch=8, dtype=FLOATS[0]), "SGD, one batch"),
]


def lr_find_cases():
    """lr_find(model, loss_func, opt, batches, ...) records the lrs and raw losses of fastai's lr finder (geometric lrs,
    batches cycled, stop on divergence) and leaves the model and the optimizer as they were."""
    cases = []
    for i, (kwargs, setting, what) in enumerate(LR_FIND):
        setting = dict(setting)
        data = _regression(i, setting.pop("n"), setting.pop("dtype"))
        call = f"lr_find(model, F.mse_loss, opt, batches{', ' + _hp(kwargs) if kwargs else ''})"
        cases.append(Case(f"{call} with {what}, {dtype_str(data['x'].dtype)}", {**data, "kwargs": kwargs, **setting}))
    return each_device(cases)


def _losses(seed: int, n: int = 20):
    """A made-up lr-finder curve: lrs 1e-5 … 1, losses falling to a minimum then rising."""
    lrs = [1e-5 * 10 ** (5 * i / (n - 1)) for i in range(n)]
    noise = rand(n, seed=800 + seed, low=-0.05, high=0.05).tolist()
    bottom = 3 + seed % 7 * 2
    return lrs, [2.0 - 1.5 * min(i, bottom) / bottom + max(0, i - bottom) ** 2 * 0.3 + e for i, e in enumerate(noise)]


def suggest_lr_cases():
    """suggest_lr(lrs, losses) is the lr of the lowest loss divided by 10, a float, skipping losses that are not
    finite."""
    cases = []
    for seed in range(3):
        lrs, losses = _losses(seed)
        cases.append(Case(f"suggest_lr on a made-up curve of {len(lrs)} points (seed {seed})",
                          {"fn": "suggest_lr", "args": [lrs, losses]}))
    lrs, losses = _losses(3)
    for bad in (float("nan"), float("inf")):
        cases.append(Case(f"suggest_lr on a curve whose last loss is {bad} (lr_find stopped on it)",
                          {"fn": "suggest_lr", "args": [lrs + [lrs[-1] * 2], losses + [bad]]}))
    cases.append(Case("suggest_lr when two losses tie for the lowest (the first counts)",
                      {"fn": "suggest_lr", "args": [[1e-4, 1e-3, 1e-2, 1e-1], [2.0, 0.5, 0.5, 3.0]]}))
    cases.append(Case("suggest_lr on a single point", {"fn": "suggest_lr", "args": [[3e-3], [1.25]]}))
    return cases


# ------------------------------------------------------------------ the questionnaire

QUESTIONS = [
    question("momentum_buffer_question", 1, "q_momentum_buffer", 2.71, rel_tol=1e-3,
             doc="q_momentum_buffer: torch's momentum_buffer after three steps of gradient 1 with momentum 0.9.",
             right={"the sum 1 + 0.9 + 0.81": "1 + 0.9 + 0.81"},
             wrong={"the dampened average's value (1 − 0.9³ = 0.271: torch's buffer adds whole gradients)": "0.271"}),
    question("adam_first_step_question", 1, "q_adam_first_step", "b", choices=("a", "b", "c"),
             doc="q_adam_first_step: the size of Adam's first step.", right={"an upper-case letter": '"B"'},
             wrong={"lr times the gradient (Adam divides by √v̂, which is |g| at the first step)": '"a"'}),
    question("adamw_default_question", 1, "q_adamw_default", 0.01, rel_tol=1e-6,
             doc="q_adamw_default: torch.optim.AdamW's default weight_decay.", right={"written as 1e-2": "1e-2"},
             wrong={"our Adam's default (0.0), not torch.optim.AdamW's": "0.0"}),
    question("one_cycle_momentum_question", 1, "q_one_cycle_momentum", "b", choices=("a", "b", "c"),
             doc="q_one_cycle_momentum: what the momentum does while one-cycle warms the lr up.",
             right={"with spaces": '" b "'}, wrong={"the momentum rising with the lr": '"a"'}),
    question("optimizer_in_update_question", 1, "q_optimizer_in_update", "c", choices=("a", "b", "c"),
             doc="q_optimizer_in_update: what Adam does when update() makes a new one at every call.",
             right={"an upper-case letter": '"C"'},
             wrong={"Adam as if made once (a new one starts from empty state every time)": '"a"'}),
]
