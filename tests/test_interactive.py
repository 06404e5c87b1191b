"""mdn_src.plotting.interactive: the weights the page receives, and what it is told to draw.

The JavaScript itself runs in tests/test_site.py (a browser); here the page's JSON is read
back and checked against the model with an independent NumPy forward pass.
"""

import json
import re

import numpy as np
import pytest
import torch

from mdn_src import MDN, MLP, oracle, plotting


def _page_data(fig) -> dict:
    """The JSON the figure's script reads, as the browser parses it."""
    found = re.search(r'<script type="application/json" class="mdn-data">(.*?)</script>', fig.html)
    return json.loads(found.group(1))


def _forward(spec: dict, t: np.ndarray):
    """log pi, mu, sigma ``[N, K]`` from the exported weights, in float64 NumPy."""
    h = t.reshape(-1, 1).astype(np.float64)  # [N, 1]
    for layer in spec["hidden"]:
        h = np.tanh(h @ np.array(layer["weight"]).T + np.array(layer["bias"]))
    a = h @ np.array(spec["head"]["weight"]).T + np.array(spec["head"]["bias"])  # [N, 3K]
    K = spec["n_components"]
    logits = a[:, :K]
    top = logits.max(-1, keepdims=True)
    log_pi = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))
    raw = a[:, 2 * K :]
    positive = {
        "softplus": np.logaddexp(0.0, raw),
        "exp": np.exp(raw),
        "elu": np.where(raw > 0, 1 + raw, np.exp(np.minimum(raw, 0))),
    }[spec["sigma_map"]]
    return log_pi, a[:, K : 2 * K], spec["sigma_min"] + positive


def _model(seed=0, **kwargs) -> MDN:
    torch.manual_seed(seed)
    model = MDN(1, 1, n_components=kwargs.pop("K", 4), hidden=kwargs.pop("hidden", 6), **kwargs)
    with torch.no_grad():  # larger weights than the initial ones: logits and scales spread out
        for p in model.parameters():
            p.mul_(3.0)
    return model


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"sigma_map": "exp", "hidden": [5, 3]},
        {"sigma_map": "elu", "covariance": "diagonal", "sigma_min": 0.05},
        {"K": 1},
    ],
)
def test_the_exported_weights_reproduce_the_mixture(settings):
    """A NumPy float64 forward pass from the page's JSON gives the model's own mixture: to
    1e-5 against torch's float32 forward pass, to 1e-12 against its float64 one."""
    model = _model(**settings)
    t = np.linspace(-1.5, 1.5, 41)
    log_pi, mu, sigma = _forward(_page_data(plotting.interactive_density(model, t, t)), t)
    for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
        with torch.no_grad():
            want = model.to(dtype).mixture_parameters(torch.tensor(t, dtype=dtype)[:, None])
        np.testing.assert_allclose(log_pi, want.log_pi.double(), rtol=tol, atol=tol)
        np.testing.assert_allclose(mu, want.mu[..., 0].double(), rtol=tol, atol=tol)
        np.testing.assert_allclose(sigma, want.sigma[..., 0].double(), rtol=tol, atol=tol)
    # The weights spread the mixture out: the comparisons above could fail.
    assert sigma.max() / sigma.min() > 2 and (log_pi.shape[1] == 1 or log_pi.std() > 0.5)


def test_the_exported_weights_are_the_float32_weights_exactly():
    model = _model(hidden=[5, 3])
    spec = plotting.export_mdn(model)
    layers = [m for m in model.trunk if isinstance(m, torch.nn.Linear)] + [model.head]
    exported = [*spec["hidden"], spec["head"]]
    assert len(exported) == 3
    for layer, out in zip(layers, exported, strict=True):
        for name in ("weight", "bias"):
            got = torch.tensor(out[name], dtype=torch.float64)
            assert torch.equal(got, getattr(layer, name).detach().double()), name
    assert (spec["n_components"], spec["sigma_min"], spec["sigma_map"]) == (4, 1e-3, "softplus")


def test_the_exact_density_is_stored_as_runs_that_decode_to_it():
    """Each input's exact density, rebuilt from its runs [start, value], is the oracle's to
    7 significant digits (half a unit of the 7th, 5e-7); a box or two takes at most 5 runs (0, box, 0, box, 0)."""
    t = np.round(np.linspace(-0.1, 1.1, 25), 2)
    x = np.linspace(-0.15, 1.15, 261)
    data = _page_data(plotting.interactive_density(_model(), t, x, exact=oracle.inverse_density))
    table = oracle.inverse_density(x[None, :], t[:, None])
    for row, runs in zip(table, data["exact"], strict=True):
        assert len(runs) <= 5 and runs[0][0] == 0
        starts = [s for s, _ in runs]
        assert starts == sorted(starts)
        rebuilt = np.repeat([v for _, v in runs], np.diff([*starts, len(x)]))
        np.testing.assert_allclose(rebuilt, row, rtol=5e-7, atol=0)
    assert max(len(r) for r in data["exact"]) == 5  # some input has two boxes


def test_the_slider_starts_where_asked_and_labels_its_positions():
    t = np.round(np.linspace(-0.1, 1.1, 121), 2)
    fig = plotting.interactive_density(_model(), t, np.linspace(-1, 2, 50), start=0.4)
    slider = re.search(r'<input class="mdn-slider" type="range" min="0" max="(\d+)" '
                       r'step="1" value="(\d+)"', fig.html)  # fmt: skip
    assert slider.groups() == ("120", "50")  # t[50] = 0.40
    data = _page_data(fig)
    assert data["t_labels"][:2] == ["-0.10", "-0.09"] and data["t_labels"][50] == "0.40"
    assert data["t"] == t.tolist() and len(data["x"]) == 50 and data["exact"] is None
    middle = plotting.interactive_density(_model(), [0.0, 0.5, 1.0], [0, 1, 2])
    assert 'value="1"' in middle.html and _page_data(middle)["t_labels"] == ["0.0", "0.5", "1.0"]


def test_two_figures_on_a_page_have_their_own_ids_and_fetch_nothing():
    model, t = _model(), np.linspace(0, 1, 5)
    first, second = (plotting.interactive_density(model, t, t) for _ in range(2))
    assert first.element_id != second.element_id
    for fig in (first, second):
        assert fig.html.startswith(f'<div id="{fig.element_id}" class="mdn-interactive">')
        assert f'getElementById("{fig.element_id}")' in fig.html
        assert f'clipPath id="{fig.element_id}-clip"' in fig.html
        assert fig._repr_html_() == fig.html
        assert repr(fig) == f"InteractiveFigure(element_id={fig.element_id!r})"
        # The only address is the SVG namespace; no src or href loads anything.
        assert set(re.findall(r"https?://[^\s\"']+", fig.html)) == {"http://www.w3.org/2000/svg"}
        assert not re.search(r"\b(src|href)=", fig.html)
    named = plotting.interactive_density(model, t, t, element_id="slider-a")
    assert named.element_id == "slider-a" and 'id="slider-a-clip"' in named.html


def test_save_writes_a_standalone_page(tmp_path):
    fig = plotting.interactive_density(_model(), np.linspace(0, 1, 5), np.linspace(0, 1, 9))
    path = fig.save(tmp_path / "figure.html")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and fig.html in text
    assert 'name="viewport"' in text  # phone-sized screens get the page at their width


def test_data_that_would_close_the_script_is_escaped():
    fig = plotting.interactive_density(_model(), [0, 1], [0, 1, 2], t_name="</script>")
    assert _page_data(fig)["t_name"] == "</script>"
    assert fig.html.count("</script>") == 2  # the data's and the code's own


@pytest.mark.parametrize(
    "model, error, match",
    [
        (MLP(1, 1, hidden=3), TypeError, "model must be an mdn_src.MDN, got MLP"),
        (
            MDN(1, 1, 2, hidden=3, family="laplace"),
            ValueError,
            "Gaussian components, got 'laplace'",
        ),
        (MDN(2, 1, 2, hidden=3), ValueError, "in_features=2, out_features=1"),
        (MDN(1, 2, 2, hidden=3), ValueError, "in_features=1, out_features=2"),
    ],
)
def test_models_the_page_cannot_draw_are_refused(model, error, match):
    with pytest.raises(error, match=re.escape(match)):
        plotting.interactive_density(model, [0, 1], [0, 1, 2])
    with pytest.raises(error, match=re.escape(match)):
        plotting.export_mdn(model)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"t_values": [0.0]}, "t_values must be a vector [N] (or a column [N, 1]) of at least 2"),
        ({"t_values": np.zeros((2, 2))}, "got shape (2, 2)"),
        ({"t_values": [0.0, 1.0, 1.0]}, "t_values must be finite and strictly increasing"),
        ({"x_grid": [0.0, np.nan, 1.0]}, "x_grid must be finite and strictly increasing"),
        ({"x_grid": [0.0, 1.0]}, "x_grid must be a vector [N] (or a column [N, 1]) of at least 3"),
        ({"exact": lambda x, t: x[0]}, "must have shape [len(t_values), len(x_grid)] = (2, 3)"),
        ({"exact": lambda x, t: 0 * x - t - 1}, "exact must give finite, non-negative densities"),
        ({"mode_ratio": 1.0}, "mode_ratio must be in [0, 1), got 1.0"),
        ({"component_threshold": -0.1}, "component_threshold must be in [0, 1), got -0.1"),
    ],
)
def test_bad_arguments_are_refused_with_what_was_expected(kwargs, match):
    args = {"t_values": [0.0, 1.0], "x_grid": [0.0, 0.5, 1.0], **kwargs}
    with pytest.raises(ValueError, match=re.escape(match)):
        plotting.interactive_density(_model(), **args)


def test_a_column_of_inputs_is_accepted_as_test_grid_gives_it():
    column = np.linspace(0, 1, 4, dtype=np.float32)[:, None]
    data = _page_data(plotting.interactive_density(_model(), column, column[:, 0]))
    assert data["t"] == column[:, 0].astype(np.float64).tolist()
