"""global_pool2d and adaptive_pool2d (poolbook.adaptive).

Where the expected values come from: MXNet's operators (nd.Pooling with global_pool=True,
nd.contrib.AdaptiveAvgPooling2D), PyTorch's adaptive pooling, a plain loop over the bin
rule written out below with math.floor and math.ceil (MXNet has no adaptive max), pool2d
where adaptive pooling is ordinary pooling, the taught numpy steps for the compiled kernel,
and small cases worked out by hand; never the code's own output.
"""
import math
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import nd

import poolbook
from poolbook import kernels
from poolbook.adaptive import (adaptive_bins, adaptive_pool2d, global_pool2d,
                               ordinary_window)
from poolbook.pooling import output_size, pool2d
from strategies import values

TOL = dict(rtol=1e-5, atol=1e-6)


def numpy_of(Y):
    return Y.asnumpy() if isinstance(Y, nd.NDArray) else Y


def loop_adaptive(A, out_h, out_w, mode):
    """Adaptive pooling of the 4-D A one output cell at a time, bins by the rule."""
    n_h, n_w = A.shape[2:]
    Y = np.zeros(A.shape[:2] + (out_h, out_w))
    for i in range(out_h):
        r0, r1 = math.floor(i * n_h / out_h), math.ceil((i + 1) * n_h / out_h)
        for j in range(out_w):
            c0, c1 = math.floor(j * n_w / out_w), math.ceil((j + 1) * n_w / out_w)
            block = A[:, :, r0:r1, c0:c1]
            Y[:, :, i, j] = block.max(axis=(2, 3)) if mode == 'max' else \
                block.mean(axis=(2, 3))
    return Y


def test_the_package_exports_them():
    assert poolbook.global_pool2d is global_pool2d
    assert poolbook.adaptive_pool2d is adaptive_pool2d


@pytest.mark.parametrize('n, out, starts, ends', [
    (7, 3, [0, 2, 4], [3, 5, 7]),        # 7/3 = 2.33: [0, 3), [2, 5), [4, 7): overlapping
    (6, 3, [0, 2, 4], [2, 4, 6]),        # exact: window 2, stride 2
    (5, 4, [0, 1, 2, 3], [2, 3, 4, 5]),  # 5/4 = 1.25: all of length 2, stride 1
    (3, 5, [0, 0, 1, 1, 2], [1, 2, 2, 3, 3]),  # more bins than cells: 0.6 per bin
    (4, 1, [0], [4]),                    # one bin: the global pool
])
def test_bins_by_hand(n, out, starts, ends):
    s, e = adaptive_bins(n, out)
    assert s.tolist() == starts and e.tolist() == ends


def test_adaptive_by_hand():
    # 0..11 as 3 x 4, 2 x 2 bins: rows [0, 2), [1, 3); columns [0, 2), [2, 4).
    X = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(adaptive_pool2d(X, 2), [[5, 7], [9, 11]])
    # means: {0, 1, 4, 5} = 2.5, {2, 3, 6, 7} = 4.5, {4, 5, 8, 9} = 6.5, {6, 7, 10, 11} = 8.5
    np.testing.assert_array_equal(adaptive_pool2d(X, 2, 'avg'), [[2.5, 4.5], [6.5, 8.5]])


# ----------------------------------------------------------------------------------------
# Average: against nd.contrib.AdaptiveAvgPooling2D.

@pytest.mark.parametrize('axis', ['H', 'W'])
def test_avg_every_length_and_bin_count_of_one_axis_agrees_with_mxnet(axis):
    rng = np.random.default_rng(ord(axis))
    for n in range(1, 13):
        for out in range(1, 15):
            shape, size = ((2, 3, n, 4), (out, 3)) if axis == 'H' else ((2, 3, 4, n), (3, out))
            X = rng.standard_normal(shape).astype(np.float32)
            want = nd.contrib.AdaptiveAvgPooling2D(nd.array(X), output_size=size).asnumpy()
            np.testing.assert_allclose(adaptive_pool2d(X, size, 'avg'), want, **TOL,
                                       err_msg=f'n={n} out={out}')


def random_input(rng):
    """A random 2-D to 4-D input (numpy or NDArray) and output size."""
    hw = tuple(int(v) for v in rng.integers(1, 15, size=2))
    lead = [(), (int(rng.integers(1, 4)),), (int(rng.integers(1, 3)), 2)][rng.integers(3)]
    X = rng.standard_normal(lead + hw).astype(np.float32)
    if rng.random() < 0.3:
        X = rng.integers(-3, 4, size=lead + hw).astype(np.float32)  # ties
    size = tuple(int(v) for v in rng.integers(1, 16, size=2))
    return (nd.array(X) if rng.random() < 0.5 else X), size


def test_avg_random_cases_agree_with_mxnet():
    rng = np.random.default_rng(1)
    for _ in range(400):
        X, size = random_input(rng)
        A = numpy_of(X)
        Y = adaptive_pool2d(X, size, 'avg')
        assert type(Y) is type(X) and Y.shape == A.shape[:-2] + size
        want = nd.contrib.AdaptiveAvgPooling2D(nd.array(A.reshape((-1, 1) + A.shape[-2:])),
                                               output_size=size).asnumpy()
        np.testing.assert_allclose(numpy_of(Y), want.reshape(Y.shape), **TOL)


# ----------------------------------------------------------------------------------------
# Maximum: against the plain loop, and against pool2d when the bins are ordinary windows.

def test_max_and_avg_agree_with_the_loop_on_a_grid():
    rng = np.random.default_rng(2)
    for n_h in range(1, 10):
        for n_w in (1, 4, 7):
            X = rng.integers(-3, 4, size=(2, 2, n_h, n_w)).astype(np.float64)
            for out_h in range(1, 11):
                for out_w in (1, 3, 8):
                    for mode in ('max', 'avg'):
                        np.testing.assert_allclose(
                            adaptive_pool2d(X, (out_h, out_w), mode),
                            loop_adaptive(X, out_h, out_w, mode), rtol=1e-12,
                            err_msg=f'{n_h}x{n_w} -> {out_h}x{out_w} {mode}')


def test_max_random_cases_agree_with_the_loop():
    rng = np.random.default_rng(3)
    for _ in range(400):
        X, size = random_input(rng)
        A = numpy_of(X)
        Y = numpy_of(adaptive_pool2d(X, size))
        want = loop_adaptive(A.reshape((-1, 1) + A.shape[-2:]), *size, 'max')
        np.testing.assert_array_equal(Y, want.reshape(Y.shape))


@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_when_out_divides_n_it_is_pool2d_with_window_and_stride_n_over_out(mode):
    rng = np.random.default_rng(4)
    for n_h, out_h, n_w, out_w in [(12, 3, 12, 4), (6, 6, 8, 2), (9, 1, 10, 5), (7, 7, 7, 1)]:
        X = rng.standard_normal((2, 3, n_h, n_w)).astype(np.float32)
        k = (n_h // out_h, n_w // out_w)
        np.testing.assert_allclose(adaptive_pool2d(X, (out_h, out_w), mode),
                                   pool2d(X, k, mode, strides=k), **TOL)


# ----------------------------------------------------------------------------------------
# Global pooling: against nd.Pooling(global_pool=True).

@pytest.mark.parametrize('mode', ['max', 'avg'])
def test_global_agrees_with_mxnet(mode):
    rng = np.random.default_rng(5)
    for _ in range(100):
        X, _ = random_input(rng)
        A = numpy_of(X)
        Y = global_pool2d(X, mode)
        assert type(Y) is type(X) and Y.shape == A.shape[:-2] + (1, 1)
        want = nd.Pooling(nd.array(A.reshape((-1, 1) + A.shape[-2:])), kernel=(1, 1),
                          global_pool=True, pool_type=mode).asnumpy()
        np.testing.assert_allclose(numpy_of(Y), want.reshape(Y.shape), **TOL)
        np.testing.assert_allclose(numpy_of(adaptive_pool2d(X, 1, mode)), numpy_of(Y),
                                   **TOL)


# ----------------------------------------------------------------------------------------
# Dtypes, NaN, the input unchanged, bad arguments.

@pytest.mark.parametrize('function', [global_pool2d,
                                      lambda X, mode: adaptive_pool2d(X, (2, 1), mode)])
def test_integers_nan_and_input_unchanged(function):
    X = np.array([[1, 2], [3, 4]], np.int16)
    assert function(X, 'max').dtype == np.int16
    assert function(X, 'avg').dtype == np.float64
    # global: (1 + 2 + 3 + 4) / 4 = 2.5; adaptive (2, 1): rows {1, 2} = 1.5, {3, 4} = 3.5
    assert numpy_of(function(X, 'avg')).ravel().tolist() in ([2.5], [1.5, 3.5])
    F = np.array([[np.nan, 1.0], [2.0, 3.0]])
    F0 = F.copy()
    for mode in ('max', 'avg'):
        assert np.isnan(function(F, mode).ravel()[0])
    np.testing.assert_array_equal(F, F0)


@pytest.mark.parametrize('call, error, words', [
    (lambda: adaptive_pool2d(np.ones((3, 3)), 0), ValueError, ['output_size', '0']),
    (lambda: adaptive_pool2d(np.ones((3, 3)), (2, 2, 2)), ValueError, ['output_size']),
    (lambda: adaptive_pool2d(np.ones((3, 3)), 1.5), TypeError, ['output_size']),
    (lambda: adaptive_pool2d(np.ones((3, 3)), 2, 'sum'), ValueError, ['mode', "'sum'"]),
    (lambda: adaptive_pool2d(np.ones((3, 3)), 2**40), ValueError, ['output_size']),
    (lambda: adaptive_pool2d([[1.0]], 1), TypeError, ['X']),
    (lambda: adaptive_pool2d(np.ones(3), 1), ValueError, ['X']),
    (lambda: global_pool2d(np.ones((3, 3)), 'min'), ValueError, ['mode', "'min'"]),
    (lambda: global_pool2d(np.ones((1, 1, 1, 3, 3))), ValueError, ['X']),
    (lambda: global_pool2d(np.ones((0, 3))), ValueError, ['X']),
])
def test_bad_arguments_are_refused_with_a_clear_message(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)


@pytest.mark.parametrize('function', [global_pool2d, adaptive_pool2d])
def test_float16_average_adds_in_float32(function):
    # 4 x 60000 = 240000 overflows float16 (largest 65504); the mean, 60000, does not.
    X = np.full((2, 2), 60000, np.float16)
    Y = function(X, 'avg') if function is global_pool2d else function(X, 1, 'avg')
    assert Y.dtype == np.float16
    np.testing.assert_array_equal(Y, [[60000]])


@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('function', [global_pool2d,
                                      lambda X, mode: adaptive_pool2d(X, 1, mode)])
def test_byte_swapped_input_gives_native_float64(function, mode):
    # Big-endian float64 comes back in native float64, as pool2d gives it: (1+2+3+4) / 4
    # = 2.5 on average, 4 at most.
    X = np.array([[1.0, 2.0], [3.0, 4.0]]).astype('>f8')
    Y = function(X, mode)
    assert Y.dtype == np.float64 and Y.dtype.isnative
    assert Y.ravel().tolist() == [2.5 if mode == 'avg' else 4.0]


# ----------------------------------------------------------------------------------------
# ordinary_window: when the adaptive bins are the windows of ordinary pooling.

def windows_by_definition(n, k, s, p, out):
    """The `out` windows of ordinary pooling along n cells, [i s - p, i s - p + k) cut to
    the input, as (starts, ends): chapter 2's definition, written out here."""
    return ([max(0, i * s - p) for i in range(out)],
            [min(n, i * s - p + k) for i in range(out)])


def bins_by_definition(n, out):
    """The adaptive bins [floor(i n / out), ceil((i + 1) n / out)), with math's own."""
    return ([math.floor(i * n / out) for i in range(out)],
            [math.ceil((i + 1) * n / out) for i in range(out)])


@pytest.mark.parametrize('n, out, want', [
    (12, 4, (3, 3, 0)),   # 12 = 4 * 3: [0, 3), [3, 6), [6, 9), [9, 12)
    (13, 4, (4, 3, 0)),   # 13 / 4 = 3.25: [0, 4), [3, 7), [6, 10), [9, 13)
    (7, 3, (3, 2, 0)),    # 7 / 3 = 2.33: [0, 3), [2, 5), [4, 7)
    (5, 3, (3, 2, 1)),    # 5 / 3 = 1.67: [0, 2), [1, 4), [3, 5): [-1, 2) ... cut
    (11, 4, (4, 3, 1)),   # 11 / 4 = 2.75: [0, 3), [2, 6), [5, 9), [8, 11)
    (10, 4, None),        # 10 / 4 = 2.5: [0, 3), [2, 5), [5, 8), [7, 10): steps 2, 3, 2
    (9, 4, (3, 2, 0)),    # 9 / 4 = 2.25: [0, 3), [2, 5), [4, 7), [6, 9)
    (1, 1, (1, 1, 0)), (6, 6, (1, 1, 0)), (6, 1, (6, 6, 0)),
    (7, 2, (4, 3, 0)),    # two bins of an odd axis: [0, 4), [3, 7)
])
def test_ordinary_window_by_hand(n, out, want):
    assert ordinary_window(n, out) == want


def test_ordinary_window_is_right_about_every_small_axis():
    # An independent search: every window k, stride s and padding p < k (k <= n + 2p, as
    # pool2d demands; p up to n) whose windows are the bins, by the two definitions.
    for n in range(1, 15):
        for out in range(1, n + 1):
            found = {(k, s, p) for p in range(n + 1) for k in range(p + 1, n + 2 * p + 1)
                     for s in range(1, n + 2 * p - k + 2)
                     if output_size(n, k, s, p) == out
                     and windows_by_definition(n, k, s, p, out) == bins_by_definition(n, out)}
            got = ordinary_window(n, out)
            assert (got is not None) == bool(found), (n, out, got, found)
            if got is not None:  # its windows are the bins (its stride may be above
                k, s, p = got    # the search's last one when there is only one bin)
                assert output_size(n, k, s, p) == out, (n, out, got)
                assert windows_by_definition(n, k, s, p, out) == \
                    bins_by_definition(n, out), (n, out, got)


@pytest.mark.parametrize('n, out', [(5, 3), (11, 4), (13, 4), (12, 4), (2, 2)])
def test_ordinary_window_gives_pool2d_max_and_the_average_of_cells_only(n, out):
    rng = np.random.default_rng(n * 100 + out)
    X = rng.standard_normal((2, n, n + 1))
    k, s, p = ordinary_window(n, out)
    k_w, s_w, p_w = ordinary_window(n + 1, 2)
    for mode in ('max', 'avg'):
        want = pool2d(X, (k, k_w), mode, strides=(s, s_w), padding=(p, p_w),
                      count_include_pad=False)
        np.testing.assert_allclose(adaptive_pool2d(X, (out, 2), mode), want, **TOL)


def test_with_padding_the_average_counting_padding_differs():
    # 5 cells into 3 bins: the first bin [0, 2) averages 2 cells; pool2d's window [-1, 2)
    # counting padding divides by 3.
    X = np.arange(5.0).reshape(5, 1)
    assert adaptive_pool2d(X, (3, 1), 'avg')[0, 0] == 0.5
    assert pool2d(X, (3, 1), 'avg', strides=(2, 1), padding=(1, 0))[0, 0] == 1 / 3


@pytest.mark.parametrize('args, error, words', [
    ((0, 1), ValueError, ['n and out', 'at least 1']),
    ((3, 0), ValueError, ['n and out', 'at least 1']),
    ((3, 4), ValueError, ['out must be at most n = 3', 'got out = 4']),
    ((2.5, 1), TypeError, ['n and out']),
    ((True, 1), TypeError, ['n and out']),
])
def test_ordinary_window_refuses_what_has_no_answer(args, error, words):
    with pytest.raises(error) as info:
        ordinary_window(*args)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_a_zero_maximum_takes_the_sign_of_its_bins_first_zero():
    # PyTorch's adaptive and global maxima keep the first maximum in row-major order.
    import torch
    import torch.nn.functional as F
    rng = np.random.default_rng(11)
    for _ in range(30):
        hw = tuple(int(n) for n in rng.integers(1, 9, size=2))
        out = tuple(int(n) for n in rng.integers(1, 9, size=2))
        X = rng.choice(np.array([0.0, -0.0, -1.0], np.float32), size=(2, 3) + hw)
        for got, want in (
                (adaptive_pool2d(X, out), F.adaptive_max_pool2d(torch.from_numpy(X), out)),
                (global_pool2d(X), F.adaptive_max_pool2d(torch.from_numpy(X), 1))):
            want = want.numpy()
            np.testing.assert_array_equal(got, want)
            assert np.array_equal(np.signbit(got), np.signbit(want)), (X, out)


@pytest.mark.parametrize('function, mode', [(adaptive_pool2d, 'avg'),
                                            (adaptive_pool2d, 'max'),
                                            (global_pool2d, 'avg'), (global_pool2d, 'max')])
@pytest.mark.parametrize('kind', ['numpy', 'ndarray', 'byte-swapped'])
def test_memory_stays_within_a_few_chunks_whatever_the_input(function, mode, kind):
    # An 8 MiB uint8 batch, as images arrive: converted whole to float64 it would take
    # 64 MiB (the peak was 9 times the input). A few maps at a time, pool2d's
    # CHUNK_BYTES in float64, the peak is a few MiB beside the output.
    X = np.ones((8, 64, 128, 128), np.uint8)
    X = {'numpy': X, 'ndarray': nd.array(X, dtype='uint8'),  # big-endian int16, 8 MiB:
         'byte-swapped': np.ones((4, 64, 128, 128), '>i2')}[kind]
    args = (7, mode) if function is adaptive_pool2d else (mode,)
    tracemalloc.start()
    try:
        Y = function(X, *args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert numpy_of(Y).shape == X.shape[:2] + ((7, 7) if function is adaptive_pool2d
                                               else (1, 1))
    assert peak < 4 * poolbook.CHUNK_BYTES, f'{peak / 2**20:.1f} MiB'


# ----------------------------------------------------------------------------------------
# The compiled kernel (poolbook.kernels.adaptive_maps) adaptive_pool2d runs for float32
# and float64: the numpy steps' numbers to the bit (it adds the same cells in the same
# order), and PyTorch's on the benchmark's inputs.

@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@settings(max_examples=150)
@given(st.integers(1, 30), st.integers(1, 30), st.integers(1, 34), st.integers(1, 34),
       st.sampled_from([np.float32, np.float64]), st.sampled_from(['max', 'avg']),
       st.data())
def test_the_kernel_equals_the_numpy_steps_to_the_bit(n_h, n_w, out_h, out_w, dtype,
                                                     mode, data):
    X = data.draw(values(dtype, (2, n_h, n_w), nan=True))
    fast = adaptive_pool2d(X, (out_h, out_w), mode)
    with kernels.numpy_only():
        steps = adaptive_pool2d(X, (out_h, out_w), mode)
    np.testing.assert_array_equal(fast, steps)
    assert fast.dtype == steps.dtype == dtype


@pytest.mark.skipif(not kernels.enabled(), reason='numba is not available')
@pytest.mark.parametrize('mode', ['max', 'avg'])
@pytest.mark.parametrize('side, out', [(56, 7), (56, 5), (56, 1), (112, 7), (28, 5),
                                       (28, 3)])
def test_the_kernel_agrees_with_torch_on_the_benchmark_inputs(side, out, mode):
    X = np.random.default_rng(side + out).standard_normal((2, 3, side, side))
    X = X.astype(np.float32)
    pooling = torch.nn.functional.adaptive_max_pool2d if mode == 'max' else \
        torch.nn.functional.adaptive_avg_pool2d
    np.testing.assert_allclose(adaptive_pool2d(X, out, mode),
                               pooling(torch.from_numpy(X), out).numpy(), **TOL)
