"""The argument checks many functions share, so that all of them refuse bad input the
same way: a ValueError or TypeError whose message names the parameter, the value it got
and the rule it broke. Nothing here changes its arguments.

A check that serves one module lives in that module: pool2d's `check_p_value` in
poolbook.pooling, the teaching loops' checks in poolbook.loops, `check_corr2d_args` in
poolbook.conv, `check_gradient` in poolbook.backward, the exercises' checks in
poolbook.variants. Chapters import some of them from here, where they used to live, and
still can (`__getattr__` below). `check_filter_size` (antialias.py) is still here, for
now; `check_corners` lives in poolbook.training.
"""
import importlib
import math
import numbers

import numpy as np

from poolbook.arrays import check_kind
from poolbook.geometry import padded_size

MODES = ('max', 'avg')
MAX_SIZE = 2**60  # the largest window, stride or padding: sums of a few stay in int64
LOOP_CELLS = 2**22  # the most cells of a mostly-padding map a loop builds (2048 x 2048)


def is_int(value):
    """True for Python and numpy integers, False for bools, floats and everything else.

    Parameters
    ----------
    value : object

    Returns
    -------
    bool
    """
    return (isinstance(value, numbers.Integral)
            and not isinstance(value, (bool, np.bool_)))


def as_pair(value, name, minimum):
    """Return `value` as an (h, w) pair of ints, each at least `minimum`.

    Parameters
    ----------
    value : int or pair of int
        An int means the same for both axes.
    name : str
        The parameter's name, for a refusal ('pool_size', 'strides', ...).
    minimum : int
        The least value allowed (1 for a window or stride, 0 for padding).

    Returns
    -------
    tuple of int

    Raises
    ------
    TypeError
        For an entry that is not an int (bools and floats included).
    ValueError
        For a pair of another length, an entry below `minimum` or above 2**60.
    """
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
    """Refuse any pooling mode not in `modes`.

    Parameters
    ----------
    mode : object
    modes : tuple of str, default ('max', 'avg')

    Raises
    ------
    ValueError
    """
    if not isinstance(mode, str) or mode not in modes:
        more = f", or MXNet's {' or '.join(map(repr, modes[2:]))}" if modes[2:] else ''
        raise ValueError(f"mode must be 'max' or 'avg'{more}, got {mode!r}")


def check_input(X, ndims, name='X'):
    """Refuse an input that is not an array of real numbers of one of the ranks `ndims`.

    Parameters
    ----------
    X : object
    ndims : tuple of int
        The ranks allowed, among 2 (H, W), 3 (C, H, W) and 4 (N, C, H, W).
    name : str, default 'X'
        The parameter's name, for a refusal.

    Raises
    ------
    TypeError
        For anything `arrays.check_kind` refuses, and for values that are not real numbers
        (bools, complex numbers, objects, strings).
    ValueError
        For another rank, or an empty axis.
    """
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


def check_window_fits(X_hw, pool_size, padding=(0, 0), name='pool_size'):
    """Refuse a window (k_h, k_w) larger than the (padded) input in either axis.

    Parameters
    ----------
    X_hw : tuple of int
        The input's spatial size (H, W).
    pool_size : tuple of int
        The window, (k_h, k_w).
    padding : tuple of int, default (0, 0)
    name : str, default 'pool_size'
        What the window is called in the message (corr2d says 'K.shape').

    Raises
    ------
    ValueError
    """
    padded = padded_size(X_hw, padding)
    if pool_size[0] > padded[0] or pool_size[1] > padded[1]:
        what = 'input' if padding == (0, 0) else f'input padded by {padding}'
        raise ValueError(f"{name} {pool_size} does not fit in the {what}, whose "
                         f"spatial shape is {padded}: the window must not be larger")


def check_flag(value, name):
    """Refuse a flag that is not a bool (1, 'yes' or None are refused too).

    Parameters
    ----------
    value : object
    name : str
        The parameter's name, for the message.

    Raises
    ------
    TypeError
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_pool_args(X, pool_size, mode, strides=1, padding=0, ceil_mode=False,
                    count_include_pad=True, ndims=(2, 3, 4), modes=MODES):
    """Check the arguments of a pooling function; return pool_size, strides and padding.

    Parameters
    ----------
    X : object
        The input: `check_input` with `ndims`.
    pool_size : int or pair of int
        At least 1 and at most the padded input, in each axis.
    mode : object
        One of `modes`.
    strides : int or pair of int, default 1
        At least 1.
    padding : int or pair of int, default 0
        At least 0 and smaller than the window in each axis.
    ceil_mode, count_include_pad : bool, default False and True
    ndims : tuple of int, default (2, 3, 4)
    modes : tuple of str, default ('max', 'avg')

    Returns
    -------
    pool_size, strides, padding : tuple of int
        Each as an (h, w) pair.

    Raises
    ------
    TypeError, ValueError
        Naming the parameter, its value and the rule it breaks.
    """
    check_input(X, ndims)
    pool_size = as_pair(pool_size, 'pool_size', minimum=1)
    strides = as_pair(strides, 'strides', minimum=1)
    padding = as_pair(padding, 'padding', minimum=0)
    check_mode(mode, modes)
    check_flag(ceil_mode, 'ceil_mode')
    check_flag(count_include_pad, 'count_include_pad')
    if padding[0] >= pool_size[0] or padding[1] >= pool_size[1]:
        raise ValueError(f"padding {padding} must be smaller than pool_size {pool_size} in "
                         f"each axis: otherwise a window could hold nothing but padding")
    check_window_fits(X.shape[-2:], pool_size, padding)
    return pool_size, strides, padding


def check_padded_size(X_hw, padding, limit=LOOP_CELLS, name='padding'):
    """Refuse padding that makes a map over `limit` cells and over 4 times its own size.

    Such a map is mostly padding: a huge window over a small input, which a function that
    builds the padding (the teaching loops, count_pool_ops) should not build.

    Parameters
    ----------
    X_hw : tuple of int
        The map's size (H, W).
    padding : tuple of int
        (p_h, p_w).
    limit : int, default LOOP_CELLS (2**22)
    name : str, default 'padding'

    Raises
    ------
    ValueError
    """
    # Such a map is mostly padding: a huge window on a small input.
    cells = math.prod(padded_size(X_hw, padding))
    if cells > max(limit, 4 * X_hw[0] * X_hw[1]):
        raise ValueError(f"{name} {padding} would make each padded map {cells:,} cells, "
                         f"mostly padding, more than the {limit:,} this function builds: "
                         f"use poolbook.pool2d, which never builds the padding")


def check_output_cells(shape, names='pool_size, strides and padding'):
    """Refuse an output shape with more cells than any array can index.

    Parameters
    ----------
    shape : tuple of int
    names : str, default 'pool_size, strides and padding'
        What made the shape, for the message.

    Raises
    ------
    ValueError
    """
    cells = math.prod(shape)
    if cells > np.iinfo(np.intp).max // 16:
        raise ValueError(f"{names} give an output of shape {tuple(shape)}, {cells:.3g} "
                         f"cells: more than any array can hold")


# ----------------------------------------------------------------------------------------
# A check that serves one module, whose module is being edited: to move beside its
# caller (antialias.py).

def check_filter_size(filter_size):
    """Refuse a blur filter size that is not an int from 1 to 5."""
    if not is_int(filter_size):
        raise TypeError(f"filter_size must be an int from 1 to 5, got {filter_size!r}")
    if not 1 <= filter_size <= 5:
        raise ValueError(f"filter_size must be from 1 to 5, got {filter_size!r}")


# ----------------------------------------------------------------------------------------
# Checks that moved beside their one caller, still importable from here under their old
# names (chapters 4, 5 and 6 import them from poolbook.checks; chapter 6 shows
# check_gradient as poolbook.checks.check_gradient).

MOVED = {'POOL2D_MODES': 'pooling', 'P_VALUES': 'pooling', 'check_p_value': 'pooling',
         'check_loop_args': 'loops', 'check_float': 'loops', 'check_pool2d_args': 'loops',
         'check_strided_args': 'loops', 'check_corr2d_args': 'conv',
         'check_gradient': 'backward', 'RELU_CELLS': 'variants',
         'WINDOW_CELLS': 'variants', 'check_beta': 'variants', 'check_finite': 'variants',
         'check_shape': 'variants', 'check_relu_window': 'variants',
         'check_relu_range': 'variants', 'check_window_cells': 'variants'}


def __getattr__(name):
    """A check that moved (MOVED), from its module: imported on first use, since those
    modules import this one."""
    if name not in MOVED:
        raise AttributeError(f"module 'poolbook.checks' has no attribute {name!r}")
    return getattr(importlib.import_module(f'poolbook.{MOVED[name]}'), name)
