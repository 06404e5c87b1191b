"""Train once, reuse everywhere: a cache of trained models keyed by everything that matters.

Several chapters need the same trained model, and a reader re-running a chapter should not
wait for training that has been done. :func:`~mdn_src.training.fit_cached` trains with
:func:`~mdn_src.training.fit` the first time and stores the weights and the history; a later
call with the same model (architecture and initial weights), data, training arguments,
library source and torch version loads them instead. Anything else changed means a different
key, so a stale model is never returned.

The key leaves out what changes only the last bits of a run: the CPU code path, the BLAS
and the thread count. Initial weights and data enter it as coarse moments, and a stored
file is used only if its recorded moments agree with the caller's to 1e-5. So a reader
with another processor loads the same stored model as the machine that trained it, where
training it there would have ended at a nearby but different optimum (training is
chaotic; see the book's page *Running the notebooks*). "Library
source" means the modules training runs (``training/``, ``model.py``, ``mlp.py`` and what they import):
an edit to the plotting or the metrics does not retrain anything.

Several processes (parallel test workers, two notebooks) asking for the same model wait for
one another: the first trains, the others load its result.

A project can ship such results: ``fit_cached(..., shipped="models/cache")`` also looks in
that read-only folder, by the same key, so every reader with the same torch and library
source loads the model the project trained, without the wait. Set the environment variable
``MDN_SRC_IGNORE_SHIPPED=1`` to train instead (a check that what the project claims of its
shipped models holds for a fresh training on this machine).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import io
from ..checks import as_matrix
from .config import TrainConfig
from .history import History
from .loop import fit

__all__ = [
    "DEFAULT_CACHE",
    "SOURCE_ROOT",
    "cache_dir",
    "cached_file_name",
    "fingerprint",
    "fit_cached",
    "load_cached",
    "training_sources",
]

#: Where trained models are kept unless ``MDN_SRC_CACHE`` or ``cache_dir`` says otherwise.
DEFAULT_CACHE = Path("~/.cache/mdn_src")

#: The package's root folder: training sources are found below it.
#: The package whose source files key a cached result (a test points it at a copy).
SOURCE_ROOT = Path(__file__).resolve().parent.parent
# CPython 3.11's ast.parse is not safe in two threads at once ("AST constructor recursion
# depth mismatch", seen with two threads calling fit_cached): one parse at a time.
_PARSE_LOCK = threading.Lock()


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The cache folder: ``path``, else ``$MDN_SRC_CACHE``, else ``~/.cache/mdn_src``."""
    chosen = path if path is not None else os.environ.get("MDN_SRC_CACHE", DEFAULT_CACHE)
    return Path(chosen).expanduser()


@functools.lru_cache(maxsize=256)
def _imported_files(path: Path, mtime_ns: int, size: int) -> tuple[Path, ...]:
    """The package's source files that ``path`` imports (relative imports, any level).

    Parsed once per version of the file (its modification time and size are part of the
    cache's key): the book calls ``fit_cached`` hundreds of times, at about 50 ms a parse
    of the whole import graph."""
    with _PARSE_LOCK:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        parts = node.module.split(".") if node.module else []
        target = base.joinpath(*parts)
        names = [] if node.module else [alias.name for alias in node.names]
        candidates = [target / f"{name}" for name in names] if names else [target]
        for candidate in candidates:
            for file in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                if file.is_file():
                    found.append(file)
                    break
    return tuple(found)


def training_sources() -> list[Path]:
    """The library's source files that training executes: the training package, the
    models, and every module they import (relative imports, followed through packages)."""
    todo = [
        SOURCE_ROOT / "training" / "__init__.py",
        SOURCE_ROOT / "model.py",
        SOURCE_ROOT / "mlp.py",
    ]
    todo += sorted((SOURCE_ROOT / "training").glob("*.py"))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        stat = path.stat()
        todo.extend(_imported_files(path, stat.st_mtime_ns, stat.st_size))
    return sorted(seen)


def fingerprint(value: torch.Tensor) -> str:
    """A coarse, float-path-proof description of a tensor for the key: its shape, dtype and
    two rounded moments. Another CPU code path changes the last bits of initial weights (torch's
    ``randn``, ``tanh``...) and of data computed with SIMD, and a key of every byte would
    then miss on most readers' machines; these moments move by about 1e-7 of their scale and
    are rounded to 1e-3 of it, so a last-bit change almost never crosses a rounding edge
    (and then costs a retraining, never a wrong model: :func:`_matches` checks closely)."""
    v = value.detach().cpu().double().reshape(-1)
    if v.numel() == 0:
        return f"{tuple(value.shape)}:{value.dtype}:empty"
    squares = float((v * v).sum())
    bound = (squares * v.numel()) ** 0.5  # |sum| <= sqrt(n * sum of squares)
    relative_sum = float(v.sum()) / bound if bound > 0 else 0.0
    log_squares = float(np.log10(squares)) if squares > 0 else float("-inf")
    return f"{tuple(value.shape)}:{value.dtype}:{relative_sum:.3f}:{log_squares:.3f}"


def _moments(value: torch.Tensor) -> torch.Tensor:
    """Float64 moments that tell two tensors apart: the sum, the sum of squares, a sum
    weighted by position (a permutation of the same values differs there), and the size."""
    v = value.detach().cpu().double().reshape(-1)
    ramp = torch.linspace(-1.0, 1.0, v.numel(), dtype=torch.float64)
    return torch.stack([v.sum(), (v * v).sum(), (v * ramp).sum(), torch.tensor(float(v.numel()))])


def _inputs(model: nn.Module, x: torch.Tensor, t: torch.Tensor) -> dict[str, torch.Tensor]:
    """What decides a result besides the code and the arguments: the initial weights and data."""
    state = model.state_dict()
    tensors = {f"weight:{k}": v for k, v in state.items() if isinstance(v, torch.Tensor)}
    tensors["x"], tensors["t"] = x, t
    return tensors


def _matches(stored: dict | None, now: dict[str, torch.Tensor]) -> bool:
    """Whether a stored result was trained from these initial weights and data (their
    :func:`_moments`), up to the last bits another CPU code path changes: each moment to
    1e-5 of the tensor's scale, ``sqrt(n * sum of squares)``."""
    if stored is None or set(stored) != set(now):
        return False
    for key, moments in now.items():
        then = stored[key]
        if then.shape != moments.shape or then[3] != moments[3]:
            return False
        scale = float((moments[1] * moments[3]).sqrt()) + 1e-30
        if not torch.allclose(moments[:3], then[:3], rtol=1e-5, atol=1e-5 * scale):
            return False
    return True


def _framed(label: str, payload: bytes) -> bytes:
    """``label`` and ``payload`` as hash input, the payload's length between them: no two
    (label, payload) sequences give the same bytes."""
    return label.encode() + len(payload).to_bytes(8, "little") + payload


def _digest(model: nn.Module, x: torch.Tensor, t: torch.Tensor, key: dict) -> str:
    h = hashlib.sha256()

    def add(label: str, payload: bytes) -> None:
        h.update(_framed(label, payload))

    for file in training_sources():  # any change to what training runs: a new key
        add(file.relative_to(SOURCE_ROOT).as_posix(), file.read_bytes())
    # Not the CPU code path, the BLAS or the thread count: they change the last bits of a
    # run, not what the run is, and every reader should load the same shipped model.
    add("torch", torch.__version__.split("+")[0].encode())
    add("class", type(model).__qualname__.encode())
    config = model.get_config() if callable(getattr(model, "get_config", None)) else repr(model)
    add("model", json.dumps(config, sort_keys=True, default=str).encode())
    for name, value in _inputs(model, x, t).items():
        add(name, fingerprint(value).encode())
    add("fit", json.dumps(key, sort_keys=True, default=_key_of).encode())
    return h.hexdigest()[:24]


def _key_of(value) -> str:
    """A JSON stand-in for a fit argument JSON cannot hold: arrays and tensors by a digest of
    their every byte (``repr`` elides the middle of a large array), the rest by ``repr``."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().contiguous().numpy()
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        digest = hashlib.sha256(
            data.tobytes() + str(data.dtype).encode() + str(data.shape).encode()
        )
        return f"array:{digest.hexdigest()}"
    return repr(value)


def fit_cached(
    model: nn.Module,
    x,
    t,
    config: TrainConfig | None = None,
    *,
    name: str,
    cache: str | os.PathLike | None = None,
    shipped: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
    validation: tuple | None = None,
    device: str | torch.device | None = None,
    progress: bool = False,
    **settings,
) -> History:
    """:func:`~mdn_src.training.fit` ``(model, x, t, config)``, or its stored result if it exists.

    Arguments:
        model: the untrained MDN or MLP, as ``fit`` takes it; its initial weights are part
            of the key, and it ends up trained (or loaded) in place.
        x, t: the training data, as for ``fit``.
        config: the :class:`~mdn_src.training.TrainConfig`; or its settings as keywords
            (``epochs=``, ``lr=``...), which also override a given ``config``'s.
        name: a readable prefix for the file (e.g. ``"ch6-seed0"``); the key decides reuse.
        cache: the folder (default: :func:`cache_dir`'s choice), created if needed.
        shipped: read-only folders of results that came with a project (a book ships the
            models its chapters train, say), searched by the same key when ``cache`` has
            none. A match is loaded as it is (the folder is only read); where none matches
            (another torch version or library source changes the key) a ``UserWarning``
            says so and the model is trained and stored in ``cache``. Ignored while the
            environment variable ``MDN_SRC_IGNORE_SHIPPED`` is ``1``.
        validation, device, progress: as for ``fit`` (the validation data are part of the
            key; the device and the progress bar are not).

    Returns:
        The :class:`~mdn_src.training.History` of the run that produced the weights.

    The file is :mod:`mdn_src.io`'s format, with the history and the moments of the initial
    weights and data as its ``extra``.

    Example:
        >>> import tempfile
        >>> from mdn_src import MDN
        >>> x = torch.linspace(0, 1, 50).unsqueeze(1)
        >>> folder = tempfile.mkdtemp()
        >>> torch.manual_seed(0) and None
        >>> first = fit_cached(MDN(1, 1, 2, hidden=4), x, x, name="demo", cache=folder,
        ...                    epochs=20, lr=0.01)
        >>> torch.manual_seed(0) and None
        >>> again = fit_cached(MDN(1, 1, 2, hidden=4), x, x, name="demo", cache=folder,
        ...                    epochs=20, lr=0.01)  # loaded, not trained
        >>> bool((first.train == again.train).all())
        True
    """
    if not isinstance(name, str) or not name or any(c in name for c in "/\\"):
        raise ValueError(f"name must be a non-empty file-name prefix, got {name!r}")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    if "callback" in settings:
        raise ValueError("fit_cached cannot take a callback: a stored result would skip it")
    config = TrainConfig.from_settings(config, settings, "fit_cached")
    shipped_folders = _shipped_folders(shipped)
    if os.environ.get("MDN_SRC_IGNORE_SHIPPED") == "1":
        shipped_folders = []
    x_key = as_matrix(x, "x", getattr(model, "in_features", None))
    t_key = as_matrix(t, "t", getattr(model, "out_features", None))
    folder = cache_dir(cache)
    path = folder / cached_file_name(model, x_key, t_key, config, name=name, validation=validation)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = {k: _moments(v) for k, v in _inputs(model, x_key, t_key).items()}
    with _exclusive(path.with_suffix(".lock")):  # one process trains, the others wait
        if path.exists():
            try:
                stored = io.read(path)
            except ValueError:  # a damaged file (an interrupted write): train again
                stored = None
            if stored is not None and _matches(stored["extra"].get("inputs"), inputs):
                return _restore(stored, model)
            # damaged, or another run under the same key (it exists: checked under the lock)
            path.unlink(missing_ok=True)  # pragma: no mutate (why: exists, and we hold the lock)
        for place in shipped_folders:
            if (place / path.name).exists():  # read only: a damaged file raises
                stored = io.read(place / path.name)
                if _matches(stored["extra"].get("inputs"), inputs):
                    return _restore(stored, model)
        if shipped_folders:
            warnings.warn(
                f"no result in {', '.join(map(str, shipped_folders))} matches this call to "
                f"fit_cached (name={name!r}): another torch version, library source, model, "
                "data or fit argument gives another key. Training it now.",
                UserWarning,
                stacklevel=2,
            )
        history = fit(model, x, t, config, validation=validation, device=device, progress=progress)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        io.save(model, partial, extra={"history": history.to_dict(), "inputs": inputs})
        partial.replace(path)  # atomic: a reader never sees half a file
        return history


def cached_file_name(
    model: nn.Module, x, t, config: TrainConfig | None = None, *, name: str, validation=None,
    **settings,
) -> str:  # fmt: skip
    """The file name under which :func:`fit_cached` stores ``fit(model, x, t, config)``:
    ``name``, then a digest of everything that decides the result (see the module's text).
    ``model`` must be untrained: its weights are part of the key."""
    config = TrainConfig.from_settings(config, settings, "cached_file_name")
    x = as_matrix(x, "x", getattr(model, "in_features", None))
    t = as_matrix(t, "t", getattr(model, "out_features", None))
    key = {"config": config.key(), "validation": validation}
    return f"{name}-{_digest(model, x, t, key)}.pt"


def _shipped_folders(shipped) -> list[Path]:
    if shipped is None:
        return []
    many = isinstance(shipped, (list, tuple))
    folders = list(shipped) if many else [shipped]
    for folder in folders:
        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(
                "shipped must be a folder (str or path) or a list of them, got "
                f"{type(folder if many else shipped).__name__}"
            )
    folders = [Path(folder).expanduser() for folder in folders]
    missing = [str(folder) for folder in folders if not folder.is_dir()]
    if missing:
        raise ValueError(f"shipped must name existing folders; not found: {', '.join(missing)}")
    return folders


def load_cached(path: str | os.PathLike, model: nn.Module) -> History:
    """Load a file :func:`fit_cached` wrote into ``model`` (in place); return its history."""
    return _restore(io.read(Path(path)), model)


def _restore(stored: dict, model: nn.Module) -> History:
    io.restore(stored, model)
    model.eval()
    return History.from_dict(stored["extra"]["history"])


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """Hold an exclusive lock on ``lock_path`` (POSIX ``flock``; no lock where absent)."""
    try:
        import fcntl
    except ImportError:  # Windows: no waiting, at worst two processes train the same model
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
