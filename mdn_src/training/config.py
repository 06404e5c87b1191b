r"""One training recipe, :class:`TrainConfig`: what ``fit``, ``fit_cached`` and ``MDNRegressor`` take.

Every setting that decides a training run's result lives here, checked once, where it is
built: the optimiser, the learning rate and its schedule, the batches, the seed,
regularisation, validation and early stopping. What is not part of a recipe stays an
argument of :func:`~mdn_src.training.fit`: the data, explicit validation data, the device,
the progress bar and a callback.

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

import dataclasses
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..checks import positive_float, positive_int

__all__ = [
    "OPTIMIZERS",
    "RULE_OF_THUMB",
    "SCHEDULES",
    "STEP_GAMMA",
    "STEP_PARTS",
    "TrainConfig",
    "rule_of_thumb_bandwidth",
]

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "step")
#: Step schedule: the learning rate falls by ``STEP_GAMMA`` every ``epochs // STEP_PARTS``.
STEP_GAMMA = 0.1
STEP_PARTS = 3
RULE_OF_THUMB = "rule_of_thumb"


def rule_of_thumb_bandwidth(n: int, d: int) -> float:
    r"""Rothfuss et al.'s rule-of-thumb noise level :math:`h = n^{-1/(4 + d)}`.

    In standardised units, for ``n`` training points of dimension ``d`` (``fit`` uses the
    joint dimension, ``in_features + out_features``, for inputs and targets alike).
    """
    n = positive_int(n, "n")
    d = positive_int(d, "d")
    return float(n ** (-1.0 / (4 + d)))


def _check_noise(value, name: str):
    """A noise level as given: None, ``"rule_of_thumb"`` or a float >= 0."""
    if value is None:
        return None
    if isinstance(value, str):
        if value != RULE_OF_THUMB:
            raise ValueError(
                f"{name} must be a float >= 0, None or {RULE_OF_THUMB!r}, got {value!r}"
            )
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a float >= 0, None or {RULE_OF_THUMB!r}, got {type(value).__name__}"
        )
    return positive_float(value, name, allow_zero=True)


def _check_schedule(schedule):
    if schedule is None or callable(schedule):
        return schedule
    if isinstance(schedule, str):
        if schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {SCHEDULES}, a callable or None, got {schedule!r}"
            )
        return schedule
    raise TypeError(
        f"schedule must be one of {SCHEDULES}, a callable optimizer -> scheduler, or "
        f"None, got {type(schedule).__name__}"
    )


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe: every setting of a run, checked when it is built.

    Attributes:
        epochs: passes over the training data, >= 1.
        lr: the (initial) learning rate, > 0.
        optimizer: ``"adam"`` (default) or ``"sgd"``.
        momentum: SGD's momentum, >= 0; Adam takes none.
        nesterov: SGD with Nesterov's momentum; Adam takes neither.
        weight_decay: L2 penalty, >= 0, added to the gradient (torch's ``weight_decay``).
        batch_size: mini-batch size, or None (default) for full-batch training; the
            batches are drawn in a new order each epoch from ``seed``.
        seed: seeds the batch order, the validation split and the noise (independent
            streams derived from it); the initial weights are the model's.
        validation_fraction: hold out this fraction of the rows, in (0, 1), drawn from
            ``seed``; the validation loss is recorded every epoch.
        patience: stop after this many epochs without a better validation loss, and keep
            the best epoch's weights; needs validation data.
        schedule: ``"cosine"`` (to 0 over ``epochs``), ``"step"`` (a tenth every third of
            the epochs), a callable ``optimizer -> torch scheduler`` (stepped each epoch; a
            ``ReduceLROnPlateau`` is stepped with the validation, else training, loss), or
            None for a constant learning rate.
        clip_grad_norm: clip the gradient's total 2-norm to this value, > 0, or None.
        input_noise: noise regularisation: the standard deviation of the Gaussian noise
            added to every training step's inputs, in the data's units,
            ``"rule_of_thumb"`` (see the module's text) or None/0 for none.
        target_noise: the same for the targets.
        diagnostics: record the mixture diagnostics of :class:`~mdn_src.training.History`
            each epoch (MDN only).
        compile: train with ``torch.compile`` (seconds to compile; pays over thousands of
            steps). A Gaussian MDN at a constant learning rate compiles its whole step
            (:func:`mdn_src.fast.fused_adam_step`); other models compile the loss and the
            update.

    Example:
        >>> recipe = TrainConfig(epochs=3000, lr=0.008)
        >>> recipe.replace(schedule="cosine").schedule
        'cosine'
    """

    epochs: int
    lr: float
    optimizer: str = "adam"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    batch_size: int | None = None
    seed: int = 0
    validation_fraction: float | None = None
    patience: int | None = None
    schedule: str | Callable | None = None
    clip_grad_norm: float | None = None
    input_noise: float | str | None = None
    target_noise: float | str | None = None
    diagnostics: bool = False
    compile: bool = False

    def __post_init__(self):
        checked = {
            "epochs": positive_int(self.epochs, "epochs"),
            "lr": positive_float(self.lr, "lr"),
            "momentum": positive_float(self.momentum, "momentum", allow_zero=True),
            "weight_decay": positive_float(self.weight_decay, "weight_decay", allow_zero=True),
            "schedule": _check_schedule(self.schedule),
            "input_noise": _check_noise(self.input_noise, "input_noise"),
            "target_noise": _check_noise(self.target_noise, "target_noise"),
        }
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name in ("nesterov", "diagnostics", "compile"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(
                    f"{name} must be True or False, got {type(getattr(self, name)).__name__}"
                )
        if self.optimizer == "adam" and (checked["momentum"] or self.nesterov):
            raise ValueError("momentum and nesterov apply to optimizer='sgd' only, not 'adam'")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {type(self.seed).__name__}")
        for name in ("batch_size", "patience"):
            if getattr(self, name) is not None:
                checked[name] = positive_int(getattr(self, name), name)
        if self.clip_grad_norm is not None:
            checked["clip_grad_norm"] = positive_float(self.clip_grad_norm, "clip_grad_norm")
        fraction = self.validation_fraction
        if fraction is not None:
            if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
                raise TypeError(
                    f"validation_fraction must be a float in (0, 1), got {type(fraction).__name__}"
                )
            if not 0.0 < float(fraction) < 1.0:
                raise ValueError(f"validation_fraction must be in (0, 1), got {fraction}")
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes) -> TrainConfig:
        """A copy with ``changes`` (checked again); unknown names raise ``TypeError``."""
        return dataclasses.replace(self, **changes)

    def key(self) -> dict:
        """The settings as plain values (a callable schedule by its ``repr``), for a cache key."""
        out = dataclasses.asdict(self)
        if callable(out["schedule"]):
            out["schedule"] = repr(out["schedule"])
        out["seed"] = int(out["seed"])
        return out

    @classmethod
    def from_settings(cls, config: TrainConfig | None, settings: dict, caller: str) -> TrainConfig:
        """``config`` with ``settings`` applied, or a new one built from ``settings``.

        Raises ``TypeError`` naming ``caller`` for a setting that is not a field.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(settings) - names)
        if unknown:
            raise TypeError(
                f"{caller} got unknown training settings {unknown}; TrainConfig's are "
                f"{sorted(names)}"
            )
        if config is None:
            if "epochs" not in settings or "lr" not in settings:
                raise TypeError(f"{caller} needs a TrainConfig, or at least epochs= and lr=")
            return cls(**settings)
        if not isinstance(config, cls):
            raise TypeError(f"config must be a TrainConfig or None, got {type(config).__name__}")
        return config.replace(**settings) if settings else config
