"""The toy problem of PRML §5.6 (Bishop 2006, p. 272), forward and inverse.

Forward: ``x ~ U(0, 1)`` and ``t = f(x) + e`` with ``f(x) = x + 0.3 sin(2 pi x)`` and
``e ~ U(-0.1, 0.1)``. Inverse: the same pairs with the roles swapped, so the network
sees ``t`` and must predict ``x`` -- a conditional density with up to three branches.
"""

from __future__ import annotations

import numpy as np

from ..checks import positive_int

__all__ = [
    "AMPLITUDE",
    "NOISE_HALF_WIDTH",
    "make_toy_data",
    "test_grid",
    "toy_curve",
]

#: Half-width of the uniform noise added to f(x).
NOISE_HALF_WIDTH = 0.1
#: Amplitude of the sine term in f(x).
AMPLITUDE = 0.3


def toy_curve(x: np.ndarray) -> np.ndarray:
    r"""The noiseless curve :math:`f(x) = x + 0.3 \sin(2 \pi x)`."""
    return x + AMPLITUDE * np.sin(2 * np.pi * x)


def _generator(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}"
        )
    return np.random.default_rng(seed)


def make_toy_data(
    n: int = 2500, seed: int | np.random.Generator = 0, inverse: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` pairs of the toy problem.

    Arguments:
        n: number of points.
        seed: an int, or a ``numpy.random.Generator`` to draw from (no global state is used).
        inverse: if True, return the inverse problem (inputs ``t``, targets ``x``).

    Returns:
        ``(inputs, targets)``, each a float32 array of shape ``[n, 1]``.

    Example:
        >>> x, t = make_toy_data(5, seed=1)
        >>> x.shape, t.dtype
        ((5, 1), dtype('float32'))
    """
    n = positive_int(n, "n")
    rng = _generator(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 1))
    noise = rng.uniform(-NOISE_HALF_WIDTH, NOISE_HALF_WIDTH, size=(n, 1))
    t = toy_curve(x) + noise
    x, t = x.astype(np.float32), t.astype(np.float32)
    return (t, x) if inverse else (x, t)


def test_grid(n: int = 2500, inverse: bool = False) -> np.ndarray:
    """Evenly spaced inputs for drawing predictions, float32 ``[n, 1]``.

    Over ``[0, 1]`` for the forward problem and ``[-0.1, 1.1]`` (the whole range of ``t``)
    for the inverse one.
    """
    n = positive_int(n, "n")
    lo, hi = (-NOISE_HALF_WIDTH, 1.0 + NOISE_HALF_WIDTH) if inverse else (0.0, 1.0)
    return np.linspace(lo, hi, n, dtype=np.float32).reshape(n, 1)


# pytest would otherwise try to collect test_grid as a test when it is imported there.
test_grid.__test__ = False
