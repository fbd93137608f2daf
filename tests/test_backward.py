"""pool2d_backward (poolbook.backward): dL/dX of pooling, against MXNet's autograd.

Where the expected values come from: autograd through mx.nd.Pooling (run in float64, where
MXNet uses its own kernel, and in float32, where it uses oneDNN), nd.Deconvolution for the
average, and small cases worked out by hand in the comments; never the code's own output.

In float32 MXNet pools with oneDNN, whose backward disagrees with its own forward (and with
MXNet's native kernel) in ceil mode when a last window runs past the padded input: it
divides by the full window where the forward divides by the cells the window covers, and
some such shapes fail with "could not create a descriptor". So the float32 sweep stays in
floor mode; the float64 comparisons (MXNet's native kernel) cover every setting.

MXNet keeps, in ceil mode, a last window that starts in the trailing padding; pool2d drops
it. Such a window holds no input cell, so whatever gradient MXNet gives it reaches no input
cell either: the comparisons give MXNet a zero output gradient there.
"""
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import nd

import poolbook
from poolbook import kernels
from poolbook.backward import check_gradient, pool2d_backward
from poolbook.pooling import pool2d
from reference import kept_shape, mxnet_pool2d_backward
from steps import within_steps
from strategies import pool_cases


def mxnet_backward(X, dY, pool_size, strides, padding, mode, ceil_mode, count_include_pad,
                   dtype=np.float64):
    """dL/dX by MXNet's autograd (tests/reference.py), these arguments in pool2d's order."""
    return mxnet_pool2d_backward(X, dY, pool_size, mode, strides=strides, padding=padding,
                                 ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                                 dtype=dtype)


def check_case(X, pool_size, strides, padding, mode, ceil_mode, count_include_pad, rng,
               dtype=np.float64):
    """pool2d_backward on X with a random dY (the shape of pool2d's output, counted
    window by window), against MXNet's autograd."""
    dY = rng.standard_normal(kept_shape(X.shape, pool_size, strides, padding,
                                        ceil_mode)).astype(dtype)
    got = pool2d_backward(X, dY, pool_size, mode, strides=strides, padding=padding,
                          ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    want = mxnet_backward(X, dY, pool_size, strides, padding, mode, ceil_mode,
                          count_include_pad, dtype)
    assert got.shape == X.shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_the_package_exports_pool2d_backward():
    assert poolbook.pool2d_backward is pool2d_backward


# ----------------------------------------------------------------------------------------
# By hand.

def test_max_ties_go_to_the_first_maximum_in_row_major_order():
    # 2 x 2 windows at stride 1 over [[1, 3, 3], [3, 0, 3], [2, 3, 1]]: the four windows'
    # maxima are all 3; their first 3 in row-major order sit at (0, 1), (0, 1), (1, 0) and
    # (1, 2). With dY = 1 everywhere, (0, 1) gets 2 and the others 1.
    X = np.array([[1, 3, 3], [3, 0, 3], [2, 3, 1]], dtype=np.float64)
    expected = [[0, 2, 0], [1, 0, 1], [0, 0, 0]]
    np.testing.assert_array_equal(pool2d_backward(X, np.ones((2, 2)), 2), expected)
    for dtype in (np.float64, np.float32):  # MXNet's own kernel, then oneDNN's
        np.testing.assert_array_equal(
            mxnet_backward(X[None, None], np.ones((1, 1, 2, 2)), (2, 2), (1, 1), (0, 0),
                           'max', False, True, dtype)[0, 0], expected)


def test_all_equal_window_gives_everything_to_its_first_cell():
    # One 3 x 3 window of equal values: the gradient 5 goes to (0, 0) alone.
    dX = pool2d_backward(np.zeros((3, 3)), np.array([[5.0]]), 3)
    np.testing.assert_array_equal(dX, [[5, 0, 0], [0, 0, 0], [0, 0, 0]])


def test_avg_overlapping_windows_add_up():
    # 2 x 2 windows at stride 1 over a 3 x 3 input, dY = 4 everywhere: each window gives
    # 4 / 4 = 1 to each of its cells, so each cell gets the number of windows covering it.
    dX = pool2d_backward(np.zeros((3, 3)), np.full((2, 2), 4.0), 2, 'avg')
    np.testing.assert_array_equal(dX, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize('count_include_pad, expected', [
    # 2 x 2 input, window 2, padding 1: 3 x 3 windows, each covering one to four input
    # cells; dY = 1. Counting padding every window divides by 4, and each input cell lies
    # in 4 windows: 4 * 1/4 = 1.
    (True, [[1, 1], [1, 1]]),
    # Counting input cells only: cell (0, 0) lies in windows covering 1, 2, 2 and 4 input
    # cells: 1 + 1/2 + 1/2 + 1/4 = 2.25; by symmetry every cell.
    (False, [[2.25, 2.25], [2.25, 2.25]]),
])
def test_avg_padding_by_hand(count_include_pad, expected):
    dX = pool2d_backward(np.zeros((2, 2)), np.ones((3, 3)), 2, 'avg', padding=1,
                         count_include_pad=count_include_pad)
    np.testing.assert_array_equal(dX, expected)


def test_max_nan_window_gives_the_gradient_to_its_first_nan():
    # pool2d propagates NaN; the window's NaN at (0, 1) made the output, so it gets dY.
    X = np.array([[1.0, np.nan], [np.nan, 7.0]])
    np.testing.assert_array_equal(pool2d_backward(X, np.array([[3.0]]), 2),
                                  [[0, 3], [0, 0]])


# ----------------------------------------------------------------------------------------
# Against autograd on nd.Pooling: every setting, exhaustively along each axis.

AXIS_GRID = [(n, k, s, p) for n in range(1, 10) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


@pytest.mark.sweep
@pytest.mark.parametrize('count_include_pad', [True, False])
@pytest.mark.parametrize('ceil_mode', [False, True])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('axis', ['H', 'W'])
def test_every_configuration_of_one_axis_agrees_with_autograd(axis, mode, ceil_mode,
                                                              count_include_pad):
    rng = np.random.default_rng([ord(axis), len(mode), ceil_mode, count_include_pad])
    failures = []
    for n, k, s, p in AXIS_GRID:
        shape = (2, 2, n, 4) if axis == 'H' else (2, 2, 4, n)
        window, strides, padding = ((k, 2), (s, 1), (p, 0)) if axis == 'H' else \
            ((2, k), (1, s), (0, p))
        # small integers: many ties, which must go where MXNet sends them
        X = rng.integers(-2, 3, size=shape).astype(np.float64)
        try:
            check_case(X, window, strides, padding, mode, ceil_mode, count_include_pad, rng)
        except AssertionError as error:
            failures.append(f'n={n} k={k} s={s} p={p}: {str(error).strip()[:300]}')
    assert not failures, f'{len(failures)} of {len(AXIS_GRID)} disagree:\n' + \
        '\n'.join(failures[:5])


@settings(max_examples=120)
@given(pool_cases(dtypes=(np.float64,), leads=[(2, 3)], ceil_modes=(False, True)),
       st.integers(0, 2**32 - 1))
def test_2d_cases_agree_with_autograd_in_float64(case, seed):
    # float64: MXNet's own kernel; small integers, many ties, every setting.
    check_case(case['X'], case['pool_size'], case['strides'], case['padding'],
               case['mode'], case['ceil_mode'], case['count_include_pad'],
               np.random.default_rng(seed))


@settings(max_examples=60)
@given(pool_cases(dtypes=(np.float32,), leads=[(2, 3)], ceil_modes=(False,), ties=False),
       st.integers(0, 2**32 - 1))
def test_2d_cases_agree_with_autograd_in_float32(case, seed):
    # float32 goes through oneDNN, floor mode only (see the docstring); distinct values,
    # so that no tie is left to it.
    X = case['X']
    if len(np.unique(X)) < X.size:
        X = X + np.arange(X.size, dtype=np.float32).reshape(X.shape) * 1e-3
    check_case(X, case['pool_size'], case['strides'], case['padding'], case['mode'],
               False, case['count_include_pad'], np.random.default_rng(seed), np.float32)


# ----------------------------------------------------------------------------------------
# The average's backward is a transposed convolution.

def test_avg_backward_is_a_transposed_convolution():
    # Without padding the divisor is k_h * k_w everywhere: dL/dX is dY spread by a kernel
    # of ones / (k_h * k_w) at the stride, nd.Deconvolution of dY.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 3, 9, 8))
    for window, strides in [((2, 2), (2, 2)), ((3, 2), (1, 2)), ((3, 3), (2, 3))]:
        dY = rng.standard_normal(pool2d(X, window, 'avg', strides=strides).shape)
        kernel = nd.ones((3, 1) + window, dtype=np.float64) / (window[0] * window[1])
        out = nd.Deconvolution(nd.array(dY, dtype=np.float64), kernel, kernel=window,
                               stride=strides, num_filter=3, num_group=3, no_bias=True)
        want = np.zeros(X.shape)
        want[:, :, :out.shape[2], :out.shape[3]] = out.asnumpy()  # rows no window reached
        np.testing.assert_allclose(pool2d_backward(X, dY, window, 'avg', strides=strides),
                                   want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------
# Kinds, dtypes, input unchanged, bad arguments.

@pytest.mark.parametrize('shape', [(5, 6), (3, 5, 6), (2, 3, 5, 6)])
def test_kinds_and_ranks(shape):
    rng = np.random.default_rng(4)
    A = rng.standard_normal(shape).astype(np.float32)
    dY = rng.standard_normal(shape[:-2] + (2, 3)).astype(np.float32)
    want = pool2d_backward(A.reshape((-1, 1, 5, 6)), dY.reshape((-1, 1, 2, 3)), 2,
                           strides=2)
    for X, G in [(A, dY), (nd.array(A), nd.array(dY)), (nd.array(A), dY)]:
        dX = pool2d_backward(X, G, 2, strides=2)
        assert type(dX) is type(X) and tuple(dX.shape) == shape and dX.dtype == np.float32
        got = dX.asnumpy() if isinstance(dX, nd.NDArray) else dX
        np.testing.assert_array_equal(got.reshape(want.shape), want)


def test_integer_input_and_gradient():
    # Max of ints: [[1, 5], [2, 0]] with one window, dY = 3 (int) -> 3 at (0, 1), float64.
    dX = pool2d_backward(np.array([[1, 5], [2, 0]], np.int32), np.array([[3]]), 2)
    assert dX.dtype == np.float64
    np.testing.assert_array_equal(dX, [[0, 3], [0, 0]])


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_inputs_are_not_changed(mode):
    rng = np.random.default_rng(5)
    X, dY = rng.standard_normal((2, 6, 6)), rng.standard_normal((2, 4, 4))
    X0, dY0 = X.copy(), dY.copy()
    pool2d_backward(X, dY, 3, mode, strides=2, padding=1, ceil_mode=True)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(dY, dY0)


@pytest.mark.parametrize('dtype', ['float32', 'uint8'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_an_ndarray_result_shares_no_memory_with_the_input(mode, dtype):
    # float32 takes the compiled kernel, uint8 the numpy steps; either way the result
    # goes back to MXNet without a copy (nd.from_numpy), which must not be X's memory.
    # (Today dX is always a new array and X is copied into numpy, so the writes below
    # guard against a change that would alias them; the comparison with MXNet checks
    # the numbers.)
    rng = np.random.default_rng(6)
    A = rng.integers(0, 9, size=(2, 3, 6, 6)).astype(dtype)
    X, dY = nd.array(A, dtype=dtype), rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    dX = pool2d_backward(X, dY, 3, mode, strides=2, padding=1)
    want = mxnet_pool2d_backward(A, dY, 3, mode, strides=2, padding=1)
    np.testing.assert_allclose(dX.asnumpy(), want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(X.asnumpy(), A)  # the input is unchanged
    dX[:] = -1  # writing the result leaves the input alone ...
    np.testing.assert_array_equal(X.asnumpy(), A)
    X[:] = 100  # ... and writing the input leaves the result alone
    assert (dX.asnumpy() == -1).all()


@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('dtype', ['uint8', 'int8'])
def test_8_bit_gradients_equal_autograd_and_the_float32_gradient(dtype, mode):
    # Images arrive as uint8 (int8 once centred): the numpy steps, a chunk of maps at a
    # time (CHUNK_BYTES is 1 MiB: 13 chunks of up to 83 maps here), and the same numbers as
    # the float32 input of the same values gets from the compiled kernel, to the bit
    # (each average share dY / 9 in float64, as the kernel computes it, each sum rounded
    # to float32). Small values make ties in the maximum.
    rng = np.random.default_rng(7)
    low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
    A = rng.integers(low, high + 1, size=(1000, 56, 56)).astype(dtype)
    A[:10] //= 64  # a few maps of ties
    assert len(A) > 2 * poolbook.CHUNK_BYTES // (56 * 56 * 4)  # three chunks or more
    dY = rng.standard_normal((1000, 28, 28)).astype(np.float32)
    got = pool2d_backward(A, dY, 3, mode, strides=2, padding=1)
    assert got.dtype == np.float32
    want = mxnet_pool2d_backward(A[:, None], dY[:, None], 3, mode, strides=2,
                                 padding=1)[:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(got, pool2d_backward(  # the kernel, if it is on
        A.astype(np.float32), dY, 3, mode, strides=2, padding=1))


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_the_numpy_steps_hold_dx_and_a_chunk_of_temporaries(mode):
    # uint8 maps, float32 dY (16 MiB of float32 dX, 4 MiB of dY): besides dX, numpy's
    # allocations stay within two chunks (CHUNK_BYTES), where dY / divisor for all maps
    # at once would be 8 MiB of float64 and max's temporaries (dY where each window's
    # maximum lies, masks) as large.
    X = np.ones((32, 32, 64, 64), np.uint8)
    dY = np.ones((32, 32, 32, 32), np.float32)
    tracemalloc.start()
    try:
        dX = pool2d_backward(X, dY, 3, mode, strides=2, padding=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < dX.nbytes + 2 * poolbook.CHUNK_BYTES, f'{peak / 2**20:.2f} MiB'
    # Every cell of the middle rows and columns is in 1 (even) or 2 (odd) windows of
    # each axis; the maximum (all ties) goes to each window's first cell, the top-left
    # cell of its 3 x 3 block, cell (2 i - 1, 2 j - 1), an odd one; the average gives
    # 1 / 9 per window.
    if mode == 'max':
        assert dX[0, 0, 1, 1] == 1 and dX[0, 0, 2, 2] == 0 and dX[0, 0, 3, 3] == 1
    else:
        np.testing.assert_allclose(dX[0, 0, 2:4, 2:4], [[1 / 9, 2 / 9], [2 / 9, 4 / 9]],
                                   rtol=1e-6)


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_a_chunk_is_sized_by_the_larger_of_a_map_and_its_output(mode):
    # 256 uint8 maps of one cell, windows 1 x 4001 with 4000 columns of padding: 4001
    # outputs per map (4 MiB of float32 dY), each window holding the one cell. Sized by
    # the input alone, one chunk would take every map and dY / divisor would be 8 MiB of
    # float64; sized by the output too, a chunk holds 32 maps (1 MiB of shares).
    X = np.ones((256, 1, 1), np.uint8)
    dY = np.ones((256, 1, 4001), np.float32)
    tracemalloc.start()
    try:
        dX = pool2d_backward(X, dY, (1, 4001), mode, padding=(0, 4000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * poolbook.CHUNK_BYTES, f'{peak / 2**20:.2f} MiB'
    # By hand: the cell is the maximum of all 4001 windows (it gets 4001 times 1); it
    # gets 1 / 4001 from each of them for the average (padding counted).
    np.testing.assert_allclose(dX, np.full((256, 1, 1), 4001.0 if mode == 'max' else 1.0),
                               rtol=1e-6)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(dY=np.ones((3, 3))), ValueError, ['dY', '(2, 2)', '(3, 3)']),
    (dict(dY=[[1.0]]), TypeError, ['dY']),
    (dict(dY=np.ones((1, 2, 2))), ValueError, ['dY', '(2, 2)', '(1, 2, 2)']),
    (dict(dY=np.ones((2, 2), bool)), TypeError, ['dY', 'bool']),
    (dict(dY=np.ones((2, 2), complex)), TypeError, ['dY', 'complex']),
    (dict(pool_size=0), ValueError, ['pool_size']),
    (dict(mode='min'), ValueError, ['mode', "'min'"]),
    (dict(strides=0), ValueError, ['strides']),
    (dict(padding=2), ValueError, ['padding']),
    (dict(ceil_mode=1), TypeError, ['ceil_mode']),
    (dict(X=[[1.0]]), TypeError, ['X']),
])
def test_bad_arguments_are_refused_with_a_clear_message(kwargs, error, words):
    args = dict(X=np.zeros((3, 3)), dY=np.ones((2, 2)), pool_size=2)
    args.update(kwargs)
    with pytest.raises(error) as info:
        pool2d_backward(args.pop('X'), args.pop('dY'), args.pop('pool_size'), **args)
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_a_large_window_needs_memory_of_the_input_and_output_only(mode):
    # 128 x 128 float64 input (128 KiB), window 64, stride 1: 65 x 65 outputs of 4096
    # cells each, 132 MiB if every window's cells were gathered at once.
    rng = np.random.default_rng(8)
    X = rng.integers(-2, 3, size=(1, 1, 128, 128)).astype(np.float64)
    dY = rng.standard_normal((1, 1, 65, 65))
    tracemalloc.start()
    try:
        got = pool2d_backward(X, dY, 64, mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f'{peak / 2**20:.1f} MiB'
    want = mxnet_backward(X, dY, (64, 64), (1, 1), (0, 0), mode, False, True)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize('mode, count_include_pad, share', [
    # One input cell, a 1 x 10**6 window, padding 10**6 - 1 along the columns: 10**6
    # windows, each holding the one input cell and padding only. The maximum of each is
    # that cell, so it collects every dY[0, j] = j: their sum, 10**6 (10**6 - 1) / 2.
    ('max', True, 1.0),
    # Counting padding, every window lies inside the padded input (2 * 10**6 - 1 cells
    # wide): each divides by 10**6. Not counting it, each divides by its one input cell.
    ('avg', True, 1e-6),
    ('avg', False, 1.0),
])
def test_a_huge_window_over_a_tiny_input_is_fast_and_right(mode, count_include_pad,
                                                            share):
    n = 10**6
    # A few hundred Python steps: the work follows the input and the output (numpy
    # operations over 10**6 cells), never a loop over the 10**6 windows or their cells.
    dX = within_steps(lambda: pool2d_backward(
        np.ones((1, 1)), np.arange(n, dtype=np.float64)[None], (1, n), mode,
        padding=(0, n - 1), count_include_pad=count_include_pad))
    np.testing.assert_allclose(dX, [[share * n * (n - 1) / 2]], rtol=1e-12)


@settings(max_examples=60)
@given(pool_cases(dtypes=(np.float64,), leads=[(2, 2)], windows=(5, 8), strides=(1, 5),
                  max_side=4, min_padding=4), st.integers(0, 2**32 - 1))
def test_windows_larger_than_the_input_agree_with_autograd(case, seed):
    # Windows of 5 to 8 cells over inputs of 1 to 4: the steps go by input cell, not by
    # window offset (small integers: ties across the shared cells).
    check_case(case['X'], case['pool_size'], case['strides'], case['padding'],
               case['mode'], case['ceil_mode'], case['count_include_pad'],
               np.random.default_rng(seed))


def test_check_gradient_names_the_expected_shape():
    check_gradient(np.zeros((2, 3)), (2, 3))
    with pytest.raises(ValueError, match=r'dY must have the shape of the pooled output, '
                       r'\(2, 3\), got \(3, 2\)'):
        check_gradient(np.zeros((3, 2)), (2, 3))
    with pytest.raises(TypeError, match='dY must hold real numbers'):
        check_gradient(np.zeros((2, 3), complex), (2, 3))


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_a_float16_gradient_adds_up_in_float32_and_comes_back_in_the_promoted_dtype(mode):
    # 3 x 3 windows at stride 1 over 8 x 8: the middle cells are in 9 windows each, so
    # a dY of 30000 everywhere sends them 9 * 30000 / 9 (avg) or up to 9 * 30000 (max,
    # all ties going to each window's first cell): far beyond float16's 65504. MXNet's
    # autograd, in float32, is the reference.
    X = np.zeros((1, 1, 8, 8), np.float32)
    dY = np.full((1, 1, 6, 6), 30000, np.float16)
    want = mxnet_pool2d_backward(X, dY.astype(np.float32), (3, 3), mode)
    got = pool2d_backward(X, dY, 3, mode)
    assert got.dtype == np.float32 and np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    if mode == 'avg':  # float16 both: added in float32, rounded once (30000 fits)
        got16 = pool2d_backward(X.astype(np.float16), dY, 3, 'avg')
        assert got16.dtype == np.float16
        np.testing.assert_array_equal(got16, want.astype(np.float16))
    # The float dtype numpy gives X and dY together (corr2d's rule); float64 for two
    # integer dtypes.
    for x, g, dtype in [(np.float16, np.float32, np.float32), (np.int8, np.float16,
                                                               np.float16),
                        (np.float64, np.float32, np.float64), (np.float32, np.int32,
                                                               np.float64),
                        (np.uint8, np.float32, np.float32), (np.int8, np.int8,
                                                             np.float64)]:
        assert pool2d_backward(X.astype(x), dY.astype(g), 3, mode).dtype == dtype


# ----------------------------------------------------------------------------------------
# The compiled kernels (poolbook.kernels) that pool2d_backward runs for float32 and
# float64: the same numbers as the taught numpy steps above, to the bit, and autograd's.

def both_paths(X, dY, pool_size, mode, **args):
    """pool2d_backward with its compiled kernel and with the numpy steps alone."""
    fast = pool2d_backward(X, dY, pool_size, mode, **args)
    with kernels.numpy_only():
        taught = pool2d_backward(X, dY, pool_size, mode, **args)
    return fast, taught


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@settings(max_examples=200)
@given(pool_cases(dtypes=(np.float32, np.float64), leads=[(2,), (1, 3)], max_side=24,
                  nan=True), st.integers(0, 2**32 - 1))
def test_the_compiled_kernels_equal_the_numpy_steps_to_the_bit(case, seed):
    # Sides up to 24 reach the kernels' runs over a whole map (phase planes, flat runs
    # across rows) and their edge windows; small integers make ties, NaN the first-NaN
    # rule. The average's shares are float64 and each sum rounds in the input's dtype,
    # as in the numpy steps, so even the average agrees to the bit.
    X = case['X']
    args = {key: case[key] for key in ('strides', 'padding', 'ceil_mode',
                                       'count_include_pad')}
    shape = pool2d(X, case['pool_size'], case['mode'], **args).shape
    dY = np.random.default_rng(seed).standard_normal(shape).astype(X.dtype)
    fast, taught = both_paths(X, dY, case['pool_size'], case['mode'], **args)
    np.testing.assert_array_equal(fast, taught)
    assert fast.dtype == taught.dtype == X.dtype


LAYERS = [((1, 3, 56, 56), 3, 2, 1), ((1, 2, 112, 112), 2, 2, 0), ((1, 4, 28, 28), 3, 1, 1),
          ((2, 2, 57, 31), 3, 2, 1), ((1, 2, 30, 29), (5, 4), (3, 2), (2, 1))]


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('shape, window, stride, pad', LAYERS)
def test_the_kernels_on_the_benchmark_layers_equal_torch_and_the_numpy_steps(
        shape, window, stride, pad, mode):
    # The benchmark's three layers at a small batch, an odd-sized map, and a window
    # taller than the kernels' three rows in one run; against PyTorch's autograd too.
    rng = np.random.default_rng(len(shape) + shape[-1])
    X = rng.standard_normal(shape).astype(np.float32)
    dY = rng.standard_normal(pool2d(X, window, mode, strides=stride,
                                    padding=pad).shape).astype(np.float32)
    fast, taught = both_paths(X, dY, window, mode, strides=stride, padding=pad)
    np.testing.assert_array_equal(fast, taught)
    T = torch.from_numpy(X).requires_grad_()
    pooling = torch.nn.functional.max_pool2d if mode == 'max' else \
        torch.nn.functional.avg_pool2d
    pooling(T, window, stride, pad).backward(torch.from_numpy(dY))
    np.testing.assert_allclose(fast, T.grad.numpy(), rtol=1e-5, atol=1e-6)


# Windows that do not overlap (k <= s on both axes) take kernels.avg_backward_disjoint:
# each covered cell gets its window's one share, every other cell 0.
DISJOINT = [((2, 2), (2, 2), (0, 0), False, True),  # VGG's: the paired spread
            ((2, 2), (2, 2), (0, 0), True, True),  # ceil mode: a last window of 1 column
            ((2, 2), (2, 2), (1, 1), False, False),  # padding, divisors of 1, 2 and 4
            ((1, 2), (3, 2), (0, 1), False, True),  # rows in no window
            ((3, 3), (3, 3), (1, 0), True, False),
            ((2, 3), (4, 3), (0, 0), False, True)]


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('window, stride, pad, ceil_mode, count_include_pad', DISJOINT)
def test_disjoint_average_windows_equal_the_numpy_steps_and_torch(
        window, stride, pad, ceil_mode, count_include_pad, dtype, monkeypatch):
    calls = []
    disjoint = kernels.avg_backward_disjoint
    monkeypatch.setattr(kernels, 'avg_backward_disjoint',
                        lambda *args: calls.append(1) or disjoint(*args))
    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 3, 11, 13)).astype(dtype)
    args = dict(strides=stride, padding=pad, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    shape = pool2d(X, window, 'avg', **args).shape
    # Zeros of both signs, NaN, infinities and a share below float32's normal range:
    # the same bits as the numpy steps (0 + share, rounded once).
    dY = rng.choice(np.array([1.5, -0.0, 0.0, np.nan, np.inf, -2.75, 3e-38]),
                    size=shape).astype(dtype)
    fast, taught = both_paths(X, dY, window, 'avg', **args)
    assert calls and fast.dtype == taught.dtype == dtype
    assert np.array_equal(fast.view(np.uint8), taught.view(np.uint8))
    dY = rng.standard_normal(shape).astype(dtype)
    T = torch.from_numpy(X).requires_grad_()
    torch.nn.functional.avg_pool2d(T, window, stride, pad, ceil_mode=ceil_mode,
                                   count_include_pad=count_include_pad).backward(
        torch.from_numpy(dY))
    np.testing.assert_allclose(pool2d_backward(X, dY, window, 'avg', **args),
                               T.grad.numpy(), rtol=1e-6, atol=0)


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('shape', [(2, 3, 8, 10), (2, 3, 9, 11), (1, 1, 2, 2), (3, 1, 5, 2)])
def test_2x2_stride_2_maximum_equals_the_numpy_steps_and_mxnet(shape, dtype, monkeypatch):
    # VGG's and ResNet's max pooling, 2 x 2 at stride 2, takes kernels.max_backward_2x2:
    # ties (small integers, zeros of both signs) and NaN test the first-maximum rule;
    # odd sides leave a last row or column in no window.
    calls = []
    kernel = kernels.max_backward_2x2
    monkeypatch.setattr(kernels, 'max_backward_2x2',
                        lambda *args: calls.append(1) or kernel(*args))
    rng = np.random.default_rng(shape[-1])
    X = rng.choice(np.array([0.0, -0.0, 1.0, 2.0, -1.0, np.nan]), size=shape).astype(dtype)
    dY = rng.choice(np.array([1.5, -0.0, 0.0, np.nan, -2.75, 3e-38]),
                    size=shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(dtype)
    fast, taught = both_paths(X, dY, 2, 'max', strides=2)
    assert calls and fast.dtype == taught.dtype == dtype
    assert np.array_equal(fast.view(np.uint8), taught.view(np.uint8))
    X = rng.integers(-2, 3, size=shape).astype(dtype)  # ties, no NaN: as MXNet's autograd
    dY = rng.standard_normal(dY.shape).astype(dtype)
    np.testing.assert_array_equal(pool2d_backward(X, dY, 2, 'max', strides=2),
                                  mxnet_pool2d_backward(X, dY, 2, 'max', strides=2))


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
def test_pool2d_backward_runs_the_kernel_for_float32_and_float64_only():
    # The decision is kernels.handles, as for pool2d: C-ordered float32 or float64 maps
    # and a gradient of the same dtype; anything else takes the numpy steps.
    X = np.zeros((2, 6, 6), np.float32)
    assert kernels.handles(X, np.zeros((2, 3, 3), np.float32), (2, 2))
    assert not kernels.handles(X, np.zeros((2, 3, 3), np.float64), (2, 2))
    assert not kernels.handles(X.astype(np.float16), np.zeros((2, 3, 3), np.float16), (2, 2))
    assert not kernels.handles(X, np.zeros((2, 3, 3), np.float32), (7, 2))


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_channels_last_gradients_equal_torch_channels_last(mode):
    # layout='NHWC': X and dY channels last, as PyTorch's channels_last tensors hold them.
    rng = np.random.default_rng(12)
    X = rng.standard_normal((2, 13, 12, 5)).astype(np.float32)
    dY = rng.standard_normal((2, 7, 6, 5)).astype(np.float32)
    got = pool2d_backward(X, dY, 3, mode, strides=2, padding=1, layout='NHWC')
    T = torch.from_numpy(X).permute(0, 3, 1, 2).requires_grad_()
    pooling = torch.nn.functional.max_pool2d if mode == 'max' else \
        torch.nn.functional.avg_pool2d
    pooling(T, 3, 2, 1).backward(torch.from_numpy(dY).permute(0, 3, 1, 2))
    assert got.shape == X.shape and got.flags.c_contiguous
    np.testing.assert_allclose(got, T.grad.permute(0, 2, 3, 1).numpy(), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_array_equal(got, np.moveaxis(pool2d_backward(
        np.moveaxis(X, -1, 1), np.moveaxis(dY, -1, 1), 3, mode, strides=2, padding=1),
        1, -1))


def test_channels_last_gradient_shape_and_layout_are_checked():
    with pytest.raises(ValueError, match=r'dY must have the shape of the pooled output, '
                       r'\(2, 2, 3\), got \(3, 2, 2\)'):
        pool2d_backward(np.zeros((4, 4, 3)), np.zeros((3, 2, 2)), 2, strides=2,
                        layout='NHWC')
    with pytest.raises(ValueError, match='layout'):
        pool2d_backward(np.zeros((4, 4)), np.zeros((2, 2)), 2, strides=2, layout='HW')
