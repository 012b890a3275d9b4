"""06_mnist_sgd: logistic regression and a small network from scratch, trained with update/fit, and their
backpropagation by hand. One declaration per graded cell, and the answers a learner could write.

The models are compared with the reference by loading the reference's state_dict into them (same
attribute names, same shapes) and comparing outputs and gradients. `update`, `fit` and `accuracy` run
on stand-in models of the scenarios (any nn.Module must do) with a torch.optim optimizer made once,
outside, against the reference run from the same start on the same batches; the loaders are not all
plain full batches (a smaller last batch, seeded shuffling, a list of batches). The training check
trains the learner's models with the learner's `fit` on 2,000 real digits (3 epochs) and asks for a
looser bar than the notebook's full run shows. The backward functions are compared with the reference on
generated inputs (ReLU's input exactly 0 included), with autograd forbidden.
"""
from ...exercise import Check, variants_of
from ...forbidden import forbid
from .backprop import BACKPROP_VARIANTS
from .cases import (accuracy_cases, fit_cases, linear_backward_cases, logistic_cases, mlp_backward_cases, nn_cases,
                    relu_backward_cases, training_cases, update_cases)
from .models import MODEL_VARIANTS
from .questions import QUESTIONS
from .training import TRAINING_VARIANTS

NOTEBOOK, REFERENCE = "06_mnist_sgd", "solutions.mnist_sgd"
AUTOGRAD = forbid("autograd")

CHECKS = [
    Check("mnist_logistic_architecture", 1, "MnistLogistic", "mnist_sgd.model", logistic_cases, title="MnistLogistic"),
    Check("mnist_nn_architecture", 1, "MnistNN", "mnist_sgd.model", nn_cases, title="MnistNN"),
    Check("update_step", 2, "update", "mnist_sgd.update", update_cases),
    Check("fit_losses", 2, ("fit", "update"), "mnist_sgd.fit", fit_cases, title="fit"),
    Check("accuracy_values", 1, "accuracy", "mnist_sgd.accuracy", accuracy_cases, title="accuracy"),
    Check("training_reaches_accuracy", 1, ("fit", "MnistLogistic", "MnistNN", "update"), "mnist_sgd.training",
          training_cases, title="training"),
    Check("linear_backward_values", 2, "linear_backward", "basic.call", linear_backward_cases, AUTOGRAD),
    Check("relu_backward_values", 1, "relu_backward", "basic.call", relu_backward_cases, AUTOGRAD),
    Check("mlp_backward_values", 2, ("mlp_backward", "linear_backward", "relu_backward"), "mnist_sgd.mlp_backward",
          mlp_backward_cases, AUTOGRAD),
    *QUESTIONS,
]

VARIANTS = MODEL_VARIANTS + TRAINING_VARIANTS + BACKPROP_VARIANTS + variants_of(QUESTIONS)
