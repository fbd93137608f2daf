"""pool2d (poolbook.pooling): its four modes, every geometry, dtypes, array kinds, special
values, sizes, and every bad argument.

Where the expected values come from: the source book's text, small cases worked out by
hand in the comments next to them, and the references of tests/reference.py (MXNet's
mx.nd.Pooling, PyTorch's pooling, a plain computation over sliding windows); never
pool2d's own output.

MXNet's pooling_convention='full' keeps a last window that starts in the trailing padding
(or beyond the input) and fills it with the lowest value of the dtype (max) or 0 (sum,
lp); pool2d drops it, as PyTorch and ONNX do. mxnet_pool2d gives MXNet's output without
those windows; the tests that look at them say so (keep_extra=True). MXNet's max skips
NaN, pool2d propagates it: cases with NaN compare with PyTorch or the plain computation.
"""
import contextlib
import copy
import math

import mxnet as mx
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mxnet import nd

import poolbook
from conftest import ARRAY_KINDS
from poolbook import kernels
from poolbook.pooling import pool2d
from reference import (as_numpy, kept_shape, mxnet_pool2d, plain_pool2d, torch_accepts,
                       torch_pool2d)
from steps import within_steps
from strategies import pool_cases

X3 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]  # the source book's 3 x 3 example
X16 = np.arange(16, dtype=np.float32).reshape((1, 1, 4, 4))  # its nd.arange(16) example
X22 = [[1, 2], [3, 4]]
INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64]
MODES = [('max', None), ('avg', None), ('sum', None), ('lp', 1), ('lp', 2), ('lp', 3)]


def assert_like(reference, Y, X, pool_size, mode='max', **kwargs):
    """pool2d's result Y (on X, with these arguments) is the reference's, window by
    window: the same shape and NaN, the same maximum exactly, and sums that differ by at
    most 32 roundings of Y's dtype of the window's sum of |x| (or, for 'lp', of |x|**p,
    compared as sums of p-th powers: the root magnifies a sum's rounding near 0)."""
    want, got = reference(X, pool_size, mode, **kwargs), as_numpy(Y)
    assert got.shape == want.shape, (got.shape, want.shape)
    if mode == 'max':
        np.testing.assert_array_equal(got, want)  # no arithmetic: exact, NaN for NaN
        return
    p = kwargs.get('p_value') or 1
    geometry = {k: v for k, v in kwargs.items() if k != 'p_value'}
    scale = plain_pool2d(np.abs(as_numpy(X).astype(np.float64)) ** p, pool_size,
                         'avg' if mode == 'avg' else 'sum', **geometry)
    power = lambda V: np.sign(V) * np.abs(V.astype(np.float64)) ** p  # noqa: E731
    nan = np.isnan(got)
    np.testing.assert_array_equal(nan, np.isnan(want))
    with np.errstate(invalid='ignore'):  # inf - inf where both are inf: equal, error 0
        error = np.where(got == want, 0, np.abs(power(got) - power(want)))
    bound = 32 * np.finfo(got.dtype).eps * scale
    assert np.all(error[~nan] <= bound[~nan]), (
        f'{np.sum(error > bound)} window(s) off by more than 32 roundings, e.g. '
        f'{got[error > bound][:3]} against {want[error > bound][:3]}')


def pooled(X, pool_size, mode='max', **kwargs):
    """pool2d(X, ...) as numpy, after checking that it comes back as X's kind."""
    Y = pool2d(X, pool_size, mode, **kwargs)
    assert type(Y) is type(X)
    return as_numpy(Y)


def test_the_package_exports_this_pool2d():
    assert poolbook.pool2d is pool2d


# ----------------------------------------------------------------------------------------
# The source book's examples.

@pytest.mark.parametrize('mode, expected', [
    # 2 x 2 windows at stride 1 on 0..8: maxima [[4, 5], [7, 8]]; averages [[2, 3], [5, 6]],
    # e.g. (0 + 1 + 3 + 4) / 4 = 2.
    ('max', [[4, 5], [7, 8]]), ('avg', [[2, 3], [5, 6]])])
def test_source_example_stride_1(as_kind, mode, expected):
    np.testing.assert_array_equal(pooled(as_kind(np.float32(X3)), (2, 2), mode), expected)


@pytest.mark.parametrize('kwargs, expected', [
    # nn.MaxPool2D(3): Gluon's default stride is the window -> [[[[10.]]]].
    (dict(pool_size=3, strides=3), [[[[10]]]]),
    (dict(pool_size=3, padding=1, strides=2), [[[[5, 7], [13, 15]]]]),
    (dict(pool_size=(2, 3), padding=(1, 2), strides=(2, 3)), [[[[0, 3], [8, 11], [12, 15]]]]),
])
def test_source_examples_padding_and_stride(as_kind, kwargs, expected):
    np.testing.assert_array_equal(pooled(as_kind(X16), **kwargs), expected)


def test_source_example_two_channels(as_kind):
    # X concatenated with X + 1 on the channel axis; window 3, padding 1, stride 2.
    X = as_kind(np.concatenate([X16, X16 + 1], axis=1))
    np.testing.assert_array_equal(pooled(X, 3, padding=1, strides=2),
                                  [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]])


def test_sum_by_hand():
    # 0..8 as 3 x 3, 2 x 2 windows: 0+1+3+4 = 8, 1+2+4+5 = 12, 3+4+6+7 = 20, 4+5+7+8 = 24
    X = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(pool2d(X, 2, 'sum'), [[8, 12], [20, 24]])
    # padding adds nothing: window 2, padding 1, stride 2 -> {0}, {1, 2}, {3, 6}, {4,5,7,8}
    np.testing.assert_array_equal(pool2d(X, 2, 'sum', strides=2, padding=1),
                                  [[0, 3], [9, 24]])


def test_lp_by_hand_is_mxnet_not_the_norm():
    # One window [-2, 1, -1, -1]: p=1 -> -3; p=2 -> sqrt(4+1+1+1) = sqrt(7);
    # p=3 -> cbrt(-8 + 1 - 1 - 1) = cbrt(-9), negative. The norms take |x|: 5, sqrt(7),
    # cbrt(8 + 1 + 1 + 1) = cbrt(11).
    X = np.array([[-2.0, 1.0], [-1.0, -1.0]])
    for p, mxnet_like, norm in [(1, -3, 5), (2, 7 ** 0.5, 7 ** 0.5),
                                (3, -(9 ** (1 / 3)), 11 ** (1 / 3))]:
        np.testing.assert_allclose(pool2d(X, 2, 'lp', p_value=p), [[mxnet_like]])
        np.testing.assert_allclose(pool2d(np.abs(X), 2, 'lp', p_value=p), [[norm]])
        np.testing.assert_allclose(mxnet_pool2d(X, 2, 'lp', p_value=p), [[mxnet_like]])


# ----------------------------------------------------------------------------------------
# Hand-computed cases: padding, ceil mode, dropped windows.

@pytest.mark.parametrize('mode, count_include_pad, expected', [
    # Padded by 1, X22 sits in the middle of a 4 x 4 frame; 2 x 2 windows at stride 1 give
    # 3 x 3 outputs. Padding never wins a max: the corner window {pad, pad, pad, 1} gives 1.
    ('max', True, [[1, 2, 2], [3, 4, 4], [3, 4, 4]]),
    ('max', False, [[1, 2, 2], [3, 4, 4], [3, 4, 4]]),
    # Sums of the input cells per window: [[1, 1+2, 2], [1+3, 1+2+3+4, 2+4], [3, 3+4, 4]],
    # divided by the 4 cells of the window when padding counts ...
    ('avg', True, [[1 / 4, 3 / 4, 2 / 4], [4 / 4, 10 / 4, 6 / 4], [3 / 4, 7 / 4, 4 / 4]]),
    # ... or by the input cells alone: [[1, 2, 1], [2, 4, 2], [1, 2, 1]].
    ('avg', False, [[1 / 1, 3 / 2, 2 / 1], [4 / 2, 10 / 4, 6 / 2], [3 / 1, 7 / 2, 4 / 1]]),
])
def test_hand_computed_padding(as_kind, mode, count_include_pad, expected):
    X = np.float32(X22)
    Y = pooled(as_kind(X), 2, mode, padding=1, count_include_pad=count_include_pad)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    assert_like(mxnet_pool2d, Y, X, 2, mode, padding=1, count_include_pad=count_include_pad)


def test_hand_computed_padding_never_wins_a_max_of_negative_numbers():
    # X = [[-5, -3], [-4, -9]], window 2, padding 1: each window's max over its input cells:
    # row 0: {-5}, {-5, -3}, {-3}; row 1: {-5, -4}, all four, {-3, -9};
    # row 2: {-4}, {-4, -9}, {-9}.
    X = np.array([[-5, -3], [-4, -9]], dtype=np.float32)
    np.testing.assert_array_equal(pool2d(X, 2, padding=1),
                                  [[-5, -3, -3], [-4, -3, -3], [-4, -4, -9]])


@pytest.mark.parametrize('mode, ceil_mode, count_include_pad, expected', [
    # Window (1, 2), stride (1, 2) over 1..5. Floor: floor((5 - 2) / 2) + 1 = 2 windows,
    # {1, 2} and {3, 4}: max [2, 4], avg [3/2, 7/2].
    ('max', False, True, [[2, 4]]),
    ('avg', False, True, [[1.5, 3.5]]),
    # Ceil: ceil(3 / 2) + 1 = 3 windows; the third starts at 4 (inside the input), holds
    # only 5 and runs one cell past the input with no padding there: that cell counts
    # neither for max nor in the divisor, so its average is 5 / 1.
    ('max', True, True, [[2, 4, 5]]),
    ('avg', True, True, [[1.5, 3.5, 5]]),
    ('avg', True, False, [[1.5, 3.5, 5]]),
])
def test_hand_computed_ceil_mode(as_kind, mode, ceil_mode, count_include_pad, expected):
    X = np.float32([[1, 2, 3, 4, 5]])
    args = dict(strides=(1, 2), ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    Y = pooled(as_kind(X), (1, 2), mode, **args)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    assert_like(mxnet_pool2d, Y, X, (1, 2), mode, **args)


def test_hand_computed_ceil_mode_on_a_batch():
    # The same windows on two rows and a 2-D batch axis: rows {1..5} and {10, 20, .., 50}.
    X = np.array([[[[1, 2, 3, 4, 5], [10, 20, 30, 40, 50]]]], dtype=np.float32)
    Y = pool2d(X, (1, 2), 'avg', strides=(1, 2), ceil_mode=True)
    np.testing.assert_allclose(Y, [[[[1.5, 3.5, 5], [15, 35, 50]]]], rtol=1e-6)


@pytest.mark.parametrize('mode, count_include_pad, expected', [
    # X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], window 2, stride 2, padding 1, ceil mode.
    # Along each axis: padded length 5, ceil((3 + 2 - 2) / 2) + 1 = 3 windows starting at
    # padded positions 0, 2, 4; position 4 = n + p is the trailing padding: dropped, so 2.
    # Window rows/columns: start 0 -> input {0}, start 2 -> input {1, 2}.
    ('max', True, [[1, 3], [7, 9]]),
    # Sums: {1} = 1, {2, 3} = 5, {4, 7} = 11, {5, 6, 8, 9} = 28. Every window lies inside
    # the padded input, so with padding counted each divides by 4 ...
    ('avg', True, [[1 / 4, 5 / 4], [11 / 4, 28 / 4]]),
    # ... and without, by its input cells: 1, 2, 2, 4.
    ('avg', False, [[1 / 1, 5 / 2], [11 / 2, 28 / 4]]),
])
def test_hand_computed_dropped_window(mode, count_include_pad, expected):
    X = np.arange(1, 10, dtype=np.float32).reshape((3, 3))
    args = dict(strides=2, padding=1, ceil_mode=True, count_include_pad=count_include_pad)
    Y = pool2d(X, 2, mode, **args)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    assert math.ceil((3 + 2 - 2) / 2) + 1 == 3  # what the formula alone (and MXNet) gives
    # MXNet keeps the third window: our output is its output without the last row/column,
    # and for max its extra entries are the lowest float32 (a window with no input cell).
    want = mxnet_pool2d(X, 2, mode, **args, keep_extra=True)
    assert want.shape == (3, 3)
    np.testing.assert_allclose(Y, want[:2, :2], rtol=1e-6)
    if mode == 'max':
        assert np.all(want[2, :] == np.finfo(np.float32).min)
        assert np.all(want[:, 2] == np.finfo(np.float32).min)


@pytest.mark.parametrize('mode, count_include_pad, expected', [
    # X = [[1, 2, 3]], window (1, 2), stride (1, 2), padding (0, 1), ceil mode: padded row
    # [pad, 1, 2, 3, pad], windows start at 0, 2 and 4 = n + p (dropped):
    # {pad, 1} and {2, 3}.
    ('max', True, [[1, 3]]),
    ('avg', True, [[1 / 2, 5 / 2]]),
    ('avg', False, [[1 / 1, 5 / 2]]),
])
def test_hand_computed_dropped_window_one_axis(mode, count_include_pad, expected):
    X = np.array([[1, 2, 3]], dtype=np.float32)
    args = dict(strides=(1, 2), padding=(0, 1), ceil_mode=True,
                count_include_pad=count_include_pad)
    Y = pool2d(X, (1, 2), mode, **args)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    want = mxnet_pool2d(X, (1, 2), mode, **args, keep_extra=True)
    assert want.shape == (1, 3)
    np.testing.assert_allclose(Y, want[:, :2], rtol=1e-6)
    if mode == 'max':
        assert want[0, 2] == np.finfo(np.float32).min


def test_hand_computed_window_starting_beyond_the_input():
    # X = [[7, 8]], window 1, stride 3, ceil mode, no padding: ceil((2 - 1) / 3) + 1 = 2
    # windows by the formula, the second starting at 3, past the input: dropped -> [[7]].
    X = np.array([[7, 8]], dtype=np.float32)
    np.testing.assert_array_equal(pool2d(X, 1, strides=3, ceil_mode=True), [[7]])
    np.testing.assert_array_equal(
        mxnet_pool2d(X, 1, strides=3, ceil_mode=True, keep_extra=True),
        [[7, np.finfo(np.float32).min]])


def test_a_window_that_fits_only_thanks_to_padding_is_accepted():
    # 1 x 1 input, window 3, padding 1: padded 3 x 3, one window holding the single value.
    np.testing.assert_array_equal(pool2d(np.array([[5.0]]), 3, padding=1), [[5.0]])
    # average with padding counted: 5 / 9; without: 5 / 1
    np.testing.assert_allclose(pool2d(np.array([[5.0]]), 3, 'avg', padding=1), [[5 / 9]])
    np.testing.assert_allclose(pool2d(np.array([[5.0]]), 3, 'avg', padding=1,
                                      count_include_pad=False), [[5.0]])


def test_window_as_wide_as_the_padded_input_is_fine():
    np.testing.assert_array_equal(pool2d(X16[0, 0], 6, 'max', padding=1), [[15.0]])


# ----------------------------------------------------------------------------------------
# Against MXNet and PyTorch: every configuration of one axis, and 2-D cases.

AXIS_GRID = [(n, k, s, p) for n in range(1, 13) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


# Modes and count_include_pad (which changes the average only).
MODE_SETTINGS = [('avg', None, False)] + [(mode, p, True) for mode, p in MODES]


@pytest.mark.sweep
@pytest.mark.parametrize('ceil_mode', [False, True])
@pytest.mark.parametrize('mode, p_value, count_include_pad', MODE_SETTINGS)
@pytest.mark.parametrize('axis', ['H', 'W'])
def test_every_configuration_of_one_axis_agrees_with_mxnet(rng, axis, mode, p_value,
                                                           count_include_pad, ceil_mode):
    # Exhaustive along one axis (n 1..12, window 1..4, stride 1..3, padding 0..window-1),
    # the other axis trivial (window 1, stride 1, no padding), on a (2, 3, ., .) batch.
    # MXNet's extra ceil-mode windows hold no input cell: the lowest float32 for a max,
    # 0 for the sums; the grid reaches such windows in ceil mode.
    failures, dropped = [], 0
    for n, k, s, p in AXIS_GRID:
        shape, args = (2, 3, n, 5), dict(pool_size=(k, 1), strides=(s, 1), padding=(p, 0))
        if axis == 'W':
            shape, args = (2, 3, 5, n), {key: v[::-1] for key, v in args.items()}
        args.update(mode=mode, p_value=p_value, ceil_mode=ceil_mode,
                    count_include_pad=count_include_pad)
        X = rng.standard_normal(shape).astype(np.float32)
        try:
            Y = pool2d(X, **args)
            # One MXNet call: its windows (as mxnet_pool2d keeps them) and the extra ones.
            full = mxnet_pool2d(X, **args, keep_extra=True)
            out_h, out_w = kept_shape(shape, args['pool_size'], args['strides'],
                                      args['padding'], ceil_mode)[-2:]
            assert_like(lambda *_, **__: full[..., :out_h, :out_w], Y, X, **args)
            extra = np.ones(full.shape, bool)
            extra[..., :out_h, :out_w] = False
            empty = np.finfo(np.float32).min if mode == 'max' else 0
            assert np.all(full[extra] == empty)
            dropped += extra.any()
        except AssertionError as error:
            failures.append(f'n={n} k={k} s={s} p={p}: {str(error).strip()[:300]}')
    assert not failures, (f'{len(failures)} of {len(AXIS_GRID)} configurations disagree with '
                          f'MXNet:\n' + '\n'.join(failures[:10]))
    assert dropped > 0 if ceil_mode else dropped == 0  # the grid reaches dropped windows


@settings(max_examples=150)
@given(pool_cases(modes=('max', 'avg', 'sum', 'lp'), dtypes=(np.float32, np.float64),
                  kinds=('numpy', 'ndarray')), st.booleans())
def test_2d_cases_agree_with_mxnet(case, numpy_path):
    # Rank 2, 3 or 4, numpy or NDArray, float32 or float64, sides up to 12, windows up to
    # 4, strides up to 3, any padding below the window; the compiled kernel or numpy's.
    X = case.pop('X')
    with kernels.numpy_only() if numpy_path else contextlib.nullcontext():
        Y = pool2d(X, **case)
    assert type(Y) is type(X) and Y.dtype == X.dtype
    assert_like(mxnet_pool2d, Y, X, **case)


@settings(max_examples=100)
@given(pool_cases(modes=('max', 'avg'), dtypes=(np.float32, np.float64), nan=True))
def test_2d_cases_with_nan_agree_with_pytorch(case):
    # PyTorch propagates NaN as pool2d does (MXNet's max skips it); it takes padding up to
    # half the window.
    assume(torch_accepts(case['pool_size'], case['padding']))
    assert_like(torch_pool2d, pool2d(**case), **case)


@pytest.mark.parametrize('layer', [((2, 3, 56, 56), 3, 2, 1), ((2, 3, 112, 112), 2, 2, 0),
                                   ((2, 5, 28, 28), 3, 1, 1), ((1, 2, 13, 11), 4, 3, 2)])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_network_layers_agree_with_mxnet_on_both_paths(rng, layer, mode):
    shape, k, s, p = layer
    X = rng.standard_normal(shape, dtype=np.float32)
    assert_like(mxnet_pool2d, pool2d(X, k, mode, strides=s, padding=p), X, k, mode,
                strides=s, padding=p)
    with kernels.numpy_only():
        assert_like(mxnet_pool2d, pool2d(X, k, mode, strides=s, padding=p), X, k, mode,
                    strides=s, padding=p)


@pytest.mark.parametrize('shape, dtype', [
    ((3, 7, 150, 131), np.float32),    # 21 large maps, 8.3 MB in float64 below ...
    ((41, 59, 12, 11), np.float32),    # ... or 2419 small ones: several MB in all, so that
    ((3, 7, 150, 131), np.float64),    # an implementation working in pieces (pool2d pools a
    ((41, 59, 12, 11), np.float64),    # few maps at a time) needs more than one piece
])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_large_batches_agree_with_mxnet(rng, shape, dtype, mode):
    X = rng.standard_normal(shape).astype(dtype)
    for args in [dict(pool_size=(3, 3), strides=(2, 2), padding=(1, 1), ceil_mode=True,
                      count_include_pad=False),
                 dict(pool_size=(2, 4), strides=(1, 3), padding=(0, 2))]:
        Y = pool2d(X, mode=mode, **args)
        assert Y.dtype == dtype
        assert_like(mxnet_pool2d, Y, X, mode=mode, **args)


# ----------------------------------------------------------------------------------------
# Kinds, shapes and dtypes of the result; what pool2d does not change.

@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('shape', [(4, 5), (3, 4, 5), (2, 3, 4, 5)])
def test_result_kind_and_shape(rng, as_kind, shape, mode):
    # Window (2, 3), stride (2, 1), padding (1, 0): floor((4 + 2 - 2) / 2) + 1 = 3 rows,
    # floor((5 - 3) / 1) + 1 = 3 columns; the leading axes are kept.
    X = as_kind(rng.standard_normal(shape).astype(np.float32))
    Y = pool2d(X, (2, 3), mode, strides=(2, 1), padding=(1, 0))
    assert type(Y) is type(X) and Y.dtype == np.float32
    assert tuple(Y.shape) == shape[:-2] + (3, 3)
    if isinstance(X, nd.NDArray):
        assert Y.context == X.context


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_non_contiguous_input(rng, as_kind, mode):
    # A strided, transposed view of a larger array: pool2d must read it as the array it shows.
    big = rng.standard_normal((4, 3, 20, 30)).astype(np.float32)
    view = big[::2, :, 1::2, ::3].transpose(1, 0, 3, 2)  # shape (3, 2, 10, 10)
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    args = dict(strides=(2, 1), padding=(1, 1), ceil_mode=True)
    assert_like(mxnet_pool2d, pooled(as_kind(view), (3, 2), mode, **args), view, (3, 2),
                mode, **args)


def test_int_sizes_mean_square_windows_strides_and_padding():
    # The source's values again, with ints for every size: window 2 on 0..8 -> [[4, 5], [7, 8]]
    np.testing.assert_array_equal(pool2d(np.float32(X3), 2), [[4, 5], [7, 8]])
    # window 2, stride 2 on 0..15 (4 x 4): maxima of the four 2 x 2 blocks, e.g. {0,1,4,5} -> 5
    np.testing.assert_array_equal(pool2d(X16[0, 0], 2, strides=2), [[5, 7], [13, 15]])
    # a (1, 2) pair vs the int 2 must differ: 0..8 with window (1, 2) -> row-wise pairs
    np.testing.assert_array_equal(pool2d(np.float32(X3), (1, 2)), [[1, 2], [4, 5], [7, 8]])


def test_numpy_integers_are_accepted_as_sizes(as_kind):
    X = as_kind(X16)
    Y = pooled(X, np.int64(3), padding=np.int64(1), strides=np.int32(2))  # the source's
    np.testing.assert_array_equal(Y, [[[[5, 7], [13, 15]]]])
    Y = pooled(X, (np.int64(2), np.int16(3)), padding=(np.int8(1), np.int64(2)),
               strides=(np.int64(2), np.uint8(3)))
    np.testing.assert_array_equal(Y, [[[[0, 3], [8, 11], [12, 15]]]])


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_float64_input_stays_float64(rng, as_kind, mode):
    A = rng.standard_normal((2, 5, 6))
    args = dict(strides=2, padding=1, ceil_mode=True, count_include_pad=False)
    Y = pool2d(as_kind(A), (3, 2), mode, **args)
    assert Y.dtype == np.float64
    assert_like(mxnet_pool2d, Y, A, (3, 2), mode, **args)


def test_float64_average_is_not_rounded_to_float32():
    # (1 + 2**-40) / 1 would be rounded to 1 in float32; window 1 keeps it exactly.
    # And (0.1 + 0.2) / 2 in float64 is 0.15000000000000002 by hand (0.30000000000000004 / 2).
    X = np.array([[1 + 2.0 ** -40, 0.1, 0.2]])
    np.testing.assert_array_equal(pool2d(X, 1, 'avg'), X)
    assert pool2d(X, (1, 2), 'avg')[0, 1] == (0.1 + 0.2) / 2


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_channels_are_pooled_separately(rng, as_kind, mode):
    X = as_kind(rng.standard_normal((3, 7, 6)).astype(np.float32))
    args = dict(strides=(2, 3), padding=(1, 1), ceil_mode=True, count_include_pad=False)
    Y = pooled(X, (3, 2), mode, **args)
    for c in range(3):
        np.testing.assert_array_equal(Y[c], pooled(X[c], (3, 2), mode, **args))


def numpy_kinds():
    """X16's 4 x 4 map as each kind of numpy array the package takes, by name."""
    X = X16[0, 0]
    read_only = X.copy()
    read_only.flags.writeable = False
    return {'read-only': read_only, 'non-contiguous': np.repeat(X, 2, axis=1)[:, ::2],
            'fortran': np.asfortranarray(X), 'big-endian': X.astype('>f4'),
            'matrix': X.view(np.matrix)}


@pytest.mark.parametrize('kind', list(numpy_kinds()))
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_numpy_kinds_pool_like_mxnet_and_come_back_plain(kind, mode):
    X = numpy_kinds()[kind]
    before = np.array(X)
    Y = pool2d(X, 2, mode)
    assert type(Y) is np.ndarray and Y.dtype == np.float32 and Y.dtype.isnative
    assert_like(mxnet_pool2d, Y, X16[0, 0], 2, mode)
    np.testing.assert_array_equal(np.array(X), before)


def test_memmap_input(tmp_path):
    M = np.memmap(tmp_path / 'x.dat', dtype=np.float32, mode='w+', shape=(4, 4))
    M[:] = X16[0, 0]
    Y = pool2d(M, 2, 'avg')
    assert type(Y) is np.ndarray
    assert_like(mxnet_pool2d, Y, X16[0, 0], 2, 'avg')


def test_fortran_ordered_batch_pools_like_c_order(rng):
    X = rng.standard_normal((3, 4, 9, 8)).astype(np.float32)
    for mode in ('max', 'avg'):
        np.testing.assert_array_equal(pool2d(np.asfortranarray(X), 3, mode, strides=2),
                                      pool2d(X, 3, mode, strides=2))
    Xi = rng.integers(-100, 100, (3, 4, 9, 8)).astype(np.int8)
    assert_like(plain_pool2d, pool2d(np.asfortranarray(Xi), 2, 'avg'), Xi, 2, 'avg')


def test_mx_np_arrays_come_back_as_mx_np_without_warnings():
    X = mx.np.array(X16[0, 0])   # warnings are errors under pytest (pyproject)
    Y = pool2d(X, 2, 'avg')
    assert type(Y) is mx.np.ndarray
    assert_like(mxnet_pool2d, Y, X16[0, 0], 2, 'avg')


def test_ndarray_results_stay_on_the_inputs_context():
    assert pool2d(nd.array(X16, ctx=mx.cpu(1)), 2).context == mx.cpu(1)


@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int32])
def test_input_is_never_changed(rng, as_kind, mode, dtype):
    values = rng.standard_normal((2, 3, 7, 8)) * 10
    values[0, 0, 0, 0] = np.nan if dtype != np.int32 else 0
    X = as_kind(values.astype(dtype))
    before = as_numpy(X).copy()
    for kwargs in [dict(), dict(strides=2, padding=1, ceil_mode=True),
                   dict(strides=(3, 1), padding=(2, 0), count_include_pad=False)]:
        Y = pool2d(X, (3, 2), mode, **kwargs)
        np.testing.assert_array_equal(as_numpy(X), before)
        if isinstance(X, np.ndarray):
            assert not np.shares_memory(Y, X)  # the result is not a view of the input


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_read_only_input_is_accepted(rng, mode):
    # An input that cannot be written to: any write into it would raise.
    X = rng.standard_normal((2, 6, 5)).astype(np.float32)
    X.setflags(write=False)
    np.testing.assert_array_equal(pool2d(X, 1, mode), X)  # window 1, stride 1: identity
    pool2d(X, 3, mode, strides=2, padding=1, ceil_mode=True)


def test_changing_the_result_does_not_change_the_input():
    X = np.arange(6, dtype=np.float32).reshape((2, 3))
    Y = pool2d(X, 1)
    Y[...] = -1
    np.testing.assert_array_equal(X, [[0, 1, 2], [3, 4, 5]])


# ----------------------------------------------------------------------------------------
# Integers and float16: max keeps the dtype; sums in float64 (integers) or float32.

@pytest.mark.parametrize('kind, dtype', [('numpy', d) for d in INT_DTYPES] + [
    ('ndarray', d) for d in (np.int8, np.uint8, np.int32, np.int64)])  # MXNet's int dtypes
def test_integer_max_keeps_the_dtype(kind, dtype):
    as_kind = ARRAY_KINDS[kind]
    # lo, lo / lo, hi with window 2, padding 1 (windows as in the hand-computed X22 case):
    # row 0: {lo}, {lo, lo}, {lo}; row 1: {lo, lo}, all, {lo, hi}; row 2: {lo}, {lo, hi}, {hi}.
    # All-lo windows stay lo: padding never wins, even when lo is the dtype's minimum.
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    Y = pool2d(as_kind(np.array([[lo, lo], [lo, hi]], dtype=dtype)), 2, padding=1)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(as_numpy(Y), [[lo, lo, lo], [lo, hi, hi], [lo, hi, hi]])
    Y = pool2d(as_kind(np.array(X3, dtype=dtype)), (2, 2))  # the source's example
    assert Y.dtype == dtype
    np.testing.assert_array_equal(as_numpy(Y), [[4, 5], [7, 8]])


@pytest.mark.parametrize('dtype', [np.int8, np.uint8, np.int64])
def test_integer_max_at_the_extremes_with_padding(dtype):
    info = np.iinfo(dtype)
    X = np.array([[info.min, info.max], [info.min, info.min]], dtype)
    Y = pool2d(X, 2, 'max', padding=1)
    assert Y.dtype == dtype   # by hand: output (i, j) sees rows i-1..i, columns j-1..j
    lo, hi = info.min, info.max
    np.testing.assert_array_equal(Y, [[lo, hi, hi], [lo, hi, hi], [lo, lo, lo]])


@pytest.mark.parametrize('dtype', [np.int32, np.int64])
@pytest.mark.parametrize('strides, padding, ceil_mode', [(1, 0, False), (2, 1, True),
                                                        ((3, 2), (2, 1), True)])
def test_integer_max_agrees_with_mxnet(rng, dtype, strides, padding, ceil_mode):
    # small integers are exact in float64, where the reference pools integers
    X = rng.integers(-1000, 1000, size=(2, 3, 9, 8)).astype(dtype)
    Y = pool2d(X, 3, strides=strides, padding=padding, ceil_mode=ceil_mode)
    assert Y.dtype == dtype
    assert_like(mxnet_pool2d, Y, X, 3, strides=strides, padding=padding,
                ceil_mode=ceil_mode)


@pytest.mark.parametrize('dtype', INT_DTYPES)
def test_integer_average_is_float64_and_exact(dtype):
    # The source's example: 2 x 2 means of 0..8 are [[2, 3], [5, 6]] ...
    Y = pool2d(np.array(X3, dtype=dtype), (2, 2), 'avg')
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[2, 3], [5, 6]])
    # ... and means are not truncated: (1 + 2) / 2 = 1.5, (3 + 4) / 2 = 3.5.
    Y = pool2d(np.array([[1, 2], [3, 4]], dtype=dtype), (1, 2), 'avg')
    np.testing.assert_array_equal(Y, [[1.5], [3.5]])
    # ... nor overflowed: (hi + hi) / 2 = hi, although hi + hi does not fit in the dtype.
    hi = np.iinfo(dtype).max
    np.testing.assert_array_equal(pool2d(np.array([[hi, hi]], dtype=dtype), (1, 2), 'avg'),
                                  [[float(hi)]])


@pytest.mark.parametrize('dtype', [np.int8, np.uint8, np.int32, np.int64])
def test_integer_average_is_exact_at_the_extremes(rng, dtype):
    # The plain reference sums Python integers and divides once: correctly rounded.
    info = np.iinfo(dtype)
    X = rng.choice([info.min, info.max, 0, 1], size=(5, 5)).astype(dtype)
    if dtype == np.int64:   # float64 holds sums exactly only below 2**53
        X = (X // 2**12).astype(dtype)
    Y = pool2d(X, 2, 'avg')
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, plain_pool2d(X, 2, 'avg'))


def test_integer_average_by_hand_with_padding():
    # X22 as int32, window 2, padding 1, count_include_pad=False: see test_hand_computed_padding.
    Y = pool2d(np.array(X22, dtype=np.int32), 2, 'avg', padding=1, count_include_pad=False)
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[1, 1.5, 2], [2, 2.5, 3], [3, 3.5, 4]])


@pytest.mark.parametrize('dtype', [np.int32, np.uint8])
def test_integer_average_of_ndarray_ints_is_float(dtype):
    Y = pool2d(nd.array(X3, dtype=dtype), (2, 2), 'avg')
    assert isinstance(Y, nd.NDArray) and np.issubdtype(Y.dtype, np.floating)
    np.testing.assert_array_equal(Y.asnumpy(), [[2, 3], [5, 6]])
    Y = pool2d(nd.array([[1, 2]], dtype=dtype), (1, 2), 'avg')  # (1 + 2) / 2 = 1.5
    np.testing.assert_array_equal(Y.asnumpy(), [[1.5]])
    # 200s do not wrap in uint8 (200 + 200 > 255): the average of 200s is 200.
    Y = pool2d(nd.array(np.full((3, 3), 200), dtype=dtype), 2, 'avg')
    np.testing.assert_array_equal(Y.asnumpy(), np.full((2, 2), 200.0))


def test_integers_give_float64_in_the_other_modes():
    X = np.array([[1, 2], [3, 4]], np.int8)
    for mode, p in MODES[1:]:
        assert pool2d(X, 2, mode, p_value=p).dtype == np.float64
    np.testing.assert_array_equal(pool2d(X, 2, 'sum'), [[10]])  # no int8 overflow either
    np.testing.assert_allclose(pool2d(X, 2, 'lp', p_value=2), [[30 ** 0.5]])


@pytest.mark.parametrize('value', [60000.0, 65504.0, -65504.0, 1000.0])
def test_float16_average_of_large_values_does_not_overflow(as_kind, value):
    Y = pool2d(as_kind(np.full((4, 4), value, np.float16)), 2, 'avg')
    assert Y.dtype == np.float16
    np.testing.assert_array_equal(as_numpy(Y), np.full((3, 3), value, np.float16))  # by hand
    assert_like(mxnet_pool2d, Y, np.full((4, 4), value, np.float16), 2, 'avg')


def test_float16_average_over_more_than_65504_cells_is_finite():
    X = np.full((300, 300), 0.5, np.float16)       # 90,000 cells, > float16's largest
    Y = pool2d(X, 300, 'avg')
    assert Y.dtype == np.float16 and Y[0, 0] == np.float16(0.5)


def test_float16_average_sums_like_mxnet_on_random_data(rng):
    X = rng.uniform(-1000, 1000, (2, 3, 12, 12)).astype(np.float16)
    assert_like(mxnet_pool2d, pool2d(X, 3, 'avg', strides=2, padding=1), X, 3, 'avg',
                strides=2, padding=1)


# ----------------------------------------------------------------------------------------
# NaN and infinities.

@pytest.mark.parametrize('mode, expected', [
    # NaN at (0, 0) of 0..8 (first NaN, then larger numbers: a max must not skip it);
    # only the top-left 2 x 2 window holds it.
    ('max', [[np.nan, 5], [7, 8]]),
    ('avg', [[np.nan, 3], [5, 6]]),
])
def test_nan_propagates_by_hand(as_kind, mode, expected):
    X = np.array(X3, dtype=np.float32)
    X[0, 0] = np.nan
    np.testing.assert_array_equal(pooled(as_kind(X), (2, 2), mode), expected)


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_nan_after_a_larger_number_propagates(mode):
    # [[100, NaN, 0]] with window (1, 2): both windows hold the NaN -> [[NaN, NaN]];
    # window (1, 1) gives X itself.
    X = np.array([[100, np.nan, 0]])
    assert np.isnan(pool2d(X, (1, 2), mode)).all()
    np.testing.assert_array_equal(pool2d(X, 1, mode), X)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('args', [
    dict(pool_size=(2, 2)),
    dict(pool_size=(3, 2), strides=(2, 1), padding=(1, 1), ceil_mode=True,
         count_include_pad=False),
    dict(pool_size=(3, 4), strides=(3, 2), padding=(2, 3), ceil_mode=True),
])
def test_nan_propagates_only_to_the_windows_holding_it(rng, dtype, mode, args):
    X = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    X[rng.random(X.shape) < 0.03] = np.nan
    Y = pool2d(X, mode=mode, **args)
    holds_nan = np.isnan(plain_pool2d(X, mode='sum', **args))
    assert 0 < holds_nan.sum() < holds_nan.size
    np.testing.assert_array_equal(np.isnan(Y), holds_nan)
    assert_like(plain_pool2d, Y, X, mode=mode, **args)


@pytest.mark.parametrize('value', [np.inf, -np.inf])
@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_infinities_pool_like_mxnet(value, dtype):
    X = X16[0, 0].astype(dtype)
    X[1, 2] = value
    for mode in ('max', 'avg'):
        assert_like(mxnet_pool2d, pool2d(X, 2, mode), X, 2, mode)


def test_mixed_infinities_average_to_nan():
    X = np.array([[np.inf, -np.inf]], np.float32)
    assert np.isnan(pool2d(X, (1, 2), 'avg')[0, 0])   # inf - inf, by IEEE


def test_nan_propagates_in_every_mode():
    F = np.array([[np.nan, 1.0], [2.0, 3.0]])
    for mode, p in MODES:
        assert np.isnan(pool2d(F, 2, mode, p_value=p)[0, 0])


# ----------------------------------------------------------------------------------------
# Sizes: huge windows answer at once; absurd ones are refused at once.

@pytest.mark.parametrize('k, p, s, mode, want', [
    # window (1, k) over a single cell of value 3, padding k - 1, stride k: one output;
    # max: 3; average with padding counted: 3 / k (by hand).
    (10**15, 10**15 - 1, 10**15, 'max', 3.0),
    (10**15, 10**15 - 1, 10**15, 'avg', 3e-15),
    (2**60, 2**60 - 1, 2**60, 'max', 3.0),
    (10**9 + 2, 10**9 + 1, 10**9, 'max', 3.0),   # two windows, disjoint offset ranges
])
def test_huge_windows_on_a_tiny_input_answer_at_once(k, p, s, mode, want):
    # A loop over a huge window's offsets would take millions of Python steps.
    Y = within_steps(lambda: pool2d(np.full((1, 1), 3.0), (1, k), mode, strides=(1, s),
                                    padding=(0, p)))
    np.testing.assert_allclose(Y[0, 0], want, rtol=1e-12)


def test_huge_window_average_without_padding_counted():
    Y = within_steps(lambda: pool2d(np.full((1, 1), 3.0), (1, 10**15), 'avg',
                                    strides=10**15, padding=(0, 10**15 - 1),
                                    count_include_pad=False))
    assert Y.shape == (1, 1) and Y[0, 0] == 3.0


def test_absurd_sizes_are_refused_at_once():
    # The example: MXNet refuses it at once, so do we (no loop over offsets).
    with pytest.raises(ValueError, match=r'pool_size.*2\*\*60'):
        within_steps(lambda: pool2d(np.ones((1, 1)), (1, 10**30), padding=(0, 10**30 - 1)))
    with pytest.raises(ValueError, match='strides'):
        within_steps(lambda: pool2d(np.ones((1, 1)), 1, strides=2**61))


def test_an_output_too_large_for_memory_fails_at_once():
    with pytest.raises(MemoryError):
        within_steps(lambda: pool2d(np.ones((1, 1)), (1, 10**15), padding=(0, 10**15 - 1)))


# ----------------------------------------------------------------------------------------
# Bad arguments: the exception, a message naming the parameter, its value and the rule.

BAD_ARGUMENTS = [
    # a window larger than the (padded) input, which is 4 x 4
    (dict(pool_size=5), ValueError, ['pool_size', '(5, 5)', '(4, 4)', 'larger']),
    (dict(pool_size=(2, 5)), ValueError, ['pool_size', '(2, 5)', '(4, 4)', 'larger']),
    (dict(pool_size=(5, 1)), ValueError, ['pool_size', '(5, 1)', 'does not fit']),
    (dict(pool_size=(3, 7), padding=1), ValueError, ['pool_size', '(3, 7)', '(6, 6)', 'larger']),
    # not an integer
    (dict(pool_size=2.0), TypeError, ['pool_size', '2.0', 'int']),
    (dict(pool_size=(2, 2.5)), TypeError, ['pool_size', '2.5', 'int']),
    (dict(pool_size=np.float64(2)), TypeError, ['pool_size', '2.0', 'int']),
    (dict(pool_size=True), TypeError, ['pool_size', 'True', 'bool']),
    (dict(pool_size=(2, False)), TypeError, ['pool_size', 'False', 'bool']),
    (dict(pool_size=np.bool_(True)), TypeError, ['pool_size', 'True', 'int']),
    (dict(pool_size='2'), TypeError, ['pool_size', "'2'", 'int']),
    (dict(pool_size=None), TypeError, ['pool_size', 'None', 'int']),
    (dict(strides=1.0), TypeError, ['strides', '1.0', 'int']),
    (dict(strides=(1, True)), TypeError, ['strides', 'True', 'bool']),
    (dict(strides='1'), TypeError, ['strides', "'1'", 'int']),
    (dict(padding=0.0), TypeError, ['padding', '0.0', 'int']),
    (dict(padding=False), TypeError, ['padding', 'False', 'bool']),
    (dict(padding=(0, '1')), TypeError, ['padding', "'1'", 'int']),
    (dict(padding=(0.5, 0)), TypeError, ['padding', '0.5', 'int']),
    # out of range
    (dict(pool_size=0), ValueError, ['pool_size', '0', 'at least 1']),
    (dict(pool_size=(0, 2)), ValueError, ['pool_size', '(0, 2)', 'at least 1']),
    (dict(pool_size=-1), ValueError, ['pool_size', '-1', 'at least 1']),
    (dict(pool_size=(2, -3)), ValueError, ['pool_size', '-3', 'at least 1']),
    (dict(strides=0), ValueError, ['strides', '0', 'at least 1']),
    (dict(strides=(1, 0)), ValueError, ['strides', '(1, 0)', 'at least 1']),
    (dict(strides=-2), ValueError, ['strides', '-2', 'at least 1']),
    (dict(padding=-1), ValueError, ['padding', '-1', 'at least 0']),
    (dict(padding=(0, -1)), ValueError, ['padding', '(0, -1)', 'at least 0']),
    # padding as large as the window (or larger)
    (dict(pool_size=2, padding=2), ValueError, ['padding', '(2, 2)', 'pool_size', 'smaller']),
    (dict(pool_size=(3, 2), padding=(1, 2)), ValueError,
     ['padding', '(1, 2)', 'pool_size', '(3, 2)', 'smaller']),
    (dict(pool_size=1, padding=1), ValueError, ['padding', '(1, 1)', 'smaller']),
    (dict(pool_size=2, padding=(3, 0)), ValueError, ['padding', '(3, 0)', 'smaller']),
    # a pair of the wrong length
    (dict(pool_size=(2, 2, 2)), ValueError, ['pool_size', '(2, 2, 2)', '3 entries', 'pair']),
    (dict(pool_size=(2,)), ValueError, ['pool_size', '(2,)', '1 entries', 'pair']),
    (dict(pool_size=()), ValueError, ['pool_size', '()', '0 entries', 'pair']),
    (dict(strides=[1, 1, 1]), ValueError, ['strides', '[1, 1, 1]', 'pair']),
    (dict(padding=(0, 0, 0, 0)), ValueError, ['padding', '(0, 0, 0, 0)', 'pair']),
    # an unknown mode, a p_value that does not go with it
    (dict(mode='min'), ValueError, ['mode', "'min'", "'max' or 'avg'", "'sum'", "'lp'"]),
    (dict(mode='MAX'), ValueError, ['mode', "'MAX'", "'max' or 'avg'"]),
    (dict(mode='average'), ValueError, ['mode', "'average'", "'max' or 'avg'"]),
    (dict(mode=None), ValueError, ['mode', 'None', "'max' or 'avg'"]),
    (dict(mode=1), ValueError, ['mode', '1', "'max' or 'avg'"]),
    (dict(mode='lp'), ValueError, ['p_value', 'None']),
    (dict(mode='lp', p_value=4), ValueError, ['p_value', '4', '1, 2 or 3']),
    (dict(mode='lp', p_value=0), ValueError, ['p_value', '0']),
    (dict(mode='lp', p_value=2.0), TypeError, ['p_value', '2.0']),
    (dict(mode='lp', p_value=True), TypeError, ['p_value', 'True']),
    (dict(mode='max', p_value=2), ValueError, ['p_value', "'lp'"]),
    (dict(mode='sum', p_value=1), ValueError, ['p_value', "'lp'"]),
    # flags that are not bools
    (dict(ceil_mode=1), TypeError, ['ceil_mode', '1', 'True or False']),
    (dict(ceil_mode=0), TypeError, ['ceil_mode', '0', 'True or False']),
    (dict(ceil_mode='yes'), TypeError, ['ceil_mode', "'yes'", 'True or False']),
    (dict(ceil_mode=None), TypeError, ['ceil_mode', 'None', 'True or False']),
    (dict(count_include_pad=1), TypeError, ['count_include_pad', '1', 'True or False']),
    (dict(count_include_pad='False'), TypeError,
     ['count_include_pad', "'False'", 'True or False']),
    (dict(count_include_pad=None), TypeError, ['count_include_pad', 'None', 'True or False']),
]


@pytest.mark.parametrize('kwargs, error, words', BAD_ARGUMENTS,
                         ids=[repr(case[0]) for case in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_with_a_clear_message(as_kind, kwargs, error, words):
    X = as_kind(X16[0, 0])  # 4 x 4
    before = as_numpy(X).copy()
    kwargs = dict(dict(pool_size=2), **kwargs)
    with pytest.raises(error) as info:
        pool2d(X, kwargs.pop('pool_size'), kwargs.pop('mode', 'max'), **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    np.testing.assert_array_equal(as_numpy(X), before)


def bad_inputs():
    """(X, exception, words): inputs pool2d must refuse, numpy and NDArray."""
    cases = [
        (np.array(3.0), ValueError, ['X must', '0 dimension', '()']),
        (np.arange(4.0), ValueError, ['X must', '1 dimension', '(4,)']),
        (nd.arange(4), ValueError, ['X must', '1 dimension', '(4,)']),
        (np.zeros((1, 1, 1, 3, 3)), ValueError, ['X must', '5 dimension', '(1, 1, 1, 3, 3)']),
        (nd.zeros((1, 1, 1, 3, 3)), ValueError, ['X must', '5 dimension', '(1, 1, 1, 3, 3)']),
        (np.zeros((1, 1, 1, 1, 3, 3)), ValueError, ['X must', '6 dimension']),
        (np.zeros((0, 3)), ValueError, ['X must', 'empty axis', '(0, 3)']),
        (np.zeros((3, 0)), ValueError, ['X must', 'empty axis', '(3, 0)']),
        (np.zeros((2, 0, 3, 3)), ValueError, ['X must', 'empty axis', '(2, 0, 3, 3)']),
        (np.zeros((0, 1, 4, 4)), ValueError, ['X must', 'empty axis', '(0, 1, 4, 4)']),
        (nd.array(np.zeros((0, 3), np.float32)), ValueError, ['X must', 'empty axis', '(0, 3)']),
        (np.ones((3, 3), dtype=bool), TypeError, ['X must', 'real numbers', 'bool']),
        (nd.array(np.ones((3, 3)), dtype=bool), TypeError, ['X must', 'real numbers', 'bool']),
        (np.ones((3, 3), dtype=object), TypeError, ['X must', 'real numbers', 'object']),
        (np.full((3, 3), 'a'), TypeError, ['X must', 'real numbers', 'str']),
        (np.ones((3, 3), dtype=complex), TypeError, ['X must', 'real numbers', 'complex128']),
        (np.ones((3, 3), dtype=np.complex64), TypeError, ['X must', 'real numbers', 'complex64']),
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], TypeError, ['X must', 'numpy array', 'list']),
        ([[1.0, 2.0], [3.0, 4.0]], TypeError, ['X must be', 'numpy array', 'list']),
        (7, TypeError, ['X must', 'numpy array', 'int']),
        (7.0, TypeError, ['X must', 'numpy array', 'float']),
        (None, TypeError, ['X must', 'numpy array', 'NoneType']),
        (np.ma.masked_array(X16[0, 0], X16[0, 0] > 10), TypeError, ['X', 'masked', 'filled']),
    ]
    return [pytest.param(X, error, words, id=f'{type(X).__name__}-{words[1]}-{words[-1]}')
            for X, error, words in cases]


@pytest.mark.parametrize('X, error, words', bad_inputs())
def test_bad_input_is_refused_with_a_clear_message(X, error, words):
    before = as_numpy(X).copy() if hasattr(X, 'shape') else copy.deepcopy(X)
    with pytest.raises(error) as info:
        pool2d(X, 1)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    if hasattr(X, 'shape'):
        np.testing.assert_array_equal(as_numpy(X), before)
    else:
        assert X == before


# ----------------------------------------------------------------------------------------
# Ties: the first maximum in row-major order, as MXNet and PyTorch. Only a zero shows it.

SIGNED = np.array([0.0, -0.0, -1.0])


@pytest.mark.parametrize('numpy_path', [False, True])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.float16])
def test_a_zero_maximum_takes_the_sign_of_the_windows_first_zero(rng, numpy_path, dtype):
    # Windows of +0.0, -0.0 and -1: the maximum is a zero of either sign. PyTorch keeps
    # the first maximum in row-major order (`val > max`), so its sign is the first
    # zero's. Both of pool2d's paths, and float16 (always numpy's), must agree with it.
    for case in range(40):
        H, W = rng.integers(1, 8, size=2)
        k_h, k_w = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
        p_h, p_w = int(rng.integers(0, k_h // 2 + 1)), int(rng.integers(0, k_w // 2 + 1))
        s_h, s_w = (int(s) for s in rng.integers(1, 3, size=2))
        X = rng.choice(SIGNED, size=(2, 3, H, W)).astype(dtype)
        args = dict(strides=(s_h, s_w), padding=(p_h, p_w))
        want = F.max_pool2d(torch.from_numpy(X.astype(np.float32)), (k_h, k_w),
                            stride=(s_h, s_w), padding=(p_h, p_w)).numpy()
        with (kernels.numpy_only() if numpy_path else contextlib.nullcontext()):
            got = pool2d(X, (k_h, k_w), **args)
        np.testing.assert_array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want)), (case, X, args)


@pytest.mark.parametrize('window, first', [
    ([[-1, -0.0], [0.0, -1]], -0.0),  # row-major: -0.0 first; column-major: +0.0 first
    ([[-1, 0.0], [-0.0, -1]], 0.0),
    ([[-0.0, 0.0, -0.0]], -0.0),
    ([[0.0, -0.0, 0.0]], 0.0),
    ([[-0.0], [-0.0]], -0.0),  # every zero negative: -0.0 whatever the order
])
@pytest.mark.parametrize('numpy_path', [False, True])
def test_signed_zero_ties_by_hand_and_as_mxnet(window, first, numpy_path):
    X = np.array(window, np.float32)
    with (kernels.numpy_only() if numpy_path else contextlib.nullcontext()):
        got = pool2d(X, X.shape)
    assert got.shape == (1, 1) and got[0, 0] == 0
    assert np.signbit(got[0, 0]) == np.signbit(first)
    theirs = nd.Pooling(nd.array(X[None, None]), kernel=X.shape, pool_type='max')
    assert np.signbit(theirs.asnumpy()[0, 0, 0, 0]) == np.signbit(first)


class Unread(np.ndarray):
    """Maps whose bits first_zero_signs may not read (it reads them through a view)."""

    def view(self, *args, **kwargs):
        raise AssertionError('the maps were read')


def test_the_maps_are_searched_for_negative_zeros_only_when_a_maximum_is_zero():
    # Only a zero maximum needs a sign. Without one, first_zero_signs returns before it
    # reads the maps: the adaptive and global maximum would read their input once more.
    M = np.full((2, 4, 4), -0.0, np.float32).view(Unread)
    not_asked = lambda P: pytest.fail('no window needs its first zero')
    Z = np.array([[[1.0, np.nan]], [[-2.0, np.inf]]], np.float32)
    poolbook.pooling.first_zero_signs(M, Z, not_asked)  # returns without reading M
    assert Z[0, 0, 0] == 1 and np.isnan(Z[0, 0, 1])
    Z[1, 0, 0] = 0.0
    with pytest.raises(AssertionError, match='the maps were read'):
        poolbook.pooling.first_zero_signs(M, Z, not_asked)


@pytest.mark.parametrize('numpy_path', [False, True])
def test_a_float32_average_whose_sum_passes_float32s_maximum_is_inf_as_mxnets(numpy_path):
    # Two cells of 3e38: their sum, 6e38, passes float32's maximum (3.4e38). Sums of
    # float32 are taken in float32 (MXNet's rule), so the average is inf, as MXNet's
    # is, on both paths and in global and adaptive pooling; float64 holds it.
    A = np.full((1, 1, 2, 2), 3e38, np.float32)
    theirs = nd.Pooling(nd.array(A), kernel=(1, 2), pool_type='avg').asnumpy()
    assert np.isposinf(theirs).all()
    with (kernels.numpy_only() if numpy_path else contextlib.nullcontext()):
        assert np.isposinf(pool2d(A, (1, 2), 'avg')).all()
    assert np.isposinf(poolbook.global_pool2d(A, 'avg')).all()
    assert np.isposinf(poolbook.adaptive_pool2d(A, 1, 'avg')).all()
    np.testing.assert_array_equal(pool2d(A.astype(np.float64), (1, 2), 'avg'),
                                  np.full((1, 1, 2, 1), np.float64(np.float32(3e38))))


def test_a_zero_maximum_takes_the_first_zeros_sign_channels_last_too(rng):
    # layout='NHWC' runs its own kernel (rows, then columns, as pool_maps): the sign of
    # a zero maximum is still the first zero's in row-major order, as PyTorch gives it.
    for _ in range(40):
        H, W = (int(n) for n in rng.integers(1, 7, size=2))
        k_h, k_w = int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1))
        X = rng.choice(SIGNED, size=(2, H, W, 3)).astype(np.float32)
        first = np.ascontiguousarray(np.moveaxis(X, -1, -3))
        want = F.max_pool2d(torch.from_numpy(first), (k_h, k_w), stride=1).numpy()
        got = np.moveaxis(pool2d(X, (k_h, k_w), layout='NHWC'), -1, -3)
        assert np.array_equal(np.signbit(got), np.signbit(want)), (X, k_h, k_w)
