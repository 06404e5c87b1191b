"""The recommended recipe: a model and its training that a user gets without tuning.

``MDNRegressor.recommended()`` is the way in: it standardises the data and trains
``RECOMMENDED_MODEL`` with :func:`~mdn_src.training.recommended_config`. The low-level pair is
``MDN(in_features, out_features, **RECOMMENDED_MODEL)`` and ``fit(model, x, t,
recommended_config())``, for data already standardised (each column mean 0, standard
deviation 1): the learning rate, the noise and the scale floor are in those units.

How it was chosen (``benchmarks/bench_quality.py``, its ``--ablation`` table and the README):
on the toy inverse problem, 2,500 points, one thread, it is the recipe of the chapter
"Against the exact answer" moved to standardised units, and each of its choices is measured
there as a paired difference over seeds against the recipe without it:

* generalised-normal components (``family="gennorm"``), K = 10, three tanh layers of 50:
  the shape parameter lets a component take the flat top of the toy problem's uniform
  noise, which Gaussians approximate only with many components;
* mini-batches of 250 (a tenth of the data) at lr 0.005, a cosine schedule to 0, weight
  decay 1e-5, and Gaussian noise of standard deviation 0.03 on the standardised inputs.
"""

from __future__ import annotations

from types import MappingProxyType

from .config import TrainConfig

__all__ = ["RECOMMENDED_EPOCHS", "RECOMMENDED_MODEL", "recommended_config"]

#: ``MDN``'s settings in the recipe, besides ``in_features`` and ``out_features``.
RECOMMENDED_MODEL = MappingProxyType(
    {"n_components": 10, "hidden": (50, 50, 50), "family": "gennorm"}
)
#: The default length: about 30 CPU-seconds of one thread for 2,500 points (README).
RECOMMENDED_EPOCHS = 2000
_TRAINING = {
    "lr": 0.005,
    "batch_size": 250,
    "weight_decay": 1e-5,
    "schedule": "cosine",
    "input_noise": 0.03,
}


def recommended_config(**changes) -> TrainConfig:
    """The recommended :class:`TrainConfig`, with ``changes`` (``epochs=``, ``seed=``...).

    Its settings are for standardised data; ``MDNRegressor.recommended()`` standardises.

    Example:
        >>> recommended_config(epochs=500).batch_size
        250
    """
    return TrainConfig(**({"epochs": RECOMMENDED_EPOCHS} | _TRAINING | changes))
