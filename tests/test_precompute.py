"""The models in book/models/ are what benchmarks/precompute_truth.py declares and trains."""

import pytest

from mdn_src import MDN, io

from .helpers import ROOT, load_script

precompute = load_script("precompute_truth")

SAVED = [(name, seed) for name, recipe in precompute.RECIPES.items() for seed in recipe.seeds]


@pytest.mark.parametrize(("name", "seed"), SAVED)
def test_saved_model_has_the_declared_configuration(name, seed):
    path = precompute.model_path(name, seed)
    assert path.parent == ROOT / "book" / "models"
    model = io.load(path, MDN)
    assert model.get_config() == precompute.build(name, seed).get_config()


def test_saved_models_are_small():
    total = sum(precompute.model_path(name, seed).stat().st_size for name, seed in SAVED)
    assert total < 2 * 2**20


@pytest.mark.parametrize("name", list(precompute.RECIPES))
def test_recipe_trains_a_model_of_its_configuration(name):
    model, seconds = precompute.train(name, seed=0, epochs=2)
    assert model.get_config() == MDN(**precompute.RECIPES[name].config).get_config()
    assert seconds > 0


def test_build_is_seeded():
    a, b = precompute.build("post", 3), precompute.build("post", 3)
    assert all((p == q).all() for p, q in zip(a.parameters(), b.parameters(), strict=True))
