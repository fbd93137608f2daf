"""Cross-correlation, the operation behind a convolutional layer, for the one-pixel-shift
demonstration of chapter 1 (the loop of the source book's convolution section).

Like every function of the package, `corr2d` takes numpy arrays and MXNet arrays (X and K
may be of different kinds: the result is of X's kind). It sums in float64 for integer
inputs (int8 products would wrap) and in at least float32 for floats; it returns float64
for integers, else the wider float dtype of X and K.
"""
import numpy as np

from poolbook.arrays import like_input, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import check_input, check_window_fits


def check_corr2d_args(X, K):
    """Check the arguments of corr2d and return the kernel's shape as (k_h, k_w).

    Parameters
    ----------
    X, K : object
        2-D arrays of real numbers, K no larger than X in either axis.

    Returns
    -------
    tuple of int
    """
    check_input(X, ndims=(2,))
    check_input(K, ndims=(2,), name='K')
    check_window_fits(X.shape, K.shape, name='K.shape')
    return K.shape


def corr2d(X, K):
    """2-D cross-correlation of the array X with the kernel K, stride 1, no padding.

    Parameters
    ----------
    X, K : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        2-D arrays of real numbers, of any kinds; K no larger than X.

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        X's kind, shape (H - k_h + 1, W - k_w + 1); float64 for integers, else the wider
        float dtype of X and K (sums taken in at least float32).
    """
    k_h, k_w = check_corr2d_args(X, K)
    dtype = np.result_type(np.dtype(X.dtype), np.dtype(K.dtype))
    A, B = (to_numpy(M, name).astype(sum_dtype(dtype)) for M, name in ((X, 'X'), (K, 'K')))
    Y = np.zeros((A.shape[0] - k_h + 1, A.shape[1] - k_w + 1), A.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (A[i: i + k_h, j: j + k_w] * B).sum()
    return like_input(Y.astype(mean_dtype(dtype), copy=False), X)
