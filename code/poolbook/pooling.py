"""The book's general pooling function: any batch of images, windows, strides, padding,
both modes, and MXNet's rounding conventions, in a few large numpy operations.

How it works (chapters 2 and 5 walk through it):

* A rectangular maximum (or sum) is separable: the maximum over a k_h x k_w window is the
  maximum over k_w columns of the maxima over k_h rows. So we pool the rows first, then
  the columns, and each pass is a loop over the window's offsets, not over output cells
  (only the offsets that read some input cell: a huge window over a tiny input costs little).
* Padding is never materialized. For offset `a` of the window, output row i reads input
  row i * s - p + a; the rows where that falls inside the input form one contiguous block,
  read with a single strided slice. Rows that fall into the padding are simply not read,
  which is exactly "padding never wins a max" and "padding adds zero to a sum".

Choices where MXNet gives no answer a reader would want (tested in tests/test_pooling.py,
tests/test_pooling_modes.py and tests/test_robustness.py):

* NaN propagates: a window holding NaN gives NaN, for max and for average, as numpy's
  `max` and PyTorch do. (MXNet's max skips NaN, and a window of only NaN gives the lowest
  float32.)
* Integers: max keeps the input's dtype; the average, sum and Lp pooling of integers are
  float64.
* MXNet's other two modes (chapter 6): 'sum', and 'lp', (sum of x**p) ** (1/p) for
  p_value 1, 2 or 3, with no absolute value, as MXNet computes it (not the Lp norm).
* float16: the average, sum and Lp pooling add in float32 (as MXNet does) and come back
  as float16.
* Any dtype conversion is done a chunk of maps at a time, never for the whole input.
* Ties: a maximum is the window's first maximum in row-major order, as in MXNet and
  PyTorch. Tied values are equal, so only a zero can show the difference: a window
  whose maximum is 0 holding both +0.0 and -0.0 gives the sign of its first zero
  (`first_zero_signs`; the passes over rows and columns, and numpy's SIMD loops, may
  meet the zeros in another order). Sums add the cells as they are, so an average of
  -0.0s alone is -0.0 (MXNet and PyTorch, whose sums start from +0.0, give +0.0).
* ceil_mode=True rounds the output length up, except that a last window which would start
  in the trailing padding is dropped, as PyTorch and ONNX do (MXNet keeps it and fills it
  with the lowest float32). Cells past the padded input count neither for the max nor in
  the average's divisor, as in MXNet.
"""
import numpy as np

# pool2d, shown in chapter 5, calls the compiled kernel by the name chapter 5 gives it.
from poolbook import kernels as compiled
from poolbook.arrays import like_input, map_chunks, mean_dtype, sum_dtype, to_numpy
from poolbook.checks import check_input, check_output_cells, check_pool_args, is_int
# The window arithmetic lives in poolbook.geometry; chapters 2, 5 and 6 import (and show)
# these from here.
from poolbook.geometry import axis_taps, divisor, output_size, window_offsets  # noqa: F401
from poolbook.geometry import divisors

CHUNK_BYTES = 2**20  # input bytes pooled per step: small enough for the intermediate to stay cached
POOL2D_MODES = ('max', 'avg', 'sum', 'lp')  # pool2d also has MXNet's other two modes
P_VALUES = (1, 2, 3)  # the p_value MXNet's 'lp' pooling accepts
LAYOUTS = ('NCHW', 'NHWC')  # channels before the map's rows and columns, or after them


def check_layout(layout):
    """Return layout if it is 'NCHW' or 'NHWC' (MXNet's names), else refuse it.

    Parameters
    ----------
    layout : object
        pool2d's or pool2d_backward's layout.

    Raises
    ------
    TypeError
        For anything but a str.
    ValueError
        For another str.
    """
    if not isinstance(layout, str):
        raise TypeError(f"layout must be a str, 'NCHW' or 'NHWC', got {layout!r} of type "
                        f"{type(layout).__name__}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'NCHW' (channels first) or 'NHWC' (channels "
                         f"last), got {layout!r}")
    return layout


def check_p_value(p_value, mode):
    """Refuse a p_value unless mode is 'lp' and p_value is 1, 2 or 3 (as in MXNet).

    Parameters
    ----------
    p_value : object
        pool2d's p_value: None unless mode is 'lp'.
    mode : str
        pool2d's mode, already checked.

    Raises
    ------
    TypeError
        For a p_value that is not an int.
    ValueError
        For a p_value without mode 'lp', or none with it, or one MXNet does not take.
    """
    if mode != 'lp':
        if p_value is not None:
            raise ValueError(f"p_value is only used with mode='lp', got p_value="
                             f"{p_value!r} with mode={mode!r}")
    elif p_value is None:
        raise ValueError("mode='lp' needs p_value, 1, 2 or 3, got None")
    elif not is_int(p_value):
        raise TypeError(f"p_value must be an int, 1, 2 or 3, got {p_value!r} "
                        f"of type {type(p_value).__name__}")
    elif p_value not in P_VALUES:
        raise ValueError(f"p_value must be 1, 2 or 3 (what MXNet's 'lp' pooling takes), "
                         f"got {p_value!r}")


def pool_axis(A, axis, taps, mode, Y):
    """Max or sum of A over the windows of one axis (-2: rows, -1: columns), into Y.
    `taps` lists, per window offset, the output block it reaches and the cells it
    reads."""
    combine = np.maximum if mode == 'max' else np.add
    pick = ((lambda M, index: M[..., index, :]) if axis == -2
            else (lambda M, index: M[..., index]))
    rest = list(taps)
    # Offsets that reach every output:
    whole = [t for t in taps if t[:2] == (0, Y.shape[axis])]
    if whole:  # start from a copy of one of them: one pass fewer than filling Y first
        np.copyto(Y, pick(A, whole[0][2]))
        rest.remove(whole[0])
    else:      # start from the neutral value: 0 for a sum, the lowest value for a max
        Y.fill(0 if mode != 'max' else -np.inf if Y.dtype.kind == 'f'
               else np.iinfo(Y.dtype).min)
    for i0, i1, cells in rest:
        block = pick(Y, slice(i0, i1))
        combine(block, pick(A, cells), out=block)


def pool_numpy(M, taps_h, taps_w, out_hw, mode='max'):
    """Max (or sum) of the maps M (m, H, W) over the windows of `taps_h` and `taps_w`.

    Parameters
    ----------
    M : numpy.ndarray
        The maps, (m, H, W).
    taps_h, taps_w : list
        Each axis' taps, as `geometry.axis_taps` lists them.
    out_hw : tuple of int
        The output's (out_h, out_w).
    mode : {'max', 'sum'}, default 'max'

    Returns
    -------
    numpy.ndarray
        (m, out_h, out_w), of M's dtype: pool_axis over the rows, then the columns.
    """
    R = np.empty((len(M), out_hw[0], M.shape[-1]), M.dtype)
    Y = np.empty((len(M),) + tuple(out_hw), M.dtype)
    pool_axis(M, -2, taps_h, mode, R)
    pool_axis(R, -1, taps_w, mode, Y)
    return Y


def first_zero_signs(M, Z, pool_ints):
    """Give each zero of Z, M's maximum pooling, the sign of its window's first zero.

    The first in row-major order: MXNet's and PyTorch's first maximum.

    Parameters
    ----------
    M : numpy.ndarray
        The pooled maps, (m, H, W).
    Z : numpy.ndarray
        Their maxima, (m, out_h, out_w), changed in place.
    pool_ints : callable
        pool_ints(P) is the maximum pooling of an int64 array P shaped like M over the
        same windows, shaped like Z.

    Notes
    -----
    Values that tie are equal, except +0.0 and -0.0; so this is all the first-maximum
    rule asks beyond `np.maximum` (whose choice between equal values depends on the
    CPU's SIMD loops). It costs a test of Z for zeros, and of M for -0.0 (one
    comparison per cell) when Z holds one: Z first, because it is the smaller (an
    adaptive or global maximum reads M once more otherwise, on one thread).
    """
    if M.dtype.kind != 'f' or Z.all():
        return  # integers have one zero; no zero maximum: every sign is right already
    bits = np.dtype(f'u{M.dtype.itemsize}')  # -0.0 is the sign bit alone:
    if not (M.view(bits) == bits.type(1 << (8 * M.dtype.itemsize - 1))).any():
        return  # no -0.0 in the maps: every zero maximum is +0.0, as it should be
    n_h, n_w = M.shape[-2:]
    # Each zero ranks by minus its index row * W + col, every other cell below them all:
    # the maximum rank of a window is its first zero.
    index = np.arange(n_h * n_w, dtype=np.int64).reshape(n_h, n_w)
    first = -pool_ints(np.where(M == 0, -index, -n_h * n_w))
    zero = Z == 0
    cells = np.take_along_axis(M.reshape(len(M), -1),
                               np.minimum(first, n_h * n_w - 1).reshape(len(M), -1), 1)
    Z[zero] = np.copysign(Z.dtype.type(0), cells.reshape(Z.shape)[zero])


def pool2d(X, pool_size, mode='max', *, strides=1, padding=0, ceil_mode=False,
           count_include_pad=True, p_value=None, layout='NCHW'):
    """Max, average, sum or Lp pooling of X: (H, W), (C, H, W) or (N, C, H, W)."""
    if check_layout(layout) == 'NHWC':  # (H, W, C) or (N, H, W, C): its own kernel
        return pool2d_channels_last(
            X, pool_size, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
            count_include_pad=count_include_pad, p_value=p_value)
    (k_h, k_w), (s_h, s_w), (p_h, p_w) = check_pool_args(
        X, pool_size, mode, strides, padding, ceil_mode, count_include_pad,
        modes=POOL2D_MODES)
    check_p_value(p_value, mode)
    n_h, n_w = X.shape[-2:]
    out_h = output_size(n_h, k_h, s_h, p_h, ceil_mode)
    out_w = output_size(n_w, k_w, s_w, p_w, ceil_mode)
    check_output_cells(tuple(X.shape[:-2]) + (out_h, out_w))
    # A sum needs at least float32 (float16 overflows at 65504), float64 for integers.
    dtype = np.dtype(X.dtype).newbyteorder('=')
    work = dtype if mode == 'max' else sum_dtype(dtype)
    Y = np.empty(tuple(X.shape[:-2]) + (out_h, out_w),
                 dtype if mode == 'max' else mean_dtype(dtype))
    taps_h = list(axis_taps(n_h, k_h, s_h, p_h, out_h))
    taps_w = list(axis_taps(n_w, k_w, s_w, p_w, out_w))
    (_, maps), Y_maps = map_chunks(X), Y.reshape(-1, out_h, out_w)  # (m, H, W) each
    # Pool a few maps at a time, so that the rows-pooled intermediate stays in the cache
    # (and any dtype conversion is of a few maps, never of the whole input).
    chunk = max(1, CHUNK_BYTES // (n_h * n_w * work.itemsize))
    rows = np.empty((min(chunk, len(Y_maps)), out_h, n_w), work)
    cols = None if Y.dtype == work else np.empty((len(rows), out_h, out_w), work)
    if mode == 'avg':
        div_h = divisor(n_h, k_h, s_h, p_h, out_h, count_include_pad)
        div_w = divisor(n_w, k_w, s_w, p_w, out_w, count_include_pad)
        div = (np.reshape(np.asarray(div_h, np.float64), (-1, 1))  # float64: exact
               * np.reshape(div_w, (1, -1))).astype(work)
    elif mode != 'max':  # 'sum' and 'lp' divide by nothing (the compiled kernel by 1)
        div = np.ones((1, 1), work)
    if compiled.handles(X, Y, (k_h, k_w)) and (mode != 'lp' or p_value == 1):
        # float32 and float64 in C order: the compiled kernel, every map in one call
        zeros = compiled.pool(X.reshape(-1, n_h, n_w), (k_h, k_w), (s_h, s_w),
                              (p_h, p_w), mode, None if mode == 'max' else div, Y_maps)
        if zeros:  # a zero maximum (the kernel counts them): its first zero's sign
            pool_ints = lambda P: pool_numpy(P, taps_h, taps_w, (out_h, out_w))
            for c in range(0, len(Y_maps), chunk):
                first_zero_signs(maps(c, c + chunk), Y_maps[c:c + chunk], pool_ints)
        return Y
    for c in range(0, len(Y_maps), chunk):
        M = maps(c, c + chunk).astype(work, copy=False)
        if mode == 'lp' and p_value > 1:
            M = M ** p_value  # a new array: M may be a view of X
        R = rows[:len(M)]
        Z = Y_maps[c:c + chunk] if Y.dtype == work else cols[:len(M)]
        with np.errstate(invalid='ignore', over='ignore'):  # inf - inf gives NaN
            # float32 and float64: the compiled kernel (chapter 5), if it takes them
            if compiled.handles(M, Z, (k_h, k_w)):
                compiled.pool(M, (k_h, k_w), (s_h, s_w), (p_h, p_w), mode,
                              None if mode == 'max' else div, Z)
            else:
                pool_axis(M, -2, taps_h, mode, R)   # pool the rows ...
                pool_axis(R, -1, taps_w, mode, Z)   # ... then the columns
                if mode == 'avg':
                    Z /= div
            if mode == 'max':  # a zero maximum: the sign of its window's first zero
                first_zero_signs(M, Z, lambda P: pool_numpy(P, taps_h, taps_w,
                                                            (out_h, out_w)))
            if mode == 'lp' and p_value > 1:
                (np.sqrt if p_value == 2 else np.cbrt)(Z, out=Z)  # MXNet's roots
            if cols is not None:
                Y_maps[c:c + chunk] = Z  # float16: summed in float32, rounded once here
    return like_input(Y, X)


def pool2d_channels_last(X, pool_size, mode='max', *, strides=1, padding=0,
                         ceil_mode=False, count_include_pad=True, p_value=None):
    """pool2d of channels-last X, (H, W, C) or (N, H, W, C): pool2d(..., layout='NHWC').

    Parameters
    ----------
    X : numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        (H, W, C) or (N, H, W, C): the channels of each cell side by side.
    pool_size : int or pair of int
        As for `pool2d`.
    mode, strides, padding, ceil_mode, count_include_pad, p_value : optional
        As for `pool2d`, with its defaults ('max', 1, 0, False, True, None).

    Returns
    -------
    numpy.ndarray, mx.nd.NDArray or mx.np.ndarray
        (out_h, out_w, C) or (N, out_h, out_w, C), of X's kind, in C order; the dtype
        rule of `pool2d`.

    Notes
    -----
    float32 and float64 in C order, for max, average and sum, run the compiled kernel
    for this layout (poolbook.kernels.pool_nhwc); anything else is pooled by `pool2d` on
    a view with the channels first, and the result copied back to channels last.
    """
    check_input(X, ndims=(3, 4))
    A = to_numpy(X)
    maps = np.moveaxis(A, -1, -3)  # a view: (..., C, H, W)
    pool_size, strides, padding = check_pool_args(
        maps, pool_size, mode, strides, padding, ceil_mode, count_include_pad,
        modes=POOL2D_MODES)
    check_p_value(p_value, mode)
    hw = A.shape[-3:-1]
    out_h, out_w = (output_size(n, k, s, p, ceil_mode)
                    for n, k, s, p in zip(hw, pool_size, strides, padding))
    check_output_cells(A.shape[:-3] + (out_h, out_w, A.shape[-1]))
    Y = np.empty(A.shape[:-3] + (out_h, out_w, A.shape[-1]), A.dtype)
    fits = pool_size[0] <= hw[0] and pool_size[1] <= hw[1]
    if fits and mode != 'lp' and compiled.handles(A, Y):
        div = None if mode == 'max' else np.ones(1, A.dtype) if mode == 'sum' else \
            divisors(hw, pool_size, strides=strides, padding=padding, ceil_mode=ceil_mode,
                     count_include_pad=count_include_pad)
        compiled.pool_channels_last(A.reshape((-1,) + A.shape[-3:]), pool_size, strides,
                                    padding, mode, div, Y.reshape((-1,) + Y.shape[-3:]))
        if mode == 'max' and not Y.all() and (np.signbit(A) & (A == 0)).any():
            # -0.0 and a zero maximum: the sign of its window's first zero, channels
            # first, on the maps (image, channel) that hold a zero maximum only
            taps = [list(axis_taps(n, k, s, p, o)) for n, k, s, p, o in
                    zip(hw, pool_size, strides, padding, (out_h, out_w))]
            A4, Y4 = A.reshape((-1,) + A.shape[-3:]), Y.reshape((-1,) + Y.shape[-3:])
            image, channel = np.nonzero((Y4 == 0).any(axis=(1, 2)))
            Z = np.ascontiguousarray(Y4[image, :, :, channel])  # (maps, out_h, out_w)
            first_zero_signs(np.ascontiguousarray(A4[image, :, :, channel]), Z,
                             lambda P: pool_numpy(P, *taps, (out_h, out_w)))
            Y4[image, :, :, channel] = Z
        return like_input(Y, X)
    Y = pool2d(maps, pool_size, mode, strides=strides, padding=padding,
               ceil_mode=ceil_mode, count_include_pad=count_include_pad, p_value=p_value)
    return like_input(np.ascontiguousarray(np.moveaxis(Y, -3, -1)), X)
