"""07_fine_tuning: answers a learner could write for param_groups and for notebook 04's lr_groups pasted
into `lr_groups_from_04` (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap
from .cases import FT

# A plain lr_groups (notebook 04's) and param_groups, as a learner would write them: the mistakes below edit them.
LR_GROUPS = '''
def lr_groups(lr, n_groups, div=3.0):
    if not isinstance(lr, slice):
        return [float(lr)] * n_groups
    if not lr.start:
        return [lr.stop / div] * (n_groups - 1) + [float(lr.stop)]
    if n_groups == 1:
        return [float(lr.stop)]
    step = (lr.stop / lr.start) ** (1 / (n_groups - 1))
    return [lr.start * step**i for i in range(n_groups)]
'''
GEOMETRIC = LR_GROUPS[LR_GROUPS.index("    step = "):]  # slice(lo, hi): lo·stepⁱ
PARAM_GROUPS = '''
def param_groups(groups, lr, div=3.0):
    lrs = lr_groups(lr, len(groups), div)
    return [{"params": list(g.parameters()), "lr": lr_i} for g, lr_i in zip(groups, lrs)]
'''

GROUPS_VARIANTS = [
    # --- lr_groups, pasted from notebook 04 ----------------------------------------------------------------
    alternative("lr_groups_from_04", "torch.logspace", '''
def lr_groups(lr, n_groups, div=3.0):
    import math
    if not isinstance(lr, slice):
        return [float(lr)] * n_groups
    if lr.start is None or lr.start == 0:
        return [lr.stop / div] * (n_groups - 1) + [float(lr.stop)]
    if n_groups == 1:
        return [float(lr.stop)]
    return torch.logspace(math.log10(lr.start), math.log10(lr.stop), n_groups, dtype=torch.float64).tolist()'''),
    alternative("lr_groups_from_04", "numpy.geomspace", '''
def lr_groups(lr, n_groups, div=3.0):
    import numpy as np
    if isinstance(lr, slice) and lr.start:
        return [float(v) for v in np.geomspace(lr.start, lr.stop, n_groups)] if n_groups > 1 else [float(lr.stop)]
    if isinstance(lr, slice):
        return [lr.stop / div for _ in range(n_groups - 1)] + [float(lr.stop)]
    return [float(lr) for _ in range(n_groups)]'''),
    mistake("lr_groups_from_04", "slice(lo, hi) spaced evenly in lr, not in log lr", swap(
        LR_GROUPS, GEOMETRIC, "    return torch.linspace(lr.start, lr.stop, n_groups, dtype=torch.float64).tolist()\n"),
        loses=("param_groups_lrs", FT)),
    *edits("lr_groups_from_04", LR_GROUPS, {
        "slice(hi) divided by 10 (fastai's code) instead of div": ("[lr.stop / div]", "[lr.stop / 10]"),
        "slice(hi) giving hi / div to the last group too": (
            "[lr.stop / div] * (n_groups - 1) + [float(lr.stop)]", "[lr.stop / div] * n_groups"),
    }, loses=("param_groups_lrs",)),
    mistake("lr_groups_from_04", "slice(lo, hi) over one group dividing by zero",
            swap(LR_GROUPS, "    if n_groups == 1:\n        return [float(lr.stop)]\n", ""),
            loses=("param_groups_lrs", FT)),
    # --- param_groups -------------------------------------------------------------------------------------
    alternative("param_groups", "each module's parameters() generator", '''
def param_groups(groups, lr, div=3.0):
    lrs = lr_groups(lr, len(groups), div)
    return [dict(params=g.parameters(), lr=lrs[i]) for i, g in enumerate(groups)]'''),
    mistake("param_groups", "the learning rates in reverse (the head gets the smallest)",
            swap(PARAM_GROUPS, "len(groups), div)\n", "len(groups), div)[::-1]\n"), also=(FT,)),
    mistake("param_groups", "the groups in reverse order, head first",
            swap(PARAM_GROUPS, "zip(groups, lrs)]", "reversed(list(zip(groups, lrs)))]")),
    mistake("param_groups", "the head's lr for every group", '''
def param_groups(groups, lr, div=3.0):
    top = lr_groups(lr, len(groups), div)[-1]
    return [{"params": list(g.parameters()), "lr": top} for g in groups]''', also=(FT,)),
    mistake("param_groups", "ignoring div (always 3)", swap(PARAM_GROUPS, "len(groups), div)", "len(groups))")),
    mistake("param_groups", "'params' holding the module, not its parameters",
            swap(PARAM_GROUPS, '"params": list(g.parameters())', '"params": g'), also=(FT,)),
]
