"""The recommended recipe (issue 25): its settings, how it reaches the estimator, and a
claim about what it trains to in a short run, checked over seeds."""

import dataclasses

import numpy as np
import pytest
import torch

from mdn_src import (
    MDN,
    RECOMMENDED_MODEL,
    MDNRegressor,
    TrainConfig,
    fit,
    make_toy_data,
    oracle,
    recommended_config,
)
from mdn_src.training.recipe import RECOMMENDED_EPOCHS


def test_recommended_config_holds_the_documented_recipe():
    config = recommended_config()
    assert isinstance(config, TrainConfig)
    assert (config.epochs, config.lr, config.batch_size) == (RECOMMENDED_EPOCHS, 0.005, 250)
    assert (config.weight_decay, config.schedule, config.input_noise) == (1e-5, "cosine", 0.03)
    assert config.optimizer == "adam" and config.target_noise is None and config.seed == 0
    assert dict(RECOMMENDED_MODEL) == {
        "n_components": 10,
        "hidden": (50, 50, 50),
        "family": "gennorm",
    }


def test_recommended_config_takes_changes_and_checks_them():
    assert recommended_config(epochs=7, seed=3).epochs == 7
    assert recommended_config(epochs=7, seed=3).seed == 3
    with pytest.raises(ValueError, match="lr must be"):
        recommended_config(lr=-1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        recommended_config(colour="red")


def test_recommended_model_settings_cannot_be_changed_in_place():
    with pytest.raises(TypeError):
        RECOMMENDED_MODEL["n_components"] = 3


def test_the_estimator_gets_every_setting_of_the_recipe():
    reg = MDNRegressor.recommended()
    for field in dataclasses.fields(TrainConfig):
        if field.name != "diagnostics":
            assert getattr(reg, field.name) == getattr(recommended_config(), field.name)
    for name, value in RECOMMENDED_MODEL.items():
        assert getattr(reg, name) == value
    assert reg.standardize is True


def test_the_estimator_takes_changes_to_model_and_recipe_alike():
    reg = MDNRegressor.recommended(epochs=12, seed=4, n_components=3, sigma_min=0.01)
    assert (reg.epochs, reg.seed, reg.n_components, reg.sigma_min) == (12, 4, 3, 0.01)
    assert reg.family == "gennorm" and reg.batch_size == 250
    with pytest.raises(TypeError, match="unknown parameters"):
        MDNRegressor.recommended(colour="red")


def test_the_estimator_trains_the_recipes_model():
    x, t = make_toy_data(300, seed=0, inverse=True)
    reg = MDNRegressor.recommended(epochs=2).fit(x, t)
    model = reg.model_
    assert model.family == "gennorm" and model.n_components == 10
    assert model.hidden == (50, 50, 50)
    assert reg.config_ == recommended_config(epochs=2)


def test_the_low_level_pair_equals_the_estimator_on_standardised_data():
    """``MDN(**RECOMMENDED_MODEL)`` + ``fit(recommended_config())`` on standardised data is
    what the estimator trains: the same weights, bit for bit, on one machine."""
    x, t = make_toy_data(300, seed=1, inverse=True)
    reg = MDNRegressor.recommended(epochs=3, seed=2).fit(x, t)
    x, t = x.astype(np.float64), t.astype(np.float64)  # the estimator scales in float64
    xs = (x - x.mean(0)) / x.std(0)
    ts = (t - t.mean(0)) / t.std(0)
    torch.manual_seed(2)
    model = MDN(1, 1, **RECOMMENDED_MODEL)
    fit(model, torch.as_tensor(xs, dtype=torch.float32), torch.as_tensor(ts, dtype=torch.float32),
        recommended_config(epochs=3, seed=2))  # fmt: skip
    for (name, a), b in zip(
        model.state_dict().items(), reg.model_.state_dict().values(), strict=True
    ):
        if isinstance(a, torch.Tensor):
            torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)


def test_a_short_run_beats_the_unconditional_density_in_every_seed():
    """A claim, not last bits: 60 epochs (about 1 s) of the recipe on the post's 2,500
    points reach a held-out NLL below -1.1 in each of three seeds. The t's marginal
    (uniform on [0, 1]) scores 0; the Bayes limit is -1.28. Measured at 60 epochs, seeds
    0-2: the recipe -1.16 to -1.19; without standardising (and noise 0.01 in the data's
    units, chapter 11's recipe) -0.60 to -0.83; at a constant learning rate -1.07 to -1.11."""
    x, t = make_toy_data(2500, seed=0, inverse=True)
    x_test, t_test = make_toy_data(5000, seed=99, inverse=True)
    nll = [
        -MDNRegressor.recommended(epochs=60, seed=s).fit(x, t).score(x_test, t_test)
        for s in range(3)
    ]
    assert max(nll) < -1.1, nll
    assert min(nll) > oracle.bayes_nll(inverse=True) - 0.05, nll  # not better than possible
    assert np.all(np.isfinite(nll))
