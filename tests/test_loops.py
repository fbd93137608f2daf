"""Chapter 1's loop: hand-computed cases, MXNet's own operator, and every bad input."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook.loops import pool2d

X3 = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])


def test_source_example_max():
    # The source text: 2x2 maximum pooling of 0..8 gives [[4, 5], [7, 8]].
    np.testing.assert_array_equal(pool2d(X3, (2, 2)).asnumpy(), [[4, 5], [7, 8]])


def test_source_example_avg():
    # The source text: 2x2 average pooling of 0..8 gives [[2, 3], [5, 6]].
    np.testing.assert_array_equal(pool2d(X3, (2, 2), 'avg').asnumpy(), [[2, 3], [5, 6]])


def test_hand_computed_rectangular_windows():
    X = nd.array([[1, -2, 3], [0, 5, -1]])
    np.testing.assert_array_equal(pool2d(X, (2, 2)).asnumpy(), [[5, 5]])
    np.testing.assert_allclose(pool2d(X, (2, 2), 'avg').asnumpy(), [[1.0, 1.25]])
    np.testing.assert_array_equal(pool2d(X, (1, 2)).asnumpy(), [[1, 3], [5, 5]])
    np.testing.assert_array_equal(pool2d(X, (2, 1), 'avg').asnumpy(), [[0.5, 1.5, 1.0]])
    np.testing.assert_array_equal(pool2d(X, (1, 1)).asnumpy(), X.asnumpy())


def test_int_pool_size_means_a_square_window():
    np.testing.assert_array_equal(pool2d(X3, 2).asnumpy(), [[4, 5], [7, 8]])


@pytest.mark.parametrize('shape, window', [((3, 3), (2, 2)), ((5, 7), (3, 2)),
                                           ((6, 4), (1, 4)), ((4, 4), (4, 4))])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_agrees_with_mxnet_pooling(shape, window, mode):
    rng = np.random.default_rng(sum(shape) * 10 + window[0])
    X = nd.array(rng.normal(size=shape))
    expected = nd.Pooling(X.reshape((1, 1) + shape), kernel=window, pool_type=mode,
                          stride=(1, 1), pooling_convention='valid')[0, 0]
    np.testing.assert_allclose(pool2d(X, window, mode).asnumpy(), expected.asnumpy(),
                               rtol=1e-6, atol=1e-6)


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
def test_bad_arguments_are_refused_with_a_clear_message(args, error, words):
    before = X3.copy()
    with pytest.raises(error) as info:
        pool2d(X3, *args)
    for word in words:
        assert word in str(info.value)
    np.testing.assert_array_equal(X3.asnumpy(), before.asnumpy())


@pytest.mark.parametrize('X', [nd.arange(3), nd.zeros((1, 3, 3)), 7, [[0, 1], [2, 3]],
                               np.zeros((0, 3))], ids=['1-D', '3-D', 'int', 'list', 'empty'])
def test_input_that_is_not_a_2d_array_is_refused(X):
    with pytest.raises((ValueError, TypeError)) as info:
        pool2d(X, (1, 1))
    assert 'X must' in str(info.value)


def test_bool_input_is_refused():
    with pytest.raises(TypeError, match='X must hold real numbers, got dtype bool'):
        pool2d(np.ones((3, 3), dtype=bool), (2, 2))


def test_numpy_input_gives_the_same_numbers_as_numpy():
    Y = pool2d(X3.asnumpy(), (2, 2))
    assert type(Y) is np.ndarray and Y.dtype == np.float32
    np.testing.assert_array_equal(Y, [[4, 5], [7, 8]])


# Chapter 5's loops: the same loop on numpy, and the loop over window offsets.
from poolbook.loops import pool2d_numpy, pool2d_offsets  # noqa: E402


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_numpy_loop_agrees_with_the_mxnet_loop(mode):
    X = np.random.default_rng(5).normal(size=(6, 7))
    np.testing.assert_allclose(pool2d_numpy(X, (3, 2), mode),
                               pool2d(nd.array(X), (3, 2), mode).asnumpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('window, stride, pad', [(3, 2, 1), (2, 2, 0), (3, 1, 1),
                                                ((2, 3), (2, 3), (1, 2)), ((1, 4), (3, 1), (0, 2))])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_offset_loop_agrees_with_mxnet(window, stride, pad, mode):
    X = np.random.default_rng(6).normal(size=(2, 3, 9, 10)).astype(np.float32)
    pair = lambda v: v if isinstance(v, tuple) else (v, v)
    expected = nd.Pooling(nd.array(X), kernel=pair(window), stride=pair(stride), pad=pair(pad),
                          pool_type=mode).asnumpy()
    np.testing.assert_allclose(pool2d_offsets(X, window, mode, stride, pad), expected,
                               rtol=1e-5, atol=1e-6)


def test_offset_loop_refuses_bad_arguments():
    with pytest.raises(ValueError, match='strides must be at least 1, got 0'):
        pool2d_offsets(np.ones((4, 4)), 2, 'max', 0, 0)


# Chapter 2's loop with strides and padding.
from poolbook.loops import pool2d_strided  # noqa: E402


def test_strided_loop_reproduces_the_source_examples():
    X = nd.arange(16).reshape((4, 4))
    # The source: nn.MaxPool2D(3) gives 10; (3, padding 1, stride 2) gives [[5, 7], [13, 15]];
    # ((2, 3), padding (1, 2), strides (2, 3)) gives [[0, 3], [8, 11], [12, 15]].
    np.testing.assert_array_equal(pool2d_strided(X, 3, strides=3).asnumpy(), [[10]])
    np.testing.assert_array_equal(pool2d_strided(X, 3, strides=2, padding=1).asnumpy(),
                                  [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        pool2d_strided(X, (2, 3), strides=(2, 3), padding=(1, 2)).asnumpy(),
        [[0, 3], [8, 11], [12, 15]])


def test_strided_loop_padding_never_wins_a_max():
    # Inputs -1..-16 with padding 1: a zero pad would win every border window.
    X = -nd.arange(16).reshape((4, 4)) - 1
    # Top-left window holds -1, -2, -5, -6 and padding: the max is -1.
    assert pool2d_strided(X, 3, strides=2, padding=1)[0, 0].asscalar() == -1


@pytest.mark.parametrize('window, stride, pad', [(3, 2, 1), ((2, 3), (2, 3), (1, 2)), (2, 1, 1)])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_strided_loop_agrees_with_mxnet(window, stride, pad, mode):
    X = nd.array(np.random.default_rng(7).normal(size=(5, 6)))
    pair = lambda v: v if isinstance(v, tuple) else (v, v)
    expected = nd.Pooling(X.reshape((1, 1, 5, 6)), kernel=pair(window), stride=pair(stride),
                          pad=pair(pad), pool_type=mode)[0, 0]
    np.testing.assert_allclose(pool2d_strided(X, window, mode, stride, pad).asnumpy(),
                               expected.asnumpy(), rtol=1e-5, atol=1e-6)
