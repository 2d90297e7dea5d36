"""Settings for the whole test session, read before any test module is imported."""

import os

# scikit-learn's estimator checks include check_array_api_input, which skips unless
# SciPy's array API support is switched on; SciPy reads the variable when it is first
# imported, so it is set here, before any test module imports scikit-learn.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
