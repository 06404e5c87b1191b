"""Benchmark: time to quality on the toy inverse problem, the post's recipe against ours.

Speed per step is only half the story; what a user waits for is a good model. Both recipes
train on the post's 2,500 points of the inverse problem on one thread, and we report the
held-out NLL (20,000 fresh points, beside the Bayes limit) after 15, 30 and 60 s of training
(evaluation time excluded), mean +- sd over seeds. Seconds are CPU seconds of this process
(``time.process_time``): on one thread of a quiet machine they equal wall-clock seconds, and
on a busy one they still count the work each recipe was given, not the machine's load.

* post: its network (one tanh layer of 50, K = 30, three heads, ``exp`` variances) and its
  loss (a Python loop summing pdfs), full-batch Adam at lr 0.008, as it trained.
* mdn_src gaussian: ``MDN(1, 1, 30, hidden=(50, 50))`` trained by ``fit`` with a cosine
  schedule over the budget and input noise 0.01 (noise regularisation).
* mdn_src gennorm: the same with ``K = 10`` generalised-normal components, whose shape can
  approach the uniform noise of the toy problem.
* mdn_src best: the best recipe of the chapter "Against the exact answer" (``gennorm-mb-
  3x50-wd`` in ``precompute_truth.py``): the generalised normals on three tanh layers of
  50, mini-batches of 250 at lr 0.005, weight decay 1e-5, cosine schedule, input noise 0.01.

A cosine schedule needs the run's length in advance, so each budget of the library's
recipes is its own run, its epoch count calibrated from a timed warm-up.

Run: ``.venv/bin/python benchmarks/bench_quality.py [--seeds 3] [--budgets 15 30 60]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from bench_mdn import PostMDN, post_loss

from mdn_src import MDN, MixtureParameters, fit, make_toy_data, mean_nll, mixture_nll, oracle

K, LR_POST = 30, 0.008
#: Each library recipe: ``MDN``'s arguments (besides the 1-D input and target) and
#: ``fit``'s (besides the epochs, sized to the budget, and the seed).
RECIPES = {
    "gaussian": (
        dict(n_components=30, family="gaussian", hidden=(50, 50)),
        dict(lr=0.01, schedule="cosine", input_noise=0.01),
    ),
    "gennorm": (
        dict(n_components=10, family="gennorm", hidden=(50, 50)),
        dict(lr=0.01, schedule="cosine", input_noise=0.01),
    ),
    "best": (
        dict(n_components=10, family="gennorm", hidden=(50, 50, 50)),
        dict(lr=0.005, schedule="cosine", input_noise=0.01, batch_size=250, weight_decay=1e-5),
    ),
}
clock = time.process_time


def post_run(seed: int, budgets, x, t, x_test, t_test) -> list[float]:
    """Train the post's model once, scoring it when the training time passes each budget."""
    torch.manual_seed(seed)
    post = PostMDN()
    opt = torch.optim.Adam(post.params, lr=LR_POST)
    scores, spent, pending = [], 0.0, sorted(budgets)
    while pending:
        start = clock()
        for _ in range(20):
            opt.zero_grad()
            post_loss(*post.forward(x), t).backward()
            opt.step()
        spent += clock() - start
        while pending and spent >= pending[0]:
            with torch.no_grad():
                pi, sigmasq, mu = post.forward(x_test)
                params = MixtureParameters(
                    torch.log_softmax(pi.log(), -1), mu.unsqueeze(-1), sigmasq.sqrt().unsqueeze(-1)
                )
                scores.append(mixture_nll(params, t_test).item())
            pending.pop(0)
    return scores


def library_run(recipe: str, seed: int, seconds: float, x, t, x_test, t_test) -> tuple[float, int]:
    """One fit sized to ``seconds``; returns the held-out NLL and the epochs it ran."""

    config, fit_kwargs = RECIPES[recipe]

    def build():
        torch.manual_seed(seed)
        return MDN(1, 1, **config)

    kwargs = dict(fit_kwargs, seed=seed)
    warm = 50
    start = clock()
    fit(build(), x, t, epochs=warm, **kwargs)
    per_epoch = (clock() - start) / warm
    epochs = max(warm, int(seconds / per_epoch))
    mdn = build()
    fit(mdn, x, t, epochs=epochs, **kwargs)
    return mean_nll(mdn, x_test, t_test), epochs


def summary(values) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):7.3f} +- {sd:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budgets", type=float, nargs="+", default=[15.0, 30.0, 60.0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, t = (torch.from_numpy(a) for a in make_toy_data(2500, seed=0, inverse=True))
    x_test, t_test = (torch.from_numpy(a) for a in make_toy_data(20_000, seed=12345, inverse=True))
    budgets = sorted(args.budgets)
    post = [post_run(s, budgets, x, t, x_test, t_test) for s in range(args.seeds)]
    lib = {
        (r, b): [library_run(r, s, b, x, t, x_test, t_test) for s in range(args.seeds)]
        for r in RECIPES
        for b in budgets
    }
    bayes = oracle.bayes_nll(inverse=True)
    print(
        f"torch {torch.__version__}, 1 thread; held-out NLL (nats) on 20,000 fresh points, "
        f"mean +- sd over {args.seeds} seeds; Bayes limit {bayes:.4f}; CPU seconds"
    )
    header = f"{'budget':>7}   {'post recipe':>16}"
    for r in RECIPES:
        header += f"   {'mdn_src ' + r:>16}   {'epochs':>17}"
    print(header)
    for i, b in enumerate(budgets):
        line = f"{b:6.0f}s   {summary([run[i] for run in post]):>16}"
        for r in RECIPES:
            epochs = ", ".join(str(e) for _, e in lib[r, b])
            line += f"   {summary([s for s, _ in lib[r, b]]):>16}   {epochs:>17}"
        print(line)


if __name__ == "__main__":
    main()
