"""Train the models the book ships in ``book/models/cache/``, where ``fit_cached`` finds them.

Chapter "Training the MDN" trains the network of the original post from five seeds
(3,000 full-batch epochs, about 11 s each on one thread) and PRML's small network from the
same seeds; chapters "Sampling and prediction" and "Closing" use the post's models of seeds
0-2, and chapter "Implementing the MDN" ships its library runs (1,000 epochs, and early
stopping). The chapters pass
``shipped="models/cache"`` to :func:`mdn_src.fit_cached`, which looks there, by the key of
what decides the result (model and initial weights, data, ``fit``'s arguments, the
library's training source, torch version), before it trains. The key leaves out the CPU
code path and the thread count, so every reader loads the same models, whatever floats
their machine computes; a reader whose torch or library source differs trains, with a
warning that says why.

The files are therefore only of use while the key stays the same: after any change to the
library's training code (``train.py``, ``model.py``, ``loss.py`` and what they import) or to
torch, run ``make models`` (this script). It trains each declared call into the folder and
deletes every file no call produced. ``tests/test_shipped_models.py`` fails while a file is
missing or stale, and retrains one model to check that a fresh training on the test's
machine meets the same claims as the shipped one.

Run: ``make models`` (about 2 minutes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from mdn_src import MDN, fit_cached, make_toy_data
from mdn_src.training.cache import cached_file_name

#: The folder the chapters pass as ``shipped`` (relative to ``book/``: ``models/cache``).
SHIPPED = Path(__file__).resolve().parent.parent / "book" / "models" / "cache"


@dataclass(frozen=True)
class Call:
    """One chapter's call ``fit_cached(MDN(**config), t, x, name=name, **fit_kwargs)``, the
    model built right after ``torch.manual_seed(seed)``, on the post's 2,500 training points
    (``make_toy_data(2500, seed=0)``; model input t, target x)."""

    name: str
    seed: int
    config: dict
    fit_kwargs: dict

    def model(self) -> MDN:
        torch.manual_seed(self.seed)
        return MDN(**self.config)

    def data(self) -> tuple[torch.Tensor, torch.Tensor]:
        x, t = make_toy_data(2500, seed=0)
        return t, x

    def file_name(self) -> str:
        return cached_file_name(self.model(), *self.data(), name=self.name, **self.fit_kwargs)


POST = dict(in_features=1, out_features=1, n_components=30, hidden=50)
#: PRML's own setting (Fig. 5.21): 5 tanh units, K = 3.
PRML = dict(in_features=1, out_features=1, n_components=3, hidden=5)
POST_FIT = dict(epochs=3000, lr=0.008)
CALLS = [
    # Chapter 7's models of the post's network, seeds 0-2 (chapters 8 and 9 make the same
    # calls), and seeds 3 and 4 for its comparison with PRML's setting.
    *(Call(f"ch7-mdn-seed{seed}", seed, POST, POST_FIT) for seed in range(5)),
    *(Call(f"ch7-prml-seed{seed}", seed, PRML, POST_FIT) for seed in range(5)),
    # Chapter 6: the library's side of the from-scratch comparison (1,000 epochs, cosine), and the
    # same recipe stopped early on a validation split.
    *(
        Call(f"ch6-mdn-seed{seed}", seed, POST, dict(epochs=1000, lr=0.008, schedule="cosine"))
        for seed in range(3)
    ),
    *(
        Call(
            f"ch6-early-seed{seed}",
            seed,
            POST,
            dict(POST_FIT, validation_fraction=0.2, patience=100),
        )  # fmt: skip
        for seed in range(3)
    ),
]


def main() -> None:
    torch.set_num_threads(1)
    SHIPPED.mkdir(parents=True, exist_ok=True)
    for call in CALLS:
        start = time.perf_counter()
        history = fit_cached(call.model(), *call.data(), name=call.name, cache=SHIPPED,
                             **call.fit_kwargs)  # fmt: skip
        print(f"{call.name}: final training NLL {history[-1]:.4f} "
              f"({time.perf_counter() - start:.1f} s)", flush=True)  # fmt: skip
    keep = {call.file_name() for call in CALLS}
    for path in sorted(SHIPPED.iterdir()):
        if path.name not in keep:  # stale keys, and fit_cached's lock files
            path.unlink()
            print(f"removed {path.name}")


if __name__ == "__main__":
    main()
