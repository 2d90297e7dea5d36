"""The public autoencoder transformers: each is a docstring and the hook it overrides."""

import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted
from torch.nn import functional as F

from ._base import (
    _FLOAT_DTYPES,
    BaseAutoencoder,
    _check_X,
    _store_params,
    _torch_generator,
)
from ._principal_components import _COVARIANCE_FEATURES
from .noise import NOISES
from .penalties import PENALTIES, contraction_exact, contraction_projected

_PARAMETERS = """n_components : int or float, default=2
        Number of code units (the latent size). A float in (0, 1) is a share
        of the variance, as for :class:`~sklearn.decomposition.PCA`: the fit
        trains a nested code (see ``nested``) as wide as PCA needs for that
        share of the training data's variance, takes the smallest prefix whose
        explained variance (``nested_explained_variance_``, on the validation
        rows with ``early_stopping``) reaches the share (the whole code if
        none does), then builds a network for that width, as an int
        ``n_components`` would (``hidden_layer_sizes="auto"`` sized for it),
        and trains it for ``max_epochs``, nested only if ``nested=True``. The
        nested code trains for a fifth of ``max_epochs``, rounded up, so the
        fit runs about 1.2 plain fits' epochs; ``loss_curve_`` and
        ``n_iter_`` are the model's own. A stop asked for while the nested
        code trains (by a callback or ``KeyboardInterrupt``) ends the whole
        fit, with the nested network cut to the width chosen. The width is
        ``n_components_``. ``partial_fit`` chooses it on its first call, from
        that call's epoch on its chunk, and keeps that network cut to it;
        later calls and ``warm_start`` fits train it further. Not with
        ``sparsity="topk"``.

    nested : bool, default=False
        Whether to train the code nested, so that each prefix of it is itself
        a good code: the reconstruction loss is the harmonic mean of the losses of
        decoding the first m units alone (the others set to zero) for m = 1,
        2, 4, ... up to ``n_components``, with the variant's noise or penalty
        as before. ``nested_explained_variance_`` then gives the explained
        variance of every prefix, the counterpart of PCA's cumulative
        ``explained_variance_ratio_``, from one fit. Each training step
        decodes the whole code and two of the other prefix sizes drawn at
        random, so a step costs up to three decoder passes, whatever
        ``n_components``. Every prefix, the whole code included,
        reconstructs with more error than a fit dedicated to its width:
        1.2 to 1.4 times on the digits (32 units), 1.3 to 1.7 times on
        MNIST (64 units). Not with ``sparsity="topk"``, whose
        choice of units a prefix would change.

    hidden_layer_sizes : array-like of int or "auto", default="auto"
        Hidden widths of the encoder's nonlinear part; the decoder mirrors
        them. The network is a linear path (the PCA-like part) plus an MLP
        through these widths, each way. ``()`` gives a linear autoencoder.
        ``"auto"`` sizes the MLP from the data: a first layer about twice
        the number of features wide (a power of two from 64 to 512), then
        layers of half the width while they stay at least 128 wide and four
        times ``n_components``, three at most: ``(64,)`` for 10 features,
        ``(128,)`` for 64, ``(512, 256, 128)`` for 784 pixels and 30
        components. The widths used are in ``hidden_layer_sizes_``.

    activation : {"relu", "tanh", "sigmoid", "gelu", "leaky_relu", "elu"}, \
default="relu"
        Activation of the hidden layers.

    output_activation : {"auto", "identity", "sigmoid", "tanh"}, default="auto"
        Activation of the reconstruction. ``"auto"`` is ``"sigmoid"`` for
        ``loss="bce"`` and ``"identity"`` otherwise. With ``"identity"`` the
        data are centred and divided by one global scale inside the
        estimator (and restored on the way out), so unscaled data work
        directly; ``"sigmoid"`` needs ``X`` in [0, 1] and ``"tanh"`` (with
        ``loss="mse"``) ``X`` in [-1, 1], and both work on ``X`` as given,
        unscaled, since a centred or rescaled ``X`` could leave their range.

    loss : {"mse", "bce"}, default="mse"
        Reconstruction loss: mean squared error, or binary cross-entropy for
        data in [0, 1] such as pixel intensities.

    tied_weights : bool, default=False
        Whether the decoder uses the transposed encoder weights (with biases
        of its own). With ``hidden_layer_sizes=()`` this is the linear model
        whose optimum spans the principal subspace.

    init : {"pca", "random"}, default="pca"
        ``"pca"`` starts the network at the PCA solution: the linear path is
        the principal projection and the last layer of each nonlinear part
        outputs zero, so training starts from PCA's reconstruction error and
        improves on it. With a constrained code (sigmoid or top-k) the start
        is near, not at, PCA. ``"random"`` uses PyTorch's default init.
        A :class:`AutoencoderTransformer` fit without ``early_stopping``
        never ends with a higher loss on its training data than it started
        from: if it would, the starting weights are put back (with
        ``early_stopping``, the starting weights compete as the best
        validation epoch instead).

    optimizer : {"adam", "adamw", "sgd"}, default="adamw"
        The optimizer: ``"adamw"`` is Adam with decoupled weight decay (the
        same as ``"adam"`` without decay); ``"sgd"`` uses Nesterov momentum 0.9.

    learning_rate : float or "auto", default="auto"
        Step size of the optimizer (the peak of the schedule). ``"auto"`` is
        4e-3 on at least 10,000 training rows, else 2e-3 (see
        ``weight_decay``). ``learning_rate_`` holds the rate used.

    learning_rate_schedule : {"constant", "cosine"}, default="cosine"
        How the step size changes during a ``fit``, updated after every
        batch. ``"cosine"`` warms up linearly from zero over the first 5% of
        the planned steps (``max_epochs`` epochs), then anneals towards zero
        along a half cosine. Every step but the first moves the weights, the
        last at a small rate; the first, at rate zero, only feeds the
        optimizer's moment estimates (a fit of a single step skips it). The
        warm-up keeps the first steps from knocking the PCA start off its
        optimum, and the annealing lets the fit settle in a minimum instead
        of plateauing at a constant rate.
        Early stopping may end the fit before the annealing does. Each
        ``fit`` with ``warm_start=True`` runs the schedule anew from the
        current weights. ``partial_fit`` always uses the constant rate
        ``learning_rate_``, since a stream has no known end.

    weight_decay : float or "auto", default="auto"
        L2 penalty (decoupled for ``"adamw"``). ``"auto"`` is 0.3 for
        ``"adamw"`` on at least 10,000 training rows, else 0: on MNIST's
        60,000 images the decay (with the rate of 4e-3 and 40 epochs) took
        the defaults' test error from 5.07 to 3.87 squared error per image;
        below 10,000 rows that rate and decay cost a wide, noisy data set
        up to 4.3 times the error.
        ``weight_decay_`` holds the value used.

    batch_size : int or "auto", default="auto"
        Rows per training step; ``"auto"`` is ``min(256, n_samples)``.

    max_epochs : int or "auto", default="auto"
        Maximum number of passes over the training data, which is also the
        length the ``"cosine"`` schedule is planned over. ``"auto"`` runs
        about a million training rows through the network, at most 100
        epochs: 100 epochs for small data, 17 for 60000 rows.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the training data,
        stop when its reconstruction error stops improving, and restore the
        weights of the best epoch.

    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping.

    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.

    tol : float, default=1e-4
        Improvement that counts, on the validation error when
        ``early_stopping``, else on the training loss (in scaled units) of a
        fit at a constant rate. A ``"cosine"`` fit without
        ``early_stopping`` runs its planned epochs: its training loss stalls
        at the early, high rate and falls again as the rate anneals, and
        stopping at the first stall left up to 7 times the error. With a
        constant rate, a fit that reaches ``max_epochs`` while still
        improving warns with a ``ConvergenceWarning``. With ``"cosine"``,
        ``max_epochs`` is the planned length of the annealing, at whose end
        the rate has reached zero: reaching it is the fit's planned end, not
        a cap, and does not warn.

    device : str or torch.device, default="auto"
        ``"auto"`` picks CUDA when available, else the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:N"``.

    precision : {"auto", "float32", "bfloat16"}, default="auto"
        Precision of the training's matrix products. ``"bfloat16"`` trains
        under bf16 autocast: weights, optimizer state and data stay float32.
        ``"auto"`` uses bf16 only where the device multiplies it natively (a
        CPU with AVX512-BF16 or AMX, an ARM CPU with BF16, a CUDA GPU of
        compute capability 8.0 or newer) and it is faster there: always on
        such a CPU from 500,000 multiply-adds per row (the MNIST-sized
        default network), never below 20,000, and in between, or on a GPU,
        where a few timed steps of each precision at the start of the fit
        find bf16 more than 5% faster (timed once per model and device in a
        process; fits of fewer than 2000 steps are not timed and stay in
        float32). ``precision_`` says which was used; set the precision
        explicitly for runs that must match bitwise across processes.
        ``"bfloat16"`` on a device without native bf16 warns: its products
        are emulated, and far slower. ``transform``, ``inverse_transform``,
        ``score`` and ``score_samples`` always run in float32, whatever the
        precision or a caller's autocast. TF32 matrix products are used
        when enabled through ``torch.set_float32_matmul_precision``.

    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the shuffling, the validation split and the noise,
        through private generators (global seeds are never touched).

    verbose : int, default=0
        Whether to show a progress bar with the epoch's loss (and validation
        error).

    warm_start : bool, default=False
        Whether ``fit`` continues from the previous fit instead of starting
        anew.

    callbacks : list of callable, default=None
        Each is called as ``callback(estimator)`` after every epoch, with the
        history (``loss_curve_``...) up to date; a callback that returns
        ``True`` stops training. See :class:`skae.plotting.LiveReconstruction`."""

_ATTRIBUTES = """n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    mean_ : ndarray of shape (n_features,)
        Per-feature mean removed before encoding (zeros with a sigmoid or
        tanh output).

    scale_ : float
        The one global scale the centred data are divided by (1 with a
        sigmoid or tanh output).

    n_components_ : int
        Width of the fitted code: the columns of ``transform``'s output, of
        ``inverse_transform``'s input and of ``get_feature_names_out``. It is
        ``n_components`` at the last fresh fit (the chosen width for a float);
        changing the parameter afterwards does not change the fitted model.

    nested_explained_variance_ : ndarray of shape (n_widths,)
        After a nested fit, entry ``m - 1`` is the explained variance (R²) of
        reconstructing from the first m code units with the others set to
        zero: one minus the squared reconstruction error (``-score`` times
        the number of entries) over the squared deviations from the column
        means, as ``r2_score(X, X_hat, multioutput="variance_weighted")``. For
        PCA's reconstructions on its training data this is the cumulative
        ``explained_variance_ratio_``. It is measured on the validation rows
        with ``early_stopping``, else on the training rows (at most 10,000 of
        them, drawn with a fixed seed), after each ``fit`` or ``partial_fit``; after a
        ``partial_fit``, whose one epoch costs less than decoding every row
        once per unit, on one row of its chunk in ``n_components_`` (at least
        256).
        ``n_widths`` is ``n_components_``; for a float ``n_components`` this
        is the curve of the wider nested fit the width was chosen from (kept
        by later ``partial_fit`` and ``warm_start`` fits), and ``n_widths`` is
        that fit's width. Absent after a fit that is not nested.

    module_ : torch.nn.Module
        The fitted network, in scaled units: ``module_.encode`` maps centred,
        scaled rows to codes and ``module_.decode`` maps codes back. Each
        direction is a linear path (where training starts at PCA) plus an
        MLP through ``hidden_layer_sizes``.

    optimizer_ : torch.optim.Optimizer
        The optimizer, kept for ``partial_fit`` and ``warm_start``.

    device_ : torch.device
        Where the module lives.

    precision_ : {"float32", "bfloat16"}
        The precision the last ``fit`` or ``partial_fit`` trained in,
        ``precision`` with ``"auto"`` resolved.

    learning_rate_ : float
        The learning rate of the last ``fit`` (or of the first
        ``partial_fit``), ``learning_rate`` with ``"auto"`` resolved.

    weight_decay_ : float
        Its weight decay, ``weight_decay`` with ``"auto"`` resolved.

    hidden_layer_sizes_ : tuple of int
        The hidden widths of the network, ``hidden_layer_sizes`` with
        ``"auto"`` resolved.

    loss_curve_ : list of float
        Training loss after each epoch, in scaled units (for a nested fit,
        the harmonic mean of the losses of its prefixes m = 1, 2, 4, ...).

    best_loss_ : float
        Lowest training loss reached.

    validation_scores_ : list of float or None
        With ``early_stopping``, the score (negative mean squared error, in
        the data's units) of the held-out data after each epoch; for a nested
        fit, minus the harmonic mean of the errors of the trained prefixes,
        the clean counterpart of its training loss.

    best_validation_score_ : float or None
        Best of ``validation_scores_``.

    n_iter_ : int
        Number of epochs run."""

_SEE_ALSO = """sklearn.decomposition.PCA : The linear baseline.
    AutoencoderTransformer : Plain autoencoder.
    DenoisingAutoencoder : Autoencoder trained to undo corruption.
    SparseAutoencoder : Autoencoder with a sparse code.
    ContractiveAutoencoder : Autoencoder whose code resists small input changes.
    VariationalAutoencoder : Generative autoencoder with a Gaussian code."""


def _fill_doc(cls):
    """Put the shared parameter, attribute and see-also sections into the docstring."""
    cls.__doc__ = cls.__doc__.format(
        parameters=_PARAMETERS, attributes=_ATTRIBUTES, see_also=_SEE_ALSO
    )
    return cls


@_fill_doc
class AutoencoderTransformer(BaseAutoencoder):
    """Autoencoder as a scikit-learn transformer, a nonlinear drop-in for PCA.

    ``transform`` returns the code, ``inverse_transform`` the reconstruction,
    and ``score`` the negative mean squared reconstruction error.

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    {see_also}

    References
    ----------
    G. E. Hinton and R. R. Salakhutdinov, "Reducing the dimensionality of
    data with neural networks", Science 313(5786), 2006.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0)
    >>> ae.fit_transform(X).shape
    (1797, 8)
    >>> ae.inverse_transform(ae.transform(X[:2])).shape
    (2, 64)
    """


@_fill_doc
class DenoisingAutoencoder(BaseAutoencoder):
    """Autoencoder trained to reconstruct clean inputs from corrupted ones.

    Corruption is drawn afresh for every batch, during training only;
    ``transform``, ``inverse_transform`` and ``score`` see the clean input.

    Parameters
    ----------
    {parameters}

    noise : {{"gaussian", "masking", "salt_and_pepper"}}, default="masking"
        The corruption, from :mod:`skae.noise`, applied in the units of
        ``X``. ``"masking"`` sets each entry to 0 with probability
        ``noise_level`` (a dropout mask on the input); ``"gaussian"`` adds
        noise of standard deviation ``noise_level``; ``"salt_and_pepper"``
        sets each entry with probability ``noise_level`` to the batch's
        minimum or maximum.

    noise_level : float, default=0.2
        Strength of the corruption: a probability for ``"masking"`` and
        ``"salt_and_pepper"``, a standard deviation in ``X``'s units for
        ``"gaussian"``. :meth:`corrupt` shows its effect.

    Attributes
    ----------
    {attributes}

    See Also
    --------
    {see_also}

    References
    ----------
    P. Vincent, H. Larochelle, I. Lajoie, Y. Bengio and P.-A. Manzagol,
    "Stacked denoising autoencoders", JMLR 11, 2010.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> dae = DenoisingAutoencoder(n_components=8, noise="masking", noise_level=0.3,
    ...                            max_epochs=5, random_state=0).fit(X)
    >>> dae.transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        nested=False,
        noise="masking",
        noise_level=0.2,
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

    def _check_params(self):
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise={self.noise!r} needs noise_level in [0, 1] (a probability), "
                f"got {self.noise_level}."
            )

    def _corruption(self):
        noise, level, scale = NOISES[self.noise], self.noise_level, self.scale_
        mean = torch.as_tensor(self.mean_, dtype=torch.float32, device=self.device_)

        def corrupt(X, generator):
            # The noise acts in the user's units, where a masked entry is 0 and
            # salt and pepper are the data's own extremes; X is scaled.
            return (noise(X * scale + mean, level, generator) - mean) / scale

        return corrupt

    def corrupt(self, X, random_state=None):
        """Corrupt ``X`` with this estimator's noise, as in training.

        Useful to look at what the model learns to undo. Needs no fitting.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Clean data.
        random_state : int, RandomState instance or None, default=None
            Seeds the noise.

        Returns
        -------
        X_noisy : ndarray of shape (n_samples, n_features)
            A corrupted copy of ``X``, in its float dtype.

        Examples
        --------
        >>> import numpy as np
        >>> from skae import DenoisingAutoencoder
        >>> dae = DenoisingAutoencoder(noise="masking", noise_level=0.5)
        >>> X_noisy = dae.corrupt(np.ones((1000, 4)), random_state=0)
        >>> sorted(np.unique(X_noisy)), round(float((X_noisy == 0).mean()), 1)
        ([np.float64(0.0), np.float64(1.0)], 0.5)
        """
        self._validate_params()
        self._check_params()
        # A copy: torch cannot wrap a read-only array, and X must stay untouched.
        X = check_array(X, dtype=_FLOAT_DTYPES, copy=True)
        generator = _torch_generator(check_random_state(random_state))
        noisy = NOISES[self.noise](torch.from_numpy(X), self.noise_level, generator)
        return noisy.numpy()


@_fill_doc
class SparseAutoencoder(BaseAutoencoder):
    """Autoencoder whose code is pushed to be sparse.

    Parameters
    ----------
    {parameters}

    sparsity : {{"kl", "l1", "topk"}}, default="kl"
        ``"kl"`` penalises the KL divergence between ``sparsity_target`` and
        each code unit's mean activation over the batch; the code then goes
        through a sigmoid so that it lies in (0, 1). ``"l1"`` penalises the
        mean L1 norm of the code. ``"topk"`` keeps the ``k`` largest units of
        each row and zeroes the rest, in training and in ``transform``.

    sparsity_target : float, default=0.05
        Target mean activation (rho) for ``"kl"``.

    sparsity_weight : float, default=0.1
        Weight (beta) of the ``"kl"`` or ``"l1"`` penalty.

    k : int, default=None
        Units kept per row for ``"topk"``; ``None`` means
        ``max(1, n_components // 4)``.

    Attributes
    ----------
    {attributes}

    See Also
    --------
    {see_also}

    References
    ----------
    A. Ng, "Sparse autoencoder", CS294A lecture notes, 2011.
    A. Makhzani and B. Frey, "k-Sparse autoencoders", ICLR 2014.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> sae = SparseAutoencoder(n_components=16, sparsity="topk", k=4,
    ...                         max_epochs=5, random_state=0).fit(X)
    >>> int((sae.transform(X[:1]) != 0).sum())
    4
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "sparsity": [StrOptions({*PENALTIES, "topk"})],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        n_components=2,
        *,
        nested=False,
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.1,
        k=None,
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

    def _check_params(self):
        if self.sparsity == "topk" and (self.nested or isinstance(self.n_components, float)):
            raise ValueError(
                "sparsity='topk' cannot be trained nested (nested=True or a float "
                "n_components): it keeps the k largest units of the whole code, "
                "which cutting the code to a prefix would change. Use sparsity='l1' "
                "or 'kl', or an int n_components with nested=False."
            )
        if self.sparsity == "topk" and self.k is not None and self.k > self.n_components:
            raise ValueError(f"k={self.k} must be at most n_components={self.n_components}.")

    def _module_kwargs(self):
        if self.sparsity == "kl":
            return {"code_activation": "sigmoid"}
        if self.sparsity == "topk":
            k = self.k if self.k is not None else max(1, self.n_components // 4)
            return {"top_k": k}
        return {}

    def _penalty(self, code):
        if self.sparsity == "topk":
            return None
        return self.sparsity_weight * PENALTIES[self.sparsity](code, self.sparsity_target)


# The exact Jacobian takes one backward pass per code unit, the projection one
# forward-mode pass in all: beyond a few units the exact one is the slower.
_EXACT_MAX_COMPONENTS = 4


@_fill_doc
class ContractiveAutoencoder(BaseAutoencoder):
    """Autoencoder whose code resists small changes of the input.

    The loss adds ``contraction_weight`` times the squared Frobenius norm of
    the Jacobian of the code with respect to the (scaled) input, averaged over
    the batch. The encoder then flattens every direction of the input that the
    reconstruction does not need, and keeps its sensitivity along the data.

    Parameters
    ----------
    {parameters}

    contraction_weight : float, default=0.1
        Weight (lambda) of the contraction penalty.

    jacobian : {{"auto", "exact", "projection"}}, default="auto"
        How the penalty is computed. ``"exact"`` forms the Jacobian, one
        backward pass per code unit; ``"projection"`` estimates its squared
        norm without bias as ``||J v||^2`` for a random sign vector ``v`` per
        row, from one forward-mode Jacobian-vector product, whatever the code
        width. ``"auto"`` is ``"exact"`` for codes of at most 4 units and
        ``"projection"`` beyond.

    Attributes
    ----------
    {attributes}

    See Also
    --------
    {see_also}

    References
    ----------
    S. Rifai, P. Vincent, X. Muller, X. Glorot and Y. Bengio, "Contractive
    auto-encoders: explicit invariance during feature extraction", ICML 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> cae = ContractiveAutoencoder(n_components=8, contraction_weight=0.1,
    ...                              max_epochs=5, random_state=0).fit(X)
    >>> cae.transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "contraction_weight": [Interval(Real, 0, None, closed="left")],
        "jacobian": [StrOptions({"auto", "exact", "projection"})],
    }

    def __init__(
        self,
        n_components=2,
        *,
        nested=False,
        contraction_weight=0.1,
        jacobian="auto",
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

    def _encode_with_penalty(self, X, generator):
        exact = self.jacobian == "exact" or (
            self.jacobian == "auto" and self.n_components_ <= _EXACT_MAX_COMPONENTS
        )
        if exact:
            code, penalty = contraction_exact(self.module_.encode, X)
        else:
            code, penalty = contraction_projected(self.module_.encode, X, generator)
        return code, self.contraction_weight * penalty


# score_samples averages the likelihood over these many fixed draws of the
# code (half of them the negatives of the other half), the same for every row.
_ELBO_DRAWS = 16


def _kl_to_standard_normal(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) of each row, in nats."""
    return 0.5 * (mean**2 + log_var.exp() - log_var - 1).sum(dim=1)


@_fill_doc
class VariationalAutoencoder(BaseAutoencoder):
    """Variational autoencoder: a Gaussian code that can be sampled from.

    The encoder gives each code unit a Gaussian posterior ``q(z|x)``, a mean
    and a log-variance; training decodes a draw ``z = mean + std * eps`` and
    adds ``beta`` times the KL divergence from ``q(z|x)`` to the standard
    normal prior to the reconstruction loss (Kingma and Welling's negative
    evidence lower bound, ELBO, when ``beta=1``). ``transform`` returns the
    posterior mean, ``inverse_transform`` decodes a code to the decoder's
    mean, and :meth:`sample` decodes draws from the prior.

    The likelihood ``p(x|z)`` is set by ``loss``:

    - ``"mse"``: Gaussian around the decoder's output with one fixed variance
      for every feature, ``noise_variance_``: the maximum-likelihood noise
      variance of probabilistic PCA with ``n_components`` components (the
      mean of the discarded eigenvalues of the training data's covariance),
      estimated at the start of each fresh fit. A linear model whose
      likelihood is that broad has probabilistic PCA as its optimum;
      a nonlinear one reconstructs better than PCA and sharpens its
      posterior accordingly.
    - ``"bce"``: Bernoulli, for data in [0, 1] (the cross-entropy, as for
      the other estimators, on non-binary values).

    The reconstruction loss is a mean over the batch's entries, so the KL
    term is scaled to match: the training loss of a batch is the mean over
    its rows of ``c * (-ELBO(x) - const)``, with ``c = 2 * noise_variance_ /
    (scale_**2 * n_features)`` for ``"mse"`` and ``c = 1 / n_features`` (and
    no constant) for ``"bce"``. ``beta=1`` is thus the ELBO itself; ``beta``
    above 1 presses the code towards the prior (smoother, more
    disentangled codes, blurrier reconstructions, fewer units used), below 1
    towards a plain autoencoder (with ``beta=0`` nothing holds the code to
    the prior, and the posterior's noise only costs reconstruction).

    Parameters
    ----------
    {parameters}

    beta : float, default=1.0
        Weight of the KL divergence to the prior, relative to the
        likelihood's: 1 trains on the ELBO.

    Attributes
    ----------
    {attributes}

    noise_variance_ : float
        Variance of the Gaussian likelihood of ``loss="mse"``, in the squared
        units of ``X`` (set for either loss).

    See Also
    --------
    {see_also}

    Notes
    -----
    ``score_samples`` is the ELBO of each row, a lower bound on its log
    density in the input's units, so that it ranks rows by likelihood
    (anomaly detection); ``score`` stays the negative mean squared
    reconstruction error of the family, from the posterior mean, so that
    ``GridSearchCV`` compares any of skae's estimators alike.

    With ``init="pca"``, the mean head starts at PCA's whitened projection
    (each principal coordinate over its standard deviation, so the codes
    of the training data have unit variance like the prior) and the decoder
    at its inverse: the start reconstructs from the posterior mean exactly as
    PCA does. The log-variance head starts at zero weights and a bias of
    ``log(0.01)``: every posterior starts with standard deviation 0.1 in the
    prior's units, so the first draws decode close to PCA's reconstruction.

    References
    ----------
    D. P. Kingma and M. Welling, "Auto-encoding variational Bayes", ICLR
    2014.
    I. Higgins et al., "beta-VAE: learning basic visual concepts with a
    constrained variational framework", ICLR 2017.
    M. E. Tipping and C. M. Bishop, "Probabilistic principal component
    analysis", JRSS B 61(3), 1999.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VariationalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> vae = VariationalAutoencoder(n_components=8, max_epochs=5, random_state=0).fit(X)
    >>> vae.transform(X[:3]).shape
    (3, 8)
    >>> vae.sample(4, random_state=0).shape
    (4, 64)
    >>> vae.score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseAutoencoder._parameter_constraints,
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        nested=False,
        beta=1.0,
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

    def _module_kwargs(self):
        return {"variational": True}

    def _initialize(self, axes, architecture, validating, width=None):
        super()._initialize(axes, architecture, validating, width)
        self._set_noise_variance(axes)

    def _truncate(self, width, axes):
        super()._truncate(width, axes)
        self._set_noise_variance(axes)

    def _set_noise_variance(self, axes):
        # Probabilistic PCA's noise variance, on the rows the PCA start sees: the
        # mean variance of the directions the code leaves out. The axes leave
        # out directions without variance; they count as zero. Narrow data give
        # every axis (their covariance is decomposed anyway); wide ones the
        # code's and one more, the rest coming from the total variance.
        width, n_features = self.n_components_, axes.n_features
        every_axis = n_features <= _COVARIANCE_FEATURES
        n_axes = n_features if every_axis else min(width + 1, n_features)
        _, _, spread = axes.top(n_axes)
        variances = spread.double() ** 2
        total = float(variances.sum()) if every_axis else axes.total_variance
        residual = 0.0
        if variances.numel() > width:
            residual = max(0.0, total - float(variances[:width].sum())) / (n_features - width)
        # Data the code holds exactly would make the likelihood infinitely sharp.
        floor = max(1e-6 * total / n_features, 1e-12)
        self.noise_variance_ = max(residual, floor) * self.scale_**2

    def _kl_weight(self):
        """The factor that puts the KL term on the scale of the reconstruction loss."""
        n_features = self.n_features_in_
        if self.loss == "bce":
            return 1.0 / n_features
        return 2.0 * self.noise_variance_ / (self.scale_**2 * n_features)

    def _encode_with_penalty(self, X, generator):
        mean, log_var = self.module_.encode_distribution(X)
        noise = torch.randn(
            mean.shape, generator=generator, device=mean.device, dtype=mean.dtype
        )
        code = mean + (0.5 * log_var).exp() * noise
        kl = _kl_to_standard_normal(mean, log_var).mean()
        return code, self.beta * self._kl_weight() * kl

    def score_samples(self, X):
        """Evidence lower bound (ELBO) of each sample, in nats.

        ``E_q[log p(x|z)] - KL(q(z|x) || N(0, I))``: a lower bound on the log
        density of ``x`` in the input's units, under the likelihood of the
        ``loss`` the model was fitted with (for ``loss="mse"``, the Gaussian
        of variance ``noise_variance_`` in ``X``'s units; for ``"bce"``, the
        Bernoulli log-likelihood, minus the cross-entropy summed over
        features). The KL term is exact; the expectation is
        averaged over 16 fixed draws of the standard normal noise, the same
        for every row (8 draws and their negatives), so that a row's score
        depends on that row alone and is the same on every call.

        Higher is better; low values flag unlikely samples, which makes this
        an anomaly score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The ELBO of each row, in nats, in ``X``'s float dtype.
        """
        check_is_fitted(self)
        X = _check_X(self, X, reset=False)
        module = self.module_
        gaussian = self._fitted_loss == "mse"
        draws = torch.randn(
            _ELBO_DRAWS // 2,
            self._n_features_out,
            generator=torch.Generator().manual_seed(0),
            dtype=torch.float32,
        )
        draws = torch.cat([draws, -draws]).to(self.device_)

        def terms(batch):
            mean, log_var = module.encode_distribution(batch)
            std = (0.5 * log_var).exp()
            misfit = torch.zeros(batch.shape[0], dtype=batch.dtype, device=batch.device)
            for eps in draws:
                raw = module.decode_raw(mean + std * eps)
                if gaussian:
                    misfit += ((module.output_layer(raw) - batch) ** 2).sum(dim=1)
                else:
                    misfit += F.binary_cross_entropy_with_logits(
                        raw, batch, reduction="none"
                    ).sum(dim=1)
            return torch.stack(
                [misfit / len(draws), _kl_to_standard_normal(mean, log_var)], dim=1
            )

        misfit, kl = self._infer(terms, X, 2).T
        if gaussian:
            variance = self.noise_variance_
            # misfit is in scaled units; scale_**2 brings it to X's.
            log_likelihood = -(misfit * (self.scale_**2 / (2 * variance))) - (
                0.5 * self.n_features_in_ * math.log(2 * math.pi * variance)
            )
        else:
            log_likelihood = -misfit
        return log_likelihood - kl

    def score(self, X, y=None):
        """Negative mean squared reconstruction error, in ``X``'s units.

        The same score as the other skae estimators, from the posterior mean
        (``inverse_transform(transform(X))``), so that a search across them
        compares like with like; it is not the mean of :meth:`score_samples`
        (the ELBO).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better, so ``GridSearchCV`` needs no ``scoring=``.
        """
        return float(np.mean(super().score_samples(X)))

    def sample(self, n_samples=1, random_state=None):
        """Draw new samples: codes from the prior, decoded to the decoder's mean.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples.
        random_state : int, RandomState instance or None, default=None
            Seeds the codes.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The samples, float64, in the units of the training data.
        """
        check_is_fitted(self)
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}.")
        codes = check_random_state(random_state).standard_normal(
            (n_samples, self._n_features_out)
        )
        return self.inverse_transform(codes)
