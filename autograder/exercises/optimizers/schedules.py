"""04_optimizers: answers a learner could write for the schedules, the lr finder and the questionnaire."""
from ...exercise import alternative, edits, mistake, swap
from .sources import LR_FIND, LR_GROUPS, ONE_CYCLE, SUGGEST

SCHEDULE_VARIANTS = [
    # ------------------------------------------------------------------ lr_groups
    alternative("lr_groups", "the reference's shape, written with a ratio", LR_GROUPS),
    alternative("lr_groups", "numpy's geomspace, as a list", '''
def lr_groups(lr, n_groups, div=3.0):
    import numpy as np
    if isinstance(lr, slice):
        if lr.start is None:
            return [lr.stop / div] * (n_groups - 1) + [lr.stop]
        return np.geomspace(lr.start, lr.stop, n_groups).tolist()
    return [lr] * n_groups
'''),
    alternative("lr_groups", "torch.logspace, as a list", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr for _ in range(n_groups)]
    if lr.start is None:
        return [lr.stop / div if i < n_groups - 1 else lr.stop for i in range(n_groups)]
    return torch.logspace(math.log10(lr.start), math.log10(lr.stop), n_groups, dtype=torch.float64).tolist()
'''),
    alternative("lr_groups", "exp of evenly spaced logs, a tuple", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return (lr,) * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return (hi / div,) * (n_groups - 1) + (hi,)
    a, b = math.log(lo), math.log(hi)
    return tuple(math.exp(a + (b - a) * i / (n_groups - 1)) for i in range(n_groups))
'''),
    *edits("lr_groups", LR_GROUPS, {
        "slice(hi) giving hi to every group (all but the last get hi / div)": (
            "return [hi / div] * (n_groups - 1) + [hi]", "return [hi] * n_groups"),
        "slice(hi) giving hi to the first group instead of the last": (
            "return [hi / div] * (n_groups - 1) + [hi]", "return [hi] + [hi / div] * (n_groups - 1)"),
        "slice(hi) dividing by 10 (fastai's factor) instead of div": (
            "[hi / div] * (n_groups - 1)", "[hi / 10] * (n_groups - 1)"),
        "values spaced evenly on a linear scale instead of a log scale": (
            "    ratio = (hi / lo) ** (1 / (n_groups - 1))\n    return [lo * ratio ** i for i in range(n_groups)]",
            "    return torch.linspace(lo, hi, n_groups, dtype=torch.float64).tolist()"),
        "the values in reverse order (the first group gets hi, the last lo)": (
            "return [lo * ratio ** i for i in range(n_groups)]", "return [hi / ratio ** i for i in range(n_groups)]"),
        "a float returned as is, not a list": ("return [lr] * n_groups", "return lr"),
    }),
    mistake("lr_groups", "a numpy array instead of a list of floats (add .tolist())", '''
def lr_groups(lr, n_groups, div=3.0):
    import numpy as np
    if isinstance(lr, slice):
        if lr.start is None:
            return np.array([lr.stop / div] * (n_groups - 1) + [lr.stop])
        return np.geomspace(lr.start, lr.stop, n_groups)
    return np.full(n_groups, lr)
'''),

    # ------------------------------------------------------------------ one_cycle
    alternative("one_cycle", "the phases as a table, numpy's cos", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    import numpy as np
    peak = pct_start * total_steps - 1
    phases = [(0.0, peak, lr_max / div, lr_max, moms[0], moms[1]),
              (peak, total_steps - 1, lr_max, lr_max / div / div_final, moms[1], moms[0])]
    start, end, lr0, lr1, m0, m1 = phases[0] if step <= peak else phases[1]
    w = (np.cos(np.pi * (step - start) / (end - start)) + 1) / 2
    return float(lr1 + (lr0 - lr1) * w), float(m1 + (m0 - m1) * w)
'''),
    alternative("one_cycle", "a cosine helper, a list returned", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    def cos_anneal(start, end, pct):
        return end + (start - end) / 2 * (1 + math.cos(math.pi * pct))
    up = pct_start * total_steps - 1
    if step <= up:
        pct = step / up
        return [cos_anneal(lr_max / div, lr_max, pct), cos_anneal(moms[0], moms[1], pct)]
    pct = (step - up) / (total_steps - 1 - up)
    return [cos_anneal(lr_max, lr_max / (div * div_final), pct), cos_anneal(moms[1], moms[0], pct)]
'''),
    *edits("one_cycle", ONE_CYCLE, {
        "linear annealing instead of cosine (OneCycleLR's anneal_strategy='cos')": (
            "w = (1 + math.cos(math.pi * pct)) / 2", "w = 1 - pct"),
        "the momentum moving with the learning rate instead of against it": (
            "lr_max / div, lr_max, moms[0], moms[1]", "lr_max / div, lr_max, moms[1], moms[0]",
            "lr_max, lr_max / div / div_final, moms[1], moms[0]",
            "lr_max, lr_max / div / div_final, moms[0], moms[1]"),
        "the warm-up peaking at step pct_start·total_steps (OneCycleLR peaks at pct_start·total_steps − 1)": (
            "peak = pct_start * total_steps - 1", "peak = pct_start * total_steps"),
        "ending at lr_max / div_final (OneCycleLR ends at lr_max / div / div_final)": (
            "lr_max / div / div_final", "lr_max / div_final"),
    }),
    mistake("one_cycle", "fastai's fit_one_cycle (position step / total_steps, final lr lr_max / div_final), "
                         "not OneCycleLR", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    pos = step / total_steps
    if pos < pct_start:
        pct, lr_a, lr_b, mom_a, mom_b = pos / pct_start, lr_max / div, lr_max, moms[0], moms[1]
    else:
        pct = (pos - pct_start) / (1 - pct_start)
        lr_a, lr_b, mom_a, mom_b = lr_max, lr_max / div_final, moms[1], moms[0]
    w = (1 + math.cos(math.pi * pct)) / 2
    return lr_b + (lr_a - lr_b) * w, mom_b + (mom_a - mom_b) * w
'''),
    mistake("one_cycle", "the momentum left out (the lr alone)", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    peak = pct_start * total_steps - 1
    if step <= peak:
        pct, a, b = step / peak, lr_max / div, lr_max
    else:
        pct, a, b = (step - peak) / (total_steps - 1 - peak), lr_max, lr_max / div / div_final
    return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2
'''),
    mistake("one_cycle", "OneCycleLR on a torch.optim.SGD underneath (forbidden)", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr_max, momentum=moms[0])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr_max, total_steps=total_steps, pct_start=pct_start,
                                                div_factor=div, final_div_factor=div_final,
                                                base_momentum=moms[1], max_momentum=moms[0])
    for _ in range(step):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
'''),

    mistake("one_cycle", "OneCycleLR on a bare Optimizer (forbidden)", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    opt = torch.optim.Optimizer([torch.zeros(1, requires_grad=True)], {"lr": lr_max, "momentum": moms[0]})
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr_max, total_steps=total_steps, pct_start=pct_start,
                                                div_factor=div, final_div_factor=div_final,
                                                base_momentum=moms[1], max_momentum=moms[0])
    for _ in range(step):
        sched.step()
    return opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
'''),

    # ------------------------------------------------------------------ lr_find
    alternative("lr_find", "deep copies, itertools.cycle, the lr from exp and log", LR_FIND),
    alternative("lr_find", "numpy's geomspace, a batch counter, try/finally", '''
import copy


def lr_find(model, loss_func, opt, batches, start_lr=1e-7, end_lr=10.0, num_it=100, stop_div=True):
    import numpy as np
    saved = copy.deepcopy((model.state_dict(), opt.state_dict()))
    schedule = np.geomspace(start_lr, end_lr, num_it).tolist()
    lrs, losses, best = [], [], float("inf")
    try:
        it = iter(batches)
        for lr in schedule:
            for group in opt.param_groups:
                group["lr"] = lr
            batch = next(it, None)
            if batch is None:
                it = iter(batches)
                batch = next(it)
            x, y = batch
            opt.zero_grad()
            loss = loss_func(model(x), y)
            loss.backward()
            opt.step()
            lrs.append(lr)
            losses.append(float(loss))
            best = min(best, losses[-1])
            if stop_div and (math.isnan(losses[-1]) or math.isinf(losses[-1]) or losses[-1] > 4 * best):
                break
    finally:
        model.load_state_dict(saved[0])
        opt.load_state_dict(saved[1])
    return lrs, losses
'''),
    *edits("lr_find", LR_FIND, {
        "lrs spaced linearly instead of geometrically": (
            "lr = math.exp(math.log(start_lr) + (math.log(end_lr) - math.log(start_lr)) * i / (num_it - 1))",
            "lr = start_lr + (end_lr - start_lr) * i / (num_it - 1)"),
        "i / num_it in the exponent instead of i / (num_it − 1) (the last lr falls short of end_lr)": (
            "* i / (num_it - 1))", "* i / num_it)"),
        "the loss recorded after the step instead of before it": (
            "losses.append(loss.item())", "losses.append(loss_func(model(x), y).item())"),
        "a smoothed loss recorded (fastai's plot) instead of the raw one": (
            "lrs, losses = [], []", "lrs, losses, avg = [], [], 0.0",
            "losses.append(loss.item())",
            "avg = 0.98 * avg + 0.02 * loss.item()\n        losses.append(avg / (1 - 0.98 ** (i + 1)))"),
        "the gradients never zeroed (each step adds the new gradient to the old ones)": (
            "        opt.zero_grad()\n", ""),
        "stop_div ignored (it never stops early)": ("if stop_div and (", "if False and ("),
        "stopping before recording the loss that diverged (record it, then stop)": (
            "        lrs.append(lr)\n        losses.append(loss.item())\n", "",
            "        if stop_div and (not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses)):\n"
            "            break\n",
            "        if stop_div and losses and (not math.isfinite(loss.item()) or loss.item() > 4 * "
            "min(losses)):\n            break\n        lrs.append(lr)\n        losses.append(loss.item())\n"),
        "divergence measured against the first loss instead of the lowest so far": (
            "4 * min(losses)", "4 * losses[0]"),
        "not cycling through the batches (it stops when they run out)": (
            "data = itertools.cycle(batches)", "data = iter(batches)",
            "        x, y = next(data)\n",
            "        batch = next(data, None)\n        if batch is None:\n            break\n        x, y = batch\n"),
        "always the first batch (iter(batches) made anew at every step)": (
            "x, y = next(data)", "x, y = next(iter(batches))"),
        "the lr set on the first param group only": (
            '        for group in opt.param_groups:\n            group["lr"] = lr\n',
            '        opt.param_groups[0]["lr"] = lr\n'),
        "the model not restored afterwards": ("    model.load_state_dict(model_state)\n", ""),
        "the optimizer not restored afterwards": ("    opt.load_state_dict(opt_state)\n", ""),
        "model.state_dict() kept without a copy (its tensors are the parameters themselves, which the steps change)": (
            "model_state = copy.deepcopy(model.state_dict())", "model_state = model.state_dict()"),
        "opt.state_dict() kept without a copy (its tensors are the optimizer's own buffers, which the steps change)": (
            "opt_state = copy.deepcopy(opt.state_dict())", "opt_state = opt.state_dict()"),
        "the optimizer's buffers restored but not its learning rates": (
            "opt_state = copy.deepcopy(opt.state_dict())",
            "opt_state = {p: copy.deepcopy(s) for p, s in opt.state.items()}",
            "    opt.load_state_dict(opt_state)\n", "    opt.state.clear()\n    opt.state.update(opt_state)\n"),
    }),

    # ------------------------------------------------------------------ suggest_lr
    alternative("suggest_lr", "a loop that keeps the best finite point", SUGGEST),
    alternative("suggest_lr", "min over the finite points' indices", '''
def suggest_lr(lrs, losses):
    finite = [i for i in range(len(losses)) if math.isfinite(losses[i])]
    return lrs[min(finite, key=lambda i: losses[i])] / 10
'''),
    alternative("suggest_lr", "numpy's nanargmin, infinities masked", '''
def suggest_lr(lrs, losses):
    import numpy as np
    values = np.array(losses, dtype=float)
    values[np.isinf(values)] = np.nan
    return float(lrs[int(np.nanargmin(values))]) / 10
'''),
    mistake("suggest_lr", "the lr of the lowest loss itself, not divided by 10", swap(SUGGEST, "best[0] / 10", "best[0]")),
    mistake("suggest_lr", "np.argmin, which takes a nan as the lowest loss", '''
def suggest_lr(lrs, losses):
    import numpy as np
    return lrs[int(np.argmin(losses))] / 10
'''),
    mistake("suggest_lr", "the lr one step after the lowest loss", '''
def suggest_lr(lrs, losses):
    finite = [i for i in range(len(losses)) if math.isfinite(losses[i])]
    best = min(finite, key=lambda i: losses[i])
    return lrs[min(best + 1, len(lrs) - 1)] / 10
'''),
    mistake("suggest_lr", "the lr where the loss falls fastest (fastai's 'steep'), not the lowest loss's / 10", '''
def suggest_lr(lrs, losses):
    if len(losses) < 2:
        return lrs[0] / 10
    drops = [losses[i + 1] - losses[i] if math.isfinite(losses[i + 1]) else math.inf for i in range(len(losses) - 1)]
    return lrs[drops.index(min(drops))]
'''),
    mistake("suggest_lr", "a tensor instead of a float", '''
def suggest_lr(lrs, losses):
    values = torch.tensor(losses).nan_to_num(float("inf"))
    return torch.tensor(lrs)[values.argmin()] / 10
'''),
]
