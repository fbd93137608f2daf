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
and give float64 for the average of integers, propagate NaN, and never change their
input.
"""
import numpy as np

from poolbook import kernels as compiled  # chapter 5's name for the compiled kernels
from poolbook.arrays import like_input, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import as_pair, check_input, check_mode, check_output_cells


def global_pool2d(X, mode='max'):
    """Max or average of each whole map of X: shape (..., H, W) becomes (..., 1, 1)."""
    check_input(X, ndims=(2, 3, 4))
    check_mode(mode)
    A = to_numpy(X)
    if mode == 'max':
        Y = A.max(axis=(-2, -1), keepdims=True)
    else:
        Y = A.mean(axis=(-2, -1), keepdims=True, dtype=sum_dtype(A.dtype))
        Y = Y.astype(mean_dtype(A.dtype), copy=False)
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
    A = to_numpy(X)
    dtype = A.dtype  # X's, in native byte order
    check_output_cells(A.shape[:-2] + (out_h, out_w), 'output_size')
    if mode == 'avg':
        A = A.astype(sum_dtype(dtype), copy=False)
    rows, cols = adaptive_bins(A.shape[-2], out_h), adaptive_bins(A.shape[-1], out_w)
    Y = np.empty(A.shape[:-2] + (out_h, out_w), A.dtype)
    if compiled.handles(A, Y):  # float32, float64: compiled (chapter 5), the same sums
        compiled.adaptive(A.reshape((-1,) + A.shape[-2:]), rows, cols, mode,
                          Y.reshape(-1, out_h, out_w))
    else:
        (start_h, end_h), (start_w, end_w) = rows, cols
        Y = pool_bins(pool_bins(A, -2, start_h, end_h, mode), -1, start_w, end_w, mode)
        if mode == 'avg':
            Y = Y / ((end_h - start_h)[:, None] * (end_w - start_w)).astype(Y.dtype)
    if mode == 'avg':
        Y = Y.astype(mean_dtype(dtype), copy=False)
    return like_input(Y, X)
