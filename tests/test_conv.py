"""corr2d and its check (poolbook.conv): the source book's worked example, MXNet's
convolution, integer inputs, array kinds, and bad input."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

from poolbook.conv import check_corr2d_args, corr2d
from reference import as_numpy

X16 = np.arange(16, dtype=np.float32).reshape(4, 4)


def mxnet_corr2d(X, K):
    """The cross-correlation by MXNet's nd.Convolution, as numpy float64."""
    X, K = as_numpy(X).astype(np.float64), as_numpy(K).astype(np.float64)
    Y = nd.Convolution(nd.array(X[None, None], dtype=np.float64),
                       nd.array(K[None, None], dtype=np.float64), kernel=K.shape,
                       num_filter=1, no_bias=True)
    return Y.asnumpy()[0, 0]


def test_source_example(as_kind):
    # The convolution section of the source: [[0..8]] with [[0, 1], [2, 3]] gives
    # [[19, 25], [37, 43]]; e.g. 0*0 + 1*1 + 3*2 + 4*3 = 19.
    X = as_kind(np.arange(9, dtype=np.float32).reshape(3, 3))
    Y = corr2d(X, nd.array([[0, 1], [2, 3]]))
    assert type(Y) is type(X)
    np.testing.assert_array_equal(as_numpy(Y), [[19, 25], [37, 43]])


def test_edge_detector():
    # [[1, -1]] answers 1 where a 1 has a 0 on its right, -1 for the opposite edge.
    X = nd.array([[1, 1, 0, 0, 1]])
    np.testing.assert_array_equal(corr2d(X, nd.array([[1, -1]])).asnumpy(), [[0, 1, 0, -1]])


@pytest.mark.parametrize('shape, kernel', [((4, 5), (2, 2)), ((6, 8), (1, 2)),
                                           ((3, 3), (3, 3)), ((7, 4), (3, 1))])
def test_agrees_with_mxnet_convolution(rng, shape, kernel):
    X, K = nd.array(rng.normal(size=shape)), nd.array(rng.normal(size=kernel))
    np.testing.assert_allclose(corr2d(X, K).asnumpy(), mxnet_corr2d(X, K), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize('dtype, x, k, want', [
    (np.int8, 100, 2, 800.0), (np.uint8, 200, 2, 1600.0), (np.int8, -128, 2, -1024.0),
    (np.int16, 30000, 2, 240000.0), (np.int64, 2**40, 2, 8.0 * 2**40)])
def test_integers_do_not_wrap(dtype, x, k, want):
    Y = corr2d(np.full((3, 3), x, dtype), np.full((k, k), 2, dtype))  # 4 cells of x * 2
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, np.full((2, 2), want))


def test_int8_ndarray_does_not_wrap():
    X = nd.array(np.full((2, 2), 100), dtype='int8')
    Y = corr2d(X, nd.array(np.full((2, 2), 2), dtype='int8'))
    assert isinstance(Y, nd.NDArray) and Y.asnumpy().item() == 800.0


@pytest.mark.parametrize('X, K', [(X16, nd.ones((2, 2))), (nd.array(X16), np.ones((2, 2))),
                                  (mx.np.array(X16), np.ones((2, 2), np.float32)),
                                  (X16, mx.np.ones((2, 2)))])
def test_mixed_kinds_answer_in_xs_kind(X, K):
    Y = corr2d(X, K)
    assert type(Y) is type(X)
    np.testing.assert_allclose(as_numpy(Y), mxnet_corr2d(X16, np.ones((2, 2))), rtol=1e-6)


def test_ndarray_results_stay_on_the_inputs_context():
    X = nd.array(X16, ctx=mx.cpu(1))
    assert corr2d(X, nd.ones((2, 2), ctx=mx.cpu(1))).context == mx.cpu(1)


def test_kernel_larger_than_input_is_refused():
    X = nd.ones((2, 2))
    with pytest.raises(ValueError, match=r'K.shape \(3, 1\) does not fit in the input'):
        corr2d(X, nd.ones((3, 1)))
    np.testing.assert_array_equal(X.asnumpy(), np.ones((2, 2)))
    for K in ((5, 1), (1, 5), (5, 5)):
        with pytest.raises(ValueError, match='K.shape.*does not fit'):
            corr2d(X16, np.ones(K))


def test_kernel_that_is_not_2d_is_refused():
    with pytest.raises(ValueError, match=r'K must have shape \(H, W\), got 1 dimension'):
        corr2d(nd.ones((3, 3)), nd.ones(2))


@pytest.mark.parametrize('bad', [[[1.0, 2.0], [3.0, 4.0]], 3.0, None])
def test_non_arrays_are_refused(bad):
    with pytest.raises(TypeError, match='K must be'):
        corr2d(X16, bad)
    with pytest.raises(TypeError, match='X must be'):
        check_corr2d_args(bad, X16)
