r"""Two small real data sets, shipped with the package (never downloaded).

The CSV files live in ``mdn_src/problems/data/`` beside a README that gives their sources; the
loaders find them through ``importlib.resources``, so they work from any working
directory and from an installed (or editable) package.

* :func:`~mdn_src.problems.load_geyser`: Old Faithful eruptions in time order (Azzalini and
  Bowman 1990), as pairs (this eruption's duration, the next one's). Given a short eruption
  the next is long; given a long one the next is short or long: a bimodal conditional density.
* :func:`~mdn_src.problems.load_mcycle`: head acceleration against time in a simulated
  motorcycle crash (Silverman 1985): the noise grows sharply after the impact.
* :func:`~mdn_src.problems.load_geyser_table`: the geyser file's two columns as they are, in
  time order.

Some night-time geyser durations were recorded only as short, medium or long and coded 2, 3
and 4 minutes (:data:`~mdn_src.problems.GEYSER_CODES`); they are labels, not measurements.
:func:`~mdn_src.problems.load_geyser` drops every pair that contains one unless
``coded="keep"``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["GEYSER_CODES", "load_geyser", "load_geyser_table", "load_mcycle"]

#: Geyser durations (minutes) that stand for "short", "medium" and "long" at night.
GEYSER_CODES = (2.0, 3.0, 4.0)
#: ``coded`` choices of :func:`load_geyser`.
CODED = ("drop", "keep")
#: Each shipped file's header and number of data rows, checked on every load.
FILES = {"geyser.csv": (("waiting", "duration"), 299), "mcycle.csv": (("times", "accel"), 133)}
_DTYPES = (np.float32, np.float64)


def _dtype(dtype) -> type:
    for allowed in _DTYPES:
        if np.dtype(dtype) == allowed:
            return allowed
    raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}")


def _read(name: str) -> np.ndarray:
    """The shipped file ``name`` as float64 ``[rows, 2]``, after checking it is intact."""
    columns, rows = FILES[name]
    text = resources.files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    header = tuple(h.strip().strip('"') for h in lines[0].split(","))
    if header != columns:
        raise ValueError(f"{name}: expected the columns {columns}, found {header}")
    table = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    if table.shape != (rows, len(columns)) or not np.isfinite(table).all():
        raise ValueError(
            f"{name}: expected {rows} finite rows of {len(columns)}, got {table.shape}"
        )
    return table


def load_geyser_table() -> tuple[np.ndarray, np.ndarray]:
    """The Old Faithful file as it is: 299 eruptions, 1 to 15 August 1985, in time order.

    Returns:
        ``(waiting, duration)``, float64 ``[299]`` each, in minutes: the waiting time for
        eruption ``i`` and its duration (Azzalini and Bowman 1990, as in R's MASS package). Durations equal to
        :data:`GEYSER_CODES` are night-time codes, not measurements.

    Example:
        >>> waiting, duration = load_geyser_table()
        >>> waiting.shape, int(np.isin(duration, GEYSER_CODES).sum())
        ((299,), 78)
    """
    table = _read("geyser.csv")
    return table[:, 0].copy(), table[:, 1].copy()


def load_geyser(coded: str = "drop", dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive Old Faithful eruptions: this duration and the next, in time order.

    Arguments:
        coded: ``"drop"`` (default) removes every pair in which either duration is one of
            the night-time codes :data:`GEYSER_CODES`; ``"keep"`` keeps all 298 pairs, codes
            included.
        dtype: ``numpy.float32`` (default, as the models) or ``numpy.float64``.

    Returns:
        ``(current, following)``, each ``[N, 1]`` in minutes (``N = 194`` with ``"drop"``,
        298 with ``"keep"``): ``following[i]`` is the duration of the eruption after the one
        that lasted ``current[i]``.

    Example:
        >>> x, t = load_geyser()
        >>> x.shape, t.dtype, bool((x[1:] == t[:-1]).any())
        ((194, 1), dtype('float32'), True)
    """
    if coded not in CODED:
        raise ValueError(f"coded must be one of {CODED}, got {coded!r}")
    dtype = _dtype(dtype)
    _, duration = load_geyser_table()
    current, following = duration[:-1], duration[1:]
    if coded == "drop":
        keep = ~(np.isin(current, GEYSER_CODES) | np.isin(following, GEYSER_CODES))
        current, following = current[keep], following[keep]
    return current[:, None].astype(dtype), following[:, None].astype(dtype)


def load_mcycle(dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """The motorcycle-crash data: head acceleration against time (Silverman 1985).

    Arguments:
        dtype: ``numpy.float32`` (default, as the models) or ``numpy.float64``.

    Returns:
        ``(times, accel)``, each ``[133, 1]``, sorted by time: milliseconds after the impact,
        and the head's acceleration in g. Several readings share a time.

    Example:
        >>> times, accel = load_mcycle()
        >>> times.shape, float(times.min()), float(times.max())
        ((133, 1), 2.4000000953674316, 57.599998474121094)
    """
    dtype = _dtype(dtype)
    table = _read("mcycle.csv")
    return table[:, :1].astype(dtype), table[:, 1:].astype(dtype)
