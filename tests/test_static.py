"""Reading the learner's code: forbidden names however reached, and machinery an answer never needs."""
import ast

import pytest

from autograder import course, exercises, static
from autograder.forbidden import forbid

ALIASES = {"torch": "torch", "F": "torch.nn.functional", "nn": "torch.nn"}


def machinery(source):
    return static.machinery(ast.parse(static._transform(source)), dict(ALIASES))


def names(source, *labels):
    return static.forbidden_names(ast.parse(source), dict(ALIASES), forbid(*labels))


@pytest.mark.parametrize("source, what", [
    ("get_ipython().events.register('post_run_cell', print)", "get_ipython"),
    ("ip = get_ipython\nip().input_transformers_post.append(str)", "get_ipython"),
    ("%load_ext autoreload", "get_ipython"),
    ("!cat solutions/embeddings.py", "get_ipython"),
    ("import sys\nsys.modules['torch'] = None", "imports sys"),
    ("import gc\ngc.get_objects()", "imports gc"),
    ("import ctypes", "imports ctypes"),
    ("import subprocess as s\ns.run(['ls'])", "imports subprocess"),
    ("from socket import socket", "imports socket"),
    ("import solutions.embeddings", "imports solutions"),
    ("import autograder", "imports autograder"),
    ("from importlib import import_module", "imports importlib"),
    ("exec('x = 1')", "exec"),
    ("eval('1')", "eval"),
    ("open('/etc/passwd').read()", "open"),
    ("getattr(torch, 'n' + 'n')", "computed name"),
    ("f = (lambda: 0).__code__", "__code__"),
    ("g = one_hot.__globals__", "__globals__"),
    ("torch.sys.modules", ".sys"),
    ("x = torch._C._nn.one_hot", "torch._C"),
    ("x = torch.ops.aten._softmax", "torch.ops"),
    ("from torch.overrides import TorchFunctionMode", "torch.overrides"),
    ("from torch.utils._python_dispatch import TorchDispatchMode", "torch.utils._python_dispatch"),
    ("class T(torch.Tensor):\n    @classmethod\n    def __torch_function__(cls, *a):\n        pass", "__torch_function__"),
    ("import sys\nsys.settrace(None)", "imports sys"),
    ("from operator import attrgetter\nattrgetter('sys.setprofile')(torch)(None)", "'sys.setprofile'"),
    ("import IPython.display as d\nd.get_ipython()", ".get_ipython"),
    ("torch.utils.cpp_extension.load_inline('m', '')", ".cpp_extension"),
])
def test_machinery_is_named(source, what):
    found = machinery(source)
    assert any(what in f for f in found), found


@pytest.mark.parametrize("source", [
    "def one_hot(idx, n):\n    return (idx[..., None] == torch.arange(n, device=idx.device)).float()",
    "import math\nimport numpy as np\nfrom collections import Counter\nfrom functools import reduce",
    "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.w = nn.Parameter(torch.zeros(2))",
    "for p in self.param_groups[0]['params']:\n    state = self.state[p]\n    getattr(p, 'grad')",
    "def replace_head(model, n_out):\n    name = [n for n, m in model.named_children()][-1]\n"
    "    setattr(model, name, nn.Linear(2, n_out))\n    return getattr(model, name)",
    "from tqdm.auto import tqdm\nimport matplotlib.pyplot as plt\nimport pandas as pd",
])
def test_ordinary_answers_are_not_flagged(source):
    assert machinery(source) == []


@pytest.mark.parametrize("source, label", [
    ("def f(i, n):\n    return F.one_hot(i, n)", "F.one_hot"),
    ("def f(i, n):\n    return torch.nn.functional.one_hot(i, n)", "F.one_hot"),
    ("def f(i, n):\n    return getattr(F, 'one_hot')(i, n)", "F.one_hot"),
    ("from torch.nn.functional import one_hot as oh\ndef f(i, n):\n    return oh(i, n)", "F.one_hot"),
    ("def f(x):\n    return x.softmax(-1)", "F.softmax"),
])
def test_forbidden_names_are_found_however_reached(source, label):
    tree = ast.parse(source)
    aliases = dict(ALIASES)
    static._imports(tree, aliases)
    assert label in static.forbidden_names(tree, aliases, forbid("F.one_hot", "F.softmax"))


def test_the_reference_answers_raise_no_flag():
    release = course.REPO / "release" / course.ASSIGNMENT
    answers = course.reference_answers()
    for nb in exercises.notebooks():
        path = release / f"{nb.name}.ipynb"
        if path.exists():
            flags = static.flags(course.fill(path, answers), nb)
            assert not any(flags.values()), f"{nb.name}: {flags}"
