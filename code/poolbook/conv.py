"""Cross-correlation, the operation behind a convolutional layer, for the one-pixel-shift
demonstration of chapter 1 (the loop of the source book's convolution section)."""
from mxnet import nd

from poolbook._checks import check_corr2d_args


def corr2d(X, K):
    """2-D cross-correlation of the array X with the kernel K, stride 1, no padding."""
    h, w = check_corr2d_args(X, K)
    Y = nd.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i: i + h, j: j + w] * K).sum()
    return Y
