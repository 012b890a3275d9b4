"""The sandbox's watch sees a forbidden operation however it is spelled, and nothing else."""
import pytest
import torch
import torch.nn.functional as F

from autograder.forbidden import forbid
from autograder.inside.watch import Watch

x = torch.randn(4, 5, requires_grad=True)
t = torch.tensor([1, 2, 0, 3])
w = torch.randn(6, 3)
i = torch.tensor([1, 5, 5])


def seen(labels, fn):
    with Watch(forbid(*labels)) as watch:
        fn()
    return watch.found


@pytest.mark.parametrize("label, fn", [
    ("F.one_hot", lambda: F.one_hot(t, 5)),
    ("F.one_hot", lambda: torch._C._nn.one_hot(t, 5)),
    ("F.one_hot", lambda: torch.ops.aten.one_hot(t, 5)),
    ("F.one_hot", lambda: torch.ops.aten.one_hot.default(t, 5)),
    ("F.softmax", lambda: x.softmax(-1)),
    ("F.softmax", lambda: torch.ops.aten._softmax(x, -1, False)),
    ("F.softmax", lambda: torch.nn.Softmax(dim=-1)(x)),
    ("F.log_softmax", lambda: F.log_softmax(x, -1)),
    ("F.cross_entropy", lambda: torch._C._nn.cross_entropy_loss(x, t)),
    ("F.nll_loss", lambda: F.cross_entropy(x, t)),  # it dispatches nll_loss_forward
    ("torch.logsumexp", lambda: x.logsumexp(-1)),
    ("F.embedding", lambda: F.embedding(i, w)),
    ("nn.Embedding", lambda: torch.nn.Embedding(6, 3)(i)),
    ("a matrix product", lambda: torch.einsum("ij,jk->ik", w, w.T)),
    ("a matrix product", lambda: w @ w.T),
    ("a matrix product", lambda: torch.nn.functional.linear(w, w)),
    ("autograd", lambda: (x * 2).sum().backward()),
    ("autograd", lambda: torch.autograd.grad((x * 2).sum(), x)),
    ("torch.optim's optimizers", lambda: torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1).step()),
    ("torch.optim's optimizers", lambda: __import__("torch.optim.adam", fromlist=["adam"]).adam([torch.zeros(1)], [torch.ones(1)], [torch.zeros(1)],
                                                              [torch.zeros(1)], [], [torch.tensor(0.0)], amsgrad=False,
                                                              beta1=0.9, beta2=0.99, lr=0.1, weight_decay=0.0,
                                                              eps=1e-8, maximize=False)),
])
def test_each_spelling_is_seen(label, fn):
    assert label in seen([label], fn)


@pytest.mark.parametrize("labels, fn", [
    (["F.one_hot"], lambda: (t[..., None] == torch.arange(5)).float()),
    (["F.one_hot"], lambda: torch.zeros(4, 5).scatter_(-1, t[:, None], 1.0)),
    (["F.softmax", "torch.logsumexp"], lambda: (x - x.max(-1, keepdim=True).values).exp().sum(-1).log()),
    (["a matrix product", "F.embedding"], lambda: w[i]),
    (["torch.optim's optimizers"], lambda: torch.optim.Optimizer.__init__),
])
def test_what_is_allowed_is_not_seen(labels, fn):
    assert seen(labels, fn) == []


def test_only_code_inside_the_block_counts():
    watch = Watch(forbid("F.one_hot"))
    F.one_hot(t, 5)
    with watch:
        pass
    F.one_hot(t, 5)
    assert watch.found == []


def test_switching_the_profile_hook_off_is_seen():
    import sys
    with Watch(forbid("F.one_hot")) as watch:
        sys.setprofile(None)
    assert any("setprofile" in f for f in watch.found)
