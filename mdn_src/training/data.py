"""The data side of :func:`~mdn_src.training.fit`: checks, placement, the validation split
and the noise levels, each drawn from the recipe's seed on a stream of its own."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..checks import as_matrix, same_length
from .config import RULE_OF_THUMB, TrainConfig, rule_of_thumb_bandwidth

__all__ = [
    "NOISE_STREAM",
    "SPLIT_STREAM",
    "TrainingData",
    "derived_seed",
    "noise_std",
    "prepare_data",
]

# Independent random streams derived from ``seed``: the mini-batch order keeps using
# ``seed`` itself (as it always has), the validation split and the noise get their own.
SPLIT_STREAM = 1
NOISE_STREAM = 2


def derived_seed(seed: int, stream: int) -> int:
    """A seed for ``stream`` of ``seed``, independent of the other streams."""
    low, high = np.random.SeedSequence([int(seed) % 2**64, stream]).generate_state(2, np.uint32)
    return int(low) | (int(high & 0x7FFFFFFF) << 32)


@dataclass
class TrainingData:
    """The training data on the model's device and dtype, and what was held out."""

    x: torch.Tensor
    t: torch.Tensor
    val: tuple[torch.Tensor, torch.Tensor] | None
    val_rows: np.ndarray | None
    x_noise: torch.Tensor | None
    t_noise: torch.Tensor | None


def prepare_data(
    x, t, validation, config: TrainConfig, features: tuple, device, dtype
) -> TrainingData:
    """Check and place the data; split off validation rows; size the noise.

    ``features``: the model's ``(in_features, out_features)`` (None where it has none).
    """
    x = as_matrix(x, "x", features[0])
    t = as_matrix(t, "t", features[1])
    same_length(x, "x", t, "t")
    x, t = x.to(device=device, dtype=dtype), t.to(device=device, dtype=dtype)
    val, rows = None, None
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
        val = x_val.to(device=device, dtype=dtype), t_val.to(device=device, dtype=dtype)
    elif config.validation_fraction is not None:
        n_all = x.shape[0]
        n_val = int(round(float(config.validation_fraction) * n_all))
        if n_val < 1 or n_val > n_all - 1:
            raise ValueError(
                f"validation_fraction={config.validation_fraction} of {n_all} rows leaves "
                f"{n_val} for validation and {n_all - n_val} for training; both need >= 1"
            )
        split = torch.Generator().manual_seed(derived_seed(config.seed, SPLIT_STREAM))
        perm = torch.randperm(n_all, generator=split)
        val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
        rows = val_idx.numpy()
        val = x[val_idx.to(device)], t[val_idx.to(device)]
        x, t = x[train_idx.to(device)], t[train_idx.to(device)]
    joint_dim = x.shape[1] + t.shape[1]
    x_noise = noise_std(config.input_noise, x, joint_dim)
    t_noise = noise_std(config.target_noise, t, joint_dim)
    return TrainingData(x, t, val, rows, x_noise, t_noise)


def noise_std(value, data: torch.Tensor, joint_dim: int) -> torch.Tensor | None:
    """Per-column noise standard deviation ``[1, columns]`` on ``data``'s device, or None."""
    if value is None or (not isinstance(value, str) and value == 0.0):
        return None  # no noise: exactly the noiseless path
    if value == RULE_OF_THUMB:
        h = rule_of_thumb_bandwidth(data.shape[0], joint_dim)
        return h * data.std(dim=0, correction=0, keepdim=True)
    return torch.full((1, data.shape[1]), value, dtype=data.dtype, device=data.device)
