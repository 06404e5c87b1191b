"""MDNRegressor: scikit-learn's protocol around the MDN, NumPy in and out, scores in nats."""

import doctest
import importlib.util
import pickle
import sys

import numpy as np
import pytest
import scipy.sparse
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.utils.estimator_checks import check_estimator

from mdn_src import MDN, MDNRegressor, conditional_modes, mixture_log_prob, mixture_mean
from mdn_src import estimator as estimator_module
from mdn_src.estimator import NotFittedError

FAST = dict(hidden=(16,), epochs=150, lr=0.03)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny networks: one thread is ~20x faster than two fighting over a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _two_branches(n=240, seed=0):
    """y = +-(1.5 + x) + noise: the conditional mean is 0, the modes are the branches."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 1))
    branch = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return X, branch * (1.5 + X[:, 0]) + 0.1 * rng.standard_normal(n)


def _two_targets(n=150, seed=1):
    """Two features, two target columns on very different scales."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) * [1.0, 50.0] + [0.0, 10.0]
    Y = np.stack([np.sin(X[:, 0]), 300.0 + 40.0 * X[:, 1] / 50.0], 1)
    return X, Y + rng.normal(size=(n, 2)) * [0.1, 5.0]


@pytest.fixture(scope="module")
def bimodal():
    X, y = _two_branches()
    return X, y, MDNRegressor(n_components=3, **FAST).fit(X, y)


@pytest.fixture(scope="module")
def multi():
    X, Y = _two_targets()
    return X, Y, MDNRegressor(n_components=2, covariance="diagonal", **FAST).fit(X, Y)


def _standardised(reg, X, Y):
    x = torch.as_tensor((X - reg.x_mean_) / reg.x_scale_, dtype=torch.float32)
    t = torch.as_tensor((Y - reg.y_mean_) / reg.y_scale_, dtype=torch.float32)
    with torch.no_grad():
        return reg.model_.mixture_parameters(x), t


def test_fitted_attributes(multi):
    X, Y, reg = multi
    assert isinstance(reg.model_, MDN) and reg.model_.n_components == 2
    assert (reg.n_features_in_, reg.n_outputs_) == (2, 2)
    np.testing.assert_allclose(reg.x_mean_, X.mean(0))
    np.testing.assert_allclose(reg.x_scale_, X.std(0))
    np.testing.assert_allclose(reg.y_mean_, Y.mean(0))
    np.testing.assert_allclose(reg.y_scale_, Y.std(0))
    assert reg.loss_curve_.shape == (150,) and reg.loss_curve_.dtype == np.float64
    assert reg.loss_curve_[-1] < reg.loss_curve_[0] - 0.5


def test_shapes_for_one_target(bimodal):
    X, y, reg = bimodal
    for kind in ("mean", "mode"):
        out = reg.predict(X[:7], kind=kind)
        assert out.shape == (7,) and out.dtype == np.float64
    draws = reg.sample(X[:7], 11, random_state=0)
    assert draws.shape == (11, 7) and draws.dtype == np.float64
    assert reg.log_prob(X[:7], y[:7]).shape == (7,)


def test_shapes_for_two_targets(multi):
    X, Y, reg = multi
    assert reg.predict(X[:5]).shape == (5, 2)
    assert reg.predict(X[:5], kind="mode").shape == (5, 2)
    assert reg.sample(X[:5], 3, random_state=1).shape == (3, 5, 2)


def test_a_2d_single_column_y_keeps_its_column():
    X, y = _two_branches(60)
    reg = MDNRegressor(n_components=2, hidden=(4,), epochs=5).fit(X, y[:, None])
    assert reg.predict(X[:3]).shape == (3, 1) and reg.sample(X[:3], 2).shape == (2, 3, 1)


def test_predict_undoes_the_scaling(multi):
    X, Y, reg = multi
    params, _ = _standardised(reg, X[:9], Y[:9])
    mean = mixture_mean(params).double().numpy() * reg.y_scale_ + reg.y_mean_
    np.testing.assert_allclose(reg.predict(X[:9]), mean, rtol=1e-12)
    mode = conditional_modes(params).highest.double().numpy() * reg.y_scale_ + reg.y_mean_
    np.testing.assert_allclose(reg.predict(X[:9], kind="mode"), mode, rtol=1e-12)
    # in the data's units: the second target lives near 300, not near 0
    assert np.abs(reg.predict(X).mean(0) - Y.mean(0)).max() < 0.2 * Y.std(0).max()


def test_mean_and_mode_differ_on_two_branches(bimodal):
    X, _, reg = bimodal
    mean, mode = reg.predict(X), reg.predict(X, kind="mode")
    assert np.abs(mean).mean() < 0.4  # the branches average out
    branch = 1.5 + X[:, 0]
    assert np.median(np.abs(np.abs(mode) - branch)) < 0.15  # the mode sits on a branch
    draws = reg.sample(X[:50], 400, random_state=0)
    assert 0.35 < (draws > 0).mean() < 0.65  # both branches drawn
    assert np.median(np.abs(np.abs(draws) - branch[:50])) < 0.2


def test_score_is_mean_log_prob_minus_log_scale(multi):
    X, Y, reg = multi
    params, t = _standardised(reg, X, Y)
    expected = mixture_log_prob(params, t).double().numpy() - np.log(reg.y_scale_).sum()
    np.testing.assert_allclose(reg.log_prob(X, Y), expected, rtol=1e-12)
    assert reg.score(X, Y) == pytest.approx(expected.mean(), rel=1e-12)
    assert np.log(reg.y_scale_).sum() > 3  # the correction is not negligible here
    w = np.arange(len(X), dtype=float)
    assert reg.score(X, Y, sample_weight=w) == pytest.approx(np.average(expected, weights=w))


def test_score_without_standardisation_is_the_raw_log_prob():
    X, y = _two_branches(100)
    reg = MDNRegressor(n_components=2, hidden=(8,), epochs=20, standardize=False).fit(X, y)
    assert reg.y_scale_.tolist() == [1.0] and reg.x_mean_.tolist() == [0.0]
    with torch.no_grad():
        params = reg.model_.mixture_parameters(torch.as_tensor(X, dtype=torch.float32))
    t = torch.as_tensor(y[:, None], dtype=torch.float32)
    assert reg.score(X, y) == pytest.approx(float(mixture_log_prob(params, t).double().mean()))


def test_score_shifts_by_the_log_jacobian_when_y_is_rescaled():
    """Fitting c y + b (c > 0) learns the same standardised model: scores drop by D log c."""
    X, Y = _two_targets(120)
    c, b = np.array([100.0, 0.5]), np.array([-3.0, 7.0])
    kwargs = dict(n_components=2, hidden=(8,), epochs=60, lr=0.03)
    reg = MDNRegressor(**kwargs).fit(X, Y)
    scaled = MDNRegressor(**kwargs).fit(X, c * Y + b)
    shift = np.log(c).sum()
    assert scaled.score(X, c * Y + b) == pytest.approx(reg.score(X, Y) - shift, abs=1e-4)
    np.testing.assert_allclose(scaled.predict(X), c * reg.predict(X) + b, rtol=1e-4)
    # and rescaling X changes nothing
    moved = MDNRegressor(**kwargs).fit(10 * X - 4, Y)
    assert moved.score(10 * X - 4, Y) == pytest.approx(reg.score(X, Y), abs=1e-4)


def test_density_integrates_to_one_in_the_data_units(bimodal):
    X, y, reg = bimodal
    big = MDNRegressor(n_components=3, **FAST).fit(X, 250.0 * y)  # y_scale ~ 400
    grid = np.linspace(-1500, 1500, 30001)
    for x in (-0.5, 0.7):
        density = np.exp(big.log_prob(np.full((grid.size, 1), x), grid))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-3)


def test_get_params_set_params_and_clone(bimodal):
    _, _, reg = bimodal
    params = reg.get_params()
    assert params["n_components"] == 3 and params["hidden"] == (16,) and params["seed"] == 0
    assert list(params) == sorted(params)  # scikit-learn's order
    assert set(params) == {
        "n_components", "hidden",
        # the head (HeadSpec)
        "family", "covariance", "sigma_min", "sigma_map", "df", "df_min", "beta_range",
        "off_diagonal",
        # the recipe (TrainConfig, all but diagnostics)
        "epochs", "lr", "optimizer", "momentum", "nesterov", "weight_decay", "batch_size",
        "seed", "validation_fraction", "patience", "schedule", "clip_grad_norm",
        "input_noise", "target_noise", "compile",
        "standardize", "dtype",
    }  # fmt: skip
    twin = clone(reg)
    assert twin is not reg and twin.get_params() == params and not hasattr(twin, "model_")
    assert twin.set_params(n_components=7, lr=0.5) is twin
    assert twin.get_params() == {**params, "n_components": 7, "lr": 0.5}
    assert MDNRegressor(**twin.get_params()).get_params() == twin.get_params()
    with pytest.raises(ValueError, match="n_component"):
        twin.set_params(n_component=2)


def test_fit_is_deterministic_and_leaves_the_global_rng_alone():
    X, y = _two_branches(80)
    state = torch.random.get_rng_state()
    a = MDNRegressor(n_components=2, hidden=(8,), epochs=10, batch_size=16).fit(X, y)
    assert torch.equal(torch.random.get_rng_state(), state)
    b = MDNRegressor(n_components=2, hidden=(8,), epochs=10, batch_size=16).fit(X, y)
    c = MDNRegressor(n_components=2, hidden=(8,), epochs=10, batch_size=16, seed=1).fit(X, y)
    assert np.array_equal(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))


def test_sample_random_state(bimodal):
    X, _, reg = bimodal
    first = reg.sample(X[:4], 5, random_state=3)
    assert np.array_equal(first, reg.sample(X[:4], 5, random_state=3))
    assert not np.array_equal(first, reg.sample(X[:4], 5, random_state=4))
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(reg.sample(X[:4], 5, g1), reg.sample(X[:4], 5, g2))
    rs = np.random.RandomState(2)
    assert reg.sample(X[:4], 5, rs).shape == (5, 4)
    gen = torch.Generator().manual_seed(3)
    assert np.array_equal(reg.sample(X[:4], 5, gen), first)


def test_grid_search_picks_three_components_over_one():
    X, y = _two_branches()
    search = GridSearchCV(
        MDNRegressor(**{**FAST, "epochs": 80}),
        {"n_components": [1, 3]},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    assert search.best_params_ == {"n_components": 3}
    one, three = search.cv_results_["mean_test_score"]
    assert three - one > 1.0  # nats per point: two branches are not one wide Gaussian
    assert search.best_estimator_.model_.n_components == 3


def test_float64_integer_and_object_inputs():
    X, y = _two_branches(60)
    reg = MDNRegressor(n_components=2, hidden=(4,), epochs=5, dtype="float64")
    reg.fit(np.round(10 * X).astype(int), np.round(y).astype(np.int64))
    assert reg.model_.head.weight.dtype == torch.float64
    assert reg.predict(np.zeros((2, 1), dtype=int)).dtype == np.float64
    same = reg.predict(X.astype(object)), reg.predict(torch.as_tensor(X)), reg.predict(X)
    assert np.array_equal(same[0], same[2]) and np.array_equal(same[1], same[2])


@pytest.mark.filterwarnings("ignore:Skipping check")
def test_passes_scikit_learns_estimator_checks():
    results = check_estimator(MDNRegressor(n_components=2, hidden=(4,), epochs=5), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])) for r in results if r["status"] == "failed"]
    assert len(results) > 30 and failed == []


def test_angular_targets_are_not_rescaled():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (80, 1))
    angle = np.angle(np.exp(1j * (3 * X[:, 0] + 0.1 * rng.standard_normal(80))))
    reg = MDNRegressor(n_components=2, hidden=(8,), epochs=20, family="von_mises")
    reg.fit(X, angle)
    assert reg.y_mean_.tolist() == [0.0] and reg.y_scale_.tolist() == [1.0]
    assert reg.x_scale_[0] != 1.0
    assert np.all(np.abs(reg.sample(X[:5], 20, random_state=0)) <= np.pi)
    with pytest.raises(ValueError, match="von_mises family has no mean"):
        reg.predict(X[:2])


def test_pickles(bimodal):
    X, _, reg = bimodal
    again = pickle.loads(pickle.dumps(reg))
    assert np.array_equal(again.predict(X[:5]), reg.predict(X[:5]))


def test_not_fitted():
    reg = MDNRegressor()
    for call in (
        lambda: reg.predict(np.zeros((2, 1))),
        lambda: reg.sample(np.zeros((2, 1)), 3),
        lambda: reg.score(np.zeros((2, 1)), np.zeros(2)),
    ):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


@pytest.mark.parametrize(
    "X, y, error, match",
    [
        (np.zeros(5), np.zeros(5), ValueError, "X must be 2-D"),
        (np.zeros((5, 1)), np.zeros(4), ValueError, "same number of rows, got 5 and 4"),
        (np.zeros((5, 1)), np.zeros((5, 1, 1)), ValueError, "y must be 1-D .* or 2-D"),
        (np.full((5, 1), np.nan), np.zeros(5), ValueError, "X contains NaN"),
        (np.zeros((5, 1)), np.array(["a"] * 5), TypeError, "y must hold real numbers"),
        (np.zeros((0, 1)), np.zeros(0), ValueError, "X must hold at least one row"),
        (np.zeros((5, 0)), np.zeros(5), ValueError, r"X has 0 feature\(s\)"),
        (np.zeros((5, 1), complex), np.zeros(5), ValueError, "Complex data not supported"),
        (scipy.sparse.csr_matrix(np.eye(5)), np.zeros(5), TypeError, "X is a sparse matrix"),
        (np.array([[{}]] * 5, dtype=object), np.zeros(5), TypeError, "X must hold real numbers"),
    ],
)
def test_bad_fit_data(X, y, error, match):
    with pytest.raises(error, match=match):
        MDNRegressor(epochs=1).fit(X, y)


@pytest.mark.parametrize(
    "params, error, match",
    [
        (dict(n_components=0), ValueError, "n_components must be >= 1"),
        (dict(family="cauchy"), ValueError, "family must be one of"),
        (dict(epochs=0), ValueError, "epochs must be >= 1"),
        (dict(dtype="float16"), ValueError, "dtype must be one of"),
        (dict(seed=1.5), TypeError, "seed must be an int"),
        (dict(standardize="yes"), TypeError, "standardize must be a bool"),
        (dict(off_diagonal="tied"), ValueError, "off_diagonal"),
        (dict(sigma_map="relu"), ValueError, "sigma_map"),
        (dict(weight_decay=-1.0), ValueError, "weight_decay"),
        (dict(patience=5), ValueError, "patience"),  # needs validation data
        (dict(schedule="linear"), ValueError, "schedule"),
    ],
)
def test_bad_parameters_raise_at_fit(params, error, match):
    reg = MDNRegressor(hidden=(2,), epochs=1).set_params(**params)  # never at construction
    with pytest.raises(error, match=match):
        reg.fit(np.zeros((4, 1)), np.arange(4.0))


def test_bad_prediction_arguments(multi):
    X, Y, reg = multi
    with pytest.raises(
        ValueError, match="X has 1 features, but MDNRegressor is expecting 2 features"
    ):
        reg.predict(X[:, :1])
    with pytest.raises(ValueError, match="kind must be one of"):
        reg.predict(X, kind="median")
    with pytest.raises(ValueError, match="n must be >= 1"):
        reg.sample(X, 0)
    with pytest.raises(TypeError, match="random_state must be"):
        reg.sample(X, 2, random_state="seed")
    with pytest.raises(ValueError, match="y has 1 targets, but MDNRegressor was fitted with 2"):
        reg.score(X, Y[:, 0])


def test_works_without_scikit_learn(monkeypatch):
    """The module imports without scikit-learn and keeps the parameter protocol."""
    for name in ("sklearn", "sklearn.base", "sklearn.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import sklearn...` fail
    spec = importlib.util.spec_from_file_location(
        "mdn_src._estimator_without_sklearn", estimator_module.__file__
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.BaseEstimator.__module__ == spec.name  # the fallback, not sklearn's
    reg = module.MDNRegressor(n_components=2, hidden=(4,))
    assert reg.get_params()["n_components"] == 2 and reg.get_params()["hidden"] == (4,)
    assert reg.set_params(epochs=3) is reg and reg.epochs == 3
    assert repr(reg).startswith("MDNRegressor(") and "epochs=3" in repr(reg)
    with pytest.raises(ValueError, match="invalid parameter 'bogus'"):
        reg.set_params(bogus=1)
    with pytest.raises(module.NotFittedError) as info:
        reg.predict(np.zeros((1, 1)))
    assert isinstance(info.value, ValueError) and isinstance(info.value, AttributeError)
    X, y = _two_branches(40)
    assert reg.fit(X, y).predict(X[:2]).shape == (2,)


def test_docstring_example_runs():
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(MDNRegressor, globs={"MDNRegressor": MDNRegressor}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries > 0


def test_training_options_reach_fit():
    """Early stopping on a validation split and the rest of fit's options pass through:
    the model is the one a direct fit with the same options on the standardised data gives."""
    from mdn_src import fit

    X, y = _two_branches(n=120)
    options = dict(weight_decay=1e-4, schedule="cosine", validation_fraction=0.25, patience=10,
                   input_noise=0.05)  # fmt: skip
    reg = MDNRegressor(n_components=2, **FAST, **options).fit(X, y)
    x = torch.as_tensor((X - reg.x_mean_) / reg.x_scale_, dtype=torch.float32)
    t = torch.as_tensor(((y - reg.y_mean_) / reg.y_scale_)[:, None], dtype=torch.float32)
    torch.manual_seed(0)
    direct = MDN(1, 1, n_components=2, hidden=(16,))
    history = fit(direct, x, t, epochs=FAST["epochs"], lr=FAST["lr"], seed=0, **options)
    np.testing.assert_array_equal(reg.loss_curve_, np.asarray(history))
    mine, theirs = reg.model_.state_dict(), direct.state_dict()
    assert mine.keys() == theirs.keys()
    for key, value in mine.items():  # weights bit for bit; the head's settings (extra state) equal
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value, theirs[key], rtol=0, atol=0)
        else:
            assert value == theirs[key], key


def test_sigma_map_reaches_the_model():
    X, y = _two_branches(n=60)
    reg = MDNRegressor(n_components=2, hidden=(4,), epochs=2, sigma_map="exp").fit(X, y)
    assert reg.model_.spec.sigma_map == "exp"


def test_from_config_trains_with_the_recipe():
    from mdn_src import TrainConfig

    X, y = _two_branches(60)
    recipe = TrainConfig(epochs=8, lr=0.02, batch_size=16, seed=3)
    a = MDNRegressor.from_config(recipe, n_components=2, hidden=(4,)).fit(X, y)
    b = MDNRegressor(n_components=2, hidden=(4,), epochs=8, lr=0.02, batch_size=16, seed=3).fit(
        X, y
    )
    assert a.config_ == recipe == b.config_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        MDNRegressor.from_config({"epochs": 8})
    with pytest.raises(TypeError, match="unknown parameters \\['epoch'\\]"):
        MDNRegressor(epoch=3)
