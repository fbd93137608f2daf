"""The pooling loops exactly as the chapters show them: slow, plain and easy to check.

A test compares each function here, character for character, with the chapter cell
that teaches it (the cell carries the tag `shows:poolbook.loops.<name>`).
"""
import numpy as np
from mxnet import nd

from poolbook._checks import check_pool2d_args, check_pool_args, check_strided_args
from poolbook.pooling import output_size


def pool2d(X, pool_size, mode='max'):
    """Max or average pooling of the 2-D array X, stride 1, no padding."""
    p_h, p_w = check_pool2d_args(X, pool_size, mode)
    Y = nd.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


def pool2d_strided(X, pool_size, mode='max', strides=1, padding=0):
    """Max or average pooling of the 2-D array X with strides and padding."""
    (p_h, p_w), (s_h, s_w), (pad_h, pad_w) = check_strided_args(X, pool_size, mode,
                                                                strides, padding)
    # Padding never wins a max (minus infinity) and adds nothing to an average's sum (0);
    # the average still divides by the full window, as MXNet does by default.
    fill = float('-inf') if mode == 'max' else 0
    P = nd.full((X.shape[0] + 2 * pad_h, X.shape[1] + 2 * pad_w), fill)
    P[pad_h: pad_h + X.shape[0], pad_w: pad_w + X.shape[1]] = X
    Y = nd.zeros(((P.shape[0] - p_h) // s_h + 1, (P.shape[1] - p_w) // s_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = P[i * s_h: i * s_h + p_h, j * s_w: j * s_w + p_w]
            if mode == 'max':
                Y[i, j] = window.max()
            elif mode == 'avg':
                Y[i, j] = window.mean()
    return Y


def pool2d_numpy(X, pool_size, mode='max'):
    """Chapter 1's loop on numpy arrays: the same steps, without MXNet's cost per call."""
    p_h, p_w = check_pool2d_args(X, pool_size, mode)
    Y = np.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


def pool2d_offsets(X, pool_size, mode='max', strides=1, padding=0):
    """Pooling of a numpy array (..., H, W) by a loop over the window's offsets only."""
    (p_h, p_w), (s_h, s_w), (pad_h, pad_w) = check_pool_args(X, pool_size, mode,
                                                             strides, padding)
    n_h, n_w = X.shape[-2:]
    out_h, out_w = output_size(n_h, p_h, s_h, pad_h), output_size(n_w, p_w, s_w, pad_w)
    fill = -np.inf if mode == 'max' else 0
    P = np.full(X.shape[:-2] + (n_h + 2 * pad_h, n_w + 2 * pad_w), fill, dtype=np.float32)
    P[..., pad_h: pad_h + n_h, pad_w: pad_w + n_w] = X
    Y = np.full(X.shape[:-2] + (out_h, out_w), fill, dtype=np.float32)
    for a in range(p_h):
        for b in range(p_w):
            # Offset (a, b) holds one cell of every window at once: a strided slice of P.
            cells = P[..., a: a + s_h * (out_h - 1) + 1: s_h, b: b + s_w * (out_w - 1) + 1: s_w]
            if mode == 'max':
                np.maximum(Y, cells, out=Y)
            else:
                Y += cells
    return Y if mode == 'max' else Y / (p_h * p_w)
