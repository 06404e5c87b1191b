r"""A scikit-learn estimator around the MDN: ``fit``, ``predict``, ``sample`` and ``score``.

:class:`MDNRegressor` takes and returns NumPy arrays, builds an :class:`~mdn_src.model.MDN` sized
to the data, trains it with :func:`~mdn_src.training.fit`, and answers with the library's own
prediction functions. Its ``score`` is the mean log-likelihood per point (higher is
better), so ``GridSearchCV`` and ``cross_val_score`` compare models by how well they predict
the whole conditional density, not only its mean.

Inputs and targets are standardised inside (``standardize=True``): the network sees
:math:`\tilde x = (x - m_x) / s_x` and :math:`\tilde y = (y - m_y) / s_y`, and every answer
is mapped back. Densities pick up the Jacobian of the target map,

.. math::

    \log p(y \mid x) = \log \tilde p(\tilde y \mid \tilde x) - \sum_d \log s_{y,d},

so ``score`` is in nats of the original units: rescaling ``y`` by ``c > 0`` shifts it by
exactly :math:`-D \log c`.

scikit-learn is needed only for the base class (``get_params``, ``set_params``, ``clone``
and the HTML repr); without it the estimator still works, with the same parameter protocol.
"""

from __future__ import annotations

import dataclasses
import inspect
import numbers

import numpy as np
import torch

from .checks import positive_int, real_array
from .inference import conditional_modes, mixture_mean
from .inference import sample as draw
from .loss import mixture_log_prob
from .model import MDN, HeadSpec
from .training import RECOMMENDED_MODEL, TrainConfig, recommended_config
from .training import fit as train

try:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
except ImportError:  # scikit-learn is optional: the same protocol, without the extras

    class NotFittedError(ValueError, AttributeError):
        """Raised when a method needs a fitted estimator (as scikit-learn's)."""

    class BaseEstimator:
        """``get_params``/``set_params`` read from ``__init__``'s signature (as scikit-learn's)."""

        @classmethod
        def _get_param_names(cls) -> list[str]:
            signature = inspect.signature(cls.__init__)
            return sorted(
                p.name
                for p in signature.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            )

        def get_params(self, deep: bool = True) -> dict:
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params):
            valid = self._get_param_names()
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(
                        f"invalid parameter {name!r} for {type(self).__name__}; valid "
                        f"parameters: {valid}"
                    )
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"


__all__ = ["MODEL_SETTINGS", "MDNRegressor", "NotFittedError"]

KINDS = ("mean", "mode")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _inputs(X, features: int | None = None) -> np.ndarray:
    X = real_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"X must be 2-D [n_samples, n_features], got {X.ndim}-D shape {X.shape}. Reshape "
            f"your data: X.reshape(-1, 1) for a single feature, X.reshape(1, -1) for one row"
        )
    if X.shape[1] == 0:
        raise ValueError(f"X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
    if features is not None and X.shape[1] != features:
        raise ValueError(
            f"X has {X.shape[1]} features, but MDNRegressor is expecting {features} features "
            f"as input (the number seen in fit)"
        )
    return X


def _targets(y, rows: int, outputs: int | None = None) -> np.ndarray:
    y = real_array(y, "y")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ValueError(f"y must be 1-D [n_samples] or 2-D [n_samples, n_targets], got {y.ndim}-D")
    if y.shape[0] != rows:
        raise ValueError(f"X and y must have the same number of rows, got {rows} and {y.shape[0]}")
    if outputs is not None and y.shape[1] != outputs:
        raise ValueError(f"y has {y.shape[1]} targets, but MDNRegressor was fitted with {outputs}")
    return y


def _scaler(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (a constant column keeps scale 1)."""
    scale = data.std(axis=0)
    return data.mean(axis=0), np.where(scale > 0, scale, 1.0)


#: The estimator's own settings, beside the head's (:class:`~mdn_src.model.HeadSpec`) and the
#: training recipe's (:class:`~mdn_src.training.TrainConfig`), with their defaults.
MODEL_SETTINGS = {"n_components": 5, "hidden": (50, 50), "standardize": True, "dtype": "float32"}
#: Recipe settings the estimator fixes, and defaults it chooses where the recipe has none.
FIXED_TRAINING = ("diagnostics",)
TRAINING_DEFAULTS = {"epochs": 1000, "lr": 1e-2}


_RECIPE_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)} - set(FIXED_TRAINING)


def _settings() -> dict[str, object]:
    """Every parameter of :class:`MDNRegressor` and its default, in signature order: the
    model's size, the head's fields, the recipe's fields, then standardize and dtype."""
    head = {f.name: f.default for f in dataclasses.fields(HeadSpec)}
    recipe = {
        f.name: TRAINING_DEFAULTS.get(f.name, f.default)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in FIXED_TRAINING
    }
    size = {k: MODEL_SETTINGS[k] for k in ("n_components", "hidden")}
    rest = {k: MODEL_SETTINGS[k] for k in ("standardize", "dtype")}
    return size | head | recipe | rest


class MDNRegressor(BaseEstimator):
    r"""A mixture density network as a scikit-learn regressor: NumPy in, NumPy out.

    Its parameters are the model's size (``n_components``, ``hidden``), every field of
    :class:`~mdn_src.model.HeadSpec` (``family``, ``covariance``, ``sigma_min``, ...), every
    field of the training recipe :class:`~mdn_src.training.TrainConfig` (``epochs``,
    ``lr``, ``batch_size``, ``patience``, ...; defaults ``epochs=1000``, ``lr=0.01``), and
    ``standardize`` and ``dtype``. The signature is built from those two dataclasses, so a
    setting added to either reaches the estimator (and ``GridSearchCV``) without a copy here.
    Build one from a recipe with :meth:`from_config`.

    Arguments:
        n_components: number ``K`` of mixture components.
        hidden: hidden width, or a sequence of widths (one tanh layer each).
        family, covariance, sigma_min, sigma_map, df, df_min, beta_range, off_diagonal:
            the head, see :class:`~mdn_src.model.HeadSpec`; ``sigma_min`` is in
            standardised target units when ``standardize`` is on.
        epochs, lr, optimizer, momentum, nesterov, weight_decay, batch_size, seed: the
            training recipe, see :class:`~mdn_src.training.TrainConfig`. ``seed`` also
            seeds the network's initial weights: two fits with the same seed and data give
            the same model.
        validation_fraction, patience, schedule, clip_grad_norm, compile: the recipe too
            (the validation rows are drawn from ``seed``).
        input_noise, target_noise: the recipe's noise regularisation, in standardised
            units when ``standardize`` is on.
        standardize: standardise ``X`` and ``y`` (each column to mean 0, standard deviation
            1) before training, and map every answer back. Angular targets
            (``family="von_mises"``) are never rescaled, only ``X``.
        dtype: ``"float32"`` (the library's default) or ``"float64"``, the network's dtype.

    Attributes:
        model_: the trained :class:`~mdn_src.model.MDN` (it sees standardised data).
        config_: the :class:`~mdn_src.training.TrainConfig` it was trained with.
        loss_curve_: training loss per epoch (in standardised units), ``[epochs]``.
        n_features_in_: number of input columns seen in ``fit``.
        n_outputs_: number ``D`` of target columns (1 for a 1-D ``y``).
        x_mean_: the input scaler's mean, ``[n_features_in_]``.
        x_scale_: the input scaler's scale, ``[n_features_in_]``.
        y_mean_: the target scaler's mean, ``[n_outputs_]`` (0 when off).
        y_scale_: the target scaler's scale, ``[n_outputs_]`` (1 when off).

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> X = rng.uniform(-1, 1, (200, 1))
        >>> y = np.sign(rng.standard_normal(200)) + 0.1 * rng.standard_normal(200)  # two branches
        >>> reg = MDNRegressor(n_components=2, hidden=(8,), epochs=100).fit(X, y)
        >>> reg.predict(X[:4]).shape, reg.sample(X[:4], 10, random_state=0).shape
        ((4,), (10, 4))
        >>> bool(np.all(np.abs(reg.predict(X[:4], kind="mode")) > 0.5))  # a branch, not 0
        True
    """

    def __init__(self, **settings):
        # scikit-learn's convention: store the arguments as given, check them in fit.
        defaults = _settings()
        unknown = sorted(set(settings) - set(defaults))
        if unknown:
            raise TypeError(
                f"MDNRegressor got unknown parameters {unknown}; its parameters are "
                f"{list(defaults)}"
            )
        for name, default in defaults.items():
            setattr(self, name, settings.get(name, default))

    # The explicit signature scikit-learn reads (get_params, clone, the HTML repr).
    __init__.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
            for name, default in _settings().items()
        ]
    )

    @classmethod
    def from_config(cls, config: TrainConfig, **settings) -> MDNRegressor:
        """An estimator trained with the recipe ``config``; ``settings`` set the rest."""
        if not isinstance(config, TrainConfig):
            raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
        recipe = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(TrainConfig)
            if f.name not in FIXED_TRAINING
        }
        return cls(**(recipe | settings))

    @classmethod
    def recommended(cls, **settings) -> MDNRegressor:
        """An estimator with the library's recommended model and recipe (:mod:`mdn_src.training.recipe`).

        K = 10 generalised-normal components on three tanh layers of 50, mini-batches of
        250, a cosine schedule, weight decay and input noise, on standardised data;
        ``settings`` change any of them (``epochs=``, ``seed=``...).

        Example:
            >>> reg = MDNRegressor.recommended(epochs=50)
            >>> reg.family, reg.n_components, reg.batch_size
            ('gennorm', 10, 250)
        """
        config = recommended_config(**{k: v for k, v in settings.items() if k in _RECIPE_FIELDS})
        rest = {k: v for k, v in settings.items() if k not in _RECIPE_FIELDS}
        return cls.from_config(config, **(dict(RECOMMENDED_MODEL) | rest))

    def _head(self) -> HeadSpec:
        return HeadSpec(**{f.name: getattr(self, f.name) for f in dataclasses.fields(HeadSpec)})

    def _recipe(self) -> TrainConfig:
        return TrainConfig(
            **{
                f.name: getattr(self, f.name)
                for f in dataclasses.fields(TrainConfig)
                if f.name not in FIXED_TRAINING
            }
        )

    def fit(self, X, y) -> MDNRegressor:
        """Build an MDN sized to the data and train it.

        Arguments:
            X: inputs, ``[N, n_features]``.
            y: targets, ``[N]`` (one target) or ``[N, D]``.

        Returns:
            self, fitted.
        """
        X = _inputs(X)
        Y = _targets(y, X.shape[0])
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {tuple(_DTYPES)}, got {self.dtype!r}")
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise TypeError(f"standardize must be a bool, got {type(self.standardize).__name__}")
        head, config = self._head(), self._recipe()  # both check their settings
        dtype = _DTYPES[self.dtype]
        D = Y.shape[1]
        x_mean, x_scale = _scaler(X) if self.standardize else (np.zeros(X.shape[1]), 1.0)
        y_mean, y_scale = _scaler(Y) if self.standardize else (np.zeros(D), 1.0)
        if head.family == "von_mises":  # angles keep their period
            y_mean, y_scale = np.zeros(D), 1.0
        x_scale, y_scale = np.broadcast_to(x_scale, X.shape[1:]), np.broadcast_to(y_scale, (D,))
        # The network's initial weights come from the global RNG: draw them from `seed`
        # without disturbing the caller's RNG state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(config.seed))
            model = MDN(
                X.shape[1],
                D,
                n_components=self.n_components,
                hidden=self.hidden,
                **dataclasses.asdict(head),
            ).to(dtype)
        x = torch.as_tensor((X - x_mean) / x_scale, dtype=dtype)
        t = torch.as_tensor((Y - y_mean) / y_scale, dtype=dtype)
        history = train(model, x, t, config)
        self.model_ = model
        self.config_ = config
        self.loss_curve_ = np.array(history.train, dtype=np.float64)
        self.n_features_in_ = X.shape[1]
        self.n_outputs_ = D
        self.x_mean_, self.x_scale_ = x_mean, np.array(x_scale)
        self.y_mean_, self.y_scale_ = y_mean, np.array(y_scale)
        self._y_1d = np.ndim(y) == 1
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet: call fit(X, y) first"
            )

    def _params(self, X):
        """The fitted model's mixture (standardised units) for inputs ``X``."""
        self._check_fitted()
        X = _inputs(X, self.n_features_in_)
        x = torch.as_tensor((X - self.x_mean_) / self.x_scale_, dtype=self.model_.head.weight.dtype)
        with torch.no_grad():
            return self.model_.mixture_parameters(x)

    def _unscale(self, t: torch.Tensor) -> np.ndarray:
        """Standardised targets ``[..., D]`` back to original units, float64."""
        out = t.detach().cpu().double().numpy() * self.y_scale_ + self.y_mean_
        return out[..., 0] if self._y_1d else out

    def predict(self, X, kind: str = "mean") -> np.ndarray:
        """A point prediction for each input: the mixture's mean, or its highest mode.

        Arguments:
            X: inputs, ``[N, n_features]``.
            kind: ``"mean"`` (:func:`~mdn_src.inference.mixture_mean`, the least-squares answer) or
                ``"mode"`` (the global mode from :func:`~mdn_src.inference.conditional_modes`: the
                most probable value, which stays on one branch of a multi-valued target).

        Returns:
            float64 array ``[N]`` when ``y`` was 1-D in ``fit``, else ``[N, D]``.
        """
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        params = self._params(X)
        point = mixture_mean(params) if kind == "mean" else conditional_modes(params).highest
        return self._unscale(point)

    def sample(self, X, n: int, random_state=None) -> np.ndarray:
        """Draw ``n`` targets from :math:`p(y \\mid x)` per input (:func:`~mdn_src.inference.sample`).

        Arguments:
            X: inputs, ``[N, n_features]``.
            n: number of draws per input.
            random_state: None (torch's global RNG), an int seed, a ``numpy.random.Generator``
                or ``RandomState`` (a seed is drawn from it), or a ``torch.Generator``.

        Returns:
            float64 array ``[n, N]`` when ``y`` was 1-D in ``fit``, else ``[n, N, D]``
            (samples first, as :func:`mdn_src.sample <mdn_src.inference.sample>`).
        """
        n = positive_int(n, "n")
        params = self._params(X)
        draws = draw(params, n, generator=_generator(random_state))  # [n, N, D]
        return self._unscale(draws)

    def log_prob(self, X, y) -> np.ndarray:
        r"""Log-likelihood :math:`\log p(y_i \mid x_i)` of each point, in nats of ``y``'s units.

        Arguments:
            X: inputs, ``[N, n_features]``.
            y: targets, ``[N]`` or ``[N, D]``.

        Returns:
            float64 array ``[N]``: :func:`~mdn_src.loss.mixture_log_prob` of the standardised
            targets minus :math:`\sum_d \log s_{y,d}` (the log-Jacobian of the scaling).
        """
        params = self._params(X)
        Y = _targets(y, params.mu.shape[0], self.n_outputs_)
        t = torch.as_tensor((Y - self.y_mean_) / self.y_scale_, dtype=params.mu.dtype)
        log_p = mixture_log_prob(params, t).double().cpu().numpy()
        return log_p - np.log(self.y_scale_).sum()

    def score(self, X, y, sample_weight=None) -> float:
        """Mean log-likelihood per point, in nats (higher is better), for model selection.

        Arguments:
            X: inputs, ``[N, n_features]``.
            y: targets, ``[N]`` or ``[N, D]``.
            sample_weight: optional weights ``[N]`` for a weighted mean.

        Returns:
            The (weighted) mean of :meth:`log_prob`, a float.
        """
        log_p = self.log_prob(X, y)
        return float(np.average(log_p, weights=sample_weight))


def _generator(random_state) -> torch.Generator | None:
    if random_state is None or isinstance(random_state, torch.Generator):
        return random_state
    if isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(2**63 - 1))
    elif isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(2**31 - 1))
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(
            "random_state must be None, an int, a numpy Generator/RandomState or a "
            f"torch.Generator, got {type(random_state).__name__}"
        )
    return torch.Generator().manual_seed(int(random_state))
