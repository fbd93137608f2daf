"""Argument checks shared by every pooling function, so that all of them refuse bad
input the same way: a ValueError or TypeError whose message names the parameter, the
value it got and the rule it broke. Nothing here changes its arguments."""
import math
import numbers

import mxnet as mx
import numpy as np

from poolbook.arrays import check_kind
from poolbook.geometry import padded_size

MODES = ('max', 'avg')
POOL2D_MODES = ('max', 'avg', 'sum', 'lp')  # pool2d also has MXNet's other two modes
P_VALUES = (1, 2, 3)  # the p_value MXNet's 'lp' pooling accepts
MAX_SIZE = 2**60  # the largest window, stride or padding: sums of a few stay in int64
LOOP_CELLS = 2**22  # the most cells of a mostly-padding map a loop builds (2048 x 2048)
RELU_CELLS = 1024  # the largest window max_pool_by_relu builds weights for (32 x 32)
WINDOW_CELLS = 2**22  # the most window cells window_cells gathers (32 MiB in float64)


def is_int(value):
    """True for Python and numpy integers, False for bools, floats and everything else."""
    return (isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_)))


def as_pair(value, name, minimum):
    """Return `value` as an (h, w) pair of ints, each at least `minimum`."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), "
                             f"got {value!r} with {len(value)} entries")
        pair = tuple(value)
    else:
        pair = (value, value)
    for v in pair:
        if not is_int(v):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} "
                            f"(an entry of type {type(v).__name__})")
        if v < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
        if v > MAX_SIZE:
            raise ValueError(f"{name} must be at most 2**60 (any larger could not index an "
                             f"array), got {value!r}")
    return int(pair[0]), int(pair[1])


def check_mode(mode, modes=MODES):
    """Refuse any pooling mode not in `modes` ('max' and 'avg' unless told otherwise)."""
    if not isinstance(mode, str) or mode not in modes:
        more = f", or MXNet's {' or '.join(map(repr, modes[2:]))}" if modes[2:] else ''
        raise ValueError(f"mode must be 'max' or 'avg'{more}, got {mode!r}")


def check_p_value(p_value, mode):
    """Refuse a p_value unless mode is 'lp' and p_value is 1, 2 or 3 (as in MXNet)."""
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


def check_input(X, ndims, name='X'):
    """Refuse an input that is not an array of one of the ranks `ndims`, that has an
    empty axis, or whose values are not real numbers."""
    check_kind(X, name)
    if X.ndim not in ndims:
        shapes = ', '.join({2: '(H, W)', 3: '(C, H, W)', 4: '(N, C, H, W)'}[n] for n in ndims)
        raise ValueError(f"{name} must have shape {shapes}, got {X.ndim} dimension(s) "
                         f"with shape {tuple(X.shape)}")
    if 0 in X.shape:
        raise ValueError(f"{name} must not have an empty axis, got shape {tuple(X.shape)}")
    dtype = np.dtype(X.dtype)
    if dtype.kind not in 'iuf':  # signed and unsigned integers, floats
        raise TypeError(f"{name} must hold real numbers, got dtype {dtype.name}")


def check_window_fits(X_hw, window, padding=(0, 0), name='pool_size'):
    """Refuse a window larger than the (padded) input in either axis."""
    padded = padded_size(X_hw, padding)
    if window[0] > padded[0] or window[1] > padded[1]:
        what = 'input' if padding == (0, 0) else f'input padded by {padding}'
        raise ValueError(f"{name} {window} does not fit in the {what}, whose "
                         f"spatial shape is {padded}: the window must not be larger")


def check_flag(value, name):
    """Refuse a flag that is not a bool (1, 'yes' or None are refused too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_pool_args(X, pool_size, mode, strides=1, padding=0, ceil_mode=False,
                    count_include_pad=True, ndims=(2, 3, 4), modes=MODES):
    """Check the arguments of a pooling function; return window, strides and padding as
    (h, w) pairs of ints."""
    check_input(X, ndims)
    window = as_pair(pool_size, 'pool_size', minimum=1)
    strides = as_pair(strides, 'strides', minimum=1)
    padding = as_pair(padding, 'padding', minimum=0)
    check_mode(mode, modes)
    check_flag(ceil_mode, 'ceil_mode')
    check_flag(count_include_pad, 'count_include_pad')
    if padding[0] >= window[0] or padding[1] >= window[1]:
        raise ValueError(f"padding {padding} must be smaller than pool_size {window} in each "
                         f"axis: otherwise a window could hold nothing but padding")
    check_window_fits(X.shape[-2:], window, padding)
    return window, strides, padding


def check_loop_args(X, pool_size, mode, strides=1, padding=0, ndims=(2, 3, 4)):
    """Check a teaching loop's arguments; return window, strides and padding pairs."""
    # Beyond check_pool_args: float32 or float64 input, padding within check_padded_size.
    window, strides, padding = check_pool_args(X, pool_size, mode, strides, padding,
                                               ndims=ndims)
    check_float(X)
    check_padded_size(X.shape[-2:], padding)
    return window, strides, padding


def check_float(X, name='X'):
    """Refuse an array that is not float32 or float64 (what the teaching loops compute in)."""
    if np.dtype(X.dtype) not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64 for the teaching loops, which "
                        f"compute in the input's dtype, got dtype {np.dtype(X.dtype).name}: "
                        f"convert it ({name}.astype('float32')) or use poolbook.pool2d")


def check_padded_size(X_hw, padding, limit=LOOP_CELLS, name='padding'):
    """Refuse padding making a map over `limit` cells and over 4 times its own size."""
    # Such a map is mostly padding: a huge window on a small input.
    cells = math.prod(padded_size(X_hw, padding))
    if cells > max(limit, 4 * X_hw[0] * X_hw[1]):
        raise ValueError(f"{name} {padding} would make each padded map {cells:,} cells, "
                         f"mostly padding, more than the {limit:,} this function builds: "
                         f"use poolbook.pool2d, which never builds the padding")


def check_pool2d_args(X, pool_size, mode):
    """Check the arguments of chapter 1's loop and return the window as (p_h, p_w)."""
    window, _, _ = check_loop_args(X, pool_size, mode, ndims=(2,))
    if isinstance(X, mx.np.ndarray):  # its cells cannot be stored into an mx.nd.NDArray
        raise TypeError("X is an mx.np.ndarray, which chapter 1's loop does not take: pass "
                        "X.as_nd_ndarray(), or use poolbook.pool2d")
    return window


def check_strided_args(X, pool_size, mode, strides, padding):
    """Check the arguments of chapter 2's loop; return window, strides and padding pairs."""
    return check_loop_args(X, pool_size, mode, strides, padding, ndims=(2,))


def check_corr2d_args(X, K):
    """Check the arguments of corr2d and return the kernel's shape as (h, w)."""
    check_input(X, ndims=(2,))
    check_input(K, ndims=(2,), name='K')
    check_window_fits(X.shape, K.shape, name='K.shape')
    return K.shape


def check_output_cells(shape, names='pool_size, strides and padding'):
    """Refuse an output shape with more cells than any array can index."""
    cells = math.prod(shape)
    if cells > np.iinfo(np.intp).max // 16:
        raise ValueError(f"{names} give an output of shape {tuple(shape)}, {cells:.3g} "
                         f"cells: more than any array can hold")


def check_beta(beta):
    """Refuse a beta that is not a real number, not finite, or negative."""
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a real number, got {beta!r} "
                        f"of type {type(beta).__name__}")
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be a finite number at least 0, got {beta!r}")


def check_finite(A, name='X'):
    """Refuse an array holding infinities or NaN."""
    bad = int(np.size(A) - np.isfinite(A).sum())
    if bad:
        raise ValueError(f"{name} must hold finite numbers, got {bad} infinite or NaN value(s)")


def check_shape(shape):
    """Refuse a shape that is not (C, H, W) with three positive ints; return it as a tuple."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 3:
        raise ValueError(f"shape must be (C, H, W), three ints, got {shape!r}")
    if not all(is_int(v) for v in shape):
        raise TypeError(f"shape must hold ints, got {shape!r}")
    if min(shape) < 1:
        raise ValueError(f"shape must hold positive ints, got {shape!r}")
    return tuple(int(v) for v in shape)


def check_filter_size(filter_size):
    """Refuse a blur filter size that is not an int from 1 to 5."""
    if not is_int(filter_size):
        raise TypeError(f"filter_size must be an int from 1 to 5, got {filter_size!r}")
    if not 1 <= filter_size <= 5:
        raise ValueError(f"filter_size must be from 1 to 5, got {filter_size!r}")


def check_relu_window(pool_size):
    """Refuse a window of more than RELU_CELLS cells; return it as (k_h, k_w)."""
    k_h, k_w = as_pair(pool_size, 'pool_size', minimum=1)
    if k_h * k_w > RELU_CELLS:
        raise ValueError(f"pool_size {(k_h, k_w)} has {k_h * k_w:,} cells: the ReLU "
                         f"network's weights grow as its square, so windows of at most "
                         f"{RELU_CELLS} cells are built")
    return k_h, k_w


def check_relu_range(A, name='X'):
    """Refuse values the ReLU network cannot pool in float64 within its error bound."""
    # Infinities and NaN (inf - inf), magnitudes above 2**1000 (sums of differences would
    # overflow), integers above 2**53 (not exact in float64).
    check_finite(A, name)
    largest = float(np.abs(A).max(initial=0))
    limit = 2.0**53 if A.dtype.kind in 'iu' else 2.0**1000
    if largest > limit:
        raise ValueError(f"{name} must hold values of magnitude at most {limit:.4g} for "
                         f"max_pool_by_relu, got {largest:.4g}")


def check_gradient(dY, expected_shape):
    """Refuse an output gradient dY unless it is real numbers in the output's shape."""
    if tuple(dY.shape) != tuple(expected_shape):
        raise ValueError(f"dY must have the shape of the pooled output, "
                         f"{tuple(expected_shape)}, got {tuple(dY.shape)}")
    check_input(dY, ndims=(len(expected_shape),), name='dY')


def check_corners(corners, name, n, room):
    """Refuse corners unless they are n integers, each from 0 to room (the canvas left)."""
    corners = np.asarray(corners)
    if corners.shape != (n,):
        raise ValueError(f"{name} must hold {n} corners, one per image, got shape "
                         f"{corners.shape}")
    if n and corners.dtype.kind not in 'iu':
        raise TypeError(f"{name} must hold integers, got dtype {corners.dtype}")
    outside = np.flatnonzero((corners < 0) | (corners > room))
    if outside.size:
        k = outside[0]
        raise ValueError(f"{name} must lie from 0 to {room}, so that each image fits on "
                         f"the canvas, got {name}[{k}] = {corners[k]}")


def check_window_cells(out_shape, window, limit=WINDOW_CELLS):
    """Refuse a window whose cells, gathered for every output cell, exceed `limit`."""
    cells = math.prod(out_shape) * window[0] * window[1]
    if cells > limit:
        raise ValueError(f"pool_size {tuple(window)} over an output of shape "
                         f"{tuple(out_shape)} gathers {cells:,} window cells, more than "
                         f"the {limit:,} this function builds: use a smaller window or "
                         f"input, or pool a few maps at a time")
