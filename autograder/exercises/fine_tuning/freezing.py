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


def _mistakes_of_both(verb: str, source: str, mode: str) -> list:
    """The mistakes freeze and unfreeze share, written for `verb` ("freeze"), its reference `source` and the
    module mode a learner may confuse it with ("eval")."""
    ing = verb[:-1] + "ing"
    return [
        mistake(verb, f"{ing} the weights but not the biases", swap(
            source, LOOP, '    for name, p in module.named_parameters():\n        if name.endswith("weight"):\n'
                          '            p'), also=(FT,)),
        mistake(verb, f"{ing} only the module's own parameters, not its submodules' (recurse=False)",
                swap(source, "parameters()", "parameters(recurse=False)"), also=(FT,)),
        mistake(verb, f"module.{mode}(), which changes dropout and batch norm, not requires_grad",
                f"def {verb}(module):\n    return module.{mode}()", also=(FT,)),
        mistake(verb, f"{'an' if verb[0] in 'aeiou' else 'a'} {verb} that returns None",
                swap(source, "    return module\n", "")),
    ]


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
] + _mistakes_of_both("freeze", FREEZE, "eval") + [
    # --- unfreeze -----------------------------------------------------------------------------------------
    alternative("unfreeze", "module.requires_grad_()", '''
def unfreeze(module):
    module.requires_grad_()
    return module'''),
    alternative("unfreeze", "setting the attribute in a loop",
                swap(UNFREEZE, ".requires_grad_(True)", ".requires_grad = True")),
] + _mistakes_of_both("unfreeze", UNFREEZE, "train")
