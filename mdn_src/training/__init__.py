"""Training: the recipe (:class:`TrainConfig`), the loop (:func:`fit`), what it records
(:class:`History`) and the cache of trained models (:func:`fit_cached`)."""

from .cache import cache_dir, cached_file_name, fit_cached, load_cached
from .config import TrainConfig, rule_of_thumb_bandwidth
from .history import History
from .loop import fit

__all__ = [
    "History",
    "TrainConfig",
    "cache_dir",
    "cached_file_name",
    "fit",
    "fit_cached",
    "load_cached",
    "rule_of_thumb_bandwidth",
]
