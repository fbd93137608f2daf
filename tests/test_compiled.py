"""poolbook.compiled: the compiled loop against chapter 1's loop and MXNet, the compiled
kernel against an independent plain loop and MXNet, and the numpy path without numba."""
import itertools
import os
import subprocess
import sys

import mxnet as mx
import numpy as np
import pytest

from poolbook import compiled
from poolbook.loops import pool2d_numpy
from poolbook.pooling import output_size, pool2d


def windows(shape, k, s, p, ceil_mode):
    """For each output cell (i, j): the input rows and columns its window covers."""
    out_h, out_w = (output_size(n, k_, s_, p_, ceil_mode)
                    for n, k_, s_, p_ in zip(shape, k, s, p))
    for i, j in itertools.product(range(out_h), range(out_w)):
        yield (i, j), (range(i * s[0] - p[0], i * s[0] - p[0] + k[0]),
                       range(j * s[1] - p[1], j * s[1] - p[1] + k[1]))


def plain_pool(X, k, s, p, mode, ceil_mode=False, count_include_pad=True):
    """An independent loop over the output cells of a 2-D X (float64 arithmetic): the max
    propagates NaN; the average divides by the cells inside the padded input (or inside
    X itself without count_include_pad)."""
    out = [output_size(n, k_, s_, p_, ceil_mode) for n, k_, s_, p_ in zip(X.shape, k, s, p)]
    Y, D = np.empty(out), divisors(X.shape, k, s, p, ceil_mode, count_include_pad)
    for (i, j), (rows, cols) in windows(X.shape, k, s, p, ceil_mode):
        cells = [X[r, c] for r in rows for c in cols
                 if 0 <= r < X.shape[0] and 0 <= c < X.shape[1]]
        if mode == 'max':
            Y[i, j] = np.nan if np.isnan(cells).any() else max(cells)
        else:
            Y[i, j] = sum(cells) / D[i, j]
    return Y


def divisors(shape, k, s, p, ceil_mode, count_include_pad):
    """What each window's average divides by: its cells inside the padded input, or
    inside the input itself."""
    out = [output_size(n, k_, s_, p_, ceil_mode) for n, k_, s_, p_ in zip(shape, k, s, p)]
    D = np.empty(out)
    q = p if count_include_pad else (0, 0)
    for (i, j), (rows, cols) in windows(shape, k, s, p, ceil_mode):
        D[i, j] = sum(-q[0] <= r < shape[0] + q[0] and -q[1] <= c < shape[1] + q[1]
                      for r in rows for c in cols)
    return D


def kernel(X, k, s, p, mode, ceil_mode=False, count_include_pad=True):
    """compiled.pool_maps on a 2-D X, dividing by the divisors above."""
    D = divisors(X.shape, k, s, p, ceil_mode, count_include_pad).astype(X.dtype)
    Y = np.empty((1,) + D.shape, X.dtype)
    compiled.pool_maps(X[None], *k, *s, *p, mode == 'max', D, Y)
    return Y[0]


needs_numba = pytest.mark.skipif(not compiled.enabled(), reason='numba is not available')


@needs_numba
@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_kernel_equals_a_plain_loop_on_every_small_geometry(dtype):
    rng = np.random.default_rng(0)
    for H, W in [(1, 1), (7, 8), (9, 12)]:
        for k_h, k_w, s_h, s_w in itertools.product(range(1, 5), range(1, 5), (1, 2, 3),
                                                    (1, 2, 3)):
            p_h, p_w = rng.integers(k_h), rng.integers(k_w)
            if k_h > H + 2 * p_h or k_w > W + 2 * p_w:
                continue
            X = rng.standard_normal((H, W)).astype(dtype)
            args = (k_h, k_w), (s_h, s_w), (p_h, p_w)
            for mode, ceil_mode in itertools.product(('max', 'avg'), (False, True)):
                want = plain_pool(X, *args, mode, ceil_mode)
                got = kernel(X, *args, mode, ceil_mode)
                assert np.allclose(got, want, rtol=1e-5, atol=1e-6), (H, W, args, mode)


@needs_numba
def test_kernel_propagates_nan_from_any_cell_of_a_window():
    X = np.arange(36, dtype=np.float32).reshape(6, 6)
    for r, c in itertools.product(range(6), range(6)):
        Z = X.copy()
        Z[r, c] = np.nan
        for mode in ('max', 'avg'):
            want = plain_pool(Z, (3, 3), (2, 2), (1, 1), mode)
            got = kernel(Z, (3, 3), (2, 2), (1, 1), mode)
            assert np.array_equal(np.isnan(got), np.isnan(want)), (r, c, mode)


@needs_numba
def test_kernel_averages_without_the_padding_when_asked():
    X = np.arange(1, 50, dtype=np.float64).reshape(7, 7)
    want = plain_pool(X, (3, 3), (2, 2), (1, 1), 'avg', True, count_include_pad=False)
    assert np.allclose(kernel(X, (3, 3), (2, 2), (1, 1), 'avg', True, False), want)


@pytest.mark.parametrize('layer', [((2, 3, 56, 56), 3, 2, 1), ((2, 3, 112, 112), 2, 2, 0),
                                   ((2, 5, 28, 28), 3, 1, 1), ((1, 2, 13, 11), 4, 3, 2)])
@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_pool2d_agrees_with_mxnet_on_network_layers(layer, mode):
    shape, k, s, p = layer
    X = np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    want = mx.nd.Pooling(mx.nd.array(X), kernel=(k, k), stride=(s, s), pad=(p, p),
                         pool_type=mode).asnumpy()
    assert np.allclose(pool2d(X, k, mode, strides=s, padding=p), want, rtol=1e-5, atol=1e-6)
    with compiled.numpy_only():
        assert np.allclose(pool2d(X, k, mode, strides=s, padding=p), want, rtol=1e-5,
                           atol=1e-6)


def test_numpy_only_switches_the_kernel_off_and_back_on():
    before = compiled.enabled()
    with compiled.numpy_only():
        assert not compiled.enabled()
    assert compiled.enabled() == before


def test_handles_only_contiguous_float32_and_float64():
    f32 = np.zeros((2, 4, 4), np.float32)
    assert compiled.handles(f32, f32) == compiled.enabled()
    assert not compiled.handles(f32.astype(np.int32), f32.astype(np.int32))
    assert not compiled.handles(f32.astype(np.float16), f32)
    assert not compiled.handles(f32[:, :, ::2], f32[:, :, ::2])
    assert not compiled.handles(f32.astype('>f4'), f32.astype('>f4'))
    frozen = f32.copy()
    frozen.flags.writeable = False
    assert not compiled.handles(frozen, f32)
    with compiled.numpy_only():
        assert not compiled.handles(f32, f32)


def test_without_numba_pool2d_takes_its_numpy_path_and_agrees_with_mxnet():
    code = '''
import numpy as np, mxnet as mx
from poolbook import compiled, pool2d
assert not compiled.enabled(), 'numba should be off'
X = np.random.default_rng(2).standard_normal((2, 3, 9, 9), dtype=np.float32)
for mode in ('max', 'avg'):
    want = mx.nd.Pooling(mx.nd.array(X), kernel=(3, 3), stride=(2, 2), pad=(1, 1),
                         pool_type=mode).asnumpy()
    assert np.allclose(pool2d(X, 3, mode, strides=2, padding=1), want, 1e-5, 1e-6)
print('ok')
'''
    env = dict(os.environ, POOLBOOK_COMPILED='0')
    done = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0 and done.stdout.strip() == 'ok', done.stderr


@needs_numba
def test_compiled_loop_equals_chapter_1s_loop():
    for dtype in (np.float32, np.float64):
        X = np.random.default_rng(3).standard_normal((9, 7)).astype(dtype)
        for mode in ('max', 'avg'):
            Y, want = compiled.pool2d_njit(X, (2, 3), mode), pool2d_numpy(X, (2, 3), mode)
            assert Y.dtype == want.dtype == dtype  # computed and returned in X's dtype
            assert np.allclose(Y, want)


def test_compiled_loop_checks_its_arguments_and_returns_the_input_kind():
    with pytest.raises(ValueError, match='pool_size'):
        compiled.pool2d_njit(np.zeros((3, 3)), (4, 4))
    X = mx.nd.array([[1, 2], [3, 4]])
    Y = compiled.pool2d_njit(X, (2, 2))
    assert isinstance(Y, mx.nd.NDArray) and Y.asnumpy().tolist() == [[4]]
