"""The teaching loops (poolbook.loops): chapter 1's loop on NDArrays and on numpy arrays and
compiled by numba, chapter 2's loop with strides and padding, chapter 5's loop over the
window's offsets, and their checks.

Where the expected values come from: the source book's text, cases worked out by hand in
the comments, and MXNet's own operator (tests/reference.py); never the loops' output.
"""
import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook import kernels, loops
from reference import as_numpy, mxnet_pool2d
from steps import within_steps

X3 = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
X16 = np.arange(16, dtype=np.float32).reshape(4, 4)
CHAPTER_1_LOOPS = [loops.pool2d, loops.pool2d_numpy, loops.pool2d_njit]
needs_numba = pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')


# ----------------------------------------------------------------------------------------
# Chapter 1's loop: loops.pool2d (on MXNet's arrays), pool2d_numpy and pool2d_njit.

@pytest.mark.parametrize('loop', CHAPTER_1_LOOPS)
@pytest.mark.parametrize('mode, expected', [
    # The source text: 2x2 pooling of 0..8 gives [[4, 5], [7, 8]] (max), [[2, 3], [5, 6]]
    # (average).
    ('max', [[4, 5], [7, 8]]), ('avg', [[2, 3], [5, 6]])])
def test_source_example(loop, mode, expected):
    np.testing.assert_array_equal(as_numpy(loop(X3, (2, 2), mode)), expected)
    np.testing.assert_array_equal(as_numpy(loop(X3, 2, mode)), expected)  # int: square


def test_hand_computed_rectangular_windows():
    X = nd.array([[1, -2, 3], [0, 5, -1]])
    np.testing.assert_array_equal(loops.pool2d(X, (2, 2)).asnumpy(), [[5, 5]])
    np.testing.assert_allclose(loops.pool2d(X, (2, 2), 'avg').asnumpy(), [[1.0, 1.25]])
    np.testing.assert_array_equal(loops.pool2d(X, (1, 2)).asnumpy(), [[1, 3], [5, 5]])
    np.testing.assert_array_equal(loops.pool2d(X, (2, 1), 'avg').asnumpy(), [[0.5, 1.5, 1.0]])
    np.testing.assert_array_equal(loops.pool2d(X, (1, 1)).asnumpy(), X.asnumpy())


@pytest.mark.parametrize('loop', CHAPTER_1_LOOPS)
@pytest.mark.parametrize('shape, pool_size', [((3, 3), (2, 2)), ((5, 7), (3, 2)),
                                              ((6, 4), (1, 4)), ((4, 4), (4, 4))])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_chapter_1_loops_agree_with_mxnet(rng, as_kind, loop, shape, pool_size, mode):
    X = rng.normal(size=shape).astype(np.float32)
    Y = loop(as_kind(X), pool_size, mode)
    assert type(Y) is type(as_kind(X)) and Y.dtype == np.float32
    np.testing.assert_allclose(as_numpy(Y), mxnet_pool2d(X, pool_size, mode),
                               rtol=1e-6, atol=1e-6)


@needs_numba
def test_the_compiled_loop_computes_in_the_inputs_dtype(rng):
    for dtype in (np.float32, np.float64):
        X = rng.standard_normal((9, 7)).astype(dtype)
        for mode in ('max', 'avg'):
            Y = loops.pool2d_njit(X, (2, 3), mode)
            assert Y.dtype == dtype
            np.testing.assert_allclose(Y, mxnet_pool2d(X, (2, 3), mode), rtol=1e-6)


@pytest.mark.parametrize('loop', CHAPTER_1_LOOPS)
@pytest.mark.parametrize('args, error, words', [
    (((4, 4),), ValueError, ['pool_size', '(4, 4)', '(3, 3)', 'larger']),
    (((2, 4),), ValueError, ['pool_size', '(2, 4)']),
    (((0, 2),), ValueError, ['pool_size', '(0, 2)', 'at least 1']),
    ((-1,), ValueError, ['pool_size', '-1', 'at least 1']),
    (((2.0, 2),), TypeError, ['pool_size', '(2.0, 2)', 'float']),
    (((True, 2),), TypeError, ['pool_size', 'bool']),
    (('22',), TypeError, ['pool_size', "'22'"]),
    (((2, 2, 2),), ValueError, ['pool_size', '(2, 2, 2)', '3 entries']),
    (((2, 2), 'min'), ValueError, ['mode', "'min'", "'max' or 'avg'"]),
    (((2, 2), None), ValueError, ['mode', 'None']),
])
def test_bad_arguments_are_refused_with_a_clear_message(loop, args, error, words):
    before = X3.copy()
    with pytest.raises(error) as info:
        loop(X3, *args)
    for word in words:
        assert word in str(info.value)
    np.testing.assert_array_equal(X3.asnumpy(), before.asnumpy())


@pytest.mark.parametrize('X', [nd.arange(3), nd.zeros((1, 3, 3)), 7, [[0, 1], [2, 3]],
                               np.zeros((0, 3)), np.ones((3, 3), dtype=bool),
                               np.ma.masked_array(X16, X16 > 10)],
                         ids=['1-D', '3-D', 'int', 'list', 'empty', 'bool', 'masked'])
def test_input_that_is_not_a_2d_array_of_numbers_is_refused(X):
    for loop in CHAPTER_1_LOOPS:
        with pytest.raises((ValueError, TypeError), match='X must|X is a numpy masked'):
            loop(X, (1, 1))


@pytest.mark.parametrize('loop', [loops.pool2d, loops.pool2d_numpy])
def test_chapter_1_loops_refuse_mx_np_clearly(loop):
    with pytest.raises(TypeError, match='mx.np.*as_nd_ndarray'):
        loop(mx.np.array(X16), 2)


# ----------------------------------------------------------------------------------------
# Chapter 2's loop with strides and padding.

def test_strided_loop_reproduces_the_source_examples():
    X = nd.arange(16).reshape((4, 4))
    # The source: nn.MaxPool2D(3) gives 10; (3, padding 1, stride 2) gives [[5, 7], [13, 15]];
    # ((2, 3), padding (1, 2), strides (2, 3)) gives [[0, 3], [8, 11], [12, 15]].
    np.testing.assert_array_equal(loops.pool2d_strided(X, 3, strides=3).asnumpy(), [[10]])
    np.testing.assert_array_equal(
        loops.pool2d_strided(X, 3, strides=2, padding=1).asnumpy(), [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        loops.pool2d_strided(X, (2, 3), strides=(2, 3), padding=(1, 2)).asnumpy(),
        [[0, 3], [8, 11], [12, 15]])


def test_strided_loop_padding_never_wins_a_max():
    # Inputs -1..-16 with padding 1: a zero pad would win every border window.
    X = -nd.arange(16).reshape((4, 4)) - 1
    # Top-left window holds -1, -2, -5, -6 and padding: the max is -1.
    assert loops.pool2d_strided(X, 3, strides=2, padding=1)[0, 0].asscalar() == -1


# ----------------------------------------------------------------------------------------
# Chapter 2's strided loop and chapter 5's loop over offsets, against MXNet.

STRIDED_LOOPS = [loops.pool2d_strided, loops.pool2d_offsets]


@pytest.mark.parametrize('loop', STRIDED_LOOPS)
@pytest.mark.parametrize('pool_size, strides, padding', [
    (3, 2, 1), (2, 2, 0), (3, 1, 1), ((2, 3), (2, 3), (1, 2)), ((1, 4), (3, 1), (0, 2)),
    (2, 1, 1)])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_strided_loops_agree_with_mxnet(rng, as_kind, loop, pool_size, strides, padding,
                                        mode):
    X = rng.normal(size=(9, 10)).astype(np.float32)
    Y = loop(as_kind(X), pool_size, mode, strides, padding)
    assert type(Y) is type(as_kind(X))
    np.testing.assert_allclose(as_numpy(Y), mxnet_pool2d(X, pool_size, mode, strides=strides,
                                                         padding=padding),
                               rtol=1e-5, atol=1e-6)


def test_offset_loop_pools_batches_like_mxnet(rng):
    X = rng.normal(size=(2, 3, 9, 10)).astype(np.float32)
    for mode in ('max', 'avg'):
        np.testing.assert_allclose(loops.pool2d_offsets(X, 3, mode, 2, 1),
                                   mxnet_pool2d(X, 3, mode, strides=2, padding=1),
                                   rtol=1e-5, atol=1e-6)


def test_offset_loop_refuses_bad_arguments():
    with pytest.raises(ValueError, match='strides must be at least 1, got 0'):
        loops.pool2d_offsets(np.ones((4, 4)), 2, 'max', 0, 0)


@pytest.mark.parametrize('make', [nd.array, mx.np.array])
def test_offset_loop_takes_mxnet_arrays(make):
    X = make(X16)
    Y = loops.pool2d_offsets(X, 2, 'max', 2, 1)
    assert type(Y) is type(X)
    np.testing.assert_array_equal(Y.asnumpy(), mxnet_pool2d(X16, 2, strides=2, padding=1))


@pytest.mark.parametrize('loop, args', [(loops.pool2d_offsets, (2,)),
                                        (loops.pool2d_strided, (2, 'max', 2, 1))])
def test_mx_np_arrays_come_back_as_mx_np_without_warnings(loop, args):
    Y = loop(mx.np.array(X16), *args)   # warnings are errors under pytest (pyproject)
    assert type(Y) is mx.np.ndarray
    np.testing.assert_allclose(Y.asnumpy(), loop(X16, *args), rtol=1e-6)


def test_ndarray_results_stay_on_the_inputs_context():
    assert loops.pool2d_offsets(nd.array(X16, ctx=mx.cpu(1)), 2).context == mx.cpu(1)


# ----------------------------------------------------------------------------------------
# What every teaching loop refuses: dtypes it would round, masked arrays, huge padding.

@pytest.mark.parametrize('dtype', ['uint8', 'int32', 'int64', 'float16'])
def test_teaching_loops_refuse_what_they_would_round(dtype):
    # Chapter 1's loop would average a uint8 NDArray of 200s to 8 (MXNet sums in uint8).
    X = nd.array(np.full((3, 3), 200), dtype=dtype)
    for loop in CHAPTER_1_LOOPS + [loops.pool2d_offsets]:
        with pytest.raises(TypeError, match=f'X.*{dtype}.*float32'):
            loop(X, 2, 'avg')
    with pytest.raises(TypeError, match=f'X.*{dtype}'):
        loops.pool2d_strided(X, 2, 'avg', 1, 0)


@pytest.mark.parametrize('loop', CHAPTER_1_LOOPS + [loops.pool2d_offsets])
def test_teaching_loops_keep_float64(loop):
    X = np.array([[1.0, 1 + 2.0**-40], [1.0, 1.0]])   # float32 would round 2**-40 away
    Y = loop(X, (1, 2), 'avg')
    assert Y.dtype == np.float64
    assert Y[0, 0] == 1 + 2.0**-41 and Y[1, 0] == 1.0


def test_strided_loop_keeps_float64_ndarray():
    X = nd.array([[1.0, 1 + 2.0**-40]], dtype='float64')
    Y = loops.pool2d_strided(X, (1, 2), 'max', 1, 0)
    assert Y.dtype == np.float64 and Y.asnumpy()[0, 0] == 1 + 2.0**-40


@pytest.mark.parametrize('loop', [loops.pool2d_offsets, loops.pool2d_strided])
def test_masked_arrays_and_non_arrays_are_refused(loop):
    with pytest.raises(TypeError, match='X is a numpy masked array.*filled'):
        loop(np.ma.masked_array(X16, X16 > 10), 2)
    for bad in ([[1.0, 2.0], [3.0, 4.0]], 3.0, None):
        with pytest.raises(TypeError, match='X must be'):
            loop(bad, 1)


@pytest.mark.parametrize('pool_size', [(5, 1), (1, 5), 5])
def test_windows_wider_than_the_input_are_refused(pool_size):
    for loop in (loops.pool2d, loops.pool2d_offsets):
        with pytest.raises(ValueError, match='pool_size.*does not fit'):
            loop(X16, pool_size)


@pytest.mark.parametrize('loop, mode', [(loops.pool2d_strided, 'max'),
                                        (loops.pool2d_offsets, 'avg')])
def test_loops_that_build_the_padding_refuse_huge_padding_at_once(loop, mode):
    with pytest.raises(ValueError, match='padding.*pool2d'):
        within_steps(lambda: loop(np.ones((1, 1)), (10**6, 10**6), mode, 1, 10**6 - 1))


@pytest.mark.parametrize('function', [loops.check_float])
@pytest.mark.parametrize('dtype', ['float16', 'int64', 'uint8'])
def test_check_float_names_the_dtype(function, dtype):
    with pytest.raises(TypeError, match=f'X must be float32 or float64.*{dtype}'):
        function(np.zeros(2, dtype))
