"""Benchmark: mdn_src against the source post's formulation, as ratios measured in one run.

The post's configuration: 2,500 points, one hidden layer of 50 tanh units, K = 30.

1. One training step: forward, backward and the Adam update, at each thread count. The
   post loops in Python over the K components, sums their pdfs, then takes the log, and
   lets autograd differentiate all of it; mdn_src evaluates the head K-major, computes
   the NLL's gradient in closed form (``mdn_src.fast.gaussian_head_nll``) and the
   network's by hand, with no autograd graph (``mdn_src.fast.closed_form_gradients``,
   the same bits as autograd), then takes torch's fused Adam step as ``fit`` does (the
   kernel called directly, without the optimizer object);
   compiled, as ``fit(compile=True)`` trains, the whole step is one function: forward,
   backward by hand from the closed-form head gradient, and Adam
   (``mdn_src.fast``; its one-off compile time is printed).
2. The loss alone, forward + backward from the same raw network outputs, where the two
   formulations differ (the tanh network is the same work on both sides).
3. Drawing 10 samples for each of 2,500 points. The post loops over points, samples and
   components in Python; mdn_src draws everything at once (three rounds, each one call of
   the post's sampler and 20 of mdn_src's).

Both sides start from the same seed, run interleaved, and we report the ratio of median
times, so a busy machine slows both alike. Run: ``.venv/bin/python benchmarks/bench_mdn.py``
(``make bench`` runs it with torch's fastest CPU kernels, unpinned).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
import torch

from mdn_src import MDN, MixtureParameters, make_toy_data, mixture_nll, sample, test_grid
from mdn_src.fast import (
    FusedAdam,  # fit's Adam, private to it
    closed_form_gradients,
    fused_adam_step,
    gaussian_head_nll,
)

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


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds of each function, called in turn so all see the same machine load."""
    for fn in fns.values():  # warm-up
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def training_steps(x, t, compiled: bool):
    """One full training step on each side: forward, backward and the Adam update."""
    torch.manual_seed(0)
    mdn = MDN(1, 1, n_components=K, hidden=HIDDEN)
    post = PostMDN()
    # As fit steps at a constant learning rate: torch's fused Adam kernel, called directly.
    lib_opt = FusedAdam(list(mdn.parameters()), lr=0.008, weight_decay=0.0)
    post_opt = torch.optim.Adam(post.params, lr=0.008)  # as the post trains

    def post_step():
        post_opt.zero_grad()
        post_loss(*post.forward(x), t).backward()
        post_opt.step()

    grads = closed_form_gradients(mdn)  # as fit's eager loop: the gradient, no autograd

    def lib_step():
        grads(x, t)
        lib_opt.step()

    steps = {"post": post_step, "mdn_src": lib_step}
    compile_s = None
    if compiled:
        start = time.perf_counter()
        # As fit(compile=True) trains a Gaussian MDN at a constant learning rate: one
        # compiled function per step (forward, closed-form backward, Adam), vector width named.
        torch.manual_seed(0)
        twin = MDN(1, 1, n_components=K, hidden=HIDDEN)
        fused = fused_adam_step(twin, 0.008)
        fused(x, t)
        compile_s = time.perf_counter() - start
        steps["mdn_src compiled"] = lambda: fused(x, t)
    return steps, mdn, compile_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100, help="timed steps per side")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-compile", action="store_true", help="skip the compiled step")
    parser.add_argument("--sampling-rounds", type=int, default=3, help="post sampler calls")
    args = parser.parse_args()
    x, t = (torch.from_numpy(a) for a in make_toy_data(N, seed=0, inverse=True))

    # The port is faithful: on the post's own mixture, its loss equals mdn_src's.
    torch.manual_seed(0)
    post = PostMDN()
    with torch.no_grad():
        pi, sigmasq, mu = post.forward(x)
        same = MixtureParameters(pi.log(), mu.view(N, K, 1), sigmasq.sqrt().view(N, K, 1))
        assert abs(post_loss(pi, sigmasq, mu, t).item() - mixture_nll(same, t).item()) < 1e-4

    print(f"torch {torch.__version__}; N = {N}, hidden = {HIDDEN}, K = {K}; medians")
    first = None
    for threads in args.threads:
        torch.set_num_threads(threads)
        # Built, and compiled, under the thread count they run with, as fit would be:
        # inductor's loops are generated for the threads there are when it compiles.
        steps, mdn, compile_s = training_steps(x, t, compiled=not args.no_compile)
        if first is None:
            first = mdn
            if compile_s is not None:
                print(f"torch.compile of the fused training step: {compile_s:.1f} s (cold)")
        med = interleaved(steps, args.repeats)
        line = (
            f"{threads} thread(s), training step (forward + backward + Adam): "
            f"post {med['post'] * 1e3:.2f} ms, mdn_src {med['mdn_src'] * 1e3:.2f} ms "
            f"-> {med['post'] / med['mdn_src']:.1f}x"
        )
        if "mdn_src compiled" in med:
            c = med["mdn_src compiled"]
            line += f"; compiled {c * 1e3:.2f} ms -> {med['post'] / c:.1f}x"
        print(line)

    torch.set_num_threads(args.threads[0])
    mdn = first
    # The loss alone, forward + backward from the same raw network outputs: the part where
    # the two formulations differ (the network before it is the same work on both sides).
    h = mdn.trunk(x).detach()
    raw_t = torch.addmm(mdn.head.bias.unsqueeze(1), mdn.head.weight, h.T).detach()
    raw_t.requires_grad_()
    raw = raw_t.detach().T.contiguous().requires_grad_()
    t_t = t.T.contiguous()

    def lib_loss():
        raw_t.grad = None
        gaussian_head_nll(raw_t, t_t, K, True, mdn.sigma_min).backward()

    def post_loss_only():
        raw.grad = None
        a_pi, a_mu, a_sigma = (part.contiguous() for part in raw.split(mdn.head_sizes, dim=1))
        sigmasq = (mdn.sigma_min + torch.nn.functional.softplus(a_sigma)) ** 2
        post_loss(torch.softmax(a_pi, dim=1), sigmasq, a_mu, t).backward()

    med = interleaved({"post": post_loss_only, "lib": lib_loss}, args.repeats)
    print(
        f"{args.threads[0]} thread(s), loss alone (forward + backward): "
        f"post {med['post'] * 1e3:.2f} ms, mdn_src {med['lib'] * 1e3:.2f} ms "
        f"-> {med['post'] / med['lib']:.1f}x"
    )

    with torch.no_grad():
        params = mdn.mixture_parameters(torch.from_numpy(test_grid(N, inverse=True)))
    generator = torch.Generator().manual_seed(0)
    pi, sigma, mu = params.pi, params.sigma[..., 0], params.mu.reshape(N, -1)
    # Interleaved in rounds: one call of the post's sampler (seconds), then the median of
    # 20 calls of mdn_src's (milliseconds), so a change in the machine's load between the
    # two sides shows in one round's pair, not in the ratio of medians over the rounds.
    post_times, lib_times = [], []
    for _ in range(args.sampling_rounds):
        post_times.append(
            median_time(lambda: post_sample(pi, sigma, mu, 10, np.random.default_rng(0)), 1)
        )
        lib_times.append(median_time(lambda: sample(params, 10, generator), 20))
    post_s, lib_s = statistics.median(post_times), statistics.median(lib_times)
    print(
        f"{args.threads[0]} thread(s), 10 samples x {N} points: post {post_s:.2f} s, "
        f"mdn_src {lib_s * 1e3:.3f} ms -> {post_s / lib_s:,.0f}x"
    )


if __name__ == "__main__":
    main()
