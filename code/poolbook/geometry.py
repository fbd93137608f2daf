"""The window arithmetic of pooling, in one place: how many windows fit, where each one
starts, which of its cells lie inside the input, and what an average divides by.

Every pooling function asks this module; none computes these numbers by hand.

* One axis at a time: n input cells, window k, stride s, padding p (k, s, p are one entry
  of `pool_size`, `strides` and `padding`). Window i starts at padded position i * s, that
  is at input cell i * s - p, and its offset a (0 <= a < k) reads input cell i * s - p + a.
  `output_size` counts the windows (chapter 2's formula, with PyTorch's and ONNX's rule for
  ceil mode); `window_offsets` and `axis_taps` list the offsets that read some input cell
  and, for each, the outputs it reaches (chapter 5); `cell_taps` lists, for each input
  cell, the outputs that read it (the backward pass, chapter 6); `divisor` gives what an
  average divides by.
* Both axes: `output_shape`, `padded_size` and `divisors` take the (h, w) pairs that
  `poolbook.checks.check_pool_args` returns.
* `lowest(dtype)`: the value that never wins a maximum, -inf or the integer minimum.

Pure integer arithmetic on Python ints (numpy only for per-window divisors), so that huge
windows, strides and paddings (up to 2**60) never overflow.
"""
import numpy as np


def output_size(n, k, s, p, ceil_mode=False):
    """Output length along one axis: floor((n + 2p - k) / s) + 1, or with ceiling."""
    span = n + 2 * p - k
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1
    if (out - 1) * s >= n + p:  # the last window would start in the trailing padding
        out -= 1
    return out


def mxnet_output_size(n, k, s, p, convention='valid'):
    """Output length along one axis as MXNet's shape inference gives it.

    Parameters
    ----------
    n, k, s, p : int
        The axis' length, the window (a dilated convolution's span, d (k - 1) + 1), the
        stride and the padding.
    convention : {'valid', 'full'}, default 'valid'
        MXNet's pooling_convention. 'valid' is `output_size`'s floor; 'full', MXNet's
        ceil mode, is ceil((n + 2p - k) / s) + 1, keeping a last window that starts in
        the trailing padding, which `output_size`'s ceil mode drops (as PyTorch and ONNX
        do). (MXNet's 'same' takes 1-D pooling only.)

    Returns
    -------
    int
    """
    if convention == 'valid':
        return output_size(n, k, s, p)
    if convention == 'full':
        return -(-(n + 2 * p - k) // s) + 1
    raise ValueError(f"convention must be MXNet's 'valid' or 'full' for 2-D pooling, "
                     f"got {convention!r}")


def output_shape(shape, pool_size, *, strides, padding, ceil_mode=False):
    """The shape pooling gives an input of shape (..., H, W): (..., out_h, out_w).

    Parameters
    ----------
    shape : tuple of int
        The input's shape, at least two axes.
    pool_size, strides, padding : tuple of int
        (k_h, k_w), (s_h, s_w) and (p_h, p_w), as `checks.check_pool_args` returns them.
    ceil_mode : bool, default False
        Round the number of windows up (see `output_size`).

    Returns
    -------
    tuple of int
    """
    return tuple(shape[:-2]) + tuple(
        output_size(n, k, s, p, ceil_mode)
        for n, k, s, p in zip(shape[-2:], pool_size, strides, padding))


def padded_size(hw, padding):
    """The spatial size (H + 2 p_h, W + 2 p_w) of a map of size hw = (H, W) once padded.

    Parameters
    ----------
    hw : tuple of int
        (H, W).
    padding : tuple of int
        (p_h, p_w): cells added before and after each axis.

    Returns
    -------
    tuple of int
    """
    return hw[0] + 2 * padding[0], hw[1] + 2 * padding[1]


def window_offsets(n, k, s, p, out):
    """The window offsets a along one axis at which some window reads an input cell."""
    if s < n:  # the offsets window i reads, [p - i s, p - i s + n), overlap: one range
        return range(max(0, p - (out - 1) * s), min(k, p + n))
    return (a for i in reversed(range(out))  # disjoint ranges, one per window
            for a in range(max(0, p - i * s), min(k, p - i * s + n)))


def axis_taps(n, k, s, p, out):
    """For each window offset a along one axis: the block [i0, i1) of output positions
    whose cell a lies inside the input, and the strided input slice those cells are."""
    for a in window_offsets(n, k, s, p, out):
        i0 = max(0, -(-(p - a) // s))          # first i with i * s - p + a >= 0
        i1 = min(out, (n - 1 + p - a) // s + 1)  # past the last i with i s - p + a < n
        if i1 > i0:
            start = i0 * s - p + a
            yield i0, i1, slice(start, start + (i1 - i0 - 1) * s + 1, s)


def cell_taps(n, k, s, p, out):
    """For each input cell r along one axis: the outputs [i0, i1) that read it."""
    for r in range(n):
        i0, i1 = max(0, (r + p - k) // s + 1), min(out, (r + p) // s + 1)
        if i1 > i0:
            yield i0, i1, slice(r, r + 1)


def divisor(n, k, s, p, out, count_include_pad):
    """How many cells of each window along one axis an average divides by.

    Parameters
    ----------
    n, k, s, p : int
        The axis' length, the window, the stride and the padding.
    out : int
        The number of windows, `output_size(n, k, s, p, ceil_mode)`.
    count_include_pad : bool
        Count the padding cells a window covers (True) or only its input cells (False).
        Cells past the padded input (a ceil-mode window) never count.

    Returns
    -------
    int or numpy.ndarray
        k when every window lies inside the padded input and padding counts; else one count
        per window, an int64 array of length `out`.
    """
    if count_include_pad and (out - 1) * s + k <= n + 2 * p:
        return k
    starts = np.arange(out, dtype=np.int64) * s - p  # each window's first cell
    if count_include_pad:  # a ceil-mode window past the padded input: count its cells
        return np.minimum(k, n + p - starts)
    return np.minimum(starts + k, n) - np.maximum(starts, 0)  # cells inside the input


def divisors(hw, pool_size, *, strides, padding, ceil_mode=False, count_include_pad=True):
    """What the average of each output cell divides by, for both axes at once.

    Parameters
    ----------
    hw : tuple of int
        The input's spatial size (H, W).
    pool_size, strides, padding : tuple of int
        (k_h, k_w), (s_h, s_w) and (p_h, p_w).
    ceil_mode : bool, default False
        As in `output_size`.
    count_include_pad : bool, default True
        Count the padding cells a window covers (True) or only its input cells (False).
        Cells past the padded input (a ceil-mode window) never count.

    Returns
    -------
    numpy.ndarray
        Shape (out_h, out_w), dtype float64 (exact: every count is far below 2**53);
        the product of the two axes' `divisor`.
    """
    from poolbook.checks import as_pair, check_flag  # checks imports this module
    hw = as_pair(hw, 'hw', 1)
    pool_size, strides = as_pair(pool_size, 'pool_size', 1), as_pair(strides, 'strides', 1)
    padding = as_pair(padding, 'padding', 0)
    check_flag(ceil_mode, 'ceil_mode')
    check_flag(count_include_pad, 'count_include_pad')
    out = output_shape(hw, pool_size, strides=strides, padding=padding,
                       ceil_mode=ceil_mode)
    div_h, div_w = (np.broadcast_to(np.asarray(divisor(n, k, s, p, o, count_include_pad),
                                               np.float64), (o,))
                    for n, k, s, p, o in zip(hw, pool_size, strides, padding, out))
    return np.multiply.outer(div_h, div_w)


def lowest(dtype):
    """The lowest value of `dtype`, which never wins a maximum.

    Parameters
    ----------
    dtype : numpy.dtype, or a name or type numpy.dtype takes
        A float dtype gives -inf, an integer one its minimum, as a scalar of `dtype`.
    """
    from poolbook.arrays import real_dtype  # refuses bools, complex numbers, objects
    dtype = real_dtype(dtype)
    return dtype.type(-np.inf if dtype.kind == 'f' else np.iinfo(dtype).min)
