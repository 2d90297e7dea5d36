"""Encoder/decoder networks built from layer sizes and activation names (torch only)."""

import math

import torch
from torch import nn
from torch.nn import functional as F

# Weights are float32 whatever torch's default dtype is (the caller may have set
# float64), since the data are float32 tensors.
_DTYPE = torch.float32


class Sigmoid(nn.Sigmoid):
    """The logistic function, evaluated in float64 and rounded back.

    torch's vectorised float32 sigmoid rounds the elements that fall in a
    SIMD tail differently from the others, so a row's code would change in
    its last bit with the row's place in the batch. Rounded from float64,
    both paths give the same float32.
    """

    def forward(self, x):
        return torch.sigmoid(x.double()).to(x.dtype)


ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "identity": nn.Identity,
}


class TopK(nn.Module):
    """Keep the ``k`` largest units of each row and zero the rest."""

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, z):
        if self.k >= z.shape[1]:
            return z
        values, indices = torch.topk(z, self.k, dim=1)
        return torch.zeros_like(z).scatter(1, indices, values)


class TiedLinear(nn.Module):
    """A linear layer whose weight is the transpose of another layer's weight."""

    def __init__(self, source):
        super().__init__()
        self.source = source
        self.bias = nn.Parameter(torch.zeros(source.in_features, dtype=_DTYPE))

    def forward(self, x):
        return F.linear(x, self.source.weight.t(), self.bias)


def _mlp(sizes, activation, mirror=None):
    """Linear layers through ``sizes`` with ``activation`` between them.

    With ``mirror`` (the layers of another MLP, in order) each layer is tied to
    the transposed weight of the mirrored layer.
    """
    layers = []
    sources = list(reversed(mirror)) if mirror is not None else None
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(ACTIVATIONS[activation]())
        layers.append(TiedLinear(sources[i]) if sources else _linear(n_in, n_out))
    return nn.Sequential(*layers)


def _linear(n_in, n_out):
    return nn.Linear(n_in, n_out, dtype=_DTYPE)


def _linear_layers(mlp):
    return [layer for layer in mlp if isinstance(layer, (nn.Linear, TiedLinear))]


class Autoencoder(nn.Module):
    """A linear path plus an optional nonlinear correction, each way.

    ``encode(x) = code_layer(linear(x) + correction(x))`` and
    ``decode(z) = linear(z) + correction(z)``, where the correction is an MLP
    through ``hidden_layer_sizes`` (mirrored in the decoder). The linear path is
    what lets the network start exactly at the PCA solution (see
    :func:`init_pca`); without hidden layers it is the whole network.

    Parameters
    ----------
    n_features : int
        Width of the input and of the reconstruction.
    n_components : int
        Width of the code.
    hidden_layer_sizes : tuple of int
        Hidden widths of the encoder's correction; the decoder mirrors them.
    activation : str
        Activation between hidden layers, a key of ``ACTIVATIONS``.
    code_activation : {"identity", "sigmoid"}
        Applied to the code.
    output_activation : {"identity", "sigmoid", "tanh"}
        Applied to the reconstruction by :meth:`decode`; :meth:`forward`
        returns the output before it, so that losses such as binary
        cross-entropy can work on logits.
    top_k : int or None
        When set, only the ``top_k`` largest code units of each row are kept.
    tied_weights : bool
        The decoder uses the transposed encoder weights (biases stay free).
    variational : bool
        Adds ``encoder_log_var``, a linear head from the last hidden layer
        (from the input without hidden layers) that gives the log-variance of
        each code unit's Gaussian posterior; :meth:`encode_distribution`
        returns it with the mean. :meth:`encode` stays the mean alone.
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        code_activation="identity",
        output_activation="identity",
        top_k=None,
        tied_weights=False,
        variational=False,
    ):
        super().__init__()
        self.encoder_linear = _linear(n_features, n_components)
        self.decoder_linear = (
            TiedLinear(self.encoder_linear)
            if tied_weights
            else _linear(n_components, n_features)
        )
        if hidden_layer_sizes:
            sizes = [n_features, *hidden_layer_sizes, n_components]
            self.encoder_correction = _mlp(sizes, activation)
            self.decoder_correction = _mlp(
                sizes[::-1],
                activation,
                mirror=_linear_layers(self.encoder_correction) if tied_weights else None,
            )
        else:
            self.encoder_correction = self.decoder_correction = None
        code_layers = [ACTIVATIONS[code_activation]()]
        if top_k is not None:
            code_layers.append(TopK(top_k))
        self.code_layer = nn.Sequential(*code_layers)
        self.output_layer = ACTIVATIONS[output_activation]()
        # Registered last, so that the other layers draw the same initial
        # weights as in a plain autoencoder with the same seed.
        self.encoder_log_var = (
            _linear((n_features, *hidden_layer_sizes)[-1], n_components)
            if variational
            else None
        )

    def encode(self, x):
        z = self.encoder_linear(x)
        if self.encoder_correction is not None:
            z = z + self.encoder_correction(x)
        return self.code_layer(z)

    def encode_distribution(self, x):
        """The mean (as :meth:`encode`) and log-variance of the code's posterior.

        The hidden layers run once for both heads.
        """
        if self.encoder_correction is None:
            hidden, z = x, self.encoder_linear(x)
        else:
            hidden = self.encoder_correction[:-1](x)
            z = self.encoder_linear(x) + self.encoder_correction[-1](hidden)
        return self.code_layer(z), self.encoder_log_var(hidden)

    def decode_raw(self, z):
        x = self.decoder_linear(z)
        if self.decoder_correction is not None:
            x = x + self.decoder_correction(z)
        return x

    def decode(self, z):
        return self.output_layer(self.decode_raw(z))

    def forward(self, x):
        """Return the code and the reconstruction before ``output_activation``."""
        code = self.encode(x)
        return code, self.decode_raw(code)


@torch.no_grad()
def init_pca(module, components, mean, spread):
    """Set ``module`` to the PCA solution given orthonormal ``components``.

    The linear path becomes the PCA projection and reconstruction, and the last
    layer of each nonlinear correction outputs zero, so the untrained network
    reconstructs exactly as PCA does and training can only move it from there.
    ``components`` has shape (n_used, n_features) with ``n_used`` at most the
    code width; the remaining code units start with zero weights. ``spread``
    holds the standard deviation of each principal coordinate: with a sigmoid
    code, each unit gets the coordinate divided by twice its spread, and the
    decoder undoes the sigmoid's linear part, so the start is close to PCA
    there too (within a few percent of its error; tied weights cannot undo
    the map). A variational network starts with whitened codes and a narrow
    posterior (see :func:`_init_variational`).
    """
    enc, dec = module.encoder_linear, module.decoder_linear
    n_used = components.shape[0]
    enc.weight.zero_()
    enc.weight[:n_used] = components
    dec_weight = enc.weight.t().clone()
    dec_bias = mean.clone()
    if isinstance(module.code_layer[0], nn.Sigmoid) and isinstance(dec, nn.Linear):
        # sigmoid(u) ~ 1/2 + u/4 near 0. With u = coordinate / (2 spread)
        # most rows stay in that nearly linear range, but the tails reach the
        # curved part, which a sparsity penalty needs to switch units off:
        # with u = coordinate / (4 spread) the codes stayed dense under KL,
        # and with u = coordinate / spread the start was 2-4% of the
        # variance worse than PCA on the digits (0.3-0.4% here).
        width = 2 * spread.clamp_min(torch.finfo(spread.dtype).eps)
        enc.weight[:n_used] /= width[:, None]
        dec_weight[:, :n_used] *= 4 * width
        dec_bias -= dec_weight[:, :n_used].sum(dim=1) / 2
    if module.encoder_log_var is not None:
        _init_variational(module, n_used, spread, dec_weight)
    enc.bias.copy_(-enc.weight @ mean)
    if isinstance(dec, nn.Linear):
        dec.weight.copy_(dec_weight)
    dec.bias.copy_(dec_bias)
    if module.encoder_correction is None:
        return
    last = _linear_layers(module.encoder_correction)[-1]
    last.weight.zero_()
    last.bias.zero_()
    dec_last = _linear_layers(module.decoder_correction)[-1]
    if isinstance(dec_last, nn.Linear):
        dec_last.weight.zero_()
        dec_last.bias.zero_()
    # With tied weights the decoder's first layer is the transposed zero layer,
    # so its correction is a constant; cancel that constant through the bias.
    n_components = enc.weight.shape[0]
    probe = torch.zeros(1, n_components, device=mean.device, dtype=mean.dtype)
    dec_last.bias.sub_(module.decoder_correction(probe)[0])


# Posterior variance of every code unit at the PCA start of a variational
# network, in the prior's units: draws stay within about a tenth of the
# prior's spread of the PCA point, so they decode close to PCA's reconstruction.
START_POSTERIOR_VARIANCE = 0.01


def _init_variational(module, n_used, spread, dec_weight):
    """The PCA start of a variational network: whitened codes, a narrow posterior.

    The prior is a standard normal, so the mean head gives each principal
    coordinate divided by its spread (unit variance over the data, as
    ``PCA(whiten=True)``) and the decoder multiplies it back: the start still
    reconstructs as PCA does. Tied weights cannot undo the division, so they
    keep the unwhitened coordinates. The log-variance head starts constant,
    at ``START_POSTERIOR_VARIANCE``.
    """
    enc = module.encoder_linear
    if isinstance(module.decoder_linear, nn.Linear):
        # Directions the data do not span (spread ~ 0) would get huge weights.
        floor = max(1e-3 * float(spread.max()) if spread.numel() else 0.0, 1e-12)
        width = spread.clamp_min(floor)
        enc.weight[:n_used] /= width[:, None]
        dec_weight[:, :n_used] *= width
    module.encoder_log_var.weight.zero_()
    module.encoder_log_var.bias.fill_(math.log(START_POSTERIOR_VARIANCE))


def auto_hidden_layer_sizes(n_features, n_components):
    """Hidden widths for ``hidden_layer_sizes="auto"``.

    The first layer is about twice as wide as the input (a power of two
    between 64 and 512); each further layer halves it while it stays at
    least 128 wide and four times the code's width, up to three layers.
    That gives (64,) for 10 features, (128,) for 64 features, and
    (512, 256, 128) for MNIST's 784 pixels and 30 units. Small data train in
    a few steps per epoch, where each layer's fixed cost outweighs its
    arithmetic, so narrow inputs get one layer.
    """
    width = min(512, max(64, 2 ** math.ceil(math.log2(2 * n_features))))
    sizes = [width]
    while len(sizes) < 3 and width // 2 >= max(128, 4 * n_components):
        width //= 2
        sizes.append(width)
    return tuple(sizes)


def multiply_adds(module):
    """Multiply-adds per row of one pass through ``module`` (encoding and decoding)."""
    return sum(
        layer.weight.numel() if isinstance(layer, nn.Linear) else layer.source.weight.numel()
        for layer in module.modules()
        if isinstance(layer, (nn.Linear, TiedLinear))
    )


def build_autoencoder(n_features, n_components, *, generator, **kwargs):
    """Build an :class:`Autoencoder` on the CPU with weights drawn from ``generator``.

    torch's own initialisation draws from the global generator, so it runs
    inside ``fork_rng``, which puts the global state back; the weights are
    then redrawn from ``generator``.
    """
    with torch.random.fork_rng(devices=[]):
        module = Autoencoder(n_features, n_components, **kwargs)
    reset_parameters(module, generator)
    return module


@torch.no_grad()
def reset_parameters(module, generator):
    """PyTorch's default initialisation of linear layers, drawn from ``generator``."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
        elif isinstance(layer, TiedLinear):
            layer.bias.zero_()
