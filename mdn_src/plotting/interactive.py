r"""An interactive figure for readers who cannot run code: a slider over the input.

:func:`interactive_density` writes one self-contained piece of HTML: the weights of a
one-input, one-output Gaussian MDN as JSON, an SVG, a slider over the input :math:`t`, and a
few dozen lines of JavaScript that compute, in float64, the mixture at the slider's input
from those weights and draw

.. math::

    p(x \mid t) = \sum_{k=1}^{K} \pi_k(t)\, \mathcal{N}\big(x \mid \mu_k(t), \sigma_k^2(t)\big),

its weighted components, its modes and, optionally, the exact density beside it. Nothing is
fetched from anywhere: the figure works in a notebook, on the built site, and from a file
opened with ``file://``. :func:`export_mdn` is the weights' export alone.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from torch import nn

from ..model import MDN
from .theme import COLORS, ArrayOrTensor, as_numpy

__all__ = ["InteractiveFigure", "export_mdn", "interactive_density"]

_SIGMA_MAPS = ("softplus", "exp", "elu")  # the scale maps the JavaScript implements
_COUNTER = itertools.count()  # tells apart two figures of the same model on one page
# The SVG's coordinate box: width, height, and the plot area's left, top, width, height.
_W, _H, _X0, _Y0, _PW, _PH = 520, 320, 58, 14, 446, 250


@dataclass(frozen=True)
class InteractiveFigure:
    """HTML that a notebook displays as is (``_repr_html_``) and that can be saved.

    Attributes:
        html: the figure: a ``<div>`` with its data, SVG, slider and script inline.
        element_id: the ``id`` of that ``<div>``, unique on a page.
    """

    html: str
    element_id: str

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"InteractiveFigure(element_id={self.element_id!r})"

    def save(self, path: str | Path) -> Path:
        """Write the figure as a standalone HTML page (opens from ``file://``); returns the path."""
        path = Path(path)
        page = '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        page += '<meta name="viewport" content="width=device-width, initial-scale=1">'
        page += f"</head><body>\n{self.html}\n</body></html>\n"
        path.write_text(page, encoding="utf-8")
        return path


def _floats(a: torch.Tensor) -> list:
    """A tensor as nested Python floats, each the float32 weight exactly (as a float64)."""
    return a.detach().cpu().to(torch.float64).tolist()


def export_mdn(model: MDN) -> dict:
    r"""The weights of a one-input, one-output Gaussian MDN, as JSON-ready Python values.

    The network is ``h = tanh(W_i h + b_i)`` for each hidden layer, starting from
    ``h = [t]``, then ``a = W h + b`` for the head; ``a`` holds the ``K`` logits of
    :math:`\pi`, the ``K`` means and the ``K`` raw scales, in that order, and
    :math:`\sigma = \sigma_{\min} + m(a^\sigma)` with ``m`` the model's ``sigma_map``.

    Arguments:
        model: an :class:`~mdn_src.model.MDN` with ``in_features == out_features == 1`` and
            the Gaussian family (any covariance, which is the same for one output, and any
            ``sigma_map``).

    Returns:
        A dict with keys ``hidden`` (a list of ``{"weight", "bias"}``, one per tanh layer),
        ``head`` (``{"weight", "bias"}``), ``n_components``, ``sigma_min`` and
        ``sigma_map``; every weight is the model's float32 value exactly, as a float
        (``weight`` is ``[out, in]``, as in ``nn.Linear``).

    Raises:
        TypeError: ``model`` is not an MDN.
        ValueError: the MDN is not one the figure can draw (another family, more inputs or
            outputs).

    Example:
        >>> spec = export_mdn(MDN(1, 1, n_components=3, hidden=4))
        >>> len(spec["head"]["bias"]), spec["sigma_map"]
        (9, 'softplus')
    """
    if not isinstance(model, MDN):
        raise TypeError(f"model must be an mdn_src.MDN, got {type(model).__name__}")
    if model.in_features != 1 or model.out_features != 1:
        raise ValueError(
            "the interactive figure draws p(x | t) for one input and one output, got an MDN "
            f"with in_features={model.in_features}, out_features={model.out_features}"
        )
    if model.family != "gaussian":
        raise ValueError(f"the interactive figure draws Gaussian components, got {model.family!r}")
    if model.spec.sigma_map not in _SIGMA_MAPS:  # pragma: no cover (HeadSpec allows no other)
        raise ValueError(f"sigma_map must be one of {_SIGMA_MAPS}, got {model.spec.sigma_map!r}")
    K = model.n_components
    layers = [m for m in model.trunk if isinstance(m, nn.Linear)]
    if sum(model.head_sizes) != 3 * K:  # pragma: no cover (one output: K logits, means, scales)
        raise ValueError(f"expected a head of 3 K = {3 * K} outputs, got {model.head_sizes}")
    return {
        "hidden": [{"weight": _floats(m.weight), "bias": _floats(m.bias)} for m in layers],
        "head": {"weight": _floats(model.head.weight), "bias": _floats(model.head.bias)},
        "n_components": K,
        "sigma_min": float(model.spec.sigma_min),
        "sigma_map": model.spec.sigma_map,
    }


def _grid(values: ArrayOrTensor, name: str, at_least: int) -> np.ndarray:
    """``values`` as a float64 vector of at least ``at_least`` finite, increasing values."""
    a = np.asarray(as_numpy(values), dtype=np.float64)
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]  # a column [N, 1], as test_grid gives it
    if a.ndim != 1 or len(a) < at_least:
        raise ValueError(
            f"{name} must be a vector [N] (or a column [N, 1]) of at least {at_least} values, "
            f"got shape {a.shape}"
        )
    if not np.all(np.isfinite(a)) or not np.all(np.diff(a) > 0):
        raise ValueError(f"{name} must be finite and strictly increasing")
    return a


def _exact_runs(exact: Callable, x: np.ndarray, t: np.ndarray) -> list:
    """``exact(x[None, :], t[:, None])`` ``[T, X]``, each row as runs ``[start, value]``."""
    table = np.asarray(exact(x[None, :], t[:, None]), dtype=np.float64)
    if table.shape != (len(t), len(x)):
        raise ValueError(
            f"exact(x_grid[None, :], t_values[:, None]) must have shape "
            f"[len(t_values), len(x_grid)] = {(len(t), len(x))}, got {table.shape}"
        )
    if not np.all(np.isfinite(table)) or np.any(table < 0):
        raise ValueError("exact must give finite, non-negative densities")
    runs = []
    for row in table:
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])  # where the value changes
        runs.append([[int(i), float(f"{row[i]:.7g}")] for i in starts])
    return runs


def _digits(t: np.ndarray) -> int:
    """The fewest decimals (up to 6) that still tell every slider position apart."""
    for d in range(7):
        if len(np.unique(np.round(t, d))) == len(t) and np.allclose(np.round(t, d), t, atol=1e-9):
            return d
    return 6


def _x_axis(x: np.ndarray, label: str) -> str:
    """The static SVG of the horizontal axis: ticks, their values and the label."""
    lo, hi = x[0], x[-1]
    parts = []
    for v in MaxNLocator(6).tick_values(lo, hi):
        if lo - 1e-12 <= v <= hi + 1e-12:
            px = _X0 + (v - lo) / (hi - lo) * _PW
            parts.append(
                f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{_Y0}" y2="{_Y0 + _PH}" '
                f'stroke="#ddd"/><text x="{px:.1f}" y="{_Y0 + _PH + 20}" '
                f'text-anchor="middle">{float(v):g}</text>'
            )
    parts.append(
        f'<text class="mdn-label" x="{_X0 + _PW / 2}" y="{_H - 4}" text-anchor="middle" '
        f'font-style="italic">{html.escape(label)}</text>'
    )
    return "".join(parts)


_CSS = """
#__ID__{max-width:600px;margin:0 auto;background:#fff;color:#222;padding:6px;border-radius:4px;
 font-family:sans-serif}
#__ID__ svg.mdn-plot{width:100%;height:auto;display:block;font-size:13px}
#__ID__ .mdn-label{font-size:16px}
@media (max-width:600px){#__ID__ svg.mdn-plot{font-size:19px} #__ID__ .mdn-label{font-size:21px}}
#__ID__ .mdn-controls{display:flex;align-items:center;gap:8px;margin:4px 0}
#__ID__ .mdn-controls input{flex:1;min-width:0}
#__ID__ .mdn-controls output{font-variant-numeric:tabular-nums;min-width:5.5em}
#__ID__ .mdn-legend{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:13px;margin:0;padding:0;
 list-style:none}
#__ID__ .mdn-legend svg{width:28px;height:10px;display:inline-block;vertical-align:middle}
"""

# The JavaScript of one figure: the MDN's forward pass in float64, the mixture's log-density
# by log-sum-exp, the modes (grid maxima refined by golden-section search) and the drawing.
_SCRIPT = """
(() => {
const root = document.getElementById("__ID__"), M = JSON.parse(root.querySelector(
  "script.mdn-data").textContent), K = M.n_components, X = M.x, n = X.length;
const NS = "http://www.w3.org/2000/svg", LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const scale = {softplus: a => Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a))),
  exp: Math.exp, elu: a => (a > 0 ? 1 + a : Math.exp(a))}[M.sigma_map];
const affine = (L, h) => L.weight.map((row, j) => row.reduce((s, w, i) => s + w * h[i], L.bias[j]));
const lse = v => { const top = Math.max(...v);
  return top + Math.log(v.reduce((s, u) => s + Math.exp(u - top), 0)); };
function mixture(t) {  // log pi, mu, sigma at input t: [K] each
  let h = [t];
  for (const L of M.hidden) h = affine(L, h).map(Math.tanh);
  const a = affine(M.head, h), logits = a.slice(0, K), norm = lse(logits);
  return {logPi: logits.map(v => v - norm), mu: a.slice(K, 2 * K),
          sigma: a.slice(2 * K).map(v => M.sigma_min + scale(v))};
}
const logTerms = (m, x) => m.mu.map((mu, k) => { const z = (x - mu) / m.sigma[k];
  return m.logPi[k] - 0.5 * z * z - Math.log(m.sigma[k]) - LOG_SQRT_2PI; });
const logDensity = (m, x) => lse(logTerms(m, x));
function modes(m, p) {  // local maxima on the grid, refined; those >= mode_ratio of the highest
  const found = [];
  for (let i = 1; i < n - 1; i++) {
    if (!(p[i] > p[i - 1] && p[i] >= p[i + 1])) continue;
    let lo = X[i - 1], hi = X[i + 1];
    for (let j = 0; j < 100 && hi - lo > 1e-13; j++) {
      const a = hi - 0.618034 * (hi - lo), b = lo + 0.618034 * (hi - lo);
      if (logDensity(m, a) < logDensity(m, b)) lo = a; else hi = b;
    }
    const x = 0.5 * (lo + hi); found.push([x, Math.exp(logDensity(m, x))]);
  }
  const top = Math.max(0, ...found.map(f => f[1]));
  return found.filter(f => f[1] >= M.mode_ratio * top);
}
const sx = x => M.box[0] + (x - X[0]) / (X[n - 1] - X[0]) * M.box[2];
const line = (ys, sy) => ys.map((y, i) => (i ? "L" : "M") + sx(X[i]).toFixed(2) + ","
  + sy(y).toFixed(2)).join("");
const edge = j => (j === 0 ? X[0] : j === n ? X[n - 1] : 0.5 * (X[j - 1] + X[j]));
const el = (tag, attrs) => { const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]); return e; };
const part = name => root.querySelector(".mdn-" + name);
function draw(index) {
  const t = M.t[index], m = mixture(t), logP = X.map(x => logTerms(m, x));
  const p = logP.map(v => Math.exp(lse(v))), runs = M.exact ? M.exact[index] : [];
  const peak = Math.max(...p, ...runs.map(r => r[1])) * 1.08 || 1;
  const raw = peak / 5, pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(s => s * pow).find(s => s >= raw);
  const sy = y => M.box[1] + M.box[3] * (1 - Math.min(y / peak, 1.02));
  const yAxis = part("yaxis"); yAxis.replaceChildren();
  for (let v = 0; v <= peak; v += step) {
    yAxis.append(el("line", {x1: M.box[0], x2: M.box[0] + M.box[2], y1: sy(v), y2: sy(v),
      stroke: "#ddd"}));
    const label = el("text", {x: M.box[0] - 6, y: sy(v) + 4, "text-anchor": "end"});
    label.textContent = v.toFixed(Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
    yAxis.append(label);
  }
  const comps = part("components"); comps.replaceChildren();
  for (let k = 0; k < K; k++) if (Math.exp(m.logPi[k]) >= M.component_threshold)
    comps.append(el("path", {d: line(logP.map(v => Math.exp(v[k])), sy)}));
  let d = "";
  runs.forEach((r, j) => { const end = j + 1 < runs.length ? runs[j + 1][0] : n;
    d += (j ? "V" : "M" + sx(edge(r[0])).toFixed(2) + ",") + sy(r[1]).toFixed(2)
       + "H" + sx(edge(end)).toFixed(2); });
  part("exact").setAttribute("d", d);
  part("model").setAttribute("d", line(p, sy));
  const marks = part("modes"); marks.replaceChildren();
  for (const [x, y] of modes(m, p)) marks.append(el("circle", {cx: sx(x), cy: sy(y), r: 4.5}));
  part("readout").textContent = M.t_name + " = " + M.t_labels[index];
}
root.mdnDensity = (t, xs) => { const m = mixture(t); return xs.map(x => Math.exp(logDensity(m, x))); };
root.mdnModes = t => { const m = mixture(t); return modes(m, X.map(x => Math.exp(logDensity(m, x))))
  .map(f => f[0]); };
const slider = part("slider");
slider.addEventListener("input", () => draw(Number(slider.value)));
draw(Number(slider.value));
})();
"""


def _swatch(color: str, dash: str = "", width: float = 2.5, dot: bool = False) -> str:
    shape = (
        f'<circle cx="14" cy="5" r="4" fill="{color}"/>'
        if dot
        else f'<line x1="0" x2="28" y1="5" y2="5" stroke="{color}" stroke-width="{width}" '
        f'stroke-dasharray="{dash}"/>'
    )
    return f'<svg viewBox="0 0 28 10" aria-hidden="true">{shape}</svg>'


def interactive_density(
    model: MDN,
    t_values: ArrayOrTensor,
    x_grid: ArrayOrTensor,
    *,
    exact: Callable | None = None,
    start: float | None = None,
    label: str = "MDN",
    t_name: str = "t",
    x_name: str = "x",
    mode_ratio: float = 0.05,
    component_threshold: float = 0.01,
    element_id: str | None = None,
) -> InteractiveFigure:
    r"""A slider over the input that redraws :math:`p(x \mid t)` of a trained MDN in the page.

    The page computes the mixture from the weights of :func:`export_mdn`, in float64, at the
    slider's input, and draws over ``x_grid``: the density (solid, the model's colour); each
    component :math:`\pi_k \mathcal{N}(x \mid \mu_k, \sigma_k^2)` with
    :math:`\pi_k \ge` ``component_threshold`` (thin, the other role's colour); the modes,
    the grid's local maxima refined by golden-section search and kept if at least
    ``mode_ratio`` times as high as the highest (dots); and the exact density, if given
    (dashed, black, drawn as steps between the midpoints of ``x_grid``). The vertical axis
    fits each input's curves. The ``<div>`` carries two functions for tests:
    ``mdnDensity(t, xs)``, the density at any input ``t`` and points ``xs``, and
    ``mdnModes(t)``, the modes' locations.

    Arguments:
        model: a one-input, one-output Gaussian :class:`~mdn_src.model.MDN`
            (see :func:`export_mdn`).
        t_values: ``[T]`` (or ``[T, 1]``) increasing inputs, the slider's positions.
        x_grid: ``[X]`` (or ``[X, 1]``) increasing outputs, the horizontal axis.
        exact: optional ``exact(x, t)``, the exact density, called once with
            ``x_grid[None, :]`` and ``t_values[:, None]`` and giving ``[T, X]`` (such as
            :func:`mdn_src.problems.oracle.inverse_density`); each row is stored as runs of equal
            values, so a piecewise-constant density costs a few numbers per input.
        start: the input the slider starts at (the nearest of ``t_values``); default the
            middle one.
        label: the model's name in the legend.
        t_name, x_name: the input's and the output's symbols, for the readout and the axes.
        mode_ratio: the share of the highest mode below which a mode is not drawn.
        component_threshold: the smallest :math:`\pi_k` whose component is drawn.
        element_id: the ``id`` of the figure's ``<div>``; default one made from the data and
            a counter, unique on a page.

    Returns:
        An :class:`InteractiveFigure`; a notebook displays it, ``.save(path)`` writes a page.

    Raises:
        TypeError, ValueError: as :func:`export_mdn`, or for grids that are not increasing
            vectors, an ``exact`` of the wrong shape or with negative values, or ratios
            outside [0, 1).

    Example:
        >>> mdn = MDN(1, 1, n_components=3, hidden=4)
        >>> fig = interactive_density(mdn, np.linspace(0, 1, 11), np.linspace(-1, 2, 301))
        >>> fig.html.count('type="range"')
        1
    """
    spec = export_mdn(model)
    t = _grid(t_values, "t_values", 2)
    x = _grid(x_grid, "x_grid", 3)
    for value, name in ((mode_ratio, "mode_ratio"), (component_threshold, "component_threshold")):
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be in [0, 1), got {value}")
    index = len(t) // 2 if start is None else int(np.argmin(np.abs(t - float(start))))
    xe, te = html.escape(x_name), html.escape(t_name)  # the names as HTML text
    digits = _digits(t)
    spec |= {
        "t": t.tolist(),
        "t_labels": [f"{v:.{digits}f}" for v in t],
        "t_name": t_name,
        "x": x.tolist(),
        "exact": None if exact is None else _exact_runs(exact, x, t),
        "mode_ratio": float(mode_ratio),
        "component_threshold": float(component_threshold),
        "box": [_X0, _Y0, _PW, _PH],
    }
    data = json.dumps(spec, separators=(",", ":"))
    if element_id is None:
        digest = hashlib.sha256(data.encode()).hexdigest()[:10]
        element_id = f"mdn-density-{digest}-{next(_COUNTER)}"
    clip = f"{element_id}-clip"
    safe_data = data.replace("</", "<\\/")  # no "</script>" inside the data
    model_c, other_c, exact_c = COLORS["model"], COLORS["other"], COLORS["exact"]
    legend = [
        (_swatch(model_c), f"{html.escape(label)}: p({xe} | {te})"),
        (_swatch(other_c, "6 3 1 3", 1.2), f"components with π ≥ {component_threshold:g}"),
        (_swatch(model_c, dot=True), f"modes (≥ {mode_ratio:.0%} of the highest)"),
    ]
    if exact is not None:
        legend.append((_swatch(exact_c, "6 4", 2), "exact density"))
    items = "".join(f"<li>{s} {text}</li>" for s, text in legend)
    svg = (
        f'<svg class="mdn-plot" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="p({xe} | {te}) against {xe} at the slider\'s {te}">'
        f'<defs><clipPath id="{clip}"><rect x="{_X0}" y="{_Y0 - 4}" width="{_PW}" '
        f'height="{_PH + 4}"/></clipPath></defs><g class="mdn-yaxis"></g>'
        f"{_x_axis(x, x_name)}"
        f'<text class="mdn-label" transform="translate(16 {_Y0 + _PH / 2}) rotate(-90)" '
        f'text-anchor="middle">p(<tspan font-style="italic">{xe}</tspan> | '
        f'<tspan font-style="italic">{te}</tspan>)</text>'
        f'<g clip-path="url(#{clip})" fill="none">'
        f'<g class="mdn-components" stroke="{other_c}" stroke-width="1.2" '
        f'stroke-dasharray="6 3 1 3"></g>'
        f'<path class="mdn-exact" stroke="{exact_c}" stroke-width="2" stroke-dasharray="6 4"/>'
        f'<path class="mdn-model" stroke="{model_c}" stroke-width="2.5"/></g>'
        f'<g class="mdn-modes" fill="{model_c}" stroke="#fff"></g>'
        f'<rect x="{_X0}" y="{_Y0}" width="{_PW}" height="{_PH}" fill="none" stroke="#444"/>'
        "</svg>"
    )
    page = (
        f'<div id="{element_id}" class="mdn-interactive">'
        f"<style>{_CSS.replace('#__ID__', '#' + element_id)}</style>"
        f'<script type="application/json" class="mdn-data">{safe_data}</script>'
        f'<div class="mdn-controls"><output class="mdn-readout"></output>'
        f'<input class="mdn-slider" type="range" min="0" max="{len(t) - 1}" step="1" '
        f'value="{index}" aria-label="the input {te}"></div>'
        f'{svg}<ul class="mdn-legend">{items}</ul>'
        "<noscript>This figure needs JavaScript.</noscript>"
        f"<script>{_SCRIPT.replace('__ID__', element_id)}</script></div>"
    )
    return InteractiveFigure(page, element_id)
