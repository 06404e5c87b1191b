"""Benchmark: the component families on the toy inverse problem, same network and budget.

Each family trains the same network (two tanh layers of 50, K = 10 components) on the post's
2,500 points of the inverse problem, full-batch Adam with a cosine schedule and input noise
0.01, for the same wall-clock budget on one thread (the epoch count is calibrated per run
from a short timed warm-up, so a slower family gets fewer epochs). The score is the held-out
NLL on 20,000 fresh points, beside the Bayes limit; mean +- sd over seeds.

Run: ``.venv/bin/python benchmarks/bench_families.py [--seconds 60] [--seeds 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mdn_src import MDN, fit, make_toy_data, mean_nll, oracle

HIDDEN, K, LR, INPUT_NOISE = (50, 50), 10, 0.01, 0.01


def train_for(component: str, seconds: float, seed: int, x, t) -> tuple[MDN, int]:
    """Train one model for about ``seconds`` of wall-clock time; returns it and its epochs."""

    def build():
        torch.manual_seed(seed)
        return MDN(1, 1, K, hidden=HIDDEN, component=component)

    warm_epochs = 30
    start = time.perf_counter()
    fit(build(), x, t, epochs=warm_epochs, lr=LR, seed=seed, input_noise=INPUT_NOISE)
    per_epoch = (time.perf_counter() - start) / warm_epochs
    epochs = max(warm_epochs, int(seconds / per_epoch))
    mdn = build()
    fit(mdn, x, t, epochs=epochs, lr=LR, seed=seed, schedule="cosine", input_noise=INPUT_NOISE)
    return mdn, epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="budget per model")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--families", nargs="+", default=["gaussian", "laplace", "student_t", "gennorm"]
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = make_toy_data(2500, seed=0, inverse=True)  # (t, x): predict x from t
    test = make_toy_data(20_000, seed=12345, inverse=True)
    bayes = oracle.bayes_nll(inverse=True)
    print(
        f"torch {torch.__version__}, 1 thread; inverse problem, 2,500 training points, "
        f"hidden {HIDDEN}, K = {K}, cosine schedule, input noise {INPUT_NOISE}, "
        f"{args.seconds:g} s per model, {args.seeds} seeds"
    )
    print(f"held-out NLL on 20,000 fresh points (Bayes limit {bayes:.4f} nats)")
    print(f"{'family':<10} {'mean':>8} {'sd':>7} {'gap':>7}   per seed (epochs)")
    for family in args.families:
        scores, runs = [], []
        for seed in range(args.seeds):
            mdn, epochs = train_for(family, args.seconds, seed, *train)
            scores.append(mean_nll(mdn, *test))
            runs.append(f"{scores[-1]:.3f} ({epochs})")
        mean, sd = statistics.mean(scores), statistics.stdev(scores) if len(scores) > 1 else 0.0
        print(f"{family:<10} {mean:8.3f} {sd:7.3f} {mean - bayes:7.3f}   " + ", ".join(runs))


if __name__ == "__main__":
    main()
