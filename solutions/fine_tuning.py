"""Reference solutions for 07_fine_tuning.ipynb: transfer learning: replace the head, freeze, discriminative lrs.

A pretrained network is a *body* (the layers that turn an input into features) and a *head* (its
last ``nn.Linear``, which turns features into the classes of the task it was trained on). To reuse
it for another task: put a fresh head on it (``replace_head``), train the head alone while the body
is frozen (``freeze``), then unfreeze everything (``unfreeze``) and train on with smaller learning
rates for the earlier layer groups (``param_groups``, which reads them off notebook 04's
``lr_groups``). ``fine_tune`` is fastai's ``Learner.fine_tune`` on those pieces, in plain PyTorch:

    freeze(every group but the last)
    one-cycle, freeze_epochs epochs, max lr base_lr            (pct_start=0.99, div=25: fastai's)
    unfreeze(every group)
    one-cycle, epochs epochs, max lrs slice(base_lr / 200, base_lr / 2)   (pct_start=0.3, div=5)

Each phase uses a new ``torch.optim.Adam`` (default betas, no weight decay) and a
``torch.optim.lr_scheduler.OneCycleLR`` stepped once per batch (cosine, two phases, final lr =
initial lr / 1e4, beta1 cycled between 0.95 and 0.85, as fastai's ``moms``).

Choices of the reference (stated in the notebook), where fastai differs:
- fastai keeps one optimizer for both phases (the head's Adam averages carry over); here each
  phase starts a fresh Adam, as ``param_groups`` makes one from scratch.
- fastai's default optimizer is Adam with decoupled weight decay 0.01; here ``torch.optim.Adam``
  without weight decay. fastai's one-cycle ends at ``lr_max / 1e5``; ``OneCycleLR`` at
  ``lr_max / div / 1e4``.
- A phase of 0 epochs is skipped (``OneCycleLR`` cannot schedule 0 steps).
- ``replace_head`` of a model that is itself an ``nn.Linear`` returns the new ``nn.Linear``.
"""
import torch
from torch import nn

from solutions.optimizers import lr_groups  # notebook 04's exercise: the learner pastes their own into 07

__all__ = ["freeze", "unfreeze", "replace_head", "lr_groups_from_04", "param_groups", "fine_tune"]

lr_groups_from_04 = lr_groups  # the answer cell of 07 (its grade_id) where the learner pastes lr_groups from 04


def freeze(module):
    """p.requires_grad ← False for every parameter p of module (the nested ones too); returns module."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def unfreeze(module):
    """p.requires_grad ← True for every parameter p of module (the nested ones too); returns module."""
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def replace_head(model, n_out):
    """The last nn.Linear(d_in, ·) of model → a fresh nn.Linear(d_in, n_out) (same device and dtype); the rest kept."""
    name = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)][-1]  # "head", "layers.4"...
    parent_name, _, attr = name.rpartition(".")
    old = model.get_submodule(name)
    new = nn.Linear(old.in_features, n_out, device=old.weight.device, dtype=old.weight.dtype)
    if not name:  # the model is its own head
        return new
    model.get_submodule(parent_name).add_module(attr, new)  # replaces the child called attr, in place
    return model


def param_groups(groups, lr, div=3.0):
    """[{"params": [its parameters], "lr": lr_i} for each module of groups], lr_i = lr_groups(lr, len(groups), div)[i]."""
    lrs = lr_groups(lr, len(groups), div)  # body first, head last
    return [{"params": list(group.parameters()), "lr": lr_i} for group, lr_i in zip(groups, lrs)]


def fine_tune(model, groups, train_batches, loss_func, epochs, base_lr, freeze_epochs=1):
    """Body frozen: one-cycle(base_lr) for freeze_epochs; unfrozen: one-cycle(slice(base_lr/200, base_lr/2)) for epochs."""
    device = next(model.parameters()).device
    losses = []

    def fit_one_cycle(opt, n_epochs, pct_start, div):
        """Train n_epochs over train_batches with Adam under OneCycleLR (each group's lr is its peak)."""
        if n_epochs == 0:
            return
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=n_epochs * len(train_batches),
            pct_start=pct_start, div_factor=div)
        model.train()
        for _ in range(n_epochs):
            for x, y in train_batches:
                loss = loss_func(model(x.to(device)), y.to(device))
                loss.backward()
                opt.step()
                opt.zero_grad()
                sched.step()  # after opt.step(): the lr of the next batch
                losses.append(loss.item())

    for group in groups[:-1]:
        freeze(group)  # the body: no gradients, so Adam leaves it alone
    fit_one_cycle(torch.optim.Adam(param_groups(groups, base_lr)), freeze_epochs, pct_start=0.99, div=25.0)
    for group in groups:
        unfreeze(group)
    fit_one_cycle(torch.optim.Adam(param_groups(groups, slice(base_lr / 200, base_lr / 2))), epochs,
                  pct_start=0.3, div=5.0)
    return losses


# The questionnaire's answers.
q_frozen_grad = "b"  # no gradient is computed for a frozen parameter: its .grad stays None
q_body_lr = 1e-5  # fine_tune halves base_lr, then slice(base_lr / 100, base_lr): 2e-3 / 200
q_head_params = 512 * 5 + 5  # a (5, 512) weight and 5 biases
q_why_freeze = "a"  # a random head's large, noisy gradients would wreck the pretrained features
