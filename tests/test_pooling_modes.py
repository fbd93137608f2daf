"""pool2d's other two modes, 'sum' and 'lp' (poolbook.pooling), against mx.nd.Pooling.

Where the expected values come from: MXNet's operator (pool_type='sum' and 'lp' with
p_value 1, 2 or 3) and small cases worked out by hand in the comments; never pool2d's own
output.

MXNet's 'lp' is (sum of x**p) ** (1/p) with no absolute value: p=1 is the signed sum and
p=3 takes the real cube root, negative for a negative sum of cubes. pool2d follows MXNet;
the Lp norm of the window is pool2d(abs(X), ..., 'lp'), checked below too.

In ceil mode MXNet keeps a last window that starts in the trailing padding (pool2d drops
it, chapter 2); for these modes MXNet gives it 0, which the comparisons check.
"""
import numpy as np
import pytest
from mxnet import nd

from poolbook.pooling import pool2d

TOL = dict(rtol=1e-5, atol=1e-5)
MODES = [('sum', None), ('lp', 1), ('lp', 2), ('lp', 3)]


def mxnet_pool(X4, window, strides, padding, mode, p_value, ceil_mode):
    """nd.Pooling in one of the two modes, on a float64 4-D array."""
    kwargs = dict(p_value=p_value) if mode == 'lp' else {}
    return nd.Pooling(nd.array(X4, dtype=np.float64), kernel=window, stride=strides,
                      pad=padding, pool_type=mode,
                      pooling_convention='full' if ceil_mode else 'valid',
                      **kwargs).asnumpy()


def run_case(X, window, strides, padding, mode, p_value, ceil_mode, count_include_pad):
    """pool2d on X (any rank, numpy or NDArray), against MXNet on the same maps."""
    Y = pool2d(X, window, mode, strides=strides, padding=padding, ceil_mode=ceil_mode,
               count_include_pad=count_include_pad, p_value=p_value)
    assert type(Y) is type(X)
    A = X.asnumpy() if isinstance(X, nd.NDArray) else X
    B = Y.asnumpy() if isinstance(Y, nd.NDArray) else Y
    assert B.dtype == A.dtype and B.shape[:-2] == A.shape[:-2]
    want = mxnet_pool(A.reshape((-1, 1) + A.shape[-2:]), window, strides, padding, mode,
                      p_value, ceil_mode)
    h, w = B.shape[-2:]
    assert want.shape[2] - h in (0, 1) and want.shape[3] - w in (0, 1)
    np.testing.assert_allclose(B.reshape((-1, 1, h, w)), want[:, :, :h, :w], **TOL)
    extra = np.ones(want.shape, bool)
    extra[:, :, :h, :w] = False
    assert np.all(want[extra] == 0)  # MXNet's windows that hold no input cell
    return extra.any()


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
        np.testing.assert_allclose(mxnet_pool(X[None, None], (2, 2), (1, 1), (0, 0), 'lp',
                                              p, False)[0, 0], [[mxnet_like]])


AXIS_GRID = [(n, k, s, p) for n in range(1, 11) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


@pytest.mark.parametrize('ceil_mode', [False, True])
@pytest.mark.parametrize('mode, p_value', MODES)
@pytest.mark.parametrize('axis', ['H', 'W'])
def test_every_configuration_of_one_axis_agrees_with_mxnet(axis, mode, p_value, ceil_mode):
    rng = np.random.default_rng([ord(axis), len(mode), p_value or 0, ceil_mode])
    dropped = 0
    for n, k, s, p in AXIS_GRID:
        shape = (2, 3, n, 4) if axis == 'H' else (2, 3, 4, n)
        window, strides, padding = ((k, 2), (s, 1), (p, 1)) if axis == 'H' else \
            ((2, k), (1, s), (1, p))
        X = rng.standard_normal(shape)
        dropped += run_case(X, window, strides, padding, mode, p_value, ceil_mode,
                            bool(rng.integers(2)))
    assert dropped > 0 if ceil_mode else dropped == 0


@pytest.mark.parametrize('seed', [0, 1])
def test_random_2d_cases_agree_with_mxnet(seed):
    rng = np.random.default_rng(300 + seed)
    for _ in range(400):
        window = tuple(int(k) for k in rng.integers(1, 5, size=2))
        padding = tuple(int(rng.integers(0, k)) for k in window)
        hw = tuple(int(rng.integers(max(1, k - 2 * p), 13)) for k, p in zip(window, padding))
        strides = tuple(int(s) for s in rng.integers(1, 4, size=2))
        lead = [(), (int(rng.integers(1, 4)),), (2, int(rng.integers(1, 4)))][rng.integers(3)]
        dtype = (np.float32, np.float64)[rng.integers(2)]
        X = rng.standard_normal(lead + hw).astype(dtype)
        if rng.random() < 0.5:
            X = nd.array(X, dtype=dtype)
        mode, p_value = MODES[rng.integers(len(MODES))]
        run_case(X, window, strides, padding, mode, p_value, bool(rng.integers(2)),
                 bool(rng.integers(2)))


def test_integers_give_float64_and_nan_propagates():
    X = np.array([[1, 2], [3, 4]], np.int8)
    for mode, p in MODES:
        Y = pool2d(X, 2, mode, p_value=p)
        assert Y.dtype == np.float64
    np.testing.assert_array_equal(pool2d(X, 2, 'sum'), [[10]])  # no int8 overflow either
    np.testing.assert_allclose(pool2d(X, 2, 'lp', p_value=2), [[30 ** 0.5]])
    F = np.array([[np.nan, 1.0], [2.0, 3.0]])
    F0 = F.copy()
    for mode, p in MODES:
        assert np.isnan(pool2d(F, 2, mode, p_value=p)[0, 0])
    np.testing.assert_array_equal(F, F0)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(mode='lp'), ValueError, ['p_value', 'None']),
    (dict(mode='lp', p_value=4), ValueError, ['p_value', '4', '1, 2 or 3']),
    (dict(mode='lp', p_value=0), ValueError, ['p_value', '0']),
    (dict(mode='lp', p_value=2.0), TypeError, ['p_value', '2.0']),
    (dict(mode='lp', p_value=True), TypeError, ['p_value', 'True']),
    (dict(mode='max', p_value=2), ValueError, ['p_value', "'lp'"]),
    (dict(mode='sum', p_value=1), ValueError, ['p_value', "'lp'"]),
    (dict(mode='min'), ValueError, ['mode', "'min'", "'sum'", "'lp'"]),
])
def test_bad_mode_or_p_value_is_refused_with_a_clear_message(kwargs, error, words):
    X = np.ones((3, 3))
    with pytest.raises(error) as info:
        pool2d(X, 2, **kwargs)
    for word in words:
        assert word in str(info.value), str(info.value)
    np.testing.assert_array_equal(X, np.ones((3, 3)))
