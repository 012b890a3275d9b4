"""07_fine_tuning: answers a learner could write for freeze and unfreeze (correct alternatives, mistakes)."""
from ...exercise import alternative, mistake, swap
from .cases import FT

# The reference's freeze and unfreeze: most mistakes below edit their loop.
FREEZE = '''
def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)
    return module
'''
UNFREEZE = swap(swap(FREEZE, "def freeze", "def unfreeze"), "(False)", "(True)")
LOOP = "    for p in module.parameters():\n        p"

FREEZING_VARIANTS = [
    # --- freeze -------------------------------------------------------------------------------------------
    alternative("freeze", "module.requires_grad_(False)", '''
def freeze(module):
    return module.requires_grad_(False)'''),
    alternative("freeze", "setting the attribute over named_parameters", '''
def freeze(module):
    for name, p in module.named_parameters():
        p.requires_grad = False
    return module'''),
    mistake("freeze", "freezing only the last nn.Linear of the module", swap(
        FREEZE, LOOP, "    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]\n"
                      "    for p in layers[-1].parameters():\n        p"), also=(FT,)),
    mistake("freeze", "freezing the weights but not the biases", swap(
        FREEZE, LOOP, '    for name, p in module.named_parameters():\n        if "weight" in name:\n            p'),
        also=(FT,)),
    mistake("freeze", "freezing only the module's own parameters, not its submodules' (recurse=False)",
            swap(FREEZE, "parameters()", "parameters(recurse=False)"), also=(FT,)),
    mistake("freeze", "module.eval(), which changes dropout and batch norm, not requires_grad", '''
def freeze(module):
    return module.eval()''', also=(FT,)),
    mistake("freeze", "a freeze that returns None", swap(FREEZE, "    return module\n", "")),
    # --- unfreeze -----------------------------------------------------------------------------------------
    alternative("unfreeze", "module.requires_grad_()", '''
def unfreeze(module):
    module.requires_grad_()
    return module'''),
    alternative("unfreeze", "setting the attribute in a loop",
                swap(UNFREEZE, ".requires_grad_(True)", ".requires_grad = True")),
    mistake("unfreeze", "unfreezing the weights but not the biases", swap(
        UNFREEZE, LOOP, '    for name, p in module.named_parameters():\n'
                        '        if name.endswith("weight"):\n            p'), also=(FT,)),
    mistake("unfreeze", "unfreezing only the module's own parameters, not its submodules' (recurse=False)",
            swap(UNFREEZE, "parameters()", "parameters(recurse=False)"), also=(FT,)),
    mistake("unfreeze", "module.train(), which changes dropout and batch norm, not requires_grad", '''
def unfreeze(module):
    return module.train()''', also=(FT,)),
    mistake("unfreeze", "an unfreeze that returns None", swap(UNFREEZE, "    return module\n", "")),
]
