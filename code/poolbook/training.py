"""Chapter 7's digit classifier in MXNet Gluon and in PyTorch, and its data: scikit-learn's
8 x 8 digits placed at chosen positions on a 16 x 16 canvas.

`make_net(kind, head)` is the network: two 3 x 3 convolutions with ReLU, each followed by
a layer that halves the resolution (`downsampling`: max or average pooling, max-blur
pooling, or a strided convolution), then a dense layer on every cell of the last maps, or
global average pooling and a dense layer. It is trained by poolbook.tinynet, which
computes the same network with loops that give the same bits on every CPU;
`gluon_net` and `gluon_loss_and_gradient` put the engine's parameters into this network
and take its loss and gradient, so that a test and the chapter can compare the two.
`make_torch_net`, `torch_net` and `torch_loss_and_gradient` do the same in PyTorch.
"""
import numpy as np
import torch
from mxnet import autograd, gluon, nd
from mxnet.gluon import nn
from sklearn.datasets import load_digits

from poolbook.antialias import binomial_filter
from poolbook.checks import is_int
from poolbook.tinynet import CANVAS, CHANNELS, DOWNSAMPLINGS, check_head, kind_code, unpack


def digits():
    """scikit-learn's 1,797 digits as float64 images in [0, 1], and their labels.

    Returns
    -------
    images : numpy array (1797, 8, 8), float64
    labels : numpy array (1797,) of int
    """
    data = load_digits()
    return data.images / 16.0, data.target


def check_corners(corners, name, n, room):
    """Refuse corners unless they are n integers, each from 0 to room (the canvas left).

    Parameters
    ----------
    corners : array
        The corners to check, one per image.
    name : str
        Their name, for the message.
    n : int
        How many there must be.
    room : int
        The largest corner at which an image still fits on the canvas.
    """
    corners = np.asarray(corners)
    if corners.shape != (n,):
        raise ValueError(f"{name} must hold {n} corners, one per image, got shape "
                         f"{corners.shape}")
    if n and corners.dtype.kind not in 'iu':
        raise TypeError(f"{name} must hold integers, got dtype {corners.dtype}")
    outside = np.flatnonzero((corners < 0) | (corners > room))
    if outside.size:
        k = outside[0]
        raise ValueError(f"{name} must lie from 0 to {room}, so that each image fits on "
                         f"the canvas, got {name}[{k}] = {corners[k]}")


def place(images, rows, cols, canvas=CANVAS):
    """Each 8 x 8 image on an empty canvas, its top-left corner at (rows[n], cols[n]).

    Parameters
    ----------
    images : array (N, h, w)
        The images.
    rows, cols : array (N,) of int
        Their corners, each from 0 to canvas - h (or canvas - w).
    canvas : int, default CANVAS
        The side of the canvas.

    Returns
    -------
    numpy array (N, 1, canvas, canvas), float64
    """
    n, h, w = images.shape
    for corners, name, room in ((rows, 'rows', canvas - h), (cols, 'cols', canvas - w)):
        check_corners(corners, name, n, room)
    out = np.zeros((n, 1, canvas, canvas))
    for k in range(n):
        out[k, 0, rows[k]:rows[k] + h, cols[k]:cols[k] + w] = images[k]
    return out


def moved_corners(n, distances, seed, canvas=CANVAS, margin=0):
    """n random corners for a digit, the same for every distance, and the corners moved.

    For each distance d, every corner moves d pixels down or right (which, drawn once per
    digit): only the distance changes from one d to the next, not the positions. The
    corners keep `margin` pixels from the border, with room for the largest move.

    Parameters
    ----------
    n : int
        How many digits.
    distances : iterable of int
        The moves, each from 0 to canvas - 8 - 2 margin (at least one).
    seed : int
        The seed of numpy's RandomState.
    canvas : int, default CANVAS
        The side of the canvas.
    margin : int, default 0
        The pixels kept free at the border.

    Returns
    -------
    corners : numpy array (n, 2) of int
        The (row, column) of each digit's top-left cell.
    moved : dict of int: numpy array (n, 2) of int
        For each distance, the corners moved.
    """
    distances = list(distances)
    if not distances:
        raise ValueError("distances must hold at least one distance")
    for d in distances:
        if not is_int(d):
            raise TypeError(f"each distance must be an integer, got {d!r}")
    room = canvas - 8 - 2 * margin  # the corners' range, from margin to canvas - 8 - margin
    if min(distances) < 0 or max(distances) > room:
        raise ValueError(f"each distance must be from 0 to {room}, so that a moved digit "
                         f"still fits on the {canvas} x {canvas} canvas {margin} pixels "
                         f"from its border, got {distances}")
    rng = np.random.RandomState(seed)
    first = margin + rng.randint(0, room - max(distances) + 1, size=(n, 2))
    down = rng.rand(n) < 0.5
    step = np.stack([down, ~down], axis=1).astype(first.dtype)  # (1, 0) or (0, 1)
    return first, {d: first + d * step for d in distances}


class BlurPool2D(nn.Block):
    """poolbook.blur_pool2d as a Gluon layer: reflect-pad, grouped fixed-filter conv."""

    def __init__(self, channels, strides=2, filter_size=3):
        super().__init__()
        f = binomial_filter(filter_size)
        self.kernel = nd.array(np.tile(np.outer(f, f), (channels, 1, 1, 1)), dtype='float64')
        self.channels, self.strides, self.size = channels, strides, filter_size

    def forward(self, x):
        """Blur each channel of the batch x and keep every `strides`-th cell."""
        # Reflection padding as a gather along each axis: MXNet's own nd.pad(mode='reflect')
        # is as exact but tens of times slower in float64 when OpenMP runs two threads.
        before, after = (self.size - 1) // 2, self.size // 2
        for axis in (2, 3):
            cells = np.pad(np.arange(x.shape[axis]), (before, after), mode='reflect')
            x = nd.take(x, nd.array(cells, dtype='int64'), axis=axis)
        return nd.Convolution(x, self.kernel, kernel=(self.size, self.size),
                              stride=(self.strides, self.strides), num_filter=self.channels,
                              num_group=self.channels, no_bias=True)


def downsampling(kind, channels):
    """The layer that halves the resolution: max or average pooling at stride 2,
    max-blur pooling, or a learned 2 x 2 convolution at stride 2."""
    if kind == 'max':
        return nn.MaxPool2D(pool_size=2, strides=2)
    if kind == 'avg':
        return nn.AvgPool2D(pool_size=2, strides=2)
    if kind == 'max-blur':
        layer = nn.Sequential()
        layer.add(nn.MaxPool2D(pool_size=2, strides=1), BlurPool2D(channels))
        return layer
    if kind == 'strided conv':
        return nn.Conv2D(channels, kernel_size=2, strides=2)
    raise ValueError(f"kind must be one of {DOWNSAMPLINGS}, got {kind!r}")


def make_net(kind, head='dense'):
    """Conv 3x3, ReLU, downsample, conv 3x3, ReLU, downsample, then a dense layer on
    every cell ('dense') or on the mean of each map ('global')."""
    check_head(head)
    c1, c2 = CHANNELS  # 5 and 10 channels
    net = nn.Sequential()
    net.add(nn.Conv2D(c1, kernel_size=3, padding=1, activation='relu'),
            downsampling(kind, c1),
            nn.Conv2D(c2, kernel_size=3, padding=1, activation='relu'),
            downsampling(kind, c2))
    if head == 'global':
        net.add(nn.GlobalAvgPool2D())
    net.add(nn.Dense(10))
    return net


def gluon_net(kind, theta, head='dense'):
    """make_net(kind, head) in float64, holding the engine's parameters theta.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    theta : array (P,)
        The parameters, laid out as poolbook.tinynet.init_params lays them out.
    head : {'dense', 'global'}, default 'dense'
        The network's head.

    Returns
    -------
    mxnet.gluon.nn.Sequential
    """
    kind_code(kind)
    params = unpack(theta, kind, head)
    net = make_net(kind, head)
    net.initialize()
    net.cast('float64')
    net(nd.zeros((1, 1, CANVAS, CANVAS), dtype='float64'))  # the shapes become known
    for (name, array), param in zip(params.items(), net.collect_params().values()):
        if param.shape != array.shape:  # the two agree on the order of the parameters
            raise RuntimeError(f"{name}: the engine's shape {array.shape} is not the "
                               f"Gluon parameter {param.name}'s {param.shape}")
        param.set_data(nd.array(array, dtype='float64'))
    return net


def gluon_loss_and_gradient(net, X, labels):
    """The mean cross-entropy loss of a Gluon network on a batch, and its gradient.

    Parameters
    ----------
    net : mxnet.gluon.nn.Sequential
        A float64 network, as gluon_net makes it.
    X : array (N, 1, 16, 16)
        The canvases.
    labels : array (N,) of int
        Their classes.

    Returns
    -------
    loss : float
    gradients : list of numpy array
        The gradient with respect to each parameter, in the order of the parameters.
    """
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    with autograd.record():
        value = loss(net(nd.array(X, dtype='float64')),
                     nd.array(labels, dtype='float64')).mean()
    value.backward()
    return value.asscalar(), [p.grad().asnumpy() for p in net.collect_params().values()]


class TorchBlurPool2d(torch.nn.Module):
    """poolbook.blur_pool2d as a PyTorch layer: reflection padding, then a grouped
    convolution with the fixed binomial filter."""

    def __init__(self, channels, strides=2, filter_size=3):
        super().__init__()
        f = torch.from_numpy(binomial_filter(filter_size))
        kernel = torch.outer(f, f).expand(channels, 1, filter_size, filter_size)
        self.register_buffer('kernel', kernel.contiguous())  # a constant, not a parameter
        self.channels, self.strides, self.size = channels, strides, filter_size

    def forward(self, x):
        """Blur each channel of the batch x and keep every `strides`-th cell."""
        before, after = (self.size - 1) // 2, self.size // 2
        x = torch.nn.functional.pad(x, (before, after, before, after), mode='reflect')
        return torch.nn.functional.conv2d(x, self.kernel.to(x.dtype), stride=self.strides,
                                          groups=self.channels)


def torch_downsampling(kind, channels):
    """downsampling in PyTorch: the same four layers that halve the resolution."""
    if kind == 'max':
        return torch.nn.MaxPool2d(kernel_size=2, stride=2)
    if kind == 'avg':
        return torch.nn.AvgPool2d(kernel_size=2, stride=2)
    if kind == 'max-blur':
        return torch.nn.Sequential(torch.nn.MaxPool2d(kernel_size=2, stride=1),
                                   TorchBlurPool2d(channels))
    if kind == 'strided conv':
        return torch.nn.Conv2d(channels, channels, kernel_size=2, stride=2)
    raise ValueError(f"kind must be one of {DOWNSAMPLINGS}, got {kind!r}")


def make_torch_net(kind, head='dense'):
    """make_net in PyTorch: the same layers, and parameters, in the same order."""
    check_head(head)
    c1, c2 = CHANNELS  # 5 and 10 channels
    layers = [torch.nn.Conv2d(1, c1, kernel_size=3, padding=1), torch.nn.ReLU(),
              torch_downsampling(kind, c1),
              torch.nn.Conv2d(c1, c2, kernel_size=3, padding=1), torch.nn.ReLU(),
              torch_downsampling(kind, c2)]
    if head == 'global':
        layers.append(torch.nn.AdaptiveAvgPool2d(1))
    features = c2 if head == 'global' else c2 * (CANVAS // 4) ** 2
    layers += [torch.nn.Flatten(), torch.nn.Linear(features, 10)]
    return torch.nn.Sequential(*layers)


def torch_net(kind, theta, head='dense'):
    """make_torch_net(kind, head) in float64, holding the engine's parameters theta.

    Parameters
    ----------
    kind : str
        The downsampling layer, one of DOWNSAMPLINGS.
    theta : array (P,)
        The parameters, laid out as poolbook.tinynet.init_params lays them out.
    head : {'dense', 'global'}, default 'dense'
        The network's head.

    Returns
    -------
    torch.nn.Sequential
    """
    kind_code(kind)
    params = unpack(theta, kind, head)
    net = make_torch_net(kind, head).double()
    with torch.no_grad():
        for (name, array), param in zip(params.items(), net.parameters()):
            if tuple(param.shape) != array.shape:  # the two agree on the parameters' order
                raise RuntimeError(f"{name}: the engine's shape {array.shape} is not the "
                                   f"PyTorch parameter's {tuple(param.shape)}")
            param.copy_(torch.from_numpy(np.asarray(array, dtype=np.float64)))
    return net


def torch_loss_and_gradient(net, X, labels):
    """The mean cross-entropy loss of a PyTorch network on a batch, and its gradient.

    Parameters
    ----------
    net : torch.nn.Sequential
        A float64 network, as torch_net makes it.
    X : array (N, 1, 16, 16)
        The canvases.
    labels : array (N,) of int
        Their classes.

    Returns
    -------
    loss : float
    gradients : list of numpy array
        The gradient with respect to each parameter, in the order of the parameters.
    """
    net.zero_grad()
    value = torch.nn.functional.cross_entropy(net(torch.from_numpy(np.asarray(X, np.float64))),
                                              torch.from_numpy(np.asarray(labels, np.int64)))
    value.backward()
    return value.item(), [p.grad.numpy().copy() for p in net.parameters()]


def agrees(ours, reference, rtol=1e-4):
    """Whether the engine's float32 result matches a float64 reference, up to rounding.

    Every difference must lie within rtol of the reference's largest magnitude.

    Parameters
    ----------
    ours, reference : array
        Two arrays of one shape.
    rtol : float, default 1e-4
        The largest difference allowed, relative to the reference's largest magnitude.

    Returns
    -------
    bool
    """
    ours, reference = np.asarray(ours, np.float64), np.asarray(reference, np.float64)
    if ours.shape != reference.shape:
        raise ValueError(f"ours and reference must have the same shape, got {ours.shape} "
                         f"and {reference.shape}")
    return bool(np.abs(ours - reference).max() <= rtol * np.abs(reference).max())


def compare(a, b):
    """Whether the mean of the values a lies above, below or level with the mean of b.

    'above' or 'below' when the two means lie more than two standard errors of their
    difference apart (sqrt(var(a) / len(a) + var(b) / len(b))), 'level' otherwise.

    Parameters
    ----------
    a, b : array (n,)
        One value per seed, at least two each.

    Returns
    -------
    str
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2:
        raise ValueError(f"a and b must each hold at least two values (one per seed), "
                         f"got shapes {a.shape} and {b.shape}")
    difference = a.mean() - b.mean()
    error = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if difference > 2 * error:
        return 'above'
    if difference < -2 * error:
        return 'below'
    return 'level'


def standard_errors(a, b):
    """How many standard errors of their difference the mean of a lies above that of b.

    (mean(a) - mean(b)) / sqrt(var(a) / len(a) + var(b) / len(b)), the number that
    `compare` holds against 2; infinite when neither varies but the means differ.

    Parameters
    ----------
    a, b : array (n,)
        One value per seed, at least two each.

    Returns
    -------
    float
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or b.ndim != 1 or len(a) < 2 or len(b) < 2:
        raise ValueError(f"a and b must each hold at least two values (one per seed), "
                         f"got shapes {a.shape} and {b.shape}")
    difference = a.mean() - b.mean()
    error = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    if error == 0:
        return 0.0 if difference == 0 else float(np.copysign(np.inf, difference))
    return float(difference / error)


def clear_compare(a, b):
    """compare(a, b), refused when the means lie near its threshold of 2 standard errors.

    A verdict counts only beyond 2.5 standard errors of the difference ('above' or
    'below') or within 1.5 ('level'), so that a small change of the values cannot flip
    it; between the two it raises a ValueError.

    Parameters
    ----------
    a, b : array (n,)
        One value per seed, at least two each.

    Returns
    -------
    str
    """
    verdict, z = compare(a, b), standard_errors(a, b)
    if not {'above': z > 2.5, 'below': z < -2.5, 'level': abs(z) <= 1.5}[verdict]:
        raise ValueError(f"a and b lie {z:.2f} standard errors apart, too near the "
                         f"threshold of 2 for a verdict that holds (beyond 2.5 or within "
                         f"1.5)")
    return verdict
