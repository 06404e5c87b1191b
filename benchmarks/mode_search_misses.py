r"""Measure how often the 1-D mode search misses a real mode, or reports one that is not.

Draws many random one-dimensional ``K = 3`` mixtures of several kinds and families, finds
every mode of each by a dense float64 grid written here (independent of the library), and
compares with :func:`~mdn_src.inference.conditional_modes`.

The draw kinds:

* ``uniform``: the unit tests' draws, ``mu ~ 2 N(0, 1)``, ``sigma ~ 0.2 + U(0, 1)``,
  ``pi = softmax(N(0, 1))``;
* ``hard``: widths log-uniform over four decades (``10^U(-2, 2)``), weights log-uniform
  over three and a half (``10^U(-3.5, 0)``, normalised), means in a narrow range
  (``U(-1, 1)``);
* ``bump``: drawn to make a shallow bump between a broad component and a narrow, heavy one:
  a broad component (``sigma = 1``) at 0, a narrow one (``sigma = 10^U(-3, -1)``) with
  weight ``10^U(-2, 0)`` at ``U(0.5, 3)``, a third with the ``hard`` draw.

Families: ``gaussian``, ``laplace``, ``student_t`` (degrees of freedom ``10^U(-0.3, 1.5)``)
and ``gennorm`` (``beta ~ U(1, 8)``).

The reference. Every stationary point of a mixture of symmetric unimodal components lies
between its smallest and largest mean. The closed-form derivative of the log-density
:math:`\ell'` is computed on the union of a uniform grid of that range (2,001 points) and,
around each component, ``mu_k + sigma_k u`` for ``u`` every 0.04 in ``[-12, 12]`` and 100
log-spaced points out to 10^4 widths: finer than the features of the components present
(a responsibility switches from one component to another over a fraction of a width). A maximum is a sign change of :math:`\ell'` from ``+`` to ``-`` between two grid
points (the sign of :math:`\ell'` is exact above float64 rounding, unlike differences of the
density), refined by bisection. A pair of stationary points closer than one grid cell (a
shallow bump) shows as a local minimum of :math:`|\ell'|` on the grid without a sign change;
there a golden-section search finds the minimum of :math:`\pm\ell'` and, when it has the
other sign, bisection locates the maximum and the minimum on either side of it.

What counts. A reference maximum is *real* when its density exceeds that of the higher of
its two neighbouring minima by more than ``--depth`` (1e-6) of its own (relative
prominence), and it lies more than ``merge_tol`` (0.01) local widths from every other
maximum (closer maxima are one mode to the search by definition). Reported modes are
matched to reference maxima by basin: the interval between the two neighbouring minima.
*Missed*: a real maximum whose basin holds no reported mode. *Spurious*: a reported mode
in a basin that already has one, or more than ``1e-3`` local widths from its basin's maximum
(and lower than it by more than float64 rounding). Shallower maxima are counted apart, with
how many of them the search found.

Run: ``.venv/bin/python benchmarks/mode_search_misses.py --n 100000`` (draws per kind and
family; some two minutes per 100,000 Gaussian draws on one core, almost all of it the
reference grid; longer for the other families). ``--impl`` names another
module to take ``conditional_modes`` from (to measure an older copy of the search).
"""

from __future__ import annotations

import argparse
import importlib
import math
import time

import torch

F64 = torch.float64
KINDS = ("uniform", "hard", "bump")
FAMILIES = ("gaussian", "laplace", "student_t", "gennorm")
DEPTH = 1e-6  # the relative prominence of a real mode
MERGE_TOL = 1e-2  # conditional_modes' default merge_tol, in local widths
LOG_POWER_CAP = 30.0  # gennorm: |z|^beta continues linearly in log space above e^30


# --- The draws ---------------------------------------------------------------------------


def draw(kind: str, family: str, n: int, generator: torch.Generator, K: int = 3):
    """``n`` mixtures: weights, means, scales ``[n, K]`` and the shape parameter (or None)."""

    def u(lo, hi, shape=(n, K)):
        return lo + (hi - lo) * torch.rand(shape, generator=generator, dtype=F64)

    if kind == "uniform":
        mu = 2 * torch.randn(n, K, generator=generator, dtype=F64)
        sigma = 0.2 + u(0, 1)
        pi = torch.softmax(torch.randn(n, K, generator=generator, dtype=F64), -1)
    elif kind == "hard":
        mu, sigma, pi = u(-1, 1), 10 ** u(-2, 2), 10 ** u(-3.5, 0)
    elif kind == "bump":
        mu, sigma, pi = u(-1, 1), 10 ** u(-2, 2), 10 ** u(-3.5, 0)
        mu[:, 0], sigma[:, 0], pi[:, 0] = 0.0, 1.0, 1.0
        mu[:, 1], sigma[:, 1], pi[:, 1] = (
            u(0.5, 3, (n,)),
            10 ** u(-3, -1, (n,)),
            10 ** u(-2, 0, (n,)),
        )
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    pi = pi / pi.sum(-1, keepdim=True)
    shape = None
    if family == "student_t":
        shape = 10 ** u(-0.3, 1.5)
    elif family == "gennorm":
        shape = u(1, 8)
    return pi, mu, sigma, shape


# --- The reference: closed-form densities and a dense float64 grid -----------------------


def component_terms(family, x, mu, sigma, shape):
    """Each component's log-density and its derivative at ``x``: ``[..., K]`` each.

    ``x`` ``[n, G, 1]``; ``mu``, ``sigma``, ``shape`` ``[n, 1, K]``.
    """
    z = (x - mu) / sigma
    if family == "gaussian":
        return -0.5 * z * z - sigma.log() - 0.5 * math.log(2 * math.pi), -z / sigma
    if family == "laplace":
        return -z.abs() - (2 * sigma).log(), -torch.sign(z) / sigma
    if family == "student_t":
        nu = shape
        const = torch.lgamma((nu + 1) / 2) - torch.lgamma(nu / 2) - 0.5 * (nu * math.pi).log()
        log_f = const - sigma.log() - (nu + 1) / 2 * torch.log1p(z * z / nu)
        return log_f, -(nu + 1) * z / (nu + z * z) / sigma
    if family == "gennorm":
        beta = shape
        log_z = z.abs().clamp_min(torch.finfo(F64).tiny).log()
        power_log = beta * log_z
        capped = power_log.clamp_max(LOG_POWER_CAP)
        power = torch.where(
            power_log <= LOG_POWER_CAP,
            capped.exp(),
            math.exp(LOG_POWER_CAP) * (1 + power_log - LOG_POWER_CAP),
        )
        d_power = torch.where(  # d|z|^beta / dz
            power_log <= LOG_POWER_CAP, beta * power, math.exp(LOG_POWER_CAP) * beta
        ) / z.abs().clamp_min(torch.finfo(F64).tiny)
        const = beta.log() - math.log(2) - sigma.log() - torch.lgamma(1 / beta)
        return const - power, -d_power * torch.sign(z) / sigma
    raise ValueError(family)


class Reference:
    """The log-density, its derivative and the local width of ``n`` mixtures, in float64."""

    def __init__(self, family, pi, mu, sigma, shape):
        self.family = family
        self.log_pi, self.mu, self.sigma = pi.log()[:, None], mu[:, None], sigma[:, None]
        self.shape = None if shape is None else shape[:, None]

    def rows(self, index):
        sub = Reference.__new__(Reference)
        sub.family = self.family
        sub.log_pi, sub.mu, sub.sigma = self.log_pi[index], self.mu[index], self.sigma[index]
        sub.shape = None if self.shape is None else self.shape[index]
        return sub

    def __call__(self, x):
        """At ``x`` ``[n, G]``: the log-density, its derivative and the local width, ``[n, G]``."""
        log_f, slope = component_terms(self.family, x[..., None], self.mu, self.sigma, self.shape)
        joint = self.log_pi + log_f
        lp = torch.logsumexp(joint, -1)
        gamma = torch.exp(joint - lp[..., None])
        width = (gamma / self.sigma.pow(2)).sum(-1).rsqrt()
        return lp, (gamma * slope).sum(-1), width


def bisect(ref, lo, hi, rising, steps=120):
    """The sign change of the derivative in ``[lo, hi]`` (``[A]``, one mixture each, ``ref``
    holding those mixtures): ``+`` to ``-`` where ``rising``, ``-`` to ``+`` elsewhere."""
    sign = torch.where(rising, 1.0, -1.0).to(F64)
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        _, d, _ = ref(mid[:, None])
        before = sign * d[:, 0] > 0
        lo, hi = torch.where(before, mid, lo), torch.where(before, hi, mid)
    return 0.5 * (lo + hi)


def golden_min(ref, lo, hi, sign, steps=100):
    """A minimum of ``sign * l'`` on ``[lo, hi]`` (``[A]`` each) by golden section: its
    place and value."""
    r = (math.sqrt(5) - 1) / 2
    f = lambda x: sign * ref(x[:, None])[1][:, 0]  # noqa: E731
    a, b = lo.clone(), hi.clone()
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(steps):
        left = fc < fd  # a minimum lies in [a, d]
        b, a = torch.where(left, d, b), torch.where(left, a, c)
        new = torch.where(left, b - r * (b - a), a + r * (b - a))
        f_new = f(new)
        c, d = torch.where(left, new, d), torch.where(left, c, new)
        fc, fd = torch.where(left, f_new, fd), torch.where(left, fc, f_new)
    best = fc < fd
    return torch.where(best, c, d), torch.where(best, fc, fd)


def offsets(dtype=F64):
    """Where the grid samples each component, in its widths: every 0.04 in [-12, 12], and
    100 log-spaced points on each side out to 10^4 (heavy tails)."""
    near = torch.linspace(-12, 12, 601, dtype=dtype)
    far = torch.logspace(math.log10(12), 4, 100, dtype=dtype)
    return torch.cat([near, far, -far])


def stationary_points(ref: Reference, mu, sigma, uniform: int = 2001):
    """Every stationary point of ``n`` mixtures where the derivative changes sign.

    Returns the mixture, place and "is a maximum" of each, ``[S]`` each, and how many
    were found only by the golden-section look at a local minimum of ``|l'|``.
    """
    n = mu.shape[0]
    eps = 1e-9 * sigma.min(-1).values
    lo, hi = mu.min(-1).values - eps, mu.max(-1).values + eps
    grid = [lo[:, None] + (hi - lo)[:, None] * torch.linspace(0, 1, uniform, dtype=F64)]
    grid.append((mu[..., None] + sigma[..., None] * offsets()).flatten(1))
    x = torch.minimum(torch.maximum(torch.cat(grid, 1), lo[:, None]), hi[:, None])
    x = x.sort(-1).values
    _, d, _ = ref(x)
    rows = torch.arange(n)[:, None].expand_as(x)
    # Sign changes between neighbouring grid points.
    down = (d[:, :-1] > 0) & (d[:, 1:] <= 0)  # a maximum
    up = (d[:, :-1] < 0) & (d[:, 1:] >= 0)  # a minimum
    found_n, found_lo, found_hi, found_max = [], [], [], []
    for mask, is_max in ((down, True), (up, False)):
        found_n.append(rows[:, :-1][mask])
        found_lo.append(x[:, :-1][mask])
        found_hi.append(x[:, 1:][mask])
        found_max.append(torch.full((int(mask.sum()),), is_max))
    # A local minimum of |l'| with no sign change around it: two more stationary points
    # may hide between its neighbours.
    a, m, b = d[:, :-2], d[:, 1:-1], d[:, 2:]
    same = ((a > 0) & (m > 0) & (b > 0)) | ((a < 0) & (m < 0) & (b < 0))
    valley = same & (m.abs() <= a.abs()) & (m.abs() <= b.abs())
    valley &= (x[:, 1:-1] > x[:, :-2]) & (x[:, 2:] > x[:, 1:-1])
    hidden = 0
    if bool(valley.any()):
        v_n = rows[:, 1:-1][valley]
        v_lo, v_hi = x[:, :-2][valley], x[:, 2:][valley]
        sign = torch.sign(m[valley])
        at, value = golden_min(ref.rows(v_n), v_lo, v_hi, sign)
        flip = value < 0
        hidden = int(flip.sum())
        v_n, v_lo, v_hi, at, sign = v_n[flip], v_lo[flip], v_hi[flip], at[flip], sign[flip]
        # sign > 0: + then - (a maximum), - then + (a minimum); sign < 0 the other way.
        found_n += [v_n, v_n]
        found_lo += [v_lo, at]
        found_hi += [at, v_hi]
        found_max += [sign > 0, sign < 0]
    n_s, lo_s, hi_s = torch.cat(found_n), torch.cat(found_lo), torch.cat(found_hi)
    is_max = torch.cat(found_max)
    where = bisect(ref.rows(n_s), lo_s, hi_s, is_max)
    return n_s, where, is_max, hidden


def padded(n_rows, owner, values, fill):
    """Values ``[A]`` of rows ``owner`` (sorted by row) scattered into ``[n_rows, C]``."""
    per_row = torch.bincount(owner, minlength=n_rows)
    C = max(int(per_row.max()) if owner.numel() else 0, 1)
    col = torch.arange(owner.numel()) - (torch.cumsum(per_row, 0) - per_row)[owner]
    out = torch.full((n_rows, C), fill, dtype=values.dtype)
    out[owner, col] = values
    return out


def compare(ref: Reference, n_s, x_s, max_s, lib_x, lib_ok):
    """Counts of the reference's maxima (real and shallow), and of the reported modes that
    miss or do not match them, for one chunk. ``lib_x``, ``lib_ok`` ``[n, C]``."""
    n = lib_x.shape[0]
    order = torch.argsort(x_s)
    order = order[torch.argsort(n_s[order], stable=True)]  # by row, then place
    n_s, x_s, max_s = n_s[order], x_s[order], max_s[order]
    X = padded(n, n_s, x_s, math.inf)  # [n, S]
    IS_MAX = padded(n, n_s, max_s, False)
    valid = torch.isfinite(X)
    lp, _, width = ref(torch.where(valid, X, 0.0))
    lp = torch.where(valid, lp, math.nan)
    # Depth: against the higher of the two neighbouring minima (none: the density falls
    # away to that side for good).
    pad = torch.full((n, 1), math.nan, dtype=F64)
    left_min = torch.cat([pad, torch.where(~IS_MAX & valid, lp, math.nan)[:, :-1]], 1)
    right_min = torch.cat([torch.where(~IS_MAX & valid, lp, math.nan)[:, 1:], pad], 1)
    neighbour = torch.fmax(left_min, right_min)  # NaN only where neither exists
    depth = -torch.expm1(neighbour - lp)
    depth = torch.where(torch.isnan(neighbour), 1.0, depth)
    # Separation from the nearest other maximum, in local widths (as the merge counts it).
    maxima = IS_MAX & valid
    xm = torch.where(maxima, X, math.nan)
    dist = (xm[:, :, None] - xm[:, None, :]).abs()  # [n, S, S]
    w_pair = torch.minimum(width[:, :, None], width[:, None, :])
    close = (dist <= MERGE_TOL * w_pair) & ~torch.eye(X.shape[1], dtype=torch.bool)
    gap_ok = ~close.any(-1)
    real = maxima & (depth > DEPTH) & gap_ok
    shallow = maxima & ~real
    # Basins: a maximum's basin id is the number of minima to its left; so is a mode's.
    minima = torch.where(~IS_MAX & valid, X, math.nan)
    basin_ref = (minima[:, None, :] < X[:, :, None]).sum(-1)  # [n, S]
    lx = torch.where(lib_ok, lib_x, math.nan)
    basin_lib = (minima[:, None, :] < lx[:, :, None]).sum(-1)  # [n, C]
    same = (basin_ref[:, :, None] == basin_lib[:, None, :]) & lib_ok[:, None, :]  # [n, S, C]
    same &= maxima[:, :, None]
    reported = same.any(-1)  # [n, S]
    # A reported mode: its basin's maximum, the first of several there, and how far.
    in_basin = same.any(1)  # [n, C]
    first = torch.cumsum(same.int(), -1) == 1
    extra = (same & ~first).any(1)  # [n, C]: a second mode in one basin
    j = same.int().argmax(1)  # [n, C]: the reference maximum of the mode's basin
    x_ref = X.gather(1, j)
    w_ref, lp_ref = width.gather(1, j), lp.gather(1, j)
    lp_lib, _, _ = ref(torch.where(lib_ok, lib_x, 0.0))
    far = (lx - x_ref).abs() > 1e-3 * w_ref
    lower = lp_lib < lp_ref - 1e-12 * (1 + lp_ref.abs())
    misplaced = lib_ok & in_basin & far & lower
    unexplained = lib_ok & ~in_basin
    return {
        "real": int(real.sum()),
        "missed": int((real & ~reported).sum()),
        "missed_rows": (real & ~reported).any(-1).nonzero().squeeze(-1),
        "shallow": int(shallow.sum()),
        "shallow_found": int((shallow & reported).sum()),
        "spurious": int((extra | misplaced).sum()),
        "spurious_rows": (extra | misplaced).any(-1).nonzero().squeeze(-1),
        "unexplained": int(unexplained.sum()),
        "reported": int(lib_ok.sum()),
    }


def measure(search, kind, family, n, seed, chunk):
    """Draw ``n`` mixtures and compare; returns the summed counts and the missed draws."""
    generator = torch.Generator().manual_seed(seed)
    pi, mu, sigma, shape = draw(kind, family, n, generator)
    from mdn_src.mixture import MixtureParameters

    params = MixtureParameters(pi.log(), mu[..., None], sigma[..., None], family, None, shape)
    start = time.perf_counter()
    modes = search(params)
    seconds = time.perf_counter() - start
    total, examples = {}, []
    hidden = 0
    for s in range(0, n, chunk):
        rows = slice(s, min(s + chunk, n))
        ref = Reference(
            family, pi[rows], mu[rows], sigma[rows], None if shape is None else shape[rows]
        )
        n_s, x_s, max_s, h = stationary_points(ref, mu[rows], sigma[rows])
        hidden += h
        counts = compare(ref, n_s, x_s, max_s, modes.location[rows, :, 0], modes.distinct[rows])
        for r in counts.pop("missed_rows").tolist():
            examples.append(("missed", s + r))
        for r in counts.pop("spurious_rows").tolist():
            examples.append(("spurious", s + r))
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    total["hidden"], total["seconds"] = hidden, seconds
    return total, examples, (pi, mu, sigma, shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="draws per kind and family")
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chunk", type=int, default=100, help="mixtures per grid batch")
    parser.add_argument(
        "--impl", default="mdn_src.inference.modes", help="module to take conditional_modes from"
    )
    parser.add_argument("--show", type=int, default=3, help="print this many missed draws")
    args = parser.parse_args()
    torch.set_num_threads(1)
    search = importlib.import_module(args.impl).conditional_modes
    print(
        f"{'family':10} {'kind':8} {'draws':>8} {'real':>8} {'missed':>7} {'miss rate':>10} "
        f"{'spurious':>8} {'shallow':>8} {'found':>6} {'search s':>8}"
    )
    for family in args.families:
        for kind in args.kinds:
            t, examples, (pi, mu, sigma, shape) = measure(
                search, kind, family, args.n, args.seed, args.chunk
            )
            missed_draws = len({r for what, r in examples if what == "missed"})
            print(
                f"{family:10} {kind:8} {args.n:8d} {t['real']:8d} {t['missed']:7d} "
                f"{missed_draws / args.n:10.2e} {t['spurious']:8d} {t['shallow']:8d} "
                f"{t['shallow_found']:6d} {t['seconds']:8.1f}"
                + (f"  (unexplained {t['unexplained']})" if t["unexplained"] else "")
            )
            for what, r in examples[: args.show]:
                sh = "" if shape is None else f" shape={shape[r].tolist()}"
                print(
                    f"    {what}: pi={pi[r].tolist()} mu={mu[r].tolist()} "
                    f"sigma={sigma[r].tolist()}{sh}"
                )


if __name__ == "__main__":
    main()
