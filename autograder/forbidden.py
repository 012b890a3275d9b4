"""What an exercise may forbid, by the name a learner knows, with every alias the grader watches for.

`forbid("F.softmax", "torch.logsumexp")` gives the rules a `Check` declares: each names the
Python objects (seen by identity, so `torch._C._nn.one_hot` is `F.one_hot`), the ATen operations
they dispatch (so `torch.ops.aten._softmax` and `x.softmax` are seen too), or the folder of
Python code (torch.optim's optimizers and their functional forms). The sandbox's watch checks
them while the learner's code runs; `autograder.static` reads the answer's source for the names.
"""
from __future__ import annotations

F = "torch.nn.functional."
_MATMUL_OPS = ("mm", "bmm", "addmm", "addmv", "mv", "dot", "vdot", "addbmm", "baddbmm", "_addmm_activation",
               "matmul", "linear")

RULES = {
    "F.one_hot": {"names": [F + "one_hot"], "ops": ["one_hot"]},
    "F.embedding": {"names": [F + "embedding", "torch.embedding"], "ops": ["embedding"]},
    "nn.Embedding": {"names": ["torch.nn.Embedding", "torch.nn.EmbeddingBag", F + "embedding_bag"],
                     "ops": ["embedding", "embedding_bag", "_embedding_bag"]},
    "a matrix product": {"names": ["torch.matmul", "torch.Tensor.matmul", "torch.Tensor.__matmul__",
                                   "torch.Tensor.__rmatmul__", "torch.mm", "torch.Tensor.mm", "torch.bmm",
                                   "torch.Tensor.bmm", "torch.mv", "torch.Tensor.mv", "torch.einsum", "torch.tensordot",
                                   "torch.dot", "torch.Tensor.dot", "torch.inner", "torch.addmm", "torch.Tensor.addmm",
                                   "torch.baddbmm", F + "linear", F + "bilinear", "torch.chain_matmul",
                                   "torch.linalg.multi_dot", "torch.linalg.vecdot"],
                         "ops": list(_MATMUL_OPS)},
    "F.cross_entropy": {"names": [F + "cross_entropy", "torch.nn.CrossEntropyLoss", "torch._C._nn.cross_entropy_loss"],
                        "ops": ["cross_entropy_loss"]},
    "F.nll_loss": {"names": [F + "nll_loss", "torch.nn.NLLLoss"],
                   "ops": ["nll_loss", "nll_loss_forward", "nll_loss2d_forward", "nll_loss_nd"]},
    "F.log_softmax": {"names": [F + "log_softmax", "torch.Tensor.log_softmax", "torch.nn.LogSoftmax"],
                      "ops": ["_log_softmax", "log_softmax"]},
    "F.softmax": {"names": [F + "softmax", "torch.Tensor.softmax", "torch.nn.Softmax", "torch.special.softmax"],
                  "ops": ["_softmax", "softmax"]},
    "torch.softmax": {"names": ["torch.softmax", "torch.special.softmax"], "ops": ["_softmax", "softmax"]},
    "torch.log_softmax": {"names": ["torch.log_softmax", "torch.special.log_softmax"],
                          "ops": ["_log_softmax", "log_softmax"]},
    "torch.logsumexp": {"names": ["torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp"],
                        "ops": ["logsumexp"]},
    "F.binary_cross_entropy": {"names": [F + "binary_cross_entropy", F + "binary_cross_entropy_with_logits",
                                         "torch.nn.BCELoss", "torch.nn.BCEWithLogitsLoss"],
                               "ops": ["binary_cross_entropy", "binary_cross_entropy_with_logits"]},
    "autograd": {"names": ["torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward",
                           "torch.autograd.functional.jacobian", "torch.autograd.functional.vjp",
                           "torch.func.grad", "torch.func.vjp"]},
    "torch.optim's optimizers": {"dir": "torch/optim", "except": ["__init__.py", "optimizer.py", "lr_scheduler.py"],
                                 "names": ["torch._fused_adam_", "torch._fused_adamw_", "torch._fused_sgd_"],
                                 "ops": ["_fused_adam_", "_fused_adamw_", "_fused_sgd_", "_fused_adagrad_"]},
    "OneCycleLR": {"names": ["torch.optim.lr_scheduler.OneCycleLR", "torch.optim.lr_scheduler.CosineAnnealingLR",
                             "torch.optim.lr_scheduler.LambdaLR"]},
}


def forbid(*labels: str) -> tuple[dict, ...]:
    """The watch rules for these names (keys of `RULES`)."""
    unknown = [label for label in labels if label not in RULES]
    if unknown:
        raise KeyError(f"no forbidden-call rule for {unknown}; known: {sorted(RULES)}")
    return tuple({"label": label, **RULES[label]} for label in labels)


def names(rules) -> dict[str, str]:
    """dotted name → label, for reading an answer's source."""
    return {name: rule["label"] for rule in rules for name in rule.get("names", ())}
