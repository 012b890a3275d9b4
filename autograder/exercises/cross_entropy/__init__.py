"""05_cross_entropy: softmax and cross-entropy from scratch. One declaration per graded cell, and the
answers a learner could write (correct alternatives and plausible mistakes).

Every function is compared with the reference in value and gradient (PyTorch's own functions are the
reference's oracle in tests/test_solutions_cross_entropy.py), on logits from moderate to magnitude 1e4
(where exp overflows), shapes down to one class and a batch of one, every reduction and the default ones
left out, float32 and float64, every device. PyTorch's softmax family is forbidden inside every answer
(caught by the ATen operations it dispatches, whatever the alias), and autograd inside the gradient by hand.
The reference `cross_entropy` calls the learner's `log_softmax` and `nll_loss`, and `cross_entropy_grad`
their `softmax`, so a mistake in those costs the cells that use them too, where it shows there.
"""
from ...exercise import Check, variants_of
from ...forbidden import forbid
from .cases import bce_cases, dim_cases, loss_cases
from .losses import BCE_VARIANTS, LOSS_VARIANTS
from .questions import QUESTIONS
from .softmax import SOFTMAX_VARIANTS

NOTEBOOK, REFERENCE = "05_cross_entropy", "solutions.cross_entropy"
SOFTMAX_FAMILY = forbid("F.cross_entropy", "F.nll_loss", "F.log_softmax", "F.softmax", "torch.softmax",
                        "torch.log_softmax", "torch.logsumexp", "F.binary_cross_entropy")
BY_HAND = SOFTMAX_FAMILY + forbid("autograd")

CHECKS = [
    Check("binary_cross_entropy_values", 1, "binary_cross_entropy", "cross_entropy.call", bce_cases, SOFTMAX_FAMILY),
    Check("softmax_values", 2, "softmax", "cross_entropy.call", lambda: dim_cases("softmax", True), SOFTMAX_FAMILY,
          doc="softmax(x, dim) equals torch.softmax for logits up to magnitude 1e4 (finite: the max trick), any dim, "
              "the last when dim is left out; gradient."),
    Check("logsumexp_values", 1, "logsumexp", "cross_entropy.call", lambda: dim_cases("logsumexp", False),
          SOFTMAX_FAMILY,
          doc="logsumexp(x, dim) equals torch.logsumexp for logits up to magnitude 1e4 (finite), with x's shape "
              "without dim; gradient."),
    Check("log_softmax_values", 2, "log_softmax", "cross_entropy.call", lambda: dim_cases("log_softmax", True),
          SOFTMAX_FAMILY,
          doc="log_softmax(x, dim) equals torch.log_softmax for logits up to magnitude 1e4 (finite, never −inf); "
              "gradient."),
    Check("nll_loss_values", 1, "nll_loss", "cross_entropy.call", lambda: loss_cases("nll_loss", "nll"),
          SOFTMAX_FAMILY,
          doc="nll_loss(log_probs, target, reduction) equals F.nll_loss: −log_probs[i, target_i], the mean over the "
              "batch, the sum or none; gradient."),
    Check("cross_entropy_values", 2, ("cross_entropy", "log_softmax", "nll_loss"), "cross_entropy.call",
          lambda: loss_cases("cross_entropy"), SOFTMAX_FAMILY,
          doc="cross_entropy(logits, target, reduction) equals F.cross_entropy in value and gradient, for logits up "
              "to magnitude 1e4, one class, a batch of one, every reduction."),
    Check("cross_entropy_grad_values", 2, ("cross_entropy_grad", "softmax"), "cross_entropy.call",
          lambda: loss_cases("cross_entropy_grad", "grad"), BY_HAND,
          doc="cross_entropy_grad(logits, target) equals autograd's gradient of the mean cross-entropy, "
              "(softmax − one_hot) / B, computed without autograd."),
    *QUESTIONS,
]

VARIANTS = BCE_VARIANTS + SOFTMAX_VARIANTS + LOSS_VARIANTS + variants_of(QUESTIONS)
