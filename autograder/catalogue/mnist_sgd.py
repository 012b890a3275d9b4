"""Answers to 06_mnist_sgd: correct ones written differently, and plausible mistakes.

The reference `fit` calls the learner's `update`, and `training_reaches_accuracy` trains the learner's
models with the learner's `fit`, so a wrong `update` or model can also cost those cells.
"""
from . import Variant

VARIANTS = [
    # MnistLogistic
    Variant("MnistLogistic", "explicit matmul through the layer's weight", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return x @ self.lin.weight.t() + self.lin.bias
'''),
    Variant("MnistLogistic", "keyword arguments, flattening the input", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super(MnistLogistic, self).__init__()
        self.lin = nn.Linear(in_features=n_in, out_features=n_out, bias=True)

    def forward(self, xb):
        return self.lin(xb.view(xb.shape[0], -1))
'''),
    Variant("MnistLogistic", "softmax in forward", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return F.softmax(self.lin(x), dim=1)
''', loses=("mnist_logistic_architecture", "training_reaches_accuracy")),
    Variant("MnistLogistic", "no bias", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out, bias=False)

    def forward(self, x):
        return self.lin(x)
''', loses=("mnist_logistic_architecture",)),
    Variant("MnistLogistic", "784 inputs hard-coded", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(784, n_out)

    def forward(self, x):
        return self.lin(x)
''', loses=("mnist_logistic_architecture", "training_reaches_accuracy")),
    Variant("MnistLogistic", "the layer named `linear`", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.linear(x)
''', loses=("mnist_logistic_architecture",)),

    # MnistNN
    Variant("MnistNN", "nn.ReLU module, layers made in another order", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin2 = nn.Linear(n_hidden, n_out)
        self.relu = nn.ReLU()
        self.lin1 = nn.Linear(n_in, n_hidden)

    def forward(self, x):
        return self.lin2(self.relu(self.lin1(x)))
'''),
    Variant("MnistNN", "clamp(min=0)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x).clamp(min=0))
'''),
    Variant("MnistNN", "no ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x))
''', loses=("mnist_nn_architecture",)),
    Variant("MnistNN", "sigmoid instead of ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(torch.sigmoid(self.lin1(x)))
''', loses=("mnist_nn_architecture",)),
    Variant("MnistNN", "ReLU after the last layer too", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return F.relu(self.lin2(F.relu(self.lin1(x))))
''', loses=("mnist_nn_architecture", "training_reaches_accuracy")),
    Variant("MnistNN", "50 hidden units hard-coded", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, 50)
        self.lin2 = nn.Linear(50, n_out)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))
''', loses=("mnist_nn_architecture",)),

    # update
    Variant("update", "model.zero_grad() and float()", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    model.zero_grad()
    return float(loss)
'''),
    Variant("update", "grads set to None by hand", '''
def update(model, opt, loss_func, x, y):
    opt.zero_grad()
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    for p in model.parameters():
        p.grad = None
    return loss.detach().cpu().item()
'''),
    Variant("update", "no zero_grad", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy")),
    Variant("update", "zero_grad between backward and step", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.zero_grad()
    opt.step()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy")),
    Variant("update", "returns the loss tensor", '''
def update(model, opt, loss_func, x, y):
    loss = loss_func(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss
''', loses=("update_step", "fit_losses")),
    Variant("update", "the lesson's new Adam at every call", '''
def update(model, opt, loss_func, x, y):
    opt = optim.Adam(model.parameters(), 1e-3)
    y_hat = model(x)
    loss = loss_func(y_hat, y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step", "fit_losses", "training_reaches_accuracy")),
    Variant("update", "F.cross_entropy instead of loss_func", '''
def update(model, opt, loss_func, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()
''', loses=("update_step",)),

    # fit
    Variant("fit", "a bar per epoch, a list extended", '''
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
    return losses
'''),
    Variant("fit", "the step written inline, no bar", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in range(epochs):
        for x, y in train_dl:
            loss = loss_func(model(x.to(device)), y.to(device))
            loss.backward()
            opt.step()
            opt.zero_grad()
            losses.append(loss.item())
    return losses
'''),
    Variant("fit", "one mean loss per epoch", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    losses = []
    for epoch in tqdm(range(epochs)):
        batch_losses = [update(model, opt, loss_func, x.to(device), y.to(device)) for x, y in train_dl]
        losses.append(sum(batch_losses) / len(batch_losses))
    return losses
''', loses=("fit_losses",)),
    Variant("fit", "the list made again every epoch", '''
def fit(model, opt, loss_func, train_dl, epochs):
    device = next(model.parameters()).device
    for epoch in tqdm(range(epochs)):
        losses = []
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
    return losses
''', loses=("fit_losses",)),

    # accuracy
    Variant("accuracy", "concatenated predictions, left in eval mode", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    preds, labels = [], []
    with torch.no_grad():
        for x, y in dl:
            preds.append(model(x.to(device)).argmax(dim=-1))
            labels.append(y.to(device))
    return (torch.cat(preds) == torch.cat(labels)).float().mean().item()
'''),
    Variant("accuracy", "batch accuracies weighted by size, softmax first, no no_grad", '''
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
    return total / n
'''),
    Variant("accuracy", "the mean of the batches' accuracies", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    accs = []
    with torch.no_grad():
        for x, y in dl:
            accs.append((model(x.to(device)).argmax(1) == y.to(device)).float().mean().item())
    return sum(accs) / len(accs)
''', loses=("accuracy_values",)),
    Variant("accuracy", "argmax over the batch", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(0) == y.to(device)).sum().item()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",)),
    Variant("accuracy", "no model.eval()", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum().item()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",)),
    Variant("accuracy", "a tensor returned", '''
def accuracy(model, dl):
    device = next(model.parameters()).device
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in dl:
            correct += (model(x.to(device)).argmax(1) == y.to(device)).sum()
            total += len(y)
    return correct / total
''', loses=("accuracy_values",)),
]
