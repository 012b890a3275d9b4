"""Answers to 04_optimizers: correct ones written differently, and plausible mistakes.

A wrong update rule also shows in the visible checks of `optimizers_param_groups` (one step of each
optimizer over two groups against torch.optim's) when one step is enough to show it; later-step mistakes
cost only their own question there, as the hidden part judges groups against the learner's own optimizer.
"""
from . import Variant

# --------------------------------------------------------------------------- bodies shared by variants

_SGD_INIT = '''
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
'''


def _sgd(step: str, init: str = _SGD_INIT) -> str:
    return "class SGDMomentum(torch.optim.Optimizer):" + init + step


# The step of a plain per-parameter SGD with momentum; each mistake swaps one line.
_SGD_STEP = '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, mom, wd = group["lr"], group["momentum"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad + wd * p
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = d_p.clone()
                else:
                    state["momentum_buffer"] = mom * state["momentum_buffer"] + d_p
                p -= lr * state["momentum_buffer"]
'''

_RMS_INIT = '''
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))
'''

_RMS_STEP = '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + wd * p
                state = self.state[p]
                v = state.get("square_avg", torch.zeros_like(p))
                v = alpha * v + (1 - alpha) * g ** 2
                state["square_avg"] = v
                p -= lr * g / (v.sqrt() + eps)
'''


def _rms(step: str) -> str:
    return "class RMSProp(torch.optim.Optimizer):" + _RMS_INIT + step


_ADAM_INIT = '''
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)
'''

# The textbook Adam, m̂ and v̂ spelled out; each mistake swaps one or two lines.
_ADAM_STEP = '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
                state = self.state[p]
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
'''


def _adam(step: str) -> str:
    return "class Adam(torch.optim.Optimizer):" + _ADAM_INIT + step


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


_ONE_CYCLE = '''
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

VARIANTS = [
    # ------------------------------------------------------------------ SGDMomentum
    Variant("SGDMomentum", "out of place, buffer made with zeros_like", _sgd(_SGD_STEP)),
    Variant("SGDMomentum", "p.data, a buffer from zeros, none without momentum (as torch)", _sgd('''
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data + group["weight_decay"] * p.data
                if group["momentum"] == 0:
                    p.data = p.data - group["lr"] * g
                    continue
                buf = self.state[p].get("momentum_buffer", torch.zeros_like(p.data))
                buf = group["momentum"] * buf + g
                self.state[p]["momentum_buffer"] = buf
                p.data = p.data - group["lr"] * buf
''')),
    Variant("SGDMomentum", "torch._foreach_* over each group, a closure and a step count", _sgd('''
    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            grads = torch._foreach_add([p.grad for p in ps], ps, alpha=group["weight_decay"])
            bufs = []
            for p, g in zip(ps, grads):
                state = self.state[p]
                state["step"] = state.get("step", 0) + 1
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = g.clone()
                else:
                    state["momentum_buffer"].mul_(group["momentum"]).add_(g)
                bufs.append(state["momentum_buffer"])
            torch._foreach_add_(ps, bufs, alpha=-group["lr"])
        return loss
''')),
    Variant("SGDMomentum", "dampened momentum, an average from zero", _sgd(_swap(_swap(
        _SGD_STEP, 'state["momentum_buffer"] = d_p.clone()', 'state["momentum_buffer"] = (1 - mom) * d_p'),
        'mom * state["momentum_buffer"] + d_p', 'mom * state["momentum_buffer"] + (1 - mom) * d_p')),
        loses=("sgd_momentum_matches_torch", "optimizers_param_groups")),
    Variant("SGDMomentum", "dampened momentum after the first step", _sgd(_swap(
        _SGD_STEP, 'mom * state["momentum_buffer"] + d_p', 'mom * state["momentum_buffer"] + (1 - mom) * d_p')),
        loses=("sgd_momentum_matches_torch",)),
    Variant("SGDMomentum", "weight decay added after the momentum", _sgd(_swap(_swap(_swap(
        _SGD_STEP, "d_p = p.grad + wd * p", "d_p = p.grad"),
        "p -= lr * state", "p -= lr * (wd * p + state"), '["momentum_buffer"]\n', '["momentum_buffer"])\n')),
        loses=("sgd_momentum_matches_torch",)),
    Variant("SGDMomentum", "lr folded into the buffer", _sgd(_swap(_swap(_swap(
        _SGD_STEP, "d_p.clone()", "lr * d_p"), 'mom * state["momentum_buffer"] + d_p',
        'mom * state["momentum_buffer"] + lr * d_p'), "p -= lr * state", "p -= state")),
        loses=("sgd_momentum_matches_torch", "optimizers_param_groups")),
    Variant("SGDMomentum", "hyper-parameters kept from the constructor", _sgd(_swap(
        _SGD_STEP, 'group["lr"], group["momentum"], group["weight_decay"]',
        "self.lr, self.momentum, self.weight_decay"), init='''
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
'''), loses=("optimizers_param_groups",)),
    Variant("SGDMomentum", "a parameter without .grad not skipped", _sgd(_swap(
        _SGD_STEP, "                if p.grad is None:\n                    continue\n", "")),
        loses=("optimizers_param_groups",)),
    Variant("SGDMomentum", "no torch.no_grad (in-place step on a leaf)", _sgd(_swap(
        _SGD_STEP, "    @torch.no_grad()\n", "")),
        loses=("sgd_momentum_matches_torch", "optimizers_param_groups")),
    Variant("SGDMomentum", "torch.optim.SGD underneath (forbidden)", '''
class SGDMomentum(torch.optim.SGD):
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
''', loses=("sgd_momentum_matches_torch", "optimizers_param_groups")),

    # ------------------------------------------------------------------ RMSProp
    Variant("RMSProp", "out of place, square_avg from zeros", _rms(_RMS_STEP)),
    Variant("RMSProp", "torch._foreach_* over each group", _rms('''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            grads = torch._foreach_add([p.grad for p in ps], ps, alpha=group["weight_decay"])
            avgs = [self.state[p].setdefault("square_avg", torch.zeros_like(p)) for p in ps]
            torch._foreach_mul_(avgs, group["alpha"])
            torch._foreach_addcmul_(avgs, grads, grads, value=1 - group["alpha"])
            denom = torch._foreach_add(torch._foreach_sqrt(avgs), group["eps"])
            torch._foreach_addcdiv_(ps, grads, denom, value=-group["lr"])
''')),
    Variant("RMSProp", "p.data, lerp, a step count as a tensor", _rms('''
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data.add(p.data, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p.data)
                state["step"] += 1
                state["square_avg"].lerp_(g * g, 1 - group["alpha"])
                p.data.addcdiv_(g, torch.sqrt(state["square_avg"]) + group["eps"], value=-group["lr"])
''')),
    Variant("RMSProp", "eps inside the square root", _rms(_swap(
        _RMS_STEP, "(v.sqrt() + eps)", "(v + eps).sqrt()")), loses=("rmsprop_matches_torch",)),
    Variant("RMSProp", "alpha and 1 - alpha swapped", _rms(_swap(
        _RMS_STEP, "alpha * v + (1 - alpha) * g ** 2", "(1 - alpha) * v + alpha * g ** 2")),
        loses=("rmsprop_matches_torch", "optimizers_param_groups")),
    Variant("RMSProp", "weight decay left out", _rms(_swap(_RMS_STEP, "p.grad + wd * p", "p.grad")),
            loses=("rmsprop_matches_torch",)),
    Variant("RMSProp", "square_avg not kept in the state", _rms(_swap(
        _RMS_STEP, '                state["square_avg"] = v\n', '')),
        loses=("rmsprop_matches_torch",)),
    # ------------------------------------------------------------------ Adam
    Variant("Adam", "m-hat and v-hat spelled out, step as an int", _adam(_ADAM_STEP)),
    Variant("Adam", "step as a tensor, in place with lerp_ and addcdiv_", _adam('''
    def step(self, closure=None):
        with torch.no_grad():
            for group in self.param_groups:
                lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if group["decoupled"]:
                        p.mul_(1 - lr * wd)
                        g = p.grad
                    else:
                        g = p.grad.add(p, alpha=wd)
                    state = self.state[p]
                    if not state:
                        state["step"] = torch.tensor(0.0)
                        state["exp_avg"] = torch.zeros_like(p)
                        state["exp_avg_sq"] = torch.zeros_like(p)
                    state["step"] += 1
                    t = state["step"].item()
                    state["exp_avg"].lerp_(g, 1 - b1)
                    state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                    denom = (state["exp_avg_sq"] / (1 - b2 ** t)).sqrt().add_(eps)
                    p.addcdiv_(state["exp_avg"], denom, value=-lr / (1 - b1 ** t))
''')),
    Variant("Adam", "torch._foreach_* over each group", _adam('''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            if group["decoupled"]:
                torch._foreach_mul_(ps, 1 - lr * wd)
                grads = [p.grad for p in ps]
            else:
                grads = torch._foreach_add([p.grad for p in ps], ps, alpha=wd)
            for p in ps:
                st = self.state[p]
                if not st:
                    st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                st["step"] += 1
            ms = [self.state[p]["exp_avg"] for p in ps]
            vs = [self.state[p]["exp_avg_sq"] for p in ps]
            torch._foreach_lerp_(ms, grads, 1 - b1)
            torch._foreach_mul_(vs, b2)
            torch._foreach_addcmul_(vs, grads, grads, value=1 - b2)
            for p, m, v in zip(ps, ms, vs):
                t = self.state[p]["step"]
                denom = (v / (1 - b2 ** t)).sqrt_().add_(eps)
                p.addcdiv_(m, denom, value=-lr / (1 - b1 ** t))
''')),
    Variant("Adam", "no bias correction", _adam(_swap(_swap(
        _ADAM_STEP, 'state["exp_avg"] / (1 - beta1 ** t)', 'state["exp_avg"]'),
        'state["exp_avg_sq"] / (1 - beta2 ** t)', 'state["exp_avg_sq"]')),
        loses=("adam_matches_torch", "adam_decoupled_matches_adamw", "optimizers_param_groups")),
    Variant("Adam", "eps inside the square root", _adam(_swap(
        _ADAM_STEP, "(v_hat.sqrt() + eps)", "(v_hat + eps).sqrt()")),
        loses=("adam_matches_torch", "adam_decoupled_matches_adamw")),
    Variant("Adam", "eps added before the bias correction (the paper's efficient form)", _adam(_swap(_swap(_swap(
        _ADAM_STEP, 'm_hat = state["exp_avg"] / (1 - beta1 ** t)',
        "step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)"),
        '                v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)\n', ''),
        "p -= lr * m_hat / (v_hat.sqrt() + eps)",
        'p -= step_size * state["exp_avg"] / (state["exp_avg_sq"].sqrt() + eps)')),
        loses=("adam_matches_torch", "adam_decoupled_matches_adamw")),
    Variant("Adam", "decoupled flag ignored: always L2 (coupled)", _adam(_swap(
        _ADAM_STEP, '''                if group["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
''', '''                g = g + wd * p
''')), loses=("adam_decoupled_matches_adamw", "optimizers_param_groups")),
    Variant("Adam", "decoupled flag ignored: always AdamW's decay", _adam(_swap(
        _ADAM_STEP, '''                if group["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
''', '''                p *= 1 - lr * wd
''')), loses=("adam_matches_torch",)),
    Variant("Adam", "decoupled decay not scaled by lr", _adam(_swap(_ADAM_STEP, "p *= 1 - lr * wd", "p *= 1 - wd")),
            loses=("adam_decoupled_matches_adamw", "optimizers_param_groups")),
    Variant("Adam", "decoupled decay applied after the Adam step", _adam(_swap(_swap(
        _ADAM_STEP, '''                if group["decoupled"]:
                    p *= 1 - lr * wd
                else:
                    g = g + wd * p
''', '''                if not group["decoupled"]:
                    g = g + wd * p
'''), "                p -= lr * m_hat / (v_hat.sqrt() + eps)\n", '''                p -= lr * m_hat / (v_hat.sqrt() + eps)
                if group["decoupled"]:
                    p *= 1 - lr * wd
''')), loses=("adam_decoupled_matches_adamw", "optimizers_param_groups")),
    Variant("Adam", "torch.optim.adam.adam underneath (forbidden)", _adam('''
    @torch.no_grad()
    def step(self, closure=None):
        from torch.optim.adam import adam
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            for p in ps:
                if not self.state[p]:
                    self.state[p].update(step=torch.tensor(0.0), exp_avg=torch.zeros_like(p),
                                         exp_avg_sq=torch.zeros_like(p))
            adam(ps, [p.grad for p in ps], [self.state[p]["exp_avg"] for p in ps],
                 [self.state[p]["exp_avg_sq"] for p in ps], [], [self.state[p]["step"] for p in ps],
                 amsgrad=False, beta1=group["betas"][0], beta2=group["betas"][1], lr=group["lr"],
                 weight_decay=group["weight_decay"], eps=group["eps"], maximize=False,
                 decoupled_weight_decay=group["decoupled"])
'''), loses=("adam_matches_torch", "adam_decoupled_matches_adamw", "optimizers_param_groups")),

    # ------------------------------------------------------------------ lr_groups
    Variant("lr_groups", "numpy geomspace, an array", '''
def lr_groups(lr, n_groups, div=3.0):
    import numpy as np
    if isinstance(lr, slice):
        if lr.start is None:
            return np.array([lr.stop / div] * (n_groups - 1) + [lr.stop])
        return np.geomspace(lr.start, lr.stop, n_groups)
    return np.full(n_groups, lr)
'''),
    Variant("lr_groups", "torch.logspace, a list", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr for _ in range(n_groups)]
    if lr.start is None:
        return [lr.stop / div if i < n_groups - 1 else lr.stop for i in range(n_groups)]
    return torch.logspace(math.log10(lr.start), math.log10(lr.stop), n_groups, dtype=torch.float64).tolist()
'''),
    Variant("lr_groups", "exp of evenly spaced logs, a tuple", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return (lr,) * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return (hi / div,) * (n_groups - 1) + (hi,)
    a, b = math.log(lo), math.log(hi)
    return tuple(math.exp(a + (b - a) * i / (n_groups - 1)) for i in range(n_groups))
'''),
    Variant("lr_groups", "slice(hi) gives hi to every group", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi] * n_groups
    ratio = (hi / lo) ** (1 / (n_groups - 1))
    return [lo * ratio ** i for i in range(n_groups)]
''', loses=("lr_groups_values",)),
    Variant("lr_groups", "slice(hi) gives the first group hi", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi] + [hi / div] * (n_groups - 1)
    ratio = (hi / lo) ** (1 / (n_groups - 1))
    return [lo * ratio ** i for i in range(n_groups)]
''', loses=("lr_groups_values",)),
    Variant("lr_groups", "slice(hi) divides by 10, not div", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi / 10] * (n_groups - 1) + [hi]
    ratio = (hi / lo) ** (1 / (n_groups - 1))
    return [lo * ratio ** i for i in range(n_groups)]
''', loses=("lr_groups_values",)),
    Variant("lr_groups", "evenly spaced on a linear scale", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi / div] * (n_groups - 1) + [hi]
    return torch.linspace(lo, hi, n_groups, dtype=torch.float64).tolist()
''', loses=("lr_groups_values",)),
    Variant("lr_groups", "lo and hi the wrong way round", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [lr] * n_groups
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi / div] * (n_groups - 1) + [hi]
    ratio = (lo / hi) ** (1 / (n_groups - 1))
    return [hi * ratio ** i for i in range(n_groups)]
''', loses=("lr_groups_values",)),
    Variant("lr_groups", "a float returned as is, not a list", '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return lr
    lo, hi = lr.start, lr.stop
    if lo is None:
        return [hi / div] * (n_groups - 1) + [hi]
    ratio = (hi / lo) ** (1 / (n_groups - 1))
    return [lo * ratio ** i for i in range(n_groups)]
''', loses=("lr_groups_values",)),

    # ------------------------------------------------------------------ one_cycle
    Variant("one_cycle", "phases as a table, numpy's cos", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    import numpy as np
    peak = pct_start * total_steps - 1
    phases = [(0.0, peak, lr_max / div, lr_max, moms[0], moms[1]),
              (peak, total_steps - 1, lr_max, lr_max / div / div_final, moms[1], moms[0])]
    start, end, lr0, lr1, m0, m1 = phases[0] if step <= peak else phases[1]
    w = (np.cos(np.pi * (step - start) / (end - start)) + 1) / 2
    return float(lr1 + (lr0 - lr1) * w), float(m1 + (m0 - m1) * w)
'''),
    Variant("one_cycle", "a cosine helper, a list returned", '''
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
    Variant("one_cycle", "linear annealing", _swap(_ONE_CYCLE, "w = (1 + math.cos(math.pi * pct)) / 2", "w = 1 - pct"),
            loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "momentum moving with the lr", _swap(_swap(
        _ONE_CYCLE, "mom_a, mom_b = lr_max / div, lr_max, moms[0], moms[1]", "mom_a, mom_b = lr_max / div, lr_max, "
        "moms[1], moms[0]"), "mom_a, mom_b = lr_max, lr_max / div / div_final, moms[1], moms[0]",
        "mom_a, mom_b = lr_max, lr_max / div / div_final, moms[0], moms[1]"),
        loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "peak at step pct_start * total_steps", _swap(
        _ONE_CYCLE, "peak = pct_start * total_steps - 1", "peak = pct_start * total_steps"),
        loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "ends at lr_max / div_final", _swap(
        _ONE_CYCLE, "lr_max / div / div_final", "lr_max / div_final"), loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "fastai's fit_one_cycle positions", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    pos = step / total_steps
    if pos < pct_start:
        pct, lr_a, lr_b, mom_a, mom_b = pos / pct_start, lr_max / div, lr_max, moms[0], moms[1]
    else:
        pct = (pos - pct_start) / (1 - pct_start)
        lr_a, lr_b, mom_a, mom_b = lr_max, lr_max / div_final, moms[1], moms[0]
    w = (1 + math.cos(math.pi * pct)) / 2
    return lr_b + (lr_a - lr_b) * w, mom_b + (mom_a - mom_b) * w
''', loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "momentum left out (the lr alone)", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    peak = pct_start * total_steps - 1
    if step <= peak:
        pct, a, b = step / peak, lr_max / div, lr_max
    else:
        pct, a, b = (step - peak) / (total_steps - 1 - peak), lr_max, lr_max / div / div_final
    return b + (a - b) * (1 + math.cos(math.pi * pct)) / 2
''', loses=("one_cycle_matches_torch",)),
    Variant("one_cycle", "OneCycleLR underneath (forbidden)", '''
def one_cycle(step, total_steps, lr_max, pct_start=0.3, div=25.0, div_final=1e4, moms=(0.95, 0.85)):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr_max, momentum=moms[0])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr_max, total_steps=total_steps, pct_start=pct_start,
                                                div_factor=div, final_div_factor=div_final,
                                                base_momentum=moms[1], max_momentum=moms[0])
    for _ in range(step):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]
''', loses=("one_cycle_matches_torch",)),
]
