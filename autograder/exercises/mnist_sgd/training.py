"""06_mnist_sgd: answers a learner could write for update, fit and accuracy (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap
from .cases import TRAINING_ID

NEW_OPTIMIZER = "update makes a new optimizer each step, which resets Adam's state"

# The lesson's update; each mistake edits a line or two.
UPDATE = '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()'''
ZERO_GRAD, STEP, LOSS = "    opt.zero_grad()\n", "    opt.step()\n", "    loss = loss_func(model(x), y)\n"
# fit over a tqdm of the epochs, each batch moved to the model's device.
FIT = '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs)):
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
    return losses'''
FIT_UPDATE = "            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))\n"
FIT_LOOP = "        for x, y in train_dl:\n" + FIT_UPDATE
FIT_INLINE = swap(FIT, FIT_UPDATE, '''            loss = loss_func(model(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
''')
# accuracy counting the right answers in eval mode, under no_grad.
ACCURACY = '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
            total += len(y)
    return correct / total'''

TRAINING_VARIANTS = [
    # ------------------------------------------------------------------ update
    alternative("update", "model.zero_grad() and float()",
                swap(swap(UPDATE, "opt.zero_grad()", "model.zero_grad()"), "loss.item()", "float(loss)")),
    alternative("update", "zeroed before and after, to zeros", '''
def update(model, opt, loss_func, x, y):
    opt.zero_grad()
    y_hat = model(x)
    loss = loss_func(y_hat, y)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=False)
    return loss.detach().cpu().item()'''),
    alternative("update", "grads set to None by hand",
                swap(UPDATE, ZERO_GRAD, "    for p in model.parameters():\n        p.grad = None\n")),
    mistake("update", "forgetting opt.zero_grad() (the gradients add up from step to step)",
            swap(UPDATE, ZERO_GRAD, ""), also=("fit_losses", TRAINING_ID)),
    mistake("update", "calling opt.zero_grad() before opt.step() (the step then finds no gradient)",
            swap(UPDATE, STEP + ZERO_GRAD, ZERO_GRAD + STEP), also=("fit_losses", TRAINING_ID)),
    mistake("update", "zeroing the gradients only before backward (update leaves them behind: zero them after "
            "opt.step())", swap(swap(UPDATE, ZERO_GRAD, ""), LOSS, ZERO_GRAD + LOSS)),
    mistake("update", "returning the loss tensor instead of loss.item()",
            swap(UPDATE, "return loss.item()", "return loss"), also=("fit_losses",)),
    mistake("update", NEW_OPTIMIZER + " (the lesson's optim.Adam inside update: use the opt passed in, made once)",
            swap(UPDATE, LOSS, '''    opt = optim.Adam(model.parameters(), 1e-3)
    y_hat = model(x)
    loss = loss_func(y_hat, y)
'''), also=("fit_losses", TRAINING_ID)),
    mistake("update", NEW_OPTIMIZER + " (a copy of opt remade at every call: step the opt passed in)",
            swap(UPDATE, LOSS, "    opt = type(opt)(model.parameters(), **opt.defaults)\n" + LOSS),
            also=("fit_losses", TRAINING_ID)),
    mistake("update", "stepping the parameters by hand instead of calling opt.step()",
            swap(UPDATE, STEP + ZERO_GRAD, '''\
    with torch.no_grad():
        for p in model.parameters():
            p -= opt.param_groups[0]["lr"] * p.grad
            p.grad = None
'''), also=("fit_losses", TRAINING_ID)),
    mistake("update", "forgetting opt.step()", swap(UPDATE, STEP, ""), also=("fit_losses", TRAINING_ID)),
    mistake("update", "F.cross_entropy instead of the loss_func passed in",
            swap(UPDATE, "loss_func(model(x), y)", "F.cross_entropy(model(x), y)")),
    mistake("update", "two opt.step() calls per update", swap(UPDATE, STEP, STEP + STEP), also=("fit_losses",)),
    mistake("update", "zeroing each p.grad by hand (p.grad.zero_() fails for a parameter that got no gradient: "
            "call opt.zero_grad())",
            swap(UPDATE, ZERO_GRAD, "    for p in model.parameters():\n        p.grad.zero_()\n")),

    # ------------------------------------------------------------------ fit
    alternative("fit", "a bar per epoch, a list extended", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs), desc="epochs"):
        model.train()
        epoch_losses = []
        for x, y in tqdm(train_dl, leave=False):
            x, y = x.to(device), y.to(device)
            epoch_losses.append(update(model, opt, loss_func, x, y))
        losses.extend(epoch_losses)
    return losses'''),
    alternative("fit", "one bar over every step, no model.train()", '''
def fit(model, opt, loss_func, train_dl, epochs):
    dev = next(iter(model.parameters())).device
    bar = tqdm(total=len(train_dl) * epochs)
    losses = []
    for _ in range(epochs):
        for xb, yb in train_dl:
            losses += [update(model, opt, loss_func, xb.to(dev), yb.to(dev))]
            bar.update(1)
    bar.close()
    return losses'''),
    alternative("fit", "the step written inline, no bar", swap(FIT_INLINE, "tqdm(range(epochs))", "range(epochs)")),
    mistake("fit", "one mean loss per epoch instead of one loss per batch", swap(FIT, FIT_LOOP, '''\
        batch_losses = [update(model, opt, loss_func, x.to(device), y.to(device)) for x, y in train_dl]
        losses.append(sum(batch_losses) / len(batch_losses))
'''), loses=("fit_losses",)),
    *edits("fit", FIT, {
        "the list of losses made again every epoch (only the last epoch's come back)": (
            "    losses = []\n", "",
            "range(epochs)):\n", "range(epochs)):\n        losses = []\n"),
        "one epoch too few (range(1, epochs))": ("range(epochs)", "range(1, epochs)"),
    }, loses=("fit_losses",)),
    mistake("fit", "fit making its own optimizer instead of stepping the opt passed in",
            swap(FIT, "    losses = []\n", "    opt = optim.SGD(model.parameters(), lr=0.1)\n    losses = []\n")),
    mistake("fit", "keeping the loss tensors instead of floats (call .item() on the loss)",
            swap(FIT_INLINE, "losses.append(loss.item())", "losses.append(loss)"), loses=("fit_losses",)),
    mistake("fit", "batches left on the CPU (move each batch to the model's device)", '''
def fit(model, opt, loss_func, train_dl, epochs):
    return [update(model, opt, loss_func, x, y) for _ in tqdm(range(epochs)) for x, y in train_dl]''',
            cuda_only=True),

    # ------------------------------------------------------------------ accuracy
    alternative("accuracy", "concatenated predictions, left in eval mode", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    preds, labels = [], []
    with torch.no_grad():
        for x, y in dl:
            preds.append(model(x.to(device)).argmax(dim=-1))
            labels.append(y.to(device))
    return (torch.cat(preds) == torch.cat(labels)).float().mean().item()'''),
    alternative("accuracy", "batch accuracies weighted by size, softmax first, no no_grad", '''
def accuracy(model, dl):
    model.eval()
    device = next(model.parameters()).device
    total, n = 0.0, 0
    for x, y in dl:
        probs = F.softmax(model(x.to(device)), dim=1)
        acc = (probs.argmax(1) == y.to(device)).float().mean()
        total += acc.item() * len(y)
        n += len(y)
    model.train()
    return total / n'''),
    mistake("accuracy", "the mean of per-batch accuracies (batches of different sizes weigh the same)", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    accs = []
    with torch.no_grad():
        for x, y in dl:
            accs.append((model(x.to(device)).argmax(1) == y.to(device)).float().mean().item())
    return sum(accs) / len(accs)'''),
    *edits("accuracy", ACCURACY, {
        "taking the argmax over the batch (dim=0) instead of the classes (dim=1)": ("argmax(1)", "argmax(0)"),
        "evaluating in training mode (call model.eval() first: dropout and batch norm behave differently while "
        "training)": (
            "    model.eval()\n", ""),
        "a tensor instead of a Python float": (".sum().item()", ".sum()"),
        "dividing by the number of batches instead of the number of examples": (
            "correct = total = 0", "correct = 0",
            "            total += len(y)\n", "",
            "correct / total", "correct / len(dl)"),
    }),
    mistake("accuracy", "batches left on the CPU (move each batch to the model's device)", '''
def accuracy(model, dl):
    model.eval()
    with torch.no_grad():
        right = sum((model(x).argmax(1) == y).sum().item() for x, y in dl)
    return right / sum(len(y) for _, y in dl)''', cuda_only=True),
]
