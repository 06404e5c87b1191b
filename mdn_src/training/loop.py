"""``fit``: one training loop for the MLP and the MDN, in three parts.

With only a recipe of ``epochs`` and ``lr`` it is the plain loop of the book's chapters:

.. code-block:: python

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        opt.zero_grad()
        loss = model.loss(x, t)  # recorded: the loss before this epoch's step
        loss.backward()
        opt.step()

:func:`~mdn_src.training.fit` checks its arguments once (the data, the validation split),
builds the step (``_stepper``: the optimiser, the schedule, the fast path of
:mod:`mdn_src.fast`) and runs the epochs (``_run``), which record into device tensors copied
to the host once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..fast import FusedAdam, closed_form_gradients, compile_options, fused_adam_step
from ..mlp import MLP
from ..model import MDN
from .config import STEP_GAMMA, STEP_PARTS, TrainConfig
from .data import NOISE_STREAM, TrainingData, derived_seed, prepare_data
from .history import History, Recorder

__all__ = ["fit"]

#: Modules whose output does not depend on ``training`` (no dropout, no batch statistics).
MODE_FREE = (MDN, MLP, nn.Sequential, nn.Linear, nn.Tanh, nn.ReLU, nn.Identity)


def mode_switch(model: nn.Module) -> Callable[[bool], object]:
    """``model.train`` where train and eval mode may compute differently, else a no-op.

    ``fit`` scores validation data and diagnostics in eval mode after every epoch. For a
    model built only from the modules of ``MODE_FREE`` (exact types: a subclass may read
    ``self.training``), both modes compute the same, and the two switches an epoch, each
    a walk over every submodule, were about a tenth of a small model's epoch.
    """
    if all(type(m) in MODE_FREE for m in model.modules()):
        return lambda mode: None
    return model.train


@dataclass
class _Stepper:
    """How one batch is trained: a loss function, gradients and an update."""

    step_fn: Callable | None  # the compiled whole step (mdn_src.fast), or None
    grads_fn: Callable | None  # closed-form gradients without autograd, or None
    loss_fn: Callable  # what the loop differentiates otherwise
    eval_fn: Callable  # the loss on validation data
    opt: object
    update: Callable | None
    scheduler: object


def fit(
    model: nn.Module,
    x,
    t,
    config: TrainConfig | None = None,
    *,
    validation: tuple | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
    callback: Callable[[int, nn.Module], None] | None = None,
    **settings,
) -> History:
    """Minimise ``model.loss(x, t)`` following a :class:`TrainConfig`; return the :class:`History`.

    Arguments:
        model: a module with a ``loss(x, t)`` method (:class:`~mdn_src.mlp.MLP` uses MSE,
            :class:`~mdn_src.model.MDN` the negative log-likelihood); trained in place. When
            it also has ``training_loss(x, t)`` (the MDN), the loop calls that: ``x`` and
            ``t`` are checked once, here.
        x: inputs, ``[N, in_features]`` (tensor or NumPy array).
        t: targets, ``[N, out_features]``.
        config: the recipe; or give its settings as keywords (``epochs=``, ``lr=``...),
            which also override a given ``config``'s.
        validation: ``(x_val, t_val)``, data to evaluate after every epoch (instead of
            the recipe's ``validation_fraction``).
        device: ``None`` (default) trains where the model is; ``"cpu"``, ``"cuda"``, ...
            move the model there first. The data follow the model.
        progress: show a tqdm progress bar with the training (and validation) loss.
        callback: ``callback(epoch, model)``, called after each epoch's update (and schedule
            step) with the model in eval mode under ``torch.no_grad()``: to record snapshots
            (for an animation of training, say). Its return value is ignored.

    Adam uses torch's fused kernel where the device supports it, called directly at a
    constant learning rate (:class:`mdn_src.fast.FusedAdam`: the same bits as
    ``torch.optim.Adam(..., fused=True)``, without the optimizer object). For a Gaussian
    MDN with isotropic or diagonal scales, and for an MLP with a tanh trunk, the eager loop
    sets the gradients without autograd (:func:`mdn_src.fast.closed_form_gradients`: the
    same operations, so the same bits). Losses stay on the device and are copied to the
    host once; only early stopping, a ``ReduceLROnPlateau`` schedule and the progress bar
    read a value back each epoch.

    Returns:
        A :class:`History`; it acts as the float64 array of training losses per epoch.
    """
    config = TrainConfig.from_settings(config, settings, "fit")
    if not isinstance(model, nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"model must be an nn.Module with a loss(x, t) method, got {type(model).__name__}"
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(epoch, model), got {type(callback).__name__}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")
    if config.diagnostics and not callable(getattr(model, "mixture_parameters", None)):
        raise TypeError(
            f"diagnostics=True needs a mixture model (an MDN), got {type(model).__name__}"
        )
    if validation is not None and config.validation_fraction is not None:
        raise ValueError("give validation=(x_val, t_val) or validation_fraction, not both")
    if config.patience is not None and validation is None and config.validation_fraction is None:
        raise ValueError(
            "patience needs validation data: pass validation=(x_val, t_val) or validation_fraction"
        )
    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device must name a torch device or be None, got {device!r}") from err
        model.to(device)
    params = [p for p in model.parameters() if p.is_floating_point()]
    if not params:
        raise ValueError("model has no floating-point parameters to train")
    features = (getattr(model, "in_features", None), getattr(model, "out_features", None))
    data = prepare_data(x, t, validation, config, features, params[0].device, params[0].dtype)
    stepper = _stepper(model, config, params[0].device, params[0].dtype)
    return _run(model, data, stepper, config, progress, callback)


def _stepper(model: nn.Module, config: TrainConfig, device, dtype) -> _Stepper:
    """The optimiser, the schedule and the fast path for ``model`` under ``config``."""
    params = list(model.parameters())
    lr, decay, adam = config.lr, config.weight_decay, config.optimizer == "adam"
    constant = config.schedule is None
    # Compiled, a Gaussian MDN at a constant learning rate trains by one function per step:
    # forward, the closed-form backward pass and Adam (mdn_src.fast), with no autograd
    # graph or optimizer object; a third less time a step than compiling the loss and the
    # update apart (benchmarks/bench_mdn.py). Other models compile those two.
    step_fn = None
    if config.compile and adam and constant and config.clip_grad_norm is None:
        if not config.diagnostics:  # it needs the gradient's norm every step
            step_fn = fused_adam_step(model, lr, decay)
    # Eagerly, the closed form's gradients are set without autograd (the same bits).
    grads_fn = closed_form_gradients(model) if not config.compile else None
    # Compiled, other models' Adam update (multi-tensor) becomes one generated loop, faster
    # on the CPU than the fused kernel; a learning rate that changes (a schedule) would
    # recompile it. Its step count and bias corrections are float32 tensors there (a
    # relative error of 1e-7 in float64 training, measured), so float64 keeps the eager one.
    compile_update = (
        config.compile and step_fn is None and adam and constant and dtype == torch.float32
    )
    if step_fn is not None:
        opt = None
    elif compile_update:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=decay, foreach=True)
    elif adam and constant and FusedAdam.supports(params, device):
        opt = FusedAdam(params, lr, decay)
    elif adam:
        # The fused kernel updates every parameter in one pass (CPU and CUDA, torch >= 2.4).
        fused = device.type in ("cpu", "cuda") and all(p.is_floating_point() for p in params)
        extra = {"weight_decay": decay} if decay else {}
        opt = torch.optim.Adam(params, lr=lr, fused=fused, **extra)
    else:
        extra = {"weight_decay": decay} if decay else {}
        opt = torch.optim.SGD(
            params, lr=lr, momentum=config.momentum, nesterov=config.nesterov, **extra
        )
    loss_fn = getattr(model, "training_loss", None)
    loss_fn = loss_fn if callable(loss_fn) else model.loss
    # The scheduler wraps opt.step to see it called: build it before taking opt.step.
    scheduler = None if constant else _scheduler(config.schedule, opt, config.epochs)
    eval_fn, update = loss_fn, None if opt is None else opt.step
    if config.compile and step_fn is None:
        loss_fn = torch.compile(loss_fn, options=compile_options(device))
        if compile_update:
            update = torch.compile(opt.step, options=compile_options(device))
    return _Stepper(step_fn, grads_fn, loss_fn, eval_fn, opt, update, scheduler)


def _scheduler(schedule, opt: torch.optim.Optimizer, epochs: int):
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    if schedule == "step":
        step_size = max(1, epochs // STEP_PARTS)
        return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=STEP_GAMMA)
    scheduler = schedule(opt)  # a callable: TrainConfig checked the names
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            "schedule(optimizer) must return a torch.optim.lr_scheduler object with a step() "
            f"method, got {type(scheduler).__name__}"
        )
    return scheduler


def _train_epoch(
    model, data: TrainingData, stepper: _Stepper, config: TrainConfig, gens, record, epoch
):
    """One pass over the training data: each batch's noise, gradient and update."""
    x, t, n = data.x, data.t, data.x.shape[0]
    device, dtype = x.device, x.dtype
    params = list(model.parameters())
    if config.batch_size is None:
        batches = [slice(None)]
    else:
        # Drawn on the host (the same order on every device); a pinned, non-blocking copy
        # does not make the host wait for the device.
        order = torch.randperm(n, generator=gens[0])
        if device.type == "cuda":
            order = order.pin_memory().to(device, non_blocking=True)
        batches = order.split(config.batch_size)
    total, grad_total = None, None
    for batch in batches:
        xb, tb = x[batch], t[batch]
        for std, which in ((data.x_noise, "x"), (data.t_noise, "t")):
            if std is not None:
                base = xb if which == "x" else tb
                noisy = base + std * torch.randn(
                    base.shape, generator=gens[1], dtype=dtype, device=device
                )
                xb, tb = (noisy, tb) if which == "x" else (xb, noisy)
        if stepper.step_fn is not None:
            loss = stepper.step_fn(xb, tb)
        elif stepper.grads_fn is not None:
            loss = stepper.grads_fn(xb, tb)  # sets every parameter's .grad
        else:
            stepper.opt.zero_grad()
            loss = stepper.loss_fn(xb, tb)
            loss.backward()
        if config.clip_grad_norm is not None:
            norm = torch.nn.utils.clip_grad_norm_(params, config.clip_grad_norm)
        elif config.diagnostics:
            norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
        if config.diagnostics:
            grad_total = norm.detach() if grad_total is None else grad_total + norm.detach()
        if stepper.step_fn is None:
            stepper.update()
        if config.batch_size is None:
            total = loss.detach()
        else:
            weighted = loss.detach() * len(batch)
            total = weighted if total is None else total + weighted
    record.train[epoch] = total if config.batch_size is None else total / n
    if config.diagnostics:
        record.diag["grad_norm"][epoch] = grad_total / len(batches)


def _evaluate(model: nn.Module, data: TrainingData, stepper: _Stepper, record, epoch) -> None:
    """The validation loss and the mixture diagnostics, in eval mode, without gradients."""
    with torch.no_grad():
        if data.val is not None:
            record.val[epoch] = stepper.eval_fn(*data.val)
        if record.diag is not None:
            p = model.mixture_parameters(data.x)
            entropy = torch.special.entr(p.log_pi.exp()).sum(-1)  # [N], nats
            record.diag["min_sigma"][epoch] = p.sigma.min()
            record.diag["entropy"][epoch] = entropy.mean()
            record.diag["effective_components"][epoch] = entropy.exp().mean()


def _run(model, data: TrainingData, stepper: _Stepper, config: TrainConfig, progress, callback):
    """The epoch loop: train, evaluate, stop early, step the schedule; then the history."""
    x = data.x
    record = Recorder(config, data.val is not None, x.dtype, x.device)
    gens = [torch.Generator().manual_seed(int(config.seed)), None]
    if data.x_noise is not None or data.t_noise is not None:
        gens[1] = torch.Generator(device=x.device).manual_seed(
            derived_seed(config.seed, NOISE_STREAM)
        )
    scheduler, patience = stepper.scheduler, config.patience
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    epoch_range = range(config.epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
    model.train()
    switch_mode = mode_switch(model)
    for epoch in epoch_range:
        record.lrs[epoch] = config.lr if scheduler is None else stepper.opt.param_groups[0]["lr"]
        _train_epoch(model, data, stepper, config, gens, record, epoch)
        record.epochs_run = epoch + 1
        if data.val is not None or record.diag is not None:
            switch_mode(False)
            _evaluate(model, data, stepper, record, epoch)
            switch_mode(True)
        # Host reads, once per epoch and only where a feature needs the value.
        read = data.val is not None and (patience or plateau)
        val_now = float(record.val[epoch]) if read else None
        if patience is not None:
            if val_now < record.best:
                record.best, record.best_epoch, record.waited = val_now, epoch, 0
                record.best_state = {k: _copy(v) for k, v in model.state_dict().items()}
            else:
                record.waited += 1
        if plateau:
            scheduler.step(val_now if data.val is not None else float(record.train[epoch]))
        elif scheduler is not None:
            scheduler.step()
        if progress:
            postfix = {"loss": f"{float(record.train[epoch]):.4f}"}
            if data.val is not None:
                shown = float(record.val[epoch]) if val_now is None else val_now
                postfix["val"] = f"{shown:.4f}"
            epoch_range.set_postfix(postfix, refresh=False)
        if callback is not None:
            model.eval()
            with torch.no_grad():
                callback(epoch, model)
            model.train()
        if patience is not None and record.waited >= patience:
            record.stopped_epoch = epoch
            break
    if progress:
        epoch_range.close()
    model.eval()
    if record.best_state is not None:
        model.load_state_dict(record.best_state)
    return record.history(data, patience)


def _copy(value):
    """A detached copy of a state_dict entry (an MDN's extra state is a plain dict)."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value
