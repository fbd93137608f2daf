"""Chapter 4's pooling variants (poolbook.variants).

Where the expected values come from: the exercises' own facts, MXNet's operators
(nn.AvgPool2D, nn.MaxPool2D, nd.Pooling), a minimum computed directly with a loop, or small
cases worked out by hand in the comments next to them; never the function's own output.

* average pooling as a grouped convolution, against nn.AvgPool2D;
* the operation-counting loop against the cost formula over a sweep, and both by hand;
* minimum pooling against a direct minimum, integers at their extremes, ceil mode;
* softmax pooling and the smooth maximum: beta = 0 is the average, large beta the maximum
  (within bounds derived by hand), hand-computed windows, no overflow up to 1e4 x beta 100;
* maximum pooling from convolutions and ReLUs against nn.MaxPool2D, and its size by hand;
* bad arguments: the same errors as pool2d, clear messages for beta, input never changed.
"""
import math
import tracemalloc

import mxnet as mx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import nd
from mxnet.gluon import nn

from poolbook.pooling import pool2d
from poolbook.variants import (WINDOW_CELLS, avg_pool_as_conv, beta_sweep, check_finite,
                               check_shape, check_window_cells, count_pool_ops,
                               max_pool_by_relu, min_pool, negated, pair_max_weights,
                               pool_cost, relu_max_counts, relu_max_weights,
                               smooth_max_pool, softmax_pool)
from reference import as_numpy, mxnet_pool2d, plain_pool2d
from steps import within_steps
from strategies import geometries

TOL32 = dict(rtol=1e-5, atol=1e-6)  # float32 sums taken in another order


def batch(shape, seed=0, scale=1.0):
    """A seeded random float32 batch."""
    return (scale * np.random.default_rng(seed).normal(size=shape)).astype(np.float32)


def mxnet_pool(X, pool_size, strides, padding, mode, count_include_pad=True):
    """MXNet's pooling of X with these arguments (tests/reference.py)."""
    return mxnet_pool2d(X, pool_size, mode, strides=strides, padding=padding,
                        count_include_pad=count_include_pad)


# (window, strides, padding) settings, square and not, overlapping and not.
SETTINGS = [(2, 2, 0), (2, 1, 0), (3, 1, 1), (3, 2, 1), (3, 3, 0), ((2, 3), (2, 1), (1, 0)),
            ((3, 1), (1, 2), (1, 0)), (1, 1, 0)]


# ----------------------------------------------------------------------------------------
# Exercise 1: average pooling as a convolution.

@pytest.mark.parametrize('pool_size, strides, padding', SETTINGS)
def test_avg_pool_as_conv_equals_gluon_avg_pool(pool_size, strides, padding):
    X = batch((2, 3, 7, 8))
    want = nn.AvgPool2D(pool_size, strides, padding)(nd.array(X)).asnumpy()
    got = avg_pool_as_conv(X, pool_size, strides=strides, padding=padding)
    assert isinstance(got, np.ndarray) and got.shape == want.shape
    np.testing.assert_allclose(got, want, **TOL32)


def test_avg_pool_as_conv_hand_computed_with_padding():
    # X = [[1, 2], [3, 4]] padded by 1, 2 x 2 windows at stride 1: window sums
    # [[1, 3, 2], [4, 10, 6], [3, 7, 4]], each divided by 4 (padding counts, as the default).
    X = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)
    got = avg_pool_as_conv(X, 2, padding=1)
    np.testing.assert_allclose(got[0, 0], np.array([[1, 3, 2], [4, 10, 6], [3, 7, 4]]) / 4)


def test_avg_pool_as_conv_keeps_channels_apart():
    # Channel 1 holds huge numbers; if channels mixed, channel 0's output would show them.
    X = batch((1, 2, 5, 5))
    X[:, 1] += 1e6
    got = avg_pool_as_conv(X, 2, strides=2)
    alone = nn.AvgPool2D(2)(nd.array(X[:, :1])).asnumpy()
    np.testing.assert_allclose(got[:, :1], alone, **TOL32)
    assert np.all(np.abs(got[:, 0]) < 10)


def test_avg_pool_as_conv_ndarray_in_ndarray_out_input_unchanged():
    X = nd.array(batch((2, 2, 4, 4)))
    before = X.asnumpy().copy()
    Y = avg_pool_as_conv(X, 2, strides=2)
    assert isinstance(Y, nd.NDArray)
    np.testing.assert_array_equal(X.asnumpy(), before)
    np.testing.assert_allclose(Y.asnumpy(), nn.AvgPool2D(2)(X).asnumpy(), **TOL32)


def test_avg_pool_as_conv_integers_are_averaged_as_floats():
    # 0..15 as one 4 x 4 image: 2 x 2 means at stride 2 are (0 + 1 + 4 + 5) / 4 = 2.5, ...
    X = np.arange(16).reshape((1, 1, 4, 4))
    np.testing.assert_allclose(avg_pool_as_conv(X, 2, strides=2)[0, 0], [[2.5, 4.5], [10.5, 12.5]])


# ----------------------------------------------------------------------------------------
# Exercise 2: counting operations.

def test_count_hand_computed_max():
    # (1, 4, 4), 2 x 2 windows, stride 2: 2 x 2 = 4 outputs, each 4 reads and 3 comparisons.
    X = np.arange(16, dtype=np.float32).reshape((1, 4, 4))
    Y, ops = count_pool_ops(X, 2, 'max', strides=2)
    np.testing.assert_array_equal(Y, [[[5, 7], [13, 15]]])
    want = {'comparisons': 12, 'additions': 0, 'divisions': 0, 'reads': 16, 'writes': 4}
    assert ops == want
    assert pool_cost((1, 4, 4), 2, 'max', strides=2) == want


def test_count_hand_computed_avg_with_padding():
    # (2, 5, 5), 3 x 3, padding 1, stride 2: floor((5 + 2 - 3) / 2) + 1 = 3 per axis, so
    # 2 * 3 * 3 = 18 outputs, each 9 reads, 8 additions and 1 division.
    want = {'comparisons': 0, 'additions': 144, 'divisions': 18, 'reads': 162, 'writes': 18}
    assert pool_cost((2, 5, 5), 3, 'avg', strides=2, padding=1) == want
    _, ops = count_pool_ops(batch((2, 5, 5)), 3, 'avg', strides=2, padding=1)
    assert ops == want


def test_cost_of_the_typical_layer():
    # (64, 56, 56), 3 x 3, stride 2, padding 1: floor((56 + 2 - 3) / 2) + 1 = 28 per axis;
    # 64 * 28 * 28 = 50176 outputs, 8 comparisons each = 401408, 9 reads each = 451584.
    cost = pool_cost((64, 56, 56), 3, strides=2, padding=1)
    assert cost == {'comparisons': 401408, 'additions': 0, 'divisions': 0,
                    'reads': 451584, 'writes': 50176}


@settings(max_examples=80)
@given(geometries(windows=(1, 3), max_side=6), st.integers(1, 2),
       st.sampled_from(['max', 'avg']), st.integers(0, 2**32 - 1))
def test_loop_counts_equal_the_formula_and_the_loop_pools_like_mxnet(geometry, channels,
                                                                     mode, seed):
    hw, pool_size, strides, padding = geometry
    X = np.random.default_rng(seed).normal(size=(channels,) + hw).astype(np.float32)
    Y, ops = count_pool_ops(X, pool_size, mode, strides=strides, padding=padding)
    assert ops == pool_cost(X.shape, pool_size, mode, strides=strides, padding=padding)
    np.testing.assert_allclose(Y, mxnet_pool(X, pool_size, strides, padding, mode),
                               **TOL32)


def test_count_accepts_an_ndarray_and_leaves_it_unchanged():
    X = nd.array(batch((1, 3, 3)))
    before = X.asnumpy().copy()
    Y, ops = count_pool_ops(X, 3, 'max')
    assert isinstance(Y, nd.NDArray) and Y.dtype == np.float32
    assert ops['comparisons'] == 8 and Y.asnumpy()[0, 0, 0] == before.max()
    np.testing.assert_array_equal(X.asnumpy(), before)


@pytest.mark.parametrize('dtype, want', [(np.float32, np.float32), (np.float64, np.float64),
                                         (np.float16, np.float16), (np.int8, np.float64),
                                         (np.uint8, np.float64)])
def test_count_gives_the_float_dtype_of_an_average(as_kind, dtype, want):
    # As pool2d's average: a float input keeps its dtype, an integer one gives float64.
    # 0..8 (3 x 3), window 2: maxima [[4, 5], [7, 8]], averages [[2, 3], [5, 6]].
    X = as_kind(np.arange(9).reshape(1, 3, 3).astype(dtype))
    for mode, expected in (('max', [[[4, 5], [7, 8]]]), ('avg', [[[2, 3], [5, 6]]])):
        Y, _ = count_pool_ops(X, 2, mode)
        assert type(Y) is type(X) and Y.dtype == want
        np.testing.assert_array_equal(as_numpy(Y), expected)


@pytest.mark.parametrize('shape, error, words', [
    ((3, 4), ValueError, 'shape must be (C, H, W)'),
    ((1, 0, 4), ValueError, 'positive'),
    ((1, 2.0, 3), TypeError, 'ints'),
    ((1, True, 3), TypeError, 'ints'),
    ('abc', ValueError, 'shape must be'),
    ((1, 2, 2), ValueError, 'does not fit'),  # a 3 x 3 window in a 2 x 2 input
])
def test_pool_cost_refuses_bad_shapes(shape, error, words):
    with pytest.raises(error) as info:
        pool_cost(shape, 3)
    assert words in str(info.value)


# ----------------------------------------------------------------------------------------
# Exercise 4: minimum pooling.

@pytest.mark.parametrize('pool_size, strides, padding',
                         [((2, 2), (1, 1), (0, 0)), ((2, 2), (2, 2), (0, 0)),
                          ((3, 3), (2, 2), (1, 1)), ((2, 3), (1, 2), (1, 2))])
def test_min_pool_equals_a_direct_minimum(pool_size, strides, padding):
    # The plain reference takes the minimum of every window's input cells directly.
    X = batch((2, 3, 6, 7), seed=2)
    np.testing.assert_array_equal(min_pool(X, pool_size, strides=strides, padding=padding),
                                  plain_pool2d(X, pool_size, 'min', strides=strides,
                                               padding=padding))


def test_min_pool_hand_computed():
    # 0..8 as a 3 x 3 image, 2 x 2 windows at stride 1: minima 0, 1, 3, 4.
    X = np.arange(9, dtype=np.float32).reshape((3, 3))
    np.testing.assert_array_equal(min_pool(X, 2), [[0, 1], [3, 4]])
    # Ceil mode, stride 2: windows {0, 1, 3, 4}, {2, 5}, {6, 7}, {8}.
    np.testing.assert_array_equal(min_pool(X, 2, strides=2, ceil_mode=True), [[0, 2], [6, 8]])


@pytest.mark.parametrize('values, dtype, expected', [
    # -(-128) does not fit in an int8: plain negation would make -128 the largest.
    ([[-128, 5], [7, 127]], np.int8, -128),
    ([[200, 0], [255, 3]], np.uint8, 0),  # -x wraps around for unsigned integers
    ([[-2**63, 0], [2**63 - 1, 1]], np.int64, -2**63),
])
def test_min_pool_integers_at_their_extremes(values, dtype, expected):
    X = np.array(values, dtype=dtype)
    Y = min_pool(X, 2)
    assert Y.dtype == dtype and Y[0, 0] == expected


def test_negated_reverses_order():
    x = np.array([-128, -1, 0, 1, 127], dtype=np.int8)
    assert list(negated(x)) == [127, 0, -1, -2, -128]
    np.testing.assert_array_equal(negated(np.array([1.5, -2.0])), [-1.5, 2.0])


def test_min_pool_ndarray_in_ndarray_out_input_unchanged():
    X = nd.array(batch((1, 2, 4, 4), seed=3))
    before = X.asnumpy().copy()
    Y = min_pool(X, 2, strides=2)
    assert isinstance(Y, nd.NDArray)
    np.testing.assert_array_equal(X.asnumpy(), before)
    np.testing.assert_array_equal(Y.asnumpy(), plain_pool2d(before, 2, 'min', strides=2))


# ----------------------------------------------------------------------------------------
# Exercise 5: softmax pooling and the smooth maximum.

POOLS = [softmax_pool, smooth_max_pool]


@pytest.mark.parametrize('pool', POOLS)
@pytest.mark.parametrize('pool_size, strides', [(2, 2), (3, 1), ((2, 3), (1, 2))])
def test_beta_zero_is_average_pooling(pool, pool_size, strides):
    X = batch((2, 3, 6, 7), seed=4)
    got = pool(X, pool_size, 0, strides=strides)
    np.testing.assert_allclose(got, mxnet_pool(X, pool_size, strides, 0, 'avg'), **TOL32)


@pytest.mark.parametrize('pool', POOLS)
def test_beta_zero_with_padding_averages_the_real_cells_only(pool):
    X = batch((1, 2, 5, 5), seed=5)
    got = pool(X, 3, 0, strides=2, padding=1)
    want = mxnet_pool(X, 3, 2, 1, 'avg', count_include_pad=False)
    np.testing.assert_allclose(got, want, **TOL32)


@pytest.mark.parametrize('beta', [10, 100, 1000, 1e5])
def test_large_beta_softmax_pool_is_within_its_bound_of_max_pooling(beta):
    # The weights are w_i = e^(-beta d_i) / sum, d_i = max - x_i >= 0, the sum >= 1, so
    # max - softmax = sum_i w_i d_i <= sum_i d_i e^(-beta d_i) <= k / (e beta),
    # because d e^(-beta d) is at most 1 / (e beta) (its maximum, at d = 1 / beta).
    X = batch((2, 3, 6, 6), seed=6)
    got = softmax_pool(X, 3, beta, strides=1, padding=1)
    top = mxnet_pool(X, 3, 1, 1, 'max')
    assert np.all(got <= top + 1e-6)
    assert np.all(top - got <= 9 / (math.e * beta) + 1e-6)


@pytest.mark.parametrize('beta', [0.01, 1, 10, 100, 1e4])
def test_smooth_max_lies_between_average_and_maximum(beta):
    # mean(e^(beta x)) <= e^(beta max), so smooth max <= max; it is >= e^(beta max) / k, so
    # smooth max >= max - log(k) / beta; and by Jensen (exp is convex) it is >= the mean.
    X = batch((1, 2, 6, 6), seed=7)
    got = smooth_max_pool(X, 3, beta)
    top = mxnet_pool(X, 3, 1, 0, 'max')
    avg = mxnet_pool(X, 3, 1, 0, 'avg')
    assert np.all(got <= top + 1e-6)
    assert np.all(got >= top - math.log(9) / beta - 1e-6)
    assert np.all(got >= avg - 1e-6)


def test_hand_computed_window():
    # Window (0, 1), beta = ln 3: softmax weights 1 : 3, so softmax pooling gives
    # (0 * 1 + 1 * 3) / 4 = 0.75, and the smooth maximum (1 / ln 3) ln((1 + 3) / 2) = ln 2 / ln 3.
    X = np.array([[0.0, 1.0]])
    beta = math.log(3)
    np.testing.assert_allclose(softmax_pool(X, (1, 2), beta), [[0.75]], rtol=1e-12)
    np.testing.assert_allclose(smooth_max_pool(X, (1, 2), beta), [[math.log(2) / math.log(3)]],
                               rtol=1e-12)


@pytest.mark.parametrize('offset', [1e4, -1e4])
def test_no_overflow_for_large_inputs_and_beta(offset):
    # The same window (0, ln(3) / 100) shifted by +-1e4, beta = 100: exp(100 * 1e4) would
    # overflow, but the weights are still 1 : 3, so the result is offset + 0.75 ln(3) / 100,
    # and the smooth maximum offset + ln(2) / 100, as in the hand-computed window above.
    d = math.log(3) / 100
    X = np.array([[offset, offset + d]])
    np.testing.assert_allclose(softmax_pool(X, (1, 2), 100), [[offset + 0.75 * d]], rtol=1e-12)
    np.testing.assert_allclose(smooth_max_pool(X, (1, 2), 100), [[offset + math.log(2) / 100]],
                               rtol=1e-12)


@pytest.mark.parametrize('pool', POOLS)
@pytest.mark.parametrize('beta', [1, 10, 100])
def test_no_overflow_over_a_random_batch_up_to_1e4(pool, beta):
    X = np.random.default_rng(8).uniform(-1e4, 1e4, size=(2, 3, 7, 7))
    with np.errstate(over='raise', invalid='raise', divide='raise'):  # (underflow to 0 is fine)
        got = pool(X, 3, beta, strides=2, padding=1)
    top = mxnet_pool(X, 3, 2, 1, 'max')
    assert np.all(np.isfinite(got))
    assert np.all(got <= top + 1e-9 * np.abs(top))  # never above the maximum
    # Bounds as above: softmax within 9 / (e beta), smooth max within log(9) / beta.
    bound = 9 / (math.e * beta) if pool is softmax_pool else math.log(9) / beta
    np.testing.assert_allclose(got, top, atol=bound, rtol=1e-6)


@pytest.mark.parametrize('pool', POOLS)
def test_padding_never_takes_part(pool):
    # All cells negative, padding 1: a padding cell counted as 0 would win (or pull up) every
    # border window; with large beta the result must be the maximum of the real cells.
    X = -np.abs(batch((1, 1, 4, 4), seed=9)) - 1
    got = pool(X, 3, 1e6, strides=1, padding=1)
    np.testing.assert_allclose(got, mxnet_pool(X, 3, 1, 1, 'max'), atol=1e-4)
    assert np.all(got < -1 + 1e-4)


@pytest.mark.parametrize('pool', POOLS)
def test_kinds_and_dtypes(pool):
    X32 = batch((1, 1, 4, 4))
    assert pool(X32, 2, 1.0).dtype == np.float32
    assert pool(np.arange(16).reshape((4, 4)), 2, 1.0).dtype == np.float64
    Xnd = nd.array(X32)
    Y = pool(Xnd, 2, 1.0)
    assert isinstance(Y, nd.NDArray) and Y.dtype == np.float32
    np.testing.assert_allclose(Y.asnumpy(), pool(X32, 2, 1.0))


# ----------------------------------------------------------------------------------------
# Exercise 6: maximum pooling from convolutions and ReLUs.

def test_pair_max_weights_by_hand():
    # One pair (a, b): channels a, -a, b - a; then relu(a) - relu(-a) + relu(b - a).
    E, F = pair_max_weights(2)
    np.testing.assert_array_equal(E, [[1, 0], [-1, 0], [-1, 1]])
    np.testing.assert_array_equal(F, [[1, -1, 1]])
    # Three values: the pair (a, b) as above, then c passes through as relu(c) - relu(-c).
    E, F = pair_max_weights(3)
    np.testing.assert_array_equal(E, [[1, 0, 0], [-1, 0, 0], [-1, 1, 0], [0, 0, 1], [0, 0, -1]])
    np.testing.assert_array_equal(F, [[1, -1, 1, 0, 0], [0, 0, 0, 1, -1]])


@pytest.mark.parametrize('m', [1, 2, 3, 4, 5, 9])
def test_one_relu_layer_takes_pairwise_maxima(m):
    v = np.random.default_rng(m).normal(size=m)
    E, F = pair_max_weights(m)
    want = [max(v[t: t + 2]) for t in range(0, m, 2)]
    np.testing.assert_allclose(F @ np.maximum(E @ v, 0), want, rtol=1e-12)


@pytest.mark.parametrize('pool_size, counts', [
    (1, dict(cells=1, relu_layers=0, convolutions=1, widest=1)),
    # 4 cells -> 2 -> 1: two ReLU layers; the first has 3 channels per pair, 2 pairs.
    (2, dict(cells=4, relu_layers=2, convolutions=3, widest=6)),
    # 9 cells -> 5 -> 3 -> 2 -> 1: four ReLU layers; the first: 4 pairs * 3 + 2 for the 9th.
    (3, dict(cells=9, relu_layers=4, convolutions=5, widest=14)),
    # 6 cells -> 3 -> 2 -> 1: three ReLU layers; the first: 3 pairs * 3.
    ((2, 3), dict(cells=6, relu_layers=3, convolutions=4, widest=9)),
])
def test_relu_max_counts_by_hand(pool_size, counts):
    assert relu_max_counts(pool_size) == counts
    assert len(relu_max_weights(pool_size)) == counts['convolutions']


def test_relu_max_weights_compute_the_maximum_of_a_window():
    v = np.random.default_rng(10).normal(size=9)
    h = v
    for n, W in enumerate(relu_max_weights(3)):
        h = W @ (np.maximum(h, 0) if n else h)
    np.testing.assert_allclose(h, [v.max()], rtol=1e-12)


def relu_tolerance(X, pool_size):
    """What max_pool_by_relu promises (its docstring): a few float64 roundings of the
    largest magnitude per layer, then one rounding to X's float32."""
    depth = len(relu_max_weights(pool_size))
    return dict(atol=8 * depth * 2.0**-52 * float(np.abs(X).max()), rtol=2.0**-24)


@pytest.mark.parametrize('pool_size, strides', [(2, 2), (2, 1), (3, 1), (3, 3), (3, 2),
                                             ((2, 3), (1, 2)), (1, 1)])
def test_max_pool_by_relu_equals_gluon_max_pool(pool_size, strides):
    X = batch((2, 3, 8, 9), seed=11)
    want = nn.MaxPool2D(pool_size, strides)(nd.array(X)).asnumpy()
    got = max_pool_by_relu(X, pool_size, strides=strides)
    assert isinstance(got, np.ndarray) and got.shape == want.shape
    np.testing.assert_allclose(got, want, **relu_tolerance(X, pool_size))


@pytest.mark.parametrize('pool_size', [2, 3, 4, 5, (2, 3), (1, 7), (3, 5)])
def test_the_first_layer_is_the_widest_three_per_pair_two_for_an_odd_cell(pool_size):
    # chapter 4's formula, for windows of two cells or more (a single cell needs no ReLU
    # layer): per input channel, a, -a, b - a for each pair of cells, and a, -a for an
    # odd last one, which passes through as relu(a) - relu(-a)
    k_h, k_w = (pool_size, pool_size) if isinstance(pool_size, int) else pool_size
    k = k_h * k_w
    weights = relu_max_weights(pool_size)
    assert weights[0].shape[0] == relu_max_counts(pool_size)['widest']
    assert relu_max_counts(pool_size)['widest'] == 3 * (k // 2) + 2 * (k % 2)


def test_float64_holds_b_minus_a_of_float32_numbers_and_a_float64_b_misses():
    # chapter 4's pair, by hand: in float32, 0.1 + 2 rounds to a multiple of 2**-22 (its
    # step in [2, 4)), and so is that minus 2, which float32's 0.1 is not: it misses, by
    # at most half a step; of float32 numbers, 0.1 + 2 needs 29 bits, so float64 holds it
    # and gives 0.1 back; with 0.1 a float64 (53 bits) the sum rounds and misses it
    a, b = np.float32(-2.0), np.float32(0.1)
    in_32 = a + np.maximum(b - a, np.float32(0))
    assert in_32 != b and abs(float(in_32) - float(b)) <= 2.0**-23
    assert np.float64(a) + max(np.float64(b) - np.float64(a), 0.0) == np.float64(b)
    assert -2.0 + max(0.1 + 2.0, 0.0) != 0.1


def test_max_pool_by_relu_is_exact_on_float32_and_in_pytorch_too():
    # float32 in, float64 inside, float32 out: exactly MXNet's and PyTorch's max pooling;
    # the same weights as PyTorch grouped convolutions and ReLUs give the same
    import torch
    X = np.random.default_rng(7).normal(size=(2, 3, 8, 9)).astype(np.float32)
    for window, stride in [(2, 2), (2, 1), (3, 3), (3, 1)]:
        want = torch.nn.functional.max_pool2d(torch.from_numpy(X), window, stride).numpy()
        np.testing.assert_array_equal(max_pool_by_relu(X, window, strides=stride), want)
        np.testing.assert_array_equal(
            nn.MaxPool2D(window, stride)(nd.array(X)).asnumpy(), want)
        Y = torch.from_numpy(X).double()
        for n, W in enumerate(relu_max_weights(window)):
            kernel = (window, window) if n == 0 else (1, 1)
            Y = torch.relu(Y) if n else Y
            filters = np.tile(W.reshape((W.shape[0], -1) + kernel), (3, 1, 1, 1))
            Y = torch.nn.functional.conv2d(Y, torch.from_numpy(filters).double(),
                                           stride=stride if n == 0 else 1, groups=3)
        np.testing.assert_array_equal(Y.float().numpy(), want)


def test_max_pool_by_relu_on_float64_numbers_is_close_not_exact():
    # no rounding back to float32: some of the 252 maxima are a float64 step or two off
    # (chapter 4 shows it on this batch), all within 1e-15 (values below 3)
    X = np.random.default_rng(7)
    X.normal(size=(2, 3, 8, 9))  # chapter 4 draws the float32 batch first
    X = X.normal(size=(2, 3, 8, 9))
    got, want = max_pool_by_relu(X, 3, strides=1), pool2d(X, 3, strides=1)
    assert np.abs(X).max() < 3
    assert not np.array_equal(got, want)
    assert np.abs(got - want).max() < 1e-15


def test_max_pool_by_relu_returns_floats_like_a_convolution():
    # The module docstring's rule: float32 stays float32, integers come back as float64
    # (where pool2d keeps them), with the maxima by hand: 0..15 in 2 x 2 windows at stride 2.
    X = np.arange(16, dtype=np.int32).reshape((1, 1, 4, 4))
    Y = max_pool_by_relu(X, 2, strides=2)
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y[0, 0], [[5, 7], [13, 15]])
    assert max_pool_by_relu(X.astype(np.float32), 2, strides=2).dtype == np.float32


def test_max_pool_by_relu_all_negative_and_ndarray():
    X = nd.array(-np.abs(batch((1, 2, 4, 4), seed=12)) - 5)
    before = X.asnumpy().copy()
    Y = max_pool_by_relu(X, 2, strides=2)
    assert isinstance(Y, nd.NDArray)
    np.testing.assert_array_equal(X.asnumpy(), before)
    np.testing.assert_allclose(Y.asnumpy(), nn.MaxPool2D(2)(X).asnumpy(),
                               **relu_tolerance(X.asnumpy(), 2))


# ----------------------------------------------------------------------------------------
# Bad arguments: the same errors as pool2d, clear ones for beta; the input never changes.

X4 = batch((1, 2, 4, 4), seed=13)
BAD_POOL_ARGS = [
    dict(pool_size=(0, 2)),
    dict(pool_size=2.0),
    dict(pool_size=(1, 2, 3)),
    dict(pool_size=5),              # larger than the input
    dict(pool_size=2, strides=0),
    dict(pool_size=2, strides=(1.5, 1)),
    dict(pool_size=2, padding=2),   # padding as large as the window
    dict(pool_size=2, padding=-1),
]
WITH_PADDING = [
    lambda X, **kw: avg_pool_as_conv(X, **kw),
    lambda X, **kw: min_pool(X, **kw),
    lambda X, **kw: softmax_pool(X, **kw),
    lambda X, **kw: smooth_max_pool(X, **kw),
    lambda X, **kw: count_pool_ops(X[0], **kw),
]


def pool2d_error(X, kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        pool2d(X, **kwargs)
    return info.type, str(info.value)


@pytest.mark.parametrize('kwargs', BAD_POOL_ARGS, ids=[str(k) for k in BAD_POOL_ARGS])
@pytest.mark.parametrize('index', range(len(WITH_PADDING)))
def test_bad_pool_args_raise_what_pool2d_raises(index, kwargs):
    X = X4.copy()
    X_in = X[0] if index == 4 else X
    want = pool2d_error(X_in, kwargs)
    with pytest.raises((ValueError, TypeError)) as info:
        WITH_PADDING[index](X, **kwargs)
    assert (info.type, str(info.value)) == want
    np.testing.assert_array_equal(X, X4)


@pytest.mark.parametrize('kwargs', [k for k in BAD_POOL_ARGS if 'padding' not in k],
                         ids=[str(k) for k in BAD_POOL_ARGS if 'padding' not in k])
def test_max_pool_by_relu_bad_args_raise_what_pool2d_raises(kwargs):
    X = X4.copy()
    with pytest.raises((ValueError, TypeError)) as info:
        max_pool_by_relu(X, **kwargs)
    assert (info.type, str(info.value)) == pool2d_error(X, kwargs)
    np.testing.assert_array_equal(X, X4)


def test_max_pool_by_relu_takes_no_padding():
    # A convolution pads with zeros, which could win a maximum: the function has no padding.
    with pytest.raises(TypeError, match='padding'):
        max_pool_by_relu(X4, 2, padding=1)


@pytest.mark.parametrize('function', [avg_pool_as_conv, max_pool_by_relu])
@pytest.mark.parametrize('X', [X4[0], X4[0, 0]], ids=['3-D', '2-D'])
def test_convolution_variants_need_4d_input(function, X):
    with pytest.raises(ValueError, match=r'X must have shape \(N, C, H, W\)'):
        function(X, 2)


def test_count_pool_ops_needs_3d_input():
    with pytest.raises(ValueError, match=r'X must have shape \(C, H, W\)'):
        count_pool_ops(X4, 2)


@pytest.mark.parametrize('function', [min_pool, softmax_pool, smooth_max_pool, avg_pool_as_conv])
@pytest.mark.parametrize('bad, error, words', [
    ([[1.0, 2.0], [3.0, 4.0]], TypeError, 'X must be a numpy array or an mx.nd.NDArray'),
    (np.zeros((1, 1, 0, 3)), ValueError, 'empty axis'),
    (np.ones((1, 1, 2, 2), dtype=complex), TypeError, 'real numbers'),
])
def test_bad_inputs_are_refused(function, bad, error, words):
    with pytest.raises(error, match=words):
        function(bad, 1)


@pytest.mark.parametrize('pool', POOLS)
@pytest.mark.parametrize('beta, error, words', [
    (-1, ValueError, 'beta must be a finite number at least 0, got -1'),
    (-1e-9, ValueError, 'at least 0'),
    (float('nan'), ValueError, 'got nan'),
    (float('inf'), ValueError, 'got inf'),
    ('1', TypeError, "beta must be a real number, got '1' of type str"),
    (None, TypeError, 'got None of type NoneType'),
    (True, TypeError, 'got True of type bool'),
    (1j, TypeError, 'of type complex'),
    (np.array([1.0]), TypeError, 'of type ndarray'),
])
def test_bad_beta_is_refused_and_the_input_unchanged(pool, beta, error, words):
    X = X4.copy()
    with pytest.raises(error) as info:
        pool(X, 2, beta)
    assert words in str(info.value)
    np.testing.assert_array_equal(X, X4)


@pytest.mark.parametrize('beta', [0, 2, np.float32(0.5), np.int64(3)])
def test_numpy_and_int_betas_are_accepted(beta):
    assert np.all(np.isfinite(softmax_pool(X4, 2, beta)))


@pytest.mark.parametrize('pool', POOLS)
@pytest.mark.parametrize('value', [np.inf, -np.inf, np.nan])
def test_non_finite_input_is_refused(pool, value):
    X = X4.copy()
    X[0, 0, 1, 1] = value
    kept = X.copy()
    with pytest.raises(ValueError, match='X must hold finite numbers, got 1 infinite or NaN'):
        pool(X, 2, 1.0)
    np.testing.assert_array_equal(X, kept)


@pytest.mark.parametrize('pool', POOLS)
def test_a_window_gathering_too_many_cells_is_refused_before_any_is_built(pool):
    # 128 x 128 input, window 64: 65 x 65 outputs of 4096 cells, 17,305,600 cells in all
    # (132 MiB in float64, several times that for the softmax); the limit is 2**22.
    X = np.zeros((128, 128))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r'pool_size \(64, 64\) over an output of '
                           r'shape \(65, 65\) gathers 17,305,600 window cells'):
            pool(X, 64, 1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    # Stride 8: 9 x 9 outputs, 331,776 cells, fine. Window 32, stride 4 on 60 x 60 maps:
    # 8 x 8 outputs of 1024 cells; 64 maps make 2**22 cells, the limit; 65 maps do not.
    assert pool(X, 64, 1.0, strides=8).shape == (9, 9)
    assert pool(np.zeros((64, 60, 60)), 32, 1.0, strides=4).shape == (64, 8, 8)
    with pytest.raises(ValueError, match=r'shape \(65, 8, 8\) gathers 4,259,840'):
        pool(np.zeros((65, 60, 60)), 32, 1.0, strides=4)


@pytest.mark.parametrize('function, args', [
    (avg_pool_as_conv, (2,)), (min_pool, (2,)), (softmax_pool, (2, 3.0)),
    (smooth_max_pool, (2, 3.0)), (max_pool_by_relu, (2,)),
])
def test_good_calls_leave_the_input_unchanged(function, args):
    X = X4.copy()
    Xnd = nd.array(X)
    function(X, *args, strides=2)
    function(Xnd, *args, strides=2)
    np.testing.assert_array_equal(X, X4)
    np.testing.assert_array_equal(Xnd.asnumpy(), X4)



# beta_sweep: the data of chapter 4's beta figure.

def test_beta_sweep_goes_from_the_average_to_the_maximum():
    # Window (0, ln 3): beta = 1 gives softmax weights 1 : 3, so softmax pooling is
    # 0.75 ln 3 and the smooth maximum ln((1 + 3) / 2) = ln 2. Tiny beta: the average
    # ln(3) / 2; large beta: the maximum ln 3 (within 2 / (e beta) and ln(2) / beta).
    b = math.log(3)
    for window in (np.array([[0.0, b]]), nd.array([[0.0, b]], dtype='float64')):
        curves, levels = beta_sweep(window, [1e-6, 1, 1e6])
        assert list(curves) == ['softmax pooling', 'smooth maximum']
        np.testing.assert_allclose(curves['softmax pooling'], [b / 2, 0.75 * b, b], atol=1e-6)
        np.testing.assert_allclose(curves['smooth maximum'], [b / 2, math.log(2), b],
                                   atol=1e-6)
        assert levels == pytest.approx({'maximum': b, 'average': b / 2})


def test_beta_sweep_levels_are_the_average_and_the_maximum():
    # Window (0, 1, 2, 5): average 8 / 4 = 2, maximum 5.
    _, levels = beta_sweep(np.array([[0.0, 1.0], [2.0, 5.0]]), [1.0])
    assert levels == {'maximum': 5.0, 'average': 2.0}


@pytest.mark.parametrize('window, betas, error, words', [
    (np.zeros((1, 2, 2)), [1.0], ValueError, ['window', '2-D', '(1, 2, 2)']),
    ([[0.0, 1.0]], [1.0], TypeError, ['window', 'list']),
    (np.zeros((2, 2)), [1.0, -1.0], ValueError, ['beta', '-1.0']),
])
def test_beta_sweep_refuses_bad_arguments(window, betas, error, words):
    with pytest.raises(error) as info:
        beta_sweep(window, betas)
    for word in words:
        assert word in str(info.value)


# ----------------------------------------------------------------------------------------
# Array kinds, dtypes and sizes every variant handles the same way.

@pytest.mark.parametrize('dtype, value, want_dtype', [
    (np.int64, 2**40 + 1, np.float64), (np.float64, 1 + 2.0**-40, np.float64),
    (np.float16, 60000, np.float16), (np.uint8, 255, np.float64)])
def test_avg_pool_as_conv_keeps_precision(dtype, value, want_dtype):
    Y = avg_pool_as_conv(np.full((1, 1, 2, 2), value, dtype), 2)
    assert Y.dtype == want_dtype and Y.item() == want_dtype(value)


X16 = np.arange(16, dtype=np.float32).reshape(4, 4)


@pytest.mark.parametrize('function, args, shape', [
    (min_pool, (2,), (4, 4)), (softmax_pool, (2,), (4, 4)),
    (avg_pool_as_conv, (2,), (1, 1, 4, 4)), (max_pool_by_relu, (2,), (1, 1, 4, 4))])
def test_mx_np_arrays_come_back_as_mx_np_without_warnings(function, args, shape):
    Y = function(mx.np.array(X16.reshape(shape)), *args)  # warnings are errors (pyproject)
    assert type(Y) is mx.np.ndarray
    np.testing.assert_allclose(Y.asnumpy(), function(X16.reshape(shape), *args), rtol=1e-6)


def test_ndarray_results_stay_on_the_inputs_context():
    assert min_pool(nd.array(X16, ctx=mx.cpu(1)), 2).context == mx.cpu(1)


@pytest.mark.parametrize('function', [min_pool, softmax_pool, smooth_max_pool])
@pytest.mark.parametrize('bad, words', [
    (np.ma.masked_array(X16, X16 > 10), 'X is a numpy masked array.*filled'),
    ([[1.0, 2.0], [3.0, 4.0]], 'X must be'), (3.0, 'X must be'), (None, 'X must be')])
def test_masked_arrays_and_non_arrays_are_refused(function, bad, words):
    with pytest.raises(TypeError, match=words):
        function(bad, 1)


@pytest.mark.parametrize('shape', [(0, 4), (4, 0), (0, 1, 4, 4), (1, 0, 4, 4)])
def test_empty_axes_are_refused(shape):
    with pytest.raises(ValueError, match='X.*empty axis'):
        min_pool(np.ones(shape), 1)


@pytest.mark.parametrize('pool_size', [(5, 1), (1, 5), 5])
def test_windows_wider_than_the_input_are_refused(pool_size):
    with pytest.raises(ValueError, match='pool_size.*does not fit'):
        min_pool(X16, pool_size)


@pytest.mark.parametrize('function, args, X', [
    (softmax_pool, ((10**5, 10**5), 1.0), np.ones((1, 1))),
    (count_pool_ops, ((3000, 3000),), np.ones((1, 1, 1)))])
def test_functions_that_build_the_padding_refuse_huge_padding_at_once(function, args, X):
    with pytest.raises(ValueError, match='padding.*pool2d'):
        within_steps(lambda: function(X, *args, padding=args[0][0] - 1))


@pytest.mark.parametrize('pool_size', [10**4, (33, 32), (1, 1025)])
def test_relu_network_refuses_huge_windows_at_once(pool_size):
    with pytest.raises(ValueError, match='pool_size.*1024'):
        within_steps(lambda: relu_max_weights(pool_size))
    with pytest.raises(ValueError, match='pool_size'):
        within_steps(lambda: max_pool_by_relu(np.ones((1, 1, 40, 1100)), pool_size))


# ----------------------------------------------------------------------------------------
# max_pool_by_relu: what it can do exactly enough, and what it refuses.

def test_relu_max_pool_handles_float32_extremes():
    X = np.array([[[[3e38, -3e38, -3.4e38, 3.4e38]]]], np.float32)
    Y = max_pool_by_relu(X, (1, 2), strides=(1, 2))
    assert Y.dtype == np.float32
    np.testing.assert_array_equal(Y, np.array([[[[3e38, 3.4e38]]]], np.float32))


def test_relu_max_pool_on_mixed_scales_is_within_its_float64_bound(rng):
    X = rng.choice([1e-6, -1e6, 1e6, -1e-6, 0.5], size=(2, 3, 8, 8))
    depth = len(relu_max_weights(3))
    # A few float64 roundings of the largest magnitude per layer (module docstring).
    np.testing.assert_allclose(max_pool_by_relu(X, 3), mxnet_pool2d(X, 3), rtol=0,
                               atol=8 * depth * 2.0**-52 * 1e6)


def test_relu_max_pool_small_window_values_next_to_huge_ones():
    X = np.array([[[[1e-6, -1e6]]]])
    assert abs(max_pool_by_relu(X, (1, 2)).item() - 1e-6) <= 4 * 2.0**-52 * 1e6


@pytest.mark.parametrize('value', [np.inf, -np.inf, np.nan])
def test_relu_max_pool_refuses_non_finite_values(value):
    X = np.zeros((1, 1, 2, 2))
    X[0, 0, 1, 1] = value
    with pytest.raises(ValueError, match='X must hold finite numbers'):
        max_pool_by_relu(X, 2)


@pytest.mark.parametrize('X', [np.full((1, 1, 2, 2), 1e308), np.full((1, 1, 2, 2), -2.0**1001),
                               np.full((1, 1, 2, 2), 2**60, np.int64)])
def test_relu_max_pool_refuses_what_float64_cannot_hold(X):
    with pytest.raises(ValueError, match='X must hold values of magnitude'):
        max_pool_by_relu(X, 2)


def test_relu_max_pool_integers_within_range_are_exact():
    X = np.array([[[[2**52, -2**52, 7, 2**53]]]], np.int64)
    Y = max_pool_by_relu(X, (1, 2), strides=(1, 2))
    assert Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[[[2.0**52, 2.0**53]]]])


# ----------------------------------------------------------------------------------------
# The checks of this module's arguments.

def test_check_window_cells_counts_every_window_of_every_output():
    assert WINDOW_CELLS == 2**22
    check_window_cells((2, 64, 64), (16, 32))   # 2 * 64 * 64 * 16 * 32 = 2**22: the limit
    # one output cell more: 2 * 64 * 65 * 512 = 4,259,840 cells, over it
    with pytest.raises(ValueError, match=r'pool_size \(16, 32\) over an output of shape '
                       r'\(2, 64, 65\) gathers 4,259,840 window cells, more than the '
                       r'4,194,304'):
        check_window_cells((2, 64, 65), (16, 32))
    with pytest.raises(ValueError, match='gathers 12 window cells, more than the 11'):
        check_window_cells((3,), (2, 2), limit=11)


def test_check_finite_counts_bad_values():
    with pytest.raises(ValueError, match='window must hold finite numbers, got 2'):
        check_finite(np.array([np.nan, 1.0, -np.inf]), 'window')


@pytest.mark.parametrize('shape, error', [((1, 2), ValueError), ((1, 2, 2.0), TypeError),
                                          ((1, True, 2), TypeError), ((0, 2, 2), ValueError)])
def test_check_shape(shape, error):
    with pytest.raises(error, match='shape'):
        check_shape(shape)
