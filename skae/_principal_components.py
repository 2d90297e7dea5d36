"""Principal axes of the training rows, for the PCA start: exact, or randomized when wide.

The rows come in blocks (the training rows, then the validation rows), each a
float32 tensor of scaled rows or a :class:`skae._training.SparseRows`, and are
read without a stacked or centred copy. Data of at most
``_COVARIANCE_FEATURES`` columns eigen-decompose their covariance, as
scikit-learn's ``PCA(svd_solver="covariance_eigh")`` does: exact, and
cheapest while the ``n_features``-squared matrix is small. Wider data
(text or one-hot features, tens of thousands of columns, mostly sparse)
would need that matrix's memory and its cube's time whatever their rank, so
they get a randomized SVD of the implicitly centred rows (Halko, Martinsson
and Tropp 2011, as in ``TruncatedSVD``), whose cost grows with the stored
values times the sketch's width.
"""

import functools
import math

import numpy as np
import scipy.linalg
import torch

# scikit-learn's PCA picks "covariance_eigh" up to this many features. Here
# (2 cores) eigh takes 0.1 s at 1000 columns, 1-2 s at 2000 and 15 s at 5000,
# with 5000 sparse rows of 10000 columns taking 175 s and 5.3 GB in all.
_COVARIANCE_FEATURES = 1000
# The randomized SVD sketches this many directions beyond those it returns,
# and makes scikit-learn's randomized_svd's number of power iterations.
_OVERSAMPLES = 10
# Its sketch is drawn from this seed, so that the start is a function of the
# data alone, as the exact route's is.
_SKETCH_SEED = 0
# The Gram matrix is formed in this many column blocks a side (see _DenseBlock.sums).
_GRAM_BLOCKS = 4
# PrincipalAxes.share_width first asks the randomized route for this many axes, then four
# times more until the share is reached.
_FIRST_SHARE_AXES = 64


class _DenseBlock:
    """A float32 tensor of rows, on any device."""

    def __init__(self, rows):
        self.rows = rows
        self.n_rows, self.n_features = rows.shape

    def sums(self):
        """Column sums and Gram matrix, in float64 (the sums and products in float32).

        The Gram matrix is symmetric: only the blocks on and above the
        diagonal of a 4 x 4 grid are multiplied (10 of 16), and mirrored.
        MNIST's took 0.23-0.29 s so, against 0.35-0.36 s for the whole
        product (2 cores). Summing the columns in
        float32 (pairwise, so accurate to about its rounding step) took a
        tenth of the 0.1 s of summing them in float64.
        """
        rows = self.rows
        n_features = self.n_features
        edges = [round(i * n_features / _GRAM_BLOCKS) for i in range(_GRAM_BLOCKS + 1)]
        gram = torch.empty((n_features, n_features), dtype=torch.float64, device=rows.device)
        for start, stop in zip(edges, edges[1:]):
            block = (rows[:, start:stop].t() @ rows[:, start:]).double()
            gram[start:stop, start:] = block
            gram[start:, start:stop] = block.t()
        return rows.sum(dim=0).double(), gram

    def column_sums(self):
        return self.rows.sum(dim=0, dtype=torch.float64).cpu().numpy()

    def squares(self):
        return float(torch.linalg.vector_norm(self.rows, dtype=torch.float64) ** 2)

    def matmat(self, V):
        return self._product(self.rows, V)

    def rmatmat(self, U):
        return self._product(self.rows.t(), U)

    @staticmethod
    def _product(matrix, other):
        other = torch.from_numpy(other).to(matrix.device, matrix.dtype)
        return (matrix @ other).double().cpu().numpy()


class _SparseBlock:
    """Sparse rows, read as ``S - offset`` from their scaled CSR values ``S``."""

    def __init__(self, rows):
        self.S, self.offset = rows.scaled()
        self.n_rows, self.n_features = self.S.shape

    def sums(self):
        """Column sums and Gram matrix from the stored values alone, in float64.

        ``S.T @ S`` costs the square of each row's stored values, not
        ``n_features`` per row; the offset is applied to the sums:
        ``sum (s - o)(s - o)^T = S^T S - t o^T - o t^T + n o o^T``, ``t = sum s``,
        written with the column sums ``c = t - n o`` of the rows themselves.
        """
        S, offset, n_rows = self.S, self.offset, self.n_rows
        centred = self.column_sums()  # t - n o
        gram = (S.T @ S).toarray()
        cross = np.outer(centred + 0.5 * n_rows * offset, offset)
        gram -= cross
        gram -= cross.T
        return torch.from_numpy(centred), torch.from_numpy(gram)

    def column_sums(self):
        S = self.S
        total = np.bincount(S.indices, weights=S.data, minlength=S.shape[1])
        return total - self.n_rows * self.offset

    def squares(self):
        # Each stored value deviates by s - o, each hole by -o.
        S, offset = self.S, self.offset
        columns = offset[S.indices]
        stored = float(((S.data - columns) ** 2 - columns**2).sum())
        return stored + self.n_rows * float(offset @ offset)

    def matmat(self, V):
        return self.S @ V - self.offset @ V

    def rmatmat(self, U):
        return self.S.T @ U - np.outer(self.offset, U.sum(axis=0))


def _blocks(X, more_rows):
    return [
        _DenseBlock(block) if isinstance(block, torch.Tensor) else _SparseBlock(block)
        for block in (X, *more_rows)
    ]


def principal_components(X, n_components, *more_rows):
    """The top principal axes of the rows of ``X``, their spreads and the mean.

    Returns ``(components, mean, spread)``: at most ``n_components``
    orthonormal rows, largest variance first; the column means; and the
    standard deviation along each axis. Axes whose variance is within
    rounding error of zero are left out (so there are fewer rows when ``X``
    is narrower or of lower rank): their direction is noise, and a code unit
    scaled by their spread would be huge; they start as unused units. Blocks
    in ``more_rows`` count as further rows of ``X`` (without a concatenated
    copy). ``X`` and the blocks are float32 tensors or
    :class:`skae._training.SparseRows`, read through their stored values.
    Up to ``_COVARIANCE_FEATURES`` columns the covariance is formed without a
    centred copy and eigen-decomposed in float64; wider rows get a
    randomized SVD of the implicitly centred rows. Signs are fixed so that
    each axis's largest absolute entry is positive, making the result
    reproducible. The tensors are in ``X``'s dtype, on ``X``'s device for a
    narrow tensor ``X``, else on the CPU.
    """
    return PrincipalAxes(X, *more_rows).top(n_components)


class PrincipalAxes:
    """The principal axes of the rows of ``X`` and ``more_rows``, computed once.

    A fit may ask for them three times: for the width that reaches a share
    of the variance (a float ``n_components``), for the PCA start, and for
    the variational autoencoder's noise variance. The covariance route
    decomposes the covariance once and serves every width from it (about
    0.3 s each time for MNIST, 2 cores); the randomized route sketches again only
    for more axes than its last sketch holds. Nothing is read before the
    first question.
    """

    def __init__(self, X, *more_rows):
        self._rows = (X, *more_rows)
        self.n_features = X.shape[1]
        self._asked = 0

    @functools.cached_property
    def _blocks(self):
        return _blocks(self._rows[0], self._rows[1:])

    @torch.no_grad()
    def top(self, n_components):
        """:func:`principal_components` at ``n_components``."""
        exact = self.n_features <= _COVARIANCE_FEATURES
        asked = self.n_features if exact else n_components
        if asked > self._asked:
            self._asked = asked
            self._axes = _principal_axes(self._blocks, asked, self._rows[0].dtype)
        components, mean, spread = self._axes
        return components[:n_components], mean, spread[:n_components]

    @functools.cached_property
    def total_variance(self):
        """The summed variance of the columns."""
        _, mean, mean_square = _moments(self._blocks)
        return max(0.0, mean_square - float(mean @ mean))

    def share_width(self, share):
        """PCA's number of components for ``share`` of the variance.

        PCA's own rule: the fewest axes whose variances add up to more than
        ``share`` of the total, or every axis the data have. Wide data ask the
        randomized route for a few axes first, and for more until they reach
        it.
        """
        n_features = self.n_features
        most = min(n_features, sum(block.n_rows for block in self._blocks))
        n_axes = n_features if n_features <= _COVARIANCE_FEATURES else _FIRST_SHARE_AXES
        while True:
            n_axes = min(n_axes, most)
            _, _, spread = self.top(n_axes)
            ratios = np.cumsum(spread.double().cpu().numpy() ** 2) / self.total_variance
            if ratios.size < n_axes or n_axes == most or ratios[-1] > share:
                return max(
                    1, min(int(np.searchsorted(ratios, share, side="right")) + 1, ratios.size)
                )
            n_axes *= 4


def _principal_axes(blocks, n_components, dtype):
    """:func:`principal_components` of the rows of ``blocks``."""
    n_samples = sum(block.n_rows for block in blocks)
    if blocks[0].n_features <= _COVARIANCE_FEATURES:
        values, vectors, mean, mean_square = _covariance_axes(blocks, n_samples)
    else:
        values, vectors, mean, mean_square = _randomized_axes(blocks, n_samples, n_components)
    # The Gram matrix is summed in X's precision, and its rounding errors grow
    # with the rows: on rank-2 data the spurious variances reached 1.4 eps times
    # the trace at 300 rows and 13 at 60000, so sqrt(n_samples) eps times the
    # trace leaves a margin of about 15.
    rounding = math.sqrt(n_samples) * torch.finfo(dtype).eps * mean_square
    n_used = min(n_components, int((values > rounding).sum()))
    components, spread = vectors[:n_used], values[:n_used].sqrt()
    signs = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
    components = components * signs
    return components.to(dtype), mean.to(dtype), spread.to(dtype)


def _moments(blocks):
    """``(n_samples, mean, mean_square)``: the rows' count, column means and
    the trace of their uncentred second moment, in float64."""
    n_samples = sum(block.n_rows for block in blocks)
    mean = sum(block.column_sums() for block in blocks) / n_samples
    return n_samples, mean, sum(block.squares() for block in blocks) / n_samples


def _covariance_axes(blocks, n_samples):
    """Every eigenvalue and axis of the covariance, largest first, in float64.

    Returns ``(values, vectors, mean, mean_square)``, ``vectors`` one axis a
    row and ``mean_square`` the trace of the uncentred second moment.
    """
    total = gram = 0
    for block in blocks:
        block_total, block_gram = block.sums()
        total, gram = total + block_total, gram + block_gram
    mean, gram = total / n_samples, gram / n_samples
    values, vectors = torch.linalg.eigh(gram - torch.outer(mean, mean))
    return values.flip(0), vectors.flip(1).t(), mean, float(gram.trace())


def _randomized_axes(blocks, n_samples, n_components):
    """The top axes of the centred rows by a randomized SVD, in float64.

    Returns what :func:`_covariance_axes` does, for the ``n_components``
    largest variances only. The sketch spans the top directions to within
    the power iterations' accuracy, exactly when it is as wide as the data's
    rank allows.
    """
    n_features = blocks[0].n_features
    _, mean, mean_square = _moments(blocks)
    ends = np.cumsum([0] + [block.n_rows for block in blocks])

    def centred(V):
        # (rows - mean) @ V, block by block.
        shift = mean @ V
        return np.concatenate([block.matmat(V) - shift for block in blocks])

    def centred_t(U):
        # (rows - mean).T @ U, block by block.
        parts = [block.rmatmat(U[a:b]) for block, a, b in zip(blocks, ends, ends[1:])]
        return sum(parts) - np.outer(mean, U.sum(axis=0))

    width = min(n_components + _OVERSAMPLES, n_samples, n_features)
    # scikit-learn's randomized_svd's rule: more passes while the sketch is narrow.
    n_iter = 7 if n_components < 0.1 * min(n_samples, n_features) else 4
    sketch = np.random.default_rng(_SKETCH_SEED).standard_normal((n_features, width))
    for _ in range(n_iter):
        sketch = _normalized(centred_t(_normalized(centred(sketch))))
    basis = scipy.linalg.qr(centred(sketch), mode="economic", check_finite=False)[0]
    _, singular, vectors = scipy.linalg.svd(
        centred_t(basis).T, full_matrices=False, check_finite=False
    )
    values = torch.from_numpy(singular[:n_components] ** 2 / n_samples)
    return (
        values,
        torch.from_numpy(vectors[:n_components]),
        torch.from_numpy(mean),
        mean_square,
    )


def _normalized(matrix):
    """``matrix`` with well-conditioned columns of the same span, as between
    randomized_svd's power iterations: an LU factor, several times cheaper than
    an orthonormal QR factor of a tall matrix."""
    return scipy.linalg.lu(matrix, permute_l=True, check_finite=False)[0]
