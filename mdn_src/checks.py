"""Argument checks shared by the public functions: clear errors, never silent broadcasts."""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = ["as_matrix", "positive_float", "positive_int", "real_array", "same_length"]


def as_matrix(value, name: str, features: int | None = None) -> torch.Tensor:
    """Return ``value`` as a finite floating ``[N, features]`` tensor, or raise.

    Floating NumPy arrays become tensors of the same dtype (no precision is lost here; a
    model converts its inputs to its own dtype); tensors keep their dtype and device.
    Integer and complex data raise ``TypeError``.
    """
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.floating):
            raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
        value = torch.from_numpy(np.array(value, copy=True))
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray, got {type(value).__name__}"
        )
    if not value.is_floating_point():
        raise TypeError(f"{name} must have a floating dtype, got {value.dtype}")
    if value.dim() != 2:
        raise ValueError(
            f"{name} must be 2-D with shape [N, features], got {value.dim()}-D shape "
            f"{tuple(value.shape)}"
        )
    if features is not None and value.shape[1] != features:
        raise ValueError(f"{name} must have {features} columns, got shape {tuple(value.shape)}")
    if value.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one row, got shape {tuple(value.shape)}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or inf")
    return value


def same_length(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of rows, got {a.shape[0]} and "
            f"{b.shape[0]}"
        )


def positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def positive_float(value, name: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


def real_array(value, name: str) -> np.ndarray:
    """``value`` as a finite float64 NumPy array (any real dtype in), or raise.

    The estimator's check of ``X`` and ``y``: the messages contain the phrases
    scikit-learn's own estimator checks look for.
    """
    if hasattr(value, "toarray") and hasattr(value, "nnz"):
        raise TypeError(
            f"{name} is a sparse matrix; MDNRegressor needs dense data: pass {name}.toarray()"
        )
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}")
    if array.dtype.kind == "O":  # e.g. numbers in an object array: convert if possible
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must hold real numbers: {exc}") from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    if array.ndim >= 1 and array.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one row, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf")
    return array
