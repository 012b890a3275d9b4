"""07_fine_tuning: transfer learning: replace the head, freeze, discriminative learning rates. One declaration
per graded cell, and the answers a learner could write (correct alternatives and plausible mistakes).

Models cross into the sandbox as descriptions (`autograder.inside.scenarios.fine_tuning.make`) and
state_dicts drawn here from fixed seeds. `lr_groups` is notebook 04's exercise: in 07 the learner pastes
their own into the answer cell `lr_groups_from_04` (no reference code reaches the kit), and it is graded
through `param_groups_lrs` and `fine_tune_matches_fastai`, which run it.
"""
from ...exercise import Check, question, variants_of
from .cases import FT, fine_tune_cases, freeze_check_cases, groups_cases, head_cases, unfreeze_check_cases
from .fine_tune import FINE_TUNE_VARIANTS
from .freezing import FREEZING_VARIANTS
from .groups import GROUPS_VARIANTS
from .head import HEAD_VARIANTS

NOTEBOOK, REFERENCE = "07_fine_tuning", "solutions.fine_tuning"

CHECKS = [
    Check("freeze_module", 1, "freeze", "fine_tuning.freezing", freeze_check_cases, title="freeze"),
    Check("unfreeze_module", 1, "unfreeze", "fine_tuning.freezing", unfreeze_check_cases, title="unfreeze"),
    Check("replace_head_fresh", 2, "replace_head", "fine_tuning.head", head_cases, title="replace_head"),
    Check("param_groups_lrs", 2, ("param_groups", "lr_groups_from_04"), "fine_tuning.groups", groups_cases,
          tolerance={"rtol": 1e-9, "atol": 0.0}, title="param_groups"),
    Check(FT, 3, ("fine_tune", "freeze", "unfreeze", "param_groups", "lr_groups_from_04"), "fine_tuning.fine_tune",
          fine_tune_cases, tolerance={"rtol": 1e-4, "atol": 1e-7}, title="fine_tune"),
    question("q_frozen_grad_answer", 1, "q_frozen_grad", "b", choices=("a", "b", "c"),
             right={"a capital letter": '"B"'}, wrong={"frozen parameters get a gradient of zeros": '"a"'}),
    question("q_body_lr_answer", 1, "q_body_lr", 1e-5, right={"written as a fraction": "2e-3 / 200"},
             wrong={"forgetting that fastai halves base_lr (base_lr / 100)": "2e-5"}),
    question("q_head_params_answer", 1, "q_head_params", 512 * 5 + 5, rel_tol=1e-4,
             right={"written as a product": "512 * 5 + 5"}, wrong={"forgetting the bias": "2560"}),
    question("q_why_freeze_answer", 1, "q_why_freeze", "a", choices=("a", "b", "c"),
             right={"with spaces around it": '" a "'}, wrong={"frozen layers train faster, that is all": '"b"'}),
]

VARIANTS = FREEZING_VARIANTS + HEAD_VARIANTS + GROUPS_VARIANTS + FINE_TUNE_VARIANTS + variants_of(CHECKS)
