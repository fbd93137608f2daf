"""Maximum pooling that remembers where each maximum came from, and max-unpooling, which
puts each value back there (SegNet's decoder; PyTorch's return_indices and MaxUnpool2d).

* `pool2d_with_indices` returns `pool2d`'s maximum and, per output cell, the flat index
  row * W + col of the input cell it came from, within its (H, W) map. Ties go to the
  first cell in row-major order; a window holding NaN names its last NaN (PyTorch's
  rules; `pool2d_backward` sends a NaN window's gradient to its first NaN).
* `max_unpool2d` scatters values into maps of zeros at those indices. Where several
  output cells name one input cell (overlapping windows), the last in row-major order
  wins, a rule fixed here: PyTorch documents its max_unpool2d as nondeterministic for
  repeated indices (its CPU kernel kept the last one in every run of the book and the
  tests); the backward pass of max pooling adds them instead.
"""
import numpy as np

from poolbook.arrays import check_kind, like_input, to_numpy
from poolbook.backward import axis_steps, steps
from poolbook.checks import as_pair, check_input, check_output_cells, check_pool_args
from poolbook.pooling import pool2d


def window_argmax(maps, Y, rows, cols):
    """Per output cell of Y = max pool of maps (m, H, W): the flat index of the first
    cell holding the window's maximum, or of its last NaN."""
    n_h, n_w = maps.shape[1:]
    index = np.full(Y.shape, -1, np.int64)
    for block, cells, _ in steps(rows, cols):  # the window's cells in row-major order
        r, c = np.arange(n_h)[cells[1]], np.arange(n_w)[cells[2]]
        flat = r[:, None] * n_w + c[None, :]  # the cells read, for each output in block
        V = maps[cells]
        nan = np.isnan(V) if V.dtype.kind == 'f' else np.zeros(V.shape, bool)
        take = ((index[block] < 0) & (V == Y[block])) | nan  # first max, or any NaN
        index[block] = np.where(take, flat, index[block])
    return index


def pool2d_with_indices(X, pool_size, *, strides=1, padding=0, ceil_mode=False):
    """Max pooling of X with, per output cell, the flat index of the cell it took.

    Parameters
    ----------
    X : array of shape (H, W), (C, H, W) or (N, C, H, W)
        numpy array, mx.nd.NDArray or mx.np.ndarray of real numbers.
    pool_size : int or (int, int)
        The window (k_h, k_w).
    strides : int or (int, int), default 1
        The step (s_h, s_w) between windows.
    padding : int or (int, int), default 0
        Cells (p_h, p_w) of padding on each side; padding is never the maximum.
    ceil_mode : bool, default False
        Round the output length up, as `pool2d` does.

    Returns
    -------
    Y : array, X's kind and dtype
        `pool2d(X, pool_size, 'max', ...)`.
    indices : array of int64, X's kind, Y's shape
        For each output cell, row * W + col of the input cell holding its maximum within
        its (H, W) map: the first in row-major order on ties, the last NaN if the window
        holds NaN (PyTorch's convention).
    """
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, 'max', strides, padding, ceil_mode)
    Y = pool2d(X, (k_h, k_w), 'max', strides=(s_h, s_w), padding=(p_h, p_w),
               ceil_mode=ceil_mode)
    A, B = to_numpy(X), to_numpy(Y)
    n_h, n_w = A.shape[-2:]
    out_h, out_w = B.shape[-2:]
    rows = axis_steps(n_h, k_h, s_h, p_h, out_h)
    cols = axis_steps(n_w, k_w, s_w, p_w, out_w)
    index = window_argmax(A.reshape(-1, n_h, n_w), B.reshape(-1, out_h, out_w), rows,
                          cols)
    return Y, like_input(index.reshape(B.shape), X)


def check_indices(Y, indices, output_size):
    """Check max_unpool2d's arguments; return Y and indices as numpy and (H, W)."""
    check_input(Y, ndims=(2, 3, 4), name='Y')
    check_kind(indices, 'indices')
    n_h, n_w = as_pair(output_size, 'output_size', minimum=1)
    if tuple(indices.shape) != tuple(Y.shape):
        raise ValueError(f"indices must have Y's shape {tuple(Y.shape)}, "
                         f"got {tuple(indices.shape)}")
    if np.dtype(indices.dtype).kind not in 'iu':
        raise TypeError(f"indices must hold integers, got dtype "
                        f"{np.dtype(indices.dtype).name}")
    check_output_cells(tuple(Y.shape[:-2]) + (n_h, n_w), 'output_size')
    I = to_numpy(indices, 'indices')
    outside = (I < 0) | (I >= n_h * n_w)
    if outside.any():
        k = np.unravel_index(np.flatnonzero(outside)[0], I.shape)
        where = ', '.join(map(str, k))
        raise ValueError(f"indices must lie from 0 to H * W - 1 = {n_h * n_w - 1} for "
                         f"output_size {(n_h, n_w)}, got indices[{where}] = {I[k]}")
    return to_numpy(Y, 'Y'), I.astype(np.int64), (n_h, n_w)


def max_unpool2d(Y, indices, output_size):
    """Scatter Y into maps of zeros of size output_size, each value to its index.

    Parameters
    ----------
    Y : array of shape (..., h, w)
        The values, (h, w), (C, h, w) or (N, C, h, w): numpy array, mx.nd.NDArray or
        mx.np.ndarray of real numbers.
    indices : array of integers, Y's shape
        For each value, row * W + col of the cell it goes to within its (H, W) map, as
        `pool2d_with_indices` returns them.
    output_size : int or (int, int)
        The maps' (H, W).

    Returns
    -------
    array of shape (..., H, W), Y's kind and dtype
        Zeros, except at the cells indices name. Where several values name one cell the
        last in row-major order wins (PyTorch leaves that case undefined; its CPU
        kernel did the same in our runs).
    """
    B, I, (n_h, n_w) = check_indices(Y, indices, output_size)
    m = int(np.prod(B.shape[:-2], dtype=np.int64))
    cells = (I.reshape(m, -1) + np.arange(m)[:, None] * (n_h * n_w)).ravel()
    values = B.reshape(-1)
    # The last value per cell: the first of each cell in the reversed order.
    _, first = np.unique(cells[::-1], return_index=True)
    last = len(cells) - 1 - first
    out = np.zeros(m * n_h * n_w, B.dtype)
    out[cells[last]] = values[last]
    return like_input(out.reshape(B.shape[:-2] + (n_h, n_w)), Y)
