"""Choosing the code size by cross-validation in one call: LatentSizeCV."""

import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ._autoencoders import AutoencoderTransformer
from ._base import _SEED_HIGH, BaseAutoencoder, _check_X

# From this many rows on, cv="auto" holds out one shuffled _HOLDOUT_SHARE of
# them instead of 3 folds, and epoch_share="auto" cuts each fit to
# _HOLDOUT_EPOCH_SHARE of its epochs, and warm_refit="auto" continues the
# chosen size's fit. On MNIST's 60,000 rows (sizes 4 to 64, rule 0.9, two
# seeds; benchmarks/nested.py --parts choose) that chose the 3-fold grid's
# size in 0.21 to 0.22 of its time, with held-out errors 0.98 to 1.04 times
# the grid's cross-validated ones. On fewer rows the holdout's fits, on 90% of
# them, learn enough more than the grid's, on two thirds, to move the answer:
# on 20,000 MNIST images (seed 0) the grid chose 64 units (R² 0.894 at 32) and
# the holdout 32 (0.904), with errors 0.91 to 0.96 times the grid's, in 0.32
# of its time; on 10,000 (seeds 0 and 1) both chose 64, at 0.85 to 0.95
# times, in 0.26 and 0.32. On 60,000 shifted, noised digits (sizes 2 to 32,
# seeds 0 and 1; benchmarks/nested.py --data shifted-digits --parts choose
# --epoch-shares) it chose the grid's size, 16, in 0.16 and 0.23 of its time,
# with errors 1.01 to 1.04 times the grid's.
_HOLDOUT_ROWS = 50_000
_HOLDOUT_SHARE = 0.1
_HOLDOUT_EPOCH_SHARE = 0.65

# Tried for issue 26 and not kept: the sizes seeded by one nested fit. On MNIST
# (one 10% holdout, seed 0, sizes 4 to 64, held-out errors over the 3-fold
# grid's), a nested fit at 32 units for 20% of the planned epochs, each size up
# to 32 cut from it and trained 40% more, and 64 units fitted for 60%, ran 2.6
# plain fits' epochs against the 0.65 route's 3.25; its errors were 1.005 1.005
# 1.075 1.111 1.023 (the 0.65 route's: 0.976 0.976 0.996 1.023 1.017), and its
# refit's test error 1.07 times the grid's. With 25% and 25%: 1.01 1.02 1.12
# 1.17 1.06. The nested start costs the wide sizes more than it saves. Nor
# was one network with a code layer and a decoder per size on a shared
# encoder, all trained at every step for 65% of the epochs, kept: it took
# 170 s before any refit (the committed grid run: 814 s; the 0.65 route:
# 182 s with its refit), with errors 0.99 1.00 1.06 1.05 1.10.


class LatentSizeCV(TransformerMixin, BaseEstimator):
    """An autoencoder whose code size is chosen by cross-validation.

    The answer of ``GridSearchCV(estimator, {"n_components": sizes}, cv=cv)``
    under a size rule, in one call: each candidate size is fitted
    on the training part of every split and scored on its held-out part,
    the rule picks a size from the cross-validated scores, and the estimator
    is refitted at that size on all of ``X``. With 3 folds and
    ``epoch_share=1.0`` (the defaults below 50,000 rows) the fits are the
    grid's own, so the scores and the chosen size are the grid's; a smaller
    share makes each cross-validation fit shorter, at the cost of errors
    that are higher than the grid's and a rule that may then pick a larger
    size.

    On large data one held-out split is enough (its thousands of rows give
    each size's error to within a few percent), and most of the time goes
    into the fits' epochs. From 50,000 rows on, the defaults fit each
    size once, on a shuffled 90% of the rows for 65% of its epochs, score
    it on the other 10%, and continue the chosen size's fit for the refit
    (``cv=ShuffleSplit(n_splits=1, test_size=0.1)``, ``epoch_share=0.65``,
    ``warm_refit=True``). On MNIST that took 0.21 to 0.22 of a 3-fold
    grid's time, refit included, for the grid's size and held-out errors
    within 4% of the grid's cross-validated ones; on 60,000 shifted digits,
    0.16 to 0.23 of it, with the same.

    Read more in the :ref:`User Guide <choosing_parameters>`.

    Parameters
    ----------
    estimator : skae autoencoder, default=None
        The autoencoder whose ``n_components`` is chosen, cloned for every
        fit; its other parameters, ``random_state`` included, are used as
        they are. None uses ``AutoencoderTransformer()``.

    sizes : array-like of int, default=(2, 4, 8, 16, 32)
        The candidate code sizes (values of ``n_components``), tried in
        increasing order.

    rule : float in (0, 1) or callable, default=0.9
        How the size is chosen from the cross-validated scores. A float is a
        share of variance: the smallest size whose mean held-out explained
        variance (``mean_test_r2`` of ``cv_results_``) reaches it, as
        ``PCA(n_components=0.9)`` chooses from ``explained_variance_ratio_``;
        if none does, the largest size, with a warning. A callable is called
        as ``rule(cv_results_)`` and returns the index of the chosen size, as
        ``GridSearchCV``'s ``refit`` callable does (for example a
        one-standard-error rule).

    cv : "auto", int, cross-validation generator or iterable, default="auto"
        The splits, as for :class:`~sklearn.model_selection.GridSearchCV`:
        an int is the number of folds of an unshuffled ``KFold``, the
        grid's default. "auto" is 3 folds below 50,000 rows, and one
        shuffled 10% holdout from there on, drawn from the estimator's
        ``random_state``.

    epoch_share : "auto" or float in (0, 1], default="auto"
        The share of its epochs (``max_epochs``, resolved for the training
        rows of a split) that each cross-validation fit runs, under the same
        learning-rate schedule compressed. 1.0 fits exactly as the grid does.
        "auto" is 0.65 with one split and 1.0 with several. Each fit's set-up
        and scoring do not shrink, nor does the refit (unless
        ``warm_refit``): on MNIST (sizes 4 to 64, 3 folds, 2 CPU cores) 0.25
        took 0.29 to 0.37 of the grid's time, refit included, and its
        cross-validated errors were 1.04 to 1.30 times the grid's. With one
        10% holdout, 0.65 and ``warm_refit=True`` took 0.21 to 0.22 of it,
        with errors 0.98 to 1.04 times the grid's; 0.6 took 0.20 to 0.24,
        with errors up to 1.07 times (``benchmarks/nested.py --parts
        choose``).

    warm_refit : "auto" or bool, default="auto"
        Whether the refit continues the first split's fit at the chosen size,
        on all of ``X``, for the epochs that ``epoch_share`` cut from it
        (``1 - epoch_share`` of the refit's planned epochs), instead of
        fitting afresh for all of them. The chosen size's model then trains
        for one schedule's worth of epochs in all, in two parts, and the
        refit costs that share of a fresh one. Needs ``epoch_share < 1``;
        "auto" is True with one split and ``epoch_share < 1``. Its scaling
        (``mean_``, ``scale_``) is the first split's training rows'. The
        search keeps the first split's model of every size until the refit.
        On MNIST, after fits on 90% of the rows for 65% of their epochs, its
        test error was 2% and 3% above a fresh refit's (two seeds).

    verbose : int, default=0
        Whether to show a progress bar over the fits.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per candidate size, in the form of ``GridSearchCV``'s:
        ``param_n_components``, ``params``, ``split{k}_test_score`` (the
        estimator's ``score``, minus the mean squared reconstruction error),
        ``mean_test_score``, ``std_test_score``, ``rank_test_score``,
        ``split{k}_test_r2`` (one minus the held-out squared error over the
        held-out rows' squared deviations from their column means),
        ``mean_test_r2``, ``std_test_r2``, ``mean_fit_time`` and
        ``std_fit_time``.

    best_index_ : int
        The index of the chosen size in ``cv_results_``.

    best_n_components_ : int
        The chosen code size.

    best_estimator_ : estimator object
        The estimator refitted at the chosen size on all of ``X``; the
        transform, inverse_transform and score methods are its own.

    refit_time_ : float
        Seconds spent refitting ``best_estimator_``.

    n_splits_ : int
        The number of cross-validation splits.

    epoch_share_ : float
        The share of their epochs that the cross-validation fits ran.

    warm_refit_ : bool
        Whether the refit continued the first split's fit.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : The general search this one answers.
    sklearn.decomposition.PCA : ``n_components=0.9`` picks a size by the same share.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer, LatentSizeCV
    >>> X = load_digits().data / 16
    >>> search = LatentSizeCV(
    ...     AutoencoderTransformer(max_epochs=20, random_state=0),
    ...     sizes=[4, 16],
    ...     rule=0.85,
    ... ).fit(X)
    >>> search.best_n_components_
    16
    >>> search.transform(X).shape
    (1797, 16)
    """

    _parameter_constraints: dict = {
        "estimator": [BaseAutoencoder, None],
        "sizes": ["array-like"],
        "rule": [Interval(RealNotInt, 0, 1, closed="neither"), callable],
        "cv": [StrOptions({"auto"}), "cv_object"],
        "epoch_share": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="right")],
        "warm_refit": [StrOptions({"auto"}), "boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        sizes=(2, 4, 8, 16, 32),
        rule=0.9,
        cv="auto",
        epoch_share="auto",
        warm_refit="auto",
        verbose=0,
    ):
        self.estimator = estimator
        self.sizes = sizes
        self.rule = rule
        self.cv = cv
        self.epoch_share = epoch_share
        self.warm_refit = warm_refit
        self.verbose = verbose

    @_fit_context(
        # The inner estimator validates its own parameters when it is fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None):
        """Cross-validate every candidate size, choose one and refit at it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted search.
        """
        sizes = _check_sizes(self.sizes)
        estimator = AutoencoderTransformer() if self.estimator is None else self.estimator
        # A failed fit (bad X, a diverged size) leaves the search as it was.
        saved = dict(vars(self))
        try:
            X = _check_X(self, X, reset=True)
            splits = list(check_cv(self._splitter(estimator, X.shape[0])).split(X))
            self.n_splits_ = len(splits)
            one_split = self.n_splits_ == 1
            self.epoch_share_ = (
                (_HOLDOUT_EPOCH_SHARE if one_split else 1.0)
                if self.epoch_share == "auto"
                else self.epoch_share
            )
            self.warm_refit_ = (
                one_split and self.epoch_share_ < 1
                if self.warm_refit == "auto"
                else self.warm_refit
            )
            if self.warm_refit_ and self.epoch_share_ == 1:
                auto = " (1.0 with several splits)" if self.epoch_share == "auto" else ""
                raise ValueError(
                    "warm_refit=True continues a cross-validation fit for the epochs "
                    "epoch_share cut from it, so it needs epoch_share < 1; got "
                    f"epoch_share={self.epoch_share!r}{auto}."
                )
            scores, r2, times, first_models = self._cross_validate(estimator, sizes, X, splits)
            self.cv_results_ = _results(sizes, scores, r2, times)
            self.best_index_ = self._choose()
            self.best_n_components_ = int(sizes[self.best_index_])
            start = time.perf_counter()
            self.best_estimator_ = self._refit(estimator, X, first_models)
            self.refit_time_ = time.perf_counter() - start
        except BaseException:
            vars(self).clear()
            vars(self).update(saved)
            raise
        return self

    def _splitter(self, estimator, n_samples):
        """``cv``, with "auto" resolved for ``n_samples`` rows."""
        if not isinstance(self.cv, str):  # "auto" is the only string allowed
            return self.cv
        if n_samples < _HOLDOUT_ROWS:
            return 3
        # Drawn from the estimator's random_state, so that a seeded search
        # holds out the same rows every time.
        seed = check_random_state(estimator.random_state).randint(_SEED_HIGH)
        return ShuffleSplit(n_splits=1, test_size=_HOLDOUT_SHARE, random_state=seed)

    def _refit(self, estimator, X, first_models):
        """The estimator at the chosen size, fitted on all of ``X``."""
        model = clone(estimator).set_params(n_components=self.best_n_components_)
        if not self.warm_refit_:
            return model.fit(X)
        planned = model._planned_epochs(X.shape[0])
        rest = max(1, planned - self._shortened(planned))
        continued = first_models[self.best_index_]
        continued.set_params(warm_start=True, max_epochs=rest)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            continued.fit(X)
        # The refitted model shows the estimator's parameters, as a fresh refit would.
        return continued.set_params(**model.get_params(deep=False))

    def _shortened(self, planned):
        """The epochs a cross-validation fit runs of ``planned``; warm refits run the rest."""
        return math.ceil(self.epoch_share_ * planned)

    def _cross_validate(self, estimator, sizes, X, splits):
        """Scores, R² and fit times of every size (rows) on every split (columns).

        Also the models of the first split, one per size, which a warm refit
        continues (an empty list otherwise).
        """
        scores = np.empty((len(sizes), len(splits)))
        r2 = np.empty_like(scores)
        times = np.empty_like(scores)
        first_models = []
        bar = tqdm(total=scores.size, desc=type(self).__name__, disable=not self.verbose)
        with bar:
            for k, (train, test) in enumerate(splits):
                X_train, X_test = X[train], X[test]
                spread = _mean_variance(X_test)
                for i, size in enumerate(sizes):
                    model = clone(estimator).set_params(n_components=size)
                    if self.epoch_share_ < 1:
                        planned = model._planned_epochs(X_train.shape[0])
                        model.set_params(max_epochs=self._shortened(planned))
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        # A shortened fit is expected to stop short of convergence.
                        if self.epoch_share_ < 1:
                            warnings.simplefilter("ignore", ConvergenceWarning)
                        model.fit(X_train)
                    times[i, k] = time.perf_counter() - start
                    scores[i, k] = model.score(X_test)
                    # Held-out rows without spread: all or nothing explained.
                    r2[i, k] = (
                        1.0 + scores[i, k] / spread if spread > 0 else float(scores[i, k] == 0)
                    )
                    if self.warm_refit_ and k == 0:
                        first_models.append(model)
                    bar.update()
        return scores, r2, times, first_models

    def _choose(self):
        results = self.cv_results_
        if callable(self.rule):
            index = self.rule(results)
            n_sizes = len(results["params"])
            if not (isinstance(index, Integral) and 0 <= index < n_sizes):
                raise IndexError(
                    f"rule must return the index of a size in cv_results_, an int in "
                    f"[0, {n_sizes}); it returned {index!r}."
                )
            return int(index)
        reached = np.flatnonzero(results["mean_test_r2"] >= self.rule)
        if reached.size:
            return int(reached[0])
        warnings.warn(
            f"No size in sizes reached a held-out explained variance of "
            f"{self.rule}; the largest, {results['param_n_components'][-1]}, was "
            f"chosen (its mean_test_r2 is {results['mean_test_r2'][-1]:.4f}).",
            UserWarning,
            stacklevel=3,
        )
        return len(results["params"]) - 1

    def transform(self, X):
        """Encode ``X`` with the refitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, ``best_n_components_``)
            The code.
        """
        check_is_fitted(self)
        return self.best_estimator_.transform(_check_X(self, X, reset=False))

    def inverse_transform(self, X):
        """Decode codes with the refitted estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, ``best_n_components_``)
            Codes, as returned by :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            The reconstruction.
        """
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    def score(self, X, y=None):
        """The refitted estimator's score: minus its mean squared reconstruction error.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Higher is better.
        """
        check_is_fitted(self)
        return self.best_estimator_.score(_check_X(self, X, reset=False))

    def get_feature_names_out(self, input_features=None):
        """The refitted estimator's output feature names.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in :meth:`fit`.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The names of the code's units.
        """
        check_is_fitted(self)
        return self.best_estimator_.get_feature_names_out(input_features)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "best_estimator_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags


def _check_sizes(candidates):
    sizes = np.asarray(candidates)
    if (
        sizes.ndim != 1
        or sizes.size == 0
        or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes.tolist())
        or sizes.min() < 1
    ):
        raise ValueError(
            "sizes must be a non-empty list of positive ints (the candidate code "
            f"sizes), got {candidates!r}."
        )
    return np.unique(sizes)


def _mean_variance(X):
    """The mean over the columns of ``X`` of their variances."""
    if sp.issparse(X):
        return float(mean_variance_axis(X, axis=0)[1].mean())
    return float(X.var(axis=0).mean())


def _results(sizes, scores, r2, times):
    """``cv_results_`` from per-size, per-split arrays."""
    results = {
        "param_n_components": sizes.copy(),
        "params": [{"n_components": int(size)} for size in sizes],
    }
    for name, values in [("test_score", scores), ("test_r2", r2)]:
        for k in range(values.shape[1]):
            results[f"split{k}_{name}"] = values[:, k]
        results[f"mean_{name}"] = values.mean(axis=1)
        results[f"std_{name}"] = values.std(axis=1)
    order = np.argsort(-results["mean_test_score"], kind="stable")
    results["rank_test_score"] = np.empty(len(sizes), dtype=np.int32)
    results["rank_test_score"][order] = np.arange(1, len(sizes) + 1)
    results["mean_fit_time"] = times.mean(axis=1)
    results["std_fit_time"] = times.std(axis=1)
    return results
