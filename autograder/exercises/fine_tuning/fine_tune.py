"""07_fine_tuning: answers a learner could write for fine_tune (correct alternatives, mistakes)."""
from ...exercise import alternative, edit, edits, mistake, swap

# fine_tune as a learner would write it (the reference, less its 0-epoch guard and model.train()): each mistake
# below is a few edits of it.
FINE_TUNE = '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    losses = []
    def fit_one_cycle(opt, n_epochs, pct_start, div):
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
            total_steps=n_epochs * len(train_batches), pct_start=pct_start, div_factor=div)
        for _ in range(n_epochs):
            for x, y in train_batches:
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                opt.zero_grad()
                sched.step()
                losses.append(loss.item())
    for group in groups[:-1]:
        freeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses
'''
# Pieces of it the edits name: the unfreezing between the phases; the inner function that trains a phase, and
# its OneCycleLR; the edits that drop pct_start and div from both phases' calls.
UNFREEZE = "    for group in groups:\n        unfreeze(group)\n"
FIT_ONE_CYCLE = FINE_TUNE[FINE_TUNE.index("    def fit_one_cycle"):FINE_TUNE.index("    for group in groups[:-1]")]
SCHEDULER = FINE_TUNE[FINE_TUNE.index("        sched = "):FINE_TUNE.index("        for _ in")]
NO_PCT_START_DIV = ((", freeze_epochs, 0.99, 25.0)", ", freeze_epochs)"), (", epochs, 0.3, 5.0)", ", epochs)"))


FINE_TUNE_VARIANTS = [
    alternative("fine_tune", "every group frozen then the head unfrozen, the head alone in the first Adam", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    losses = []
    def run(opt, n_epochs, max_lr, **settings):
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, epochs=n_epochs,
                                                    steps_per_epoch=len(train_batches), **settings)
        for epoch in range(n_epochs):
            for x, y in train_batches:
                model.zero_grad()
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                sched.step()
                losses.append(float(loss))
    for g in groups:
        freeze(g)
    unfreeze(groups[-1])
    run(torch.optim.Adam(groups[-1].parameters(), lr=base_lr), freeze_epochs, base_lr, pct_start=0.99)
    for g in groups:
        unfreeze(g)
    pgs = param_groups(groups, slice(base_lr / 200, base_lr / 2))
    run(torch.optim.Adam(pgs), epochs, [g["lr"] for g in pgs], pct_start=0.3, div_factor=5.0)
    return losses'''),
    alternative("fine_tune", "one-cycle written by hand (notebook 04's formula)", edit(
        FINE_TUNE, (FIT_ONE_CYCLE, '''    def train(opt, n_epochs, pct_start, div):
        total = n_epochs * len(train_batches)
        peaks = [g["lr"] for g in opt.param_groups]
        top = pct_start * total - 1
        step = 0
        for _ in range(n_epochs):
            for x, y in train_batches:
                if step <= top:
                    pct, start, end, m0, m1 = step / top, 1 / div, 1.0, 0.95, 0.85
                else:
                    pct, start, end, m0, m1 = (step - top) / (total - 1 - top), 1.0, 1 / div / 1e4, 0.85, 0.95
                c = (1 + math.cos(math.pi * pct)) / 2
                for g, peak in zip(opt.param_groups, peaks):
                    g["lr"] = peak * (end + (start - end) * c)
                    g["betas"] = (m1 + (m0 - m1) * c, g["betas"][1])
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                opt.zero_grad()
                losses.append(loss.item())
                step += 1
'''), ("    fit_one_cycle(torch", "    train(torch", 2), (" group in groups", " g in groups", 2),
        ("freeze(group)", "freeze(g)", 2))),
    mistake("fine_tune", "never unfreezing the body", swap(FINE_TUNE, UNFREEZE, "")),
    mistake("fine_tune", "unfreezing before the frozen phase has trained", edit(
        FINE_TUNE, (UNFREEZE, ""), ("        freeze(group)\n", "        freeze(group)\n" + UNFREEZE))),
    *edits("fine_tune", FINE_TUNE, {
        "one lr, base_lr / 2, for every group after unfreezing": ("slice(base_lr / 200, base_lr / 2)", "base_lr / 2"),
        "slice(base_lr / 100, base_lr) after unfreezing (fastai halves base_lr first)": (
            "slice(base_lr / 200, base_lr / 2)", "slice(base_lr / 100, base_lr)"),
    }),
    mistake("fine_tune", "OneCycleLR's default pct_start and div in both phases", edit(
        FINE_TUNE, ("(opt, n_epochs, pct_start, div):", "(opt, n_epochs):"),
        (", pct_start=pct_start, div_factor=div)", ")"), *NO_PCT_START_DIV)),
    mistake("fine_tune", "the scheduler stepped before the optimizer", swap(
        FINE_TUNE, "                opt.step()\n                opt.zero_grad()\n                sched.step()\n",
        "                sched.step()\n                opt.step()\n                opt.zero_grad()\n")),
    mistake("fine_tune", "constant learning rates (no one-cycle schedule)", edit(
        FINE_TUNE, (SCHEDULER, ""), ("                sched.step()\n", ""),
        ("def fit_one_cycle(opt, n_epochs, pct_start, div):", "def fit(opt, n_epochs):"),
        ("    fit_one_cycle(torch", "    fit(torch", 2), *NO_PCT_START_DIV)),
    mistake("fine_tune", "returning only the unfrozen phase's losses", edit(
        FINE_TUNE, ("\n    return losses\n", "\n"),
        ("    losses = []\n    def fit_one_cycle(opt, n_epochs, pct_start, div):\n",
         "    def fit_one_cycle(opt, n_epochs, pct_start, div):\n        losses = []\n"),
        ("                losses.append(loss.item())\n",
         "                losses.append(loss.item())\n        return losses\n"),
        ("    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(",
         "    return fit_one_cycle(torch.optim.Adam(param_groups(groups, slice("))),
    *edits("fine_tune", FINE_TUNE, {
        "losses kept as tensors, not Python floats": ("loss.item()", "loss.detach()"),
        "one frozen epoch whatever freeze_epochs says": ("freeze_epochs, 0.", "1, 0."),
    }),
    mistake("fine_tune", "batches left on the CPU (move them to the model's device)", edit(
        FINE_TUNE, ("    device = next(model.parameters()).device\n", ""),
        ("model(x.to(device)), y.to(device)", "model(x), y")), cuda_only=True),
]
