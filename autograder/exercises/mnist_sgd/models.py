"""06_mnist_sgd: answers a learner could write for MnistLogistic and MnistNN (correct alternatives, mistakes)."""
from ...exercise import alternative, edits, mistake, swap
from .cases import TRAINING_ID

SOFTMAX_IN_MODEL = "a softmax inside the model (nn.CrossEntropyLoss applies log-softmax itself: return the raw scores)"

LOGISTIC_HEAD = '''
class MnistLogistic(nn.Module):
    def __init__(self, n_in=784, n_out=10):'''
# The lesson's logistic regression; each mistake edits a line.
LOGISTIC = LOGISTIC_HEAD + '''
        super().__init__()
        self.lin = nn.Linear(n_in, n_out)

    def forward(self, x):
        return self.lin(x)'''
NN_HEAD = '''
class MnistNN(nn.Module):
    def __init__(self, n_in=784, n_hidden=50, n_out=10):
        super().__init__()'''
# The lesson's network, its forward on one line; each mistake edits a line or two.
NN = NN_HEAD + '''
        self.lin1 = nn.Linear(n_in, n_hidden)
        self.lin2 = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))'''
NN_FORWARD = "return self.lin2(F.relu(self.lin1(x)))"

MODEL_VARIANTS = [
    # ------------------------------------------------------------------ MnistLogistic
    alternative("MnistLogistic", "explicit matmul through the layer's weight",
                swap(LOGISTIC, "return self.lin(x)", "return x @ self.lin.weight.t() + self.lin.bias")),
    alternative("MnistLogistic", "keyword arguments, flattening the input", LOGISTIC_HEAD + '''
        super(MnistLogistic, self).__init__()
        self.lin = nn.Linear(in_features=n_in, out_features=n_out, bias=True)

    def forward(self, xb):
        return self.lin(xb.view(xb.shape[0], -1))'''),
    mistake("MnistLogistic", SOFTMAX_IN_MODEL,
            swap(LOGISTIC, "return self.lin(x)", "return F.softmax(self.lin(x), dim=1)"),
            loses=("mnist_logistic_architecture", TRAINING_ID)),
    *edits("MnistLogistic", LOGISTIC, {
        "a log-softmax inside the model (nn.CrossEntropyLoss applies it itself: return the raw scores)": (
            "return self.lin(x)", "return self.lin(x).log_softmax(-1)"),
        "a layer without a bias (keep nn.Linear's default bias=True)": (
            "nn.Linear(n_in, n_out)", "nn.Linear(n_in, n_out, bias=False)"),
        "784 inputs hard-coded instead of n_in": ("nn.Linear(n_in, n_out)", "nn.Linear(784, n_out)"),
    }, loses=("mnist_logistic_architecture",)),
    mistake("MnistLogistic", "the layer stored as self.linear, not self.lin (the state_dict's keys follow the "
            "attribute's name)", swap(LOGISTIC, "self.lin", "self.linear", count=2),
            loses=("mnist_logistic_architecture",)),

    # ------------------------------------------------------------------ MnistNN
    alternative("MnistNN", "nn.ReLU module, layers made in another order", NN_HEAD + '''
        self.lin2 = nn.Linear(n_hidden, n_out)
        self.relu = nn.ReLU()
        self.lin1 = nn.Linear(n_in, n_hidden)

    def forward(self, x):
        return self.lin2(self.relu(self.lin1(x)))'''),
    alternative("MnistNN", "clamp(min=0)", NN_HEAD + '''
        self.lin1, self.lin2 = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.lin2(self.lin1(x).clamp(min=0))'''),
    alternative("MnistNN", "the lesson's forward with an in-place ReLU", NN_HEAD + '''
        self.lin1 = nn.Linear(n_in, n_hidden, bias=True)
        self.lin2 = nn.Linear(n_hidden, n_out, bias=True)

    def forward(self, xb):
        x = self.lin1(xb)
        x = F.relu(x, inplace=True)
        return self.lin2(x)'''),
    mistake("MnistNN", "no ReLU between lin1 and lin2 (two linear layers make one linear function)",
            swap(NN, NN_FORWARD, "return self.lin2(self.lin1(x))")),
    mistake("MnistNN", "a sigmoid instead of a ReLU between the layers", swap(NN, "F.relu(", "torch.sigmoid(")),
    mistake("MnistNN", "a ReLU after lin2 as well (the scores must be able to go negative)",
            swap(NN, NN_FORWARD, "return F.relu(self.lin2(F.relu(self.lin1(x))))"), also=(TRAINING_ID,)),
    mistake("MnistNN", SOFTMAX_IN_MODEL, swap(NN, NN_FORWARD, "return torch.softmax(self.lin2(F.relu(self.lin1(x))), "
                                                             "dim=-1)"), also=(TRAINING_ID,)),
    mistake("MnistNN", "50 hidden units hard-coded instead of n_hidden", swap(swap(
        NN, "nn.Linear(n_in, n_hidden)", "nn.Linear(n_in, 50)"), "nn.Linear(n_hidden, n_out)", "nn.Linear(50, n_out)")),
    mistake("MnistNN", "a forward under torch.no_grad() (no gradient reaches the weights)",
            swap(NN, "    def forward", "    @torch.no_grad()\n    def forward"), also=(TRAINING_ID,)),
]
