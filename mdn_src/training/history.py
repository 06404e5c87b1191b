"""What a training run recorded: :class:`History`, which acts as its array of losses."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from numpy.lib.mixins import NDArrayOperatorsMixin

from .config import TrainConfig

__all__ = ["DIAGNOSTICS", "History", "Recorder"]

#: The mixture diagnostics ``fit(diagnostics=True)`` records each epoch.
DIAGNOSTICS = ("min_sigma", "entropy", "effective_components", "grad_norm")


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

    # --- plain containers, for a file -------------------------------------------------
    _ARRAYS = ("train", "validation", "lr", "input_noise", "target_noise", "validation_rows")

    def to_dict(self) -> dict:
        """The history as plain containers and tensors (``torch.load(weights_only=True)``)."""
        out = {}
        for field in self._ARRAYS:
            value = getattr(self, field)
            out[field] = None if value is None else torch.from_numpy(np.asarray(value).copy())
        out["diagnostics"] = (
            None
            if self.diagnostics is None
            else {k: torch.from_numpy(np.asarray(v).copy()) for k, v in self.diagnostics.items()}
        )
        out["best_epoch"], out["stopped_epoch"] = self.best_epoch, self.stopped_epoch
        return out

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """The history :meth:`to_dict` wrote."""

        def array(value):
            return None if value is None else value.numpy()

        diagnostics = data["diagnostics"]
        return cls(
            **{field: array(data[field]) for field in cls._ARRAYS},
            diagnostics=None
            if diagnostics is None
            else {k: v.numpy() for k, v in diagnostics.items()},
            best_epoch=data["best_epoch"],
            stopped_epoch=data["stopped_epoch"],
        )


class Recorder:
    """Per-epoch records, on the device until :meth:`history` copies them once."""

    def __init__(self, config: TrainConfig, has_validation: bool, dtype, device):
        epochs = config.epochs

        def empty():
            return torch.empty(epochs, dtype=dtype, device=device)

        self.train = empty()
        self.val = empty() if has_validation else None
        self.diag = {name: empty() for name in DIAGNOSTICS} if config.diagnostics else None
        self.lrs = np.empty(epochs)
        self.epochs_run = 0  # pragma: no mutate (why: fit sets it to epoch + 1 after each)
        self.best, self.best_epoch, self.best_state, self.waited = np.inf, None, None, 0
        self.stopped_epoch = None

    def history(self, data, patience) -> History:
        def host(values):
            return values[: self.epochs_run].detach().to("cpu", torch.float64).numpy()

        def noise(std):
            return None if std is None else std.reshape(-1).to("cpu", torch.float64).numpy()

        validation = None if self.val is None else host(self.val)
        best_epoch = self.best_epoch
        if patience is None and validation is not None and not np.isnan(validation).all():
            best_epoch = int(np.nanargmin(validation))
        return History(
            train=host(self.train),
            validation=validation,
            lr=self.lrs[: self.epochs_run],
            diagnostics=None if self.diag is None else {k: host(v) for k, v in self.diag.items()},
            best_epoch=best_epoch,
            stopped_epoch=self.stopped_epoch,
            input_noise=noise(data.x_noise),
            target_noise=noise(data.t_noise),
            validation_rows=data.val_rows,
        )
