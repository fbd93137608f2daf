"""Anti-aliased pooling: blur_pool2d and max_blur_pool2d (poolbook.antialias).

Where the expected values come from: MXNet's own operators composed as Zhang's layer is
(nd.pad by reflection, then nd.Convolution with one fixed filter per channel, num_group=C;
the dense maximum is nd.Pooling at stride 1), and small cases worked out by hand in the
comments next to them; never the functions' own output. Property tests check the two
claims the chapter makes: a shift by the stride moves the output by one cell, and a
one-pixel shift changes max-blur pooling less than plain stride-2 max pooling.
"""
import math

import mxnet as mx
import numpy as np
import pytest
from mxnet import nd

import poolbook
from poolbook.antialias import binomial_filter, blur_pool2d, max_blur_pool2d
from poolbook.pooling import pool2d
from poolbook.shift import shift_change

PASCAL = {1: [1], 2: [1, 1], 3: [1, 2, 1], 4: [1, 3, 3, 1], 5: [1, 4, 6, 4, 1]}


def mxnet_blur(X4, strides, filter_size):
    """Zhang's BlurPool from MXNet operators, float64: reflect-pad, grouped convolution."""
    f = np.array(PASCAL[filter_size], dtype=np.float64)
    kernel = np.outer(f, f) / f.sum() ** 2
    C = X4.shape[1]
    data = nd.array(X4, dtype='float64')
    if filter_size > 1:
        before, after = (filter_size - 1) // 2, filter_size // 2
        data = nd.pad(data, mode='reflect', pad_width=(0, 0, 0, 0, before, after, before, after))
    weight = nd.array(np.tile(kernel, (C, 1, 1, 1)), dtype='float64')
    Y = nd.Convolution(data, weight, kernel=kernel.shape, stride=strides, num_filter=C,
                       num_group=C, no_bias=True)
    return Y.asnumpy()


def mxnet_max_blur(X4, pool_size, strides, filter_size):
    """nd.Pooling at stride 1, then mxnet_blur."""
    dense = nd.Pooling(nd.array(X4, dtype='float64'), kernel=pool_size, stride=(1, 1),
                       pool_type='max')
    return mxnet_blur(dense.asnumpy(), strides, filter_size)


# ----------------------------------------------------------------------------------------
# Hand-computed cases

def test_binomial_filters_are_rows_of_pascals_triangle_normalized():
    for size, row in PASCAL.items():
        assert np.allclose(binomial_filter(size), np.array(row) / sum(row))


def test_one_dimensional_toy_by_hand():
    # Blur [1, 2, 1] / 4 at stride 2 of 0 0 1 1 0 0 1 1, padded by reflection:
    # left pad x[1] = 0, right pad x[6] = 1. Outputs centred on x[0], x[2], x[4], x[6]:
    # (0 + 0 + 0) / 4, (0 + 2 + 1) / 4, (1 + 0 + 0) / 4, (0 + 2 + 1) / 4.
    x = np.array([[0, 0, 1, 1, 0, 0, 1, 1]], dtype=np.float64)
    assert np.array_equal(blur_pool2d(x), [[0, 0.75, 0.25, 0.75]])
    # Max-blur with a 1 x 2 window: the dense max is 0 1 1 1 0 1 1, padded 1 | ... | 1,
    # blurred at 0, 2, 4, 6: (1 + 0 + 1) / 4, (1 + 2 + 1) / 4, (1 + 0 + 1) / 4, (1 + 2 + 1) / 4.
    assert np.array_equal(max_blur_pool2d(x, (1, 2)), [[0.5, 1, 0.5, 1]])


def test_two_dimensional_case_by_hand_shows_the_reflection():
    # A 4 in the centre of a 3 x 3 zero map. Each output sits on a corner; reflection puts
    # the centre at all four diagonal neighbours of the corner, each with weight 1/16:
    # 4 * 4 / 16 = 1. Zero padding would give 4 / 16 = 0.25.
    X = np.zeros((3, 3))
    X[1, 1] = 4
    assert np.array_equal(blur_pool2d(X), np.ones((2, 2)))


def test_filter_size_one_is_plain_subsampling():
    X = np.arange(35.0).reshape(5, 7)
    assert np.array_equal(blur_pool2d(X, strides=2, filter_size=1), X[::2, ::2])
    assert np.array_equal(blur_pool2d(X, strides=(2, 3), filter_size=1), X[::2, ::3])


def test_constant_maps_stay_constant():
    for size in PASCAL:
        Y = blur_pool2d(np.full((2, 9, 6), 3.0), strides=2, filter_size=size)
        assert np.allclose(Y, 3.0)


# ----------------------------------------------------------------------------------------
# Against MXNet

@pytest.mark.parametrize('filter_size', [1, 2, 3, 4, 5])
@pytest.mark.parametrize('strides', [1, 2, 3, (2, 1)])
def test_blur_agrees_with_mxnet(filter_size, strides):
    rng = np.random.RandomState(filter_size * 10 + (strides if isinstance(strides, int) else 7))
    for shape in [(1, 1, 6, 6), (2, 3, 7, 10), (1, 2, 9, 4)]:
        X = rng.randn(*shape)
        expected = mxnet_blur(X, (strides, strides) if isinstance(strides, int) else strides,
                              filter_size)
        assert np.allclose(blur_pool2d(X, strides=strides, filter_size=filter_size),
                           expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize('pool_size', [2, 3, (2, 3)])
@pytest.mark.parametrize('filter_size', [1, 3, 4])
def test_max_blur_agrees_with_mxnet(pool_size, filter_size):
    rng = np.random.RandomState(7)
    window = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    for shape in [(1, 1, 8, 8), (2, 3, 9, 11)]:
        X = rng.randn(*shape)
        expected = mxnet_max_blur(X, window, (2, 2), filter_size)
        Y = max_blur_pool2d(X, pool_size, strides=2, filter_size=filter_size)
        assert np.allclose(Y, expected, rtol=1e-12, atol=1e-12)


def test_float32_agrees_with_mxnet_to_float32_rounding():
    X = np.random.RandomState(3).rand(2, 4, 12, 12).astype(np.float32)
    Y = max_blur_pool2d(X)
    assert Y.dtype == np.float32
    assert np.allclose(Y, mxnet_max_blur(X, (2, 2), (2, 2), 3), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------------------
# Shapes, kinds, dtypes

def test_output_shapes():
    for n in range(1, 14):
        for s in (1, 2, 3):
            assert blur_pool2d(np.ones((n, n + 1)), strides=s).shape == (
                math.ceil(n / s), math.ceil((n + 1) / s))
    for n in range(3, 14):  # max-blur has pool2d's shape at every size, odd or even
        for k, s in [(2, 2), (3, 2), (2, 1), (3, 3)]:
            X = np.ones((2, n, n + 2))
            assert max_blur_pool2d(X, k, strides=s).shape == pool2d(X, k, strides=s).shape
    for n in range(2, 20, 2):  # even sizes: blur at stride 2 has the shape of 2 x 2 pooling
        X = np.ones((n, n))
        assert blur_pool2d(X).shape == pool2d(X, 2, strides=2).shape


def test_kinds_ranks_and_dtypes():
    rng = np.random.RandomState(0)
    X4 = rng.rand(2, 3, 8, 8)
    full = blur_pool2d(X4)
    assert np.array_equal(blur_pool2d(X4[0]), full[0])
    assert np.array_equal(blur_pool2d(X4[0, 1]), full[0, 1])
    Y = max_blur_pool2d(nd.array(X4, dtype='float64'))
    assert isinstance(Y, nd.NDArray) and Y.dtype == np.float64
    assert np.array_equal(Y.asnumpy(), max_blur_pool2d(X4))
    Yb = blur_pool2d(nd.array(X4, dtype='float64'))
    assert isinstance(Yb, nd.NDArray) and np.array_equal(Yb.asnumpy(), full)
    ints = np.arange(16).reshape(4, 4)
    assert blur_pool2d(ints).dtype == np.float64
    assert np.array_equal(blur_pool2d(ints), blur_pool2d(ints.astype(np.float64)))
    assert type(blur_pool2d(np.asfortranarray(X4))) is np.ndarray
    Ynp = max_blur_pool2d(mx.np.array(X4, dtype='float64'))
    assert isinstance(Ynp, mx.np.ndarray) and np.array_equal(Ynp.asnumpy(), max_blur_pool2d(X4))


def test_input_is_unchanged():
    X = np.random.RandomState(1).rand(3, 9, 9)
    before = X.copy()
    blur_pool2d(X, filter_size=5)
    max_blur_pool2d(X, 3)
    assert np.array_equal(X, before)


def test_exported_from_the_package():
    assert poolbook.blur_pool2d is blur_pool2d
    assert poolbook.max_blur_pool2d is max_blur_pool2d


# ----------------------------------------------------------------------------------------
# Bad arguments

@pytest.mark.parametrize('call, error, words', [
    (lambda X: blur_pool2d(X, filter_size=0), ValueError, ['filter_size', '0']),
    (lambda X: blur_pool2d(X, filter_size=6), ValueError, ['filter_size', '6']),
    (lambda X: blur_pool2d(X, filter_size=3.0), TypeError, ['filter_size', '3.0']),
    (lambda X: blur_pool2d(X, filter_size=True), TypeError, ['filter_size', 'True']),
    (lambda X: blur_pool2d(X, strides=0), ValueError, ['strides', '0']),
    (lambda X: blur_pool2d(X, strides=(2, 2, 2)), ValueError, ['strides']),
    (lambda X: blur_pool2d(X[0, 0, 0]), ValueError, ['X', '(H, W)']),
    (lambda X: blur_pool2d(X.tolist()), TypeError, ['X', 'list']),
    (lambda X: blur_pool2d(X.astype(complex)), TypeError, ['X', 'complex']),
    (lambda X: max_blur_pool2d(X, 6), ValueError, ['pool_size', '(6, 6)']),
    (lambda X: max_blur_pool2d(X, 0), ValueError, ['pool_size', '0']),
    (lambda X: max_blur_pool2d(X, filter_size=9), ValueError, ['filter_size', '9']),
    (lambda X: max_blur_pool2d(X, strides=-1), ValueError, ['strides', '-1']),
    (lambda X: max_blur_pool2d(X[None]), ValueError, ['X']),
])
def test_bad_arguments_are_refused_by_name(call, error, words):
    X = np.random.RandomState(2).rand(1, 2, 5, 5)
    before = X.copy()
    with pytest.raises(error) as info:
        call(X)
    for word in words:
        assert word in str(info.value)
    assert np.array_equal(X, before)


# ----------------------------------------------------------------------------------------
# The two properties the chapter relies on

@pytest.mark.parametrize('function', [blur_pool2d, max_blur_pool2d])
def test_shift_by_the_stride_moves_the_output_by_one_cell(function):
    rng = np.random.RandomState(4)
    for _ in range(20):
        X = rng.rand(2, 3, 16, 18)
        Y = function(X)
        # Input moved left by 2 columns (Z[i, j] = X[i, j + 2]): output moved by one cell,
        # except in the first and last columns, whose windows reach the border.
        right = function(X[..., :, 2:])
        assert np.allclose(right[..., :, 1:-1], Y[..., :, 2:-1], rtol=0, atol=1e-12)
        down = function(X[..., 2:, :])
        assert np.allclose(down[..., 1:-1, :], Y[..., 2:-1, :], rtol=0, atol=1e-12)


def test_one_pixel_shift_changes_max_blur_less_than_max_pooling():
    rng = np.random.RandomState(5)
    changes = {'max': [], 'max-blur': []}
    pools = {'max': lambda A: pool2d(A, 2, strides=2), 'max-blur': max_blur_pool2d}
    for _ in range(100):
        X = rng.rand(1, 4, 21, 21)
        for name, pool in pools.items():
            for d_h, d_w in [(0, 1), (1, 0)]:
                changes[name].append(shift_change(pool, X, d_h, d_w, (20, 20), 2))
    # Measured margin: max-blur changes by well under two thirds of what max pooling does.
    assert np.mean(changes['max-blur']) < 0.67 * np.mean(changes['max'])
    assert np.mean(np.array(changes['max-blur']) < np.array(changes['max'])) > 0.95


def test_float16_is_summed_in_float32_and_returned_in_float16():
    X = np.random.RandomState(6).rand(1, 2, 9, 9).astype(np.float16)
    Y = blur_pool2d(X, filter_size=5)
    assert Y.dtype == np.float16
    expected = mxnet_blur(X.astype(np.float64), (2, 2), 5).astype(np.float16)
    assert np.allclose(Y, expected, rtol=1e-3, atol=0)  # float16 keeps about 3 digits


@pytest.mark.parametrize('function', ['blur_pool2d', 'max_blur_pool2d'])
@pytest.mark.parametrize('kind', ['numpy', 'ndarray'])
def test_memory_is_the_output_and_a_few_chunks(function, kind):
    # An 8 MiB uint8 batch, as images arrive. Converted whole to float64 and padded,
    # with a strided copy per filter tap, the peak was over 20 times the input; a few
    # maps at a time it is the float64 output (16 MiB), max_blur_pool2d's stride-1
    # maximum (about the input) and a few chunks.
    import tracemalloc
    A = np.ones((8, 64, 128, 128), np.uint8)
    X = A if kind == 'numpy' else nd.array(A, dtype='uint8')
    tracemalloc.start()
    try:
        Y = blur_pool2d(X) if function == 'blur_pool2d' else max_blur_pool2d(X, 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    out = Y.asnumpy() if kind == 'ndarray' else Y
    assert out.shape == (8, 64, 64, 64) and out.dtype == np.float64
    dense = A.nbytes if function == 'max_blur_pool2d' else 0
    assert peak < out.nbytes + dense + 4 * poolbook.CHUNK_BYTES, f'{peak / 2**20:.1f} MiB'
