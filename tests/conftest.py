import pytest
import torch


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same torch state, so a failure reproduces exactly."""
    torch.manual_seed(1234)
