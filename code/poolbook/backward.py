"""The backward pass of pooling from scratch: given dL/dY for Y = pool2d(X, ...), the
gradient dL/dX, for every setting pool2d takes, without a loop over output positions.

Each output cell (i, j) reads the input cells (i * s_h - p_h + a, j * s_w - p_w + b) for
the window offsets (a, b); `window_cells` lists them for one axis. The gradient of each
output cell goes back along those reads, and where windows overlap the shares add up:

* max: all of dY[i, j] goes to the cell holding the window's maximum. With ties it goes
  to the first maximum in row-major order, as MXNet does (tests/test_backward.py checks
  it); a window whose maximum is NaN gives it to its first NaN, the cell behind the NaN.
* avg: every input cell of the window gets dY[i, j] / divisor, the divisor pool2d uses.

Padding cells are not input cells, so they receive nothing.
"""
import numpy as np

from poolbook.checks import check_input, check_pool_args
from poolbook.arrays import like_input, to_numpy
from poolbook.pooling import output_size, pool2d

GATHER_CELLS = 2**22  # window cells gathered per step, a few maps at a time


def window_cells(k, s, p, out):
    """Input position read by window offset a for output i, as a (k, out) array."""
    return np.arange(out) * s - p + np.arange(k)[:, None]


def check_gradient(dY, expected_shape):
    """Refuse an output gradient dY unless it is real numbers in the output's shape."""
    if tuple(dY.shape) != tuple(expected_shape):
        raise ValueError(f"dY must have the shape of the pooled output, "
                         f"{tuple(expected_shape)}, got {tuple(dY.shape)}")
    check_input(dY, ndims=(len(expected_shape),), name='dY')


def in_frame(rows, cols, n_h, n_w, p_h=0, p_w=0):
    """Mask indexed (a, b, map, i, j): does the offset's cell lie in [-p, n + p)?"""
    r = (rows >= -p_h) & (rows < n_h + p_h)
    c = (cols >= -p_w) & (cols < n_w + p_w)
    return r[:, None, None, :, None] & c[None, :, None, None, :]


def max_shares(V, inside, Y):
    """1 at the first offset whose cell holds the window's maximum Y, 0 elsewhere."""
    is_max = inside & ((V == Y) | np.isnan(V))  # NaN only where the maximum is NaN
    k_h, k_w = V.shape[:2]
    first = np.argmax(is_max.reshape((k_h * k_w,) + Y.shape), axis=0)  # row-major order
    return np.arange(k_h * k_w).reshape(k_h, k_w, 1, 1, 1) == first


def avg_shares(inside, counted):
    """1 / divisor at each offset whose cell is an input cell, 0 elsewhere."""
    return inside / counted.sum(axis=(0, 1))


def pool2d_backward(X, dY, pool_size, mode='max', *, strides=1, padding=0,
                    ceil_mode=False, count_include_pad=True):
    """dL/dX for Y = pool2d(X, pool_size, mode, ...), given dY = dL/dY."""
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ceil_mode, count_include_pad)
    A, G = to_numpy(X), to_numpy(dY, name='dY')
    n_h, n_w = A.shape[-2:]
    out_h = output_size(n_h, k_h, s_h, p_h, ceil_mode)
    out_w = output_size(n_w, k_w, s_w, p_w, ceil_mode)
    check_gradient(G, A.shape[:-2] + (out_h, out_w))
    maps, G = A.reshape(-1, n_h, n_w), G.reshape(-1, out_h, out_w)
    chunk = max(1, GATHER_CELLS // (k_h * k_w * out_h * out_w))
    if len(maps) > chunk:  # a few maps at a time, each chunk as below
        kwargs = dict(strides=(s_h, s_w), padding=(p_h, p_w), ceil_mode=ceil_mode,
                      count_include_pad=count_include_pad)
        parts = [pool2d_backward(maps[c:c + chunk], G[c:c + chunk], (k_h, k_w), mode,
                                 **kwargs) for c in range(0, len(maps), chunk)]
        return like_input(np.concatenate(parts).reshape(A.shape), X)
    rows = window_cells(k_h, s_h, p_h, out_h)
    cols = window_cells(k_w, s_w, p_w, out_w)
    inside = in_frame(rows, cols, n_h, n_w)  # input cells; padding gets no gradient
    # Index (a, b, map, i, j): offset (a, b) of the window of output (i, j) of one map.
    r = np.clip(rows, 0, n_h - 1)[:, None, None, :, None]
    c = np.clip(cols, 0, n_w - 1)[None, :, None, None, :]
    m = np.arange(len(maps))[None, None, :, None, None]
    if mode == 'max':
        Y = pool2d(maps, (k_h, k_w), 'max', strides=(s_h, s_w), padding=(p_h, p_w),
                   ceil_mode=ceil_mode)
        shares = max_shares(maps[m, r, c], inside, Y)
    else:
        frame = in_frame(rows, cols, n_h, n_w, p_h, p_w)  # input and padding cells
        shares = avg_shares(inside, frame if count_include_pad else inside)
    dtype = G.dtype if G.dtype.kind == 'f' else np.dtype(np.float64)
    dX = np.zeros(maps.shape, dtype)
    np.add.at(dX, (m, r, c), (shares * G).astype(dtype))  # overlapping windows add up
    return like_input(dX.reshape(A.shape), X)
