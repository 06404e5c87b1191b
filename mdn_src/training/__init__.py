"""Training: the recipe (:class:`TrainConfig`), the loop (:func:`fit`), what it records
(:class:`History`), the cache of trained models (:func:`fit_cached`) and the recommended
recipe (:func:`recommended_config`)."""

from .cache import cache_dir, cached_file_name, fit_cached, load_cached
from .config import TrainConfig, rule_of_thumb_bandwidth
from .history import History
from .loop import fit
from .recipe import RECOMMENDED_EPOCHS, RECOMMENDED_MODEL, recommended_config

__all__ = [
    "RECOMMENDED_EPOCHS",
    "RECOMMENDED_MODEL",
    "History",
    "TrainConfig",
    "cache_dir",
    "cached_file_name",
    "fit",
    "fit_cached",
    "load_cached",
    "recommended_config",
    "rule_of_thumb_bandwidth",
]
