"""Report a result over seeds and check the claim the prose makes of it, in one call.

Training is chaotic: another CPU, BLAS kernel or thread count changes the last bit of a
float, and a trained network then ends at another optimum. A number that training produced
is therefore not something to compare digit for digit across machines. What *is* portable
is a claim about its distribution: "the ratio is at least 10 in every seed", "at most 2 of
10 runs collapse", "the median is within 0.05 nats of the limit". :func:`report` does the
three jobs a chapter needs for such a number at once:

1. it summarises the values (mean ± sd with ``ddof=1``, median, the worst value);
2. it glues the summary for the prose (myst-nb's ``glue``, when myst-nb is installed);
3. it checks the claim and raises :class:`ClaimFailed` when the values break it.

:func:`check` states a claim that is not a band on one set of values (an ordering, say).

Example:
    >>> import numpy as np
    >>> ratio = np.array([14.2, 11.8, 17.5])
    >>> str(report("ratio", ratio, at_least=10, digits=1, glue=False))
    '14.5 ± 2.9'
    >>> report("ratio", ratio, at_least=15, glue=False)
    Traceback (most recent call last):
    ...
    mdn_src.claims.ClaimFailed: ratio: every value must be >= 15, but the worst is 11.8 (values 14.2, 11.8, 17.5)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["ClaimFailed", "Summary", "check", "paired", "report", "seeds_needed", "summarize"]

STATISTICS = ("each", "mean", "median", "count", "interval")


class ClaimFailed(AssertionError):
    """A checked claim does not hold for the values computed on this machine."""


@dataclass(frozen=True, repr=False)
class Summary:
    """What :func:`report` computed of one set of per-seed values.

    Attributes:
        name: the name the values were glued under.
        values: the values, float64, one per seed (or run), in the order given.
        mean: their mean.
        sd: their standard deviation with ``ddof=1`` (NaN for a single value).
        median: their median.
        worst: the value nearest the failing side of the claim's bound (the smallest for
            ``at_least``, the largest for ``at_most``; the largest when there is no bound).
        text: ``"mean ± sd"`` at the requested digits (``"x (one run)"`` for one value).
    """

    name: str
    values: np.ndarray
    mean: float
    sd: float
    median: float
    worst: float
    text: str

    @property
    def n(self) -> int:
        return int(self.values.size)

    @property
    def se(self) -> float:
        """The standard error of the mean, ``sd / sqrt(n)`` (NaN for one value): the sd
        describes one run; the se, how far the mean of another ``n`` seeds would land."""
        return self.sd / float(np.sqrt(self.n)) if self.n > 1 else float("nan")

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The Student-t interval of the mean at confidence ``level``, ``mean ± t_{n-1} * se``,
        for independent, roughly normal values (seeds); ``repr`` shows the 95% one.

        Raises:
            ValueError: ``level`` is not in (0, 1), or there is a single value.
        """
        if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
            raise ValueError(f"level must be a number in (0, 1), got {level!r}")
        if self.n < 2:
            raise ValueError(f"{self.name}: an interval of the mean needs 2 values at least")
        from scipy import stats

        half = float(stats.t.ppf(0.5 + level / 2, self.n - 1)) * self.se
        return self.mean - half, self.mean + half

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:  # what a notebook shows when a cell ends in report(...)
        if self.n == 1 or not np.isfinite(self.sd):
            return f"{self.name}: {self.text}" + ("" if self.n == 1 else f" (n = {self.n})")
        low, high = self.interval()
        return f"{self.name}: {self.text} (n = {self.n}; 95% interval [{low:.4g}, {high:.4g}])"


def _as_values(values, name: str, allow_nonfinite: bool) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise TypeError(f"values for {name!r} must be numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"values for {name!r} must be real, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(
            f"values for {name!r} must be 1-D (one value per seed), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"values for {name!r} must hold at least one value")
    array = array.astype(np.float64)
    if not allow_nonfinite and not np.isfinite(array).all():
        raise ValueError(
            f"values for {name!r} contain NaN or inf ({_listing(array)}); pass "
            "allow_nonfinite=True and check of='median' or 'count' if runs may diverge"
        )
    return array


def _bound(value, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number or None, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def _listing(values: np.ndarray) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


def _glue(key: str, value, enabled: bool) -> None:
    if not enabled:
        return
    try:
        from myst_nb import glue
    except ImportError:  # outside the book (a script, Colab): nothing to glue into
        return
    glue(key, value, display=False)


def report(
    name: str,
    values,
    *,
    at_least: float | None = None,
    at_most: float | None = None,
    of: str = "each",
    digits: int = 3,
    percent: bool = False,
    allow_nonfinite: bool = False,
    glue: bool = True,
) -> Summary:
    """Summarise per-seed values, glue the summary, and check a band on them.

    Glued (when ``glue`` and myst-nb is installed): ``name`` (the text ``"mean ± sd"``),
    and the numbers ``name_mean``, ``name_sd``, ``name_median``, ``name_min``,
    ``name_max``, ``name_worst``, ``name_n`` (and ``name_count`` for ``of="count"``),
    so the prose can quote ``{glue:text}`name_mean:.2f```. With two values or more, also
    ``name_se`` (the standard error of the mean), ``name_ci_low`` and ``name_ci_high`` (its
    95% Student-t interval) and ``name_ci``, the text ``"[low, high]"``. For "at least"
    and "at most" sentences, ``name_floor`` and ``name_ceil`` are the texts of the smallest value rounded
    down and the largest rounded up at ``digits`` (rounding to nearest could overstate a
    bound: 11.46 would read "at least 11.5").

    Arguments:
        name: the glue key, and the claim's name in an error message.
        values: one number per seed or run (a 1-D array, list or tensor); booleans for
            ``of="count"``.
        at_least: the claim's lower bound (inclusive), or None.
        at_most: the claim's upper bound (inclusive), or None.
        of: which statistic the bounds apply to: ``"each"`` (every value: the strongest
            claim, "in every seed"), ``"mean"``, ``"median"`` (robust where a few runs
            blow up), ``"count"`` (how many values are true, or non-zero), or
            ``"interval"`` (the whole 95% interval of the mean, :meth:`Summary.interval`:
            ``at_most=0`` on paired differences of a loss reads "better on average, beyond
            the seeds' noise"; it needs two values at least).
        digits: decimals in the glued text.
        percent: format the text as percentages (values times 100, with a ``%`` sign);
            the glued numbers stay as they are.
        allow_nonfinite: accept NaN and inf among the values (a diverged run). They fail
            an ``"each"`` claim; use ``of="median"`` or ``"count"`` for such values.
        glue: glue the summary for the prose.

    Returns:
        The :class:`Summary`.

    Raises:
        ClaimFailed: the statistic lies outside ``[at_least, at_most]``.
        ValueError: values are empty, not 1-D, or not finite (unless allowed); a bound is
            not finite, or ``at_least > at_most``; ``of`` is unknown.
        TypeError: values are not real numbers; a bound is not a real number.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if of not in STATISTICS:
        raise ValueError(f"of must be one of {', '.join(STATISTICS)}; got {of!r}")
    lower, upper = _bound(at_least, "at_least"), _bound(at_most, "at_most")
    if lower is not None and upper is not None and lower > upper:
        raise ValueError(f"at_least ({lower}) must not exceed at_most ({upper})")
    side = "low" if lower is not None else "high" if upper is not None else None
    summary = summarize(
        values, name=name, digits=digits, percent=percent, allow_nonfinite=allow_nonfinite,
        worst=side,
    )  # fmt: skip
    _glue_summary(summary, digits, percent, glue)
    array = summary.values
    if of == "count":
        if not np.isin(array, (0.0, 1.0)).all():
            raise ValueError(
                f"of='count' needs booleans (or 0/1) for {name!r}, got {_listing(array)}"
            )
        statistic = float(np.count_nonzero(array))
        _glue(f"{name}_count", int(statistic), glue)
        described = f"the count of true values ({int(statistic)} of {array.size})"
    elif of == "each":
        statistic, described = summary.worst, "the worst value"
    elif of == "interval":
        low, high = summary.interval()
        for bound, relation, end in ((lower, ">=", low), (upper, "<=", high)):
            if bound is not None:
                _check_band(name, array, of, end, f"the 95% interval of the mean "
                            f"[{low:.4g}, {high:.4g}]", bound, relation)  # fmt: skip
        return summary
    else:
        statistic = summary.mean if of == "mean" else summary.median
        described = f"the {of} ({statistic:.4g})"
    for bound, relation in ((lower, ">="), (upper, "<=")):
        if bound is not None:
            _check_band(name, array, of, statistic, described, bound, relation)
    return summary


def summarize(
    values,
    *,
    name: str = "values",
    digits: int = 3,
    percent: bool = False,
    allow_nonfinite: bool = False,
    worst: str | None = None,
) -> Summary:
    """Summarise per-seed values without glueing or checking anything: mean ± sd (``ddof=1``),
    median and the worst value, with the text :func:`report` would glue.

    Arguments:
        values: one number per seed or run (a 1-D array, list or tensor).
        name: what the values are, for messages and the :class:`Summary`'s ``name``.
        digits, percent, allow_nonfinite: as in :func:`report`.
        worst: which side is bad: ``"low"`` (the worst is the smallest value), ``"high"``
            (the largest), or None (the largest finite value).

    Example:
        >>> str(summarize([1.0, 2.0, 4.0], digits=2))
        '2.33 ± 1.53'
    """
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got {digits!r}")
    if worst not in ("low", "high", None):
        raise ValueError(f"worst must be 'low', 'high' or None, got {worst!r}")
    array = _as_values(values, name, allow_nonfinite)
    finite = array[np.isfinite(array)] if allow_nonfinite else array
    with np.errstate(invalid="ignore"):  # inf - inf in the sd of a diverged run: NaN
        mean = float(array.mean())
        sd = float(array.std(ddof=1)) if array.size > 1 else float("nan")
    if worst == "low":
        bad = float(array.min())
    elif worst == "high" or finite.size == 0:
        bad = float(array.max())
    else:
        bad = float(finite.max())
    scale, sign = (100.0, "%") if percent else (1.0, "")
    if array.size == 1:
        text = f"{scale * mean:.{digits}f}{sign} (one run)"
    else:
        text = f"{scale * mean:.{digits}f}{sign} ± {scale * sd:.{digits}f}{sign}"
    return Summary(name, array, mean, sd, float(np.median(array)), bad, text)


def paired(name: str, a, b, **claim) -> Summary:
    """:func:`report` of ``a - b`` seed by seed: two methods run on the same seeds and data.

    The differences carry a comparison that overlapping mean ± sd cannot: what varies from
    seed to seed in both cancels. ``a`` and ``b`` must hold one value per seed each, in the
    same order; ``claim`` takes :func:`report`'s keywords (``at_most=0`` with ``of="each"``:
    "a is at least as good as b in every seed", for a loss; with ``of="interval"``: "a is
    better on average, and the 95% interval of the mean difference excludes 0"). The glued
    ``name_ci`` is that interval, for the prose.

    Example:
        >>> a, b = [-1.20, -1.15, -1.22, -1.18], [-1.10, -1.12, -1.09, -1.11]
        >>> d = paired("a_minus_b", a, b, of="interval", at_most=0.0, glue=False)
        >>> print(d, [round(end, 3) for end in d.interval()])
        -0.082 ± 0.043 [-0.15, -0.015]
    """
    a = _as_values(a, f"{name} (a)", claim.get("allow_nonfinite", False))
    b = _as_values(b, f"{name} (b)", claim.get("allow_nonfinite", False))
    if a.shape != b.shape:
        raise ValueError(
            f"{name}: a and b must hold one value per seed each, got {a.size} and {b.size}"
        )
    return report(name, a - b, **claim)


def seeds_needed(sd: float, difference: float, level: float = 0.95, limit: int = 10_000) -> int:
    """How many seeds a paired comparison needs before its interval can exclude 0.

    The smallest ``n >= 2`` for which the ``level`` Student-t interval of the mean of ``n``
    paired differences, ``mean ± t_{n-1} * sd / sqrt(n)``, is narrower on each side than
    ``|difference|``: the seeds a true mean difference of that size needs if the differences
    spread by ``sd`` (a planning number: that many seeds exclude 0 about half the time).

    Arguments:
        sd, difference: the differences' standard deviation (> 0) and the mean to resolve (≠ 0).
        level, limit: the interval's confidence, in (0, 1); the most seeds to consider.

    Returns:
        The number of seeds, or ``limit + 1`` when even ``limit`` seeds are not enough.

    Example:
        >>> seeds_needed(sd=1.0, difference=1.0)  # t_6 / sqrt(7) = 0.925 < 1 <= t_5 / sqrt(6)
        7
    """
    for value, name in ((sd, "sd"), (difference, "difference")):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if sd <= 0:
        raise ValueError(f"sd must be > 0, got {sd}")
    if difference == 0:
        raise ValueError("difference must be non-zero: no number of seeds resolves 0")
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 2:
        raise ValueError(f"limit must be an int >= 2, got {limit!r}")
    from scipy import stats

    n = np.arange(2, int(limit) + 1)
    half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n)
    enough = np.flatnonzero(half < abs(difference))
    return int(n[enough[0]]) if enough.size else int(limit) + 1


def _glue_summary(summary: Summary, digits: int, percent: bool, glue: bool) -> None:
    """Glue the text, the rounded floor and ceiling, and every number of ``summary``."""
    name, array = summary.name, summary.values
    _glue(name, summary.text, glue)
    scale, sign = (100.0, "%") if percent else (1.0, "")
    step = 10.0**digits
    low, high = scale * float(array.min()), scale * float(array.max())
    if np.isfinite(low) and np.isfinite(high):
        _glue(f"{name}_floor", f"{np.floor(low * step) / step:.{digits}f}{sign}", glue)
        _glue(f"{name}_ceil", f"{np.ceil(high * step) / step:.{digits}f}{sign}", glue)
    for suffix, value in (
        ("mean", summary.mean),
        ("sd", summary.sd),
        ("median", summary.median),
        ("min", float(array.min())),
        ("max", float(array.max())),
        ("worst", summary.worst),
        ("n", summary.n),
    ):
        _glue(f"{name}_{suffix}", value, glue)
    if summary.n > 1 and np.isfinite(summary.sd):
        low, high = summary.interval()
        _glue(f"{name}_se", summary.se, glue)
        _glue(f"{name}_ci_low", low, glue)
        _glue(f"{name}_ci_high", high, glue)
        _glue(
            f"{name}_ci", f"[{scale * low:.{digits}f}{sign}, {scale * high:.{digits}f}{sign}]", glue
        )


def _check_band(name, array, of, statistic, described, bound, relation) -> None:
    """Raise :class:`ClaimFailed` where the statistic (each value, for ``of="each"``) breaks
    ``relation bound``."""
    holds = (lambda s: s >= bound) if relation == ">=" else (lambda s: s <= bound)
    if of == "each":
        bad = array[~holds(array)]  # NaN compares false: it is always bad
        if bad.size:
            extreme = bad.min() if relation == ">=" else bad.max()
            raise ClaimFailed(
                f"{name}: every value must be {relation} {bound:g}, but the worst is "
                f"{extreme:.4g} (values {_listing(array)})"
            )
    elif not holds(statistic):
        raise ClaimFailed(
            f"{name}: {described} must be {relation} {bound:g} (values {_listing(array)})"
        )


def check(name: str, holds: bool, detail: str = "") -> None:
    """Check a claim that is not a band on one set of values, such as an ordering.

    Arguments:
        name: what the prose claims, for the error message.
        holds: whether it holds here (a Python or NumPy bool, or a one-element tensor).
        detail: the numbers behind it, for the error message.

    Raises:
        ClaimFailed: ``holds`` is false.
        TypeError: ``holds`` is not a boolean.
    """
    if isinstance(holds, torch.Tensor):
        if holds.numel() != 1 or holds.dtype != torch.bool:
            raise TypeError(f"holds must be a bool, got a tensor of shape {tuple(holds.shape)}")
        holds = bool(holds)
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"holds must be a bool, got {type(holds).__name__}")
    if not holds:
        raise ClaimFailed(f"{name}" + (f": {detail}" if detail else ""))
