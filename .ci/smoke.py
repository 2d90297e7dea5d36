"""Smoke test of an installed skae (a wheel), run from outside the source tree.

Imports every module of the package; checks that ``skae.__version__`` is the installed
distribution's version; then, for every estimator class in ``skae.__all__``: fit, every
method it has among transform, inverse_transform, predict, score_samples and
decision_function, and a pickle round trip that gives the same outputs. New estimators
(transformers or outlier detectors) are covered without listing them here.

Usage:
    cd "$(mktemp -d)" && python /path/to/skae/.ci/smoke.py /path/to/skae
"""

import importlib
import importlib.metadata
import pickle
import pkgutil
import sys
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator

import skae

# Small and quick: the point is that everything runs from the wheel, not quality.
FAST = {"n_components": 2, "hidden_layer_sizes": (8,), "max_epochs": 2, "random_state": 0}
METHODS = ("transform", "predict", "score_samples", "decision_function")


def check_installation(source_tree):
    package = Path(skae.__file__).resolve().parent
    if source_tree is not None and package.is_relative_to(Path(source_tree).resolve()):
        sys.exit(f"skae imported from the source tree ({package}), not from the wheel")
    version = importlib.metadata.version("skae")
    if version != skae.__version__:
        sys.exit(f"skae.__version__ {skae.__version__!r} != distribution version {version!r}")
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(skae.__path__, "skae.")
    ]
    print(f"skae {version} from {package}: {len(modules)} modules import")


def estimators():
    found = [
        getattr(skae, name)
        for name in skae.__all__
        if isinstance(getattr(skae, name), type)
        and issubclass(getattr(skae, name), BaseEstimator)
    ]
    if not found:
        sys.exit("no estimator class in skae.__all__")
    return found


def outputs(est, X):
    """Each available method's output on X (inverse_transform on the codes)."""
    result = {m: np.asarray(getattr(est, m)(X)) for m in METHODS if hasattr(est, m)}
    if "transform" in result and hasattr(est, "inverse_transform"):
        result["inverse_transform"] = np.asarray(est.inverse_transform(result["transform"]))
    return result


def check_estimator(Estimator, X):
    est = Estimator()
    est.set_params(**{k: v for k, v in FAST.items() if k in est.get_params()})
    est.fit(X)
    before = outputs(est, X)
    if not before:
        sys.exit(f"{Estimator.__name__}: none of {METHODS} after fit")
    for method, value in before.items():
        if value.shape[0] != len(X) or not np.all(np.isfinite(value)):
            sys.exit(f"{Estimator.__name__}.{method}: shape {value.shape} or non-finite")
    after = outputs(pickle.loads(pickle.dumps(est)), X)
    for method, value in before.items():
        np.testing.assert_allclose(after[method], value, rtol=1e-6, err_msg=method)
    print(f"{Estimator.__name__}: fit, {', '.join(before)}, pickle round trip")


def main(argv):
    check_installation(argv[0] if argv else None)
    rng = np.random.default_rng(0)
    # Six columns driven by two latent variables, plus a little noise.
    X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(200, 6))
    for Estimator in estimators():
        check_estimator(Estimator, X)


if __name__ == "__main__":
    main(sys.argv[1:])
