"""The pooling loops exactly as the chapters show them: slow, plain and easy to check.

A test compares each function here, character for character, with the chapter cell
that teaches it (the cell carries the tag `shows:poolbook.loops.<name>`).
"""
from mxnet import nd

from poolbook._checks import check_pool2d_args


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
