"""Benchmark: mdn_src against the source post's formulation, as ratios measured in one run.

The post's configuration: 2,500 points, one hidden layer of 50 tanh units, K = 30.

1. One training step (forward + backward of network and loss). The post loops in Python
   over the K components, sums their pdfs, then takes the log; mdn_src uses log-softmax +
   logsumexp. Also the loss alone, from the same raw network outputs, where the two
   formulations differ (the tanh network is the same work on both sides).
2. Drawing 10 samples for each of 2,500 points. The post loops over points, samples and
   components in Python; mdn_src draws everything at once.

Both sides run on the same network weights, interleaved, and we report the ratio of median
times, so a busy machine slows both alike. Run: ``.venv/bin/python benchmarks/bench_mdn.py``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch

from mdn_src import MDN, MixtureParameters, make_toy_data, mixture_nll, sample, test_grid

N, HIDDEN, K = 2500, 50, 30


class PostMDN:
    """The post's network, ported to current PyTorch: raw tensors, three separate heads,
    ``exp`` for the variances, and the same initialisation."""

    def __init__(self, d: int = 1, h: int = HIDDEN, k: int = K, t: int = 1):
        scale = math.sqrt(2 / (d + h))

        def param(*shape, random=True):
            value = torch.randn(*shape) * scale if random else torch.zeros(*shape)
            return value.requires_grad_()

        self.k, self.t = k, t
        self.w1, self.b1 = param(d, h), param(1, h, random=False)
        self.w_pi, self.b_pi = param(h, k), param(1, k, random=False)
        self.w_sigmasq, self.b_sigmasq = param(h, k), param(1, k, random=False)
        self.w_mu, self.b_mu = param(h, k * t), param(1, k * t, random=False)
        self.params = [self.w1, self.b1, self.w_pi, self.b_pi, self.w_sigmasq, self.b_sigmasq,
                       self.w_mu, self.b_mu]  # fmt: skip

    def forward(self, x):
        out = torch.tanh(x.mm(self.w1) + self.b1)  # [N, h]
        pi = torch.softmax(out.mm(self.w_pi) + self.b_pi, dim=1)  # [N, K]
        sigmasq = torch.exp(out.mm(self.w_sigmasq) + self.b_sigmasq)  # [N, K]
        mu = out.mm(self.w_mu) + self.b_mu  # [N, K * T]
        return pi, sigmasq, mu


def post_loss(pi, sigmasq, mu, target):
    """The post's loss: a Python loop over the K components summing pdfs, then the log."""
    k = pi.shape[1]
    t = target.shape[1]
    total = torch.zeros(target.shape[0])
    for i in range(k):
        diff = target - mu[:, i * t : (i + 1) * t]
        pdf = (1 / torch.sqrt(2 * math.pi * sigmasq[:, i])) * torch.exp(
            (-1 / (2 * sigmasq[:, i])) * torch.norm(diff, 2, 1) ** 2
        )
        total = total + pi[:, i] * pdf
    return torch.mean(-torch.log(total))


def post_sample(pi: torch.Tensor, sigma: torch.Tensor, mu: torch.Tensor, samples: int, rng):
    """The post's sampler: Python loops over points, samples and components."""
    n, k = pi.shape
    d = mu.shape[1] // k
    out = torch.zeros(n, samples, d)
    for i in range(n):
        for j in range(samples):
            u = rng.uniform()
            prob_sum = 0
            for c in range(k):
                prob_sum += pi[i, c]
                if u < prob_sum:
                    for dim in range(d):
                        out[i, j, dim] = rng.normal(mu[i, c * d + dim], sigma[i, c])
                    break
    return out


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="timed training steps per side")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the book uses 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mdn = MDN(1, 1, n_components=K, hidden=HIDDEN)
    post = PostMDN()
    x, t = (torch.from_numpy(a) for a in make_toy_data(N, seed=0, inverse=True))

    # The port is faithful: on the post's own mixture, its loss equals mdn_src's.
    with torch.no_grad():
        pi, sigmasq, mu = post.forward(x)
        same = MixtureParameters(pi.log(), mu.view(N, K, 1), sigmasq.sqrt().view(N, K, 1))
        assert abs(post_loss(pi, sigmasq, mu, t).item() - mixture_nll(same, t).item()) < 1e-4

    def lib_step():
        mdn.zero_grad()
        mdn.loss(x, t).backward()

    def post_step():
        for p in post.params:
            p.grad = None
        post_loss(*post.forward(x), t).backward()

    for fn in (lib_step, post_step):  # warm-up
        fn()
    lib_times, post_times = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        lib_times.append(median_time(lib_step, 1))
        post_times.append(median_time(post_step, 1))
    lib_t, post_t = statistics.median(lib_times), statistics.median(post_times)

    # The loss alone, forward + backward from the same raw network outputs: the part where
    # the two formulations differ (the network above is the same work on both sides).
    raw = mdn.head(mdn.trunk(x)).detach().requires_grad_()

    def lib_loss():
        raw.grad = None
        mixture_nll(mdn.output_activations(raw), t).backward()

    def post_loss_only():
        raw.grad = None
        a_pi, a_mu, a_sigma = (part.contiguous() for part in raw.split(mdn._sizes, dim=1))
        sigmasq = (mdn.sigma_min + torch.nn.functional.softplus(a_sigma)) ** 2
        post_loss(torch.softmax(a_pi, dim=1), sigmasq, a_mu, t).backward()

    lib_l, post_l = [], []
    for _ in range(args.repeats):
        lib_l.append(median_time(lib_loss, 1))
        post_l.append(median_time(post_loss_only, 1))
    lib_l, post_l = statistics.median(lib_l), statistics.median(post_l)

    with torch.no_grad():
        params = mdn.mixture_parameters(torch.from_numpy(test_grid(N, inverse=True)))
    generator = torch.Generator().manual_seed(0)
    lib_s = median_time(lambda: sample(params, 10, generator), 20)
    pi, sigma, mu = params.pi, params.sigma[..., 0], params.mu.reshape(N, -1)
    post_s = median_time(lambda: post_sample(pi, sigma, mu, 10, np.random.default_rng(0)), 1)

    print(
        f"torch {torch.__version__}, {args.threads} thread(s); N = {N}, hidden = {HIDDEN}, K = {K}"
    )
    print(
        f"training step (forward + backward): post {post_t * 1e3:.2f} ms, "
        f"mdn_src {lib_t * 1e3:.2f} ms -> {post_t / lib_t:.1f}x faster"
    )
    print(
        f"loss alone (forward + backward):    post {post_l * 1e3:.2f} ms, "
        f"mdn_src {lib_l * 1e3:.2f} ms -> {post_l / lib_l:.1f}x faster"
    )
    print(
        f"10 samples x {N} points: post {post_s:.2f} s, "
        f"mdn_src {lib_s * 1e3:.3f} ms -> {post_s / lib_s:,.0f}x faster"
    )


if __name__ == "__main__":
    main()
