"""Reference solutions for 06_mnist_sgd.ipynb: logistic regression and a small network.

The optimizer is made once, outside ``update``: making it inside (as the lesson's
snippet does) would throw away Adam's running averages at every step.
"""
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

__all__ = ["MnistLogistic", "MnistNN", "update", "fit", "accuracy"]


class MnistLogistic(nn.Module):
    """y_hat = x @ W.T + b: logistic regression (the softmax lives in the loss)."""

    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.lin(x)  # (B, n_out)


class MnistNN(nn.Module):
    """y_hat = lin2(relu(lin1(x))): one hidden layer of n_hidden units."""

    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        x = F.relu(self.lin1(x))  # (B, n_hidden)
        return self.lin2(x)  # (B, n_out)


def update(model, opt, loss_func, x, y):
    """One step: loss = loss_func(model(x), y), backward, opt.step(), opt.zero_grad()."""
    y_hat = model(x)  # (B, n_out)
    loss = loss_func(y_hat, y)
    loss.backward()
    opt.step()
    opt.zero_grad()
    return loss.item()


def fit(model, opt, loss_func, train_dl, epochs):
    """Run update over every batch of train_dl, epochs times; returns each batch's loss."""
    device = next(model.parameters()).device
    model.train()
    losses = []
    bar = tqdm(total=epochs * len(train_dl))
    for epoch in range(epochs):
        bar.set_description(f"epoch {epoch + 1}/{epochs}")
        for x, y in train_dl:
            losses.append(update(model, opt, loss_func, x.to(device), y.to(device)))
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
            bar.update()
    bar.close()
    return losses


def accuracy(model, dl):
    """accuracy = mean(argmax(model(x)) == y) over every example of dl."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for x, y in dl:
            y_hat = model(x.to(device))  # (B, n_out)
            correct += (y_hat.argmax(1) == y.to(device)).sum().item()
            total += len(y)
    model.train(was_training)
    return correct / total
