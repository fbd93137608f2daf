"""The compiled kernel behind pool2d (poolbook.kernels): against the plain computation of
tests/reference.py, its own window ranges against poolbook.geometry, the one decision
`handles`, and the switches that turn it off.

pool2d's own tests (tests/test_pooling.py) run it too, against MXNet and PyTorch: every
float32 and float64 case there goes through it unless a test asks for numpy's path.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolbook import kernels
from poolbook.geometry import axis_taps, output_size, window_offsets
from reference import mxnet_pool2d, plain_divisors, plain_pool2d
from strategies import geometries, values

needs_numba = pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')


def kernel(X, pool_size, mode, *, strides, padding, ceil_mode=False,
           count_include_pad=True):
    """kernels.pool_maps on the maps X (m, H, W), dividing by the plain divisors."""
    D = plain_divisors(X.shape[-2:], pool_size, strides=strides, padding=padding,
                       ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    D, Y = np.ascontiguousarray(D, X.dtype), np.empty(X.shape[:1] + D.shape, X.dtype)
    kernels.pool_maps(X, *pool_size, *strides, *padding, mode == 'max', D, Y)
    return Y


@needs_numba
@settings(max_examples=150)
@given(geometries(max_side=40), st.sampled_from([np.float32, np.float64]),
       st.sampled_from(['max', 'avg']), st.booleans(), st.booleans(), st.integers(1, 3),
       st.data())
def test_kernel_equals_the_plain_computation(geometry, dtype, mode, ceil_mode,
                                            count_include_pad, maps, data):
    # Sides up to 40 reach the kernel's blocks of 16 cells and its flat runs.
    hw, pool_size, strides, padding = geometry
    X = data.draw(values(dtype, (maps,) + hw))
    args = dict(strides=strides, padding=padding, ceil_mode=ceil_mode,
                count_include_pad=count_include_pad)
    got = kernel(X, pool_size, mode, **args)
    want = plain_pool2d(X, pool_size, mode, **args)
    if mode == 'max':
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0,
                                   atol=64 * np.finfo(dtype).eps * 100)  # |x| <= 100


@needs_numba
def test_kernel_propagates_nan_from_any_cell_of_a_window():
    X = np.arange(36, dtype=np.float32).reshape(1, 6, 6)
    args = dict(strides=(2, 2), padding=(1, 1))
    for r, c in np.ndindex(6, 6):
        Z = X.copy()
        Z[0, r, c] = np.nan
        for mode in ('max', 'avg'):
            want = plain_pool2d(Z, (3, 3), mode, **args)
            np.testing.assert_array_equal(np.isnan(kernel(Z, (3, 3), mode, **args)),
                                          np.isnan(want), err_msg=str((r, c, mode)))


@needs_numba
def test_kernel_averages_without_the_padding_when_asked():
    X = np.arange(1, 50, dtype=np.float64).reshape(1, 7, 7)
    args = dict(strides=(2, 2), padding=(1, 1), ceil_mode=True, count_include_pad=False)
    np.testing.assert_allclose(kernel(X, (3, 3), 'avg', **args),
                               plain_pool2d(X, (3, 3), 'avg', **args))


AXIS_GRID = [(n, k, s, p) for n in range(1, 13) for k in range(1, 5) for s in range(1, 4)
             for p in range(k) if k <= n + 2 * p]


@needs_numba
@pytest.mark.parametrize('ceil_mode', [False, True])
def test_the_kernels_window_ranges_are_geometrys(ceil_mode):
    # The kernel computes in compiled code which outputs an offset reaches (_span) and
    # which outputs every offset reaches (_reach); they must be poolbook.geometry's.
    for n, k, s, p in AXIS_GRID:
        out = output_size(n, k, s, p, ceil_mode)
        for a in window_offsets(n, k, s, p, out):
            blocks = [(i0, i1) for i0, i1, cells in axis_taps(n, k, s, p, out)
                      if range(n)[cells][0] == i0 * s - p + a]
            assert [kernels._span(n, s, a - p, out)] == blocks, (n, k, s, p, a)
        inside = [i for i in range(out) if i * s - p >= 0 and i * s - p + k <= n]
        lo, hi = kernels._reach(n, k, s, p, out)
        assert list(range(lo, hi)) == inside, (n, k, s, p)


def test_numpy_only_switches_the_kernel_off_and_back_on():
    before = kernels.enabled()
    with kernels.numpy_only():
        assert not kernels.enabled()
        with kernels.numpy_only():  # blocks nest
            assert not kernels.enabled()
        assert not kernels.enabled()
    assert kernels.enabled() == before


def test_handles_is_the_one_decision():
    # Plain writable C-contiguous float32 or float64 arrays of one dtype, compiling on,
    # and a window that fits in the maps; nothing else.
    f32 = np.zeros((2, 4, 4), np.float32)
    assert kernels.handles(f32, f32) == kernels.enabled()
    assert kernels.handles(f32, f32, (4, 4)) == kernels.enabled()
    assert not kernels.handles(f32, f32, (5, 4)) and not kernels.handles(f32, f32, (1, 5))
    assert not kernels.handles(f32.astype(np.int32), f32.astype(np.int32))
    assert not kernels.handles(f32.astype(np.float16), f32)
    assert not kernels.handles(f32, f32.astype(np.float64))
    assert not kernels.handles(f32[:, :, ::2], f32[:, :, ::2])
    assert not kernels.handles(f32.astype('>f4'), f32.astype('>f4'))
    matrix = np.zeros((4, 4), np.float32).view(np.matrix)
    assert not kernels.handles(matrix, matrix)
    frozen = f32.copy()
    frozen.flags.writeable = False
    assert not kernels.handles(frozen, f32)
    with kernels.numpy_only():
        assert not kernels.handles(f32, f32)


def test_without_numba_pool2d_takes_its_numpy_path_and_agrees_with_mxnet(tmp_path):
    code = f'''
import numpy as np
from poolbook import kernels, pool2d
assert not kernels.enabled(), 'numba should be off'
X = np.random.default_rng(2).standard_normal((2, 3, 9, 9), dtype=np.float32)
np.save({str(tmp_path / 'X.npy')!r}, X)
for mode in ('max', 'avg'):
    np.save({str(tmp_path)!r} + f'/{{mode}}.npy', pool2d(X, 3, mode, strides=2, padding=1))
'''
    done = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          env=dict(os.environ, POOLBOOK_COMPILED='0'))
    assert done.returncode == 0, done.stderr
    X = np.load(tmp_path / 'X.npy')
    for mode in ('max', 'avg'):
        np.testing.assert_allclose(np.load(tmp_path / f'{mode}.npy'),
                                   mxnet_pool2d(X, 3, mode, strides=2, padding=1),
                                   rtol=1e-5, atol=1e-6)


def test_warm_compiles_what_pool2d_runs_and_does_nothing_when_switched_off():
    # Warm (tests/conftest.py runs it before the workers start) must leave the kernel
    # answering as before; switched off it must not touch numba at all.
    kernels.warm()
    X = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    np.testing.assert_array_equal(kernel(X, (3, 3), 'max', strides=(1, 1), padding=(0, 0)),
                                  [[[10, 11], [14, 15]]])
    with kernels.numpy_only():
        signatures = {f: len(f.signatures) for f in (kernels.pool_maps,)}
        kernels.warm()
        assert {f: len(f.signatures) for f in signatures} == signatures
