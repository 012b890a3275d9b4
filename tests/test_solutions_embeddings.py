"""The reference for 01_embeddings against PyTorch (F.one_hot, F.embedding, nn.Embedding)."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.testing import assert_close

from solutions.embeddings import Embedding, embedding_lookup, embedding_matmul, one_hot

pytestmark = pytest.mark.embeddings

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]
SHAPES = [(), (1,), (7,), (3, 4), (2, 3, 5), (0,), (2, 0, 3)]


class Calls(TorchFunctionMode):
    """Records the torch functions called while active."""

    def __init__(self):
        super().__init__()
        self.names = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


def make_idx(shape, n, device, dtype=torch.int64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, n, shape, generator=g).to(device=device, dtype=dtype)


def make_weight(n, d, device, dtype, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype).to(device)


# ---------------------------------------------------------------- one_hot
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("idx_dtype", [torch.int64, torch.int32, torch.uint8])
def test_one_hot_matches_torch(device, shape, idx_dtype):
    n = 6
    idx = make_idx(shape, n, device, idx_dtype)
    out = one_hot(idx, n)
    assert out.dtype == torch.float32
    assert out.shape == idx.shape + (n,)
    assert out.device == idx.device
    assert_close(out, F.one_hot(idx.long(), n).float())


def test_one_hot_0d_index():
    assert_close(one_hot(torch.tensor(2), 4), torch.tensor([0.0, 0.0, 1.0, 0.0]))


def test_one_hot_forbids_f_one_hot():
    idx = torch.tensor([[0, 2], [1, 1]])
    with Calls() as calls:
        one_hot(idx, 3)
    assert "one_hot" not in calls.names


@pytest.mark.parametrize("bad", [torch.tensor([0, 3]), torch.tensor([-1, 0]), torch.tensor(5)])
def test_one_hot_rejects_out_of_range(bad):
    with pytest.raises(IndexError, match=r"\[0, 3\)"):
        one_hot(bad, 3)


@pytest.mark.parametrize("bad", [torch.tensor([0.0, 1.0]), torch.tensor([True, False])])
def test_one_hot_rejects_non_integer(bad):
    with pytest.raises(TypeError, match="integer"):
        one_hot(bad, 3)


# ---------------------------------------------------------------- matmul and lookup
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn", [embedding_matmul, embedding_lookup], ids=["matmul", "lookup"])
def test_embedding_matches_f_embedding(fn, shape, dtype, device):
    weight = make_weight(9, 4, device, dtype)
    idx = make_idx(shape, 9, device)
    out = fn(weight, idx)
    assert out.shape == idx.shape + (4,)
    assert out.dtype == dtype and out.device == weight.device
    assert_close(out, F.embedding(idx, weight))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", [embedding_matmul, embedding_lookup], ids=["matmul", "lookup"])
def test_embedding_gradients_accumulate_over_repeated_indices(fn, dtype, device):
    idx = torch.tensor([[0, 3, 3], [3, 1, 0]], device=device)  # row 3 three times, row 0 twice
    weight = make_weight(5, 2, device, dtype).requires_grad_()
    ref = weight.detach().clone().requires_grad_()
    up = torch.randn(2, 3, 2, dtype=dtype, device=device)
    (fn(weight, idx) * up).sum().backward()
    (F.embedding(idx, ref) * up).sum().backward()
    assert_close(weight.grad, ref.grad)
    assert_close(weight.grad[3], up[0, 1] + up[0, 2] + up[1, 0])
    assert_close(weight.grad[4], torch.zeros(2, dtype=dtype, device=device))


def test_lookup_forbids_embedding_and_matmul():
    weight, idx = make_weight(5, 3, "cpu", torch.float32), torch.tensor([[1, 4], [0, 0]])
    with Calls() as calls:
        embedding_lookup(weight, idx)
    used = calls.names & {"embedding", "matmul", "mm", "bmm", "einsum", "__matmul__", "one_hot"}
    assert not used, f"embedding_lookup should only index, but called {used}"


def test_lookup_out_of_range_raises():
    with pytest.raises(IndexError):
        embedding_lookup(make_weight(4, 2, "cpu", torch.float32), torch.tensor([4]))


# ---------------------------------------------------------------- Embedding module
def test_embedding_module_parameter_and_init():
    torch.manual_seed(0)
    emb = Embedding(2000, 50)
    names = [name for name, _ in emb.named_parameters()]
    assert names == ["weight"]
    assert isinstance(emb.weight, nn.Parameter) and emb.weight.shape == (2000, 50)
    assert abs(emb.weight.mean().item()) < 1e-3
    assert emb.weight.std().item() == pytest.approx(0.01, rel=0.02)
    assert Embedding(1000, 100, std=0.5).weight.std().item() == pytest.approx(0.5, rel=0.02)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES)
def test_embedding_module_forward_is_a_lookup(shape, device):
    emb = Embedding(7, 3).to(device)
    idx = make_idx(shape, 7, device)
    assert_close(emb(idx), F.embedding(idx, emb.weight))


def test_embedding_state_dict_round_trip():
    ours = Embedding(6, 4)
    theirs = nn.Embedding(6, 4)
    theirs.load_state_dict(ours.state_dict())
    idx = torch.tensor([[5, 0], [2, 2]])
    assert_close(theirs(idx), ours(idx))

    theirs = nn.Embedding(6, 4)
    ours.load_state_dict(theirs.state_dict())
    assert_close(ours(idx), theirs(idx))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]


def test_embedding_module_trains():
    emb = Embedding(4, 2)
    idx = torch.tensor([1, 1, 2])
    emb(idx).sum().backward()
    assert_close(emb.weight.grad, torch.tensor([[0.0, 0.0], [2.0, 2.0], [1.0, 1.0], [0.0, 0.0]]))
