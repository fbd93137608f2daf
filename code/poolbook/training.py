"""A small convolutional network on scikit-learn's bundled 8x8 digits, placed at random
positions on a larger canvas, in four variants that differ only in how they downsample.

Everything is seeded and runs in float64, so that training gives the same network on any
x86-64 CPU: MXNet computes float64 with its own kernels, not with oneDNN (whose float32
kernels differ per CPU), and the initial weights and the order of the examples come from
numpy's seeded generator, not from MXNet's.
"""
import numpy as np
from mxnet import autograd, gluon, nd
from mxnet.gluon import nn
from sklearn.datasets import load_digits

from poolbook.antialias import binomial_filter
from poolbook.arrays import to_numpy
from poolbook.checks import (check_corners, check_input, check_int, check_number,
                             check_values, is_int)

CANVAS = 16  # the canvas is 16 x 16 pixels; a digit (8 x 8) fits at 9 x 9 positions
DOWNSAMPLINGS = ('max', 'avg', 'max-blur', 'strided conv')


def digits():
    """scikit-learn's 1,797 digits as float64 images in [0, 1], shape (N, 8, 8), and labels."""
    data = load_digits()
    return data.images / 16.0, data.target


def place(images, rows, cols, canvas=CANVAS):
    """Each 8 x 8 image on an empty canvas, its top-left corner at (rows[n], cols[n]);
    shape (N, 1, canvas, canvas)."""
    check_input(images, ndims=(3,), name='images')
    check_int(canvas, 'canvas', minimum=1)
    images = to_numpy(images, 'images')
    n, h, w = images.shape
    if h > canvas or w > canvas:
        raise ValueError(f"images of {h} x {w} do not fit on a {canvas} x {canvas} canvas")
    for corners, name, room in ((rows, 'rows', canvas - h), (cols, 'cols', canvas - w)):
        check_corners(corners, name, n, room)
    out = np.zeros((n, 1, canvas, canvas))
    for k in range(n):
        out[k, 0, rows[k]:rows[k] + h, cols[k]:cols[k] + w] = images[k]
    return out


class BlurPool2D(nn.Block):
    """poolbook.blur_pool2d as a Gluon layer: reflect-pad, grouped fixed-filter conv."""

    def __init__(self, channels, strides=2, filter_size=3):
        check_int(channels, 'channels', minimum=1)
        check_int(strides, 'strides', minimum=1)
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


def make_net(kind):
    """Conv 3x3 (8), ReLU, downsample, conv 3x3 (16), ReLU, downsample, dense (10)."""
    net = nn.Sequential()
    net.add(nn.Conv2D(8, kernel_size=3, padding=1, activation='relu'),
            downsampling(kind, 8),
            nn.Conv2D(16, kernel_size=3, padding=1, activation='relu'),
            downsampling(kind, 16),
            nn.Dense(10))
    return net


def initialize(net, X, seed):
    """Create net's float64 parameters for inputs like X and fill them from numpy's seeded
    generator: weights uniform in +-sqrt(6 / (fan_in + fan_out)), biases zero."""
    net.initialize()
    net.cast('float64')
    net(nd.array(X[:1], dtype='float64'))  # deferred initialization learns the shapes
    rng = np.random.RandomState(seed)
    for name, param in net.collect_params().items():
        shape = param.shape
        if name.endswith('bias'):
            param.set_data(nd.zeros(shape, dtype='float64'))
            continue
        fan_in = int(np.prod(shape[1:]))
        fan_out = shape[0] * int(np.prod(shape[2:]))
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        param.set_data(nd.array(rng.uniform(-bound, bound, shape), dtype='float64'))


def train(net, images, labels, *, epochs=10, batch_size=32, learning_rate=0.005, seed=0):
    """Train net with Adam and the cross-entropy loss on the 8 x 8 `images`, each epoch
    placing every image at a new random position on the canvas (seeded), visiting them in
    a seeded order; return the mean loss of each epoch."""
    check_net(net)
    check_input(images, ndims=(3,), name='images')
    check_values(labels, 'labels')
    if tuple(labels.shape) != (images.shape[0],):
        raise ValueError(f"labels must hold one label per image, shape "
                         f"({images.shape[0]},), got {tuple(labels.shape)}")
    images, labels = to_numpy(images, 'images'), to_numpy(labels, 'labels')
    check_int(epochs, 'epochs', minimum=1)
    check_int(batch_size, 'batch_size', minimum=1)
    check_number(learning_rate, 'learning_rate', positive=True)
    check_int(seed, 'seed', minimum=0)
    rng = np.random.RandomState(seed)
    places = rng.randint(0, CANVAS - 7, size=(epochs, len(images), 2))
    initialize(net, place(images[:1], [0], [0]), seed)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': learning_rate})
    loss = gluon.loss.SoftmaxCrossEntropyLoss()
    losses = []
    for epoch in range(epochs):
        X = place(images, places[epoch, :, 0], places[epoch, :, 1])
        order, total = rng.permutation(len(X)), 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            data = nd.array(X[batch], dtype='float64')
            label = nd.array(labels[batch], dtype='float64')
            with autograd.record():
                value = loss(net(data), label)
            value.backward()
            trainer.step(len(batch))
            total += value.sum().asscalar()
        losses.append(total / len(X))
    return losses


def predict(net, X, batch_size=500):
    """The class net predicts for each image of X (N, 1, H, W), as a numpy array."""
    check_net(net)
    check_input(X, ndims=(4,))
    check_int(batch_size, 'batch_size', minimum=1)
    X = to_numpy(X)
    labels = []
    for start in range(0, len(X), batch_size):
        scores = net(nd.array(X[start:start + batch_size], dtype='float64'))
        labels.append(scores.asnumpy().argmax(axis=1))
    return np.concatenate(labels)


def check_net(net):
    """Refuse anything but a Gluon network (a Block)."""
    if not isinstance(net, nn.Block):
        raise TypeError(f"net must be a Gluon network (a Block, as make_net builds), got "
                        f"{type(net).__name__}")


def moved_corners(n, d, seed):
    """n random top-left corners (row, col) for a digit on the canvas, and the same
    corners moved d pixels down or right (which, at random per digit); two (n, 2) arrays."""
    check_int(n, 'n', minimum=0)
    check_int(seed, 'seed', minimum=0)
    if not is_int(d):
        raise TypeError(f"d must be an integer, got {d!r}")
    if not 0 <= d <= CANVAS - 8:
        raise ValueError(f"d must be an integer from 0 to {CANVAS - 8}, so that a moved "
                         f"digit still fits on the {CANVAS} x {CANVAS} canvas, got {d!r}")
    rng = np.random.RandomState(seed)
    first = rng.randint(0, CANVAS - 8 - d + 1, size=(n, 2))
    step = np.where(rng.rand(n, 1) < 0.5, [[d, 0]], [[0, d]])
    return first, first + step
