"""Training: one ``fit`` for the MLP and the MDN, full-batch or mini-batch, Adam or SGD."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._checks import as_matrix, positive_float, positive_int, same_length

OPTIMIZERS = ("adam", "sgd")


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
    batch_size: int | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = False,
) -> np.ndarray:
    """Minimise ``model.loss(x, t)`` and return the loss of every epoch.

    Arguments:
        model: a module with a ``loss(x, t)`` method (:class:`~mdn_src.MLP` uses MSE,
            :class:`~mdn_src.MDN` the negative log-likelihood); trained in place.
        x: inputs, ``[N, in_features]`` (tensor or NumPy array).
        t: targets, ``[N, out_features]``.
        epochs: number of passes over the data.
        lr: learning rate.
        optimizer: ``"adam"`` or ``"sgd"``.
        momentum, nesterov: SGD's momentum settings.
        batch_size: ``None`` for full-batch training (one step per epoch, the loss recorded
            before the step); otherwise mini-batches in an order shuffled from ``seed`` (the
            epoch's loss is the size-weighted mean of its batch losses).
        seed: seeds the shuffling; with the model's initial weights fixed, training is
            deterministic.
        device: where to train (``"cpu"``, ``"cuda"``); the model is moved there.
        progress: show a tqdm progress bar.

    Returns:
        Loss per epoch, a float64 array of shape ``[epochs]``.
    """
    if not isinstance(model, nn.Module) or not callable(getattr(model, "loss", None)):
        raise TypeError(
            f"model must be an nn.Module with a loss(x, t) method, got {type(model).__name__}"
        )
    epochs = positive_int(epochs, "epochs")
    lr = positive_float(lr, "lr")
    momentum = positive_float(momentum, "momentum", allow_zero=True)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    if optimizer == "adam" and (momentum or nesterov):
        raise ValueError("momentum and nesterov apply to optimizer='sgd' only, not 'adam'")
    if batch_size is not None:
        batch_size = positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    device = torch.device(device)
    x = as_matrix(x, "x", getattr(model, "in_features", None))
    t = as_matrix(t, "t", getattr(model, "out_features", None))
    same_length(x, "x", t, "t")

    model.to(device)
    x, t = x.to(device), t.to(device)
    params = list(model.parameters())
    if optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr)
    else:
        opt = torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov)

    generator = torch.Generator().manual_seed(int(seed))
    n = x.shape[0]
    history = np.empty(epochs)
    epoch_range = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_range = tqdm(epoch_range, desc="training", unit="epoch")
    model.train()
    for epoch in epoch_range:
        if batch_size is None:
            batches = [slice(None)]
        else:
            batches = torch.randperm(n, generator=generator).to(device).split(batch_size)
        total = torch.zeros((), device=device)
        for batch in batches:
            opt.zero_grad()
            loss = model.loss(x[batch], t[batch])
            loss.backward()
            opt.step()
            size = n if batch_size is None else len(batch)
            total += loss.detach() * size
        history[epoch] = (total / n).item()
        if progress:
            epoch_range.set_postfix(loss=f"{history[epoch]:.4f}", refresh=False)
    model.eval()
    return history
