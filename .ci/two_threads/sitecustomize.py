"""Float environment (c): every chapter calls ``torch.set_num_threads(1)``; here that call
sets two threads instead, so intra-op reductions split differently and training ends
elsewhere. Put this folder on PYTHONPATH (``.ci/float-env c ...`` does) and every Python
process, nbval's kernels included, imports it at start."""

import torch

_set_num_threads = torch.set_num_threads


def _two_threads(n: int) -> None:
    _set_num_threads(2 if n == 1 else n)


torch.set_num_threads = _two_threads
torch.set_num_threads(1)
