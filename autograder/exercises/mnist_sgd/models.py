"""06_mnist_sgd: answers a learner could write for MnistLogistic and MnistNN (correct alternatives, mistakes)."""
from ...exercise import alternative, mistake
from .cases import TRAINING_ID

SOFTMAX_IN_MODEL = "a softmax inside the model (nn.CrossEntropyLoss applies log-softmax itself: return the raw scores)"

MODEL_VARIANTS = [
    # ------------------------------------------------------------------ MnistLogistic
    alternative("MnistLogistic", "explicit matmul through the layer's weight", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return x @ self.lin.weight.t() + self.lin.bias'''),
    alternative("MnistLogistic", "keyword arguments, flattening the input", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super(MnistLogistic, self).__init__()
        self.lin = nn.Linear(in_features=n_in, out_features=n_out, bias=True)

    def forward(self, xb):
        return self.lin(xb.view(xb.shape[0], -1))'''),
    mistake("MnistLogistic", SOFTMAX_IN_MODEL, '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return F.softmax(self.lin(x), dim=1)''', loses=("mnist_logistic_architecture", TRAINING_ID)),
    mistake("MnistLogistic", "a log-softmax inside the model (nn.CrossEntropyLoss applies it itself: return the raw "
            "scores)", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.lin(x).log_softmax(-1)''', loses=("mnist_logistic_architecture",)),
    mistake("MnistLogistic", "a layer without a bias (keep nn.Linear's default bias=True)", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(n_in, n_out, bias=False)

    def forward(self, x):
        return self.lin(x)''', loses=("mnist_logistic_architecture",)),
    mistake("MnistLogistic", "784 inputs hard-coded instead of n_in", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.lin = nn.Linear(784, n_out)

    def forward(self, x):
        return self.lin(x)''', loses=("mnist_logistic_architecture",)),
    mistake("MnistLogistic", "the layer stored as self.linear, not self.lin (the state_dict's keys follow the "
            "attribute's name)", '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.linear(x)''', loses=("mnist_logistic_architecture",)),

    # ------------------------------------------------------------------ MnistNN
    alternative("MnistNN", "nn.ReLU module, layers made in another order", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin2 = nn.Linear(n_hidden, n_out)
        self.relu = nn.ReLU()
        self.lin1 = nn.Linear(n_in, n_hidden)

    def forward(self, x):
        return self.lin2(self.relu(self.lin1(x)))'''),
    alternative("MnistNN", "clamp(min=0)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x).clamp(min=0))'''),
    alternative("MnistNN", "the lesson's forward with an in-place ReLU", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden, bias=True)
        self.lin2 = nn.Linear(n_hidden, n_out, bias=True)

    def forward(self, xb):
        x = self.lin1(xb)
        x = F.relu(x, inplace=True)
        return self.lin2(x)'''),
    mistake("MnistNN", "no ReLU between lin1 and lin2 (two linear layers make one linear function)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x))'''),
    mistake("MnistNN", "a sigmoid instead of a ReLU between the layers", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(torch.sigmoid(self.lin1(x)))'''),
    mistake("MnistNN", "a ReLU after lin2 as well (the scores must be able to go negative)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return F.relu(self.lin2(F.relu(self.lin1(x))))''', also=(TRAINING_ID,)),
    mistake("MnistNN", SOFTMAX_IN_MODEL, '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return torch.softmax(self.lin2(F.relu(self.lin1(x))), dim=-1)''', also=(TRAINING_ID,)),
    mistake("MnistNN", "50 hidden units hard-coded instead of n_hidden", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, 50)
        self.lin2 = nn.Linear(50, n_out)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))'''),
    mistake("MnistNN", "a forward under torch.no_grad() (no gradient reaches the weights)", '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    @torch.no_grad()
    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))''', also=(TRAINING_ID,)),
]
