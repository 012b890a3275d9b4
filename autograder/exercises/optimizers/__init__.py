"""04_optimizers: momentum, RMSProp, Adam, param groups, schedules and the lr finder. One declaration per graded
cell, and the answers a learner could write (correct alternatives and plausible mistakes).

The optimizers are graded on `optimizers.steps`: a few steps on given gradients (float32 and float64,
the defaults left out, a parameter whose first gradient comes late), a real training loop whose
`zero_grad(set_to_none=False)` keeps each `p.grad` the same tensor (a buffer that is `p.grad` itself
shows there), and `step(closure)`, which must return the closure's loss. `optimizers_param_groups`
judges param groups, a parameter without a gradient and settings changed between steps against the
learner's own optimizer (`optimizers.groups`), so a wrong update rule costs only its own cell.
"""
from ...exercise import Check, variants_of
from ...forbidden import forbid
from .adam import ADAM_VARIANTS
from .cases import (QUESTIONS, adam_cases, adamw_cases, group_cases, lr_find_cases, lr_groups_cases, one_cycle_cases,
                    rmsprop_cases, sgd_cases, suggest_lr_cases)
from .schedules import SCHEDULE_VARIANTS
from .sgd_rmsprop import SGD_RMSPROP_VARIANTS

NOTEBOOK, REFERENCE = "04_optimizers", "solutions.optimizers"
NO_OPTIM = forbid("torch.optim's optimizers")

CHECKS = [
    Check("sgd_momentum_matches_torch", 2, "SGDMomentum", "optimizers.steps", sgd_cases, NO_OPTIM),
    Check("rmsprop_matches_torch", 2, "RMSProp", "optimizers.steps", rmsprop_cases, NO_OPTIM),
    Check("adam_matches_torch", 3, "Adam", "optimizers.steps", adam_cases, NO_OPTIM),
    Check("adam_decoupled_matches_adamw", 2, "Adam", "optimizers.steps", adamw_cases, NO_OPTIM,
          title="Adam(decoupled=True)"),
    Check("optimizers_param_groups", 2, ("SGDMomentum", "RMSProp", "Adam"), "optimizers.groups", group_cases,
          NO_OPTIM, title="param groups"),
    Check("lr_groups_values", 1, "lr_groups", "basic.call", lr_groups_cases, (), {"rtol": 1e-9, "atol": 0.0}),
    Check("one_cycle_matches_torch", 2, "one_cycle", "optimizers.schedule", one_cycle_cases,
          NO_OPTIM + forbid("OneCycleLR"),
          {"rtol": 1e-7, "atol": 1e-13}),
    Check("lr_find_values", 2, "lr_find", "optimizers.lr_find", lr_find_cases),
    Check("suggest_lr_values", 1, "suggest_lr", "basic.call", suggest_lr_cases, (), {"rtol": 1e-9, "atol": 0.0}),
    *QUESTIONS,
]

VARIANTS = SGD_RMSPROP_VARIANTS + ADAM_VARIANTS + SCHEDULE_VARIANTS + variants_of(QUESTIONS)
