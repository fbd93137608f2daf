"""The code of chapter 4's exercises: pooling written other ways, what it costs, and the
operations between (or beside) maximum and average pooling.

* `avg_pool_as_conv`: average pooling as a convolution with one filter per channel;
* `count_pool_ops`, `pool_cost`: a loop that counts every operation it performs, and the
  formula it must agree with;
* `min_pool`: minimum pooling as the maximum pooling of the negated input;
* `softmax_pool`, `smooth_max_pool`: two poolings that move from the average (beta = 0) to
  the maximum (beta -> infinity). Both take the window, strides and padding of `pool2d`;
  padding cells take no part (as in maximum pooling), so with padding beta = 0 gives
  `pool2d(..., 'avg', count_include_pad=False)`. There is no ceil mode;
* `relu_max_weights`, `max_pool_by_relu`, `relu_max_counts`: maximum pooling built from
  convolutions with fixed weights and ReLUs, max(a, b) = a + relu(b - a). The network
  computes in float64 and is exact up to a few roundings: its error is at most
  8 x layers x 2**-52 times the largest magnitude in the window (then one rounding to
  X's dtype), so a small maximum next to huge negative values loses digits. It refuses
  what it cannot do: infinities and NaN (inf - inf), magnitudes above 2**1000 (the
  differences would overflow), integers above 2**53, windows above 1024 cells.

Every function checks its arguments with the checks `pool2d` uses (poolbook.checks),
takes numpy and MXNet arrays, returns the kind it was given and never changes its input.
Averages come back as `pool2d`'s do: a float input keeps its dtype, an integer gives
float64; sums are taken in at least float32 (float64 for integers). `max_pool_by_relu`
returns floats by the same rule, like the convolutions it runs (so an integer input gives
float64, where `pool2d`'s maximum keeps the integer dtype). Functions that build
the padding or the window's weights refuse sizes that would take more than a few MiB.
"""
import math
import numbers

import numpy as np
from mxnet import nd

from poolbook.arrays import as_ndarray, like_input, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import (as_pair, check_input, check_padded_size, check_pool_args,
                             is_int)
from poolbook.geometry import output_shape, output_size
from poolbook.pooling import pool2d

RELU_CELLS = 1024  # the largest window max_pool_by_relu builds weights for (32 x 32)
WINDOW_CELLS = 2**22  # the most window cells window_cells gathers (32 MiB in float64)


# ----------------------------------------------------------------------------------------
# The checks of these functions' own arguments (the shared ones are in poolbook.checks).

def check_beta(beta):
    """Refuse a beta that is not a real number, not finite, or negative; return it as a float.

    Parameters
    ----------
    beta : object

    Returns
    -------
    float
        beta as numpy computes with it (a Fraction or a numpy scalar becomes a float).

    Raises
    ------
    TypeError
        For a bool, a complex number, an array or anything not a real number.
    ValueError
        For NaN, an infinity, a number beyond float64 or a negative number.
    """
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a real number, got {beta!r} "
                        f"of type {type(beta).__name__}")
    try:
        value = float(beta)
    except OverflowError:  # an int or Fraction beyond float64
        value = math.inf
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"beta must be a finite number at least 0, got {beta!r}")
    return value


def check_finite(A, name='X'):
    """Refuse an array holding infinities or NaN.

    Parameters
    ----------
    A : numpy.ndarray
    name : str, default 'X'

    Raises
    ------
    ValueError
        Saying how many values are not finite.
    """
    bad = int(np.size(A) - np.isfinite(A).sum())
    if bad:
        raise ValueError(f"{name} must hold finite numbers, got {bad} infinite or NaN value(s)")


def check_shape(shape):
    """Refuse a shape that is not (C, H, W) with three positive ints; return it as a tuple.

    Parameters
    ----------
    shape : object

    Returns
    -------
    tuple of int

    Raises
    ------
    TypeError, ValueError
    """
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"shape must be (C, H, W), three ints, got {shape!r}")
    if not all(is_int(v) for v in shape):
        raise TypeError(f"shape must hold ints, got {shape!r}")
    if min(shape) < 1:
        raise ValueError(f"shape must hold positive ints, got {shape!r}")
    return tuple(int(v) for v in shape)


def check_relu_window(pool_size):
    """Refuse a window of more than RELU_CELLS (1024) cells; return it as (k_h, k_w).

    Parameters
    ----------
    pool_size : int or pair of int

    Returns
    -------
    tuple of int
    """
    k_h, k_w = as_pair(pool_size, 'pool_size', minimum=1)
    if k_h * k_w > RELU_CELLS:
        raise ValueError(f"pool_size {(k_h, k_w)} has {k_h * k_w:,} cells: the ReLU "
                         f"network's weights grow as its square, so windows of at most "
                         f"{RELU_CELLS} cells are built")
    return k_h, k_w


def check_relu_range(A, name='X'):
    """Refuse values the ReLU network cannot pool in float64 within its error bound.

    Parameters
    ----------
    A : numpy.ndarray
        Refused if it holds infinities or NaN (inf - inf), magnitudes above 2**1000 (sums
        of differences would overflow), or integers above 2**53 (not exact in float64),
        with a ValueError.
    name : str, default 'X'
    """
    check_finite(A, name)
    largest = float(np.abs(A).max(initial=0))
    limit = 2.0**53 if A.dtype.kind in 'iu' else 2.0**1000
    if largest > limit:
        raise ValueError(f"{name} must hold values of magnitude at most {limit:.4g} for "
                         f"max_pool_by_relu, got {largest:.4g}")


def check_window_cells(out_shape, pool_size, limit=WINDOW_CELLS):
    """Refuse a window whose cells, gathered for every output cell, exceed `limit`.

    Parameters
    ----------
    out_shape : tuple of int
        The shape of the output, leading axes included.
    pool_size : tuple of int
        (k_h, k_w).
    limit : int, default WINDOW_CELLS (2**22)

    Raises
    ------
    ValueError
    """
    cells = math.prod(out_shape) * pool_size[0] * pool_size[1]
    if cells > limit:
        raise ValueError(f"pool_size {tuple(pool_size)} over an output of shape "
                         f"{tuple(out_shape)} gathers {cells:,} window cells, more than "
                         f"the {limit:,} this function builds: use a smaller window or "
                         f"input, or pool a few maps at a time")


def float_ndarray(X):
    """X as an NDArray in the float dtype its sums need (float64 for integers).

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        Converted with `arrays.as_ndarray` to `arrays.sum_dtype` of its dtype.
    """
    return as_ndarray(X, sum_dtype(X.dtype))


# ----------------------------------------------------------------------------------------
# Exercise 1: average pooling as a convolution.

def avg_pool_as_conv(X, pool_size, *, strides=1, padding=0):
    """Average pooling of X (N, C, H, W) as a grouped convolution."""
    (k_h, k_w), strides, padding = check_pool_args(
        X, pool_size, 'avg', strides, padding, ndims=(4,))
    check_padded_size(X.shape[-2:], padding)
    A = float_ndarray(X)
    C = A.shape[1]
    # One filter per channel, every weight 1 / (k_h k_w); num_group=C
    # makes filter c read channel c only, so channels do not mix.
    W = nd.full((C, 1, k_h, k_w), 1 / (k_h * k_w), ctx=A.context,
                dtype=A.dtype)
    Y = nd.Convolution(A, W, kernel=(k_h, k_w), stride=strides,
                       pad=padding, num_filter=C, num_group=C,
                       no_bias=True)
    return like_input(Y.astype(mean_dtype(X.dtype)), X)


# ----------------------------------------------------------------------------------------
# Exercise 2: what pooling costs.

def count_pool_ops(X, pool_size, mode='max', *, strides=1, padding=0):
    """Pool X (C, H, W) in a loop counting each operation; Y: X's kind, float dtype."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ndims=(3,))
    check_padded_size(X.shape[-2:], (p_h, p_w))
    # Pad as chapter 2 does: -inf never wins a max, 0 adds nothing.
    fill = -np.inf if mode == 'max' else 0.0
    P = np.pad(to_numpy(X).astype(np.float64), ((0, 0), (p_h, p_h), (p_w, p_w)),
               constant_values=fill)
    C, H, W = P.shape
    Y = np.zeros((C, (H - k_h) // s_h + 1, (W - k_w) // s_w + 1))
    ops = dict(comparisons=0, additions=0, divisions=0, reads=0,
               writes=0)
    for c, i, j in np.ndindex(Y.shape):
        result = None
        for a in range(k_h):
            for b in range(k_w):
                x = P[c, i * s_h + a, j * s_w + b]
                ops['reads'] += 1
                if result is None:
                    result = x  # the first cell: nothing to combine
                elif mode == 'max':
                    ops['comparisons'] += 1
                    if x > result or x != x:  # a NaN (x != x) wins, as in pool2d
                        result = x
                else:
                    ops['additions'] += 1
                    result = result + x
        if mode == 'avg':
            ops['divisions'] += 1
            result = result / (k_h * k_w)
        ops['writes'] += 1
        Y[c, i, j] = result
    return pooled_like(X, Y), ops


def pool_cost(shape, pool_size, mode='max', *, strides=1, padding=0):
    """Operations to pool a (C, H, W) input, by the formula."""
    C, H, W = check_shape(shape)
    X = np.broadcast_to(np.float32(0), shape)  # for the checks only
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ndims=(3,))
    outputs = (C * output_size(H, k_h, s_h, p_h)
               * output_size(W, k_w, s_w, p_w))
    k = k_h * k_w  # cells per window
    return {'comparisons': (k - 1) * outputs if mode == 'max' else 0,
            'additions': (k - 1) * outputs if mode == 'avg' else 0,
            'divisions': outputs if mode == 'avg' else 0,
            'reads': k * outputs,
            'writes': outputs}


# ----------------------------------------------------------------------------------------
# Exercise 4: minimum pooling.

def negated(X):
    """X with its order reversed: -X for floats, ~X = -X - 1 for integers (never overflows).

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        X's kind and dtype.
    """
    A = to_numpy(X)
    flipped = np.invert(A) if A.dtype.kind in 'iu' else np.negative(A)
    return like_input(flipped, X)


def min_pool(X, pool_size, *, strides=1, padding=0, ceil_mode=False):
    """Minimum pooling: the maximum pooling of -X, negated back."""
    check_pool_args(X, pool_size, 'max', strides, padding, ceil_mode)
    Y = pool2d(negated(X), pool_size, 'max', strides=strides,
               padding=padding, ceil_mode=ceil_mode)
    return negated(Y)


# ----------------------------------------------------------------------------------------
# Exercise 5: between the average and the maximum.

def window_cells(X, pool_size, *, strides=1, padding=0):
    """Each window's cells minus its maximum, a mask of its real cells, and the maxima.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        Shape (..., H, W), finite values.
    pool_size : int or pair of int
    strides : int or pair of int, default 1
    padding : int or pair of int, default 0
        Padding cells are not real cells: they take no part.

    Returns
    -------
    D : numpy.ndarray
        float64, shape (..., out_h, out_w, k_h * k_w): each cell minus its window's maximum
        (0 for padding cells).
    real : numpy.ndarray
        bool, shape (out_h, out_w, k_h * k_w): which cells are input cells.
    top : numpy.ndarray
        float64, shape (..., out_h, out_w): each window's maximum.

    Raises
    ------
    ValueError
        For non-finite values, padding making a map mostly padding, or more window cells
        than `check_window_cells` allows.
    """
    # Shapes (..., out_h, out_w, k_h * k_w) twice, then (..., out_h, out_w); all float64.
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(X, pool_size, 'max', strides,
                                                         padding)
    check_padded_size(X.shape[-2:], (p_h, p_w))
    out_shape = output_shape(X.shape, (k_h, k_w), strides=(s_h, s_w), padding=(p_h, p_w))
    check_window_cells(out_shape, (k_h, k_w))  # before gathering them
    A = to_numpy(X).astype(np.float64)
    check_finite(A)
    pad = [(0, 0)] * (A.ndim - 2) + [(p_h, p_h), (p_w, p_w)]
    view = np.lib.stride_tricks.sliding_window_view
    cells = view(np.pad(A, pad), (k_h, k_w), axis=(-2, -1))[..., ::s_h, ::s_w, :, :]
    real = view(np.pad(np.ones(A.shape[-2:], bool), pad[-2:]), (k_h, k_w))[::s_h, ::s_w]
    cells = cells.reshape(cells.shape[:-2] + (-1,))
    real = real.reshape(real.shape[:-2] + (-1,))
    top = pool2d(A, (k_h, k_w), 'max', strides=(s_h, s_w), padding=(p_h, p_w))
    return np.where(real, cells - top[..., None], 0.0), real, top


def pooled_like(X, Y):
    """The numpy result Y as the kind of array X is, in X's float dtype (float64 for ints).

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
    Y : numpy.ndarray

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
    """
    return like_input(Y.astype(mean_dtype(X.dtype)), X)


def softmax_pool(X, pool_size, beta=1.0, *, strides=1, padding=0):
    """Average each window with weights softmax(beta * cells)."""
    beta = check_beta(beta)  # a float, whatever real number it was
    D, real, top = window_cells(X, pool_size, strides=strides,
                                padding=padding)
    # D = cell - window maximum <= 0, so exp(beta * D) <= 1 never
    # overflows (where beta * D rounds to -inf, exp gives 0: right).
    with np.errstate(over='ignore'):
        w = np.where(real, np.exp(beta * D), 0.0)
    return pooled_like(X, top + (w * D).sum(axis=-1) / w.sum(axis=-1))


def smooth_max_pool(X, pool_size, beta=1.0, *, strides=1, padding=0):
    """Pool each window of X to (1 / beta) log(mean(exp(beta x))); beta = 0 gives the mean.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        Shape (..., H, W), finite values.
    pool_size : int or pair of int
    beta : float, default 1.0
        At least 0: from the average (0) towards the maximum (large beta).
    strides : int or pair of int, default 1
    padding : int or pair of int, default 0
        Padding cells take no part.

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        X's kind, in X's float dtype (float64 for integers).
    """
    beta = check_beta(beta)  # a float, whatever real number it was
    D, real, top = window_cells(X, pool_size, strides=strides, padding=padding)
    count = real.sum(axis=-1)
    if beta == 0:
        return pooled_like(X, top + D.sum(axis=-1) / count)
    with np.errstate(over='ignore'):  # a huge beta * D rounds to -inf: expm1 gives -1, right
        e = np.where(real, np.expm1(beta * D), 0.0)  # exp(beta * D) - 1, exact for small beta
    return pooled_like(X, top + np.log1p(e.sum(axis=-1) / count) / beta)


# ----------------------------------------------------------------------------------------
# Exercise 6: maximum pooling from convolutions and ReLUs.

def pair_max_weights(m):
    """E, F of a ReLU layer taking m values to pairwise maxima."""
    I = np.eye(m, dtype=int)
    maxima, channels = (m + 1) // 2, 3 * (m // 2) + 2 * (m % 2)
    E, F = [], np.zeros((maxima, channels), dtype=int)
    for t in range(0, m, 2):
        first = len(E)
        E += [I[t], -I[t]]             # relu(a) - relu(-a) = a ...
        F[t // 2, first: first + 2] = 1, -1
        if t + 1 < m:
            E.append(I[t + 1] - I[t])  # ... + relu(b - a) = max(a, b)
            F[t // 2, first + 2] = 1
    return np.array(E), F


def relu_max_weights(pool_size):
    """Weights of conv, ReLU, ..., conv giving a window's maximum."""
    k_h, k_w = check_relu_window(pool_size)
    m = k_h * k_w
    W = np.eye(m, dtype=int)  # picks the window's m cells
    weights = []
    while m > 1:
        E, F = pair_max_weights(m)
        weights.append(E @ W)  # two linear maps in a row are one
        W, m = F, F.shape[0]
    weights.append(W)
    return weights


def max_pool_by_relu(X, pool_size, *, strides=1):
    """Maximum pooling of X (N, C, H, W) by convolutions and ReLUs, in float64."""
    (k_h, k_w), strides, _ = check_pool_args(X, pool_size, 'max',
                                             strides, ndims=(4,))
    check_relu_range(to_numpy(X))
    Y = as_ndarray(X, np.float64)  # a - b and a + relu(b - a) lose less
    C = Y.shape[1]
    for n, W in enumerate(relu_max_weights((k_h, k_w))):
        if n == 0:   # the window's cells, at the pooling's stride
            kernel, stride = (k_h, k_w), strides
        else:        # then per position
            kernel, stride = (1, 1), (1, 1)
            Y = nd.relu(Y)
        # The same filters for every channel, one group per channel.
        filters = W.reshape((W.shape[0], -1) + kernel)
        filters = nd.array(np.tile(filters, (C, 1, 1, 1)),
                           ctx=Y.context, dtype=Y.dtype)
        Y = nd.Convolution(Y, filters, kernel=kernel, stride=stride,
                           num_filter=C * W.shape[0], num_group=C,
                           no_bias=True)
    return like_input(Y.astype(mean_dtype(X.dtype)), X)


def relu_max_counts(pool_size):
    """Cells, ReLU layers, convolutions and widest layer (per channel) of max_pool_by_relu.

    Parameters
    ----------
    pool_size : int or pair of int
        At most 1024 cells.

    Returns
    -------
    dict
        'cells', 'relu_layers', 'convolutions' and 'widest', ints.
    """
    weights = relu_max_weights(pool_size)
    return {'cells': weights[0].shape[1], 'relu_layers': len(weights) - 1,
            'convolutions': len(weights), 'widest': max(W.shape[0] for W in weights)}


# ----------------------------------------------------------------------------------------
# Exercise 5 in a picture: one window's softmax pooling and smooth maximum as beta grows.

def beta_sweep(window, betas):
    """One 2-D window's softmax pooling and smooth maximum at each beta, and its levels.

    Parameters
    ----------
    window : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        The window's values, 2-D.
    betas : sequence of float

    Returns
    -------
    curves : dict
        'softmax pooling' and 'smooth maximum': a numpy array, one value per beta.
    levels : dict
        'maximum' and 'average' of the window, floats.
    """
    check_input(window, ndims=(2,), name='window')
    A = to_numpy(window, 'window')
    curves = {name: np.array([pool(A, A.shape, beta).item() for beta in betas])
              for name, pool in (('softmax pooling', softmax_pool),
                                 ('smooth maximum', smooth_max_pool))}
    levels = {name: pool2d(A, A.shape, mode).item()
              for name, mode in (('maximum', 'max'), ('average', 'avg'))}
    return curves, levels
