"""One file format for every saved model: configuration, dtype, library version and weights.

Models (:class:`~mdn_src.model.MDN`, :class:`~mdn_src.mlp.MLP`) are written with :func:`save`
and read with :func:`load`; the training cache (:func:`~mdn_src.training.fit_cached`) writes
the same format, with the training history as ``extra``, and reads it with :func:`read` then
:func:`build` (a new model) or :func:`restore` (into a model that exists). A file is a dict of plain containers and tensors, so it loads with
``torch.load(path, weights_only=True)``: no pickled classes, no code run on load.

=================== ==========================================================
entry               what it holds
=================== ==========================================================
``format``          ``"mdn_src"``
``format_version``  :data:`FORMAT_VERSION`; bumped whenever a change makes older
                    readers misread newer files, or the reverse
``model``           the class name, ``"MDN"`` or ``"MLP"``
``library_version`` the mdn_src that wrote it
``dtype``           the weights' dtype, e.g. ``"float32"``
``config``          the constructor's arguments (``get_config()``)
``state_dict``      the weights (and an MDN's head settings, its extra state)
``extra``           what the writer added: the cache stores the training
                    ``history`` and the ``inputs`` it was trained from
=================== ==========================================================
"""

from __future__ import annotations

import os

import torch
from torch import nn

from ._version import VERSION
from .mlp import MLP
from .model import MDN

__all__ = ["FORMAT_VERSION", "MODELS", "build", "load", "read", "restore", "save"]

#: The version of the layout above that this mdn_src writes and reads.
FORMAT_VERSION = 2
_FORMAT = "mdn_src"
#: The model classes a file can hold, by the name stored in it.
MODELS: dict[str, type[nn.Module]] = {"MDN": MDN, "MLP": MLP}


def _describe(path) -> str:
    try:
        return repr(os.fspath(path))
    except TypeError:  # a file object
        return repr(path)


def _kind(model: nn.Module) -> str:
    for name, cls in MODELS.items():
        if isinstance(model, cls):
            return name
    raise TypeError(f"model must be an MDN or an MLP, got {type(model).__name__}")


def save(model: nn.Module, path, *, extra: dict | None = None) -> None:
    """Write ``model`` (an MDN or MLP) to ``path`` in the format above.

    Arguments:
        model: the model; its tensors must share one floating dtype.
        path: a file name or a writable binary file object; overwritten if it exists.
        extra: plain values and tensors to store beside the model (``torch.load``'s
            ``weights_only`` must accept them).

    Example:
        >>> import os, tempfile
        >>> from mdn_src import MDN, io
        >>> mdn = MDN(1, 1, n_components=3, hidden=8)
        >>> path = os.path.join(tempfile.mkdtemp(), "mdn.pt")
        >>> io.save(mdn, path)
        >>> x = torch.linspace(-1, 1, 5).unsqueeze(1)
        >>> torch.equal(io.load(path).mixture_parameters(x).mu, mdn.mixture_parameters(x).mu)
        True
    """
    kind = _kind(model)
    if extra is not None and not isinstance(extra, dict):
        raise TypeError(f"extra must be a dict or None, got {type(extra).__name__}")
    state = {
        name: value.detach().cpu() if isinstance(value, torch.Tensor) else value
        for name, value in model.state_dict().items()
    }
    dtypes = sorted({str(v.dtype) for v in state.values() if isinstance(v, torch.Tensor)})
    if len(dtypes) != 1:
        raise ValueError(f"cannot save a model whose tensors mix dtypes {dtypes}")
    payload = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "model": kind,
        "library_version": VERSION,
        "dtype": dtypes[0].removeprefix("torch."),
        "config": model.get_config(),
        "state_dict": state,
        "extra": extra or {},
    }
    torch.save(payload, path)


def read(path) -> dict:
    """The checked contents of a file :func:`save` wrote.

    Raises:
        ValueError: naming ``path``, for a file that is not a saved mdn_src model, has
            another format version, is corrupted or truncated, or lacks an entry. A
            missing file raises ``FileNotFoundError``.
    """
    where = _describe(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, ...
        raise ValueError(
            f"{where} could not be read as a saved mdn_src model (corrupted, truncated or "
            f"not a torch.save file): {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != _FORMAT:
        raise ValueError(f"{where} is not a saved mdn_src model (no mdn_src format marker)")
    written_by = f"mdn_src {payload.get('library_version', '(unknown version)')}"
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{where} has file format version {version!r} (written by {written_by}); this "
            f"mdn_src {VERSION} reads format version {FORMAT_VERSION} only"
        )
    missing = {"model", "dtype", "config", "state_dict", "extra"} - payload.keys()
    if missing:
        raise ValueError(f"{where} is missing the entries {sorted(missing)}")
    if payload["model"] not in MODELS:
        raise ValueError(f"{where} holds a {payload['model']!r} model, not one of {list(MODELS)}")
    dtype = getattr(torch, str(payload["dtype"]), None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"{where} names an unknown floating dtype {payload['dtype']!r}")
    if not all(isinstance(payload[k], dict) for k in ("config", "state_dict", "extra")):
        raise ValueError(f"{where}: config, state_dict and extra must be dicts")
    for name, value in payload["state_dict"].items():
        if isinstance(value, torch.Tensor) and value.dtype != dtype:
            raise ValueError(
                f"{where}: state_dict entry {name!r} must be a {dtype} tensor, got {value.dtype}"
            )
    payload["where"] = where
    return payload


def build(payload: dict, cls: type[nn.Module] | None = None, device="cpu") -> nn.Module:
    """A new model from :func:`read`'s ``payload``, in training mode like a fresh one.

    ``cls`` (``MDN`` or ``MLP``), when given, must be the class the file holds.
    """
    where, kind = payload["where"], payload["model"]
    if cls is not None and MODELS[kind] is not cls and not issubclass(cls, MODELS[kind]):
        raise ValueError(
            f"{where} holds an {kind!r} model, not an {cls.__name__!r}: load it with io.load(path) or io.load(path, {kind})"
        )
    try:
        model = (cls or MODELS[kind])(**payload["config"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where} holds an invalid {kind} configuration: {exc}") from exc
    model = model.to(getattr(torch, payload["dtype"]))
    restore(payload, model)
    model.train()
    return model.to(device)


def restore(payload: dict, model: nn.Module) -> None:
    """Load :func:`read`'s weights into ``model``, whose configuration must be the file's."""
    where = payload["where"]
    if model.get_config() != payload["config"]:
        raise ValueError(
            f"{where} holds a model configured as {payload['config']}, not as this one "
            f"({model.get_config()})"
        )
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, ValueError) as exc:  # missing or unexpected keys, wrong shapes
        raise ValueError(f"{where} holds weights that do not fit its model: {exc}") from exc


def load(path, cls: type[nn.Module] | None = None, *, device="cpu") -> nn.Module:
    """Rebuild the model written to ``path`` by :func:`save`: same outputs bit for bit.

    Arguments:
        path: a file :func:`save` wrote.
        cls: ``MDN`` or ``MLP`` to insist on that class, or None for whichever the file holds.
        device: where to put the model.
    """
    return build(read(path), cls, device)
