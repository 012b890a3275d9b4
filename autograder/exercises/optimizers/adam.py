"""04_optimizers: answers a learner could write for Adam (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap
from .sources import ADAM, ADAM_DECAY, ADAM_ID, ADAMW_ID, GROUPS_ID, NO_GRAD_BLOCK_STEP

ADAM_VARIANTS = [
    # ------------------------------------------------------------------ Adam
    alternative("Adam", "m-hat and v-hat spelled out, step as an int", ADAM),
    alternative("Adam", "step as a tensor, in place with lerp_ and addcdiv_ under a no_grad block", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)
''' + NO_GRAD_BLOCK_STEP + '''\
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
        return loss
'''),
    *edits("Adam", ADAM, {
        "Adam without bias correction (divide exp_avg by 1 − β1ᵗ and exp_avg_sq by 1 − β2ᵗ)": (
            'state["exp_avg"] / (1 - beta1 ** t)', 'state["exp_avg"]',
            'state["exp_avg_sq"] / (1 - beta2 ** t)', 'state["exp_avg_sq"]'),
        "eps inside the square root (√(v̂ + eps); PyTorch divides by √v̂ + eps)": (
            "(v_hat.sqrt() + eps)", "(v_hat + eps).sqrt()"),
        "eps added before the bias correction (the paper's efficient form, (√v + eps)/√(1 − β2ᵗ); "
        "PyTorch adds eps to √v̂)": (
            'm_hat = state["exp_avg"] / (1 - beta1 ** t)',
            "step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)",
            '                v_hat = state["exp_avg_sq"] / (1 - beta2 ** t)\n', "",
            "p -= lr * m_hat / (v_hat.sqrt() + eps)",
            'p -= step_size * state["exp_avg"] / (state["exp_avg_sq"].sqrt() + eps)'),
        "the step count counted from 0 in the bias correction (t is 1 at the first step)": (
            '                state["step"] += 1\n                t = state["step"]\n',
            '                t = state["step"]\n',
            "p -= lr * m_hat / (v_hat.sqrt() + eps)\n",
            'p -= lr * m_hat / (v_hat.sqrt() + eps)\n                state["step"] += 1\n'),
        "one step count for every parameter (self.t), not one per parameter in self.state[p]": (
            "        for group in self.param_groups:\n            lr, (beta1",
            "        self.t = getattr(self, 't', 0) + 1\n        for group in self.param_groups:\n"
            "            lr, (beta1",
            '                state["step"] += 1\n                t = state["step"]\n',
            '                state["step"] = t = self.t\n'),
    }, loses=(ADAM_ID, ADAMW_ID)),
    mistake("Adam", "weight decay left out", swap(ADAM, ADAM_DECAY, ""), loses=(ADAM_ID, ADAMW_ID)),
    mistake("Adam", "weight_decay=0.01 by default, as torch.optim.AdamW (the exercise's default is 0.0)",
            swap(ADAM, "weight_decay=0.0,", "weight_decay=0.01,"), loses=(ADAM_ID, ADAMW_ID)),
    mistake("Adam", "the state kept under other names (m, v, t: keep step, exp_avg and exp_avg_sq)", ADAM
            .replace('state["exp_avg_sq"]', 'state["v"]').replace('state["exp_avg"]', 'state["m"]')
            .replace('state["step"]', 'state["t"]'), loses=(ADAM_ID, ADAMW_ID)),
    mistake("Adam", "decoupled ignored: always Adam's L2 (grad + wd·p; decoupled=True asks for AdamW's "
                    "p ← p·(1 − lr·wd))", swap(ADAM, ADAM_DECAY, "                g = g + wd * p\n"),
            loses=(ADAMW_ID,)),
    mistake("Adam", "decoupled ignored: always AdamW's decay (p ← p·(1 − lr·wd); decoupled=False asks for Adam's "
                    "L2, grad + wd·p)", swap(ADAM, ADAM_DECAY, "                p *= 1 - lr * wd\n"), loses=(ADAM_ID,)),
    mistake("Adam", "decoupled weight decay not scaled by lr (p ← p·(1 − wd); AdamW uses p·(1 − lr·wd))",
            swap(ADAM, "p *= 1 - lr * wd", "p *= 1 - wd"), loses=(ADAMW_ID,)),
    mistake("Adam", "decoupled weight decay applied after the Adam step (AdamW shrinks p before it)", swap(swap(
        ADAM, ADAM_DECAY, '''                if not group["decoupled"]:
                    g = g + wd * p
'''), "                p -= lr * m_hat / (v_hat.sqrt() + eps)\n", '''                p -= lr * m_hat / (v_hat.sqrt() + eps)
                if group["decoupled"]:
                    p *= 1 - lr * wd
'''), loses=(ADAMW_ID,)),
    mistake("Adam", "the closure called under torch.no_grad (call it inside `with torch.enable_grad():`)",
            swap(ADAM, '''            with torch.enable_grad():
                loss = closure()''', '''            loss = closure()'''), loses=(ADAM_ID,)),
    mistake("Adam", "hyper-parameters read from the constructor, not from each param group", swap(swap(
        ADAM, 'group["lr"], group["betas"], group["eps"]',
        'self.defaults["lr"], self.defaults["betas"], self.defaults["eps"]'),
        'wd = group["weight_decay"]', 'wd = self.defaults["weight_decay"]'), loses=(GROUPS_ID,)),
    mistake("Adam", "beta1 read once, at construction (read betas from each group at every step: one-cycle changes "
                    "them between steps)", swap(swap(
        ADAM, "    def step(self, closure=None):\n        loss = None\n",
        "    def step(self, closure=None):\n        loss = None\n        beta1_first = self.defaults['betas'][0]\n"),
        "state[\"exp_avg\"] = beta1 * state", "state[\"exp_avg\"] = beta1_first * state").replace(
        "m_hat = state[\"exp_avg\"] / (1 - beta1 ** t)", "m_hat = state[\"exp_avg\"] / (1 - beta1_first ** t)"),
        loses=(GROUPS_ID,)),
    mistake("Adam", "torch.optim.adam.adam, the functional form, underneath (forbidden)", '''
class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=decoupled))

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
''', loses=(ADAM_ID, ADAMW_ID, GROUPS_ID)),
    mistake("Adam", "torch.optim.AdamW underneath when decoupled (forbidden)", ADAM.replace(
        "class Adam(torch.optim.Optimizer):", "class _Adam(torch.optim.Optimizer):") + '''

class Adam(_Adam):
    def step(self, closure=None):
        if self.defaults["decoupled"]:
            if not hasattr(self, "twin"):
                self.twin = torch.optim.AdamW(self.param_groups)
            return self.twin.step(closure)
        return super().step(closure)
''', loses=(ADAMW_ID, GROUPS_ID)),
]
