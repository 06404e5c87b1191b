"""A geometry snapshot of every figure that :mod:`mdn_src.plotting` draws.

Each case calls public drawing helpers on small, fixed inputs (float64, no training), then
reads a portable description of the figure: its size and dpi; each axes' position, limits,
scales, labels, title, explicit tick labels, legend, shared axes and grid; every line,
patch, collection, image and text with its data coordinates, colours, sizes and styles.
The description is compared with ``tests/data/plotting_geometry.json`` (relative tolerance
1e-7); a mismatch names the case (the helpers it calls), the artist and the field.

Only arithmetic on the inputs is compared: data coordinates, colours, sizes in points,
font sizes as numbers. Nothing that a renderer or font metrics decide (pixel values, text
extents, tight bounding boxes) is read. Axes positions are read before the figure is
drawn, where they are the grid's (arithmetic on the figure size and subplot parameters);
constrained layout moves them only at draw time, from font metrics, so the one figure that
is drawn here (the animation's, which lays itself out once) has its positions left out.

A figure is reviewed by eye once; after that any change to it should be deliberate. After
such a change, rewrite the snapshot and review the figure in the built book::

    MDN_UPDATE_GEOMETRY=1 .venv/bin/python -m pytest tests/test_plotting_geometry.py

and commit the new ``tests/data/plotting_geometry.json`` with the change.
"""

import json
import math
import os
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402
from matplotlib.animation import AbstractMovieWriter  # noqa: E402
from matplotlib.collections import Collection  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle  # noqa: E402
from matplotlib.ticker import FixedLocator  # noqa: E402

from mdn_src import MixtureParameters, plotting  # noqa: E402
from mdn_src.training import History  # noqa: E402

SNAPSHOT = Path(__file__).parent / "data" / "plotting_geometry.json"
UPDATE = os.environ.get("MDN_UPDATE_GEOMETRY") == "1"
RTOL, ATOL = 1e-7, 1e-12

#: Public names of mdn_src.plotting that draw nothing (constants and array helpers).
# The interactive figure is HTML and JavaScript, not matplotlib: tests/test_interactive.py
# checks its data against the model and tests/test_site.py its drawing in Chromium.
NOT_DRAWING = {"COLORS", "FIGSIZE", "LINESTYLES", "OKABE_ITO", "SERIES_STYLES", "SLICE_STYLES",
               "ArrayOrTensor", "as_numpy", "cell_edges", "role_style",
               "InteractiveFigure", "export_mdn", "interactive_density"}  # fmt: skip


def teardown_function():
    plt.close("all")


# --- Reading a figure ------------------------------------------------------------------


def _num(x):
    """A float rounded to 10 significant digits; NaN and infinities as strings."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    return float(f"{x:.10g}")


def _arr(a):
    """An array as nested lists of rounded floats; a long one (a colour bar's mesh, say) as
    its shape, ends, sum and range, which still change with any value in it."""
    a = np.ma.filled(np.ma.asarray(a, dtype=np.float64), np.nan)
    if a.size > 200:
        flat = a.ravel()
        return {"shape": list(a.shape), "head": _arr(flat[:6]), "tail": _arr(flat[-6:]),
                "sum": _num(np.nansum(flat)), "abs_sum": _num(np.nansum(np.abs(flat))),
                "min": _num(np.nanmin(flat)), "max": _num(np.nanmax(flat))}  # fmt: skip
    return np.vectorize(_num, otypes=[object])(a).tolist() if a.size else []


def _color(c):
    return None if c is None else [_num(v) for v in mcolors.to_rgba(c)]


def _colors(cs):
    return [_color(c) for c in np.asarray(cs).reshape(-1, 4)] if len(cs) else []


def _text(t):
    return {"position": _arr(t.get_position()), "text": t.get_text(),
            "fontsize": _num(t.get_fontsize()), "ha": t.get_ha(), "va": t.get_va(),
            "color": _color(t.get_color()), "rotation": _num(t.get_rotation()),
            "zorder": _num(t.get_zorder()), "visible": t.get_visible()}  # fmt: skip


def _line(line):
    return {"xydata": _arr(line.get_xydata()), "color": _color(line.get_color()),
            "linestyle": line.get_linestyle(), "linewidth": _num(line.get_linewidth()),
            "marker": str(line.get_marker()), "markersize": _num(line.get_markersize()),
            "markerfacecolor": _color(line.get_markerfacecolor()),
            "markeredgecolor": _color(line.get_markeredgecolor()),
            "markeredgewidth": _num(line.get_markeredgewidth()),
            "alpha": line.get_alpha(), "label": line.get_label(),
            "zorder": _num(line.get_zorder()), "visible": line.get_visible()}  # fmt: skip


def _patch(patch):
    out = {"class": type(patch).__name__, "facecolor": _color(patch.get_facecolor()),
           "edgecolor": _color(patch.get_edgecolor()), "linewidth": _num(patch.get_linewidth()),
           "linestyle": str(patch.get_linestyle()), "fill": patch.get_fill(),
           "alpha": patch.get_alpha(), "label": patch.get_label(),
           "zorder": _num(patch.get_zorder()), "visible": patch.get_visible()}  # fmt: skip
    if isinstance(patch, FancyArrowPatch):
        # Its path is computed in display coordinates (the head's size is in points): keep
        # the ends in data coordinates (no public getter) and the style.
        out["ends"] = _arr(patch._posA_posB)
        out["arrowstyle"] = type(patch.get_arrowstyle()).__name__
        out["mutation_scale"] = _num(patch.get_mutation_scale())
    elif isinstance(patch, Rectangle):
        out["xy"], out["width"] = _arr(patch.get_xy()), _num(patch.get_width())
        out["height"] = _num(patch.get_height())
    else:
        out["vertices"] = _arr(patch.get_path().transformed(patch.get_patch_transform()).vertices)
    return out


def _collection(c):
    out = {"class": type(c).__name__, "offsets": _arr(c.get_offsets()),
           "sizes": _arr(c.get_sizes()) if hasattr(c, "get_sizes") else None, "facecolors": _colors(c.get_facecolor()),
           "edgecolors": _colors(c.get_edgecolor()), "linewidths": _arr(c.get_linewidths()),
           "linestyles": str(c.get_linestyle()), "alpha": c.get_alpha(),
           "array": None if c.get_array() is None else _arr(c.get_array()),
           "label": c.get_label(), "zorder": _num(c.get_zorder()), "visible": c.get_visible()}  # fmt: skip
    if hasattr(c, "get_segments"):
        out["segments"] = [_arr(s) for s in c.get_segments()]
    elif hasattr(c, "get_coordinates"):
        out["coordinates"] = _arr(c.get_coordinates())
    elif type(c).__name__ in ("PolyCollection", "FillBetweenPolyCollection"):
        out["paths"] = [_arr(p.vertices) for p in c.get_paths()]
    return out


def _image(im):
    a = np.ma.filled(np.ma.asarray(im.get_array(), dtype=np.float64), np.nan)
    norm = im.norm
    out = {"class": type(im).__name__, "shape": list(a.shape), "values": _arr(a),
           "norm": type(norm).__name__, "vmin": _num(norm.vmin), "vmax": _num(norm.vmax),
           "clip": bool(norm.clip), "cmap": im.get_cmap().name,
           "zorder": _num(im.get_zorder())}  # fmt: skip
    if hasattr(im, "get_extent"):
        out["extent"] = _arr(im.get_extent())
    return out


def _legend(leg):
    if leg is None:
        return None
    handles = []
    for h in leg.legend_handles:  # their places are the legend's layout: left out
        if isinstance(h, Line2D):
            handles.append(_line(h) | {"xydata": None})
        elif isinstance(h, Patch):
            handles.append({k: v for k, v in _patch(h).items()
                            if k not in ("xy", "width", "height", "vertices")})  # fmt: skip
        elif isinstance(h, Collection):
            handles.append({k: v for k, v in _collection(h).items()
                            if k not in ("offsets", "segments", "paths", "coordinates")})  # fmt: skip
        else:
            handles.append({"class": type(h).__name__})
    # The location and column count have no public getters.
    return {"texts": [t.get_text() for t in leg.get_texts()],
            "fontsizes": [_num(t.get_fontsize()) for t in leg.get_texts()],
            "handles": handles, "loc": leg._loc, "outside": getattr(leg, "_outside_loc", None),
            "ncols": leg._ncols, "markerscale": _num(leg.markerscale)}  # fmt: skip


def _ticks(axis):
    out = {"major": type(axis.get_major_locator()).__name__,
           "minor": type(axis.get_minor_locator()).__name__}  # fmt: skip
    if isinstance(axis.get_major_locator(), FixedLocator):  # set explicitly
        out["locs"] = _arr(axis.get_majorticklocs())
        out["labels"] = [t.get_text() for t in axis.get_majorticklabels()]
    grid = axis.get_gridlines()
    if len(grid):
        g = grid[0]
        out["grid"] = {"visible": g.get_visible(), "alpha": g.get_alpha(),
                       "color": _color(g.get_color()), "linestyle": g.get_linestyle(),
                       "linewidth": _num(g.get_linewidth())}  # fmt: skip
    return out


def _axes(ax, fig, positions):
    others = fig.axes
    return {
        "position": _arr(ax.get_position().bounds) if positions else None,
        "xlim": _arr(ax.get_xlim()), "ylim": _arr(ax.get_ylim()),
        "xscale": ax.get_xscale(), "yscale": ax.get_yscale(),
        "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
        "title": ax.get_title(), "title_fontsize": _num(ax.title.get_fontsize()),
        "aspect": str(ax.get_aspect()), "adjustable": ax.get_adjustable(), "axis_on": ax.axison,
        "sharex": [i for i, o in enumerate(others)
                   if o is not ax and ax.get_shared_x_axes().joined(ax, o)],
        "sharey": [i for i, o in enumerate(others)
                   if o is not ax and ax.get_shared_y_axes().joined(ax, o)],
        "xticks": _ticks(ax.xaxis), "yticks": _ticks(ax.yaxis),
        "legend": _legend(ax.get_legend()),
        "lines": [_line(x) for x in ax.lines],
        "patches": [_patch(x) for x in ax.patches],
        "collections": [_collection(x) for x in ax.collections],
        "images": [_image(x) for x in ax.images],
        "texts": [_text(x) for x in ax.texts],
        "containers": [[type(c).__name__, len(c)] for c in ax.containers],
    }  # fmt: skip


def describe(fig, positions=True):
    """The figure's portable description (a JSON-able dict)."""
    return {"size_inches": _arr(fig.get_size_inches()), "dpi": _num(fig.get_dpi()),
            "layout": type(fig.get_layout_engine()).__name__,
            "legends": [_legend(leg) for leg in fig.legends],
            "axes": [_axes(ax, fig, positions) for ax in fig.axes]}  # fmt: skip


# --- Comparing -------------------------------------------------------------------------


def _compare(expected, got, where, problems):
    if len(problems) > 20:
        return
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in sorted(set(expected) | set(got)):
            if key not in got or key not in expected:
                problems.append(f"{where}.{key}: {'missing' if key not in got else 'new'}")
            else:
                _compare(expected[key], got[key], f"{where}.{key}", problems)
    elif isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            problems.append(f"{where}: {len(expected)} entries expected, got {len(got)}")
            return
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            _compare(e, g, f"{where}[{i}]", problems)
    elif (isinstance(expected, float | int) and isinstance(got, float | int)
          and not isinstance(expected, bool) and not isinstance(got, bool)):  # fmt: skip
        if not math.isclose(expected, got, rel_tol=RTOL, abs_tol=ATOL):
            problems.append(f"{where}: expected {expected!r}, got {got!r}")
    elif expected != got:
        problems.append(f"{where}: expected {expected!r}, got {got!r}")


def _snapshot():
    return json.loads(SNAPSHOT.read_text()) if SNAPSHOT.is_file() else {}


def check(name, description):
    """Compare with the stored snapshot (or store it, with MDN_UPDATE_GEOMETRY=1)."""
    description = json.loads(json.dumps(description))  # tuples -> lists, as stored
    if UPDATE:
        stored = _snapshot()
        stored[name] = description
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(dict(sorted(stored.items())), indent=1)
        # Lists of plain numbers on one line each: a reviewable diff, a smaller file.
        text = re.sub(
            r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
            lambda m: "[" + ", ".join(m.group(1).split()).replace(",,", ",") + "]",
            text,
        )
        SNAPSHOT.write_text(text + "\n")
        return
    stored = _snapshot()
    assert name in stored, f"no snapshot for {name}: run with MDN_UPDATE_GEOMETRY=1"
    problems = []
    _compare(stored[name], description, name, problems)
    assert not problems, "figure geometry changed:\n  " + "\n  ".join(problems[:20])


# --- Inputs ----------------------------------------------------------------------------


def _rng():
    return np.random.default_rng(23)


def _params(n=3):
    """Three 1-D components: pi = (0.5, 0.25 + s, 0.25 - s) with s from 0 to 0.2."""
    s = np.linspace(0.0, 0.2, n)
    pi = np.stack([np.full(n, 0.5), 0.25 + s, 0.25 - s], -1)
    mu = np.broadcast_to(np.array([[-1.0], [0.0], [1.5]]), (n, 3, 1)).copy()
    sigma = np.broadcast_to(np.array([[0.5], [0.25], [0.75]]), (n, 3, 1)).copy()
    return MixtureParameters(torch.tensor(np.log(pi)), torch.tensor(mu), torch.tensor(sigma))


def _history(n, scale, loss):
    diag = {"min_sigma": scale * np.array([1.0, 0.5, 0.25, 0.125])[:n],
            "entropy": scale * np.linspace(1.0, 0.5, n),
            "effective_components": scale * np.linspace(3.0, 2.0, n),
            "grad_norm": scale * np.array([10.0, 1.0, 0.1, 0.01])[:n]}  # fmt: skip
    return History(loss, diagnostics=diag)


# --- The cases: each draws figures with public helpers and returns them ---------------


def case_theme():
    fig, ax = plotting.new_axes("$t$", "$x$", title="a title")
    ax.plot([0.0, 1.0], [0.0, 2.0], "o", alpha=0.5, label="made opaque in the legend")
    assert plotting.finish(ax) is ax
    fig2, ax2 = plotting.new_axes("u", "v", figsize=(3.0, 2.0))
    fig3, ax3 = plt.subplots(1, 2)
    assert plotting.style_axes(ax3[0], "a", "b", "small title", title_size="small") is ax3[0]
    plotting.style_axes(ax3[1], title="default size")
    ax3[1].plot([0.0, 1.0], [1.0, 0.0], label="cycle's first colour")
    plotting.finish(ax3[1], legend=False)
    return [fig, fig2, fig3], ["new_axes", "finish", "style_axes"]


def case_panel_axes():
    fig, axes = plotting.panel_axes(["a", "b", "c"], "$x$", "$y$")
    fig2, axes2 = plotting.panel_axes(("one",), "u", "v", sharey=False, width=2.0, height=1.5)
    assert len(axes) == 3 and len(axes2) == 1
    return [fig, fig2], ["panel_axes"]


def case_data():
    fig, ax = plotting.new_axes("$t$", "$x$")
    t = np.array([0.5, 0.0, 1.0, 0.25])
    assert plotting.plot_data(ax, t, t**2) is ax
    assert plotting.plot_curve(ax, t[:, None], np.stack([t, 1 - t], 1), "two curves") is ax
    plotting.plot_curve(ax, t, 2 * t, "exact", kind="exact")
    plotting.plot_curve(ax, t, 3 * t, "styled", kind="other", style=":")
    assert plotting.plot_points(ax, t, np.stack([t, -t], 1), "points") is ax
    plotting.plot_points(ax, t, t + 1, "other points", kind="other", alpha=0.25)
    plotting.finish(ax)
    return [fig], ["plot_data", "plot_curve", "plot_points", "finish"]


def case_mean_and_variance():
    t = np.array([0.0, 0.5, 1.0])
    fig, (top, bottom) = plotting.plot_mean_and_variance(
        t, [0.0, 0.5, 1.0], [0.1, 0.2, 0.1], exact_mean=[0.0, np.nan, 1.0],
        exact_variance=[0.1, 0.3, 0.1], data=(t, 2 * t))  # fmt: skip
    fig2, _ = plotting.plot_mean_and_variance(t, t, t + 1, label="other", xlabel="u",
                                              ylabels=("m", "v"))  # fmt: skip
    return [fig, fig2], ["plot_mean_and_variance"]


def case_density():
    t, x = np.array([0.0, 0.5, 1.0]), np.array([0.0, 0.25, 1.0, 2.0])
    density = np.array([[0.05, 0.5, 5.0, 50.0], [1.0, 2.0, 3.0, 4.0], [0.2, 0.4, 0.8, 1.6]])
    fig, ax = plotting.new_axes("$t$", "$x$")
    assert plotting.plot_density(ax, t, x, density) is ax
    fig2, ax2 = plotting.new_axes("$t$", "$x$")
    plotting.plot_density(ax2, t, x, density, label="p", vmin=0.5, vmax=5.0)
    fig3, axes = plotting.plot_density_comparison(t, x, {"first": density, "second": 2 * density})
    fig4, _ = plotting.plot_density_comparison(np.array([1.0]), x, {"one": density[:1]},
                                               xlabel="u", ylabel="v", label="q", vmin=0.2,
                                               vmax=2.0)  # fmt: skip
    return [fig, fig2, fig3, fig4], ["plot_density", "plot_density_comparison"]


def case_components():
    fig, ax = plotting.new_axes("$t$", "density")
    t = np.linspace(-1.0, 1.0, 5)
    comps = np.stack([t**2, 1 - t**2, 0.5 * t, t + 2], 1)
    assert plotting.plot_components(ax, t, comps, list("abcd"), total=comps.sum(1),
                                    total_label="total") is ax  # fmt: skip
    plotting.plot_components(ax, t, comps[:, :1], ["dotted"], style=":")
    fig2, (ax2, ax3) = plt.subplots(1, 2)
    inputs = np.linspace(0.0, 2.4, 25)
    params = _params(25)
    assert plotting.plot_component_means(ax2, inputs, params, "means") is ax2
    plotting.plot_component_means(ax3, inputs, params, "every 7th", every=7)
    fig3, ax4 = plotting.new_axes("$t$", r"$\pi$")
    # pi of component 3 is at most 0.25 (its first input): with threshold exactly that, it
    # is drawn thick; the second case's threshold makes it faint.
    params = _params(3)
    top = float(params.pi[:, 2].max())
    assert plotting.plot_mixing_coefficients(ax4, [1.0, 0.0, 0.5], params, threshold=top) is ax4
    fig4, ax5 = plotting.new_axes("$t$", r"$\pi$")
    plotting.plot_mixing_coefficients(ax5, [1.0, 0.0, 0.5], params, threshold=0.3)
    fig5, ax6 = plotting.new_axes("$t$", r"$\pi$")  # the default threshold, 8 styles in turn
    k = 8
    pi = np.full((2, k), 1.0 / k)
    flat = MixtureParameters(torch.tensor(np.log(pi)), torch.zeros(2, k, 1), torch.ones(2, k, 1))
    plotting.plot_mixing_coefficients(ax6, [0.0, 1.0], flat)
    return [fig, fig2, fig3, fig4, fig5], ["plot_components", "plot_component_means",
                                           "plot_mixing_coefficients"]  # fmt: skip


def case_slices():
    x = np.linspace(-1.0, 1.0, 5)
    at = np.array([0.25, 0.5])
    curves = {"one": np.stack([x**2, x + 1]), "two": np.stack([1 - x, 2 * x]),
              "three": np.stack([x, x**3])}  # fmt: skip
    data = [np.array([-0.9, -0.5, 0.0, 0.1, 0.95]), np.array([0.3, 0.4])]
    fig, axes = plotting.plot_slices(x, curves, at, "$x$", data=data)
    fig2, _ = plotting.plot_slices(x, {"only": curves["one"]}, at, "u", title="t={:.2f}",
                                   ylabel="p")  # fmt: skip
    return [fig, fig2], ["plot_slices"]


def case_mixture_slice():
    x = np.linspace(-2.0, 2.0, 9)
    params = _params(3)
    one = MixtureParameters(params.log_pi[2:], params.mu[2:], params.sigma[2:])
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3)
    assert plotting.plot_mixture_slice(ax1, x, one) is ax1
    # Component 3's pi there (0.05) as the threshold: it is drawn (pi >= threshold).
    plotting.plot_mixture_slice(ax2, x, one, exact=np.abs(x), label="m",
                                threshold=float(one.pi[0, 2]))  # fmt: skip
    plotting.plot_mixture_slice(ax3, x, one, components=False)
    fig2, _ = plotting.plot_mixture_slices(x, params, [0.0, 0.5, 1.0], exact=np.stack([x, -x, x]))
    fig3, _ = plotting.plot_mixture_slices(x, params, [0.0, 0.5, 1.0], threshold=0.2,
                                           label="n", xlabel="u", title="at {:g}")  # fmt: skip
    return [fig, fig2, fig3], ["plot_mixture_slice", "plot_mixture_slices"]


def case_arm():
    fig, ax = plotting.workspace_axes("workspace")
    points = np.array([[0.5, 0.25], [-0.25, 0.75], [0.0, -0.5]])
    assert plotting.plot_positions(ax, points, "hands") is ax
    plotting.plot_positions(ax, points[::-1], "hollow", kind="data", marker="o", size=5.0,
                            hollow=True, alpha=0.25)  # fmt: skip
    theta = np.array([[0.0, np.pi / 2], [np.pi / 4, -np.pi / 4]])
    assert plotting.plot_arm(ax, theta, "arms") is ax
    plotting.plot_arm(ax, theta[:1], "exact arm", kind="exact", style="--", lengths=(0.5, 0.5))
    mu = np.array([[0.5, 0.0], [0.0, 0.5]])
    tril = np.array([[[0.2, 0.0], [0.1, 0.1]], [[0.05, 0.0], [0.0, 0.3]]])
    assert plotting.plot_ellipses(ax, mu, tril, "components") is ax
    plotting.plot_ellipses(ax, mu[:1], tril[:1], "one", kind="other", n_std=1.0, style=":")
    plotting.finish(ax)
    fig2, _ = plotting.workspace_axes()
    return [fig, fig2], ["workspace_axes", "plot_positions", "plot_arm", "plot_ellipses"]


def case_training():
    fig, _ = plotting.plot_loss(np.array([3.0, 2.0, 1.5, 1.25]), "NLL", reference=1.0,
                                reference_label="exact")  # fmt: skip
    fig2, _ = plotting.plot_loss(History([2.0, 1.0]), "loss")
    runs = {f"run {i}": np.array([4.0, 3.0, 2.0, 2.5, 3.0]) + i for i in range(6)}
    runs["run 1"] = np.array([4.0, 3.0, 2.0, 1.0, 0.5])  # lowest at the end
    runs["run 2"] = np.array([1.0, 3.0, 2.0, 2.5, 3.0])  # lowest before first_epoch
    fig3, _ = plotting.plot_loss_runs(runs, "loss", first_epoch=2)  # run 0: lowest at 2
    fig4, _ = plotting.plot_loss_runs({"a": [1.0, 0.5, 0.75]}, "loss", mark_lowest=False)
    fig5, _ = plotting.plot_loss_runs({"b": [1.0, 0.5, 0.75], "c": [0.5, 1.0, 2.0]}, "l")
    histories = {f"h{i}": _history(4, 1.0 + i, np.array([3.0, 2.0, 1.0, 0.5]) - i)
                 for i in range(5)}  # fmt: skip
    fig6, _ = plotting.plot_diagnostics(histories, kinds={"h1": "exact"}, reference=0.25,
                                        reference_label="exact NLL")  # fmt: skip
    fig7, _ = plotting.plot_diagnostics({"only": _history(3, 1.0, [1.0, 0.5, 0.25])})
    return [fig, fig2, fig3, fig4, fig5, fig6, fig7], ["plot_loss", "plot_loss_runs",
                                                       "plot_diagnostics"]  # fmt: skip


def case_evaluation():
    fig, ax = plotting.new_axes("K", "score")
    scores = np.array([[1.0, 2.0, 4.0], [2.0, 2.0, 2.0], [3.0, 5.0, 3.0]])
    assert plotting.plot_k_curve(ax, [1, 2, 5], scores, "model") is ax
    plotting.plot_k_curve(ax, [1, 2, 5], scores + 1, "other", kind="other", offset=1.25)
    plotting.finish(ax)
    fig2, (ax2, ax3) = plt.subplots(1, 2)
    u = np.array([0.0, 0.05, 0.15, 0.15, 0.35, 0.5, 0.55, 0.75, 0.95, 1.0, 0.45, 0.65])
    assert plotting.plot_pit(ax2, u, "PIT") is ax2
    plotting.plot_pit(ax3, u, "PIT 4", kind="other", bins=4)
    fig3, _ = plotting.plot_gap_decomposition({"total": (3.0, 0.5), "a": (2.0, 0.0),
                                               "b": (1.0, 0.25)}, total="total")  # fmt: skip
    fig4, _ = plotting.plot_gap_decomposition({"x": (-1.0, 0.5)}, xlabel="bits")
    return [fig, fig2, fig3, fig4], ["plot_k_curve", "plot_pit", "plot_gap_decomposition"]


def case_architecture():
    fig, _ = plotting.plot_architecture()
    fig2, _ = plotting.plot_architecture(n_inputs=2, n_hidden=3, n_components=2,
                                         out_features=2)  # fmt: skip
    fig3, _ = plotting.plot_architecture(n_inputs=1, n_hidden=17, n_components=1)
    fig4, _ = plotting.plot_architecture(n_inputs=6, n_hidden=2, n_components=1)
    return [fig, fig2, fig3, fig4], ["plot_architecture"]


class _Snapshots(AbstractMovieWriter):
    """A movie writer that describes the figure as the animation left it (at ``setup``, before
    the first frame is drawn again) and at every frame, instead of encoding it."""

    def __init__(self):
        super().__init__(fps=4)
        self.frames = []

    def setup(self, fig, outfile, dpi=None):
        super().setup(fig, outfile, dpi)
        # The animation's figure is laid out once (constrained layout, from font metrics):
        # its axes positions are not compared.
        self.frames.append(describe(fig, positions=False))

    def grab_frame(self, **savefig_kwargs):
        self.frames.append(describe(self.fig, positions=False))

    def finish(self):
        pass


def _animation(anim, tmp_path):
    writer = _Snapshots()
    anim.save(tmp_path / "frames", writer=writer)
    frames = writer.frames
    return {"interval": _num(anim.event_source.interval), "frames": len(frames) - 1,
            "start": frames[0], "first": frames[1], "last": frames[-1]}  # fmt: skip


def case_animation(tmp_path):
    rng = np.random.default_rng(5)
    # An even grid: on an uneven one pcolorfast draws a PcolorImage, whose set_array raises
    # NotImplementedError, so animate_density cannot animate it.
    t, x = np.array([0.0, 0.5, 1.0]), np.array([-1.0, -0.5, 0.0, 0.5])
    densities = np.round(rng.uniform(0.05, 40.0, (3, 3, 4)), 3)
    plain = plotting.animate_density(t, x, densities, [0, 10, 1000])
    means = np.round(rng.uniform(-1.0, 1.0, (1, 2, 3)), 3)
    weights = np.array([[[0.5, 0.25, 0.25], [0.125, 0.375, 0.5]]])
    dots = plotting.animate_density(t, x, densities[:1], [7], means, weights,
                                    component_inputs=[0.25, 0.75], interval=100,
                                    figsize=(3.0, 2.0), dpi=50, vmin=0.5, vmax=20.0)  # fmt: skip
    return {"plain": _animation(plain, tmp_path), "dots": _animation(dots, tmp_path)}


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}
CALLS = {"animation": ["animate_density"]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_geometry(name, tmp_path):
    if name == "animation":
        check(name, CASES[name](tmp_path))
        return
    figures, calls = CASES[name]()
    CALLS[name] = calls
    check(name, {"functions": calls, "figures": [describe(f) for f in figures]})


def test_every_drawing_helper_has_a_snapshot():
    called = {f for name, calls in _snapshot().items()
              for f in (CALLS["animation"] if name == "animation" else calls["functions"])}  # fmt: skip
    drawing = set(plotting.__all__) - NOT_DRAWING
    assert drawing <= called, f"no geometry snapshot draws {sorted(drawing - called)}"


def test_snapshot_holds_only_the_cases():
    assert UPDATE or set(_snapshot()) == set(CASES), "stale cases in the snapshot"
