"""06_mnist_sgd: answers a learner could write for the backpropagation by hand (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap

# The backward functions in one line each; each mistake edits one term.
LINEAR = '''
def linear_backward(x, weight, grad_out):
    return grad_out @ weight, grad_out.T @ x, grad_out.sum(0)'''
RELU = '''
def relu_backward(x, grad_out):
    return grad_out * (x > 0)'''
# mlp_backward by the chain rule through the two backward functions; each mistake edits a line or two.
MLP = '''
def mlp_backward(model, x, y):
    w1, b1, w2, b2 = (t.detach() for t in (model.lin1.weight, model.lin1.bias, model.lin2.weight, model.lin2.bias))
    pre = x @ w1.T + b1
    h = pre.clamp_min(0)
    g = (h @ w2.T + b2).softmax(dim=1)
    g[torch.arange(len(y)), y] -= 1
    g = g / len(y)
    g_h, g_w2, g_b2 = linear_backward(h, w2, g)
    _, g_w1, g_b1 = linear_backward(x, w1, relu_backward(pre, g_h))
    return {"lin1.weight": g_w1, "lin1.bias": g_b1, "lin2.weight": g_w2, "lin2.bias": g_b2}'''
SOFTMAX, ONE_HOT, MEAN = ("    g = (h @ w2.T + b2).softmax(dim=1)\n", "    g[torch.arange(len(y)), y] -= 1\n",
                          "    g = g / len(y)\n")

BACKPROP_VARIANTS = [
    # ------------------------------------------------------------------ linear_backward
    alternative("linear_backward", "einsum, and a list", '''
def linear_backward(x, weight, grad_out):
    return [torch.einsum("bo,oi->bi", grad_out, weight), torch.einsum("bo,bi->oi", grad_out, x),
            grad_out.sum(dim=0)]'''),
    alternative("linear_backward", "mm and t()", '''
def linear_backward(x, weight, grad_out):
    grad_x = grad_out.mm(weight)
    grad_weight = grad_out.t().mm(x)
    grad_bias = grad_out.sum(0, keepdim=True).squeeze(0)
    return grad_x, grad_weight, grad_bias'''),
    *edits("linear_backward", LINEAR, {
        "grad_weight transposed (x.T @ grad_out is (n_in, n_out); the weight is (n_out, n_in))": (
            "grad_out.T @ x", "x.T @ grad_out"),
        "grad_bias not summed over the batch (the bias is added to every row)": ("grad_out.sum(0)", "grad_out"),
        "grad_bias averaged over the batch instead of summed (the bias is added to every row)": (
            "grad_out.sum(0)", "grad_out.mean(0)"),
        "grad_x = grad_out @ weight.T instead of grad_out @ weight": ("grad_out @ weight,", "grad_out @ weight.T,"),
    }, also=("mlp_backward_values",)),
    mistake("linear_backward", "autograd (forbidden here: the point is to write the gradients yourself)", '''
def linear_backward(x, weight, grad_out):
    x, weight = x.detach().requires_grad_(), weight.detach().requires_grad_()
    bias = torch.zeros(weight.shape[0], dtype=x.dtype, device=x.device, requires_grad=True)
    y = x @ weight.T + bias
    return torch.autograd.grad(y, (x, weight, bias), grad_out)''', also=("mlp_backward_values",)),

    # ------------------------------------------------------------------ relu_backward
    alternative("relu_backward", "torch.where", '''
def relu_backward(x, grad_out):
    return torch.where(x > 0, grad_out, torch.zeros_like(grad_out))'''),
    alternative("relu_backward", "a copy with the rest zeroed", '''
def relu_backward(x, grad_out):
    grad_x = grad_out.clone()
    grad_x[x <= 0] = 0
    return grad_x'''),
    alternative("relu_backward", "masked_fill", '''
def relu_backward(x, grad_out):
    return grad_out.masked_fill(~(x > 0), 0.0)'''),
    mistake("relu_backward", "a mask of x >= 0 (at x = 0 the gradient is 0, as PyTorch takes it)",
            swap(RELU, "(x > 0)", "(x >= 0)")),
    *edits("relu_backward", RELU, {
        "the mask of grad_out > 0 instead of x > 0": ("(x > 0)", "(grad_out > 0)"),
        "the mask alone, not multiplied by grad_out": ("grad_out * (x > 0)", "(x > 0).to(grad_out.dtype)"),
    }, also=("mlp_backward_values",)),
    mistake("relu_backward", "zeroing grad_out in place (the caller's tensor changes)", '''
def relu_backward(x, grad_out):
    grad_out[x <= 0] = 0
    return grad_out'''),
    mistake("relu_backward", "autograd (forbidden here: the point is to write the gradient yourself)", '''
def relu_backward(x, grad_out):
    x = x.detach().requires_grad_()
    torch.relu(x).backward(grad_out)
    return x.grad''', also=("mlp_backward_values",)),

    # ------------------------------------------------------------------ mlp_backward
    alternative("mlp_backward", "everything inline, with F.one_hot and torch.softmax", '''
def mlp_backward(model, x, y):
    w1, b1, w2, b2 = (t.detach() for t in (model.lin1.weight, model.lin1.bias, model.lin2.weight, model.lin2.bias))
    pre = x @ w1.T + b1
    h = torch.relu(pre)
    z = h @ w2.T + b2
    dz = (torch.softmax(z, dim=-1) - F.one_hot(y, z.shape[1]).to(z.dtype)) / x.shape[0]
    dh = (dz @ w2) * (pre > 0)
    return {"lin2.weight": dz.T @ h, "lin2.bias": dz.sum(0), "lin1.weight": dh.T @ x, "lin1.bias": dh.sum(0)}'''),
    alternative("mlp_backward", "the model's own layers forward, the mask from the hidden activations", '''
def mlp_backward(model, x, y):
    with torch.no_grad():
        h = F.relu(model.lin1(x))
        logits = model.lin2(h)
        probs = F.log_softmax(logits, dim=1).exp()
    g = probs.clone()
    g[range(len(y)), y] -= 1
    g /= len(y)
    g_h, g_w2, g_b2 = linear_backward(h, model.lin2.weight.detach(), g)
    g_pre = g_h * (h > 0)
    _, g_w1, g_b1 = linear_backward(x, model.lin1.weight.detach(), g_pre)
    return dict(zip(["lin1.weight", "lin1.bias", "lin2.weight", "lin2.bias"], [g_w1, g_b1, g_w2, g_b2]))'''),
    mistake("mlp_backward", "forgetting the 1/B of the mean (the loss is the mean over the batch)",
            swap(MLP, MEAN, "")),
    mistake("mlp_backward", "the softmax's gradient without subtracting the one-hot labels",
            swap(MLP, SOFTMAX + ONE_HOT + MEAN, "    g = (h @ w2.T + b2).softmax(dim=1) / len(y)\n")),
    *edits("mlp_backward", MLP, {
        "no ReLU in the backward pass (the hidden layer's gradient is not masked)": (
            "relu_backward(pre, g_h)", "g_h"),
        "the softmax over the batch (dim=0) instead of over the classes": ("softmax(dim=1)", "softmax(dim=0)"),
    }),
    mistake("mlp_backward", "a softmax as exp(z) / sum(exp(z)), which overflows for large logits (subtract the "
            "row's max first, or use torch.softmax)",
            swap(MLP, SOFTMAX, "    e = (h @ w2.T + b2).exp()\n    g = e / e.sum(1, keepdim=True)\n")),
    mistake("mlp_backward", "autograd (forbidden here: the point is to backpropagate by hand)", '''
def mlp_backward(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad()
    return grads'''),
]
