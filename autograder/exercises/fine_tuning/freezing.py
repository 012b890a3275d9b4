"""07_fine_tuning: answers a learner could write for freeze and unfreeze (correct alternatives, mistakes)."""
from ...exercise import alternative, mistake
from .cases import FT

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
    mistake("freeze", "freezing only the last nn.Linear of the module", '''
def freeze(module):
    layers = [m for m in module.modules() if isinstance(m, nn.Linear)]
    for p in layers[-1].parameters():
        p.requires_grad_(False)
    return module''', also=(FT,)),
    mistake("freeze", "freezing the weights but not the biases", '''
def freeze(module):
    for name, p in module.named_parameters():
        if "weight" in name:
            p.requires_grad_(False)
    return module''', also=(FT,)),
    mistake("freeze", "freezing only the module's own parameters, not its submodules' (recurse=False)", '''
def freeze(module):
    for p in module.parameters(recurse=False):
        p.requires_grad_(False)
    return module''', also=(FT,)),
    mistake("freeze", "module.eval(), which changes dropout and batch norm, not requires_grad", '''
def freeze(module):
    return module.eval()''', also=(FT,)),
    mistake("freeze", "a freeze that returns None", '''
def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)'''),
    # --- unfreeze -----------------------------------------------------------------------------------------
    alternative("unfreeze", "module.requires_grad_()", '''
def unfreeze(module):
    module.requires_grad_()
    return module'''),
    alternative("unfreeze", "setting the attribute in a loop", '''
def unfreeze(module):
    for p in module.parameters():
        p.requires_grad = True
    return module'''),
    mistake("unfreeze", "unfreezing the weights but not the biases", '''
def unfreeze(module):
    for name, p in module.named_parameters():
        if name.endswith("weight"):
            p.requires_grad_(True)
    return module''', also=(FT,)),
    mistake("unfreeze", "unfreezing only the module's own parameters, not its submodules' (recurse=False)", '''
def unfreeze(module):
    for p in module.parameters(recurse=False):
        p.requires_grad_(True)
    return module''', also=(FT,)),
    mistake("unfreeze", "module.train(), which changes dropout and batch norm, not requires_grad", '''
def unfreeze(module):
    return module.train()''', also=(FT,)),
    mistake("unfreeze", "an unfreeze that returns None", '''
def unfreeze(module):
    for p in module.parameters():
        p.requires_grad_(True)'''),
]
