"""Train, once, the models of the chapter "Against the exact answer" that it cannot afford.

The chapter (``book/11_against_the_truth.py``) measures how far MDNs trained on the toy
inverse problem (predict x from t) stay from the exact answer. Some of its experiments cost
more than it can afford: 24 models of 15 to 60 seconds each, among them the 60-second
models of its last section. This script trains them with fixed seeds and saves them with
:func:`mdn_src.io.save` into ``book/models/`` (``truth-<recipe>-seed<seed>.pt``, a few tens
of kB each); the chapter loads them and computes every number it reports (held-out NLL on
20,000 fresh points, gaps to the Bayes limit, mean +- sd over seeds) itself.

Every recipe trains ``MDN(**config)`` built right after ``torch.manual_seed(seed)``, with
Adam through :func:`mdn_src.fit` (``seed=seed``; ``post-fresh``: the same steps
in a plain loop), on one thread, on ``make_toy_data(n_train, seed=0)`` (model input t,
target x):

* ``post``: the original post's recipe (one tanh layer of 50, K = 30 Gaussians, lr 0.008,
  3,000 epochs), as in chapter "Training the MDN".
* ``post-fresh``: the same recipe, but every epoch draws 2,500 fresh points from the toy
  problem instead of reusing the same 2,500 (estimation: the same compute, the same batch
  size and the same number of steps, but 7.5 million distinct points and no overfitting).
* ``wide``: two tanh layers of 50, K = 30 Gaussians, lr 0.01, cosine schedule, input noise
  0.01 (noise regularisation), 12,000 epochs: about 60 s of one thread's CPU time.
* ``gennorm``: the same, but K = 10 generalised-normal components (their exponent beta can
  grow towards a box), 7,000 epochs: about 60 s of one thread's CPU time.
* ``wide-mb`` and ``gennorm-mb``: the same networks trained on mini-batches of 250 points
  (ten steps per epoch) at lr 0.005, for 3,600 and 2,300 epochs: again about 60 s each.
* ``gennorm-mb125``: ``gennorm-mb`` on mini-batches of 125 (1,600 epochs); and
  ``gennorm-mb-lr01``: ``gennorm-mb`` at lr 0.01 (2,500 epochs); ``gennorm-mb-nonoise``:
  ``gennorm-mb`` without input noise (2,400 epochs): about 60 s each.
* ``gennorm-mb-rot``: ``gennorm-mb`` with noise at the rule of thumb of Rothfuss et al.
  on both input and target instead of input noise 0.01.
* ``gennorm-mb-wd``: ``gennorm-mb`` with weight decay 1e-5 (L2, through Adam); and
  ``gennorm-mb-3x50`` and ``gennorm-mb-3x50-wd``: three tanh layers of 50, without and
  with that weight decay, 2,300 epochs: again about 60 s each.

Epoch counts, not wall-clock budgets, define the recipes, so the files do not depend on how
busy the machine was; the script prints each model's training time (CPU time of its one
thread, which a busy machine inflates less than the wall-clock time) beside its held-out NLL.

Run: ``.venv/bin/python benchmarks/precompute_truth.py [--only post gennorm] [--seeds 0 1]``
(about 33 minutes of CPU time in all; recipes and seeds can be run in
separate processes).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mdn_src import MDN, fit, io, make_toy_data, mean_nll, oracle

#: Where the chapter finds the models.
MODELS = Path(__file__).resolve().parent.parent / "book" / "models"
#: Seed of the training data (the post's 2,500 points are ``make_toy_data(2500, seed=0)``).
DATA_SEED = 0
#: Seed of the 20,000 fresh points the script scores models on (the chapter's too).
TEST_SEED = 1
N_TEST = 20_000
#: First entropy word of the fresh-data generator (``[FRESH_STREAM, seed]``).
FRESH_STREAM = 1000


@dataclass(frozen=True)
class Recipe:
    """How one kind of model is built and trained.

    Attributes:
        config: ``MDN``'s constructor arguments.
        n_train: number of training points, ``make_toy_data(n_train, seed=DATA_SEED)``.
        fit_kwargs: ``fit``'s keyword arguments (``epochs``, ``lr``, ...), ``seed`` aside.
        seeds: the seeds this script trains.
        fresh: draw ``n_train`` fresh points every epoch (from a generator seeded from the
            seed) instead of training on one fixed set.
    """

    config: dict
    n_train: int
    fit_kwargs: dict
    seeds: tuple[int, ...] = field(default=(0, 1, 2))
    fresh: bool = False


POST = dict(in_features=1, out_features=1, n_components=30, hidden=50)
WIDE = dict(in_features=1, out_features=1, n_components=30, hidden=(50, 50))
GENNORM = dict(in_features=1, out_features=1, n_components=10, hidden=(50, 50), family="gennorm")
GENNORM_DEEP = dict(GENNORM, hidden=(50, 50, 50))
#: ``fit``'s arguments of the recipe ``gennorm-mb``, which the later recipes vary.
GENNORM_MB = dict(epochs=2300, lr=0.005, schedule="cosine", input_noise=0.01, batch_size=250)

RECIPES: dict[str, Recipe] = {
    "post": Recipe(POST, 2500, dict(epochs=3000, lr=0.008)),
    "post-fresh": Recipe(POST, 2500, dict(epochs=3000, lr=0.008), fresh=True),
    # 60 s of one thread: 5 ms (wide) and 8.3 ms (gennorm) of CPU time per epoch, measured.
    "wide": Recipe(WIDE, 2500, dict(epochs=12_000, lr=0.01, schedule="cosine", input_noise=0.01)),
    "gennorm": Recipe(
        GENNORM, 2500, dict(epochs=7000, lr=0.01, schedule="cosine", input_noise=0.01)
    ),
    # Mini-batches of 250: 16 ms (wide) and 26 ms (gennorm) of CPU time per epoch, measured.
    "wide-mb": Recipe(
        WIDE,
        2500,
        dict(epochs=3600, lr=0.005, schedule="cosine", input_noise=0.01, batch_size=250),
    ),
    "gennorm-mb": Recipe(GENNORM, 2500, GENNORM_MB),
    "gennorm-mb125": Recipe(
        GENNORM,
        2500,
        dict(epochs=1600, lr=0.005, schedule="cosine", input_noise=0.01, batch_size=125),
    ),
    "gennorm-mb-lr01": Recipe(
        GENNORM,
        2500,
        dict(epochs=2500, lr=0.01, schedule="cosine", input_noise=0.01, batch_size=250),
    ),
    "gennorm-mb-nonoise": Recipe(
        GENNORM, 2500, dict(epochs=2400, lr=0.005, schedule="cosine", batch_size=250)
    ),
    # The same epochs on other networks and with weight decay (L2, 1e-5): a third hidden
    # layer of 50 costs about a fifth more per epoch, about 55 s in all (measured).
    "gennorm-mb-wd": Recipe(GENNORM, 2500, dict(GENNORM_MB, weight_decay=1e-5)),
    # Noise at the rule of thumb of Rothfuss et al. on both t and x (sd 0.052 and 0.079).
    "gennorm-mb-rot": Recipe(
        GENNORM,
        2500,
        dict(GENNORM_MB, input_noise="rule_of_thumb", target_noise="rule_of_thumb"),
    ),
    "gennorm-mb-3x50": Recipe(GENNORM_DEEP, 2500, GENNORM_MB),
    "gennorm-mb-3x50-wd": Recipe(GENNORM_DEEP, 2500, dict(GENNORM_MB, weight_decay=1e-5)),
}


def model_path(name: str, seed: int, folder: Path = MODELS) -> Path:
    """The file of recipe ``name``'s model for ``seed``."""
    return Path(folder) / f"truth-{name}-seed{seed}.pt"


def build(name: str, seed: int) -> MDN:
    """Recipe ``name``'s untrained model, its weights drawn after ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    return MDN(**RECIPES[name].config)


def train(name: str, seed: int, epochs: int | None = None) -> tuple[MDN, float]:
    """Train recipe ``name`` for ``seed`` (``epochs`` overrides the recipe's, for tests).

    Returns:
        The trained model and the seconds of CPU time its training took.
    """
    recipe = RECIPES[name]
    x, t = make_toy_data(recipe.n_train, seed=DATA_SEED)
    kwargs = dict(recipe.fit_kwargs)
    if epochs is not None:
        kwargs["epochs"] = epochs
    mdn = build(name, seed)
    start = time.process_time()
    if recipe.fresh:
        _fit_fresh(mdn, recipe.n_train, seed, **kwargs)
    else:
        fit(mdn, t, x, seed=seed, **kwargs)
    return mdn, time.process_time() - start


def _fit_fresh(mdn: MDN, n: int, seed: int, *, epochs: int, lr: float) -> None:
    """``fit``'s full-batch Adam loop, on ``n`` fresh points every epoch."""
    rng = np.random.default_rng([FRESH_STREAM, seed])
    opt = torch.optim.Adam(mdn.parameters(), lr=lr)
    for _ in range(epochs):
        x, t = (torch.from_numpy(a) for a in make_toy_data(n, seed=rng))
        opt.zero_grad()
        mdn.loss(t, x).backward()
        opt.step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--seeds", type=int, nargs="+", help="default: each recipe's own")
    args = parser.parse_args()
    torch.set_num_threads(1)
    MODELS.mkdir(parents=True, exist_ok=True)
    x_test, t_test = make_toy_data(N_TEST, seed=TEST_SEED)
    bayes = oracle.bayes_nll(inverse=True)
    print(f"torch {torch.__version__}, 1 thread; Bayes limit {bayes:.4f} nats", flush=True)
    for name in args.only:
        for seed in args.seeds if args.seeds is not None else RECIPES[name].seeds:
            mdn, seconds = train(name, seed)
            io.save(mdn, model_path(name, seed))
            score = mean_nll(mdn, t_test, x_test)
            print(
                f"{name:<10} seed {seed}: held-out NLL {score:.4f} (gap {score - bayes:.4f}), "
                f"trained in {seconds:.0f} s of CPU time",
                flush=True,
            )


if __name__ == "__main__":
    main()
