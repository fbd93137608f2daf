"""The backward pass of pooling from scratch: given dL/dY for Y = pool2d(X, ...), the
gradient dL/dX, for max and average pooling with every window, stride, padding,
ceil-mode and count_include_pad setting, without a loop over output positions.

Each output cell (i, j) reads the input cells (i * s_h - p_h + a, j * s_w - p_w + b) for
the window offsets (a, b). The gradient of each output cell goes back along those reads,
and where windows overlap the shares add up:

* max: all of dY[i, j] goes to the cell holding the window's maximum. With ties it goes
  to the first maximum in row-major order, as MXNet does (tests/test_backward.py checks
  it); a window whose maximum is NaN gives it to its first NaN, the cell behind the NaN.
* avg: every input cell of the window gets dY[i, j] / divisor, the divisor pool2d uses.

dL/dX comes back in the float dtype numpy gives X and dY together (float64 for two
integer dtypes), as corr2d's result does, and is added up in at least float32
(`arrays.sum_dtype`): a float16 dY whose shares overlap neither overflows nor loses
digits on the way. Each average share dY[i, j] / divisor is computed in float64 and
each sum kept in the working dtype (every addition rounded to it), as the compiled
kernels do: with the same float32 or float64 dY, a uint8 X gets the same numbers as a
float32 X of the same values (tests/test_backward.py checks it).

Padding cells are not input cells, so they receive nothing. The loops run over the
window offsets that read input cells (or, when the window is larger than the input, over
the input cells), each step a whole block of outputs at once, for a few maps at a time
(`pooling.CHUNK_BYTES` of sums or of float64 shares, whichever is larger): besides X, dY
and dX, memory is a chunk's, and so is every dtype conversion of dY for integer and
float16 maps and of the sums of a float16 dX (float32 and float64 maps convert a dY of
another dtype whole, for the kernel). For float32 and float64 maps in C order,
`pool2d_backward` hands the work to the compiled kernels of poolbook.kernels (chapter
5), which give the same numbers to the bit: the same first maximum, the same shares
added in the same order.
"""
import numpy as np

# pool2d_backward calls the compiled kernel by the name chapter 5 gives it.
from poolbook import kernels as compiled
from poolbook.arrays import check_kind, like_input, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import check_input, check_pool_args
from poolbook.geometry import axis_taps, cell_taps, divisor, output_size
from poolbook.pooling import CHUNK_BYTES, check_layout


def axis_steps(n, k, s, p, out):
    """The reads along one axis as steps (i0, i1, cells, shared), offsets in order."""
    # Per window offset: outputs [i0, i1) read the strided slice `cells`, one cell each.
    # A window larger than the input has more offsets than the input has cells: then
    # per input cell, which outputs [i0, i1) share. Either way each output meets its
    # offsets in increasing order, as the maximum's tie rule needs.
    if k > n:
        return [(i0, i1, cells, True) for i0, i1, cells in cell_taps(n, k, s, p, out)]
    return [(i0, i1, cells, False) for i0, i1, cells in axis_taps(n, k, s, p, out)]


def steps(rows, cols):
    """Pairs of row and column steps: output block, input cells, axes outputs share."""
    for i0, i1, r, shared_r in rows:
        for j0, j1, c, shared_c in cols:
            shared = (1,) * shared_r + (2,) * shared_c
            block = (slice(None), slice(i0, i1), slice(j0, j1))  # all maps at once
            yield block, (slice(None), r, c), shared


def add_back(dX, cells, shares, shared):
    """Add each output's share to the input cell it read; shared cells sum them up."""
    dX[cells] += shares.sum(axis=shared, keepdims=True) if shared else shares


def window_max(maps, rows, cols, out_shape):
    """The maximum of every window (NaN if it holds one), from the same steps."""
    Y = np.full(out_shape, -np.inf if maps.dtype.kind == 'f'
                else np.iinfo(maps.dtype).min, maps.dtype)
    for block, cells, _ in steps(rows, cols):
        np.maximum(Y[block], maps[cells], out=Y[block])  # np.maximum keeps NaN
    return Y


def max_backward(maps, G, rows, cols, dX):
    """Send each dY[i, j] to the first cell, in row-major order, holding the maximum."""
    Y = window_max(maps, rows, cols, G.shape)
    taken = np.zeros(G.shape, bool)  # has output (i, j) found its maximum yet?
    for block, cells, shared in steps(rows, cols):
        V = maps[cells]
        hit = ~taken[block] & ((V == Y[block]) | np.isnan(V))  # NaN only if Y is NaN
        taken[block] |= hit
        add_back(dX, cells, np.where(hit, G[block], 0), shared)


def avg_backward(share, rows, cols, dX):
    """Give every input cell of each window that window's share dY[i, j] / divisor."""
    for block, cells, shared in steps(rows, cols):
        add_back(dX, cells, share[block], shared)


def check_gradient(dY, expected_shape):
    """Refuse an output gradient dY unless it is real numbers in the output's shape."""
    check_kind(dY, 'dY')
    if tuple(dY.shape) != tuple(expected_shape):
        raise ValueError(f"dY must have the shape of the pooled output, "
                         f"{tuple(expected_shape)}, got {tuple(dY.shape)}")
    check_input(dY, ndims=(len(expected_shape),), name='dY')


def pool2d_backward(X, dY, pool_size, mode='max', *, strides=1, padding=0,
                    ceil_mode=False, count_include_pad=True, layout='NCHW'):
    """dL/dX for Y = pool2d(X, pool_size, mode, ...), given dY = dL/dY."""
    if check_layout(layout) == 'NHWC':  # channels last: through a channels-first copy
        return backward_channels_last(X, dY, pool_size, mode, strides=strides,
                                      padding=padding, ceil_mode=ceil_mode,
                                      count_include_pad=count_include_pad)
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ceil_mode, count_include_pad)
    A, G = to_numpy(X), to_numpy(dY, name='dY')
    n_h, n_w = A.shape[-2:]
    out_h = output_size(n_h, k_h, s_h, p_h, ceil_mode)
    out_w = output_size(n_w, k_w, s_w, p_w, ceil_mode)
    check_gradient(G, A.shape[:-2] + (out_h, out_w))
    dtype = mean_dtype(np.result_type(A.dtype, G.dtype))  # corr2d's rule
    work = sum_dtype(dtype)  # the shares add up in at least float32
    maps, G = A.reshape(-1, n_h, n_w), G.reshape(-1, out_h, out_w)
    if maps.dtype == work:  # maps in the working dtype: G in it too, whole, as the
        G = G.astype(work, copy=False)  # kernel needs (other maps: a chunk at a time)
    rows = axis_steps(n_h, k_h, s_h, p_h, out_h)
    cols = axis_steps(n_w, k_w, s_w, p_w, out_w)
    if mode != 'max':  # in float64: exact for every count, and the shares are float64
        div_h = divisor(n_h, k_h, s_h, p_h, out_h, count_include_pad)
        div_w = divisor(n_w, k_w, s_w, p_w, out_w, count_include_pad)
        div = (np.reshape(np.asarray(div_h, np.float64), (-1, 1))
               * np.reshape(div_w, (1, -1)))
    if compiled.handles(maps, G, (k_h, k_w)):  # float32, float64: chapter 5's compiled
        # kernel, which writes every cell (np.empty: no zero pages to fault in)
        dX = np.empty(maps.shape, work)
        compiled.backward(maps, G, (k_h, k_w), (s_h, s_w), (p_h, p_w), mode,
                          None if mode == 'max' else div, dX)
        return like_input(dX.reshape(A.shape), X)
    # The numpy steps, a few maps at a time: every temporary is a chunk's, and so is
    # every conversion (of G unless converted above, of the sums of a float16 dX). A
    # chunk holds CHUNK_BYTES of sums or of float64 shares, whichever is larger.
    in_place = dtype == work  # the sums add up in dX itself, which starts at 0
    dX = (np.zeros if in_place else np.empty)(maps.shape, dtype)
    chunk = max(1, CHUNK_BYTES // max(n_h * n_w * work.itemsize, out_h * out_w * 8))
    for c in range(0, len(maps), chunk):
        part = slice(c, c + chunk)
        sums = dX[part] if in_place else np.zeros(dX[part].shape, work)
        G_part = G[part].astype(work, copy=False)
        if mode == 'max':
            max_backward(maps[part], G_part, rows, cols, sums)
        else:  # each share dY / divisor in float64, as the compiled kernel computes it
            avg_backward(G_part / div, rows, cols, sums)
        if not in_place:
            dX[part] = sums  # rounded once, to dtype
    return like_input(dX.reshape(A.shape), X)


def backward_channels_last(X, dY, pool_size, mode='max', *, strides=1, padding=0,
                           ceil_mode=False, count_include_pad=True):
    """pool2d_backward of channels-last X and dY: pool2d_backward(..., layout='NHWC').

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        (H, W, C) or (N, H, W, C).
    dY : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        dL/dY, (out_h, out_w, C) or (N, out_h, out_w, C).
    pool_size : int or pair of int
        As for `pool2d_backward`.
    mode, strides, padding, ceil_mode, count_include_pad : optional
        As for `pool2d_backward`, with its defaults ('max', 1, 0, False, True).

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        dL/dX, X's shape, channels last, in C order.

    Notes
    -----
    The gradient is computed channels first, on copies of X and dY with the channels
    moved before the rows (the compiled kernel for float32 and float64), and copied back:
    the same numbers as pool2d_backward of the channels-first arrays.
    """
    check_input(X, ndims=(3, 4))
    A, G = to_numpy(X), to_numpy(dY, name='dY')
    first = np.moveaxis(A, -1, -3)  # a view: (..., C, H, W)
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        first, pool_size, mode, strides, padding, ceil_mode, count_include_pad)
    out_h = output_size(A.shape[-3], k_h, s_h, p_h, ceil_mode)
    out_w = output_size(A.shape[-2], k_w, s_w, p_w, ceil_mode)
    check_gradient(G, A.shape[:-3] + (out_h, out_w, A.shape[-1]))
    dX = pool2d_backward(np.ascontiguousarray(first),
                         np.ascontiguousarray(np.moveaxis(G, -1, -3)), pool_size, mode,
                         strides=strides, padding=padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)
    return like_input(np.ascontiguousarray(np.moveaxis(dX, -3, -1)), X)
