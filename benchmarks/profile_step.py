"""Where one training step's time goes: a profile of mdn_src's step, by share.

The post's configuration (2,500 points, one tanh layer of 50, K = 30 Gaussians), one
thread, eager (as ``fit`` trains: the gradient set without autograd, then fused Adam) and
compiled (as ``fit(compile=True)`` trains: one compiled function per step; both in
``mdn_src.fast``). The model is first trained for 300 steps, so the profile is of a
trained mixture, as most of a training run is. Every operation's own time
(``torch.profiler``'s self CPU time) is charged to the first enclosing part it belongs to:

* the loss: the K-major mixture NLL with its closed-form gradient
  (``mdn_src.fast.gaussian_head_nll``; compiled: the graphs' elementwise kernels);
* matrix products: ``mm``/``addmm`` of both layers, forward and backward, with the bias
  copies inside them;
* tanh and its derivative;
* Adam: the fused update, with its bookkeeping;
* the rest: allocation, Python, and (compiled) the graph's guards and wrappers.

Run: ``.venv/bin/python benchmarks/profile_step.py`` (``make profile`` runs it unpinned).
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import torch
from torch.profiler import ProfilerActivity, profile, record_function

import mdn_src.fast.step as fused_step
from mdn_src import MDN, make_toy_data
from mdn_src.fast import (
    FusedAdam,  # fit's Adam, private to it
    closed_form_gradients,
    fused_adam_step,
)

LOSS = "loss and its closed-form gradient"
PARTS = {
    LOSS: LOSS,
    "aten::_fused_adam_": "Adam",  # fit calls torch's fused kernel directly
    "aten::_foreach_add_": "Adam",  # its step counts
    "aten::mm": "matrix products",
    "aten::addmm": "matrix products",
    "aten::tanh": "tanh and its derivative",
    "aten::tanh_backward": "tanh and its derivative",
}


def part_of(event, compiled: bool) -> str:
    """The part an operation's time is charged to: its own or its nearest ancestor's."""
    node = event
    while node is not None:
        if node.name in PARTS:
            return PARTS[node.name]
        if compiled and node.name.startswith("## Call CompiledFxGraph"):
            # Inside a compiled graph: products are still aten calls (charged above);
            # what is left is inductor's fused elementwise code (loss, tanh, gradient, update).
            return "compiled elementwise kernels (loss, tanh, Adam update)"
        node = node.cpu_parent
    return "the rest (allocation, Python)"


def _labelled(fn):
    """``fn`` inside a profiler range named LOSS, so that its operations are charged to it."""

    def wrapper(*args, **kwargs):
        with record_function(LOSS):
            return fn(*args, **kwargs)

    return wrapper


def profile_steps(compiled: bool, steps: int) -> tuple[dict, float]:
    x, t = (torch.from_numpy(a).float() for a in make_toy_data(2500, seed=0, inverse=True))
    torch.manual_seed(0)
    mdn = MDN(1, 1, n_components=30, hidden=50)
    # As fit trains: eagerly, the gradient set by hand and fused Adam; compiled, one function
    # per step.
    if compiled:
        fused = fused_adam_step(mdn, 0.008)

        def step():
            fused(x, t)

    else:
        opt = FusedAdam(list(mdn.parameters()), lr=0.008, weight_decay=0.0)
        grads = closed_form_gradients(mdn)

        def step():
            grads(x, t)
            opt.step()

    for _ in range(300):
        step()
    # The eager step calls the loss through this name (compiled, it is inside the graph).
    original = fused_step.gaussian_head_nll_and_gradient
    if not compiled:
        fused_step.gaussian_head_nll_and_gradient = _labelled(original)
    try:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                step()
    finally:
        fused_step.gaussian_head_nll_and_gradient = original
    shares: dict[str, float] = defaultdict(float)
    for event in prof.events():
        shares[part_of(event, compiled)] += event.self_cpu_time_total
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}, total / steps / 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; N = 2500, hidden = 50, K = 30")
    for compiled in (False, True):
        shares, ms = profile_steps(compiled, args.steps)
        name = "compiled" if compiled else "eager"
        print(f"{name} step, {ms:.2f} ms under the profiler:")
        for part, share in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"  {share:6.1%}  {part}")


if __name__ == "__main__":
    main()
