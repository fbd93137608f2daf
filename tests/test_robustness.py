"""Adversarial inputs (issue 11): each class of input a hostile user can pass gets the right
answer or a clear refusal, never a wrong number, a deep crash or a hang.

Expected values come from MXNet's operators, plain loops written here, or hand computation.
Refusals assert the exception type and that the message names the parameter.
"""

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook import corr2d, loops, pool2d, variants
from steps import within_steps

RNG = np.random.default_rng(11)
X16 = np.arange(16, dtype=np.float32).reshape(4, 4)


def mxnet_pool(X, k, mode, s=1, p=0):
    """Reference: MXNet's own pooling of a numpy array (any rank 2-4), as numpy."""
    pair = lambda v: tuple(v) if isinstance(v, tuple) else (v, v)
    A = np.asarray(X).reshape((1,) * (4 - X.ndim) + X.shape)
    Y = nd.Pooling(nd.array(A, dtype=A.dtype), kernel=pair(k), pool_type=mode,
                   stride=pair(s), pad=pair(p))
    return Y.asnumpy().reshape(X.shape[:-2] + Y.shape[-2:])


def plain_avg(X, k):
    """Reference: the average of each k x k window (stride 1), by a loop in Python ints."""
    H, W = X.shape
    return np.array([[sum(int(v) for v in X[i:i + k, j:j + k].ravel()) / k**2
                      for j in range(W - k + 1)] for i in range(H - k + 1)])


def assert_refused(error, words, fn, *args, **kwargs):
    """fn(*args, **kwargs) raises `error` whose message holds each of `words`."""
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ----------------------------------------------------------------------------------------
# Low-precision accumulation: float16 sums in float32, the divisor never overflows.

@pytest.mark.parametrize('value', [60000.0, 65504.0, -65504.0, 1000.0])
def test_float16_average_of_large_values_does_not_overflow(value):
    X = np.full((4, 4), value, np.float16)
    Y = pool2d(X, 2, 'avg')
    assert Y.dtype == np.float16
    np.testing.assert_array_equal(Y, mxnet_pool(X, (2, 2), 'avg'))
    np.testing.assert_array_equal(Y, np.full((3, 3), value, np.float16))   # by hand


def test_float16_average_over_more_than_65504_cells_is_finite():
    X = np.full((300, 300), 0.5, np.float16)       # 90,000 cells, > float16's largest
    Y = pool2d(X, 300, 'avg')
    assert Y.dtype == np.float16 and Y[0, 0] == np.float16(0.5)


def test_float16_average_sums_like_mxnet_on_random_data():
    X = RNG.uniform(-1000, 1000, (2, 3, 12, 12)).astype(np.float16)
    np.testing.assert_allclose(pool2d(X, 3, 'avg', strides=2, padding=1).astype(np.float32),
                               mxnet_pool(X, (3, 3), 'avg', (2, 2), (1, 1)).astype(np.float32),
                               rtol=1e-3)


def test_float16_ndarray_average_keeps_its_kind_and_dtype():
    X = nd.array(np.full((4, 4), 60000), dtype='float16')
    Y = pool2d(X, 2, 'avg')
    assert isinstance(Y, nd.NDArray) and Y.dtype == np.float16
    np.testing.assert_array_equal(Y.asnumpy(), np.full((3, 3), 60000, np.float16))


# ----------------------------------------------------------------------------------------
# Integer overflow.

@pytest.mark.parametrize('dtype, x, k, want', [
    (np.int8, 100, 2, 800.0), (np.uint8, 200, 2, 1600.0), (np.int8, -128, 2, -1024.0),
    (np.int16, 30000, 2, 240000.0), (np.int64, 2**40, 2, 8.0 * 2**40)])
def test_corr2d_integers_do_not_wrap(dtype, x, k, want):
    X, K = np.full((3, 3), x, dtype), np.full((k, k), 2, dtype)
    Y = corr2d(X, K)                                  # by hand: 4 cells of x * 2
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, np.full((2, 2), want))


def test_corr2d_int8_ndarray_does_not_wrap():
    X = nd.array(np.full((2, 2), 100), dtype='int8')
    K = nd.array(np.full((2, 2), 2), dtype='int8')
    Y = corr2d(X, K)
    assert isinstance(Y, nd.NDArray) and Y.asnumpy().item() == 800.0


@pytest.mark.parametrize('dtype', [np.int8, np.uint8, np.int32, np.int64])
def test_integer_average_is_exact_at_the_extremes(dtype):
    info = np.iinfo(dtype)
    X = RNG.choice([info.min, info.max, 0, 1], size=(5, 5)).astype(dtype)
    if dtype == np.int64:   # float64 holds sums exactly only below 2**53
        X = (X // 2**12).astype(dtype)
    Y = pool2d(X, 2, 'avg')
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, plain_avg(X, 2))


@pytest.mark.parametrize('dtype', [np.int8, np.uint8, np.int64])
def test_integer_max_keeps_its_dtype_with_padding(dtype):
    info = np.iinfo(dtype)
    X = np.array([[info.min, info.max], [info.min, info.min]], dtype)
    Y = pool2d(X, 2, 'max', padding=1)
    assert Y.dtype == dtype   # by hand: output (i, j) sees rows i-1..i, columns j-1..j
    lo, hi = info.min, info.max
    np.testing.assert_array_equal(Y, [[lo, hi, hi], [lo, hi, hi], [lo, lo, lo]])


def test_integer_average_of_an_ndarray_does_not_wrap():
    X = nd.array(np.full((3, 3), 200), dtype='uint8')
    np.testing.assert_array_equal(pool2d(X, 2, 'avg').asnumpy(), np.full((2, 2), 200.0))


@pytest.mark.parametrize('dtype', ['uint8', 'int32', 'int64', 'float16'])
def test_teaching_loops_refuse_what_they_would_round(dtype):
    # Chapter 1's loop would average a uint8 NDArray of 200s to 8 (MXNet sums in uint8).
    X = nd.array(np.full((3, 3), 200), dtype=dtype)
    for loop in (loops.pool2d, loops.pool2d_numpy, loops.pool2d_offsets):
        assert_refused(TypeError, ['X', dtype, 'float32'], loop, X, 2, 'avg')
    assert_refused(TypeError, ['X', dtype], loops.pool2d_strided, X, 2, 'avg', 1, 0)


@pytest.mark.parametrize('loop', [loops.pool2d, loops.pool2d_numpy, loops.pool2d_offsets])
def test_teaching_loops_keep_float64(loop):
    X = np.array([[1.0, 1 + 2.0**-40], [1.0, 1.0]])   # float32 would round 2**-40 away
    Y = loop(X, (1, 2), 'avg')
    assert Y.dtype == np.float64
    assert Y[0, 0] == 1 + 2.0**-41 and Y[1, 0] == 1.0


def test_strided_loop_keeps_float64_ndarray():
    X = nd.array([[1.0, 1 + 2.0**-40]], dtype='float64')
    Y = loops.pool2d_strided(X, (1, 2), 'max', 1, 0)
    assert Y.dtype == np.float64 and Y.asnumpy()[0, 0] == 1 + 2.0**-40


@pytest.mark.parametrize('dtype, value, want_dtype', [
    (np.int64, 2**40 + 1, np.float64), (np.float64, 1 + 2.0**-40, np.float64),
    (np.float16, 60000, np.float16), (np.uint8, 255, np.float64)])
def test_avg_pool_as_conv_keeps_precision(dtype, value, want_dtype):
    X = np.full((1, 1, 2, 2), value, dtype)
    Y = variants.avg_pool_as_conv(X, 2)
    assert Y.dtype == want_dtype and Y.item() == want_dtype(value)


# ----------------------------------------------------------------------------------------
# Array kinds: subclasses, views, MXNet's two array types, mixes.

def kinds():
    """Each numpy kind of X16, by name."""
    return {'read-only': np.require(X16.copy(), requirements='C'),
            'non-contiguous': np.repeat(X16, 2, axis=1)[:, ::2],
            'fortran': np.asfortranarray(X16),
            'big-endian': X16.astype('>f4'),
            'matrix': X16.view(np.matrix)}


@pytest.mark.parametrize('kind', list(kinds()))
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_numpy_kinds_pool_like_mxnet_and_come_back_plain(kind, mode):
    X = kinds()[kind]
    X.flags.writeable = kind != 'read-only'
    before = np.array(X)
    Y = pool2d(X, 2, mode)
    assert type(Y) is np.ndarray and Y.dtype == np.float32 and Y.dtype.isnative
    np.testing.assert_allclose(Y, mxnet_pool(X16, (2, 2), mode), rtol=1e-6)
    np.testing.assert_array_equal(np.array(X), before)


def test_memmap_input(tmp_path):
    M = np.memmap(tmp_path / 'x.dat', dtype=np.float32, mode='w+', shape=(4, 4))
    M[:] = X16
    Y = pool2d(M, 2, 'avg')
    assert type(Y) is np.ndarray
    np.testing.assert_allclose(Y, mxnet_pool(X16, (2, 2), 'avg'), rtol=1e-6)


def test_fortran_ordered_batch_pools_like_c_order():
    X = RNG.standard_normal((3, 4, 9, 8)).astype(np.float32)
    for mode in ('max', 'avg'):
        np.testing.assert_array_equal(pool2d(np.asfortranarray(X), 3, mode, strides=2),
                                      pool2d(X, 3, mode, strides=2))
    Xi = RNG.integers(-100, 100, (3, 4, 9, 8)).astype(np.int8)
    np.testing.assert_array_equal(pool2d(np.asfortranarray(Xi), 2, 'avg'),
                                  mxnet_pool(Xi.astype(np.float64), (2, 2), 'avg'))


@pytest.mark.parametrize('function, args', [
    (pool2d, (2,)), (loops.pool2d, (2,)), (loops.pool2d_numpy, (2,)),
    (loops.pool2d_offsets, (2,)), (variants.min_pool, (2,)), (variants.softmax_pool, (2,)),
    (variants.smooth_max_pool, (2,))])
def test_masked_arrays_are_refused(function, args):
    X = np.ma.masked_array(X16, X16 > 10)
    assert_refused(TypeError, ['X', 'masked', 'filled'], function, X, *args)


@pytest.mark.parametrize('bad', [[[1.0, 2.0], [3.0, 4.0]], 3.0, None])
def test_non_arrays_are_refused(bad):
    for function in (pool2d, loops.pool2d_offsets, variants.min_pool):
        assert_refused(TypeError, ['X must be'], function, bad, 1)
    assert_refused(TypeError, ['K must be'], corr2d, X16, bad)


@pytest.mark.parametrize('X, K', [(X16, nd.ones((2, 2))), (nd.array(X16), np.ones((2, 2))),
                                  (mx.np.array(X16), np.ones((2, 2), np.float32)),
                                  (X16, mx.np.ones((2, 2)))])
def test_corr2d_mixed_kinds_answer_in_xs_kind(X, K):
    Y = corr2d(X, K)
    assert type(Y) is type(X) or (type(X) is np.ndarray and type(Y) is np.ndarray)
    want = nd.Convolution(nd.array(X16).reshape((1, 1, 4, 4)), nd.ones((1, 1, 2, 2)),
                          kernel=(2, 2), num_filter=1, no_bias=True)
    got = Y.asnumpy() if isinstance(Y, nd.NDArray) else Y
    np.testing.assert_allclose(got, want.asnumpy()[0, 0], rtol=1e-6)


@pytest.mark.parametrize('make', [nd.array, mx.np.array])
def test_offset_loop_takes_mxnet_arrays(make):
    X = make(X16)
    Y = loops.pool2d_offsets(X, 2, 'max', 2, 1)
    assert type(Y) is type(X)
    np.testing.assert_array_equal(Y.asnumpy(), mxnet_pool(X16, (2, 2), 'max', (2, 2), (1, 1)))


@pytest.mark.parametrize('function, args, shape', [
    (pool2d, (2, 'avg'), (4, 4)), (variants.min_pool, (2,), (4, 4)),
    (variants.softmax_pool, (2,), (4, 4)), (loops.pool2d_offsets, (2,), (4, 4)),
    (loops.pool2d_strided, (2, 'max', 2, 1), (4, 4)),
    (variants.avg_pool_as_conv, (2,), (1, 1, 4, 4)),
    (variants.max_pool_by_relu, (2,), (1, 1, 4, 4))])
def test_mx_np_arrays_come_back_as_mx_np_without_warnings(function, args, shape):
    X = mx.np.array(X16.reshape(shape))    # warnings are errors under pytest (pyproject)
    Y = function(X, *args)
    assert type(Y) is mx.np.ndarray
    want = function(X16.reshape(shape), *args)
    np.testing.assert_allclose(Y.asnumpy(), want, rtol=1e-6)


@pytest.mark.parametrize('loop', [loops.pool2d, loops.pool2d_numpy])
def test_chapter_1_loops_refuse_mx_np_clearly(loop):
    assert_refused(TypeError, ['X', 'mx.np', 'as_nd_ndarray'], loop, mx.np.array(X16), 2)


def test_ndarray_results_stay_on_the_inputs_context():
    X = nd.array(X16, ctx=mx.cpu(1))
    for Y in (pool2d(X, 2), corr2d(X, nd.ones((2, 2), ctx=mx.cpu(1))),
              variants.min_pool(X, 2), loops.pool2d_offsets(X, 2)):
        assert Y.context == mx.cpu(1)


# ----------------------------------------------------------------------------------------
# Sizes: empty axes, huge windows, windows wider than the input.

def in_time(fn):
    """Run fn() and fail if it takes more than a few thousand Python steps (a loop over
    a huge window would take millions); return what it returned."""
    return within_steps(fn)


@pytest.mark.parametrize('k, p, s, mode, want', [
    # window (1, k) over a single cell of value 3, padding k - 1, stride k: one output;
    # max: 3; average with padding counted: 3 / k (by hand).
    (10**15, 10**15 - 1, 10**15, 'max', 3.0),
    (10**15, 10**15 - 1, 10**15, 'avg', 3e-15),
    (2**60, 2**60 - 1, 2**60, 'max', 3.0),
    (10**9 + 2, 10**9 + 1, 10**9, 'max', 3.0),   # two windows, disjoint offset ranges
])
def test_huge_windows_on_a_tiny_input_answer_at_once(k, p, s, mode, want):
    Y = in_time(lambda: pool2d(np.full((1, 1), 3.0), (1, k), mode, strides=(1, s),
                               padding=(0, p)))
    np.testing.assert_allclose(Y[0, 0], want, rtol=1e-12)


def test_huge_window_average_without_padding_counted():
    Y = in_time(lambda: pool2d(np.full((1, 1), 3.0), (1, 10**15), 'avg', strides=10**15,
                               padding=(0, 10**15 - 1), count_include_pad=False))
    assert Y.shape == (1, 1) and Y[0, 0] == 3.0


def test_absurd_sizes_are_refused_at_once():
    # The example: MXNet refuses it at once, so do we (no loop over offsets).
    assert_refused(ValueError, ['pool_size', '2**60'], in_time,
                   lambda: pool2d(np.ones((1, 1)), (1, 10**30), padding=(0, 10**30 - 1)))
    assert_refused(ValueError, ['strides'], in_time,
                   lambda: pool2d(np.ones((1, 1)), 1, strides=2**61))


def test_an_output_too_large_for_memory_fails_at_once():
    with pytest.raises(MemoryError):
        in_time(lambda: pool2d(np.ones((1, 1)), (1, 10**15), padding=(0, 10**15 - 1)))


@pytest.mark.parametrize('function, args', [
    (loops.pool2d_strided, ((10**6, 10**6), 'max', 1, 10**6 - 1)),
    (loops.pool2d_offsets, ((10**6, 10**6), 'avg', 1, 10**6 - 1)),
    (variants.softmax_pool, ((10**5, 10**5), 1.0)),
    (variants.count_pool_ops, ((3000, 3000),)),
])
def test_loops_that_build_the_padding_refuse_huge_padding_at_once(function, args):
    X = np.ones((1, 1, 1)) if function is variants.count_pool_ops else np.ones((1, 1))
    pad = {'padding': args[0][0] - 1} if function in (variants.softmax_pool,
                                                       variants.count_pool_ops) else {}
    assert_refused(ValueError, ['padding', 'pool2d'], in_time,
                   lambda: function(X, *args, **pad))


@pytest.mark.parametrize('window', [10**4, (33, 32), (1, 1025)])
def test_relu_network_refuses_huge_windows_at_once(window):
    assert_refused(ValueError, ['pool_size', '1024'], in_time,
                   lambda: variants.relu_max_weights(window))
    assert_refused(ValueError, ['pool_size'], in_time,
                   lambda: variants.max_pool_by_relu(np.ones((1, 1, 40, 1100)), window))


@pytest.mark.parametrize('shape', [(0, 4), (4, 0), (0, 1, 4, 4), (1, 0, 4, 4)])
def test_empty_axes_are_refused(shape):
    for function in (pool2d, variants.min_pool):
        assert_refused(ValueError, ['X', 'empty axis'], function, np.ones(shape), 1)


@pytest.mark.parametrize('window', [(5, 1), (1, 5), 5])
def test_windows_wider_than_the_input_are_refused(window):
    for function in (pool2d, loops.pool2d, loops.pool2d_offsets, variants.min_pool):
        assert_refused(ValueError, ['pool_size', 'does not fit'], function, X16, window)
    assert_refused(ValueError, ['K.shape', 'does not fit'], corr2d, X16,
                   np.ones(window if isinstance(window, tuple) else (5, 5)))


def test_window_as_wide_as_the_padded_input_is_fine():
    Y = pool2d(X16, 6, 'max', padding=1)
    np.testing.assert_array_equal(Y, [[15.0]])


# ----------------------------------------------------------------------------------------
# Special values: NaN and infinities.

@pytest.mark.parametrize('value', [np.inf, -np.inf])
@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
def test_infinities_pool_like_mxnet(value, dtype):
    X = X16.astype(dtype)
    X[1, 2] = value
    for mode in ('max', 'avg'):
        np.testing.assert_array_equal(pool2d(X, 2, mode).astype(np.float64),
                                      mxnet_pool(X, (2, 2), mode).astype(np.float64))


def test_nan_propagates_through_max_and_average():
    X = X16.copy()
    X[0, 0] = np.nan
    for mode in ('max', 'avg'):
        Y = pool2d(X, 2, mode)
        assert np.isnan(Y[0, 0]) and not np.isnan(Y[1:, :]).any() and not np.isnan(Y[0, 1])


def test_mixed_infinities_average_to_nan():
    X = np.array([[np.inf, -np.inf]], np.float32)
    assert np.isnan(pool2d(X, (1, 2), 'avg')[0, 0])   # inf - inf, by IEEE


# ----------------------------------------------------------------------------------------
# max_pool_by_relu: what it can do exactly enough, and what it refuses.

def test_relu_max_pool_handles_float32_extremes():
    X = np.array([[[[3e38, -3e38, -3.4e38, 3.4e38]]]], np.float32)
    Y = variants.max_pool_by_relu(X, (1, 2), strides=(1, 2))
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.array([[[[3e38, 3.4e38]]]], np.float32))


def test_relu_max_pool_on_mixed_scales_is_within_its_float64_bound():
    X = RNG.choice([1e-6, -1e6, 1e6, -1e-6, 0.5], size=(2, 3, 8, 8))
    Y = variants.max_pool_by_relu(X, 3)
    want = mxnet_pool(X, (3, 3), 'max')
    depth = len(variants.relu_max_weights(3))
    # A few float64 roundings of the largest magnitude per layer (module docstring).
    np.testing.assert_allclose(Y, want, rtol=0, atol=8 * depth * 2.0**-52 * 1e6)


def test_relu_max_pool_small_window_values_next_to_huge_ones():
    X = np.array([[[[1e-6, -1e6]]]])
    assert abs(variants.max_pool_by_relu(X, (1, 2)).item() - 1e-6) <= 4 * 2.0**-52 * 1e6


@pytest.mark.parametrize('value', [np.inf, -np.inf, np.nan])
def test_relu_max_pool_refuses_non_finite_values(value):
    X = np.zeros((1, 1, 2, 2))
    X[0, 0, 1, 1] = value
    assert_refused(ValueError, ['X', 'finite'], variants.max_pool_by_relu, X, 2)


@pytest.mark.parametrize('X', [np.full((1, 1, 2, 2), 1e308), np.full((1, 1, 2, 2), -2.0**1001),
                               np.full((1, 1, 2, 2), 2**60, np.int64)])
def test_relu_max_pool_refuses_what_float64_cannot_hold(X):
    assert_refused(ValueError, ['X', 'magnitude'], variants.max_pool_by_relu, X, 2)


def test_relu_max_pool_integers_within_range_are_exact():
    X = np.array([[[[2**52, -2**52, 7, 2**53]]]], np.int64)
    Y = variants.max_pool_by_relu(X, (1, 2), strides=(1, 2))
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[[[2.0**52, 2.0**53]]]])
