"""The general pool2d and output_size (poolbook.pooling).

Where the expected values come from: the source book's text, MXNet's own operator
mx.nd.Pooling, or small cases worked out by hand in the comments next to them; never
pool2d's own output.

* the source book's examples and hand-computed cases (padding, ceil mode, a dropped window);
* conformance with mx.nd.Pooling: an exhaustive grid along each axis (pooling is separable,
  so the two axes are independent), a seeded random sweep of full 2-D cases, and hypothesis;
* integer input, NaN, float64, the kind and shape of the result, never changing the input;
* every bad argument: the exception, a message naming the parameter and its value, X unchanged.

MXNet's pooling_convention='full' keeps a last window that starts in the trailing padding
(or beyond the input) and fills it with the lowest float32; pool2d drops it, as PyTorch and
ONNX do. The comparisons check pool2d against the rest of MXNet's output and check that
MXNet's extra entries are such empty windows.
"""
import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import nd

import poolbook
from poolbook.pooling import output_size, pool2d

LOWEST32 = np.finfo(np.float32).min  # what MXNet puts in a max window holding no input
AVG_TOL = dict(rtol=1e-5, atol=1e-6)  # float32 rounding: the sums are taken in another order

X3 = [[0, 1, 2], [3, 4, 5], [6, 7, 8]]  # the source book's 3 x 3 example
X16 = np.arange(16, dtype=np.float32).reshape((1, 1, 4, 4))  # its nd.arange(16) example


def as_kind(values, kind, dtype=np.float32):
    """`values` as a numpy array or an NDArray of `dtype`."""
    A = np.array(values, dtype=dtype)
    return nd.array(A, dtype=dtype) if kind == 'ndarray' else A


def to_numpy(Y):
    return Y.asnumpy() if isinstance(Y, nd.NDArray) else Y


def as_pair(v):
    return (v, v) if isinstance(v, int) else v


# ----------------------------------------------------------------------------------------
# References: MXNet's operator, and the number of windows counted one window at a time.

def mxnet_pool(X4, window, strides, padding, mode, ceil_mode, count_include_pad):
    """mx.nd.Pooling on a 4-D array, as a float32 numpy array."""
    Y = nd.Pooling(nd.array(X4, dtype=np.float32), kernel=window, stride=strides, pad=padding,
                   pool_type=mode, pooling_convention='full' if ceil_mode else 'valid',
                   count_include_pad=count_include_pad)
    return Y.asnumpy()


def window_starts(n, k, s, p, ceil_mode):
    """Start positions, in the input padded by p on each side, of the windows along one axis,
    listed one window at a time (no formula). Floor mode: every window that fits inside the
    padded input. Ceil mode (MXNet's 'full'): windows are added until one reaches the last
    padded cell, even if it runs past it."""
    padded, starts, start = n + 2 * p, [], 0
    while start + k <= padded or (ceil_mode and (not starts or starts[-1] + k < padded)):
        starts.append(start)
        start += s
    return starts


def kept_windows(n, k, s, p, ceil_mode):
    """The spec's output length along one axis: the windows above, minus any that starts in
    the trailing padding (positions n + p and later) or beyond."""
    return sum(1 for start in window_starts(n, k, s, p, ceil_mode) if start < n + p)


def assert_agrees_with_mxnet(got, X4, window, strides, padding, mode, ceil_mode,
                             count_include_pad):
    """Compare pool2d's result `got` (4-D numpy) on the float32 input X4 with MXNet.
    Returns True when MXNet had an extra (dropped) window along some axis."""
    want = mxnet_pool(X4, window, strides, padding, mode, ceil_mode, count_include_pad)
    n = X4.shape[2:]
    mxnet_len = tuple(len(window_starts(n[a], window[a], strides[a], padding[a], ceil_mode))
                      for a in (0, 1))
    ours_len = tuple(kept_windows(n[a], window[a], strides[a], padding[a], ceil_mode)
                     for a in (0, 1))
    assert want.shape == X4.shape[:2] + mxnet_len, 'MXNet does not count windows as we think'
    assert got.shape == X4.shape[:2] + ours_len, f'shape {got.shape}, want {ours_len}'
    common = want[:, :, :ours_len[0], :ours_len[1]]
    if mode == 'max':
        np.testing.assert_array_equal(got, common)  # exact: a max does no arithmetic
        extra = np.ones(want.shape, dtype=bool)
        extra[:, :, :ours_len[0], :ours_len[1]] = False
        # MXNet's dropped windows hold no input cell: it fills them with the lowest float32.
        assert np.all(want[extra] == LOWEST32), want
    else:
        np.testing.assert_allclose(got, common, **AVG_TOL)
    return mxnet_len != ours_len


def run_case(X, window, strides, padding, mode, ceil_mode, count_include_pad):
    """pool2d on X (any rank, numpy or NDArray, float32), checked against MXNet."""
    Y = pool2d(X, window, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
               count_include_pad=count_include_pad)
    assert type(Y) is type(X)
    A, B = to_numpy(X), to_numpy(Y)
    assert B.dtype == np.float32
    assert B.shape[:-2] == A.shape[:-2]
    return assert_agrees_with_mxnet(B.reshape((-1, 1) + B.shape[-2:]),
                                    A.reshape((-1, 1) + A.shape[-2:]), window, strides,
                                    padding, mode, ceil_mode, count_include_pad)


# ----------------------------------------------------------------------------------------
# The source book's examples.

def test_the_package_exports_this_pool2d():
    assert poolbook.pool2d is pool2d and poolbook.output_size is output_size


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
def test_source_example_max_stride_1(kind):
    # pool2d(X, (2, 2)) on 0..8 gives [[4, 5], [7, 8]] (default stride 1, as in the book).
    Y = pool2d(as_kind(X3, kind), (2, 2))
    assert isinstance(Y, nd.NDArray if kind == 'ndarray' else np.ndarray)
    np.testing.assert_array_equal(to_numpy(Y), [[4, 5], [7, 8]])


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
def test_source_example_avg_stride_1(kind):
    # pool2d(X, (2, 2), 'avg') on 0..8 gives [[2, 3], [5, 6]], e.g. (0 + 1 + 3 + 4) / 4 = 2.
    Y = pool2d(as_kind(X3, kind), (2, 2), 'avg')
    assert isinstance(Y, nd.NDArray if kind == 'ndarray' else np.ndarray)
    np.testing.assert_array_equal(to_numpy(Y), [[2, 3], [5, 6]])


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('kwargs, expected', [
    # nn.MaxPool2D(3): Gluon's default stride is the window -> [[[[10.]]]].
    (dict(pool_size=3, strides=3), [[[[10]]]]),
    (dict(pool_size=3, padding=1, strides=2), [[[[5, 7], [13, 15]]]]),
    (dict(pool_size=(2, 3), padding=(1, 2), strides=(2, 3)), [[[[0, 3], [8, 11], [12, 15]]]]),
])
def test_source_examples_padding_and_stride(kind, kwargs, expected):
    Y = pool2d(as_kind(X16, kind), **kwargs)
    assert isinstance(Y, nd.NDArray if kind == 'ndarray' else np.ndarray)
    np.testing.assert_array_equal(to_numpy(Y), expected)


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
def test_source_example_two_channels(kind):
    # X concatenated with X + 1 on the channel axis; window 3, padding 1, stride 2.
    X = as_kind(np.concatenate([X16, X16 + 1], axis=1), kind)
    Y = to_numpy(pool2d(X, 3, padding=1, strides=2))
    np.testing.assert_array_equal(Y, [[[[5, 7], [13, 15]], [[6, 8], [14, 16]]]])


# ----------------------------------------------------------------------------------------
# Hand-computed cases.

X22 = [[1, 2], [3, 4]]


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
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
def test_hand_computed_padding(kind, mode, count_include_pad, expected):
    X = as_kind(X22, kind)
    Y = pool2d(X, 2, mode, padding=1, count_include_pad=count_include_pad)
    np.testing.assert_allclose(to_numpy(Y), expected, rtol=1e-6)
    assert_agrees_with_mxnet(to_numpy(Y)[None, None], np.array(X22, np.float32)[None, None],
                             (2, 2), (1, 1), (1, 1), mode, False, count_include_pad)


def test_hand_computed_padding_never_wins_a_max_of_negative_numbers():
    # X = [[-5, -3], [-4, -9]], window 2, padding 1: each window's max over its input cells:
    # row 0: {-5}, {-5, -3}, {-3}; row 1: {-5, -4}, all four, {-3, -9};
    # row 2: {-4}, {-4, -9}, {-9}.
    X = np.array([[-5, -3], [-4, -9]], dtype=np.float32)
    Y = pool2d(X, 2, padding=1)
    np.testing.assert_array_equal(Y, [[-5, -3, -3], [-4, -3, -3], [-4, -4, -9]])


X15 = [[1, 2, 3, 4, 5]]


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
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
def test_hand_computed_ceil_mode(kind, mode, ceil_mode, count_include_pad, expected):
    Y = pool2d(as_kind(X15, kind), (1, 2), mode, strides=(1, 2), ceil_mode=ceil_mode,
               count_include_pad=count_include_pad)
    np.testing.assert_allclose(to_numpy(Y), expected, rtol=1e-6)
    assert_agrees_with_mxnet(to_numpy(Y)[None, None], np.array(X15, np.float32)[None, None],
                             (1, 2), (1, 2), (0, 0), mode, ceil_mode, count_include_pad)


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
    Y = pool2d(X, 2, mode, strides=2, padding=1, ceil_mode=True,
               count_include_pad=count_include_pad)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    assert output_size(3, 2, 2, 1, ceil_mode=True) == 2
    assert math.ceil((3 + 2 - 2) / 2) + 1 == 3  # what the formula alone (and MXNet) gives
    # MXNet keeps the third window: our output is its output without the last row/column,
    # and for max its extra entries are the lowest float32 (a window with no input cell).
    want = mxnet_pool(X[None, None], (2, 2), (2, 2), (1, 1), mode, True, count_include_pad)
    assert want.shape == (1, 1, 3, 3)
    np.testing.assert_allclose(Y, want[0, 0, :2, :2], **AVG_TOL)
    if mode == 'max':
        assert np.all(want[0, 0, 2, :] == LOWEST32) and np.all(want[0, 0, :, 2] == LOWEST32)


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
    Y = pool2d(X, (1, 2), mode, strides=(1, 2), padding=(0, 1), ceil_mode=True,
               count_include_pad=count_include_pad)
    np.testing.assert_allclose(Y, expected, rtol=1e-6)
    want = mxnet_pool(X[None, None], (1, 2), (1, 2), (0, 1), mode, True, count_include_pad)
    assert want.shape == (1, 1, 1, 3)
    np.testing.assert_allclose(Y, want[0, 0, :, :2], **AVG_TOL)
    if mode == 'max':
        assert want[0, 0, 0, 2] == LOWEST32


def test_hand_computed_window_starting_beyond_the_input():
    # X = [[7, 8]], window 1, stride 3, ceil mode, no padding: ceil((2 - 1) / 3) + 1 = 2
    # windows by the formula, the second starting at 3, past the input: dropped -> [[7]].
    X = np.array([[7, 8]], dtype=np.float32)
    np.testing.assert_array_equal(pool2d(X, 1, strides=3, ceil_mode=True), [[7]])
    assert output_size(2, 1, 3, 0, ceil_mode=True) == 1
    want = mxnet_pool(X[None, None], (1, 1), (3, 3), (0, 0), 'max', True, True)
    np.testing.assert_array_equal(want, [[[[7, LOWEST32]]]])


AXIS_GRID = [(n, k, s, p) for n in range(1, 13) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


# ----------------------------------------------------------------------------------------
# Conformance with mx.nd.Pooling.

@pytest.mark.parametrize('count_include_pad', [True, False])
@pytest.mark.parametrize('ceil_mode', [False, True])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('axis', ['H', 'W'])
def test_every_configuration_of_one_axis_agrees_with_mxnet(axis, mode, ceil_mode,
                                                           count_include_pad):
    # Exhaustive along one axis (n 1..12, window 1..4, stride 1..3, padding 0..window-1),
    # the other axis trivial (window 1, stride 1, no padding), on a (2, 3, ., .) batch.
    rng = np.random.default_rng([ord(axis), len(mode), ceil_mode, count_include_pad])
    failures, dropped = [], 0
    for n, k, s, p in AXIS_GRID:
        shape = (2, 3, n, 5) if axis == 'H' else (2, 3, 5, n)
        window, strides, padding = ((k, 1), (s, 1), (p, 0)) if axis == 'H' else \
            ((1, k), (1, s), (0, p))
        X = rng.standard_normal(shape).astype(np.float32)
        try:
            dropped += run_case(X, window, strides, padding, mode, ceil_mode, count_include_pad)
        except AssertionError as error:
            failures.append(f'n={n} k={k} s={s} p={p}: {str(error).strip()[:300]}')
    assert not failures, (f'{len(failures)} of {len(AXIS_GRID)} configurations disagree with '
                          f'MXNet:\n' + '\n'.join(failures[:10]))
    assert dropped > 0 if ceil_mode else dropped == 0  # the grid reaches dropped windows


def random_case(rng):
    """One random full 2-D case: rank 2, 3 or 4 (N, C in 1..3), numpy or NDArray, each axis
    with n 1..12, window 1..4, stride 1..3, padding 0..window-1 and window <= n + 2p."""
    window = tuple(int(k) for k in rng.integers(1, 5, size=2))
    padding = tuple(int(rng.integers(0, k)) for k in window)
    hw = tuple(int(rng.integers(max(1, k - 2 * p), 13)) for k, p in zip(window, padding))
    strides = tuple(int(s) for s in rng.integers(1, 4, size=2))
    lead = [(), (int(rng.integers(1, 4)),), tuple(int(v) for v in rng.integers(1, 4, size=2))]
    shape = lead[rng.integers(3)] + hw
    if rng.random() < 0.7:
        X = rng.standard_normal(shape).astype(np.float32)
    else:  # small integers: many ties and exact sums
        X = rng.integers(-3, 4, size=shape).astype(np.float32)
    return dict(X=nd.array(X, dtype=np.float32) if rng.random() < 0.5 else X,
                window=window, strides=strides, padding=padding,
                mode=('max', 'avg')[rng.integers(2)], ceil_mode=bool(rng.integers(2)),
                count_include_pad=bool(rng.integers(2)))


def describe(case):
    X = case['X']
    return (f"{type(X).__name__}{tuple(X.shape)} " +
            ' '.join(f'{key}={value}' for key, value in case.items() if key != 'X'))


@pytest.mark.parametrize('shape, dtype', [
    ((3, 7, 150, 131), np.float32),    # 21 large maps, 8.3 MB in float64 below ...
    ((41, 59, 12, 11), np.float32),    # ... or 2419 small ones: several MB in all, so that
    ((3, 7, 150, 131), np.float64),    # an implementation working in pieces (pool2d pools a
    ((41, 59, 12, 11), np.float64),    # few maps at a time) needs more than one piece
])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_large_batches_agree_with_mxnet(shape, dtype, mode):
    X = np.random.default_rng(10).standard_normal(shape).astype(dtype)
    for window, strides, padding, ceil_mode, count_include_pad in [
            ((3, 3), (2, 2), (1, 1), True, False), ((2, 4), (1, 3), (0, 2), False, True)]:
        Y = pool2d(X, window, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
                   count_include_pad=count_include_pad)
        assert Y.dtype == dtype
        assert_agrees_with_mxnet(Y.astype(np.float32), X, window, strides, padding, mode,
                                 ceil_mode, count_include_pad)


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_non_contiguous_input(kind, mode):
    # A strided, transposed view of a larger array: pool2d must read it as the array it shows.
    big = np.random.default_rng(11).standard_normal((4, 3, 20, 30)).astype(np.float32)
    view = big[::2, :, 1::2, ::3].transpose(1, 0, 3, 2)  # shape (3, 2, 10, 10)
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    X = view if kind == 'numpy' else nd.array(view)
    Y = to_numpy(pool2d(X, (3, 2), mode, strides=(2, 1), padding=(1, 1), ceil_mode=True))
    assert_agrees_with_mxnet(Y, np.ascontiguousarray(view), (3, 2), (2, 1), (1, 1), mode,
                             True, True)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_random_2d_cases_agree_with_mxnet(seed):
    rng = np.random.default_rng(20240 + seed)
    failures, dropped, count = [], 0, 1000
    for _ in range(count):
        case = random_case(rng)
        try:
            dropped += run_case(**case)
        except AssertionError as error:
            failures.append(f'{describe(case)}: {str(error).strip()[:300]}')
    assert not failures, (f'{len(failures)} of {count} cases disagree with MXNet:\n' +
                          '\n'.join(failures[:10]))
    assert dropped > 0


@st.composite
def pool_cases(draw):
    window = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = tuple(draw(st.integers(0, k - 1)) for k in window)
    hw = tuple(draw(st.integers(max(1, k - 2 * p), 12)) for k, p in zip(window, padding))
    strides = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    lead = draw(st.sampled_from([(), (1,), (2,), (3,), (1, 1), (1, 3), (2, 2), (3, 2)]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if draw(st.booleans()):
        X = rng.standard_normal(lead + hw).astype(np.float32)
    else:
        X = rng.integers(-3, 4, size=lead + hw).astype(np.float32)
    if draw(st.booleans()):
        X = nd.array(X, dtype=np.float32)
    return dict(X=X, window=window, strides=strides, padding=padding,
                mode=draw(st.sampled_from(['max', 'avg'])), ceil_mode=draw(st.booleans()),
                count_include_pad=draw(st.booleans()))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(pool_cases())
def test_hypothesis_cases_agree_with_mxnet(case):
    run_case(**case)


# ----------------------------------------------------------------------------------------
# Kinds, shapes and dtypes of the result.

@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('shape', [(4, 5), (3, 4, 5), (2, 3, 4, 5)])
def test_result_kind_and_shape(shape, mode, kind):
    # Window (2, 3), stride (2, 1), padding (1, 0): floor((4 + 2 - 2) / 2) + 1 = 3 rows,
    # floor((5 - 3) / 1) + 1 = 3 columns; the leading axes are kept.
    X = as_kind(np.random.default_rng(3).standard_normal(shape), kind)
    Y = pool2d(X, (2, 3), mode, strides=(2, 1), padding=(1, 0))
    assert type(Y) is type(X)
    assert tuple(Y.shape) == shape[:-2] + (3, 3)
    assert Y.dtype == np.float32
    if kind == 'ndarray':
        assert Y.context == X.context


def test_int_sizes_mean_square_windows_strides_and_padding():
    # The source's values again, with ints for every size: window 2 on 0..8 -> [[4, 5], [7, 8]]
    np.testing.assert_array_equal(pool2d(np.array(X3, np.float32), 2), [[4, 5], [7, 8]])
    # window 2, stride 2 on 0..15 (4 x 4): maxima of the four 2 x 2 blocks, e.g. {0,1,4,5} -> 5
    np.testing.assert_array_equal(pool2d(X16[0, 0], 2, strides=2), [[5, 7], [13, 15]])
    # a (1, 2) pair vs the int 2 must differ: 0..8 with window (1, 2) -> row-wise pairs
    np.testing.assert_array_equal(pool2d(np.array(X3, np.float32), (1, 2)),
                                  [[1, 2], [4, 5], [7, 8]])


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
def test_numpy_integers_are_accepted_as_sizes(kind):
    X = as_kind(X16, kind)
    Y = pool2d(X, np.int64(3), padding=np.int64(1), strides=np.int32(2))  # the source's values
    np.testing.assert_array_equal(to_numpy(Y), [[[[5, 7], [13, 15]]]])
    Y = pool2d(X, (np.int64(2), np.int16(3)), padding=(np.int8(1), np.int64(2)),
               strides=(np.int64(2), np.uint8(3)))
    np.testing.assert_array_equal(to_numpy(Y), [[[[0, 3], [8, 11], [12, 15]]]])


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_float64_input_stays_float64(kind, mode):
    X = as_kind(np.random.default_rng(4).standard_normal((2, 5, 6)), kind, dtype=np.float64)
    Y = pool2d(X, (3, 2), mode, strides=2, padding=1, ceil_mode=True,
               count_include_pad=False)
    assert type(Y) is type(X) and Y.dtype == np.float64
    A = to_numpy(X)
    assert_agrees_with_mxnet(to_numpy(Y)[:, None].astype(np.float32), A[:, None], (3, 2),
                             (2, 2), (1, 1), mode, True, False)


def test_float64_average_is_not_rounded_to_float32():
    # (1 + 2**-40) / 1 would be rounded to 1 in float32; window 1 keeps it exactly.
    # And (0.1 + 0.2) / 2 in float64 is 0.15000000000000002 by hand (0.30000000000000004 / 2).
    X = np.array([[1 + 2.0 ** -40, 0.1, 0.2]])
    np.testing.assert_array_equal(pool2d(X, 1, 'avg'), X)
    assert pool2d(X, (1, 2), 'avg')[0, 1] == (0.1 + 0.2) / 2


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_channels_are_pooled_separately(kind, mode):
    X = as_kind(np.random.default_rng(5).standard_normal((3, 7, 6)), kind)
    kwargs = dict(strides=(2, 3), padding=(1, 1), ceil_mode=True, count_include_pad=False)
    Y = to_numpy(pool2d(X, (3, 2), mode, **kwargs))
    for c in range(3):
        np.testing.assert_array_equal(Y[c], to_numpy(pool2d(X[c], (3, 2), mode, **kwargs)))


# ----------------------------------------------------------------------------------------
# Integer input.

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


@pytest.mark.parametrize('dtype', INT_DTYPES)
def test_integer_max_keeps_the_dtype_numpy(dtype):
    # lo, lo / lo, hi with window 2, padding 1 (windows as in the hand-computed X22 case):
    # row 0: {lo}, {lo, lo}, {lo}; row 1: {lo, lo}, all, {lo, hi}; row 2: {lo}, {lo, hi}, {hi}.
    # All-lo windows stay lo: padding never wins, even when lo is the dtype's minimum.
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    X = np.array([[lo, lo], [lo, hi]], dtype=dtype)
    Y = pool2d(X, 2, padding=1)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y, np.array([[lo, lo, lo], [lo, hi, hi], [lo, hi, hi]],
                                              dtype=dtype))
    Y = pool2d(np.array(X3, dtype=dtype), (2, 2))  # the source's example in this dtype
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y, [[4, 5], [7, 8]])


@pytest.mark.parametrize('dtype', [np.int32, np.int8, np.uint8, np.int64])
def test_integer_max_keeps_the_dtype_ndarray(dtype):
    Y = pool2d(nd.array(X3, dtype=dtype), (2, 2))
    assert isinstance(Y, nd.NDArray) and Y.dtype == dtype
    np.testing.assert_array_equal(Y.asnumpy(), [[4, 5], [7, 8]])
    lo = np.iinfo(dtype).min  # see the numpy test: padding never wins
    Y = pool2d(nd.array([[lo, lo], [lo, 1]], dtype=dtype), 2, padding=1)
    assert Y.dtype == dtype
    np.testing.assert_array_equal(Y.asnumpy(), [[lo, lo, lo], [lo, 1, 1], [lo, 1, 1]])


@pytest.mark.parametrize('dtype', [np.int32, np.int64])
@pytest.mark.parametrize('strides, padding, ceil_mode', [(1, 0, False), (2, 1, True),
                                                        ((3, 2), (2, 1), True)])
def test_integer_max_agrees_with_mxnet(dtype, strides, padding, ceil_mode):
    # small integers are exact in float32, so MXNet's float32 max is the exact reference
    X = np.random.default_rng(6).integers(-1000, 1000, size=(2, 3, 9, 8)).astype(dtype)
    Y = pool2d(X, 3, strides=strides, padding=padding, ceil_mode=ceil_mode)
    assert Y.dtype == dtype
    assert_agrees_with_mxnet(Y.astype(np.float32), X.astype(np.float32), (3, 3),
                             as_pair(strides), as_pair(padding), 'max', ceil_mode, True)


@pytest.mark.parametrize('dtype', INT_DTYPES)
def test_integer_average_of_numpy_ints_is_float64(dtype):
    # The source's example: 2 x 2 means of 0..8 are [[2, 3], [5, 6]] ...
    Y = pool2d(np.array(X3, dtype=dtype), (2, 2), 'avg')
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[2, 3], [5, 6]])
    # ... and means are not truncated: (1 + 2) / 2 = 1.5, (3 + 4) / 2 = 3.5.
    Y = pool2d(np.array([[1, 2], [3, 4]], dtype=dtype), (1, 2), 'avg')
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[1.5], [3.5]])
    # ... nor overflowed: (hi + hi) / 2 = hi, although hi + hi does not fit in the dtype.
    hi = np.iinfo(dtype).max
    Y = pool2d(np.array([[hi, hi]], dtype=dtype), (1, 2), 'avg')
    np.testing.assert_array_equal(Y, [[float(hi)]])


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


# ----------------------------------------------------------------------------------------
# NaN.

@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode, expected', [
    # NaN at (0, 0) of 0..8 (first NaN, then larger numbers: a max must not skip it);
    # only the top-left 2 x 2 window holds it.
    ('max', [[np.nan, 5], [7, 8]]),
    ('avg', [[np.nan, 3], [5, 6]]),
])
def test_nan_propagates_by_hand(kind, mode, expected):
    X = np.array(X3, dtype=np.float32)
    X[0, 0] = np.nan
    Y = to_numpy(pool2d(as_kind(X, kind), (2, 2), mode))
    np.testing.assert_array_equal(Y, expected)  # NaN only where expected


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_nan_after_a_larger_number_propagates(mode):
    # [[100, NaN, 0]] with window (1, 2): both windows hold the NaN -> [[NaN, NaN]];
    # window (1, 1) gives X itself.
    X = np.array([[100, np.nan, 0]])
    assert np.isnan(pool2d(X, (1, 2), mode)).all()
    np.testing.assert_array_equal(pool2d(X, 1, mode), X)


@pytest.mark.parametrize('dtype', [np.float32, np.float64])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('window, strides, padding, ceil_mode, count_include_pad', [
    ((2, 2), (1, 1), (0, 0), False, True),
    ((3, 2), (2, 1), (1, 1), True, False),
    ((3, 4), (3, 2), (2, 3), True, True),
])
def test_nan_propagates_only_to_the_windows_holding_it(dtype, mode, window, strides, padding,
                                                       ceil_mode, count_include_pad):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((2, 3, 9, 10)).astype(dtype)
    X[rng.random(X.shape) < 0.03] = np.nan
    args = (window, strides, padding, mode, ceil_mode, count_include_pad)
    Y = pool2d(X, window, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
               count_include_pad=count_include_pad)
    # Which windows hold a NaN: MXNet's max pooling of the indicator of NaN (1 or 0).
    holds_nan = mxnet_pool(np.isnan(X).astype(np.float32), window, strides, padding,
                           'max', ceil_mode, True)[:, :, :Y.shape[2], :Y.shape[3]] > 0
    assert 0 < holds_nan.sum() < holds_nan.size
    np.testing.assert_array_equal(np.isnan(Y), holds_nan)
    # The other windows are unaffected: MXNet gives the same there.
    want = mxnet_pool(X.astype(np.float32), *args)[:, :, :Y.shape[2], :Y.shape[3]]
    np.testing.assert_allclose(Y[~holds_nan], want[~holds_nan], **AVG_TOL)


# ----------------------------------------------------------------------------------------
# The input is never changed.

@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('dtype', [np.float32, np.float64, np.int32])
def test_input_is_never_changed(kind, mode, dtype):
    values = np.random.default_rng(8).standard_normal((2, 3, 7, 8)) * 10
    values[0, 0, 0, 0] = np.nan if dtype != np.int32 else 0
    X = as_kind(values, kind, dtype)
    before = to_numpy(X).copy()
    for kwargs in [dict(), dict(strides=2, padding=1, ceil_mode=True),
                   dict(strides=(3, 1), padding=(2, 0), count_include_pad=False)]:
        Y = pool2d(X, (3, 2), mode, **kwargs)
        np.testing.assert_array_equal(to_numpy(X), before)
        if kind == 'numpy':
            assert not np.shares_memory(Y, X)  # the result is not a view of the input


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_read_only_input_is_accepted(mode):
    # An input that cannot be written to: any write into it would raise.
    X = np.random.default_rng(9).standard_normal((2, 6, 5)).astype(np.float32)
    X.setflags(write=False)
    Y = pool2d(X, 1, mode)  # window 1, stride 1: the identity
    np.testing.assert_array_equal(Y, X)
    pool2d(X, 3, mode, strides=2, padding=1, ceil_mode=True)


def test_changing_the_result_does_not_change_the_input():
    X = np.arange(6, dtype=np.float32).reshape((2, 3))
    Y = pool2d(X, 1)
    Y[...] = -1
    np.testing.assert_array_equal(X, [[0, 1, 2], [3, 4, 5]])


# ----------------------------------------------------------------------------------------
# Bad arguments: the exception, a message naming the parameter, its value and the rule.

BAD_ARGUMENTS = [
    # a window larger than the (padded) input, which is 4 x 4
    (dict(pool_size=5), ValueError, ['pool_size', '(5, 5)', '(4, 4)', 'larger']),
    (dict(pool_size=(2, 5)), ValueError, ['pool_size', '(2, 5)', '(4, 4)', 'larger']),
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
    # an unknown mode
    (dict(mode='min'), ValueError, ['mode', "'min'", "'max' or 'avg'"]),
    (dict(mode='MAX'), ValueError, ['mode', "'MAX'", "'max' or 'avg'"]),
    (dict(mode='average'), ValueError, ['mode', "'average'", "'max' or 'avg'"]),
    (dict(mode=None), ValueError, ['mode', 'None', "'max' or 'avg'"]),
    (dict(mode=1), ValueError, ['mode', '1', "'max' or 'avg'"]),
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


@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
@pytest.mark.parametrize('kwargs, error, words', BAD_ARGUMENTS,
                         ids=[repr(case[0]) for case in BAD_ARGUMENTS])
def test_bad_arguments_are_refused_with_a_clear_message(kind, kwargs, error, words):
    X = as_kind(X16[0, 0], kind)  # 4 x 4
    before = to_numpy(X).copy()
    kwargs = dict(dict(pool_size=2), **kwargs)
    with pytest.raises(error) as info:
        pool2d(X, kwargs.pop('pool_size'), kwargs.pop('mode', 'max'), **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    np.testing.assert_array_equal(to_numpy(X), before)


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
        (nd.array(np.zeros((0, 3), np.float32)), ValueError, ['X must', 'empty axis', '(0, 3)']),
        (np.ones((3, 3), dtype=bool), TypeError, ['X must', 'real numbers', 'bool']),
        (nd.array(np.ones((3, 3)), dtype=bool), TypeError, ['X must', 'real numbers', 'bool']),
        (np.ones((3, 3), dtype=object), TypeError, ['X must', 'real numbers', 'object']),
        (np.full((3, 3), 'a'), TypeError, ['X must', 'real numbers', 'str']),
        (np.ones((3, 3), dtype=complex), TypeError, ['X must', 'real numbers', 'complex128']),
        (np.ones((3, 3), dtype=np.complex64), TypeError, ['X must', 'real numbers', 'complex64']),
        ([[0, 1, 2], [3, 4, 5], [6, 7, 8]], TypeError, ['X must', 'numpy array', 'list']),
        (7, TypeError, ['X must', 'numpy array', 'int']),
        (7.0, TypeError, ['X must', 'numpy array', 'float']),
        (None, TypeError, ['X must', 'numpy array', 'NoneType']),
    ]
    return [pytest.param(X, error, words, id=f'{type(X).__name__}-{words[1]}-{words[-1]}')
            for X, error, words in cases]


@pytest.mark.parametrize('X, error, words', bad_inputs())
def test_bad_input_is_refused_with_a_clear_message(X, error, words):
    before = to_numpy(X).copy() if hasattr(X, 'shape') else copy.deepcopy(X)
    with pytest.raises(error) as info:
        pool2d(X, 1)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
    if hasattr(X, 'shape'):
        np.testing.assert_array_equal(to_numpy(X), before)
    else:
        assert X == before


def test_a_window_that_fits_only_thanks_to_padding_is_accepted():
    # 1 x 1 input, window 3, padding 1: padded 3 x 3, one window holding the single value.
    np.testing.assert_array_equal(pool2d(np.array([[5.0]]), 3, padding=1), [[5.0]])
    # average with padding counted: 5 / 9; without: 5 / 1
    np.testing.assert_allclose(pool2d(np.array([[5.0]]), 3, 'avg', padding=1), [[5 / 9]])
    np.testing.assert_allclose(pool2d(np.array([[5.0]]), 3, 'avg', padding=1,
                                      count_include_pad=False), [[5.0]])
