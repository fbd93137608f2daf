"""Argument checks shared by every pooling function, so that all of them refuse bad
input the same way: a ValueError or TypeError whose message names the parameter, the
value it got and the rule it broke. Nothing here changes its arguments."""
import numpy as np
from mxnet import nd

MODES = ('max', 'avg')


def _is_int(value):
    """True for Python and numpy integers, False for bools, floats and everything else."""
    return type(value) is int or (isinstance(value, (int, np.integer))
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
        if not _is_int(v):
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r} "
                            f"(an entry of type {type(v).__name__})")
        if v < minimum:
            raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_mode(mode):
    """Refuse any pooling mode other than 'max' and 'avg'."""
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")


def check_input(X, ndims, name='X'):
    """Refuse an input that is not an array of one of the ranks `ndims`, that has an
    empty axis, or whose values are not real numbers."""
    if not isinstance(X, (np.ndarray, nd.NDArray)):
        raise TypeError(f"{name} must be a numpy array or an mx.nd.NDArray, "
                        f"got {type(X).__name__}")
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
    padded = (X_hw[0] + 2 * padding[0], X_hw[1] + 2 * padding[1])
    if window[0] > padded[0] or window[1] > padded[1]:
        what = 'input' if padding == (0, 0) else f'input padded by {padding}'
        raise ValueError(f"{name} {window} does not fit in the {what}, whose "
                         f"spatial shape is {padded}: the window must not be larger")


def check_flag(value, name):
    """Refuse a flag that is not a bool (1, 'yes' or None are refused too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_pool_args(X, pool_size, mode, strides=1, padding=0, ceil_mode=False,
                    count_include_pad=True, ndims=(2, 3, 4)):
    """Check the arguments of a pooling function; return window, strides and padding as
    (h, w) pairs of ints."""
    check_input(X, ndims)
    window = as_pair(pool_size, 'pool_size', minimum=1)
    strides = as_pair(strides, 'strides', minimum=1)
    padding = as_pair(padding, 'padding', minimum=0)
    check_mode(mode)
    check_flag(ceil_mode, 'ceil_mode')
    check_flag(count_include_pad, 'count_include_pad')
    if padding[0] >= window[0] or padding[1] >= window[1]:
        raise ValueError(f"padding {padding} must be smaller than pool_size {window} in each "
                         f"axis: otherwise a window could hold nothing but padding")
    check_window_fits(X.shape[-2:], window, padding)
    return window, strides, padding


def check_pool2d_args(X, pool_size, mode):
    """Check the arguments of chapter 1's loop and return the window as (p_h, p_w)."""
    window, _, _ = check_pool_args(X, pool_size, mode, ndims=(2,))
    return window


def check_strided_args(X, pool_size, mode, strides, padding):
    """Check the arguments of chapter 2's loop; return window, strides and padding pairs."""
    return check_pool_args(X, pool_size, mode, strides, padding, ndims=(2,))


def check_corr2d_args(X, K):
    """Check the arguments of corr2d and return the kernel's shape as (h, w)."""
    check_input(X, ndims=(2,))
    check_input(K, ndims=(2,), name='K')
    check_window_fits(X.shape, K.shape, name='K.shape')
    return K.shape
