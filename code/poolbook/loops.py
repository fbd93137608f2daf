"""The pooling loops exactly as the chapters show them: slow, plain and easy to check.

A test compares each function here, character for character, with the chapter cell
that teaches it (the cell carries the tag `shows:poolbook.loops.<name>`).

They take numpy arrays and MXNet arrays and return the kind they are given, like every
function of the package. Being loops, they keep to what the chapters need: float32 or
float64 input, computed and returned in that dtype (other dtypes are refused, pointing to
`poolbook.pool2d`), and padding that keeps a padded map under 2048 x 2048 cells or
under 4 times the map (they build the padding; a huge window on a tiny input would not).
Chapter 1's loops (`pool2d`, `pool2d_numpy`, and `loop_njit`, the numpy loop compiled by
numba, which chapter 5 times) name their window p_h x p_w, as the source book does; the
others use the package's names: window k_h x k_w, strides s_h, s_w, padding p_h, p_w.
`loop_njit` is compiled at its first call (no on-disk cache: chapter 5 measures what the
first call costs); `pool2d_njit` runs the same code from numba's on-disk cache; with
POOLBOOK_COMPILED=0 both run as plain Python.
"""
import mxnet as mx
import numpy as np
from mxnet import nd

from poolbook.arrays import like_input, to_numpy
from poolbook.checks import check_padded_size, check_pool_args
from poolbook.geometry import output_size
from poolbook.kernels import njit


def check_loop_args(X, pool_size, mode, strides=1, padding=0, ndims=(2, 3, 4)):
    """Check a teaching loop's arguments; return pool_size, strides and padding pairs.

    Beyond `checks.check_pool_args`: float32 or float64 input (`check_float`), and padding
    that keeps the padded map within `checks.check_padded_size`.

    Parameters
    ----------
    X, pool_size, mode : object
    strides : int or pair of int, default 1
    padding : int or pair of int, default 0
    ndims : tuple of int, default (2, 3, 4)

    Returns
    -------
    pool_size, strides, padding : tuple of int
    """
    # Beyond check_pool_args: float32 or float64 input, padding within check_padded_size.
    pool_size, strides, padding = check_pool_args(X, pool_size, mode, strides, padding,
                                                  ndims=ndims)
    check_float(X)
    check_padded_size(X.shape[-2:], padding)
    return pool_size, strides, padding


def check_float(X, name='X'):
    """Refuse an array that is not float32 or float64 (what the teaching loops compute in).

    Parameters
    ----------
    X : numpy.ndarray or mx.nd.NDArray
    name : str, default 'X'

    Raises
    ------
    TypeError
    """
    dtype = np.dtype(X.dtype)  # either byte order: the loops read it as numpy does
    if dtype.kind != 'f' or dtype.itemsize not in (4, 8):
        raise TypeError(f"{name} must be float32 or float64 for the teaching loops, which "
                        f"compute in the input's dtype, got dtype {dtype.name}: "
                        f"convert it ({name}.astype('float32')) or use poolbook.pool2d")


def check_pool2d_args(X, pool_size, mode):
    """Check the arguments of chapter 1's loop and return the window as a pair.

    Parameters
    ----------
    X : object
        A 2-D float32 or float64 numpy array or mx.nd.NDArray (not an mx.np.ndarray, whose
        cells chapter 1's loop cannot store into an NDArray).
    pool_size : int or pair of int
    mode : object

    Returns
    -------
    tuple of int
    """
    pool_size, _, _ = check_loop_args(X, pool_size, mode, ndims=(2,))
    if isinstance(X, mx.np.ndarray):  # its cells cannot be stored into an mx.nd.NDArray
        raise TypeError("X is an mx.np.ndarray, which chapter 1's loop does not take: pass "
                        "X.as_nd_ndarray(), or use poolbook.pool2d")
    return pool_size


def check_strided_args(X, pool_size, mode, strides, padding):
    """Check the arguments of chapter 2's loop; return pool_size, strides and padding.

    Parameters
    ----------
    X : object
        A 2-D float32 or float64 array.
    pool_size, mode, strides, padding : object
        As for `check_loop_args`, all required.

    Returns
    -------
    pool_size, strides, padding : tuple of int
    """
    return check_loop_args(X, pool_size, mode, strides, padding, ndims=(2,))


def pool2d(X, pool_size, mode='max'):
    """Max or average pooling of the 2-D array X, stride 1, no padding."""
    p_h, p_w = check_pool2d_args(X, pool_size, mode)
    Y = nd.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return like_input(Y, X)


def pool2d_strided(X, pool_size, mode='max', strides=1, padding=0):
    """Max or average pooling of the 2-D array X with strides and padding."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_strided_args(X, pool_size, mode,
                                                            strides, padding)
    # Padding never wins a max (minus infinity) and adds nothing to an average's sum
    # (0); the average still divides by the full window, as MXNet does by default.
    fill = float('-inf') if mode == 'max' else 0
    P = nd.full((X.shape[0] + 2 * p_h, X.shape[1] + 2 * p_w), fill, dtype=X.dtype)
    P[p_h: p_h + X.shape[0], p_w: p_w + X.shape[1]] = to_numpy(X)
    Y = nd.zeros(((P.shape[0] - k_h) // s_h + 1, (P.shape[1] - k_w) // s_w + 1),
                 dtype=X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            window = P[i * s_h: i * s_h + k_h, j * s_w: j * s_w + k_w]
            if mode == 'max':
                Y[i, j] = window.max()
            elif mode == 'avg':
                Y[i, j] = window.mean()
    return like_input(Y, X)


def pool2d_numpy(X, pool_size, mode='max'):
    """Chapter 1's loop on numpy arrays: the same steps, without MXNet's cost per call.

    Parameters
    ----------
    X : numpy.ndarray or mx.nd.NDArray
        2-D, float32 or float64.
    pool_size : int or pair of int
        The window; chapter 1 names it p_h x p_w.
    mode : {'max', 'avg'}, default 'max'

    Returns
    -------
    numpy.ndarray or mx.nd.NDArray
        X's kind, in X's dtype; stride 1, no padding.
    """
    p_h, p_w = check_pool2d_args(X, pool_size, mode)
    A = to_numpy(X)
    Y = np.zeros((A.shape[0] - p_h + 1, A.shape[1] - p_w + 1), dtype=A.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = A[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = A[i: i + p_h, j: j + p_w].mean()
    return like_input(Y, X)


@njit
def loop_njit(X, p_h, p_w, mode):
    """Chapter 1's loop on a 2-D numpy array, compiled by numba at its first call."""
    Y = np.zeros((X.shape[0] - p_h + 1, X.shape[1] - p_w + 1), X.dtype)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            if mode == 'max':
                Y[i, j] = X[i: i + p_h, j: j + p_w].max()
            elif mode == 'avg':
                Y[i, j] = X[i: i + p_h, j: j + p_w].mean()
    return Y


# loop_njit's own code, compiled with numba's on-disk cache: once per machine rather than
# at the first call in every process (loop_njit compiles at its first call, as chapter 5
# shows and measures).
_cached_loop = njit(cache=True)(getattr(loop_njit, 'py_func', loop_njit))


def pool2d_njit(X, pool_size, mode='max'):
    """Chapter 1's numpy loop, compiled: check the arguments, then run loop_njit.

    It runs loop_njit's code compiled once per machine (numba's on-disk cache), where
    loop_njit itself compiles at its first call in each process.

    Parameters
    ----------
    X : numpy.ndarray or mx.nd.NDArray
        2-D, float32 or float64.
    pool_size : int or pair of int
    mode : {'max', 'avg'}, default 'max'

    Returns
    -------
    numpy.ndarray or mx.nd.NDArray
        X's kind, in X's dtype; stride 1, no padding.
    """
    k_h, k_w = check_pool2d_args(X, pool_size, mode)
    A = np.require(to_numpy(X), requirements=('C', 'W'))  # one compilation per dtype
    return like_input(_cached_loop(A, k_h, k_w, mode), X)


def pool2d_offsets(X, pool_size, mode='max', strides=1, padding=0):
    """Pooling of an array (..., H, W) by a loop over the window's offsets only."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_loop_args(X, pool_size, mode,
                                                         strides, padding)
    A = to_numpy(X)
    n_h, n_w = A.shape[-2:]
    out_h, out_w = output_size(n_h, k_h, s_h, p_h), output_size(n_w, k_w, s_w, p_w)
    fill = -np.inf if mode == 'max' else 0
    P = np.full(A.shape[:-2] + (n_h + 2 * p_h, n_w + 2 * p_w), fill, dtype=A.dtype)
    P[..., p_h: p_h + n_h, p_w: p_w + n_w] = A
    Y = np.full(A.shape[:-2] + (out_h, out_w), fill, dtype=A.dtype)
    for a in range(k_h):
        for b in range(k_w):
            # Offset (a, b) holds one cell of every window at once, a strided slice.
            cells = P[..., a: a + s_h * (out_h - 1) + 1: s_h,
                      b: b + s_w * (out_w - 1) + 1: s_w]
            if mode == 'max':
                np.maximum(Y, cells, out=Y)
            else:
                Y += cells
    return like_input(Y if mode == 'max' else Y / (k_h * k_w), X)
