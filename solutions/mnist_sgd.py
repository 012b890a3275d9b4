"""Reference solutions for 06_mnist_sgd.ipynb: logistic regression and a small network, and its backpropagation.

The optimizer is made once, outside ``update``: making it inside (as the lesson's
snippet does) would throw away Adam's step count and running averages at every step,
so that every step would be Adam's first (a step of ``lr`` against the gradient's sign).

Backpropagation by hand: for ``y = x @ W.T + b`` and an upstream gradient ``g = dL/dy``,
``dL/dx = g @ W``, ``dL/dW = g.T @ x`` and ``dL/db = g.sum(0)`` (the bias is added to
every row of the batch, so its gradient adds up over the batch); for ``relu`` the
gradient passes where the input was positive (at exactly 0 PyTorch takes it as 0); and
the gradient of the mean cross-entropy with respect to the logits is
``(softmax(logits) - one_hot(y)) / B``. ``mlp_backward`` chains the three, without
autograd, and equals what ``loss.backward()`` leaves in ``.grad``.
"""
import torch
import torch.nn.functional as F
from torch import nn, optim  # noqa: F401  (the notebook's setup cell imports optim: answers may use it)
from tqdm.auto import tqdm

__all__ = ["MnistLogistic", "MnistNN", "update", "fit", "accuracy", "linear_backward", "relu_backward",
           "mlp_backward", "q_raw_scores", "q_adam_inside", "q_n_params"]


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


def linear_backward(x, weight, grad_out):
    """For y = x @ W.T + b: grad_x = grad_out @ W, grad_W = grad_out.T @ x, grad_b = grad_out summed over the batch."""
    grad_x = grad_out @ weight  # (B, n_out) @ (n_out, n_in) -> (B, n_in)
    grad_weight = grad_out.T @ x  # (n_out, B) @ (B, n_in) -> (n_out, n_in), weight's shape
    grad_bias = grad_out.sum(0)  # (n_out,): the bias is added to every row
    return grad_x, grad_weight, grad_bias


def relu_backward(x, grad_out):
    """For y = relu(x): grad_x = grad_out * (x > 0)."""
    return grad_out * (x > 0)  # x's shape; no gradient where x <= 0


def mlp_backward(model, x, y):
    """The gradients of F.cross_entropy(model(x), y) for an MnistNN, by the chain rule, without autograd."""
    w1, b1 = model.lin1.weight.detach(), model.lin1.bias.detach()  # (n_hidden, n_in), (n_hidden,)
    w2, b2 = model.lin2.weight.detach(), model.lin2.bias.detach()  # (n_out, n_hidden), (n_out,)
    pre = x @ w1.T + b1  # (B, n_hidden)
    hidden = pre.clamp_min(0)  # (B, n_hidden)
    logits = hidden @ w2.T + b2  # (B, n_out)
    grad_logits = logits.softmax(dim=1)  # (B, n_out)
    grad_logits[torch.arange(len(y), device=y.device), y] -= 1  # softmax - one_hot(y)
    grad_logits = grad_logits / len(y)  # the mean over the batch
    grad_hidden, grad_w2, grad_b2 = linear_backward(hidden, w2, grad_logits)
    grad_pre = relu_backward(pre, grad_hidden)  # (B, n_hidden)
    _, grad_w1, grad_b1 = linear_backward(x, w1, grad_pre)
    return {"lin1.weight": grad_w1, "lin1.bias": grad_b1, "lin2.weight": grad_w2, "lin2.bias": grad_b2}


# The questionnaire's autograded answers.
q_raw_scores = "b"
q_adam_inside = "c"
q_n_params = 39760
