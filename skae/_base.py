"""The base estimator: parameters, validation, fit/transform/score and pickling."""

import io
import math
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning, InconsistentVersionWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _training
from ._network import (
    ACTIVATIONS,
    auto_hidden_layer_sizes,
    build_autoencoder,
    init_pca,
    multiply_adds,
)
from ._principal_components import PrincipalAxes

# Fitted state that holds tensors; pickled through torch.save so that a model
# trained on CUDA can be loaded on a machine without a GPU.
_TORCH_ATTRIBUTES = ("module_", "optimizer_")
_FLOAT_DTYPES = (np.float64, np.float32)
_SEED_HIGH = np.iinfo(np.int32).max
# How far outside its range a bounded output's data may stray and still be
# taken for rounding (then clipped): a few float32 steps, which the network,
# trained on float32 copies, cannot tell from the range anyway. MinMaxScaler
# strays by about eps * |data_min| / data_range of X's dtype: within this for
# float64 data offset by up to 10**9 ranges, and for float32 data offset by a few.
_UNIT_ROUNDING = 4 * float(np.finfo(np.float32).eps)

# A fit with a float n_components trains the nested code for this share of its
# epochs, only to choose the width, then a network built for that width (as an
# int n_components builds it) for all of them. On MNIST (n_components=0.9, 40
# epochs, PCA's width 87, seeds 0 and 1; test MSE over a dedicated fit at the
# chosen width; time over a plain fit at 87 units, on 2 cores whose timings
# vary by 10-20%): a share of 0.25 chose 54 and 55 units, 1.008 and 0.990,
# 1.59x and 1.78x; 0.2 chose 56 and 56, 1.001 and 1.000, 1.36x and 1.60x;
# 0.15 chose 58 and 58, 1.004 and 0.997, 1.29x and 1.54x. On the digits
# (python benchmarks/nested.py --parts share, 100 epochs, 21 units at most)
# 0.2 chose 18 and 18 units, 0.975 and 1.007, 1.42x and 1.45x. A shorter
# search picks wider codes. Cutting the nested network to the width and
# training it for the remaining epochs instead ended at 1.057 and 1.068 times
# a dedicated fit's MNIST error: the cut network keeps the hidden layers sized
# for the widest code ((512,) for 87 units, where 54 get (512, 256)), and its
# nested start cost it another 3% (1.029 against a (512,) dedicated fit).
_SEARCH_SHARE = 0.2
# The prefix curve of a nested fit is measured on at most this many rows. It
# decodes each row once per code unit, so after a partial_fit, whose one epoch
# decodes each row up to three times, it reads one row in n_components_ (at
# least _PARTIAL_CURVE_ROWS): on 10,000 rows of 784 features and 16 units the
# curve on every row took 78% of a partial_fit's time.
_CURVE_ROWS = 10_000
_PARTIAL_CURVE_ROWS = 256

# The range of X that each bounded output activation can reconstruct.
_OUTPUT_RANGES = {"sigmoid": (0, 1), "tanh": (-1, 1)}


def _version():
    from . import __version__

    return __version__


def _torch_generator(random_state, device="cpu"):
    """A private ``torch.Generator`` seeded from a NumPy ``RandomState``."""
    return torch.Generator(device=device).manual_seed(int(random_state.randint(_SEED_HIGH)))


def _store_params(estimator, params):
    """Set each ``__init__`` argument as an attribute of the same name."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class BaseAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class for autoencoder transformers.

    Holds every piece of scikit-learn plumbing. Variants change behaviour only
    through the hooks :meth:`_corruption`, :meth:`_penalty` (or
    :meth:`_encode_with_penalty`), :meth:`_module_kwargs` and :meth:`_check_params`.

    Warning: This class should not be used directly. Use derived classes
    instead.
    """

    _parameter_constraints: dict = {
        "n_components": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "nested": ["boolean"],
        "hidden_layer_sizes": [StrOptions({"auto"}), "array-like"],
        "activation": [StrOptions(set(ACTIVATIONS) - {"identity"})],
        "output_activation": [StrOptions({"auto", "identity", "sigmoid", "tanh"})],
        "loss": [StrOptions(set(_training.LOSSES))],
        "tied_weights": ["boolean"],
        "init": [StrOptions({"pca", "random"})],
        "optimizer": [StrOptions(set(_training.OPTIMIZERS))],
        "learning_rate": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions(set(_training.SCHEDULES))],
        "weight_decay": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "precision": [StrOptions({"auto", "float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": [list, None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        nested=False,
        hidden_layer_sizes="auto",
        activation="relu",
        output_activation="auto",
        loss="mse",
        tied_weights=False,
        init="pca",
        optimizer="adamw",
        learning_rate="auto",
        learning_rate_schedule="cosine",
        weight_decay="auto",
        batch_size="auto",
        max_epochs="auto",
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        precision="auto",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        _store_params(self, locals())

    # The sizes of the code's prefixes that the running fit trains on, or None
    # for a plain fit (see _training.nested_loss).
    _training_prefixes = None

    # Hooks for the variants -------------------------------------------------

    def _corruption(self):
        """``corrupt(batch, generator)`` for the scaled training batches, or None.

        Called once per fit, after the scaling is set; the target stays clean.
        """
        return None

    def _penalty(self, code):
        """A term added to the loss of a batch, from its code (or None)."""
        return None

    def _encode_with_penalty(self, X, generator):
        """The code of the training inputs ``X`` and the term added to their loss.

        The default penalises the code alone (:meth:`_penalty`); a penalty on
        the encoder's Jacobian needs the inputs, and gets the code from the
        same pass.
        """
        code = self.module_.encode(X)
        return code, self._penalty(code)

    def _module_kwargs(self):
        """Extra keyword arguments for :class:`skae._network.Autoencoder`."""
        return {}

    def _check_params(self):
        """Checks across parameters, beyond ``_parameter_constraints``."""

    # Fitting ----------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A sparse matrix stays sparse: each batch is
            densified on its own (CSR is used as it is; other formats are
            converted to CSR first).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch on the chunk ``X``, keeping all earlier training.

        The first call sets the scaling and the network from its chunk, so it
        should be representative. Early stopping does not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, incremental=True)

    # skae sets the grad and autocast modes it needs, whatever the caller set.
    @_training.training_modes()
    def _fit(self, X, incremental):
        fresh = not ((incremental or self.warm_start) and hasattr(self, "module_"))
        # Parameter checks come first, so that a rejected call changes nothing.
        self._check_params()
        output_activation = self._output_activation()
        architecture = self._architecture(output_activation)
        if not fresh and architecture != self._fitted_architecture:
            raise ValueError(
                "The network's shape parameters (n_components, hidden_layer_sizes, "
                "activation, output_activation, tied_weights, ...) changed since the "
                "last fit; continuing training needs the same network. Set "
                "warm_start=False to fit a new one."
            )
        if any(not callable(callback) for callback in self.callbacks or ()):
            raise TypeError(
                "callbacks must be callables, called as callback(estimator) after "
                f"each epoch; got {self.callbacks!r}."
            )
        device = _training.resolve_device(self.device) if fresh else self.device_
        random_state = check_random_state(self.random_state) if fresh else self._random_state
        X_train, X_val, moments, data_device = self._validate_training_data(
            X, fresh, incremental, output_activation, random_state, device
        )
        if fresh:
            self._random_state, self.device_ = random_state, device
            self.mean_, self.scale_ = moments

        X_train = _training.training_data(X_train, self.mean_, self.scale_, data_device)
        if X_val is not None:
            X_val = _training.training_data(X_val, self.mean_, self.scale_, data_device)
        if output_activation in _OUTPUT_RANGES:
            # Values within rounding of the range passed validation; the network's
            # copies are put inside it, the user's array stays as it is. Sparse
            # rows are densified per batch and left as they are: in float32 such
            # values sit at the range's ends to within a rounding step, harmless as targets.
            for part in (X_train, X_val):
                if isinstance(part, torch.Tensor):
                    part.clamp_(*_OUTPUT_RANGES[output_activation])

        if fresh or not incremental:
            # A stream's later chunks keep the rates its first chunk set.
            self.learning_rate_, self.weight_decay_ = _training.resolve_rates(
                self.learning_rate, self.weight_decay, self.optimizer, X_train.shape[0]
            )
        # Read only if the fit asks: the PCA start, a share's width, the VAE's noise.
        axes = PrincipalAxes(X_train, *(() if X_val is None else (X_val,)))
        if fresh:
            self._initialize(axes, architecture, X_val is not None)
        else:
            if not incremental:
                # As in MLP, each fit starts its own optimizer, so that a changed
                # optimizer, learning_rate or weight_decay takes effect.
                self.optimizer_ = self._make_optimizer()
            if X_val is not None and self.validation_scores_ is None:
                # Early stopping's history starts with its first fit, fresh or warm.
                self.validation_scores_, self.best_validation_score_ = [], -math.inf
        # What reads the loss after the fit (the VAE's ELBO, the loss curve's
        # units) reads this one: set_params may have changed the parameter.
        self._fitted_loss = self.loss
        generator = _torch_generator(self._random_state, self.device_)
        batch_size = 256 if self.batch_size == "auto" else self.batch_size
        batch_size = min(batch_size, X_train.shape[0])
        if incremental:
            # One epoch per call, with no known end to plan a schedule over.
            max_epochs, schedule = 1, "constant"
        else:
            n_samples = X_train.shape[0] + (0 if X_val is None else X_val.shape[0])
            max_epochs = self._planned_epochs(n_samples)
            schedule = self.learning_rate_schedule
        corrupt = self._corruption()
        # A share of variance is reached by the prefixes of a nested code.
        choose_width = fresh and isinstance(self.n_components, float)
        self._training_prefixes = (
            _prefixes(self.n_components_) if self.nested or choose_width else None
        )

        def resolve_precision():
            # For the network about to train: a float n_components rebuilds it.
            self.precision_ = _training.resolve_precision(
                self.precision,
                self.device_,
                multiply_adds(self.module_),
                max_epochs * math.ceil(X_train.shape[0] / batch_size),
                partial(_training.time_precisions, self, X_train, batch_size, corrupt),
            )

        resolve_precision()
        keep_start = not incremental and X_val is None and self._plain_objective(corrupt)
        search_epochs = math.ceil(_SEARCH_SHARE * max_epochs)

        def train(epochs):
            return _training.fit_loop(
                self,
                X_train,
                X_val,
                epochs,
                batch_size,
                generator,
                corrupt,
                schedule=schedule,
                keep_start=keep_start,
            )

        try:
            ending = train(search_epochs if choose_width else max_epochs)
            # A float n_components keeps the curve its width was chosen from.
            if choose_width or not isinstance(self.n_components, float):
                if self._training_prefixes is None:
                    vars(self).pop("nested_explained_variance_", None)
                else:
                    X_curve = X_train if X_val is None else X_val
                    curve = _training.prefix_explained_variance(
                        self,
                        X_curve,
                        _curve_rows(X_curve.shape[0], self.n_components_, incremental),
                    )
                    self.nested_explained_variance_ = curve
            if choose_width:
                reached = np.flatnonzero(curve >= self.n_components)
                width = int(reached[0]) + 1 if reached.size else self.n_components_
                self._training_prefixes = _prefixes(width) if self.nested else None
                if ending == "stopped" or incremental:
                    # Nothing more trains in this call: what the search
                    # trained is kept, as the prefix of its code.
                    self._truncate(width, axes)
                else:
                    # The search only chooses the width; the model is a
                    # network built and trained for it, as a fit with an int
                    # n_components would (see _SEARCH_SHARE).
                    self._initialize(axes, architecture, X_val is not None, width)
                    resolve_precision()
                    ending = train(max_epochs)
        except FloatingPointError as exc:
            if fresh and not self.loss_curve_:
                self._forget_fit()
            raise ValueError(str(exc)) from None
        if ending == "capped" and not incremental:
            warnings.warn(
                f"Maximum epochs ({max_epochs}) reached and the optimization "
                "hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _truncate(self, width, axes):
        """Keep the first ``width`` code units of the network, and a new optimizer.

        The encoder's rows and the decoder's columns of every other unit are
        dropped (the linear path, the last and first layers of the
        corrections, any log-variance head): the cut network computes
        exactly what the full one computes with those units set to zero.
        ``axes`` are the :class:`PrincipalAxes` of the scaled training and
        validation rows, for variants whose state depends on the width.
        """
        architecture = {
            **self._fitted_architecture,
            "n_components": width,
            "hidden_layer_sizes": self.hidden_layer_sizes_,
        }
        # Every weight is overwritten, so the generator's draws do not matter.
        module = build_autoencoder(
            self.n_features_in_, generator=torch.Generator().manual_seed(0), **architecture
        ).to(self.device_)
        state = module.state_dict()
        module.load_state_dict(
            {
                name: value[tuple(slice(0, n) for n in state[name].shape)]
                for name, value in self.module_.state_dict().items()
            }
        )
        self.module_, self.n_components_ = module, width
        self.optimizer_ = self._make_optimizer()
        # The objective changed: earlier bests are not comparable.
        self.best_loss_, self._no_improvement_count = math.inf, 0
        if self.validation_scores_ is not None:
            self.best_validation_score_ = -math.inf

    def _plain_objective(self, corrupt):
        """Whether training minimises the clean reconstruction loss alone.

        Only then is "worse than the start" measured by that loss; noise and
        penalties trade some of it for what they add.
        """
        hooks = ("_penalty", "_encode_with_penalty")
        return corrupt is None and all(
            getattr(type(self), hook) is getattr(BaseAutoencoder, hook) for hook in hooks
        )

    def _planned_epochs(self, n_samples):
        """The epochs a fit on ``n_samples`` rows plans, ``max_epochs`` resolved.

        ``"auto"`` counts the training rows, those left by ``early_stopping``'s
        validation split.
        """
        if self.max_epochs != "auto":
            return self.max_epochs
        if self.early_stopping:
            n_samples -= _n_validation(self.validation_fraction, n_samples)
        return _training.auto_max_epochs(n_samples)

    def _validate_training_data(
        self, X, fresh, incremental, output_activation, random_state, device
    ):
        """Validate ``X``, split off the validation rows, and scale a fresh fit.

        Returns ``(X_train, X_val, moments, data_device)``; ``moments`` is the
        ``(mean, scale)`` of a fresh fit's training rows, else None, and
        ``data_device`` is where their float32 copies will live.

        ``validate_data`` records ``n_features_in_`` and ``feature_names_in_``
        as it goes; if ``X`` is rejected, those are put back as they were, so
        a failed call leaves a fitted estimator as it was.
        """
        names = ("n_features_in_", "feature_names_in_")
        saved = {name: vars(self)[name] for name in names if name in vars(self)}
        try:
            X = _check_X(self, X, reset=fresh)
            if sp.issparse(X) and not X.has_canonical_format:
                # Summed duplicates make each stored value an entry of X (the
                # scaling reads them so), on a copy: the caller's X stays as it is.
                X = X.copy()
                X.sum_duplicates()
            if output_activation in _OUTPUT_RANGES:
                bottom, top = _OUTPUT_RANGES[output_activation]
                low, high = float(X.min()), float(X.max())
                if low < bottom - _UNIT_ROUNDING or high > top + _UNIT_ROUNDING:
                    raise ValueError(
                        f"loss={self.loss!r} with output_activation="
                        f"{output_activation!r} needs X in [{bottom}, {top}], but X's "
                        f"values range from {low!r} to {high!r}. Scale X, for example "
                        f"with MinMaxScaler(feature_range=({bottom}, {top})), or use "
                        "loss='mse' with output_activation='identity'."
                    )
            X_train, X_val = X, None
            if self.early_stopping and not incremental:
                X_train, X_val = self._split_validation(X, random_state)
            moments = None
            if fresh:
                # A bounded output reconstructs X in its own units: centred
                # and scaled data would leave the output's range.
                moments = (
                    _moments(X_train)
                    if output_activation == "identity"
                    else (np.zeros(X_train.shape[1]), 1.0)
                )
            if sp.issparse(X):
                # The rows stay as they are, in host memory, and are densified
                # one batch at a time: there is nothing as large to place.
                data_device = torch.device("cpu")
            else:
                n_values = X_train.size + (0 if X_val is None else X_val.size)
                data_device = _training.place_data(4 * n_values, device)
            return X_train, X_val, moments, data_device
        except Exception:
            for name in names:
                vars(self).pop(name, None)
            vars(self).update(saved)
            raise

    def _architecture(self, output_activation):
        """Everything that fixes the network's shape, validated.

        ``hidden_layer_sizes="auto"`` stays a string here; it is resolved from
        the data's width when the network is built.
        """
        hidden = self.hidden_layer_sizes
        if not (isinstance(hidden, str) and hidden == "auto"):
            hidden = tuple(hidden)
            if not all(isinstance(h, Integral) and h >= 1 for h in hidden):
                raise ValueError(
                    f"hidden_layer_sizes must be positive integers or 'auto', got {hidden!r}."
                )
            hidden = tuple(int(h) for h in hidden)
        return dict(
            n_components=self.n_components,
            hidden_layer_sizes=hidden,
            activation=self.activation,
            output_activation=output_activation,
            tied_weights=self.tied_weights,
            **self._module_kwargs(),
        )

    def _output_activation(self):
        if self.output_activation == "auto":
            return "sigmoid" if self.loss == "bce" else "identity"
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ValueError(
                "loss='bce' needs output_activation='sigmoid' (or 'auto'), got "
                f"output_activation={self.output_activation!r}."
            )
        return self.output_activation

    def _split_validation(self, X, random_state):
        n_val = _n_validation(self.validation_fraction, X.shape[0])
        if not 0 < n_val < X.shape[0]:
            raise ValueError(
                f"early_stopping with validation_fraction={self.validation_fraction} "
                f"leaves no validation or no training rows out of n_samples="
                f"{X.shape[0]}. Use more samples or a different validation_fraction."
            )
        order = random_state.permutation(X.shape[0])
        return X[order[n_val:]], X[order[:n_val]]

    def _initialize(self, axes, architecture, validating, width=None):
        """Build the network, its optimizer and empty histories for a fresh fit.

        ``axes`` are the :class:`PrincipalAxes` of every row given to ``fit``,
        the validation rows included, so that the PCA start is the PCA a user
        would fit on the same data; only the gradient steps are kept off the
        validation rows. ``validating`` says whether the fit has validation
        rows to keep a history of. ``width`` is the code's width, if not the
        one ``n_components`` gives.
        """
        self._fitted_architecture = architecture
        n_features = axes.n_features
        if width is not None:
            self.n_components_ = width
            architecture = {**architecture, "n_components": width}
        elif isinstance(self.n_components, float):
            # The widest network: its PCA start reaches the share at this width,
            # and the nested fit picks its own, usually smaller, width within it.
            self.n_components_ = axes.share_width(self.n_components)
            architecture = {**architecture, "n_components": self.n_components_}
        else:
            self.n_components_ = architecture["n_components"]
        if architecture["hidden_layer_sizes"] == "auto":
            architecture = {
                **architecture,
                "hidden_layer_sizes": auto_hidden_layer_sizes(n_features, self.n_components_),
            }
        self.hidden_layer_sizes_ = architecture["hidden_layer_sizes"]
        self.module_ = build_autoencoder(
            n_features, generator=_torch_generator(self._random_state), **architecture
        ).to(self.device_)
        if self.init == "pca":
            pca = axes.top(self.n_components_)
            init_pca(self.module_, *(part.to(self.device_) for part in pca))
        self.optimizer_ = self._make_optimizer()
        self.loss_curve_ = []
        self.n_iter_ = 0
        self.best_loss_ = math.inf
        self._no_improvement_count = 0
        self.validation_scores_, self.best_validation_score_ = (
            ([], -math.inf) if validating else (None, None)
        )

    def _make_optimizer(self):
        return _training.OPTIMIZERS[self.optimizer](
            self.module_.parameters(),
            lr=self.learning_rate_,
            weight_decay=self.weight_decay_,
        )

    def _forget_fit(self):
        """Leave the estimator unfitted, as before its first ``fit``."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)

    # Inference --------------------------------------------------------------

    def _infer(self, fn, X, out_width, finish=None, scaled=True):
        module = self.module_
        module.eval()
        mean, scale = (self.mean_, self.scale_) if scaled else (0.0, 1.0)
        return _training.batched_inference(
            fn,
            X,
            mean,
            scale,
            self.device_,
            _training.inference_rows(module),
            out_width,
            finish,
        )

    def transform(self, X):
        """Encode ``X`` into its code.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, ``n_components_``)
            The code, in ``X``'s float dtype.
        """
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        return self._infer(self.module_.encode, X, self.n_components_)

    def inverse_transform(self, X):
        """Decode codes back into the original feature space.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``n_components_``)
            Codes, as returned by :meth:`transform` (dense: sparse codes are
            refused, as by :class:`~sklearn.decomposition.TruncatedSVD`).

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstruction, in the units of the training data.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=_FLOAT_DTYPES)
        if X.shape[1] != self.n_components_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is "
                f"expecting {self.n_components_} features as input (its code has "
                "the n_components units it was fitted with)."
            )
        return self._infer(
            self.module_.decode,
            X,
            self.n_features_in_,
            finish=lambda values: values * self.scale_ + self.mean_,
            scaled=False,
        )

    def score_samples(self, X):
        """Negative mean squared reconstruction error of each sample.

        Higher is better; low values flag samples the model reconstructs
        badly, which makes this an anomaly score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean over features of the squared error, in ``X``'s units.
        """
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        module = self.module_

        def squared_error(batch):
            error = module.decode(module.encode(batch)) - batch
            return (error**2).mean(dim=1, keepdim=True)

        scores = self._infer(squared_error, X, 1)[:, 0]
        scores *= -(self.scale_**2)  # in place: no more arrays as long as X
        return scores

    def score(self, X, y=None):
        """Negative mean squared reconstruction error, in ``X``'s units.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better, so ``GridSearchCV`` needs no ``scoring=``.
        """
        return float(np.mean(self.score_samples(X)))

    # scikit-learn protocol --------------------------------------------------

    @property
    def _n_features_out(self):
        # The fitted width, not the parameter, which set_params may have changed
        # since; unfitted, the AttributeError makes get_feature_names_out raise
        # NotFittedError.
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags

    def __getstate__(self):
        # A copy: object.__getstate__ may return the live __dict__.
        state = dict(super().__getstate__())
        state["_skae_version"] = _version()
        state["_torch_version"] = torch.__version__
        tensors = {key: state.pop(key) for key in _TORCH_ATTRIBUTES if key in state}
        if tensors:
            # One torch.save keeps the optimizer pointing at the module's parameters.
            buffer = io.BytesIO()
            torch.save(tensors, buffer)
            state["_torch_state"] = buffer.getvalue()
        return state

    def __setstate__(self, state):
        version = state.pop("_skae_version", None)
        if version != _version():
            warnings.warn(
                InconsistentVersionWarning(
                    estimator_name=f"skae {type(self).__name__}",
                    current_sklearn_version=_version(),
                    original_sklearn_version=version,
                ),
                stacklevel=2,
            )
        blob = state.pop("_torch_state", None)
        if blob is not None:
            device = _loadable_device(state["device_"])
            state["device_"] = device
            state.update(torch.load(io.BytesIO(blob), map_location=device, weights_only=False))
        super().__setstate__(state)


# Nested training (issue 17), measured on the digits (75% train, held-out MSE of
# the first m units of one 32-unit fit over that of a dedicated fit at m, m = 2,
# 4, 8, 16, 32; default network (128,), 100 epochs, one seed, 2 loaded cores):
# - the prefix losses averaged, on m = 1, 2, 4, ... 32: 1.20 1.22 1.25 1.38 2.05
#   (from a random start: 1.29 1.30 1.34 1.56 3.08); on every m = 1 ... 32:
#   1.34 1.34 1.24 1.17 1.75, at 4x the time;
# - weighted by 1 / (PCA's error at m): 1.33 1.36 1.35 1.29 1.25;
# - their harmonic mean (weights 1 / the prefix's own loss, see
#   _training.harmonic_mean): 1.35 1.39 1.38 1.31 1.18, the same at 200
#   epochs, 1.35 1.38 1.35 1.23 1.09 with 256 hidden units, and 1.39 1.55
#   1.48 1.44 1.91 from a random start; on every m: 1.42 1.53 1.46 1.20 1.27.
# - weights 1 / loss**p between the two: p=0.5 1.27 1.27 1.25 1.26 1.59,
#   p=0.75 1.31 1.32 1.29 1.25 1.37, p=1.5 1.41 1.57 1.64 1.59 1.01;
# - with the harmonic mean, none of these moved the first prefixes below
#   1.29: learning_rate=6e-3, batch_size=64, (512,) or (256, 128) hidden
#   units, or training each unit only through the smallest prefix holding it
#   (earlier units detached from the larger prefixes' losses: 1.35 1.44 1.46
#   1.43 1.55). A decoder refitted on the first 2 units of the nested code
#   reached 1.26 times a dedicated fit's error where the one refitted on
#   the dedicated code reached 1.05: most of the gap is in the encoder. The
#   first prefixes lose more the more units share the network: the first 2
#   units of a nested code of 2, 4, 8 and 32 units reached 1.09, 1.14, 1.22
#   and 1.35.
# - a plain fit from the PCA start, for reference: 1.45 1.68 1.83 1.92 1.00.
# The harmonic mean on the powers of two, from the PCA start, has the smallest
# worst ratio but one (within 3% of the PCA weights', which need the spectrum
# kept), needs no state and adapts to any loss; the powers of two cost about
# log2(n_components) decoder passes per step instead of n_components.
# Each step decodes only the whole code and two other prefixes drawn at random
# (_training.nested_loss): on the digits (python benchmarks/nested.py, seeds 0
# and 1, quiet machine) the ratios went from 1.35 1.39 1.38 1.31 1.18 and
# 1.30 1.39 1.41 1.32 1.21 to 1.35 1.38 1.41 1.36 1.16 and 1.30 1.40 1.42 1.37
# 1.18, and the nested fit's time over a plain fit's from 2.66 and 2.73 to
# 1.84 and 2.14; a float n_components took 1.27 and 1.41 times a plain fit
# instead of 1.51 and 1.57, at 1.001 and 1.013 times a dedicated fit's error.
# Where the gap comes from (issue 26; digits as above, a 32-unit code trained
# on the prefixes 2 and 32 alone; ratios at m = 2 and 32, seed 0 then seed 1):
# the nested fit 1.36 and 1.02, 1.32 and 1.02; seed 0 with (512,) hidden units
# 1.34 and 0.94, with (512, 256) 1.33 and 1.01; with a decoder of its own for
# m = 2, 1.17 and 1.01, 1.14 and 1.01; with a code layer and a decoder of its
# own for m = 2 (only the encoder's hidden layer shared, the code no longer
# nested), 1.06 and 1.00, 1.05 and 1.00. The prefixes lose in the units they
# share, not for want of capacity: a nested code is a constraint, which no
# width tried lifts, and weights 1 / loss**p trade one prefix for the other
# (seed 0, p = 0: 1.07 and 1.74; p = 0.5: 1.17 and 1.22). Heads of their own
# for every prefix, all trained at every step, reached 1.07 1.05 1.03 1.01 1.01
# and 1.05 1.08 1.05 1.03 1.01 at m = 2 ... 32, but took 7.8 and 7.9 times a
# plain fit's time (a decoder per size, each decoded in a pass of its own).
# One drawn prefix per step instead of two (MNIST, 64 units, seed 0, ratios at
# m = 2 ... 64 against dedicated fits): 1.52 times a plain fit's time instead of
# 1.78, but 1.26 1.37 1.54 1.74 1.75 1.76 instead of 1.28 1.37 1.45 1.49 1.53
# 1.72. The whole code counted as 3 (6) prefixes instead of 1: 1.42 1.51 1.68
# 1.72 1.49 1.23 (1.50 1.63 1.93 2.13 1.78 1.06), the same trade as the
# powers above. The two drawn prefixes decoded on half of each batch's rows
# (the whole code on all of them), in one process with the shipped step: 1.59 times a
# plain fit's time against 1.86, ratios 1.30 1.40 1.51 1.62 1.64 1.79 against
# 1.28 1.37 1.45 1.49 1.53 1.72. Output columns instead of rows (the two
# drawn prefixes decoded on a random half, or quarter, of the pixels, seed 0,
# one process): 1.65 (1.47) times against 1.85, ratios 1.29 1.37 1.50 1.59
# 1.64 1.80 (1.32 1.41 1.57 1.73 1.77 1.93). Prefixes drawn per row instead
# of per step (each row decodes the whole code and one other prefix, each
# prefix on a sixth of the rows; a step 1.58 times a plain one against 1.77):
# 1.34 1.42 1.50 1.48 1.48 1.76; seed 1, 1.351 1.423 1.501 1.473 1.491 1.740
# against 1.298 1.367 1.446 1.485 1.561 1.735. A cheaper step costs the
# curve each time. Nor does the decoder's side close it (digits, 32 units, ratios
# at m = 2 ... 32, seed 0 against 1.35 1.38 1.41 1.36 1.16): a bias of its own
# per prefix in the first hidden layer, 1.33 1.37 1.40 1.36 1.16; a scale and
# shift of its own for every hidden layer (FiLM), 1.33 1.35 1.37 1.34 1.15
# (seed 1: 1.28 1.36 1.38 1.35 1.18 against 1.30 1.40 1.42 1.38 1.18); a
# residual stack of decoders, one per prefix size fed that prefix and summed
# up to m, which decodes every prefix at every step, 1.31 1.31 1.30 1.24 1.15
# with 128 hidden units each (3.9 times a plain fit's time), 1.32 1.35 1.38
# 1.40 1.26 with 32. Whole decoders of their own, one per prefix size
# (the code still nested, every prefix decoded at every step), did move it:
# 1.17 1.18 1.13 1.06 1.05 (seed 1: 1.14 1.20 1.14 1.06 1.04), and 1.11 1.03
# 1.03 1.00 1.06 in 300 epochs (9.6 times a plain fit's 100), where the shared
# decoder stays at 1.33 1.36 1.34 1.24 1.16 in 300; with each unit trained
# only through its smallest prefix, 1.15 1.22 1.24 1.32 1.64. Each decoder is a
# pass of its own, which a budget of 1.6 plain fits leaves no room for.
# Nor does one pass's worth of them: each row decoding the whole code and one
# other prefix, each prefix on a sixth (digits: a fifth) of the rows through a
# decoder of its own, so that a step does two decoder passes' arithmetic. On the
# digits (seed 0) it reached 1.24 1.28 1.21 1.14 1.02; with only the output
# layer its own, 1.24 1.28 1.22 1.17 1.04 (seed 1: 1.21 1.29 1.25 1.18 1.08);
# with only the first layer or the linear path, 1.31 to 1.39 at m <= 8; with a
# rank-8 (32) change and a bias of its own on the output layer, 1.26 1.32 1.30
# 1.26 1.10 (1.23 1.28 1.23 1.18 1.06). On MNIST (64 units, 40 epochs, seed 0,
# ratios at m = 2 ... 64; the shipped step 1.28 1.37 1.45 1.49 1.53 1.72) it
# helped the whole code only: 1.28 1.34 1.50 1.53 1.41 1.06 with whole decoders,
# 1.26 1.33 1.50 1.56 1.48 1.45 with output layers of their own. There the
# prefixes' gap is in the shared encoder. Nor was that step cheaper than the
# shipped one: with output layers of their own (3.6 million parameters against
# 1.2, Adam's update 1.4 ms against 0.4), it took 2.13 and 2.15 times a plain
# step where the shipped one took 1.72 and 1.80 (MNIST, batch 256, bfloat16,
# medians of 30 rounds, two processes). The nested network as deep as the
# dedicated fits of up to 32 units, (512, 256, 128) hidden units instead of
# (512, 256), made the same trade as the weights: 1.22 1.28 1.36 1.48 1.64 1.88.
# Whole decoders of their own decoded at every step, with weights 1 /
# sqrt(loss), came closest on the digits, 1.11 1.11 1.09 1.07 1.16 and 1.08 1.12
# 1.10 1.08 1.17 at six decoder passes a step; with the plain mean, 1.10 1.10
# 1.09 1.12 1.28.


def _prefixes(width):
    """The prefix sizes a nested code of ``width`` units is trained on: 1, 2, 4, ..., width."""
    return tuple(sorted({min(2**i, width) for i in range(width.bit_length() + 1)}))


def _curve_rows(n_rows, width, incremental):
    """How many rows the prefix curve is measured on (see _PARTIAL_CURVE_ROWS)."""
    if incremental:
        return min(_CURVE_ROWS, max(_PARTIAL_CURVE_ROWS, math.ceil(n_rows / width)))
    return _CURVE_ROWS


def _n_validation(validation_fraction, n_samples):
    """How many of ``n_samples`` rows ``early_stopping`` holds out."""
    return int(round(validation_fraction * n_samples))


def _check_X(estimator, X, reset):
    """``validate_data`` for data rows: dense, or sparse as CSR.

    Batches and chunks are row slices, which need CSR: CSC and the other
    sparse formats are converted (a copy of the stored values, never dense).
    """
    return validate_data(estimator, X, reset=reset, dtype=_FLOAT_DTYPES, accept_sparse="csr")


def _loadable_device(device):
    """``device`` if this machine has it, else the CPU."""
    if device.type == "cuda" and not (
        torch.cuda.is_available() and (device.index or 0) < torch.cuda.device_count()
    ):
        return torch.device("cpu")
    return device


def _moments(X, rows=None):
    """Column means and one global scale (root mean per-feature variance), by chunks.

    One scale for all features keeps the objective proportional to PCA's.
    Each chunk (``rows`` rows; by default about a million values, so that
    its float64 temporaries stay small: MNIST's 60000 rows in one chunk
    took 1.8 s in a fresh process, mostly in faulting in those temporaries,
    and 0.11 s in chunks) is summed in C order, so the result does not
    depend on the memory layout of ``X``. The peak deviation comes from the
    column extremes, which deviate most. Deviations are divided by their
    peak before squaring, so that huge but finite values do not overflow.
    Data whose spread is within rounding error of their mean are constant:
    scale 1. Sparse ``X`` (canonical CSR) is read through its stored values
    alone.
    """
    if sp.issparse(X):
        mean, peak, squares = _sparse_deviations(X)
    else:
        rows = rows or max(1, 2**20 // max(1, X.shape[1]))

        def chunks():
            for start in range(0, X.shape[0], rows):
                yield np.ascontiguousarray(X[start : start + rows])

        total, low, high = 0.0, np.inf, -np.inf
        for chunk in chunks():
            total = total + chunk.sum(axis=0, dtype=np.float64)
            low, high = np.minimum(low, chunk.min(axis=0)), np.maximum(high, chunk.max(axis=0))
        mean = total / X.shape[0]
        # Subtraction rounds monotonically, so the extremes' deviations are
        # the largest ones exactly.
        peak = float(np.maximum(high - mean, mean - low).max())

        def squares(peak):
            return sum(float((((chunk - mean) / peak) ** 2).sum()) for chunk in chunks())

    rounding = X.shape[0] * np.finfo(np.float64).eps * float(np.abs(mean).max())
    if not (rounding < peak < math.inf):
        return mean, 1.0
    scale = peak * math.sqrt(squares(peak) / (X.shape[0] * X.shape[1]))
    if math.isinf(scale * scale):
        raise ValueError(
            f"X's values are too spread out to train on (their scale is {scale:.3g}, "
            "and errors are measured in squared units); rescale X first."
        )
    return mean, scale


def _sparse_deviations(X):
    """For a canonical CSR ``X``: column means, peak deviation, summed squares.

    The summed squares are a function of the divisor, as in :func:`_moments`.
    The zeros that are not stored each deviate by minus their column's mean.
    """
    n_samples, n_features = X.shape
    columns = X.indices
    mean = np.bincount(columns, weights=X.data, minlength=n_features) / n_samples
    deviations = X.data - mean[columns]
    zeros = n_samples - np.bincount(columns, minlength=n_features)
    peak = max(
        float(np.abs(deviations).max(initial=0.0)),
        float(np.abs(mean[zeros > 0]).max(initial=0.0)),
    )

    def squares(peak):
        return float(((deviations / peak) ** 2).sum() + (zeros * (mean / peak) ** 2).sum())

    return mean, peak, squares
