"""04_optimizers: answers a learner could write for SGDMomentum and RMSProp (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap
from .sources import GROUPS_ID, NO_GRAD_BLOCK_STEP, RMS, RMS_ID, SGD, SGD_ID, SGD_INIT

# The head of the p.data alternatives' step: no no_grad (they write p.data), the closure called as it is.
_DATA_STEP = '''
    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
'''

SGD_RMSPROP_VARIANTS = [
    # ------------------------------------------------------------------ SGDMomentum
    alternative("SGDMomentum", "out of place, the first buffer a clone of the gradient", SGD),
    alternative("SGDMomentum", "p.data, a buffer from zeros, none without momentum (as torch)",
                SGD_INIT + _DATA_STEP + '''\
                g = p.grad.data + group["weight_decay"] * p.data
                if group["momentum"] == 0:
                    p.data = p.data - group["lr"] * g
                    continue
                buf = self.state[p].get("momentum_buffer", torch.zeros_like(p.data))
                buf = group["momentum"] * buf + g
                self.state[p]["momentum_buffer"] = buf
                p.data = p.data - group["lr"] * buf
        return loss
'''),
    alternative("SGDMomentum", "in place under a no_grad block, a step count in the state too",
                SGD_INIT + NO_GRAD_BLOCK_STEP + '''\
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad.add(p, alpha=group["weight_decay"])
                    state = self.state[p]
                    state["step"] = state.get("step", 0) + 1
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        state["momentum_buffer"] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p)
                    p.add_(state["momentum_buffer"], alpha=-group["lr"])
        return loss
'''),
    *edits("SGDMomentum", SGD, {
        "dampened momentum (an average from zero: buf = momentum·buf + (1 − momentum)·grad; torch.optim.SGD "
        "adds the whole gradient)": (
            'state["momentum_buffer"] = d_p.clone()', 'state["momentum_buffer"] = (1 - mom) * d_p',
            'mom * state["momentum_buffer"] + d_p', 'mom * state["momentum_buffer"] + (1 - mom) * d_p'),
        "dampened momentum after the first step (buf = momentum·buf + (1 − momentum)·grad; torch.optim.SGD adds "
        "the whole gradient)": (
            'mom * state["momentum_buffer"] + d_p', 'mom * state["momentum_buffer"] + (1 - mom) * d_p'),
        "momentum ignored (plain SGD)": ('mom * state["momentum_buffer"] + d_p', "d_p"),
        "Nesterov momentum (p − lr·(grad + momentum·buf); torch.optim.SGD's default is nesterov=False)": (
            'p -= lr * state["momentum_buffer"]', 'p -= lr * (d_p + mom * state["momentum_buffer"])'),
        "weight decay left out": ("d_p = p.grad + wd * p", "d_p = p.grad"),
        "weight decay added after the momentum (add weight_decay·p to the gradient before it enters the buffer)": (
            "d_p = p.grad + wd * p", "d_p = p.grad",
            'p -= lr * state["momentum_buffer"]', 'p -= lr * (state["momentum_buffer"] + wd * p)'),
    }, loses=(SGD_ID,)),
    mistake("SGDMomentum", "lr folded into the momentum buffer (buf = momentum·buf + lr·grad; keep lr out of the "
                           "buffer and use the group's current lr at each step)", swap(swap(swap(
        SGD, "d_p.clone()", "lr * d_p"), 'mom * state["momentum_buffer"] + d_p',
        'mom * state["momentum_buffer"] + lr * d_p'), 'p -= lr * state["momentum_buffer"]',
        'p -= state["momentum_buffer"]'), loses=(SGD_ID, GROUPS_ID)),
    *edits("SGDMomentum", SGD, {
        "the momentum buffer is p.grad itself, updated in place (zero_grad(set_to_none=False) and backward then "
        "change it: start it as a copy, p.grad.clone())": (
            "d_p = p.grad + wd * p", "d_p = p.grad if wd == 0 else p.grad + wd * p",
            'state["momentum_buffer"] = d_p.clone()', 'state["momentum_buffer"] = d_p',
            'state["momentum_buffer"] = mom * state["momentum_buffer"] + d_p',
            'state["momentum_buffer"].mul_(mom).add_(d_p)'),
        "momentum=0 by default, as torch.optim.SGD (the exercise's default is 0.9)": (
            "momentum=0.9,", "momentum=0.0,"),
        "step(closure) not returning the closure's loss": ("        return loss\n", ""),
        "the closure called under torch.no_grad (call it inside `with torch.enable_grad():`)": (
            "            with torch.enable_grad():\n                loss = closure()", "            loss = closure()"),
    }, loses=(SGD_ID,)),
    *edits("SGDMomentum", SGD, {
        "hyper-parameters read from the constructor, not from each param group": (
            'group["lr"], group["momentum"], group["weight_decay"]', "self.lr, self.momentum, self.weight_decay",
            "        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))\n",
            "        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))\n"
            "        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay\n"),
        "momentum read once, at construction (read it from each group at every step: a schedule changes it "
        "between steps)": (
            'group["lr"], group["momentum"], group["weight_decay"]',
            'group["lr"], self.defaults["momentum"], group["weight_decay"]'),
    }, loses=(GROUPS_ID,)),
    *edits("SGDMomentum", SGD, {
        "a parameter whose .grad is None not skipped": (
            "                if p.grad is None:\n                    continue\n", ""),
        "no torch.no_grad (an in-place step on a leaf that requires grad)": ("    @torch.no_grad()\n", ""),
    }, loses=(SGD_ID, GROUPS_ID)),
    mistake("SGDMomentum", "not a torch.optim.Optimizer", '''
class SGDMomentum:
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        self.params, self.lr, self.momentum, self.weight_decay = list(params), lr, momentum, weight_decay
        self.state = {}

    @torch.no_grad()
    def step(self, closure=None):
        for p in self.params:
            if p.grad is not None:
                buf = self.state.get(p)
                buf = p.grad + self.weight_decay * p if buf is None else self.momentum * buf + p.grad + self.weight_decay * p
                self.state[p] = buf
                p -= self.lr * buf
''', loses=(SGD_ID, GROUPS_ID)),
    mistake("SGDMomentum", "torch.optim.SGD underneath (forbidden)", '''
class SGDMomentum(torch.optim.SGD):
    def __init__(self, params, lr=0.01, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
''', loses=(SGD_ID, GROUPS_ID)),
    mistake("SGDMomentum", "torch.optim.sgd.sgd, the functional form, underneath (forbidden)", SGD_INIT + '''
    @torch.no_grad()
    def step(self, closure=None):
        from torch.optim.sgd import sgd
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            bufs = [self.state[p].get("momentum_buffer") for p in ps]
            sgd(ps, [p.grad for p in ps], bufs, weight_decay=group["weight_decay"], momentum=group["momentum"],
                lr=group["lr"], dampening=0.0, nesterov=False, maximize=False)
            for p, b in zip(ps, bufs):
                self.state[p]["momentum_buffer"] = b
''', loses=(SGD_ID, GROUPS_ID)),

    # ------------------------------------------------------------------ RMSProp
    alternative("RMSProp", "out of place, square_avg from zeros", RMS),
    alternative("RMSProp", "p.data, lerp_, a step count as a tensor", '''
class RMSProp(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay))
''' + _DATA_STEP + '''\
                g = p.grad.data.add(p.data, alpha=group["weight_decay"])
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["square_avg"] = torch.zeros_like(p.data)
                state["step"] += 1
                state["square_avg"].lerp_(g * g, 1 - group["alpha"])
                p.data.addcdiv_(g, torch.sqrt(state["square_avg"]) + group["eps"], value=-group["lr"])
        return loss
'''),
    *edits("RMSProp", RMS, {
        "eps inside the square root (√(square_avg + eps); PyTorch divides by √square_avg + eps)": (
            "(v.sqrt() + eps)", "(v + eps).sqrt()"),
        "square_avg starting at grad² instead of 0": (
            'v = state.get("square_avg", torch.zeros_like(p))', 'v = state.get("square_avg", g ** 2)'),
        "alpha and 1 − alpha swapped (square_avg ← alpha·square_avg + (1 − alpha)·grad²)": (
            "alpha * v + (1 - alpha) * g ** 2", "(1 - alpha) * v + alpha * g ** 2"),
        "dividing by square_avg without its square root": ("(v.sqrt() + eps)", "(v + eps)"),
        "weight decay left out": ("g = p.grad + wd * p", "g = p.grad"),
        "square_avg not kept in the state (every step starts it from zero again)": (
            '                state["square_avg"] = v\n', ""),
        "the closure's loss not returned": ("        return loss\n", ""),
    }),
    mistake("RMSProp", "lr read once, at construction (read it from each group at every step: a schedule changes it "
                       "between steps)", swap(
        RMS, 'group["lr"], group["alpha"]', 'self.defaults["lr"], group["alpha"]'),
        loses=(GROUPS_ID,)),
    mistake("RMSProp", "torch.optim.RMSprop underneath (forbidden)", '''
class RMSProp(torch.optim.RMSprop):
    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)
''', loses=(RMS_ID, GROUPS_ID)),
]
