"""Benchmark: the component families on the toy inverse problem, same network and budget.

Each family trains the same network (two tanh layers of 50, K = 10 components) on the post's
2,500 points of the inverse problem, full-batch Adam (lr 0.01) with a cosine schedule and
input noise 0.01, for the same number of epochs on one thread. An epoch budget, not a
wall-clock one, so the scores do not depend on how busy the machine is; the seconds each
run took are printed beside them (the Gaussian trains through the closed-form gradient,
the others through autograd). The score is the held-out NLL on 20,000 fresh points,
beside the Bayes limit; mean +- sd over seeds.

Run: ``.venv/bin/python benchmarks/bench_families.py [--epochs 3000] [--seeds 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mdn_src import MDN, fit, make_toy_data, mean_nll, oracle

HIDDEN, K, LR, INPUT_NOISE = (50, 50), 10, 0.01, 0.01


def train(component: str, epochs: int, seed: int, x, t) -> tuple[MDN, float]:
    """One model; returns it and the seconds its training took."""
    torch.manual_seed(seed)
    mdn = MDN(1, 1, K, hidden=HIDDEN, family=component)
    start = time.perf_counter()
    fit(mdn, x, t, epochs=epochs, lr=LR, seed=seed, schedule="cosine", input_noise=INPUT_NOISE)
    return mdn, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3000, help="budget per model")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--families", nargs="+", default=["gaussian", "laplace", "student_t", "gennorm"]
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    train_data = make_toy_data(2500, seed=0, inverse=True)  # (t, x): predict x from t
    test_data = make_toy_data(20_000, seed=12345, inverse=True)
    bayes = oracle.bayes_nll(inverse=True)
    print(
        f"torch {torch.__version__}, 1 thread; inverse problem, 2,500 training points, "
        f"hidden {HIDDEN}, K = {K}, cosine schedule, input noise {INPUT_NOISE}, "
        f"{args.epochs} epochs per model, {args.seeds} seeds"
    )
    print(f"held-out NLL on 20,000 fresh points (Bayes limit {bayes:.4f} nats)")
    print(f"{'family':<10} {'mean':>8} {'sd':>7} {'gap':>7}   per seed (seconds)")
    for family in args.families:
        scores, runs = [], []
        for seed in range(args.seeds):
            mdn, seconds = train(family, args.epochs, seed, *train_data)
            scores.append(mean_nll(mdn, *test_data))
            runs.append(f"{scores[-1]:.3f} ({seconds:.0f} s)")
        mean, sd = statistics.mean(scores), statistics.stdev(scores) if len(scores) > 1 else 0.0
        print(f"{family:<10} {mean:8.3f} {sd:7.3f} {mean - bayes:7.3f}   " + ", ".join(runs))


if __name__ == "__main__":
    main()
