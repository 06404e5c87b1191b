import pytest
import torch

# One intra-op thread: the tests' tensors are small, and on the shared two-core test machines
# a second thread makes them about ten times slower (the threads contend instead of helping).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same torch state, so a failure reproduces exactly."""
    torch.manual_seed(1234)
