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
# (ch-data)=
# # The toy problem
#
# **In this chapter** you will generate the data set every later chapter learns from.
#
# %% tags=["remove-cell"]
# On Colab or Binder, install the book's library from the repository; locally (and under
# nbval) mdn_src is already importable and this cell does nothing.
try:
    import mdn_src  # noqa: F401
except ImportError:
    # %pip install --quiet "mdn_src @ git+https://github.com/mdn-book/mdn-book"
    pass

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from myst_nb import glue

from mdn_src import make_toy_data, plotting

torch.set_num_threads(1)  # bit-identical floats whatever the machine's core count
x_train, t_train = make_toy_data(2500, seed=0)
print(x_train.shape, t_train.shape, x_train.dtype)

# %%
glue("n_train", len(x_train), display=False)
print(f"t ranges over [{t_train.min():.3f}, {t_train.max():.3f}]")

# %% [markdown]
# We drew {glue:text}`n_train` points.

# %% mystnb={"figure": {"caption": "The training data: t = f(x) plus uniform noise.", "name": "fig-data"}, "image": {"alt": "Scatter plot of 2,500 points along a wavy rising curve."}}
fig, ax = plotting.new_axes("$x$", "$t$")
plotting.plot_data(ax, x_train, t_train)
plotting.finish(ax)
plt.show()

# %% [markdown]
# As {numref}`fig-data` shows, ...
