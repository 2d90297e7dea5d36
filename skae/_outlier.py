"""Outlier detection from an autoencoder's reconstruction error, in scikit-learn's style."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._autoencoders import AutoencoderTransformer
from ._base import _FLOAT_DTYPES

# The floor added to each feature's residual variance, as a share of their
# mean: features the training rows always reconstruct exactly (MNIST's border
# pixels) would otherwise get infinite weight.
_VARIANCE_FLOOR = 0.01
# Rows per chunk when the error is summed in NumPy, so that no temporary is
# as large as X.
_CHUNK_ROWS = 4096


class AutoencoderOutlierDetector(OutlierMixin, BaseEstimator):
    """Outlier detection by the reconstruction error of an autoencoder.

    An autoencoder trained on normal data reconstructs rows like them well and
    other rows badly, so a high reconstruction error flags an outlier. This
    meta-estimator fits an autoencoder (any transformer with
    ``inverse_transform``, such as the skae estimators or
    :class:`~sklearn.decomposition.PCA`) and gives it the interface of
    :class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` (higher is
    more normal), ``decision_function`` (negative for outliers), ``predict``
    (``+1`` inlier, ``-1`` outlier) and a threshold ``offset_`` set by
    ``contamination``.

    Read more in the :ref:`User Guide <anomaly_detection>`.

    Parameters
    ----------
    estimator : estimator object, default=None
        The autoencoder, cloned and fitted on ``X`` in ``fit``; it needs
        ``fit``, ``transform`` and ``inverse_transform``, and the device it
        runs on is its own parameter. None uses
        ``AutoencoderTransformer(n_components=k, random_state=random_state)``
        with ``k = min(30, max(1, n_features // 4))``: 30 code units for
        MNIST's 784 pixels, 16 for the 64 pixels of scikit-learn's digits.

    contamination : "auto" or float, default="auto"
        The expected share of outliers in the training data, which sets the
        threshold ``offset_``. With a float in (0, 0.5], ``offset_`` is that
        quantile of the training rows' scores, so that this share of them is
        flagged. With ``"auto"``, the threshold is Tukey's fence on the
        training errors: a row is an outlier when its error exceeds the upper
        quartile by more than 1.5 times the interquartile range, the rule of
        a box plot's whiskers, which needs no guess of the share.

    error : {"squared", "standardized"}, default="squared"
        How the reconstruction error of a row is measured. ``"squared"`` is
        the mean squared error over the features, the autoencoder's own
        ``score_samples``. ``"standardized"`` divides each feature's squared
        error by that feature's mean squared error on the training rows (plus
        a floor of 1% of their mean), like a Mahalanobis distance with a
        diagonal covariance: an error counts more where the training rows are
        reconstructed precisely and less where they vary anyway. It ranks
        outliers worse on MNIST's and digits' one-class tasks (see the
        :ref:`User Guide <anomaly_detection>`), where an error's place
        matters less than its size, but may suit features of unequal noise.

    random_state : int, RandomState instance or None, default=None
        Seeds the default autoencoder when ``estimator`` is None; a given
        ``estimator`` keeps its own ``random_state``.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted autoencoder.

    feature_weights_ : ndarray of shape (n_features,)
        The weight of each feature's squared error: ones for
        ``error="squared"``, the inverse of the floored training residual
        variance for ``"standardized"``.

    offset_ : float
        The threshold on ``score_samples``: ``decision_function`` is
        ``score_samples(X) - offset_``, and rows below it are outliers.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`, when ``X`` has string
        column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outliers isolated by random trees.
    sklearn.neighbors.LocalOutlierFactor : Outliers by local density.
    AutoencoderTransformer : The default autoencoder.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector, AutoencoderTransformer
    >>> X, y = load_digits(return_X_y=True)
    >>> detector = AutoencoderOutlierDetector(
    ...     AutoencoderTransformer(n_components=8, max_epochs=5, random_state=0),
    ...     contamination=0.1,
    ... ).fit(X[y == 0])
    >>> detector.predict(X[:3])  # a 0, a 1 and a 2
    array([ 1, -1, -1])
    >>> round(float((detector.predict(X[y == 0]) == -1).mean()), 2)  # share flagged
    0.1
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
        "error": [StrOptions({"squared", "standardized"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self, estimator=None, *, contamination="auto", error="squared", random_state=None
    ):
        self.estimator = estimator
        self.contamination = contamination
        self.error = error
        self.random_state = random_state

    @_fit_context(
        # The inner estimator validates its own parameters when it is fitted.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y=None):
        """Fit the autoencoder to ``X`` and set the threshold from its errors.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, mostly normal.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.
        """
        X = validate_data(self, X, dtype=_FLOAT_DTYPES)
        if self.estimator is None:
            n_components = min(30, max(1, X.shape[1] // 4))
            random_state = check_random_state(self.random_state).randint(
                np.iinfo(np.int32).max
            )
            estimator = AutoencoderTransformer(
                n_components=n_components, random_state=random_state
            )
        else:
            estimator = clone(self.estimator)
        self.estimator_ = estimator.fit(X)
        self.feature_weights_ = np.ones(X.shape[1])
        if self.error == "standardized":
            variance = np.zeros(X.shape[1])
            for rows in _chunks(X):
                variance += (self._residual(X[rows]) ** 2).sum(axis=0)
            variance /= X.shape[0]
            variance += _VARIANCE_FLOOR * variance.mean()
            # Rows reconstructed exactly leave no scale to divide by.
            self.feature_weights_ = np.divide(
                1.0, variance, out=np.ones_like(variance), where=variance > 0
            )
        scores = self._score(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = float(-(q3 + 1.5 * (q3 - q1)))
        else:
            self.offset_ = float(np.percentile(scores, 100 * self.contamination))
        return self

    def _residual(self, X):
        estimator = self.estimator_
        return np.asarray(estimator.inverse_transform(estimator.transform(X))) - X

    def _score(self, X):
        scores = np.empty(X.shape[0], dtype=X.dtype)
        for rows in _chunks(X):
            scores[rows] = -((self._residual(X[rows]) ** 2) @ self.feature_weights_)
        scores /= X.shape[1]
        return scores

    def score_samples(self, X):
        """The opposite of each row's reconstruction error: higher is more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean over features of the (weighted, see ``error``)
            squared reconstruction error, in ``X``'s float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=_FLOAT_DTYPES)
        return self._score(X)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Positive for inliers, negative for outliers.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Whether each row is an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            +1 for inliers, -1 for outliers.
        """
        return np.where(self.decision_function(X) < 0, -1, 1)


def _chunks(X):
    return [slice(start, start + _CHUNK_ROWS) for start in range(0, X.shape[0], _CHUNK_ROWS)]
