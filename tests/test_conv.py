"""corr2d: the source book's worked example, MXNet's convolution, and bad input."""
import numpy as np
import pytest
from mxnet import nd

from poolbook.conv import corr2d


def test_source_example():
    # The convolution section of the source: [[0..8]] with [[0, 1], [2, 3]] gives
    # [[19, 25], [37, 43]]; e.g. 0*0 + 1*1 + 3*2 + 4*3 = 19.
    X = nd.array([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    K = nd.array([[0, 1], [2, 3]])
    np.testing.assert_array_equal(corr2d(X, K).asnumpy(), [[19, 25], [37, 43]])


def test_edge_detector():
    # [[1, -1]] answers 1 where a 1 has a 0 on its right, -1 for the opposite edge.
    X = nd.array([[1, 1, 0, 0, 1]])
    np.testing.assert_array_equal(corr2d(X, nd.array([[1, -1]])).asnumpy(), [[0, 1, 0, -1]])


@pytest.mark.parametrize('shape, kernel', [((4, 5), (2, 2)), ((6, 8), (1, 2)),
                                           ((3, 3), (3, 3)), ((7, 4), (3, 1))])
def test_agrees_with_mxnet_convolution(shape, kernel):
    rng = np.random.default_rng(shape[0] * 100 + kernel[1])
    X = nd.array(rng.normal(size=shape))
    K = nd.array(rng.normal(size=kernel))
    expected = nd.Convolution(X.reshape((1, 1) + shape), K.reshape((1, 1) + kernel),
                              kernel=kernel, num_filter=1, no_bias=True)[0, 0]
    np.testing.assert_allclose(corr2d(X, K).asnumpy(), expected.asnumpy(), rtol=1e-5, atol=1e-5)


def test_kernel_larger_than_input_is_refused():
    X = nd.ones((2, 2))
    with pytest.raises(ValueError, match=r'K.shape \(3, 1\) does not fit in the input'):
        corr2d(X, nd.ones((3, 1)))
    np.testing.assert_array_equal(X.asnumpy(), np.ones((2, 2)))


def test_kernel_that_is_not_2d_is_refused():
    with pytest.raises(ValueError, match=r'K must have shape \(H, W\), got 1 dimension'):
        corr2d(nd.ones((3, 3)), nd.ones(2))
