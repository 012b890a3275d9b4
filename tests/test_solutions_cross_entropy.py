"""The reference for 05_cross_entropy against PyTorch (F.softmax, F.log_softmax, torch.logsumexp,
F.nll_loss, F.cross_entropy, F.binary_cross_entropy, autograd for the gradient by hand): values and gradients;
and the grading facts its declarations rely on (the tolerance rule accepts PyTorch's own answers; equal-valued
mistakes are named together)."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode
from torch.testing import assert_close

from solutions.cross_entropy import (
    binary_cross_entropy,
    cross_entropy,
    cross_entropy_grad,
    log_softmax,
    logsumexp,
    nll_loss,
    softmax,
)

pytestmark = pytest.mark.cross_entropy

DEVICES = ["cpu"] + ([pytest.param("cuda", marks=pytest.mark.cuda)] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]
REDUCTIONS = ["mean", "sum", "none"]
BATCH_CLASSES = [(1, 1), (1, 5), (7, 1), (7, 5), (64, 10)]
SCALES = [1.0, 30.0, 1e4]


def tols(dtype):
    return dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-5)


def make_logits(shape, scale, dtype, device, seed=0):
    """Logits spread over [-scale, scale] (a few at the ends), as a leaf that requires grad."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1) * scale
    return x.to(device=device, dtype=dtype).requires_grad_()


def make_target(b, c, device, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, c, (b,), generator=g).to(device)


def value_and_grad(fn, x, *args, seed=2):
    """fn(x, *args) and the gradient of a random weighting of it (a non-trivial upstream grad)."""
    out = fn(x, *args)
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(out.shape, generator=g, dtype=torch.float64).to(out)
    (grad,) = torch.autograd.grad((out * w).sum(), x)
    return out.detach(), grad


def assert_matches(ours, theirs, x, *args, dtype):
    out, grad = value_and_grad(ours, x, *args)
    ref, ref_grad = value_and_grad(theirs, x, *args)
    assert out.dtype == ref.dtype and out.device == ref.device and out.shape == ref.shape
    assert_close(out, ref, **tols(dtype), msg=lambda m: f"values: {m}")
    assert_close(grad, ref_grad, **tols(dtype), msg=lambda m: f"gradients: {m}")


# ------------------------------------------------------------------ softmax, logsumexp, log_softmax
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("shape, dim", [((7, 5), -1), ((7, 5), 0), ((1, 1), -1), ((3, 4, 6), 1), ((6,), 0)])
def test_softmax_family_matches_torch(shape, dim, scale, dtype, device):
    x = make_logits(shape, scale, dtype, device)
    for ours, theirs in [
        (softmax, lambda t, d: F.softmax(t, dim=d)),
        (log_softmax, lambda t, d: F.log_softmax(t, dim=d)),
        (logsumexp, torch.logsumexp),
    ]:
        assert_matches(ours, theirs, x, dim, dtype=dtype)


def test_default_dim_is_last():
    x = make_logits((3, 4, 5), 3.0, torch.float64, "cpu").detach()
    assert_close(softmax(x), F.softmax(x, dim=-1))
    assert_close(log_softmax(x), F.log_softmax(x, dim=-1))
    assert_close(logsumexp(x), torch.logsumexp(x, dim=-1))


@pytest.mark.parametrize("device", DEVICES)
def test_finite_for_large_logits_float32(device):
    """The max trick: |logits| up to 1e4 in float32 gives finite values and gradients."""
    x = torch.tensor([[1e4, -1e4, 0.0], [1e4, 1e4 - 1, 1e4], [-1e4, -1e4, -1e4 + 2]], device=device)
    x = x.requires_grad_()
    t = torch.tensor([1, 0, 2], device=device)
    for out in [softmax(x), log_softmax(x), logsumexp(x), cross_entropy(x, t, reduction="none")]:
        assert torch.isfinite(out).all(), out
        (grad,) = torch.autograd.grad(out.sum(), x)
        assert torch.isfinite(grad).all(), grad
    assert_close(softmax(x).sum(-1), torch.ones(3, device=device))
    assert_close(cross_entropy(x, t), F.cross_entropy(x, t))


def test_logsumexp_of_infinite_rows_like_torch():
    """A row of all -inf gives -inf, a row holding +inf gives +inf (torch masks an infinite max)."""
    inf = math.inf
    x = torch.tensor([[-inf, -inf, -inf], [-inf, 0.0, 1.0], [inf, 0.0, -inf], [-inf, 2.0, -inf]])
    assert_close(logsumexp(x), torch.logsumexp(x, dim=-1))
    assert logsumexp(x)[0] == -inf and logsumexp(x)[2] == inf
    # softmax / log_softmax of an all -inf row are nan in PyTorch too; masked entries are 0 / -inf
    assert_close(softmax(x), F.softmax(x, dim=-1), equal_nan=True)
    assert_close(log_softmax(x), F.log_softmax(x, dim=-1), equal_nan=True)


def test_keeps_dtype_and_device():
    for dtype in DTYPES:
        x = make_logits((4, 3), 2.0, dtype, "cpu")
        for out in [softmax(x), log_softmax(x), logsumexp(x), cross_entropy(x, torch.tensor([0, 1, 2, 0]))]:
            assert out.dtype == dtype and out.device == x.device


# ------------------------------------------------------------------ nll_loss, cross_entropy
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("b, c", BATCH_CLASSES)
def test_cross_entropy_matches_torch(b, c, scale, reduction, dtype, device):
    x = make_logits((b, c), scale, dtype, device)
    t = make_target(b, c, device)
    assert_matches(
        lambda x_, t_: cross_entropy(x_, t_, reduction=reduction),
        lambda x_, t_: F.cross_entropy(x_, t_, reduction=reduction),
        x, t, dtype=dtype,
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("b, c", BATCH_CLASSES)
def test_nll_loss_matches_torch(b, c, reduction, dtype, device):
    """Any (B, C) input works, normalised or not; the gradient lands on the target entries."""
    x = make_logits((b, c), 5.0, dtype, device)
    t = make_target(b, c, device)
    assert_matches(
        lambda x_, t_: nll_loss(x_, t_, reduction=reduction),
        lambda x_, t_: F.nll_loss(x_, t_, reduction=reduction),
        x, t, dtype=dtype,
    )


def test_cross_entropy_default_is_mean():
    x = make_logits((5, 4), 3.0, torch.float64, "cpu").detach()
    t = make_target(5, 4, "cpu")
    assert_close(cross_entropy(x, t), F.cross_entropy(x, t))
    assert_close(nll_loss(x, t), F.nll_loss(x, t))
    assert cross_entropy(x, t).shape == ()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_classes_along_dim_1(reduction):
    """(B, C, d) logits with (B, d) targets, as F.cross_entropy takes them."""
    x = make_logits((3, 4, 5), 3.0, torch.float64, "cpu")
    g = torch.Generator().manual_seed(5)
    t = torch.randint(0, 4, (3, 5), generator=g)
    assert_matches(
        lambda x_, t_: cross_entropy(x_, t_, reduction=reduction),
        lambda x_, t_: F.cross_entropy(x_, t_, reduction=reduction),
        x, t, dtype=torch.float64,
    )


def test_cross_entropy_is_nll_of_log_softmax():
    x = make_logits((6, 3), 4.0, torch.float64, "cpu").detach()
    t = make_target(6, 3, "cpu")
    assert_close(cross_entropy(x, t), nll_loss(log_softmax(x), t), rtol=0, atol=0)


# ------------------------------------------------------------------ binary_cross_entropy
def make_probs(shape, dtype, device, seed=3):
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(shape, generator=g, dtype=torch.float64) * 0.98 + 0.01  # inside (0.01, 0.99)
    return p.to(device=device, dtype=dtype).requires_grad_()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1,), (9,), (4, 3)])
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_binary_cross_entropy_matches_torch(soft, shape, reduction, dtype, device):
    p = make_probs(shape, dtype, device)
    g = torch.Generator().manual_seed(4)
    y = torch.rand(shape, generator=g, dtype=torch.float64) if soft else torch.randint(0, 2, shape, generator=g).double()
    y = y.to(device=device, dtype=dtype)
    assert_matches(
        lambda p_, y_: binary_cross_entropy(p_, y_, reduction=reduction),
        lambda p_, y_: F.binary_cross_entropy(p_, y_, reduction=reduction),
        p, y, dtype=dtype,
    )


def test_binary_cross_entropy_lesson_table():
    """The lesson's cat/dog table: its numbers are base-10 logarithms (ours are natural)."""
    y = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0])  # is it a cat?
    p = torch.tensor([0.5, 0.98, 0.9, 0.5, 0.9])  # Pred(Cat)
    base10 = binary_cross_entropy(p, y, reduction="none") / math.log(10)
    assert_close(base10, torch.tensor([0.3, 0.01, 1.0, 0.3, 0.05]), atol=0.01, rtol=0)


# ------------------------------------------------------------------ gradcheck, errors, forbidden calls
def test_gradcheck_float64():
    x = make_logits((4, 5), 3.0, torch.float64, "cpu")
    t = make_target(4, 5, "cpu")
    p = make_probs((6,), torch.float64, "cpu")
    y = torch.rand(6, dtype=torch.float64)
    assert torch.autograd.gradcheck(softmax, (x,))
    assert torch.autograd.gradcheck(lambda z: softmax(z, 0), (x,))
    assert torch.autograd.gradcheck(log_softmax, (x,))
    assert torch.autograd.gradcheck(logsumexp, (x,))
    for reduction in REDUCTIONS:
        assert torch.autograd.gradcheck(lambda z: cross_entropy(z, t, reduction=reduction), (x,))
        assert torch.autograd.gradcheck(lambda z: nll_loss(z, t, reduction=reduction), (x,))
        assert torch.autograd.gradcheck(lambda q: binary_cross_entropy(q, y, reduction=reduction), (p,))


@pytest.mark.parametrize("fn", [binary_cross_entropy, nll_loss, cross_entropy])
def test_invalid_reduction(fn):
    a = torch.full((2, 2), 0.5)
    b = torch.tensor([0, 1]) if fn is not binary_cross_entropy else torch.ones(2, 2)
    with pytest.raises(ValueError):
        fn(a, b, reduction="avg")


FORBIDDEN = {
    F.cross_entropy, F.nll_loss, F.log_softmax, F.softmax, F.binary_cross_entropy,
    torch.softmax, torch.log_softmax, torch.logsumexp, torch.special.softmax,
    torch.special.log_softmax, torch.special.logsumexp,
    torch.Tensor.softmax, torch.Tensor.log_softmax, torch.Tensor.logsumexp,
}  # fmt: skip


class Calls(TorchFunctionMode):
    """Records the torch functions called while active."""

    def __init__(self):
        super().__init__()
        self.funcs = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.funcs.add(func)
        return func(*args, **(kwargs or {}))


def test_no_forbidden_calls():
    x = make_logits((4, 3), 2.0, torch.float32, "cpu")
    t = make_target(4, 3, "cpu")
    p, y = make_probs((4,), torch.float32, "cpu"), torch.ones(4)
    with Calls() as calls:
        softmax(x), log_softmax(x), logsumexp(x), nll_loss(x, t), cross_entropy(x, t), cross_entropy_grad(x, t)
        binary_cross_entropy(p, y)
    assert not calls.funcs & FORBIDDEN, calls.funcs & FORBIDDEN
    with Calls() as check:  # the mode does see the forbidden ones
        F.cross_entropy(x, t), x.softmax(-1), torch.logsumexp(x, -1)
    assert {F.cross_entropy, torch.Tensor.softmax, torch.logsumexp} <= check.funcs


# ------------------------------------------------------------------ cross_entropy_grad: by hand, against autograd
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("b, c", BATCH_CLASSES)
def test_cross_entropy_grad_is_autograds(b, c, scale, dtype, device):
    x = make_logits((b, c), scale, dtype, device)
    t = make_target(b, c, device)
    (expected,) = torch.autograd.grad(F.cross_entropy(x, t), x)
    got = cross_entropy_grad(x.detach(), t)
    assert got.dtype == dtype and got.device == x.device and got.shape == (b, c)
    assert torch.isfinite(got).all()
    assert_close(got, expected, **tols(dtype))


def test_cross_entropy_grad_uses_no_autograd_and_no_softmax_of_torch():
    """Under the grader's own watch, with the rules its check declares."""
    from autograder.exercises.cross_entropy import BY_HAND
    from autograder.inside.watch import Watch
    x = make_logits((5, 4), 1e4, torch.float32, "cpu").detach()
    with Watch(BY_HAND) as watch:
        cross_entropy_grad(x, make_target(5, 4, "cpu"))
    assert watch.found == []
    with Watch(BY_HAND) as watch:  # and the watch does see autograd and the softmax, whatever the spelling
        y = x.clone().requires_grad_()
        F.cross_entropy(y, make_target(5, 4, "cpu")).backward()
        torch.ops.aten._softmax(x, 1, False)
    assert {"autograd", "F.cross_entropy", "F.softmax"} <= set(watch.found)


# ------------------------------------------------------------------ the questionnaire's answers
def test_questionnaire_answers():
    from solutions import cross_entropy as ref
    x = make_logits((3, 5), 3.0, torch.float64, "cpu").detach()
    assert_close(softmax(x - x.amax(1, keepdim=True)), softmax(x + 7.0)) and ref.q_softmax_shift == "a"
    assert ref.q_table_loss == pytest.approx(-math.log10(0.1))  # the table's units are base-10 logs
    logits = torch.tensor([[math.log(0.8), math.log(0.2)], [0.0, 1.0]], dtype=torch.float64, requires_grad=True)
    F.cross_entropy(logits, torch.tensor([0, 1])).backward()  # row 0: probability 0.8 on its target class
    assert ref.q_grad_entry == pytest.approx(logits.grad[0, 0].item())


# ------------------------------------------------------------------ what the declarations rely on
def _declared_cases():
    from autograder import exercises
    nb = exercises.notebook("05_cross_entropy")
    return nb, {c.grade_id: c.cases() for c in nb.checks if c.grade_id.endswith("_values")}


def test_the_tolerance_rule_accepts_pytorchs_own_answers():
    """PyTorch's softmax family, a correct answer computed another way, passes every case within the declared
    rule (which grows with the logits' magnitude), in value and gradient."""
    from autograder.grade import Grader, InProcess, namespace
    from workbook.record import PASSED
    nb, _ = _declared_cases()
    ns = namespace(nb.reference)
    ns.update(softmax=lambda logits, dim=-1: torch.softmax(logits, dim),
              log_softmax=lambda logits, dim=-1: torch.log_softmax(logits, dim),
              logsumexp=lambda x, dim=-1: torch.logsumexp(x, dim),
              nll_loss=lambda lp, t, reduction="mean": F.nll_loss(lp, t, reduction=reduction),
              cross_entropy=lambda x, t, reduction="mean": F.cross_entropy(x, t, reduction=reduction),
              binary_cross_entropy=lambda p, y, reduction="mean": F.binary_cross_entropy(p, y, reduction=reduction))
    grader = Grader(nb.reference, nb.variants)
    for check in nb.checks:
        if check.grade_id.endswith("_values") and check.grade_id != "cross_entropy_grad_values":
            check = type(check)(**{**check.__dict__, "forbidden": ()})  # PyTorch's own, with nothing forbidden
            record = grader.grade(check, InProcess(ns))
            assert record.status == PASSED, record.render()


def test_equal_valued_mistakes_are_named_together():
    """Where the log of softmax and the missing max trick give the same (infinite) loss, the learner is told both."""
    from autograder.grade import Grader, InProcess, namespace
    nb, _ = _declared_cases()
    grader = Grader(nb.reference, nb.variants)
    for v in nb.variants:
        if v.answer == "log_softmax" and v.name.startswith(("the log of softmax", "no max subtraction")):
            record = grader.grade(nb.check("cross_entropy_values"), InProcess(namespace(nb.reference, (v,))))
            assert "the log of softmax" in record.mistake and "no max subtraction" in record.mistake, record.render()
            assert " or " in record.mistake


def test_the_cases_keep_the_default_arguments_out_somewhere():
    """dim and reduction are left out in some cases, so a changed default is caught."""
    _, cases = _declared_cases()
    for grade_id in ("softmax_values", "logsumexp_values", "log_softmax_values"):
        assert any("dim" not in c.inputs.get("kwargs", {}) for c in cases[grade_id]), grade_id
    for grade_id in ("binary_cross_entropy_values", "nll_loss_values", "cross_entropy_values"):
        assert any("reduction" not in c.inputs.get("kwargs", {}) for c in cases[grade_id]), grade_id
