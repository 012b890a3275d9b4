"""07_fine_tuning: answers a learner could write for replace_head (correct alternatives, mistakes)."""
from ...exercise import alternative, mistake, swap

# The reference's replace_head, less its case of a model that is its own head: the mistakes below edit it.
REPLACE_HEAD = '''
def replace_head(model, n_out):
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    parent_name, _, attr = name.rpartition(".")
    old = model.get_submodule(name)
    new = nn.Linear(old.in_features, n_out, device=old.weight.device, dtype=old.weight.dtype)
    model.get_submodule(parent_name).add_module(attr, new)
    return model
'''
NEW = "    new = nn.Linear(old.in_features, n_out, device=old.weight.device, dtype=old.weight.dtype)"

HEAD_VARIANTS = [
    alternative("replace_head", "a recursive search from the end", '''
def replace_head(model, n_out):
    def swap(module):
        for name, child in reversed(list(module.named_children())):
            if isinstance(child, nn.Linear):
                w = child.weight
                module.add_module(name, nn.Linear(child.in_features, n_out).to(w.device, w.dtype))
                return True
            if swap(child):
                return True
        return False
    if isinstance(model, nn.Linear):
        w = model.weight
        return nn.Linear(model.in_features, n_out).to(w.device, w.dtype)
    swap(model)
    return model'''),
    alternative("replace_head", "the parent found by splitting the dotted name", '''
def replace_head(model, n_out):
    name, old = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]
    *path, attr = name.split(".")
    parent = model
    for part in path:
        parent = dict(parent.named_children())[part]
    new = nn.Linear(old.in_features, n_out, dtype=old.weight.dtype, device=old.weight.device)
    parent.add_module(attr, new)
    return model'''),
    mistake("replace_head", "replacing the first nn.Linear instead of the last",
            swap(REPLACE_HEAD, "isinstance(m, nn.Linear)][-1]", "isinstance(m, nn.Linear)][0]")),
    mistake("replace_head", "a new head that keeps the old head's weights", swap(REPLACE_HEAD, NEW, NEW + '''
    k = min(n_out, old.out_features)
    with torch.no_grad():
        new.weight[:k] = old.weight[:k]
        new.bias[:k] = old.bias[:k]''')),
    mistake("replace_head", "a new head with the old head's out_features, not n_out",
            swap(REPLACE_HEAD, "nn.Linear(old.in_features, n_out,", "nn.Linear(old.in_features, old.out_features,")),
    mistake("replace_head", "a float32 head on the CPU whatever the model's dtype and device", swap(swap(
        REPLACE_HEAD, NEW + "\n", ""), "add_module(attr, new)", "add_module(attr, nn.Linear(old.in_features, n_out))")),
    mistake("replace_head", "a deep copy of the model with a new head (the other submodules are copies)", swap(
        REPLACE_HEAD, "(model, n_out):\n", "(model, n_out):\n    import copy\n    model = copy.deepcopy(model)\n")),
    mistake("replace_head", "replacing the model's last child, whatever it is", '''
def replace_head(model, n_out):
    name, last = list(model.named_children())[-1]
    model.add_module(name, nn.Linear(last.in_features, n_out).to(last.weight.device, last.weight.dtype))
    return model'''),
]
