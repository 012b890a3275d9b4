"""The reference for 08_entity_embeddings against fastai's definitions (as SPEC.md writes them) and PyTorch's
own functional ops (F.embedding, F.linear, F.relu, F.batch_norm) as the oracle: values, gradients and
BatchNorm's running statistics, float64, train and eval mode, on every device."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from solutions.entity_embeddings import CollabNN, TabularModel, emb_sz_rule, sigmoid_range, sigmoid_range_from_02

pytestmark = pytest.mark.entity_embeddings

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.cuda)]
DTYPES = [torch.float32, torch.float64]


def gen(seed):
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------- emb_sz_rule
def fastai_emb_sz_rule(n_cat):
    """fastai.tabular.model.emb_sz_rule, as fastai writes it."""
    return min(600, round(1.6 * n_cat ** 0.56))


def test_emb_sz_rule_is_fastais_for_every_size_up_to_a_hundred_thousand():
    for n in list(range(1, 5000)) + list(range(5000, 100_001, 97)):
        got = emb_sz_rule(n)
        assert type(got) is int and got == fastai_emb_sz_rule(n), n


def test_emb_sz_rule_known_values_and_cap():
    # 10 levels -> 6; the table's 40 stores -> 13; Rossmann's 1,115 stores -> 81
    assert [emb_sz_rule(n) for n in (1, 2, 7, 10, 12, 40, 1115)] == [2, 2, 5, 6, 6, 13, 81]
    assert emb_sz_rule(39_000) == 596 and emb_sz_rule(39_500) == 600 and emb_sz_rule(10 ** 7) == 600


def test_emb_sz_rule_rounds_rather_than_truncates():
    # 1.6 * 7 ** 0.56 = 4.757: round gives 5, int() gives 4
    assert emb_sz_rule(7) == 5 and int(1.6 * 7 ** 0.56) == 4


def test_emb_sz_rule_grows_sublinearly():
    sizes = [emb_sz_rule(n) for n in range(1, 40_000)]
    assert sizes == sorted(sizes)
    assert emb_sz_rule(4000) < emb_sz_rule(400) * 4


# ---------------------------------------------------------------- sigmoid_range
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_range_is_notebook_02s(dtype):
    from solutions.collab_bias import sigmoid_range as theirs
    x = torch.randn(5, 3, generator=gen(0), dtype=dtype)
    assert_close(sigmoid_range(x, -1.0, 4.0), theirs(x, -1.0, 4.0))
    assert_close(sigmoid_range(x, 0.0, 1.0), torch.sigmoid(x))
    assert sigmoid_range_from_02 is sigmoid_range


# ---------------------------------------------------------------- CollabNN
def randomise(model, seed):
    """Every float parameter and buffer drawn from `seed` (BatchNorm's running_var kept positive)."""
    g = gen(seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                t.fill_(seed + 3)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g, dtype=torch.float64) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g, dtype=torch.float64) * 0.5)
    return model


def collab_oracle(state, x, y_range):
    """CollabNN's forward written with PyTorch's functional ops."""
    u = F.embedding(x[:, 0], state["user_factors.weight"])
    i = F.embedding(x[:, 1], state["item_factors.weight"])
    h = F.relu(F.linear(torch.cat([u, i], 1), state["layers.0.weight"], state["layers.0.bias"]))
    y = F.linear(h, state["layers.2.weight"], state["layers.2.bias"])[:, 0]
    return torch.sigmoid(y) * (y_range[1] - y_range[0]) + y_range[0]


def test_collab_nn_layout_and_defaults():
    model = CollabNN(10, 7, 4, 3)
    assert isinstance(model.user_factors, nn.Embedding) and model.user_factors.weight.shape == (10, 4)
    assert isinstance(model.item_factors, nn.Embedding) and model.item_factors.weight.shape == (7, 3)
    assert [type(m) for m in model.layers] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (model.layers[0].in_features, model.layers[0].out_features) == (7, 100)  # n_hidden=100
    assert (model.layers[2].in_features, model.layers[2].out_features) == (100, 1)
    assert model.y_range == (0.0, 5.5)
    assert set(model.state_dict()) == {"user_factors.weight", "item_factors.weight", "layers.0.weight",
                                       "layers.0.bias", "layers.2.weight", "layers.2.bias"}


def test_collab_nn_embeddings_start_like_fastais():
    torch.manual_seed(0)
    w = CollabNN(3000, 10, 40, 2).user_factors.weight.detach()
    assert w.abs().max() <= 0.02 and 0.0085 < w.std().item() < 0.0095


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [1, 2, 9])
@pytest.mark.parametrize("y_range", [None, (1.0, 5.0)])
def test_collab_nn_matches_the_functional_oracle(batch, dtype, device, y_range):
    kwargs = {} if y_range is None else {"y_range": y_range}
    model = randomise(CollabNN(6, 5, 3, 4, n_hidden=8, **kwargs), batch).to(device, dtype)
    g = gen(batch)
    x = torch.stack([torch.randint(0, 6, (batch,), generator=g), torch.randint(0, 5, (batch,), generator=g)], 1)
    x = x.to(device)
    y_hat = model(x)
    assert y_hat.shape == (batch,) and y_hat.dtype == dtype and y_hat.device.type == device
    params = dict(model.named_parameters())
    expected = collab_oracle(params, x, y_range or (0.0, 5.5))
    assert_close(y_hat, expected)
    upstream = torch.randn(batch, generator=g, dtype=dtype).to(device)
    mine = torch.autograd.grad((y_hat * upstream).sum(), list(params.values()))
    theirs = torch.autograd.grad((expected * upstream).sum(), list(params.values()))
    for name, a, b in zip(params, mine, theirs):
        assert_close(a, b, msg=name)


def test_collab_nn_stays_inside_y_range():
    model = randomise(CollabNN(4, 4, 2, 2, n_hidden=5, y_range=(-1.0, 2.0)), 0)
    with torch.no_grad():
        model.layers[2].bias.fill_(50.0)
    x = torch.tensor([[0, 1], [3, 3]])
    y_hat = model(x)
    assert ((y_hat > -1.0) & (y_hat <= 2.0)).all()


# ---------------------------------------------------------------- TabularModel
EMB_SZS = [(10, 4), (7, 3), (3, 2)]


def tabular_oracle(model, x_cat, x_cont, training, y_range=None):
    """TabularModel's forward with PyTorch's functional ops, on copies of its running statistics."""
    embs = [F.embedding(x_cat[:, i], e.weight) for i, e in enumerate(model.embeds)]
    bn = model.bn_cont
    mean, var = bn.running_mean.clone(), bn.running_var.clone()
    cont = F.batch_norm(x_cont, mean, var, bn.weight, bn.bias, training, bn.momentum, bn.eps)
    h = torch.cat(embs + [cont], 1)
    linears = [m for m in model.layers if isinstance(m, nn.Linear)]
    for lin in linears[:-1]:
        h = F.relu(F.linear(h, lin.weight, lin.bias))
    y = F.linear(h, linears[-1].weight, linears[-1].bias)
    if y_range is not None:
        y = torch.sigmoid(y) * (y_range[1] - y_range[0]) + y_range[0]
    return y, mean, var


def test_tabular_model_layout():
    model = TabularModel(EMB_SZS, 2, 3, [20, 10])
    assert isinstance(model.embeds, nn.ModuleList)
    assert [(type(e), tuple(e.weight.shape)) for e in model.embeds] == [(nn.Embedding, s) for s in EMB_SZS]
    assert isinstance(model.bn_cont, nn.BatchNorm1d) and model.bn_cont.num_features == 2
    assert [type(m) for m in model.layers] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [(m.in_features, m.out_features) for m in model.layers if isinstance(m, nn.Linear)] == \
        [(4 + 3 + 2 + 2, 20), (20, 10), (10, 3)]
    assert model.y_range is None


def test_tabular_model_without_hidden_layers_is_one_linear():
    model = TabularModel([(5, 3)], 4, 2, [])
    assert len(model.layers) == 1 and isinstance(model.layers[0], nn.Linear)
    assert (model.layers[0].in_features, model.layers[0].out_features) == (7, 2)


def tabular_inputs(batch, dtype, device, seed=0, n_cont=2, emb_szs=EMB_SZS):
    g = gen(seed)
    x_cat = torch.stack([torch.randint(0, n, (batch,), generator=g) for n, _ in emb_szs], 1)
    x_cont = torch.randn(batch, n_cont, generator=g, dtype=torch.float64) * 3 + 2
    return x_cat.to(device), x_cont.to(device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training, batch", [(True, 2), (True, 8), (False, 1), (False, 5)])
@pytest.mark.parametrize("y_range", [None, (7.0, 10.5)])
def test_tabular_model_matches_the_functional_oracle(training, batch, dtype, device, y_range):
    model = randomise(TabularModel(EMB_SZS, 2, 3, [6, 5], y_range=y_range), batch).to(device, dtype)
    model.train(training)
    x_cat, x_cont = tabular_inputs(batch, dtype, device, seed=batch)
    expected, mean, var = tabular_oracle(model, x_cat, x_cont, training, y_range)
    y_hat = model(x_cat, x_cont)
    assert y_hat.shape == (batch, 3) and y_hat.dtype == dtype and y_hat.device.type == device
    assert_close(y_hat, expected)
    # BatchNorm's running statistics: updated in train mode exactly as F.batch_norm does, untouched in eval mode
    assert_close(model.bn_cont.running_mean, mean)
    assert_close(model.bn_cont.running_var, var)
    assert model.bn_cont.num_batches_tracked.item() == 3 + batch + training
    params = dict(model.named_parameters())
    upstream = torch.randn(batch, 3, generator=gen(9), dtype=dtype).to(device)
    mine = torch.autograd.grad((y_hat * upstream).sum(), list(params.values()))
    theirs = torch.autograd.grad((expected * upstream).sum(), list(params.values()))
    for name, a, b in zip(params, mine, theirs):
        assert_close(a, b, msg=name)


def test_tabular_model_gradcheck_float64():
    model = randomise(TabularModel([(4, 2), (3, 2)], 2, 2, [5]), 1).double().eval()
    x_cat, x_cont = tabular_inputs(3, torch.float64, "cpu", emb_szs=[(4, 2), (3, 2)])
    x_cont.requires_grad_()
    assert torch.autograd.gradcheck(lambda c: model(x_cat, c), (x_cont,))


def test_tabular_model_normalises_the_continuous_columns_in_train_mode():
    model = randomise(TabularModel([(3, 2)], 2, 1, []), 0)
    with torch.no_grad():
        model.bn_cont.weight.fill_(1.0)
        model.bn_cont.bias.fill_(0.0)
    x_cat, x_cont = tabular_inputs(64, torch.float64, "cpu", n_cont=2, emb_szs=[(3, 2)])
    seen = {}
    model.layers[0].register_forward_hook(lambda m, inp, out: seen.update(x=inp[0]))
    model.double()(x_cat, x_cont)
    cont = seen["x"][:, 2:]
    assert_close(cont.mean(0), torch.zeros(2, dtype=torch.float64), atol=1e-6, rtol=0)
    assert_close(cont.var(0, unbiased=False), torch.ones(2, dtype=torch.float64), atol=1e-3, rtol=0)
    assert_close(seen["x"][:, :2], model.embeds[0](x_cat[:, 0]))  # the embeddings come first


def test_tabular_model_embeddings_start_like_fastais_and_no_continuous_columns_work():
    torch.manual_seed(0)
    model = TabularModel([(3000, 40)], 0, 1, [8])
    w = model.embeds[0].weight.detach()
    assert w.abs().max() <= 0.02 and 0.0085 < w.std().item() < 0.0095
    y = model(torch.tensor([[0], [5]]), torch.zeros(2, 0))
    assert y.shape == (2, 1) and math.isfinite(y.sum().item())


def test_tabular_model_with_two_categorical_columns_is_collab_nn():
    """The bridge: CollabNN is a TabularModel with the user and the item as its only columns."""
    collab = randomise(CollabNN(6, 5, 3, 4, n_hidden=8, y_range=(0.0, 5.5)), 0)
    tab = TabularModel([(6, 3), (5, 4)], 0, 1, [8], y_range=(0.0, 5.5))
    mapping = {"user_factors.weight": "embeds.0.weight", "item_factors.weight": "embeds.1.weight"}
    state = {mapping.get(k, k): v for k, v in collab.state_dict().items()}
    missing = tab.load_state_dict(state, strict=False).missing_keys
    assert all(k.startswith("bn_cont") for k in missing)
    x = torch.tensor([[0, 4], [5, 1], [2, 2]])
    assert_close(tab(x, torch.zeros(3, 0))[:, 0], collab(x))
