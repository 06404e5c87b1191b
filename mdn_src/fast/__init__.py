"""The training fast path of a Gaussian MDN: internal API, documented and public by name.

``fit`` trains a Gaussian MDN with isotropic or diagonal scales without autograd's graph:
the loss and its gradient come in closed form (:mod:`~mdn_src.fast.head`), the gradient of
the network behind the head is set by hand, and torch's fused Adam kernel takes the step,
or one compiled function does all three (:mod:`~mdn_src.fast.step`). These names are public
so that benchmarks and tests use them without reaching into private code; users call
:func:`mdn_src.fit <mdn_src.training.fit>`, which picks them. Their signatures may change
between minor versions.
"""

from .head import EXP_FLOOR, GaussianHeadNLL, gaussian_head_nll, gaussian_head_nll_and_gradient
from .step import (
    ClosedFormGradients,
    FusedAdam,
    FusedAdamStep,
    closed_form_gradients,
    compile_options,
    fused_adam_step,
    has_closed_form,
)

__all__ = [
    "EXP_FLOOR",
    "ClosedFormGradients",
    "FusedAdam",
    "FusedAdamStep",
    "GaussianHeadNLL",
    "closed_form_gradients",
    "compile_options",
    "fused_adam_step",
    "gaussian_head_nll",
    "gaussian_head_nll_and_gradient",
    "has_closed_form",
]
