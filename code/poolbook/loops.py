"""The pooling loops exactly as the chapters show them: slow, plain and easy to check.

A test compares each function here, character for character, with the chapter cell
that teaches it (the cell carries the tag `shows:poolbook.loops.<name>`).
"""
from mxnet import nd

from poolbook._checks import check_pool2d_args, check_strided_args


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
