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

Choices where MXNet gives no answer a reader would want (tested in tests/test_pooling.py):

* NaN propagates: a window holding NaN gives NaN, for max and for average, as numpy's
  `max` and PyTorch do. (MXNet's max skips NaN, and a window of only NaN gives the lowest
  float32.)
* Integers: max keeps the input's dtype; the average of integers is a float64.
* ceil_mode=True rounds the output length up, except that a last window which would start
  in the trailing padding is dropped, as PyTorch and ONNX do (MXNet keeps it and fills it
  with the lowest float32). Cells past the padded input count neither for the max nor in
  the average's divisor, as in MXNet.
"""
import numpy as np
from mxnet import nd

from poolbook._checks import check_pool_args

CHUNK_BYTES = 2**20  # input bytes pooled per step: small enough for the intermediate to stay cached


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
    """How many cells of each window along one axis the average divides by: k when every
    window lies inside the padded input, else one number per output position."""
    if count_include_pad and (out - 1) * s + k <= n + 2 * p:
        return k
    if count_include_pad:  # a ceil-mode window runs past the padded input: count what it covers
        return np.minimum(k, n + 2 * p - np.arange(out) * s)
    count = np.zeros(out, dtype=np.int64)  # cells inside the input itself
    for i0, i1, _ in _taps(n, k, s, p, out):
        count[i0:i1] += 1
    return count


def _pool_axis(A, axis, taps, mode, Y):
    """Max or sum of A over the windows of one axis (-2: rows, -1: columns), into Y.
    `taps` lists, per window offset, the output block it reaches and the cells it reads."""
    combine = np.maximum if mode == 'max' else np.add
    pick = (lambda M, index: M[..., index, :]) if axis == -2 else (lambda M, index: M[..., index])
    rest = list(taps)
    whole = [t for t in taps if t[:2] == (0, Y.shape[axis])]  # offsets that reach every output
    if whole:  # start from a copy of one of them: one pass fewer than filling Y first
        np.copyto(Y, pick(A, whole[0][2]))
        rest.remove(whole[0])
    else:      # start from the neutral value: 0 for a sum, the lowest value for a max
        Y.fill(0 if mode == 'avg' else -np.inf if Y.dtype.kind == 'f' else np.iinfo(Y.dtype).min)
    for i0, i1, cells in rest:
        block = pick(Y, slice(i0, i1))
        combine(block, pick(A, cells), out=block)


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
    taps_h = list(_taps(n_h, k_h, s_h, p_h, out_h))
    taps_w = list(_taps(n_w, k_w, s_w, p_w, out_w))
    maps = A.reshape(-1, n_h, n_w)  # every channel of every image, one after the other
    Y = np.empty((len(maps), out_h, out_w), A.dtype)
    # Pool a few maps at a time, so that the rows-pooled intermediate stays in the cache.
    chunk = max(1, CHUNK_BYTES // (n_h * n_w * A.itemsize))
    rows = np.empty((min(chunk, len(maps)), out_h, n_w), A.dtype)
    for c in range(0, len(maps), chunk):
        R = rows[:len(maps[c:c + chunk])]
        _pool_axis(maps[c:c + chunk], -2, taps_h, mode, R)   # pool the rows ...
        _pool_axis(R, -1, taps_w, mode, Y[c:c + chunk])       # ... then the columns
    if mode == 'avg':
        div_h = _divisor(n_h, k_h, s_h, p_h, out_h, count_include_pad)
        div_w = _divisor(n_w, k_w, s_w, p_w, out_w, count_include_pad)
        Y /= (np.reshape(div_h, (-1, 1)) * np.reshape(div_w, (1, -1))).astype(Y.dtype)
    Y = Y.reshape(A.shape[:-2] + (out_h, out_w))
    return nd.array(Y, ctx=X.context, dtype=Y.dtype) if isinstance(X, nd.NDArray) else Y
