"""book/models/cache holds exactly what benchmarks/ship_models.py declares, for today's source.

The chapters load these files through ``fit_cached(..., shipped="models/cache")``: a stale
file is never used (its key no longer matches), but the chapter would then train for half a
minute and warn, and nbval would fail on the warning. These tests say so first, and name
the fix.
"""

import pytest
import torch

from mdn_src import fit
from mdn_src.cache import _load

from .helpers import load_script

ship = load_script("ship_models")

pinned = pytest.mark.skipif(
    not ship.pinned(), reason="the shipped keys are those of make test's pinned CPU code paths"
)


@pinned
@pytest.mark.parametrize("call", ship.CALLS, ids=lambda call: call.name)
def test_every_declared_call_has_its_current_file(call):
    assert torch.get_num_threads() == 1  # part of the key; conftest sets it
    assert (ship.SHIPPED / call.file_name()).exists(), (
        f"no shipped result for {call.name} under today's training source: run `make models`"
    )


@pinned
def test_the_folder_holds_nothing_else():
    expected = {call.file_name() for call in ship.CALLS}
    assert {path.name for path in ship.SHIPPED.iterdir()} == expected


@pinned
def test_a_shipped_model_is_what_training_gives_bit_for_bit():
    """Retrain the model the figures show (seed 0, 3,000 epochs, about 11 s) and compare
    every weight and every epoch's loss with the shipped file: the key's promise, kept."""
    call = ship.CALLS[0]
    stored_model = call.model()
    stored = _load(ship.SHIPPED / call.file_name(), stored_model)
    fresh_model = call.model()
    fresh = fit(fresh_model, *call.data(), **call.fit_kwargs)
    assert (fresh.train == stored.train).all()
    for (name, a), b in zip(
        fresh_model.state_dict().items(), stored_model.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
