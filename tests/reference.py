"""What the unit tests compare poolbook with: independent computations of pooling.

* `mxnet_pool2d`: MXNet's own operator, `mx.nd.Pooling`;
* `torch_pool2d`: PyTorch's operators (`torch.nn.functional`);
* `plain_pool2d`: a plain numpy computation over numpy's `sliding_window_view` of the
  padded input, every window's cells taken as they are;
* `window_starts`, `kept_windows`: the windows along one axis, counted one at a time;
* `mxnet_pool2d_backward`: dL/dX by MXNet's autograd through `mx.nd.Pooling`.

The three pooling references take `poolbook.pool2d`'s signature and return a numpy array
shaped like pool2d's result, (..., out_h, out_w). None of them uses poolbook: they count
windows with `kept_windows`, never with poolbook.geometry.

Where the frameworks differ from pool2d (the README and chapter 2 say why):

* Ceil mode. MXNet (pooling_convention='full') keeps a last window that starts in the
  trailing padding or beyond the input, and fills it with the lowest finite value of the
  dtype (max) or 0 (sum, lp); pool2d, PyTorch and ONNX drop it. `mxnet_pool2d` returns
  MXNet's output cut to the windows pool2d keeps, or all of it with `keep_extra=True`.
* NaN. MXNet's max skips NaN; pool2d, PyTorch and numpy propagate it. Compare NaN cases
  with `torch_pool2d` or `plain_pool2d`.
* Padding. PyTorch refuses padding above half the window (`torch_accepts` says when it
  takes the arguments); MXNet and the plain computation take any padding below the window.
* 'lp' is MXNet's (sum of x**p) ** (1/p), the real root for p = 3, without an absolute
  value. PyTorch's `lp_pool2d` has no padding and no sign, so `torch_pool2d` takes the sum
  of x**p from `avg_pool2d(..., divisor_override=1)` and the root with the sign kept.
* dtypes. MXNet and PyTorch pool integers for max only (PyTorch) or not at all (MXNet):
  both references pool integer inputs in float64, exact below 2**53, and give float64 for
  every mode but 'max' on PyTorch. `plain_pool2d` keeps X's dtype for 'max' and 'min' and
  gives float64 otherwise (exact sums of integers, in Python integers).

Importing mxnet sets PyTorch's thread count to 1 (they share the OpenMP runtime); the
references are for small inputs.
"""
import mxnet as mx
import numpy as np
import torch
import torch.nn.functional as F
from mxnet import autograd, nd


def pair(value):
    """An int or a pair as an (h, w) tuple of ints."""
    return tuple(int(v) for v in value) if isinstance(value, (tuple, list)) else \
        (int(value), int(value))


def as_numpy(X):
    """X (numpy array, NDArray or mx.np.ndarray) as a numpy array."""
    return X.asnumpy() if isinstance(X, (nd.NDArray, mx.np.ndarray)) else np.asarray(X)


def maps_of(A):
    """A (..., H, W) as (m, 1, H, W), one channel per map, as the frameworks take it."""
    return A.reshape((-1, 1) + A.shape[-2:])


# ----------------------------------------------------------------------------------------
# The windows along one axis, one at a time.

def window_starts(n, k, s, p, ceil_mode):
    """Start positions, in the input padded by p on each side, of the windows along one
    axis, listed one window at a time (no formula). Floor mode: every window that fits
    inside the padded input. Ceil mode (MXNet's 'full'): windows are added until one
    reaches the last padded cell, even if it runs past it."""
    padded, starts, start = n + 2 * p, [], 0
    while start + k <= padded or (ceil_mode and (not starts or starts[-1] + k < padded)):
        starts.append(start)
        start += s
    return starts


def kept_windows(n, k, s, p, ceil_mode):
    """The output length pool2d, PyTorch and ONNX give along one axis: the windows above,
    minus any that starts in the trailing padding (positions n + p and later) or beyond."""
    return sum(1 for start in window_starts(n, k, s, p, ceil_mode) if start < n + p)


def kept_shape(shape, pool_size, strides, padding, ceil_mode):
    """The shape of pool2d's result for an input of `shape`, counted window by window."""
    return tuple(shape[:-2]) + tuple(
        kept_windows(n, k, s, p, ceil_mode)
        for n, k, s, p in zip(shape[-2:], pair(pool_size), pair(strides), pair(padding)))


# ----------------------------------------------------------------------------------------
# MXNet.

def mxnet_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, p_value=None, keep_extra=False):
    """Pooling by `mx.nd.Pooling`, in X's float dtype (integers in float64).

    Parameters
    ----------
    X : numpy array, mx.nd.NDArray or mx.np.ndarray, shape (..., H, W)
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value
        As for `poolbook.pool2d`.
    keep_extra : bool, default False
        Keep MXNet's extra ceil-mode windows (see the module docstring).

    Returns
    -------
    numpy.ndarray
        Shape (..., out_h, out_w).
    """
    A = as_numpy(X)
    dtype = A.dtype if A.dtype.kind == 'f' else np.dtype(np.float64)
    extra = dict(p_value=p_value) if mode == 'lp' else {}
    Y = nd.Pooling(nd.array(maps_of(A), dtype=dtype), kernel=pair(pool_size),
                   stride=pair(strides), pad=pair(padding), pool_type=mode,
                   pooling_convention='full' if ceil_mode else 'valid',
                   count_include_pad=count_include_pad, **extra).asnumpy()
    if not keep_extra:
        out_h, out_w = kept_shape(A.shape, pool_size, strides, padding, ceil_mode)[-2:]
        Y = Y[:, :, :out_h, :out_w]
    return Y.reshape(A.shape[:-2] + Y.shape[-2:])


def mxnet_pool2d_backward(X, dY, pool_size, mode='max', *, strides=1, padding=0,
                          ceil_mode=False, count_include_pad=True, dtype=np.float64):
    """dL/dX by MXNet's autograd through `mx.nd.Pooling`, in `dtype` (float64: MXNet's
    own kernel; float32: oneDNN's), for pool2d_backward's arguments. dY is pool2d's
    output gradient; MXNet's extra ceil-mode windows, which hold no input cell, get 0."""
    A, G = as_numpy(X), as_numpy(dY)
    M = nd.array(maps_of(A), dtype=dtype)
    M.attach_grad()
    with autograd.record():
        Y = nd.Pooling(M, kernel=pair(pool_size), stride=pair(strides), pad=pair(padding),
                       pool_type=mode, pooling_convention='full' if ceil_mode else 'valid',
                       count_include_pad=count_include_pad)
    full = np.zeros(Y.shape, dtype)
    full[:, :, :G.shape[-2], :G.shape[-1]] = maps_of(G)
    Y.backward(nd.array(full, dtype=dtype))
    return M.grad.asnumpy().reshape(A.shape)


# ----------------------------------------------------------------------------------------
# PyTorch.

def torch_accepts(pool_size, padding):
    """True when PyTorch's pooling takes this padding: at most half the window."""
    return all(2 * p <= k for k, p in zip(pair(pool_size), pair(padding)))


def torch_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, p_value=None):
    """Pooling by PyTorch's `max_pool2d` and `avg_pool2d` (see the module docstring for
    'sum' and 'lp'), in X's float dtype; integers: max in X's dtype, the rest in float64.

    Parameters
    ----------
    X : numpy array, mx.nd.NDArray or mx.np.ndarray, shape (..., H, W)
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value
        As for `poolbook.pool2d`; padding at most half the window (`torch_accepts`).

    Returns
    -------
    numpy.ndarray
        Shape (..., out_h, out_w).
    """
    A = as_numpy(X)
    if A.dtype.kind != 'f' and mode != 'max':
        A = A.astype(np.float64)
    T = torch.from_numpy(np.ascontiguousarray(maps_of(A)))
    geometry = dict(kernel_size=pair(pool_size), stride=pair(strides),
                    padding=pair(padding), ceil_mode=ceil_mode)
    if mode == 'max':
        Y = F.max_pool2d(T, **geometry)
    elif mode == 'avg':
        Y = F.avg_pool2d(T, count_include_pad=count_include_pad, **geometry)
    else:
        power = 1 if mode == 'sum' else p_value
        Y = F.avg_pool2d(T ** power, divisor_override=1, **geometry)
        if power > 1:
            Y = torch.sign(Y) * Y.abs() ** (1 / power)
    Y = Y.numpy()
    return Y.reshape(A.shape[:-2] + Y.shape[-2:])


# ----------------------------------------------------------------------------------------
# A plain computation over every window.

def padded_windows(A, pool_size, *, strides=1, padding=0, ceil_mode=False):
    """Every window pool2d keeps, cut from numpy's sliding_window_view of the padded
    numpy array A (long enough for a ceil-mode window running past it), as three arrays
    of shape (..., out_h, out_w, k_h, k_w): the cells (0 in the padding; integers as
    Python ints), whether each is an input cell, and whether it is in the padded input."""
    (k_h, k_w), (p_h, p_w) = pair(pool_size), pair(padding)
    starts = [window_starts(n, k, s, p, ceil_mode)[:kept_windows(n, k, s, p, ceil_mode)]
              for n, k, s, p in zip(A.shape[-2:], (k_h, k_w), pair(strides), (p_h, p_w))]
    padded = [n + 2 * p for n, p in zip(A.shape[-2:], (p_h, p_w))]
    size = [max(m, st[-1] + k) for m, st, k in zip(padded, starts, (k_h, k_w))]
    values = np.zeros(A.shape[:-2] + tuple(size), A.dtype if A.dtype.kind == 'f'
                      else object)  # Python integers: exact sums
    values[..., p_h:p_h + A.shape[-2], p_w:p_w + A.shape[-1]] = A
    inside = np.zeros(size, bool)
    inside[p_h:p_h + A.shape[-2], p_w:p_w + A.shape[-1]] = True
    in_padded = np.zeros(size, bool)
    in_padded[:padded[0], :padded[1]] = True

    def windows(M):
        view = np.lib.stride_tricks.sliding_window_view(M, (k_h, k_w), axis=(-2, -1))
        return view[..., starts[0], :, :, :][..., starts[1], :, :]

    return windows(values), windows(inside), windows(in_padded)


def plain_pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
                 count_include_pad=True, p_value=None):
    """Pooling of every window taken as it is (`padded_windows`): max (or 'min') over the
    window's input cells in X's dtype, NaN if one of them is NaN; the average, sum and Lp
    in float64 (integers summed exactly, as Python integers).

    Parameters
    ----------
    X : numpy array, mx.nd.NDArray or mx.np.ndarray, shape (..., H, W)
    pool_size, mode, strides, padding, ceil_mode, count_include_pad, p_value
        As for `poolbook.pool2d`; mode may also be 'min'. The average divides by the
        window's cells inside the padded input (count_include_pad) or inside X.

    Returns
    -------
    numpy.ndarray
        Shape (..., out_h, out_w).
    """
    A = as_numpy(X)
    cells, inside, in_padded = padded_windows(A, pool_size, strides=strides,
                                              padding=padding, ceil_mode=ceil_mode)
    if mode in ('max', 'min'):
        info = np.finfo(A.dtype) if A.dtype.kind == 'f' else np.iinfo(A.dtype)
        far = (np.inf if mode == 'min' else -np.inf) if A.dtype.kind == 'f' else \
            (info.max if mode == 'min' else info.min)
        picked = np.where(inside, cells, far).astype(A.dtype)
        return (np.min if mode == 'min' else np.max)(picked, axis=(-2, -1))  # keep NaN
    power = 1 if mode in ('avg', 'sum') else p_value
    terms = np.where(inside, cells, 0)
    total = ((terms.astype(np.float64) if A.dtype.kind == 'f' else terms) ** power).sum(
        axis=(-2, -1))
    if mode == 'avg':
        count = (in_padded if count_include_pad else inside).sum(axis=(-2, -1))
        return np.vectorize(lambda t, c: t / c, otypes=[np.float64])(total, count)
    total = total.astype(np.float64)
    return total if power == 1 else np.sign(total) * np.abs(total) ** (1 / power)


def plain_divisors(hw, pool_size, *, strides=1, padding=0, ceil_mode=False,
                   count_include_pad=True):
    """What the average of each window divides by: its cells inside the padded input,
    or inside the input itself, counted from `padded_windows`."""
    _, inside, in_padded = padded_windows(np.zeros(hw), pool_size, strides=strides,
                                          padding=padding, ceil_mode=ceil_mode)
    return (in_padded if count_include_pad else inside).sum(axis=(-2, -1))
