"""Benchmark: time to quality on the toy inverse problem, the library against its peers.

What a user waits for is a good model, not a fast step. Every recipe trains on the post's
2,500 points of the inverse problem with one thread, for a budget of CPU seconds
(``time.process_time``: on one thread of a quiet machine they equal wall-clock seconds, and
on a busy one they still count the work each recipe was given), and is scored by its
held-out NLL on the same 20,000 fresh points, beside the Bayes limit.

Recipes (``--recipes``; a peer whose library is not installed is skipped, and said so):

* ``recommended``: the library's recommended recipe, ``MDNRegressor.recommended()``
  (:mod:`mdn_src.training.recipe`): standardisation, the generalised-normal MDN and its
  training, everything a user gets without tuning.
* ``post``: the source post's network and loss (a Python loop summing pdfs), full-batch
  Adam at lr 0.008, as it trained.
* ``mdn_src_gaussian``: ``MDN(1, 1, 30, hidden=(50, 50))`` trained by ``fit``, full-batch
  Adam at lr 0.01 with a cosine schedule and input noise 0.01.
* ``zuko_gmm``: zuko's ``GMM`` (K = 30, diagonal, MLP 64 x 64 ReLU), full-batch Adam at
  lr 0.005 with a cosine schedule and input noise 0.01.
* ``zuko_nsf``: zuko's neural spline flow (``NSF``: three element-wise spline transforms,
  8 bins, MLPs 64 x 64 conditioned on the input) on standardised data, the same training.
* ``sbi_mdn``: sbi's MDN density estimator (``build_mdn``: 10 Gaussians, 50 hidden units,
  inputs and targets z-scored inside), the same training.

The peers get the training the issue that asked for them measured (full-batch Adam, cosine
to 0 over the budget, noise 0.01 on the input), one process and one thread, the same data.

A cosine schedule needs the run's length in advance, so each (recipe, budget, seed) is its
own run: a timed warm-up of the same recipe (not counted) sizes its epochs or steps to the
budget, and the CPU seconds the run then took are printed beside its score.

``--ablation`` trains, instead, the recommended recipe and variants that change one thing,
and prints each variant's paired difference to it over the same seeds: what each choice of
the recipe buys.

Run: ``.venv/bin/python benchmarks/bench_quality.py --budgets 30 60 --seeds 5 --json out.json``
(``pip install -e .[bench]`` installs the peers).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from bench_mdn import PostMDN, post_loss

from mdn_src import (
    MDN,
    MDNRegressor,
    MixtureParameters,
    fit,
    make_toy_data,
    mean_nll,
    mixture_nll,
    oracle,
)

clock = time.process_time
N_TRAIN, N_TEST = 2500, 20_000
PEER_LR, NOISE = 0.005, 0.01
#: The variables of the float environments (``.ci/float-env``): a run records them.
FLOAT_ENV = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES")


@dataclasses.dataclass
class Run:
    """One trained recipe: its held-out NLL, the steps or epochs it ran and their CPU time."""

    nll: float
    steps: int
    seconds: float
    unit: str = "steps"  # "epochs" for the library's recipes (an epoch is 10 mini-batches)


class Stepper:
    """A model trained a number of full-batch steps (a peer, the post, a plain MDN)."""

    def __init__(self, build: Callable[[], torch.nn.Module], nll, lr: float, noise: float):
        self.build, self.nll, self.lr, self.noise = build, nll, lr, noise

    def train(self, steps: int, x, t, seed: int, cosine: bool = True):
        model = self.build()
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.Adam(params, lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) if cosine else None
        gen = torch.Generator().manual_seed(seed)
        for _ in range(steps):
            xb = x + self.noise * torch.randn(x.shape, generator=gen) if self.noise else x
            loss = self.nll(model, xb, t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
        return model


def timed_steps(stepper: Stepper, seconds: float, x, t, seed: int, cosine=True) -> Run:
    """Size the run to ``seconds`` from a warm-up of the same model, then train and score."""
    warm = 30
    start = clock()
    stepper.train(warm, x, t, seed, cosine)
    steps = max(warm, int(seconds / ((clock() - start) / warm)))
    start = clock()
    model = stepper.train(steps, x, t, seed, cosine)
    used = clock() - start
    model.eval()
    with torch.no_grad():
        return Run(float(stepper.nll(model, X_TEST, T_TEST)), steps, used)


# --- the library -------------------------------------------------------------------------


def recommended(seed: int, seconds: float, x, t, **changes) -> Run:
    """``MDNRegressor.recommended()``, its epochs sized to ``seconds`` by a warm-up fit."""
    warm = 50
    start = clock()
    MDNRegressor.recommended(epochs=warm, seed=seed, **changes).fit(x.numpy(), t.numpy())
    per_epoch = (clock() - start) / warm
    epochs = max(warm, int(seconds / per_epoch))
    start = clock()
    reg = MDNRegressor.recommended(epochs=epochs, seed=seed, **changes).fit(x.numpy(), t.numpy())
    used = clock() - start
    return Run(-reg.score(X_TEST.numpy(), T_TEST.numpy()), epochs, used, "epochs")


def mdn_src_gaussian(seed: int, seconds: float, x, t) -> Run:
    def build():
        torch.manual_seed(seed)
        return MDN(1, 1, 30, hidden=(50, 50))

    recipe = dict(lr=0.01, schedule="cosine", input_noise=NOISE, seed=seed)
    warm = 50
    start = clock()
    fit(build(), x, t, epochs=warm, **recipe)
    epochs = max(warm, int(seconds / ((clock() - start) / warm)))
    start = clock()
    model = build()
    fit(model, x, t, epochs=epochs, **recipe)
    used = clock() - start
    return Run(mean_nll(model, X_TEST, T_TEST), epochs, used, "epochs")


def post(seed: int, seconds: float, x, t) -> Run:
    """The post's model and loss, at its own constant learning rate."""

    def build():
        torch.manual_seed(seed)
        return PostModule()

    def nll(model, xb, tb):
        if model.training:
            return post_loss(*model.post.forward(xb), tb)
        pi, sigmasq, mu = model.post.forward(xb)
        params = MixtureParameters(
            torch.log_softmax(pi.log(), -1), mu.unsqueeze(-1), sigmasq.sqrt().unsqueeze(-1)
        )
        return mixture_nll(params, tb)

    return timed_steps(Stepper(build, nll, 0.008, 0.0), seconds, x, t, seed, cosine=False)


class PostModule(torch.nn.Module):
    """The post's parameters (plain tensors) as a module, so one loop trains every recipe."""

    def __init__(self):
        super().__init__()
        self.post = PostMDN()
        names = _post_names(self.post)
        for i, p in enumerate(self.post.params):
            self.register_parameter(f"p{i}", torch.nn.Parameter(p.detach()))
        self.post.params = list(self.parameters())
        for name, value in zip(names, self.post.params, strict=True):
            setattr(self.post, name, value)


def _post_names(post: PostMDN) -> list[str]:
    """The attribute names of the post's parameters, in ``post.params``'s order."""
    by_id = {id(v): k for k, v in vars(post).items() if isinstance(v, torch.Tensor)}
    return [by_id[id(p)] for p in post.params]


# --- the peers -----------------------------------------------------------------------------


def zuko_gmm(seed: int, seconds: float, x, t) -> Run:
    import zuko

    def build():
        torch.manual_seed(seed)
        return zuko.flows.GMM(
            1, 1, components=30, covariance_type="diagonal", hidden_features=(64, 64)
        )

    def nll(model, xb, tb):
        return -model(xb).log_prob(tb).mean()

    return timed_steps(Stepper(build, nll, PEER_LR, NOISE), seconds, x, t, seed)


def zuko_nsf(seed: int, seconds: float, x, t) -> Run:
    """The flow sees standardised data (its splines live on [-5, 5]); scored in t's units."""
    import zuko

    x_mean, x_sd, t_mean, t_sd = x.mean(), x.std(), t.mean(), t.std()

    def build():
        torch.manual_seed(seed)
        return zuko.flows.NSF(1, 1, hidden_features=(64, 64))

    def nll(model, xb, tb):
        z = model((xb - x_mean) / x_sd).log_prob((tb - t_mean) / t_sd)
        return -z.mean() + torch.log(t_sd)

    return timed_steps(Stepper(build, nll, PEER_LR, NOISE), seconds, x, t, seed)


def sbi_mdn(seed: int, seconds: float, x, t) -> Run:
    from sbi.neural_nets.net_builders import build_mdn

    def build():
        torch.manual_seed(seed)
        return build_mdn(t, x)  # a density of t (sbi's "input") given x (its "condition")

    def nll(model, xb, tb):
        return model.loss(tb, xb).mean()

    return timed_steps(Stepper(build, nll, PEER_LR, NOISE), seconds, x, t, seed)


RECIPES = {
    "recommended": (recommended, None),
    "post": (post, None),
    "mdn_src_gaussian": (mdn_src_gaussian, None),
    "zuko_gmm": (zuko_gmm, "zuko"),
    "zuko_nsf": (zuko_nsf, "zuko"),
    "sbi_mdn": (sbi_mdn, "sbi"),
}
PEERS = ("zuko_gmm", "zuko_nsf", "sbi_mdn")

#: ``--ablation``: the recommended recipe with one thing changed, as MDNRegressor settings.
ABLATION = {
    "unstandardised (ch. 11's recipe)": dict(standardize=False, input_noise=0.01),
    "K = 30 Gaussians, 2 x 50": dict(n_components=30, family="gaussian", hidden=(50, 50)),
    "full batch, lr 0.01": dict(batch_size=None, lr=0.01),
    "no weight decay": dict(weight_decay=0.0),
    "no input noise": dict(input_noise=None),
    "input noise 0.1": dict(input_noise=0.1),
    "constant learning rate": dict(schedule=None),
}


# --- reporting -----------------------------------------------------------------------------


def mean_sd(values) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):7.3f} +- {sd:.3f}"


def paired(a, b) -> str:
    """``a - b`` per seed: mean, its standard error's 95% interval (t), and the worst seed."""
    d = np.asarray(a) - np.asarray(b)
    if len(d) < 2:
        return f"{d.mean():+.3f}"
    from scipy import stats

    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return (
        f"{d.mean():+.3f} [{d.mean() - half:+.3f}, {d.mean() + half:+.3f}], "
        f"worst seed {d.max():+.3f}, ahead in {int((d < 0).sum())}/{len(d)}"
    )


def _task(task) -> Run:
    name, budget, seed = task
    torch.set_num_threads(1)
    RUNNERS[name](0, 1.0, *DATA)  # the process's first fit pays for imports: not a recipe's
    return RUNNERS[name](seed, budget, *DATA)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budgets", type=float, nargs="+", default=[15.0, 30.0, 60.0])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--ablation", action="store_true", help="variants of the recommended")
    parser.add_argument(
        "--variants", nargs="+", choices=list(ABLATION), default=list(ABLATION),
        help="with --ablation: which variants (default: all)",
    )  # fmt: skip
    parser.add_argument("--jobs", type=int, default=1, help="processes (one thread each)")
    parser.add_argument("--json", metavar="PATH", help="write {recipe: {budget: [NLL]}}")
    parser.add_argument(
        "--summarize", metavar="PATH", help="print a saved run's tables, no training"
    )
    args = parser.parse_args()
    if args.summarize:
        summarize(json.loads(Path(args.summarize).read_text()))
        return
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="sbi")
    global X_TEST, T_TEST
    x, t = (torch.from_numpy(a) for a in make_toy_data(N_TRAIN, seed=0, inverse=True))
    X_TEST, T_TEST = (torch.from_numpy(a) for a in make_toy_data(N_TEST, seed=12345, inverse=True))
    budgets, seeds = sorted(args.budgets), range(args.seeds)
    if args.ablation:
        runners = {"recommended": recommended} | {
            name: (lambda s, b, x, t, c=changes: recommended(s, b, x, t, **c))
            for name, changes in ABLATION.items()
            if name in args.variants
        }
    else:
        runners = {}
        for name in args.recipes:
            fn, module = RECIPES[name]
            if module is not None and importlib.util.find_spec(module) is None:
                print(f"skipped {name}: {module} is not installed (pip install -e .[bench])")
                continue
            runners[name] = fn
    print(
        f"torch {torch.__version__}, 1 thread, {args.seeds} seeds; held-out NLL (nats) on "
        f"{N_TEST:,} fresh points; Bayes limit {oracle.bayes_nll(inverse=True):.4f}; CPU seconds"
    )
    global RUNNERS, DATA
    RUNNERS, DATA = runners, (x, t)
    tasks = [(name, budget, seed) for name in runners for budget in budgets for seed in seeds]
    results: dict[str, dict[float, list[Run]]] = {}
    # Each task is a process of one thread (forked: it inherits the data and the runners).
    with multiprocessing.get_context("fork").Pool(args.jobs, maxtasksperchild=1) as pool:
        for (name, budget, seed), run in zip(tasks, pool.imap(_task, tasks), strict=True):
            results.setdefault(name, {}).setdefault(budget, []).append(run)
            print(
                f"{name:>32}  {budget:5g} s  seed {seed}  NLL {run.nll:8.4f}  "
                f"{run.steps:6d} {run.unit:<6}  {run.seconds:5.1f} s",
                flush=True,
            )
    payload = {
        name: {f"{b:g}": [r.nll for r in runs] for b, runs in by_budget.items()}
        for name, by_budget in results.items()
    }
    summarize(payload)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=1)
        meta = Path(args.json).with_suffix(".meta.json")
        meta.write_text(json.dumps(run_facts(args.seeds, budgets), indent=1) + "\n")
        print(f"\nwrote {args.json} and {meta}", file=sys.stderr)


def summarize(results: dict[str, dict[str, list[float]]]) -> None:
    """Print a run's table (as ``--json`` writes it): per recipe and budget, the mean, sd
    and every seed; then the recommended recipe's paired difference to each other one."""
    print(f"\n{'recipe':>32}  budget   mean +- sd over seeds   per seed")
    for name, by_budget in results.items():
        for budget, nll in by_budget.items():
            seeds = " ".join(f"{v:.3f}" for v in nll)
            print(f"{name:>32}  {budget:>4} s   {mean_sd(nll):>20}   {seeds}")
    if "recommended" in results:
        print("\npaired difference, recommended minus each other recipe, per seed (< 0: ahead):")
        print(f"{'':>32}  {'':>6}   mean [95% interval of the mean], worst seed, seeds ahead")
        base = results["recommended"]
        for name, by_budget in results.items():
            if name == "recommended":
                continue
            for budget, nll in by_budget.items():
                print(f"{name:>32}  {budget:>4} s   {paired(base[budget], nll)}")


def run_facts(seeds: int, budgets) -> dict:
    """Where and when a run was made: what a quote of it needs beside the numbers."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or platform.machine(),
    ) if Path("/proc/cpuinfo").exists() else platform.processor() or platform.machine()  # fmt: skip
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "float_environment": {k: os.environ.get(k) for k in FLOAT_ENV},
        "seeds": seeds,
        "budgets_cpu_seconds": list(budgets),
    }


if __name__ == "__main__":
    main()
