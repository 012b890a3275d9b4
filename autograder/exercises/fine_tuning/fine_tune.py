"""07_fine_tuning: answers a learner could write for fine_tune (correct alternatives, mistakes)."""
from ...exercise import alternative, mistake

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
    alternative("fine_tune", "one-cycle written by hand (notebook 04's formula)", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    losses = []
    def train(opt, n_epochs, pct_start, div):
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
    for g in groups[:-1]:
        freeze(g)
    train(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    for g in groups:
        unfreeze(g)
    train(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "never unfreezing the body", '''
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
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "unfreezing before the frozen phase has trained", '''
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
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "one lr, base_lr / 2, for every group after unfreezing", '''
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
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr / 2)), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "slice(base_lr / 100, base_lr) after unfreezing (fastai halves base_lr first)", '''
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
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 100, base_lr))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "OneCycleLR's default pct_start and div in both phases", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    losses = []
    def fit_one_cycle(opt, n_epochs):
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
            total_steps=n_epochs * len(train_batches))
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
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs)
    return losses'''),
    mistake("fine_tune", "the scheduler stepped before the optimizer", '''
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
                sched.step()
                opt.step()
                opt.zero_grad()
                losses.append(loss.item())
    for group in groups[:-1]:
        freeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "constant learning rates (no one-cycle schedule)", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    losses = []
    def fit(opt, n_epochs):
        for _ in range(n_epochs):
            for x, y in train_batches:
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                opt.zero_grad()
                losses.append(loss.item())
    for group in groups[:-1]:
        freeze(group)
    fit(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs)
    for group in groups:
        unfreeze(group)
    fit(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs)
    return losses'''),
    mistake("fine_tune", "returning only the unfrozen phase's losses", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    device = next(model.parameters()).device
    def fit_one_cycle(opt, n_epochs, pct_start, div):
        losses = []
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
        return losses
    for group in groups[:-1]:
        freeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    for group in groups:
        unfreeze(group)
    return fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)'''),
    mistake("fine_tune", "losses kept as tensors, not Python floats", '''
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
                losses.append(loss.detach())
    for group in groups[:-1]:
        freeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, 0.99, 25.0)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "one frozen epoch whatever freeze_epochs says", '''
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
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), 1, 0.99, 25.0)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs, 0.3, 5.0)
    return losses'''),
    mistake("fine_tune", "batches left on the CPU (move them to the model's device)", '''
def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    losses = []
    def fit_one_cycle(opt, n_epochs, pct_start, div):
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
            total_steps=n_epochs * len(train_batches), pct_start=pct_start, div_factor=div)
        for _ in range(n_epochs):
            for x, y in train_batches:
                loss = loss_func(model(x), y)
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
    return losses''', cuda_only=True),
]
