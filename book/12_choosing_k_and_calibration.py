# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# (ch-k-calibration)=
# # Choosing K, and calibration
#
# Download this chapter as a notebook ({download}`12_choosing_k_and_calibration.ipynb <./12_choosing_k_and_calibration.ipynb>`) or as a
# Python script ({download}`12_choosing_k_and_calibration.py <./12_choosing_k_and_calibration.py>`), or open it in Colab or Binder from
# the rocket icon above.
#
# This chapter is being written.

# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import torch

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count
