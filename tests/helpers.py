"""Helpers shared by the tests."""

import importlib.util
import sys
from pathlib import Path

import torch

from mdn_src import MixtureParameters


def random_params(N, K, D, generator=None, dtype=torch.float64, spread=2.0):
    """Arbitrary mixture parameters of the given sizes (leaf tensors)."""
    g = generator or torch.Generator().manual_seed(0)
    logits = torch.randn(N, K, generator=g, dtype=dtype)
    mu = spread * torch.randn(N, K, D, generator=g, dtype=dtype)
    sigma = 0.2 + torch.rand(N, K, D, generator=g, dtype=dtype)
    return MixtureParameters(torch.log_softmax(logits, -1), mu, sigma)


ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str):
    """Import ``benchmarks/<name>.py`` as module ``name`` (registered in ``sys.modules``,
    where dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
