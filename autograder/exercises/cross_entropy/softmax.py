"""05_cross_entropy: answers a learner could write for softmax, logsumexp and log_softmax."""
from ...exercise import alternative, mistake

SOFTMAX_VARIANTS = [
    # ------------------------------------------------------------------ softmax
    alternative("softmax", "max().values, detached", '''
def softmax(logits, dim=-1):
    e = torch.exp(logits - logits.max(dim, keepdim=True).values.detach())
    return e / e.sum(dim, keepdim=True)'''),
    alternative("softmax", "exp of x minus its logsumexp", '''
def softmax(logits, dim=-1):
    m = logits.max(dim).values
    lse = m + torch.log(torch.sum(torch.exp(logits - m.unsqueeze(dim)), dim=dim))
    return torch.exp(logits - lse.unsqueeze(dim))'''),
    mistake("softmax", "no max subtraction (exp overflows to inf, and inf / inf is nan; subtract the max along dim "
            "first)", '''
def softmax(logits, dim=-1):
    e = logits.exp()
    return e / e.sum(dim, keepdim=True)''', also=("cross_entropy_grad_values",)),
    mistake("softmax", "softmax along the last dimension whatever `dim` says", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)'''),
    mistake("softmax", "a default dim of 1 instead of the last (-1)", '''
def softmax(logits, dim=1):
    e = (logits - logits.amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)'''),
    mistake("softmax", "normalising by the sum over the whole tensor instead of along dim", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max()).exp()
    return e / e.sum()''', also=("cross_entropy_grad_values",)),
    mistake("softmax", "the max without keepdim (it broadcasts along the wrong axis)", '''
def softmax(logits, dim=-1):
    e = (logits - logits.max(dim).values).exp()
    return e / e.sum(dim, keepdim=True)''', also=("cross_entropy_grad_values",)),
    mistake("softmax", "a detached result (no gradient flows back)", '''
def softmax(logits, dim=-1):
    x = logits.detach()
    e = (x - x.amax(dim, keepdim=True)).exp()
    return e / e.sum(dim, keepdim=True)'''),
    mistake("softmax", "a float32 result whatever the logits' dtype", '''
def softmax(logits, dim=-1):
    e = (logits - logits.amax(dim, keepdim=True)).exp()
    return (e / e.sum(dim, keepdim=True)).float()''', also=("cross_entropy_grad_values",)),
    mistake("softmax", "changing the logits in place (x -= m overwrites the caller's tensor)", '''
def softmax(logits, dim=-1):
    logits -= logits.amax(dim=dim, keepdim=True).detach()
    logits.exp_()
    return logits / logits.sum(dim=dim, keepdim=True)''', also=("cross_entropy_grad_values",)),
    mistake("softmax", "F.softmax (forbidden)",
            "def softmax(logits, dim=-1):\n    return F.softmax(logits, dim=dim)", also=("cross_entropy_grad_values",)),
    mistake("softmax", "F.softmin of minus the logits (forbidden: it runs the same softmax)",
            "def softmax(logits, dim=-1):\n    return F.softmin(-logits, dim=dim)", also=("cross_entropy_grad_values",)),
    mistake("softmax", "the tensor method logits.softmax (forbidden: it is torch.softmax)",
            "def softmax(logits, dim=-1):\n    return logits.softmax(dim)", also=("cross_entropy_grad_values",)),

    # ------------------------------------------------------------------ logsumexp
    alternative("logsumexp", "max().values, unsqueeze", '''
def logsumexp(x, dim=-1):
    m = x.max(dim).values
    return m + torch.log(torch.sum(torch.exp(x - m.unsqueeze(dim)), dim=dim))'''),
    alternative("logsumexp", "keepdim then squeeze, detached max", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim=dim, keepdim=True).detach()
    return (m + (x - m).exp().sum(dim=dim, keepdim=True).log()).squeeze(dim)'''),
    mistake("logsumexp", "no max subtraction (exp overflows to inf or underflows to 0, whose log is −inf)",
            "def logsumexp(x, dim=-1):\n    return x.exp().sum(dim).log()"),
    mistake("logsumexp", "the max subtracted inside but not added back (logsumexp(x) = m + log Σ exp(x − m))", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim, keepdim=True)
    return (x - m).exp().sum(dim).log()'''),
    mistake("logsumexp", "keepdim left on (the result keeps dim as a dimension of size 1)", '''
def logsumexp(x, dim=-1):
    m = x.amax(dim, keepdim=True)
    return m + (x - m).exp().sum(dim, keepdim=True).log()'''),
    mistake("logsumexp", "logsumexp along the last dimension whatever `dim` says", '''
def logsumexp(x, dim=-1):
    m = x.amax(-1)
    return m + (x - m.unsqueeze(-1)).exp().sum(-1).log()'''),
    mistake("logsumexp", "a default dim of 0 instead of the last (-1)", '''
def logsumexp(x, dim=0):
    m = x.amax(dim, keepdim=True)
    return (m + (x - m).exp().sum(dim, keepdim=True).log()).squeeze(dim)'''),
    mistake("logsumexp", "torch.logsumexp (forbidden)", "def logsumexp(x, dim=-1):\n    return torch.logsumexp(x, dim)"),
    mistake("logsumexp", "torch.special.logsumexp (forbidden: it is torch.logsumexp)",
            "def logsumexp(x, dim=-1):\n    return torch.special.logsumexp(x, dim)"),

    # ------------------------------------------------------------------ log_softmax
    alternative("log_softmax", "x minus the learner's logsumexp", '''
def log_softmax(logits, dim=-1):
    return logits - logsumexp(logits, dim).unsqueeze(dim)'''),
    alternative("log_softmax", "written out with max().values", '''
def log_softmax(logits, dim=-1):
    m = logits.max(dim=dim, keepdim=True).values
    return logits - m - torch.log(torch.exp(logits - m).sum(dim=dim, keepdim=True))'''),
    mistake("log_softmax", "the log of softmax (softmax underflows to 0 far below the max, and log(0) = −inf)",
            "def log_softmax(logits, dim=-1):\n    return softmax(logits, dim).log()", also=("cross_entropy_values",)),
    mistake("log_softmax", "no max subtraction (exp overflows to inf)",
            "def log_softmax(logits, dim=-1):\n    return logits - logits.exp().sum(dim, keepdim=True).log()",
            also=("cross_entropy_values",)),
    mistake("log_softmax", "base-10 logarithms (torch.log is the natural log)", '''
def log_softmax(logits, dim=-1):
    x = logits - logits.amax(dim, keepdim=True)
    return (x - x.exp().sum(dim, keepdim=True).log()) / math.log(10)''', also=("cross_entropy_values",)),
    mistake("log_softmax", "log_softmax along the last dimension whatever `dim` says", '''
def log_softmax(logits, dim=-1):
    x = logits - logits.amax(-1, keepdim=True)
    return x - x.exp().sum(-1, keepdim=True).log()'''),
    mistake("log_softmax", "a default dim of 1 instead of the last (-1)", '''
def log_softmax(logits, dim=1):
    x = logits - logits.amax(dim, keepdim=True)
    return x - x.exp().sum(dim, keepdim=True).log()'''),
    mistake("log_softmax", "torch.log_softmax (forbidden)",
            "def log_softmax(logits, dim=-1):\n    return torch.log_softmax(logits, dim)", also=("cross_entropy_values",)),
    mistake("log_softmax", "torch.distributions.Categorical's normalised logits (forbidden: they are computed "
            "with torch.logsumexp)", """
def log_softmax(logits, dim=-1):
    return torch.distributions.Categorical(logits=logits.movedim(dim, -1)).logits.movedim(-1, dim)""",
            also=("cross_entropy_values",)),
]
