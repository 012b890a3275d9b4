"""06_mnist_sgd: the inputs each graded cell is checked on (the case grids), from the two models to backpropagation."""
from functools import lru_cache

import torch

from ...cases import FLOATS, SEEDS, SHAPES, Case, dtype_str, each_device, devices, generator, randint, randn, \
    shape_str


# ---------------------------------------------------------------------------- the two models

def _model_cases(cls: str, layouts, values, names):
    """`layouts`: (label, args, kwargs) made with their parameters and layers compared; `values`: sizes
    (the constructor's args, then the batch) of models loaded with a reference-shaped state_dict and run
    forward and backward in both dtypes."""
    cases = [Case(label, {"cls": cls, "args": list(args), "kwargs": kwargs}) for label, args, kwargs in layouts]
    for i, sizes in enumerate(values):
        *args, batch = sizes
        dims = [args[0], *args[1:]]  # n_in, (n_hidden,) n_out
        state = {}
        for j, name in enumerate(names):
            n_in, n_out = dims[j], dims[j + 1]
            state[f"{name}.weight"] = randn(n_out, n_in, seed=10 * i + j, scale=n_in ** -0.5)
            state[f"{name}.bias"] = randn(n_out, seed=10 * i + j + 5, scale=0.1)
        for dtype in FLOATS:
            x = randn(batch, dims[0], seed=100 + i, dtype=dtype)
            upstream = randn(batch, dims[-1], seed=200 + i, dtype=dtype)
            cases.append(Case(f"{cls}({', '.join(map(str, args))}) loaded with the reference's state_dict, on a "
                              f"{shape_str(x.shape)} {dtype_str(dtype)} input",
                              {"cls": cls, "args": list(args), "state": state, "x": x, "upstream": upstream,
                               "dtype": dtype_str(dtype)}, keys=("y", "grads")))
    return each_device(cases)


def logistic_cases():
    """MnistLogistic(n_in=784, n_out=10) is one nn.Linear `lin` with a bias, returning raw scores: its layout,
    and its outputs and gradients with the reference's weights loaded, in both dtypes, on every device."""
    return _model_cases("MnistLogistic", [
        ("MnistLogistic()", (), {}), ("MnistLogistic(n_in=64, n_out=7)", (), {"n_in": 64, "n_out": 7}),
        ("MnistLogistic(20, 3)", (20, 3), {}), ("MnistLogistic(n_out=4)", (), {"n_out": 4})],
        [(784, 10, 5), (64, 10, 1), (13, 3, 7), (21, 4, 9)], ["lin"])


def nn_cases():
    """MnistNN(n_in=784, n_hidden=50, n_out=10) is lin1, ReLU, lin2 (raw scores): its layout, and its outputs
    and gradients with the reference's weights loaded, in both dtypes, on every device."""
    return _model_cases("MnistNN", [
        ("MnistNN()", (), {}), ("MnistNN(n_in=64, n_hidden=20, n_out=7)", (), {"n_in": 64, "n_hidden": 20, "n_out": 7}),
        ("MnistNN(12, 6, 3)", (12, 6, 3), {}), ("MnistNN(n_hidden=8)", (), {"n_hidden": 8})],
        [(784, 50, 10, 5), (64, 32, 10, 1), (13, 8, 3, 7), (21, 6, 4, 9)], ["lin1", "lin2"])


# ---------------------------------------------------------------------------- update, fit, accuracy

OPTIMIZERS = {
    "SGD(lr=0.1)": {"name": "SGD", "kwargs": {"lr": 0.1}},
    "SGD(lr=0.05, momentum=0.9)": {"name": "SGD", "kwargs": {"lr": 0.05, "momentum": 0.9}},
    "Adam(lr=0.01)": {"name": "Adam", "kwargs": {"lr": 0.01}},
}
N_IN, N_HIDDEN, N_OUT = 12, 8, 5  # the stand-in net


def _batches(seed: int, dtype, n: int = 4, bs: int = 16):
    return [[randn(bs, N_IN, seed=100 * seed + i, dtype=dtype), randint(N_OUT, (bs,), seed=100 * seed + i)]
            for i in range(n)]


def update_cases():
    """update(model, opt, loss_func, x, y) takes one step of the opt passed in (made once, outside), returns
    the loss as a float and leaves the gradients zeroed: 4 calls on nets that are not the learner's, with SGD,
    momentum and Adam, against the reference from the same start (losses, parameters, optimizer state)."""
    cases = []
    for i, (opt_name, dtype) in enumerate((o, d) for o in OPTIMIZERS for d in FLOATS):
        seed = SEEDS[i % len(SEEDS)]
        loss = {"label_smoothing": 0.1} if seed == 2 else {}  # a loss other than the default: use loss_func
        cases.append(Case(f"4 calls of update(net, opt={opt_name}, nn.CrossEntropyLoss("
                          f"{'label_smoothing=0.1' if loss else ''}), x, y) on {dtype_str(dtype)} batches of 16",
                          {"model": {"sizes": [N_IN, N_HIDDEN, N_OUT], "seed": seed}, "optimizer": OPTIMIZERS[opt_name],
                           "batches": _batches(seed, dtype), "loss": loss, "dtype": dtype_str(dtype)}))
    special = [
        ("Adam(lr=0.01)", "a net whose gradients start as zero tensors (as zero_grad(set_to_none=False) leaves them)",
         {"zero_grads": True}, {}),
        ("SGD(lr=0.05, momentum=0.9)", "a net with a layer the loss never uses (its .grad stays None)", {},
         {"unused": True}),
        ("Adam(lr=0.01)", "a net with a layer that joins at the second call (its first gradient comes a step late)",
         {}, {"late": True}),
    ]
    for j, (opt_name, what, extra, net) in enumerate(special):
        cases.append(Case(f"4 calls of update(net, opt={opt_name}, nn.CrossEntropyLoss(), x, y) on {what}",
                          {"model": {"sizes": [N_IN, N_HIDDEN, N_OUT], "seed": 3 + j, **net},
                           "optimizer": OPTIMIZERS[opt_name], "batches": _batches(3 + j, torch.float32), **extra}))
    cases.append(Case("4 calls of update(net, opt=SGD(lr=0.1), nn.CrossEntropyLoss(), x, y) on batches of one example",
                      {"model": {"sizes": [N_IN, N_HIDDEN, N_OUT], "seed": 6}, "optimizer": OPTIMIZERS["SGD(lr=0.1)"],
                       "batches": _batches(6, torch.float32, bs=1)}))
    return each_device(cases)


def _examples(n: int, seed: int, dtype=torch.float32):
    return randn(n, N_IN, seed=seed, dtype=dtype), randint(N_OUT, (n,), seed=seed + 50)


def fit_cases():
    """fit(model, opt, loss_func, train_dl, epochs) calls update on every batch, epochs times, and returns every
    batch's loss: loaders with a smaller last batch, shuffled by seeded generators, and a plain list of batches."""
    cases = []
    for seed, opt_name, epochs, data, what, dtype in (
            (0, "SGD(lr=0.1)", 1, {"kind": "loader", "batch_size": 16}, "a DataLoader of 50 examples in batches "
             "of 16 (the last of 2)", torch.float32),
            (1, "Adam(lr=0.01)", 3, {"kind": "sampler", "batch_size": 16, "seed": 1}, "a DataLoader of 50 examples "
             "shuffled by a sampler with a seeded generator", torch.float32),
            (2, "SGD(lr=0.05, momentum=0.9)", 2, {"kind": "sampler", "batch_size": 8, "seed": 2},
             "a DataLoader of 50 float64 examples in batches of 8, shuffled by a seeded generator", torch.float64),
            (3, "SGD(lr=0.1)", 2, {"kind": "list", "sizes": [16, 16, 16, 2]}, "a plain list of (x, y) batches of "
             "16, 16, 16 and 2 examples", torch.float32)):
        x, y = _examples(50, seed, dtype)
        cases.append(Case(f"fit(net, {opt_name}, nn.CrossEntropyLoss(), {what}, epochs={epochs})",
                          {"model": {"sizes": [N_IN, N_HIDDEN, N_OUT], "seed": seed}, "optimizer": OPTIMIZERS[opt_name],
                           "data": {"x": x, "y": y, **data}, "epochs": epochs, "dtype": dtype_str(dtype)}))
    return each_device(cases)


def _labelled(n: int, n_in: int, n_out: int, seed: int):
    """Fixed scores' weights, inputs, and labels the scores (in eval mode) get right about 60% of the time."""
    weight, x = randn(n_out, n_in, seed=seed), randn(n, n_in, seed=seed + 1)
    pred = (x @ weight.T).argmax(1)
    other = randint(n_out, (n,), seed=seed + 2)
    keep = torch.rand(n, generator=generator(seed + 3)) < 0.6
    return weight, x, torch.where(keep, pred, other)


def accuracy_cases():
    """accuracy(model, dl) is the share of examples whose argmax is the label, in eval mode, as a float: batches
    of unequal sizes (weighted by size), batches as wide as the classes, one batch, a list, a shuffled loader."""
    cases = []
    layouts = ((23, 10, 4), (30, 8, 8), (15, 5, 5), (40, 64, 3))  # (examples, batch size, classes)
    for dtype, seed in [(torch.float32, s) for s in SEEDS] + [(torch.float64, 0)]:
        for n, bs, n_out in layouts:
            weight, x, y = _labelled(n, 6, n_out, 10 * seed + n_out)
            cases.append(Case(f"accuracy(model in {dtype_str(dtype)}, a DataLoader of {n} examples in batches of {bs}, "
                              f"{n_out} classes, seed {seed})", {"weight": weight, "data": {"x": x.to(dtype), "y": y,
                                                                                "batch_size": bs},
                                                     "dtype": dtype_str(dtype)}))
    weight, x, y = _labelled(21, 6, 4, 7)
    cases.append(Case("accuracy(model, a plain list of (x, y) batches of 8, 8 and 5 examples, 4 classes)",
                      {"weight": weight, "data": {"x": x, "y": y, "kind": "list", "sizes": [8, 8, 5]}}))
    cases.append(Case("accuracy(model, a DataLoader of 21 examples shuffled by a seeded generator, batches of 4)",
                      {"weight": weight, "data": {"x": x, "y": y, "kind": "shuffle", "batch_size": 4, "seed": 3}}))
    return each_device(cases)


# ---------------------------------------------------------------------------- training on real digits

N_TRAIN, N_VALID = 2000, 500
TRAINING = {  # model → (optimizer, its name, epochs, batch size, the bar on N_VALID validation digits)
    "MnistLogistic": ({"name": "SGD", "kwargs": {"lr": 0.2}}, "SGD(lr=0.2)", 3, 64, 0.8),   # the reference: 0.868
    "MnistNN": ({"name": "Adam", "kwargs": {"lr": 0.01}}, "Adam(lr=0.01)", 3, 64, 0.86),  # the reference: 0.894
}
TRAINING_ID = "training_reaches_accuracy"  # the graded cell of training_cases, which many mistakes also lose


@lru_cache(maxsize=1)
def _digits():
    """The first 2,000 training and 500 validation digits of the MNIST sample, as bytes (0-255)."""
    import workbook.data
    x_train, y_train, x_valid, y_valid = workbook.data.digits("sample")
    as_bytes = lambda x: (x * 255).round().to(torch.uint8)  # noqa: E731  (the sample's pixels are k / 255)
    return as_bytes(x_train[:N_TRAIN]), y_train[:N_TRAIN], as_bytes(x_valid[:N_VALID]), y_valid[:N_VALID]


def training_cases():
    """A short run of your fit takes each model (your MnistLogistic and MnistNN) past a validation accuracy bar
    on 2,000 real MNIST digits (the notebook's full run shows the lesson's bar on 4,000)."""
    x_train, y_train, x_valid, y_valid = _digits()
    device = devices()[-1]  # the GPU when there is one, as the notebook trains
    cases = []
    for cls, (optimizer, opt_name, epochs, bs, bar) in TRAINING.items():
        cases.append(Case(f"{cls}() trained by your fit for {epochs} epochs with {opt_name} on {N_TRAIN} digits in "
                          f"shuffled batches of {bs}: its accuracy on {N_VALID} validation digits, up to the bar of "
                          f"{bar:.0%}",
                          {"cls": cls, "optimizer": optimizer, "epochs": epochs, "bar": bar,
                           "train": {"x": x_train, "y": y_train, "kind": "batches", "batch_size": bs, "seed": 0},
                           "x_valid": x_valid, "y_valid": y_valid}, device=device))
    return cases


# ---------------------------------------------------------------------------- backpropagation by hand

def linear_backward_cases():
    """linear_backward(x, weight, grad_out) = (grad_out @ weight, grad_out.T @ x, grad_out.sum(0)) for
    y = x @ weight.T + bias: batches of 1 and more, square and 1-wide layers, both dtypes, every device."""
    cases = []
    for i, (b, n_in, n_out) in enumerate(((1, 1, 1), (1, 4, 3), (5, 3, 3), (7, 6, 2), (4, 20, 10), (3, 784, 10))):
        for dtype in FLOATS:
            x, w = randn(b, n_in, seed=i, dtype=dtype), randn(n_out, n_in, seed=10 + i, dtype=dtype)
            g = randn(b, n_out, seed=20 + i, dtype=dtype)
            cases.append(Case(f"linear_backward(x {shape_str(x.shape)}, weight {shape_str(w.shape)}, grad_out "
                              f"{shape_str(g.shape)}) in {dtype_str(dtype)}",
                              {"fn": "linear_backward", "args": [x, w, g]}))
    return each_device(cases)


def relu_backward_cases():
    """relu_backward(x, grad_out) = grad_out * (x > 0) for every shape from 0-D to 3-D, with x exactly 0 in
    places (ReLU's gradient there is 0, as PyTorch takes it), both dtypes, every device."""
    cases = []
    for i, shape in enumerate(SHAPES):
        for dtype in FLOATS:
            x = (randn(*shape, seed=i, dtype=dtype) * 2).round() / 2  # multiples of 0.5: some exactly 0
            g = randn(*shape, seed=10 + i, dtype=dtype)
            zeros = int((x == 0).sum())
            cases.append(Case(f"relu_backward(x {shape_str(shape)} with {zeros} zero{'s' if zeros != 1 else ''}, "
                              f"grad_out) in {dtype_str(dtype)}", {"fn": "relu_backward", "args": [x, g]}))
    for label, x in (("x = 0, a 0-D tensor", torch.tensor(0.0)),
                     ("x = [-1, 0, 2]", torch.tensor([-1.0, 0.0, 2.0])),
                     ("x all positive", randn(3, 4, seed=7).abs() + 0.1)):
        cases.append(Case(f"relu_backward({label}, grad_out)", {"fn": "relu_backward",
                                                               "args": [x, randn(*x.shape, seed=8)]}))
    return each_device(cases)


def mlp_backward_cases():
    """mlp_backward(model, x, y) gives the four gradients of the mean cross-entropy of lin2(relu(lin1(x))),
    as autograd would: several sizes, batches of 1 and more, logits large enough to overflow a naive exp in
    float32, both dtypes, every device."""
    cases = []
    for i, (n_in, n_hidden, n_out, b, scale) in enumerate(((784, 50, 10, 8, 1.0), (5, 4, 3, 1, 1.0),
                                                            (6, 8, 4, 16, 1.0), (3, 2, 2, 5, 1.0),
                                                            (10, 6, 5, 6, 400.0))):
        state = {"lin1.weight": randn(n_hidden, n_in, seed=i, scale=n_in ** -0.5),
                 "lin1.bias": randn(n_hidden, seed=10 + i, scale=0.1),
                 "lin2.weight": randn(n_out, n_hidden, seed=20 + i, scale=scale * n_hidden ** -0.5),
                 "lin2.bias": randn(n_out, seed=30 + i, scale=0.1)}
        for dtype in FLOATS:
            x = randn(b, n_in, seed=40 + i, dtype=dtype)
            y = randint(n_out, (b,), seed=50 + i)
            large = " (logits in the hundreds)" if scale > 1 else ""
            cases.append(Case(f"mlp_backward(a {n_in}-{n_hidden}-{n_out} net, x {shape_str(x.shape)} "
                              f"{dtype_str(dtype)}, y){large}",
                              {"sizes": [n_in, n_hidden, n_out], "state": state, "x": x, "y": y,
                               "dtype": dtype_str(dtype)}))
    return each_device(cases)
