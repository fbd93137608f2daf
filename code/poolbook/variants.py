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
  convolutions with fixed weights and ReLUs, max(a, b) = a + relu(b - a).

Every function checks its arguments with the checks `pool2d` uses (poolbook._checks) and
never changes its input.
"""
import math
import numbers

import numpy as np
from mxnet import nd

from poolbook._checks import as_pair, check_pool_args
from poolbook.pooling import output_size, pool2d


def _numpy(X):
    """X as a numpy array (no copy for a numpy array)."""
    return X.asnumpy() if isinstance(X, nd.NDArray) else X


def _like(Y, X):
    """The numpy array Y returned as the kind of array X is (numpy or NDArray)."""
    if isinstance(X, nd.NDArray):
        return nd.array(Y, ctx=X.context, dtype=Y.dtype)
    return Y


def float_ndarray(X):
    """X as an NDArray of float64 if it is float64, else of float32 (MXNet's default)."""
    dtype = np.float64 if X.dtype == np.float64 else np.float32
    if isinstance(X, nd.NDArray):
        return X if X.dtype == dtype else X.astype(dtype)
    return nd.array(X, dtype=dtype)


def check_beta(beta):
    """Refuse a beta that is not a real number, not finite, or negative."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a real number, got {beta!r} "
                        f"of type {type(beta).__name__}")
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be a finite number at least 0, got {beta!r}")


def check_finite(A):
    """Refuse an array holding infinities or NaN (a softmax of them is undefined)."""
    bad = int(np.size(A) - np.isfinite(A).sum())
    if bad:
        raise ValueError(f"X must hold finite numbers, got {bad} infinite or NaN value(s)")


def check_shape(shape):
    """Refuse a shape that is not (C, H, W) with three positive ints; return it as a tuple."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"shape must be (C, H, W), three ints, got {shape!r}")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
               for v in shape):
        raise TypeError(f"shape must hold ints, got {shape!r}")
    if min(shape) < 1:
        raise ValueError(f"shape must hold positive ints, got {shape!r}")
    return tuple(int(v) for v in shape)


# ----------------------------------------------------------------------------------------
# Exercise 1: average pooling as a convolution.

def avg_pool_as_conv(X, pool_size, *, strides=1, padding=0):
    """Average pooling of X (N, C, H, W) as a grouped convolution."""
    (p_h, p_w), strides, padding = check_pool_args(
        X, pool_size, 'avg', strides, padding, ndims=(4,))
    A = float_ndarray(X)
    C = A.shape[1]
    # One filter per channel, every weight 1 / (p_h p_w); num_group=C
    # makes filter c read channel c only, so channels do not mix.
    W = nd.full((C, 1, p_h, p_w), 1 / (p_h * p_w), ctx=A.context,
                dtype=A.dtype)
    Y = nd.Convolution(A, W, kernel=(p_h, p_w), stride=strides,
                       pad=padding, num_filter=C, num_group=C,
                       no_bias=True)
    return Y if isinstance(X, nd.NDArray) else Y.asnumpy()


# ----------------------------------------------------------------------------------------
# Exercise 2: what pooling costs.

def count_pool_ops(X, pool_size, mode='max', *, strides=1, padding=0):
    """Pool X (C, H, W) in a loop that counts each operation."""
    (p_h, p_w), (s_h, s_w), (q_h, q_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ndims=(3,))
    A = X.asnumpy() if isinstance(X, nd.NDArray) else X
    # Pad as chapter 2 does: -inf never wins a max, 0 adds nothing.
    fill = -np.inf if mode == 'max' else 0.0
    P = np.pad(A.astype(np.float64), ((0, 0), (q_h, q_h), (q_w, q_w)),
               constant_values=fill)
    C, H, W = P.shape
    Y = np.zeros((C, (H - p_h) // s_h + 1, (W - p_w) // s_w + 1))
    ops = dict(comparisons=0, additions=0, divisions=0, reads=0,
               writes=0)
    for c, i, j in np.ndindex(Y.shape):
        result = None
        for a in range(p_h):
            for b in range(p_w):
                x = P[c, i * s_h + a, j * s_w + b]
                ops['reads'] += 1
                if result is None:
                    result = x  # the first cell: nothing to combine
                elif mode == 'max':
                    ops['comparisons'] += 1
                    if x > result:
                        result = x
                else:
                    ops['additions'] += 1
                    result = result + x
        if mode == 'avg':
            ops['divisions'] += 1
            result = result / (p_h * p_w)
        ops['writes'] += 1
        Y[c, i, j] = result
    return Y, ops


def pool_cost(shape, pool_size, mode='max', *, strides=1, padding=0):
    """Operations to pool a (C, H, W) input, by the formula."""
    C, H, W = check_shape(shape)
    X = np.broadcast_to(np.float32(0), shape)  # for the checks only
    (p_h, p_w), (s_h, s_w), (q_h, q_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ndims=(3,))
    outputs = (C * output_size(H, p_h, s_h, q_h)
               * output_size(W, p_w, s_w, q_w))
    k = p_h * p_w  # cells per window
    return {'comparisons': (k - 1) * outputs if mode == 'max' else 0,
            'additions': (k - 1) * outputs if mode == 'avg' else 0,
            'divisions': outputs if mode == 'avg' else 0,
            'reads': k * outputs,
            'writes': outputs}


# ----------------------------------------------------------------------------------------
# Exercise 4: minimum pooling.

def negated(X):
    """X with its order reversed: -X for floats, ~X = -X - 1 for integers (never overflows)."""
    A = _numpy(X)
    flipped = np.invert(A) if A.dtype.kind in 'iu' else np.negative(A)
    return _like(flipped, X)


def min_pool(X, pool_size, *, strides=1, padding=0, ceil_mode=False):
    """Minimum pooling: the maximum pooling of -X, negated back."""
    check_pool_args(X, pool_size, 'max', strides, padding, ceil_mode)
    Y = pool2d(negated(X), pool_size, 'max', strides=strides,
               padding=padding, ceil_mode=ceil_mode)
    return negated(Y)


# ----------------------------------------------------------------------------------------
# Exercise 5: between the average and the maximum.

def window_cells(X, pool_size, *, strides=1, padding=0):
    """Each window's cells minus its maximum, a mask of its real cells, and the maxima."""
    # Shapes (..., out_h, out_w, p_h * p_w) twice, then (..., out_h, out_w); all float64.
    (p_h, p_w), (s_h, s_w), (q_h, q_w) = check_pool_args(X, pool_size, 'max', strides,
                                                         padding)
    A = _numpy(X).astype(np.float64)
    check_finite(A)
    pad = [(0, 0)] * (A.ndim - 2) + [(q_h, q_h), (q_w, q_w)]
    view = np.lib.stride_tricks.sliding_window_view
    cells = view(np.pad(A, pad), (p_h, p_w), axis=(-2, -1))[..., ::s_h, ::s_w, :, :]
    real = view(np.pad(np.ones(A.shape[-2:], bool), pad[-2:]), (p_h, p_w))[::s_h, ::s_w]
    cells = cells.reshape(cells.shape[:-2] + (-1,))
    real = real.reshape(real.shape[:-2] + (-1,))
    top = pool2d(A, (p_h, p_w), 'max', strides=(s_h, s_w), padding=(q_h, q_w))
    return np.where(real, cells - top[..., None], 0.0), real, top


def pooled_like(X, Y):
    """The numpy result Y as the kind of array X is, in X's float type (float64 for ints)."""
    dtype = X.dtype if np.dtype(X.dtype).kind == 'f' else np.float64
    return _like(Y.astype(dtype), X)


def softmax_pool(X, pool_size, beta=1.0, *, strides=1, padding=0):
    """Average each window with weights softmax(beta * cells)."""
    check_beta(beta)
    D, real, top = window_cells(X, pool_size, strides=strides,
                                padding=padding)
    # D = cell - window maximum <= 0, so exp(beta * D) <= 1 never
    # overflows (where beta * D rounds to -inf, exp gives 0: right).
    with np.errstate(over='ignore'):
        w = np.where(real, np.exp(beta * D), 0.0)
    return pooled_like(X, top + (w * D).sum(axis=-1) / w.sum(axis=-1))


def smooth_max_pool(X, pool_size, beta=1.0, *, strides=1, padding=0):
    """Pool each window of X to (1 / beta) * log(mean(exp(beta * cells))); beta = 0: the mean."""
    check_beta(beta)
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
    p_h, p_w = as_pair(pool_size, 'pool_size', minimum=1)
    m = p_h * p_w
    W = np.eye(m, dtype=int)  # picks the window's m cells
    weights = []
    while m > 1:
        E, F = pair_max_weights(m)
        weights.append(E @ W)  # two linear maps in a row are one
        W, m = F, F.shape[0]
    weights.append(W)
    return weights


def max_pool_by_relu(X, pool_size, *, strides=1):
    """Maximum pooling of X (N, C, H, W) by convolutions and ReLUs."""
    (p_h, p_w), strides, _ = check_pool_args(X, pool_size, 'max',
                                             strides, ndims=(4,))
    Y = float_ndarray(X)
    C = Y.shape[1]
    for n, W in enumerate(relu_max_weights((p_h, p_w))):
        if n == 0:   # the window's cells, at the pooling's stride
            kernel, stride = (p_h, p_w), strides
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
    return Y if isinstance(X, nd.NDArray) else Y.asnumpy()


def relu_max_counts(pool_size):
    """Cells, ReLU layers, convolutions and widest layer (per channel) of max_pool_by_relu."""
    weights = relu_max_weights(pool_size)
    return {'cells': weights[0].shape[1], 'relu_layers': len(weights) - 1,
            'convolutions': len(weights), 'widest': max(W.shape[0] for W in weights)}
