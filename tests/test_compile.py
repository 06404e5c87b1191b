"""torch.compile under a pinned CPU capability: what fit(compile=True) relies on.

A user may pin eager kernels to a narrower instruction set than the CPU has
(``ATEN_CPU_CAPABILITY=avx2``, as ``make test`` once did). On an AVX-512 machine, torch 2.13's inductor, left to pick its own vector
width, reused kernels compiled under the other setting from its on-disk cache and summed
the wrong lanes: a loss of 0.053 or 1.035 where eager gave 2.152, or NaN. ``fit`` therefore
names the width (:func:`mdn_src.fast.compile_options`). The test compiles in two fresh
processes sharing one cache, the first unpinned, the second pinned.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mdn_src.fast import compile_options

#: Compiles a log-sum-exp over rows, the loss's reduction (a [3, 40] input, a size where the
#: wrong sums showed), with fit's options, and prints its difference from eager. The scale
#: is a fresh constant per test run: it makes the kernel's code, and so its cache entry, new.
SCRIPT = """
import torch
from mdn_src.fast import compile_options
torch.set_num_threads(1)
def f(x):
    return (x * {scale!r}).exp().sum(0).log().mean()
x = torch.randn(3, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
compiled = torch.compile(f, fullgraph=True, options=compile_options("cpu"))
print(abs(f(x).item() - compiled(x).item()))
"""


def test_options_name_the_vector_width_of_eager_kernels(monkeypatch):
    """The width follows torch's CPU capability (the pinned one when pinned); other
    devices get no options."""
    for capability, expected in (("AVX512", 512), ("AVX2", 256)):
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda c=capability: c)
        assert compile_options("cpu") == {"cpp.simdlen": expected}
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "DEFAULT")
    assert compile_options(torch.device("cpu")) == {}
    assert compile_options("cuda") == {}


def _cpu_has_avx512() -> bool:
    """Whether the CPU itself has AVX-512 (torch reports the pinned capability instead)."""
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return torch.backends.cpu.get_cpu_capability() == "AVX512"


@pytest.mark.skipif(
    not _cpu_has_avx512(), reason="pinning AVX2 changes nothing on a machine without AVX-512"
)
def test_compiled_sum_right_after_the_other_capability_filled_the_cache():
    """First unpinned (as ``make bench`` runs), then pinned (as ``make test`` runs), in one
    cache: without the named width the second run printed 0.778 for 1.437 (0.659 off with
    this script). The cache is inductor's default one, whose probes of the CPU and compiled
    headers are already there (11 s a process, against 23 s in an empty folder); the
    kernel is new to it, so the first process compiles it and the second finds it."""
    script = SCRIPT.format(scale=1 + secrets.randbelow(10**9) * 1e-15)
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    for run_env in (env, dict(env, ATEN_CPU_CAPABILITY="avx2")):
        result = subprocess.run(
            [sys.executable, "-c", script], env=run_env, capture_output=True, text=True,
            timeout=600, check=True,
        )  # fmt: skip
        pin = run_env.get("ATEN_CPU_CAPABILITY")
        assert float(result.stdout.split()[-1]) < 1e-12, (pin, result.stdout)
