"""Synthetic data with a known intrinsic dimension, and the MNIST loader."""

import functools
import gzip
import hashlib
import http.client
import os
import shutil
import tempfile
import urllib.request
from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_s_curve, make_swiss_roll
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

CORRELATED_KINDS = ("multiples", "multiples_offset", "noise")
MANIFOLD_KINDS = ("swiss_roll", "s_curve", "helix")

# The lift into n_features dimensions depends only on n_features, never on
# random_state, so samples drawn with different seeds lie on one manifold.
_LIFT_SEED = 4
_LIFT_AMPLITUDE = 3.0

MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_DEFAULT_DATA_HOME = os.path.join("~", "skae_data")

# IDX type codes (third byte of the magic number) and their big-endian dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@validate_params(
    {
        "kind": [StrOptions(set(CORRELATED_KINDS))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_correlated(kind, n_samples=1000, n_features=10, noise=0.0, random_state=None):
    """Generate columns that are linear functions of few latent variables.

    Each row draws a latent ``x`` from Uniform(0, 200).

    - ``"multiples"``: column ``j`` is ``x * (j + 1)``, so the data have rank 1
      (values reach ``200 * n_features``).
    - ``"multiples_offset"``: column ``j`` is ``x * (j + 1) + k`` with a second
      latent ``k`` from Uniform(0, 200): rank 2.
    - ``"noise"``: independent standard Gaussian entries, which no code
      smaller than ``n_features`` can compress.

    Parameters
    ----------
    kind : {"multiples", "multiples_offset", "noise"}
        The family.
    n_samples : int, default=1000
        Number of rows.
    n_features : int, default=10
        Number of columns.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to every entry.
    random_state : int, RandomState instance or None, default=None
        Seeds the latents and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The data, float64.

    See Also
    --------
    make_manifold : Data on nonlinear manifolds, where PCA loses.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skae.datasets import make_correlated
    >>> X = make_correlated("multiples_offset", n_samples=200, random_state=0)
    >>> X.shape
    (200, 10)
    >>> ratios = PCA().fit(X).explained_variance_ratio_
    >>> bool(ratios[:2].sum() > 0.999999)
    True
    """
    rng = check_random_state(random_state)
    if kind == "noise":
        X = rng.standard_normal((n_samples, n_features))
    else:
        x = rng.uniform(0, 200, size=(n_samples, 1))
        X = x * np.arange(1, n_features + 1)
        if kind == "multiples_offset":
            X += rng.uniform(0, 200, size=(n_samples, 1))
    if noise:
        X += noise * rng.standard_normal(X.shape)
    return X


def _helix(n_samples, random_state):
    """Two turns of a helix in 3-D, with the angle as its coordinate."""
    t = random_state.uniform(0, 4 * np.pi, size=n_samples)
    return np.column_stack([np.cos(t), np.sin(t), t / (2 * np.pi)]), t


_SHAPES = {"swiss_roll": make_swiss_roll, "s_curve": make_s_curve, "helix": _helix}


@functools.lru_cache
def _shape_moments(kind):
    """Centre and global scale of a shape, from a fixed reference draw.

    Fixed rather than taken from each sample, so that the lift is one map
    whatever the sample.
    """
    points, _ = _SHAPES[kind](10_000, random_state=np.random.RandomState(_LIFT_SEED))
    centre = points.mean(axis=0)
    return centre, np.sqrt(np.mean((points - centre) ** 2))


def _lift(kind, points, n_features):
    """Map 3-D points of a shape into ``n_features`` dims, smoothly and injectively.

    The points are centred and divided by one global scale (keeping their
    shape), embedded by a fixed random orthonormal map scaled so that each
    new coordinate has about unit variance, shifted by a fixed random offset
    and squashed by ``tanh``. ``tanh`` is strictly monotone, so the map is
    one-to-one and the intrinsic dimension is kept, but the image no longer
    lies in a 3-D subspace: PCA needs many components.
    """
    centre, scale = _shape_moments(kind)
    points = (points - centre) / scale
    lift_rng = np.random.RandomState(_LIFT_SEED)
    basis, _ = np.linalg.qr(lift_rng.standard_normal((n_features, points.shape[1])))
    offset = 0.5 * lift_rng.standard_normal(n_features)
    embedded = points @ basis.T * np.sqrt(n_features / points.shape[1])
    return _LIFT_AMPLITUDE * np.tanh(embedded + offset)


@validate_params(
    {
        "kind": [StrOptions(set(MANIFOLD_KINDS))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 3, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_manifold(
    kind="swiss_roll", n_samples=1000, n_features=20, noise=0.0, random_state=None
):
    """Generate points on a curved low-dimensional manifold in ``n_features`` dims.

    A 3-D shape is lifted into ``n_features`` dimensions by a fixed smooth
    one-to-one map: a random orthonormal embedding followed by an
    element-wise ``tanh``, scaled so that entries lie in (-3, 3). The map
    depends only on ``n_features``, so samples drawn with different seeds lie
    on the same manifold. A linear method such as PCA needs many components
    to reconstruct these points, while a nonlinear code of the intrinsic
    dimension suffices.

    Parameters
    ----------
    kind : {"swiss_roll", "s_curve", "helix"}, default="swiss_roll"
        The shape: scikit-learn's Swiss roll or S curve (intrinsic dimension
        2), or a two-turn helix (intrinsic dimension 1).
    n_samples : int, default=1000
        Number of points.
    n_features : int, default=20
        Dimension of the space the shape is lifted into, at least 3.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added after the lift.
    random_state : int, RandomState instance or None, default=None
        Seeds the positions of the points on the shape and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The points.
    t : ndarray of shape (n_samples,)
        Each point's position along the main direction of the manifold (the
        roll or curve parameter, or the helix angle), for colouring plots.

    See Also
    --------
    sklearn.datasets.make_swiss_roll : The 3-D Swiss roll.
    sklearn.datasets.make_s_curve : The 3-D S curve.
    make_correlated : Linear families, where PCA is exact.

    Examples
    --------
    >>> from skae.datasets import make_manifold
    >>> X, t = make_manifold("s_curve", n_samples=300, random_state=0)
    >>> X.shape, t.shape
    ((300, 20), (300,))
    >>> bool(abs(X).max() < 3)
    True
    """
    rng = check_random_state(random_state)
    points, t = _SHAPES[kind](n_samples, random_state=rng)
    X = _lift(kind, points, n_features)
    if noise:
        X += noise * rng.standard_normal(X.shape)
    return X, t


# MNIST ------------------------------------------------------------------------


def get_data_home(data_home=None):
    """Return the folder where skae keeps downloaded data.

    It is ``data_home`` when given, else the ``SKAE_DATA`` environment
    variable, else ``~/skae_data``. ``~`` is expanded; the folder is not
    created.

    Parameters
    ----------
    data_home : str or path-like, default=None
        An explicit folder.

    Returns
    -------
    data_home : str
        The folder.

    Examples
    --------
    >>> from skae.datasets import get_data_home
    >>> get_data_home("/data/skae")
    '/data/skae'
    """
    if data_home is None:
        data_home = os.environ.get("SKAE_DATA") or _DEFAULT_DATA_HOME
    return os.path.expanduser(os.fspath(data_home))


def _search_folders(data_home):
    """The folders searched for the MNIST files, in order."""
    homes = [data_home, os.environ.get("SKAE_DATA"), _DEFAULT_DATA_HOME]
    folders = []
    for home in homes:
        if not home:
            continue
        home = os.path.expanduser(os.fspath(home))
        for folder in (home, os.path.join(home, "mnist")):
            if folder not in folders:
                folders.append(folder)
    return folders


def _md5(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, path):
    """Save the content at ``url`` to ``path``."""
    with urllib.request.urlopen(url, timeout=30) as response, open(path, "wb") as f:
        shutil.copyfileobj(response, f)


def _download(name, folder):
    """Download the MNIST file ``name`` into ``folder``, checking its MD5.

    Tries each mirror in turn and returns the path; raises OSError, naming
    every mirror's failure, when none gives the right file.
    """
    os.makedirs(folder, exist_ok=True)
    failures = []
    for mirror in MNIST_MIRRORS:
        url = mirror + name
        # A partial or corrupt download never lands under the final name.
        fd, partial = tempfile.mkstemp(dir=folder, suffix=".part")
        os.close(fd)
        try:
            _fetch(url, partial)
            checksum = _md5(partial)
            if checksum != MNIST_FILES[name]:
                failures.append(
                    f"{url}: checksum mismatch (MD5 {checksum}, expected {MNIST_FILES[name]})"
                )
                continue
            path = os.path.join(folder, name)
            os.replace(partial, path)
            return path
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{url}: {exc}")
        finally:
            if os.path.exists(partial):
                os.remove(partial)
    raise OSError("; ".join(failures))


def _missing_message(missing, folders, reason):
    return (
        f"MNIST file(s) {', '.join(missing)} not found in any of "
        f"{', '.join(folders)} ({reason}). Download the four files "
        f"{', '.join(MNIST_FILES)} from {' or '.join(MNIST_MIRRORS)} and put them "
        "in one of those folders, pass data_home=, or set the SKAE_DATA "
        "environment variable to their folder."
    )


def _read_idx(path):
    """Read a gzipped IDX file into an array of its stored shape and type."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable gzip file: {exc}") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number {data[:4].hex() or 'none'} "
            "(expected 0000 then a type code and the number of dimensions)."
        )
    dtype, ndim = _IDX_DTYPES[data[2]], data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated: its header is incomplete.")
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + dtype.itemsize * int(np.prod(shape))
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise ValueError(
            f"{path} is {problem}: {len(data)} bytes for shape {shape}, expected {expected}."
        )
    return np.frombuffer(data, dtype, offset=header).reshape(shape)


@validate_params(
    {
        "data_home": [str, os.PathLike, None],
        "download_if_missing": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_mnist(data_home=None, *, download_if_missing=True, return_X_y=False):
    """Load the MNIST handwritten digits (60,000 train and 10,000 test images).

    Reads the four original gzipped IDX files (``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
    ``t10k-labels-idx1-ubyte.gz``). Each file is looked for in these folders,
    in order, and directly in each or in its ``mnist/`` subfolder:
    ``data_home``, the ``SKAE_DATA`` environment variable, ``~/skae_data``.
    Missing files are downloaded from public mirrors into the ``mnist/``
    subfolder of :func:`get_data_home` (``data_home``, else ``SKAE_DATA``,
    else ``~/skae_data``) and their MD5 checksums verified.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to look in first and to download into.
    download_if_missing : bool, default=True
        Whether to download missing files; if False, missing files raise
        :class:`FileNotFoundError`.
    return_X_y : bool, default=False
        Whether to return ``(X_train, y_train, X_test, y_test)`` instead of a
        :class:`~sklearn.utils.Bunch`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``X_train`` of shape (60000, 784) and ``X_test`` of shape
        (10000, 784), float32 pixels in [0, 1] (the bytes divided by 255);
        ``y_train`` and ``y_test``, int64 labels 0-9; ``image_shape``, the
        ``(28, 28)`` to reshape a row into an image; and ``DESCR``.
    (X_train, y_train, X_test, y_test) : tuple of ndarray
        When ``return_X_y`` is True.

    Raises
    ------
    OSError
        When files are missing and cannot be downloaded (no network, or no
        mirror gives a file with the right checksum), or are missing and
        ``download_if_missing=False`` (then the subclass
        :class:`FileNotFoundError`). The message names the files, the folders
        searched and the mirrors.
    ValueError
        When a file is not a valid IDX file (bad magic number, truncated) or
        images and labels disagree.

    References
    ----------
    Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
    applied to document recognition", Proc. IEEE 86(11), 1998.

    Examples
    --------
    >>> from skae.datasets import load_mnist
    >>> mnist = load_mnist()  # doctest: +SKIP
    >>> mnist.X_train.shape, mnist.image_shape  # doctest: +SKIP
    ((60000, 784), (28, 28))
    """
    folders = _search_folders(data_home)
    paths, missing = {}, []
    for name in MNIST_FILES:
        found = [os.path.join(f, name) for f in folders]
        found = [path for path in found if os.path.isfile(path)]
        if found:
            paths[name] = found[0]
        else:
            missing.append(name)
    if missing and not download_if_missing:
        raise FileNotFoundError(
            _missing_message(missing, folders, "download_if_missing=False")
        )
    target = os.path.join(get_data_home(data_home), "mnist")
    for name in missing:
        try:
            paths[name] = _download(name, target)
        except OSError as exc:
            raise OSError(
                _missing_message(missing, folders, f"download failed: {exc}")
            ) from exc

    arrays, shapes = {}, set()
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"])
        labels = _read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"MNIST {split} files disagree: images of shape {images.shape} and "
                f"labels of shape {labels.shape}; expected (n, rows, cols) and (n,)."
            )
        shapes.add(images.shape[1:])
        X = images.reshape(len(images), -1).astype(np.float32)
        X /= 255
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X, labels.astype(np.int64)
    if len(shapes) != 1:
        raise ValueError(f"MNIST train and test images differ in shape: {shapes}.")
    if return_X_y:
        return arrays["X_train"], arrays["y_train"], arrays["X_test"], arrays["y_test"]
    return Bunch(
        **arrays,
        image_shape=tuple(int(n) for n in shapes.pop()),
        DESCR=(
            "MNIST handwritten digits: 28x28 grey-level images, pixels scaled to "
            "[0, 1], labels 0-9; 60,000 training and 10,000 test images."
        ),
    )
