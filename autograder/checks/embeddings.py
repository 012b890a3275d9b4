"""Hidden tests for 01_embeddings: each function is one graded cell, checking one behaviour."""
import torch
from torch import nn

from solutions import embeddings as ref

from ..cases import FLOAT_DTYPES, SEEDS, devices, index_cases, randn, shape_str
from ..report import Question

MATMUL_FREE = ("F.embedding", "nn.Embedding", "F.one_hot") + (
    "torch.matmul", "torch.Tensor.matmul", "torch.Tensor.__matmul__", "torch.Tensor.__rmatmul__", "torch.mm",
    "torch.Tensor.mm", "torch.bmm", "torch.einsum", "torch.tensordot", "torch.nn.functional.linear",
    "torch.mv", "torch.dot", "torch.inner", "torch.addmm", "torch.baddbmm")


def _weights(n: int, seed: int):
    """Tables of `n` rows, 3 wide, in both float dtypes, on every device."""
    for dtype in FLOAT_DTYPES:
        for device in devices():
            yield randn(n, 3, seed=seed, dtype=dtype, device=device)


def one_hot_values(one_hot):
    """one_hot(idx, n) equals the reference for indices of every shape, on every device; no F.one_hot."""
    with Question("one_hot") as q:
        for case in index_cases():
            idx, n = case.args
            what = f"one_hot(idx, {n}) for {case}"
            with q.check(what):
                y = q.call(one_hot, idx.clone(), n, forbidden=["F.one_hot"])
                q.compare(what, y, ref.one_hot(idx, n),
                          mistakes={"counting classes from 1 instead of 0": ref.one_hot(idx, n + 1)[..., 1:]})


def embedding_matmul_values(embedding_matmul):
    """embedding_matmul(weight, idx) equals one_hot(idx) @ weight: values, dtype and gradient."""
    with Question("embedding_matmul") as q:
        for i, case in enumerate(index_cases()):
            idx, n = case.args
            for weight in _weights(n, seed=i):
                what = f"embedding_matmul(weight {str(weight.dtype)[6:]}, {case})"
                with q.check(what):
                    w = weight.clone().requires_grad_()
                    y = q.call(embedding_matmul, w, idx.clone(), forbidden=["F.embedding", "nn.Embedding"])
                    q.compare(what, y, ref.embedding_matmul(weight, idx))
                    _check_gradient(q, what, y, w, weight, idx)


def _check_gradient(q, what, y, w, weight, idx):
    """The gradient of a weighted sum of the output flows back to exactly the looked-up rows."""
    if not isinstance(y, torch.Tensor) or not y.requires_grad:
        raise AssertionError(f"{what}: the result has no gradient: don't detach it or build it "
                             "from .data or numpy.")
    w_ref = weight.clone().requires_grad_()
    y_ref = ref.embedding_lookup(w_ref, idx)
    g = randn(*y_ref.shape, seed=7, dtype=weight.dtype, device=weight.device)
    (y * g).sum().backward()
    (y_ref * g).sum().backward()
    q.compare(f"gradient of the table for {what} (repeated indices add up)", w.grad, w_ref.grad)


def embedding_lookup_values(embedding_lookup):
    """embedding_lookup(weight, idx) equals weight[idx] for every shape and dtype, without a matmul."""
    with Question("embedding_lookup") as q:
        for i, case in enumerate(index_cases()):
            idx, n = case.args
            for weight in _weights(n, seed=i):
                what = f"embedding_lookup(weight {str(weight.dtype)[6:]}, {case})"
                with q.check(what):
                    y = q.call(embedding_lookup, weight.clone(), idx.clone(), forbidden=MATMUL_FREE)
                    q.compare(what, y, ref.embedding_lookup(weight, idx))


def embedding_lookup_gradient(embedding_lookup):
    """Gradients through a lookup reach exactly the rows looked up, accumulating over repeated indices."""
    with Question("embedding_lookup gradient") as q:
        for i, case in enumerate(index_cases(n_rows=(4, 9))):
            idx, n = case.args
            for weight in _weights(n, seed=i):
                what = f"embedding_lookup(weight {str(weight.dtype)[6:]}, {case})"
                with q.check(what):
                    w = weight.clone().requires_grad_()
                    y = q.call(embedding_lookup, w, idx.clone(), forbidden=MATMUL_FREE)
                    _check_gradient(q, what, y, w, weight, idx)


def embedding_module(Embedding):
    """Embedding(n, d, std) holds a (n, d) `weight` ~ N(0, std²), looks rows up, and swaps state with nn.Embedding."""
    with Question("Embedding") as q:
        with q.check("Embedding(1000, 40, std=0.5) has one parameter, `weight`, of shape (1000, 40)"):
            torch.manual_seed(0)
            emb = q.call(Embedding, 1000, 40, std=0.5)
            names = [name for name, _ in emb.named_parameters()]
            assert names == ["weight"], f"its parameters are {names}, expected ['weight']"
            assert tuple(emb.weight.shape) == (1000, 40), f"weight has shape {tuple(emb.weight.shape)}"
        with q.check("weight is drawn from a normal with mean 0 and the given std"):
            w = emb.weight.detach().double()
            # 40,000 draws: the sample std is within 2% of the true one with overwhelming probability.
            assert abs(w.std().item() - 0.5) < 0.01, f"the std of weight is {w.std().item():.4f}, expected 0.5"
            assert abs(w.mean().item()) < 0.01, f"the mean of weight is {w.mean().item():.4f}, expected 0"
            default = Embedding(2000, 50)
            s = default.weight.detach().double().std().item()
            assert abs(s - 0.01) < 3e-4, f"with the default std the weights' std is {s:.5f}, expected 0.01"
        for seed in SEEDS:
            for device in devices():
                n, d = 5 + seed, 3 + seed
                idx = torch.randint(n, (4, 6), generator=torch.Generator().manual_seed(seed)).to(device)
                with q.check(f"forward is a lookup of weight ({n} × {d} table, (4, 6) indices, {device.type})"):
                    emb = q.call(Embedding, n, d).to(device)
                    y = q.call(emb, idx, forbidden=MATMUL_FREE)
                    q.compare(f"Embedding({n}, {d})(idx)", y, emb.weight[idx])
                with q.check(f"state_dict loads into nn.Embedding({n}, {d}) and back"):
                    theirs = nn.Embedding(n, d).to(device)
                    theirs.load_state_dict(emb.state_dict())
                    q.compare("nn.Embedding loaded from your state_dict", theirs(idx), emb.weight[idx])
                    back = q.call(Embedding, n, d).to(device)
                    back.load_state_dict(theirs.state_dict())
                    q.compare("your Embedding loaded from nn.Embedding's state_dict", q.call(back, idx),
                              theirs.weight[idx])
        with q.check("the parameter learns: a step of SGD changes only the rows looked up"):
            emb = q.call(Embedding, 6, 2)
            before = emb.weight.detach().clone()
            q.call(emb, torch.tensor([1, 1, 4])).sum().backward()
            assert emb.weight.grad is not None, "weight got no gradient: is it an nn.Parameter used in forward?"
            q.compare("weight.grad after summing rows 1, 1, 4", emb.weight.grad,
                      torch.tensor([[0., 0], [2, 2], [0, 0], [0, 0], [1, 1], [0, 0]]))
            assert torch.equal(emb.weight.detach(), before), "forward changed the weights"
