"""04_optimizers: the graded cells' ids and the answers the catalogue's variants are small edits of."""

SGD_ID, RMS_ID, ADAM_ID, ADAMW_ID, GROUPS_ID = ("sgd_momentum_matches_torch", "rmsprop_matches_torch",
                                               "adam_matches_torch", "adam_decoupled_matches_adamw",
                                               "optimizers_param_groups")


def _step(hypers: str, update: str) -> str:
    """The step the optimizers below share: the closure's loss under enable_grad, then for each group its
    `hypers`, and `update` for each parameter with a gradient (both lines written at their indentation)."""
    return '''
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
''' + hypers + '''            for p in group["params"]:
                if p.grad is None:
                    continue
''' + update + "        return loss\n"

# The head of a step written another way: its loop under a no_grad block, not the decorator.
NO_GRAD_BLOCK_STEP = '''
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
'''


SGD_INIT = '''
class SGDMomentum(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
'''
# A plain per-parameter SGD with momentum, out of place; each mistake edits a line or two.
SGD = SGD_INIT + _step('''            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
''', '''                d_p = p.grad + wd * p
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d_p.clone()
                else:
                    state["momentum_buffer"] = mom * state["momentum_buffer"] + d_p
                p -= lr * state["momentum_buffer"]
''')
RMS = '''
class RMSProp(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))
''' + _step('''            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
''', '''                g = p.grad + wd * p
                state = self.state[p]
                v = state.get("square_avg", torch.zeros_like(p))
                v = alpha * v + (1 - alpha) * g ** 2
                state["square_avg"] = v
                p -= lr * g / (v.sqrt() + eps)
''')
ADAM_DECAY = '''                if group["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
'''
# The textbook Adam, m̂ and v̂ spelled out, step as an int.
ADAM = '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)
''' + _step('''            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd = group["weight_decay"]
''', "                g = p.grad\n" + ADAM_DECAY + '''                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
                state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
                m_hat = state["exp_avg"] / (1 - beta1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)
                p -= lr * m_hat / (v_hat.sqrt() + eps)
''')
ONE_CYCLE = '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    peak = pct_start * total_steps - 1
    if step <= peak:
        pct = step / peak
        lr_a, lr_b, mom_a, mom_b = lr_max / div, lr_max, moms[0], moms[1]
    else:
        pct = (step - peak) / (total_steps - 1 - peak)
        lr_a, lr_b, mom_a, mom_b = lr_max, lr_max / div / div_final, moms[1], moms[0]
    w = (1 + math.cos(math.pi * pct)) / 2
    return lr_b + (lr_a - lr_b) * w, mom_b + (mom_a - mom_b) * w
'''
LR_GROUPS = '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi / div] * (n_groups - 1) + [hi]
    ratio = (hi / lo) ** (1 / (n_groups - 1))
    return [lo * ratio ** i for i in range(n_groups)]
'''
# An lr finder written another way: deep copies, itertools.cycle, the lr by exp and log.
LR_FIND = '''
import copy
import itertools


def lr_find(model, loss_func, opt, batches, start_lr=1e-7, end_lr=10.0, num_it=100, stop_div=True):
    model_state = copy.deepcopy(model.state_dict())
    opt_state = copy.deepcopy(opt.state_dict())
    lrs, losses = [], []
    data = itertools.cycle(batches)
    for i in range(num_it):
        lr = math.exp(math.log(start_lr) + (math.log(end_lr) - math.log(start_lr)) * i / (num_it - 1))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = next(data)
        loss = loss_func(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad()
        lrs.append(lr)
        losses.append(loss.item())
        if stop_div and (not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses)):
            break
    model.load_state_dict(model_state)
    opt.load_state_dict(opt_state)
    return lrs, losses
'''
SUGGEST = '''
def suggest_lr(lrs, losses):
    best = None
    for lr, loss in zip(lrs, losses):
        if math.isfinite(loss) and (best is None or loss < best[1]):
            best = (lr, loss)
    return best[0] / 10
'''
