"""The book's general pooling function: any batch of images, windows, strides, padding,
both modes, and MXNet's rounding conventions, in a few large numpy operations.

How it works (chapters 2 and 5 walk through it):

* A rectangular maximum (or sum) is separable: the maximum over a p_h x p_w window is the
  maximum over p_w columns of the maxima over p_h rows. So we pool the rows first, then
  the columns, and each pass is a loop over the window's offsets, not over output cells.
* Padding is never materialized. For offset `a` of the window, output row i reads input
  row i * s - p + a; the rows where that falls inside the input form one contiguous block,
  read with a single strided slice. Rows that fall into the padding are simply not read,
  which is exactly "padding never wins a max" and "padding adds zero to a sum".
"""
import numpy as np
from mxnet import nd

from poolbook._checks import check_pool_args


def output_size(n, k, s, p, ceil_mode=False):
    """Output length along one axis: floor((n + 2p - k) / s) + 1, or with ceiling."""
    span = n + 2 * p - k
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + p:  # the last window would start in the trailing padding: drop it
        out -= 1
    return out


def _taps(n, k, s, p, out):
    """For each window offset a along one axis: the block [i0, i1) of output positions
    whose cell a lies inside the input, and the strided input slice those cells are."""
    for a in range(k):
        i0 = max(0, -(-(p - a) // s))          # first i with i * s - p + a >= 0
        i1 = min(out, (n - 1 + p - a) // s + 1)  # one past the last i with i * s - p + a <= n - 1
        if i1 > i0:
            start = i0 * s - p + a
            yield i0, i1, slice(start, start + (i1 - i0 - 1) * s + 1, s)


def _divisor(n, k, s, p, out, count_include_pad):
    """Per output position along one axis: how many cells of the window the average counts."""
    i = np.arange(out)
    if count_include_pad:  # cells inside the padded input (fewer only for a ceil-mode window)
        return np.minimum(k, n + 2 * p - i * s)
    count = np.zeros(out, dtype=np.int64)  # cells inside the input itself
    for i0, i1, _ in _taps(n, k, s, p, out):
        count[i0:i1] += 1
    return count


def _pool_axis(A, axis, k, s, p, out, mode):
    """Max or sum over windows of length k along `axis` (-2 rows, -1 columns) of A."""
    n = A.shape[axis]
    shape = list(A.shape)
    shape[axis] = out
    if mode == 'max':
        lowest = -np.inf if A.dtype.kind == 'f' else np.iinfo(A.dtype).min
        Y, combine = np.full(shape, lowest, A.dtype), np.maximum
    else:
        Y, combine = np.zeros(shape, A.dtype), np.add
    for i0, i1, rows in _taps(n, k, s, p, out):
        if axis == -2:
            block = Y[..., i0:i1, :]
            combine(block, A[..., rows, :], out=block)
        else:
            block = Y[..., i0:i1]
            combine(block, A[..., rows], out=block)
    return Y


def pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
           count_include_pad=True):
    """Max or average pooling of X, shaped (H, W), (C, H, W) or (N, C, H, W)."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ceil_mode, count_include_pad)
    A = X.asnumpy() if isinstance(X, nd.NDArray) else X
    if mode == 'avg' and A.dtype.kind != 'f':
        A = A.astype(np.float64)  # the average of integers is not an integer
    n_h, n_w = A.shape[-2:]
    out_h = output_size(n_h, k_h, s_h, p_h, ceil_mode)
    out_w = output_size(n_w, k_w, s_w, p_w, ceil_mode)
    Y = _pool_axis(A, -2, k_h, s_h, p_h, out_h, mode)   # pool the rows ...
    Y = _pool_axis(Y, -1, k_w, s_w, p_w, out_w, mode)   # ... then the columns
    if mode == 'avg':
        div_h = _divisor(n_h, k_h, s_h, p_h, out_h, count_include_pad)
        div_w = _divisor(n_w, k_w, s_w, p_w, out_w, count_include_pad)
        Y /= np.outer(div_h, div_w).astype(Y.dtype)
    return nd.array(Y, ctx=X.context, dtype=Y.dtype) if isinstance(X, nd.NDArray) else Y
