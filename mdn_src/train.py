r"""Training: one ``fit`` for the MLP and the MDN, and the :class:`History` it returns.

``fit`` trains full-batch or mini-batch with Adam or SGD, and on request holds out
validation data, stops early, follows a learning-rate schedule, decays weights, clips the
gradient norm, adds noise to the data (noise regularisation) and records mixture
diagnostics. With only the required arguments it is the plain loop of the book's chapters:

.. code-block:: python

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for epoch in range(epochs):
        opt.zero_grad()
        loss = model.loss(x, t)  # recorded: the loss before this epoch's step
        loss.backward()
        opt.step()

Noise regularisation (Rothfuss et al. 2019, *Noise Regularization for Conditional Density
Estimation*, arXiv:1907.08982) perturbs every training step's inputs and/or targets with
fresh Gaussian noise; in expectation this smooths the training data with a Gaussian kernel,
a penalty on the curvature of the learnt log-density. Their "rule of thumb" noise level is
the bandwidth

.. math::

    h = c\, n^{-1/(4 + d)}, \qquad c = 1,

for standardised data, where ``n`` is the number of training points and ``d`` the dimension
of the data being smoothed: the joint ``(x, t)`` space, ``d = in_features + out_features``,
for the input noise and the target noise alike (the authors' implementation,
``adaptive_noise_fn(n, ndim_x + ndim_y)``, applied after standardising ``x`` and ``t``).
``fit`` does not ask for standardised data: with ``"rule_of_thumb"`` the noise added to each
column has standard deviation ``h`` times that column's standard deviation in the training
data (population standard deviation, ``ddof=0``), which is the paper's noise in
standardised units mapped back to the data's units. A number given as the noise level is a
standard deviation in the data's own units, the same for every column.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator

import numpy as np
import torch
from numpy.lib.mixins import NDArrayOperatorsMixin
from torch import nn

from ._checks import as_matrix, positive_float, positive_int, same_length
from .fused_step import closed_form_gradients, compile_options, fused_adam_step
from .model import MDN, MLP

__all__ = ["History", "fit", "rule_of_thumb_bandwidth"]

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "step")
#: Step schedule: the learning rate falls by ``STEP_GAMMA`` every ``epochs // STEP_PARTS``.
STEP_GAMMA = 0.1
STEP_PARTS = 3
RULE_OF_THUMB = "rule_of_thumb"
DIAGNOSTICS = ("min_sigma", "entropy", "effective_components", "grad_norm")

# Independent random streams derived from ``seed``: the mini-batch order keeps using
# ``seed`` itself (as it always has), the validation split and the noise get their own.
_SPLIT_STREAM = 1
_NOISE_STREAM = 2


def rule_of_thumb_bandwidth(n: int, d: int) -> float:
    r"""Rothfuss et al.'s rule-of-thumb noise level :math:`h = n^{-1/(4 + d)}`.

    In standardised units, for ``n`` training points of dimension ``d`` (``fit`` uses the
    joint dimension, ``in_features + out_features``, for inputs and targets alike).
    """
    n = positive_int(n, "n")
    d = positive_int(d, "d")
    return float(n ** (-1.0 / (4 + d)))


class History(NDArrayOperatorsMixin):
    """What ``fit`` recorded, one entry per epoch run; behaves like the training losses.

    ``len(history)``, ``history[i]``, iteration, ``np.asarray(history)``, arithmetic and
    comparisons (``history / history[0]``, ``history < 1``) and plotting all act on
    ``train``, so code written for the plain loss array that ``fit`` used to return
    keeps working.

    Attributes:
        train: training loss per epoch, float64 ``[epochs_run]``. Full-batch: the loss before
            the epoch's step; mini-batch: the size-weighted mean of the epoch's batch losses.
            With noise regularisation, the loss on the noisy data that was optimised.
        validation: validation loss per epoch (the weights at the end of the epoch), or None.
        lr: learning rate used during each epoch.
        diagnostics: with ``diagnostics=True``, a dict of float64 arrays per epoch:
            ``min_sigma`` (smallest component scale over the training inputs),
            ``entropy`` (entropy of the mixing coefficients in nats, averaged over inputs),
            ``effective_components`` (``exp`` of each input's entropy, averaged over inputs),
            both at the end of the epoch, and ``grad_norm`` (the gradient's total 2-norm
            before clipping, averaged over the epoch's steps); otherwise None.
        best_epoch: epoch of the lowest validation loss (the first, on ties), or None
            without validation.
        stopped_epoch: the epoch after which early stopping ended training, or None if every
            epoch ran.
        input_noise: standard deviation of the noise added to each column of ``x``,
            float64 ``[in_features]``, or None.
        target_noise: the same for ``t``, float64 ``[out_features]``, or None.
        validation_rows: with ``validation_fraction``, the rows of ``x`` held out (sorted);
            otherwise None.
    """

    def __init__(
        self,
        train,
        validation=None,
        lr=None,
        diagnostics: dict | None = None,
        best_epoch: int | None = None,
        stopped_epoch: int | None = None,
        input_noise=None,
        target_noise=None,
        validation_rows=None,
    ):
        self.train = np.asarray(train, dtype=np.float64)
        self.validation = None if validation is None else np.asarray(validation, np.float64)
        self.lr = np.full(len(self.train), np.nan) if lr is None else np.asarray(lr, np.float64)
        self.diagnostics = (
            None
            if diagnostics is None
            else {k: np.asarray(v, np.float64) for k, v in diagnostics.items()}
        )
        self.best_epoch = best_epoch
        self.stopped_epoch = stopped_epoch
        self.input_noise = None if input_noise is None else np.asarray(input_noise, np.float64)
        self.target_noise = None if target_noise is None else np.asarray(target_noise, np.float64)
        self.validation_rows = None if validation_rows is None else np.asarray(validation_rows)

    # --- the array of training losses -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.train.shape

    @property
    def dtype(self) -> np.dtype:
        return self.train.dtype

    @property
    def ndim(self) -> int:
        return self.train.ndim

    def __len__(self) -> int:
        return len(self.train)

    def __getitem__(self, index):
        return self.train[index]

    def __iter__(self) -> Iterator[np.float64]:
        return iter(self.train)

    def __array__(self, dtype=None, copy=None):
        if copy is False and dtype is not None and np.dtype(dtype) != self.train.dtype:
            raise ValueError("History.__array__: a dtype change needs a copy")
        out = self.train if dtype is None else self.train.astype(dtype, copy=False)
        return out.copy() if copy else out

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(isinstance(o, History) for o in kwargs.get("out", ())):
            return NotImplemented
        inputs = tuple(i.train if isinstance(i, History) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __repr__(self) -> str:
        parts = [f"epochs={len(self)}", f"train[-1]={self.train[-1]:.6g}" if len(self) else ""]
        if self.validation is not None and len(self.validation):
            parts.append(f"validation[-1]={self.validation[-1]:.6g}")
            parts.append(f"best_epoch={self.best_epoch}")
        if self.stopped_epoch is not None:
            parts.append(f"stopped_epoch={self.stopped_epoch}")
        return f"History({', '.join(p for p in parts if p)})"


def _derived_seed(seed: int, stream: int) -> int:
    state = np.random.SeedSequence([int(seed) % 2**64, stream]).generate_state(2, np.uint32)
    return int(state[0]) | (int(state[1] & 0x7FFFFFFF) << 32)


def _noise_std(value, name: str, data: torch.Tensor, n_train: int, joint_dim: int):
    """Per-column noise standard deviation ``[1, columns]`` on ``data``'s device, or None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != RULE_OF_THUMB:
            raise ValueError(
                f"{name} must be a float >= 0, None or {RULE_OF_THUMB!r}, got {value!r}"
            )
        h = rule_of_thumb_bandwidth(n_train, joint_dim)
        return h * data.std(dim=0, correction=0, keepdim=True)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a float >= 0, None or {RULE_OF_THUMB!r}, got {type(value).__name__}"
        )
    value = positive_float(value, name, allow_zero=True)
    if value == 0.0:
        return None  # no noise: exactly the noiseless path
    return torch.full((1, data.shape[1]), value, dtype=data.dtype, device=data.device)


def _make_scheduler(schedule, opt: torch.optim.Optimizer, epochs: int):
    if schedule is None:
        return None
    if isinstance(schedule, str):
        if schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        if schedule == "step":
            step_size = max(1, epochs // STEP_PARTS)
            return torch.optim.lr_scheduler.StepLR(opt, step_size=step_size, gamma=STEP_GAMMA)
        raise ValueError(
            f"schedule must be one of {SCHEDULES}, a callable or None, got {schedule!r}"
        )
    if not callable(schedule):
        raise TypeError(
            f"schedule must be one of {SCHEDULES}, a callable optimizer -> scheduler, or "
            f"None, got {type(schedule).__name__}"
        )
    scheduler = schedule(opt)
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(
            "schedule(optimizer) must return a torch.optim.lr_scheduler object with a step() "
            f"method, got {type(scheduler).__name__}"
        )
    return scheduler


class _FusedAdam:
    """``torch.optim.Adam(params, lr, weight_decay=weight_decay, fused=True)`` at a constant
    learning rate, without the optimizer object: the same state (float32 step counts, the
    two moment buffers) and the same kernel, so the same bits (``tests/test_train.py``).

    The optimizer object imports ``torch._dynamo`` the first time it is built or stepped, to
    keep the compiler out of its methods: about 2 s a process, which every chapter paid
    before its first epoch. ``fit`` uses this class only where nothing needs the object (no
    schedule) and the parameters share one device and one floating dtype.
    """

    def __init__(self, params: list[torch.Tensor], lr: float, weight_decay: float) -> None:
        self.params = params
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.exp_avgs = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sqs = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in params
        ]
        self.steps = [torch.zeros((), dtype=torch.float32, device=p.device) for p in params]

    @staticmethod
    def supports(params: list[torch.Tensor], device: torch.device) -> bool:
        """Whether the fused kernel takes these parameters, as one group."""
        return (
            hasattr(torch, "_fused_adam_")
            and device.type in ("cpu", "cuda")
            and len({(p.device, p.dtype) for p in params}) == 1
            and params[0].is_floating_point()
        )

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        # As Adam: a parameter without a gradient is skipped, and its state left alone.
        have = [i for i, p in enumerate(self.params) if p.grad is not None]
        if len(have) == len(self.params):
            params, grads = self.params, [p.grad for p in self.params]
            exp_avgs, exp_avg_sqs, steps = self.exp_avgs, self.exp_avg_sqs, self.steps
        else:
            params = [self.params[i] for i in have]
            grads = [p.grad for p in params]
            exp_avgs = [self.exp_avgs[i] for i in have]
            exp_avg_sqs = [self.exp_avg_sqs[i] for i in have]
            steps = [self.steps[i] for i in have]
            if not params:
                return
        torch._foreach_add_(steps, 1)
        torch._fused_adam_(
            params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=self.lr,
            beta1=0.9, beta2=0.999, weight_decay=self.weight_decay, eps=1e-8, maximize=False,
        )  # fmt: skip


#: Modules whose output does not depend on ``training`` (no dropout, no batch statistics).
_MODE_FREE = (MDN, MLP, nn.Sequential, nn.Linear, nn.Tanh, nn.ReLU, nn.Identity)


def _mode_switch(model: nn.Module) -> Callable[[bool], object]:
    """``model.train`` where train and eval mode may compute differently, else a no-op.

    ``fit`` scores validation data and diagnostics in eval mode after every epoch. For a
    model built only from the modules above (exact types: a subclass may read
    ``self.training``), both modes compute the same, and the two switches an epoch, each
    a walk over every submodule, were about a tenth of a small model's epoch.
    """
    if all(type(m) in _MODE_FREE for m in model.modules()):
        return lambda mode: None
    return model.train


def _model_device_dtype(model: nn.Module) -> tuple[torch.device, torch.dtype]:
    params = [p for p in model.parameters() if p.is_floating_point()]
    if not params:
        raise ValueError("model has no floating-point parameters to train")
    return params[0].device, params[0].dtype


def fit(
    model: nn.Module,
    x,
    t,
    *,
    epochs: int,
    lr: float,
    optimizer: str = "adam",
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    batch_size: int | None = None,
    seed: int = 0,
    validation: tuple | None = None,
    validation_fraction: float | None = None,
    patience: int | None = None,
    schedule: str | Callable | None = None,
    clip_grad_norm: float | None = None,
    input_noise: float | str | None = None,
    target_noise: float | str | None = None,
    diagnostics: bool = False,
    device: str | torch.device | None = None,
    progress: bool = False,
    compile: bool = False,
    callback: Callable[[int, nn.Module], None] | None = None,
) -> History:
    """Minimise ``model.loss(x, t)`` and return the :class:`History` of the run.

    Arguments:
        model: a module with a ``loss(x, t)`` method (:class:`~mdn_src.model.MLP` uses MSE,
            :class:`~mdn_src.model.MDN` the negative log-likelihood); trained in place. When it
            also has ``training_loss(x, t)`` (the MDN), the loop calls that: ``x`` and ``t``
            are checked once, here.
        x: inputs, ``[N, in_features]`` (tensor or NumPy array).
        t: targets, ``[N, out_features]``.
        epochs: number of passes over the data (fewer if early stopping ends training).
        lr: learning rate (the initial one, with a schedule).
        optimizer: ``"adam"`` or ``"sgd"``.
        momentum, nesterov: SGD's momentum settings.
        weight_decay: L2 penalty, >= 0, passed to the optimizer (torch's ``weight_decay``:
            ``weight_decay * w`` is added to each gradient; for Adam this is L2
            regularisation, not AdamW's decoupled decay).
        batch_size: ``None`` for full-batch training (one step per epoch, the loss recorded
            before the step); otherwise mini-batches in an order shuffled from ``seed`` (the
            epoch's loss is the size-weighted mean of its batch losses).
        seed: seeds the shuffling, the validation split and the noise; with the model's
            initial weights fixed, training is deterministic (on a given device).
        validation: ``(x_val, t_val)``, data to evaluate after every epoch.
        validation_fraction: instead of ``validation``, hold out this fraction (in (0, 1))
            of the rows of ``x`` and ``t``, chosen at random from ``seed``; the model trains
            on the rest. The held-out rows are in ``History.validation_rows``.
        patience: stop when the validation loss has not improved (strictly) for this many
            epochs, and restore the weights of the best validation epoch (whether or not
            training stopped early). Needs validation data.
        schedule: learning-rate schedule, stepped once per epoch: ``"cosine"``
            (``CosineAnnealingLR(T_max=epochs)``, from ``lr`` towards 0), ``"step"``
            (``StepLR``: times 0.1 every ``max(1, epochs // 3)`` epochs), or a callable
            ``optimizer -> torch.optim.lr_scheduler`` object. A ``ReduceLROnPlateau`` is
            stepped with the epoch's validation loss, or its training loss without
            validation.
        clip_grad_norm: clip the gradient's total 2-norm to this value before each step
            (``torch.nn.utils.clip_grad_norm_``).
        input_noise, target_noise: noise regularisation: the standard deviation of the
            Gaussian noise added to ``x`` (``t``) at every step, fresh each step and drawn
            from a generator seeded from ``seed``; a number (data units, every column) or
            ``"rule_of_thumb"`` (Rothfuss et al.'s bandwidth, scaled by each column's
            standard deviation; see the module's documentation). ``None`` or 0: no noise.
            Validation data are never perturbed.
        diagnostics: record, per epoch, the smallest mixture scale, the entropy of the
            mixing coefficients, the effective number of components and the gradient norm
            (MDN only; see :class:`History`).
        device: ``None`` (default) trains where the model is; ``"cpu"``, ``"cuda"``, ...
            move the model there first. The data follow the model.
        progress: show a tqdm progress bar with the training (and validation) loss.
        compile: compile training with ``torch.compile``, with
            :func:`~mdn_src.fused_step.compile_options`. A Gaussian MDN with isotropic or diagonal scales, trained by Adam at a constant
            learning rate (no ``schedule``, ``clip_grad_norm`` or ``diagnostics``), then
            trains by one compiled function per step: the forward pass, the backward pass
            written out from the loss's closed-form gradient, and Adam's update, with no
            autograd graph or optimizer object between them. Other models compile the
            loss and, in float32 at a constant learning rate, Adam's update. The
            compilation costs seconds once per process and model shape; on CPU the fused
            Gaussian step took about a third (one thread) to two fifths (two threads) less
            time than the eager one (``benchmarks/bench_mdn.py``), so it pays for runs of
            thousands of steps, not for short ones.
        callback: ``callback(epoch, model)``, called after each epoch's update (and schedule
            step) with the model in eval mode under ``torch.no_grad()``: to record snapshots
            (for an animation of training, say). Its return value is ignored.

    Adam uses torch's fused kernel where the device supports it (compiled, see ``compile``),
    called directly at a constant learning rate (the same bits as ``torch.optim.Adam(...,
    fused=True)``, without the optimizer object). For a Gaussian MDN with isotropic or
    diagonal scales, and for an MLP with a tanh trunk, the eager loop sets the gradients
    without autograd (:func:`~mdn_src.fused_step.closed_form_gradients`: the same
    operations, so the same bits, with less bookkeeping).

    Returns:
        A :class:`History`; it acts as the float64 array of training losses per epoch.

    Losses are kept on the device during training and copied to the host once at the end;
    only early stopping, a ``ReduceLROnPlateau`` schedule and the progress bar read a value
    back each epoch.
    """
    # ---- the boundary: every argument is checked here, none inside the loop ----------
    if not isinstance(model, nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"model must be an nn.Module with a loss(x, t) method, got {type(model).__name__}"
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable(epoch, model), got {type(callback).__name__}")
    epochs = positive_int(epochs, "epochs")
    lr = positive_float(lr, "lr")
    momentum = positive_float(momentum, "momentum", allow_zero=True)
    weight_decay = positive_float(weight_decay, "weight_decay", allow_zero=True)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if optimizer == "adam" and (momentum or nesterov):
        raise ValueError("momentum and nesterov apply to optimizer='sgd' only, not 'adam'")
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if patience is not None:
        patience = positive_int(patience, "patience")
    if clip_grad_norm is not None:
        clip_grad_norm = positive_float(clip_grad_norm, "clip_grad_norm")
    for flag, name in ((diagnostics, "diagnostics"), (progress, "progress"), (compile, "compile")):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {type(flag).__name__}")
    mixture = getattr(model, "_mixture", None) or getattr(model, "mixture_parameters", None)
    if diagnostics and not callable(mixture):
        raise TypeError(
            f"diagnostics=True needs a mixture model (an MDN), got {type(model).__name__}"
        )
    if validation is not None and validation_fraction is not None:
        raise ValueError("give validation=(x_val, t_val) or validation_fraction, not both")
    if validation_fraction is not None:
        if isinstance(validation_fraction, bool) or not isinstance(
            validation_fraction, numbers.Real
        ):
            raise TypeError(
                f"validation_fraction must be a float in (0, 1), got "
                f"{type(validation_fraction).__name__}"
            )
        if not 0.0 < float(validation_fraction) < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    if patience is not None and validation is None and validation_fraction is None:
        raise ValueError(
            "patience needs validation data: pass validation=(x_val, t_val) or validation_fraction"
        )

    if device is not None:
        try:
            device = torch.device(device)
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"device must name a torch device or be None, got {device!r}") from err
        model.to(device)
    device, dtype = _model_device_dtype(model)

    in_features = getattr(model, "in_features", None)
    out_features = getattr(model, "out_features", None)
    x = as_matrix(x, "x", in_features)
    t = as_matrix(t, "t", out_features)
    same_length(x, "x", t, "t")
    x = x.to(device=device, dtype=dtype)
    t = t.to(device=device, dtype=dtype)

    validation_rows = None
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(
                "validation must be a pair (x_val, t_val), got "
                f"{type(validation).__name__}"
                + (f" of length {len(validation)}" if isinstance(validation, (tuple, list)) else "")
            )
        x_val = as_matrix(validation[0], "validation[0] (x_val)", x.shape[1])
        t_val = as_matrix(validation[1], "validation[1] (t_val)", t.shape[1])
        same_length(x_val, "validation[0] (x_val)", t_val, "validation[1] (t_val)")
        x_val = x_val.to(device=device, dtype=dtype)
        t_val = t_val.to(device=device, dtype=dtype)
    elif validation_fraction is not None:
        n_all = x.shape[0]
        n_val = int(round(float(validation_fraction) * n_all))
        if n_val < 1 or n_val > n_all - 1:
            raise ValueError(
                f"validation_fraction={validation_fraction} of {n_all} rows leaves "
                f"{n_val} for validation and {n_all - n_val} for training; both need >= 1"
            )
        split = torch.Generator().manual_seed(_derived_seed(seed, _SPLIT_STREAM))
        perm = torch.randperm(n_all, generator=split)
        val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
        validation_rows = val_idx.numpy()
        x_val, t_val = x[val_idx.to(device)], t[val_idx.to(device)]
        x, t = x[train_idx.to(device)], t[train_idx.to(device)]
    has_validation = validation is not None or validation_fraction is not None

    n = x.shape[0]
    joint_dim = x.shape[1] + t.shape[1]
    x_std = _noise_std(input_noise, "input_noise", x, n, joint_dim)
    t_std = _noise_std(target_noise, "target_noise", t, n, joint_dim)

    params = list(model.parameters())
    # Compiled, a Gaussian MDN at a constant learning rate trains by one function per step:
    # forward, the closed-form backward pass and Adam (mdn_src.fused_step), with no
    # autograd graph or optimizer object; a third less time a step than compiling the loss
    # and the update apart (benchmarks/bench_mdn.py). Other models compile those two.
    step_fn = None
    if compile and optimizer == "adam" and schedule is None and clip_grad_norm is None:
        if not diagnostics:  # it needs the gradient's norm every step
            step_fn = fused_adam_step(model, lr, weight_decay)
    # Eagerly, the closed form's gradients are set without autograd (the same bits).
    grads_fn = closed_form_gradients(model) if not compile else None
    # Compiled, other models' Adam update (multi-tensor) becomes one generated loop, faster
    # on the CPU than the fused kernel; a learning rate that changes (a schedule) would
    # recompile it. Its step count and bias corrections are float32 tensors there (a
    # relative error of 1e-7 in float64 training, measured), so float64 keeps the eager one.
    compile_update = (
        compile and step_fn is None and optimizer == "adam" and schedule is None
        and dtype == torch.float32
    )  # fmt: skip
    if step_fn is not None:
        opt = None
    elif compile_update:
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, foreach=True)
    elif optimizer == "adam" and schedule is None and _FusedAdam.supports(params, device):
        opt = _FusedAdam(params, lr, weight_decay)
    elif optimizer == "adam":
        # The fused kernel updates every parameter in one pass (CPU and CUDA, torch >= 2.4).
        fused = device.type in ("cpu", "cuda") and all(p.is_floating_point() for p in params)
        if weight_decay:
            opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused)
        else:
            opt = torch.optim.Adam(params, lr=lr, fused=fused)
    else:
        if weight_decay:
            opt = torch.optim.SGD(
                params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
            )
        else:
            opt = torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov)
    scheduler = None if schedule is None else _make_scheduler(schedule, opt, epochs)
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    # ---- the loop ----------------------------------------------------------------------
    loss_fn = getattr(model, "training_loss", None)
    if not callable(loss_fn):
        loss_fn = model.loss
    eval_fn = loss_fn
    update = None if opt is None else opt.step
    if compile and step_fn is None:
        loss_fn = torch.compile(loss_fn, options=compile_options(device))
        if compile_update:
            update = torch.compile(opt.step, options=compile_options(device))
    generator = torch.Generator().manual_seed(int(seed))
    noisy = x_std is not None or t_std is not None
    if noisy:
        noise_gen = torch.Generator(device=device).manual_seed(_derived_seed(seed, _NOISE_STREAM))
    train_losses = torch.empty(epochs, dtype=dtype, device=device)
    val_losses = torch.empty(epochs, dtype=dtype, device=device) if has_validation else None
    diag = (
        {name: torch.empty(epochs, dtype=dtype, device=device) for name in DIAGNOSTICS}
        if diagnostics
        else None
    )
    lrs = np.empty(epochs)
    best, best_epoch, best_state, waited, stopped_epoch = np.inf, None, None, 0, None
    epoch_range = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
    model.train()
    switch_mode = _mode_switch(model)
    epochs_run = 0
    for epoch in epoch_range:
        lrs[epoch] = lr if scheduler is None else opt.param_groups[0]["lr"]
        if batch_size is None:
            batches = [slice(None)]
        else:
            # Drawn on the host (the same order on every device); a pinned, non-blocking copy
            # does not make the host wait for the device.
            order = torch.randperm(n, generator=generator)
            if device.type == "cuda":
                order = order.pin_memory().to(device, non_blocking=True)
            batches = order.split(batch_size)
        total = None
        grad_total = None
        for batch in batches:
            xb, tb = x[batch], t[batch]
            if noisy:
                if x_std is not None:
                    noise = torch.randn(xb.shape, generator=noise_gen, dtype=dtype, device=device)
                    xb = xb + x_std * noise
                if t_std is not None:
                    noise = torch.randn(tb.shape, generator=noise_gen, dtype=dtype, device=device)
                    tb = tb + t_std * noise
            if step_fn is not None:
                loss = step_fn(xb, tb)
            elif grads_fn is not None:
                loss = grads_fn(xb, tb)  # sets every parameter's .grad
            else:
                opt.zero_grad()
                loss = loss_fn(xb, tb)
                loss.backward()
            if clip_grad_norm is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
            elif diagnostics:
                norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
            if diagnostics:
                grad_total = norm.detach() if grad_total is None else grad_total + norm.detach()
            if step_fn is None:
                update()
            if batch_size is None:
                total = loss.detach()
            else:
                weighted = loss.detach() * len(batch)
                total = weighted if total is None else total + weighted
        train_losses[epoch] = total if batch_size is None else total / n
        if diagnostics:
            diag["grad_norm"][epoch] = grad_total / len(batches)
        epochs_run = epoch + 1

        if has_validation or diagnostics:
            switch_mode(False)
            with torch.no_grad():
                if has_validation:
                    val_losses[epoch] = eval_fn(x_val, t_val)
                if diagnostics:
                    p = mixture(x)
                    entropy = torch.special.entr(p.log_pi.exp()).sum(-1)  # [N], nats
                    diag["min_sigma"][epoch] = p.sigma.min()
                    diag["entropy"][epoch] = entropy.mean()
                    diag["effective_components"][epoch] = entropy.exp().mean()
            switch_mode(True)

        # Host reads, once per epoch and only where a feature needs the value.
        val_now = float(val_losses[epoch]) if has_validation and (patience or plateau) else None
        if patience is not None:
            if val_now < best:
                best, best_epoch, waited = val_now, epoch, 0
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
        if plateau:
            scheduler.step(val_now if has_validation else float(train_losses[epoch]))
        elif scheduler is not None:
            scheduler.step()
        if progress:
            postfix = {"loss": f"{float(train_losses[epoch]):.4f}"}
            if has_validation:
                shown = float(val_losses[epoch]) if val_now is None else val_now
                postfix["val"] = f"{shown:.4f}"
            epoch_range.set_postfix(postfix, refresh=False)
        if callback is not None:
            model.eval()
            with torch.no_grad():
                callback(epoch, model)
            model.train()
        if patience is not None and waited >= patience:
            stopped_epoch = epoch
            break
    if progress:
        epoch_range.close()
    model.eval()

    if best_state is not None:
        model.load_state_dict(best_state)

    # ---- one copy to the host --------------------------------------------------------
    def host(values):
        return values[:epochs_run].detach().to("cpu", torch.float64).numpy()

    validation_out = None if val_losses is None else host(val_losses)
    if patience is None and validation_out is not None and not np.isnan(validation_out).all():
        best_epoch = int(np.nanargmin(validation_out))
    return History(
        train=host(train_losses),
        validation=validation_out,
        lr=lrs[:epochs_run],
        diagnostics=None if diag is None else {k: host(v) for k, v in diag.items()},
        best_epoch=best_epoch,
        stopped_epoch=stopped_epoch,
        input_noise=None if x_std is None else x_std.reshape(-1).to("cpu", torch.float64).numpy(),
        target_noise=None if t_std is None else t_std.reshape(-1).to("cpu", torch.float64).numpy(),
        validation_rows=validation_rows,
    )
