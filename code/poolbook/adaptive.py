"""Global and adaptive pooling: pooling to a fixed output size, whatever the input size.

* `global_pool2d` summarizes each whole map by one number (the head of NiN and ResNet);
* `adaptive_pool2d` splits each axis into `out` bins by the rule of `adaptive_bins`,
  which MXNet's `nd.contrib.AdaptiveAvgPooling2D` (and PyTorch) follow: bin i of an axis
  of length n covers [floor(i * n / out), ceil((i + 1) * n / out));
* `ordinary_window` says when those bins are the windows of ordinary pooling: exactly
  when out divides n, n - 1 or n + 1 (for out <= n; chapter 6 proves it and checks it
  against every window, stride and padding for n up to 40).

For float32 and float64, `adaptive_pool2d` hands the maps to a compiled kernel
(poolbook.kernels.adaptive_maps, chapter 5), which adds the same cells in the same order
as `pool_bins`: the same numbers to the bit.

Like `pool2d`, both take numpy arrays or NDArrays shaped (H, W), (C, H, W) or
(N, C, H, W), return the input's kind, keep the dtype for max, add in at least float32
and give float64 for the average of integers, propagate NaN, give a zero maximum the
sign of its bin's first zero (pool2d's tie rule), never change their input, and read
and convert it a chunk of maps at a time (`pooling.CHUNK_BYTES`), as pool2d does.
"""
import numpy as np

from poolbook import kernels as compiled  # chapter 5's name for the compiled kernels
from poolbook.arrays import like_input, map_chunks, mean_dtype, sum_dtype
from poolbook.checks import as_pair, check_input, check_mode, check_output_cells
from poolbook.pooling import CHUNK_BYTES, first_zero_signs


def chunks(X, out_hw, dtype, out_dtype=None):
    """The maps of X a chunk at a time, in `dtype`, with the output block each fills.

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        The input (..., H, W), already checked.
    out_hw : tuple of int
        Each map's output size.
    dtype : numpy.dtype
        What the maps are converted to, a chunk at a time.
    out_dtype : numpy.dtype, optional
        The output's dtype; default None: `dtype`. A result computed in `dtype` is
        rounded to it as it is stored.

    Returns
    -------
    Y : numpy.ndarray
        The output, (..., out_h, out_w), of `out_dtype`, to be filled.
    blocks : generator
        (M, Z): a chunk of maps (m, H, W) in `dtype` and its block of Y (m, out_h, out_w).
    """
    Y = np.empty(tuple(X.shape[:-2]) + tuple(out_hw), out_dtype or dtype)
    (count, fetch), Y_maps = map_chunks(X), Y.reshape((-1,) + tuple(out_hw))
    step = max(1, CHUNK_BYTES // (X.shape[-2] * X.shape[-1] * dtype.itemsize))
    blocks = ((fetch(c, c + step).astype(dtype, copy=False), Y_maps[c:c + step])
              for c in range(0, count, step))
    return Y, blocks


def global_pool2d(X, mode='max'):
    """Max or average of each whole map of X: shape (..., H, W) becomes (..., 1, 1)."""
    check_input(X, ndims=(2, 3, 4))
    check_mode(mode)
    dtype = np.dtype(X.dtype).newbyteorder('=')  # X's, in native byte order
    Y, blocks = chunks(X, (1, 1), dtype, dtype if mode == 'max' else mean_dtype(dtype))
    for M, Z in blocks:  # a few maps at a time
        if mode == 'max':
            np.max(M, axis=(-2, -1), keepdims=True, out=Z)
            first_zero_signs(M, Z, lambda P: P.max(axis=(-2, -1), keepdims=True))
        else:  # numpy adds in sum_dtype a buffer at a time, without converting M
            with np.errstate(over='ignore', invalid='ignore'):  # inf, NaN: as pool2d
                Z[...] = M.mean(axis=(-2, -1), keepdims=True, dtype=sum_dtype(dtype))
    return like_input(Y, X)


def adaptive_bins(n, out):
    """Start and end (exclusive) of the `out` bins of an axis of length n."""
    i = np.arange(out)
    return i * n // out, -(-(i + 1) * n // out)


def ordinary_window(n, out):
    """(k, s, p) of the ordinary pooling whose windows are the `out` adaptive bins of an
    axis of n cells (1 <= out <= n), or None when no window, stride and padding are."""
    n, out = as_pair((n, out), 'n and out', minimum=1)
    if out > n:
        raise ValueError(f"out must be at most n = {n} (the rule is for at most one "
                         f"bin per cell), got out = {out}")
    for extra, p in ((0, 0), (-1, 0), (1, 1)):  # out divides n, n - 1 or n + 1
        s, rest = divmod(n + extra, out)
        if rest == 0 and s >= 1:
            return s + (extra != 0), s, p
    return None


def pool_bins(A, axis, starts, ends, mode):
    """Max or sum of A over the bins [starts, ends) of one axis (-2 or -1)."""
    total = None
    for a in range(int((ends - starts).max())):  # the offsets inside the longest bin
        inside = starts + a < ends
        cells = np.take(A, np.minimum(starts + a, ends - 1), axis=axis)
        if mode == 'avg':  # a bin shorter than the longest adds nothing for this offset
            cells = np.where(inside.reshape((-1, 1) if axis == -2 else -1), cells, 0)
        combine = np.maximum if mode == 'max' else np.add
        total = cells if total is None else combine(total, cells)
    return total


def adaptive_pool2d(X, output_size, mode='max'):
    """Max or average of X over output_size = (out_h, out_w) bins per map."""
    check_input(X, ndims=(2, 3, 4))
    out_h, out_w = as_pair(output_size, 'output_size', minimum=1)
    check_mode(mode)
    check_output_cells(tuple(X.shape[:-2]) + (out_h, out_w), 'output_size')
    dtype = np.dtype(X.dtype).newbyteorder('=')  # X's, in native byte order
    rows, cols = adaptive_bins(X.shape[-2], out_h), adaptive_bins(X.shape[-1], out_w)
    pool = lambda M, mode: pool_bins(pool_bins(M, -2, *rows, mode), -1, *cols, mode)
    work = dtype if mode == 'max' else sum_dtype(dtype)  # what the bins add up in
    div = ((rows[1] - rows[0])[:, None] * (cols[1] - cols[0])).astype(work)  # bin sizes
    Y, blocks = chunks(X, (out_h, out_w), work,
                       dtype if mode == 'max' else mean_dtype(dtype))
    whole = compiled.handles(X, Y)  # float32, float64 in C order: nothing to convert
    if whole:  # compiled (chapter 5), the same sums, every map in one call (threads)
        compiled.adaptive(X.reshape((-1,) + X.shape[-2:]), rows, cols, mode,
                          Y.reshape(-1, out_h, out_w))
    for M, Z in blocks:  # a few maps at a time, converted to `work`
        if not whole:
            with np.errstate(over='ignore', invalid='ignore'):  # inf, NaN: as pool2d
                Z[...] = pool(M, mode) if mode == 'max' else pool(M, mode) / div
        if mode == 'max':  # a zero maximum: the sign of its bin's first zero
            first_zero_signs(M, Z, lambda P: pool(P, 'max'))
    return like_input(Y, X)
